"""Signals peer_support sends so that higher apps can follow without being imported here.

``appointment_changed``
    Sent once per change to an appointment, only after the transaction that made the change
    has committed (``transaction.on_commit``), so a receiver never sees a change that was
    rolled back. Arguments: ``sender=Appointment``, ``appointment_id`` (int) and ``change``,
    one of ``"created"``, ``"rescheduled"``, ``"cancelled"``, ``"outcome"``. Ids only: a
    receiver loads what it needs through its own selectors. The notifications app connects to
    it to schedule, move or drop text message reminders. Sent with ``send_robust``: the change
    is already saved, so a failing receiver is logged (ids only) rather than failing the
    request.
"""

from __future__ import annotations

import logging

from django.db import transaction
from django.dispatch import Signal

logger = logging.getLogger(__name__)

APPOINTMENT_CHANGES = ("created", "rescheduled", "cancelled", "outcome")

appointment_changed = Signal()


def appointment_changed_on_commit(*, appointment_id: int, change: str) -> None:
    """Queue the signal for after the current transaction commits."""
    if change not in APPOINTMENT_CHANGES:
        raise ValueError(f"Unknown appointment change {change!r}")

    def send() -> None:
        from .models import Appointment

        for receiver, result in appointment_changed.send_robust(
            sender=Appointment, appointment_id=appointment_id, change=change
        ):
            if isinstance(result, Exception):
                logger.error(
                    "appointment_changed receiver %s failed for appointment %s (%s)",
                    getattr(receiver, "__qualname__", receiver),
                    appointment_id,
                    change,
                    exc_info=result,
                )

    transaction.on_commit(send)
