"""Short signed links to one appointment (``/a/<token>``), for the person to confirm it or ask
to change it without signing in.

The token is the appointment id and a truncated HMAC over the id and the appointment's time,
keyed by the project's secret: it cannot be forged or turned into another person's, and moving
the appointment makes old links stop working. 12 base64 characters of HMAC are 72 bits, far
beyond guessing through a rate-limited page. Expiry: the page refuses once the appointment
has started (checked in the view, from the appointment itself).
"""

from __future__ import annotations

import base64
import hmac

from django.conf import settings
from django.urls import reverse
from django.utils.crypto import salted_hmac

SALT = "notifications.appointment-link"
DIGITS = "0123456789abcdefghijklmnopqrstuvwxyz"


def _b36(number: int) -> str:
    out = ""
    while True:
        number, rest = divmod(number, 36)
        out = DIGITS[rest] + out
        if not number:
            return out


def _signature(appointment_id: int, starts_at) -> str:
    digest = salted_hmac(
        SALT, f"{appointment_id}:{int(starts_at.timestamp())}", algorithm="sha256"
    ).digest()
    return base64.urlsafe_b64encode(digest)[:12].decode()


def appointment_token(appointment) -> str:
    return f"{_b36(appointment.pk)}-{_signature(appointment.pk, appointment.starts_at)}"


def appointment_id_from_token(token: str) -> int | None:
    """The appointment id a well-formed token claims (not yet checked against its time)."""
    head, _, signature = token.partition("-")
    if not head or len(signature) != 12 or len(head) > 12:
        return None
    try:
        return int(head, 36)
    except ValueError:
        return None


def token_matches(token: str, appointment) -> bool:
    return hmac.compare_digest(token.encode(), appointment_token(appointment).encode())


def appointment_link(appointment) -> str:
    path = reverse("appointment_link", args=[appointment_token(appointment)])
    return f"{settings.PUBLIC_BASE_URL}{path}"
