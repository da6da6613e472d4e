"""What notifications does when peer_support tells it about a change (its documented signal)."""

from __future__ import annotations

from django.dispatch import receiver

from peer_support.models import Appointment
from peer_support.signals import appointment_changed

from . import services


@receiver(appointment_changed, sender=Appointment, dispatch_uid="notifications.reminders_sync")
def appointment_changed_reminders(sender, *, appointment_id: int, change: str, **kwargs) -> None:
    """Created or moved: plan its reminders. Cancelled or done: withdraw the pending ones.
    Runs after the change committed; ``reminders_sync`` reads the appointment as it is now,
    so the kind of change needs no branching here."""
    services.reminders_sync(appointment_id=appointment_id)
