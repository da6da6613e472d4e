"""Short signed links to one appointment (``/a/<token>``), for the person to confirm it or ask
to change it without signing in.

The token is the appointment id and a truncated HMAC over the id and the appointment's time,
keyed by the project's secret: it cannot be forged or turned into another person's, and moving
the appointment makes old links stop working. Expiry: the page refuses once the appointment
has started (checked in the view, from the appointment itself).

Both parts are written in :data:`ALPHABET`, digits and consonants only: no vowel (nor y), so no
token can spell a word, and in particular none of ``settings.SMS_SENSITIVE_WORDS`` (every one of
them has a vowel). Tokens used to be base36 and base64 and spelt words by chance: appointment
526845 was ``bail-…`` and 642616 ``drug-…``, which is bad on a shared phone and made the send-time
check refuse every reminder of those appointments. 0, 1, l and the vowels O and I are left out
too, so what is left is hard to misread. The token is the id (as few characters as it needs)
followed by exactly 12 characters of signature, with no separator: 47**12 is about 2**66, far
beyond guessing through a rate-limited page. For the same id a token is never longer than an
old one, and up to id 47**7 (about 500 billion) it fits the linter's
``templating.WORST_CASE_LINK_KEY``.

Old tokens (``<base36 id>-<12 base64 characters>``, 72 bits) are still accepted, so texts sent
before the change keep working until their appointment starts. They always contain a "-", which
the new alphabet does not, so the two formats cannot be confused. Once every appointment
reminded of before the change has started, :func:`_old_token` and its branches can go.
"""

from __future__ import annotations

import base64
import hmac

from django.conf import settings
from django.urls import reverse
from django.utils.crypto import salted_hmac

SALT = "notifications.appointment-link"
# Digits and consonants: no a e i o u y in either case, and no 0, 1 or l (O and I are vowels).
ALPHABET = "23456789BCDFGHJKLMNPQRSTVWXZbcdfghjkmnpqrstvwxz"
BASE = len(ALPHABET)  # 47
SIGNATURE_LENGTH = 12  # 47**12 > 2**66
# An id needs at most this many characters up to 2**63 - 1 (the largest the view looks up).
MAX_ID_LENGTH = 12
_VALUES = {char: value for value, char in enumerate(ALPHABET)}

# The old format, still accepted: base36 id, "-", the first 12 characters of the base64 HMAC.
OLD_SEPARATOR = "-"
OLD_DIGITS = "0123456789abcdefghijklmnopqrstuvwxyz"


def _encode(number: int, digits: str, width: int = 1) -> str:
    base = len(digits)
    out = ""
    while number or len(out) < width:
        number, rest = divmod(number, base)
        out = digits[rest] + out
    return out


def _decode(text: str) -> int | None:
    number = 0
    for char in text:
        value = _VALUES.get(char)
        if value is None:
            return None
        number = number * BASE + value
    return number


def _digest(appointment_id: int, starts_at) -> bytes:
    return salted_hmac(
        SALT, f"{appointment_id}:{int(starts_at.timestamp())}", algorithm="sha256"
    ).digest()


def _signature(appointment_id: int, starts_at) -> str:
    # 128 bits reduced modulo 47**12 (about 2**66.7): the bias is below 2**-61.
    number = int.from_bytes(_digest(appointment_id, starts_at)[:16], "big")
    return _encode(number % BASE**SIGNATURE_LENGTH, ALPHABET, SIGNATURE_LENGTH)


def appointment_token(appointment) -> str:
    return _encode(appointment.pk, ALPHABET) + _signature(appointment.pk, appointment.starts_at)


def _old_token(appointment) -> str:
    signature = base64.urlsafe_b64encode(_digest(appointment.pk, appointment.starts_at))[:12]
    return f"{_encode(appointment.pk, OLD_DIGITS)}{OLD_SEPARATOR}{signature.decode()}"


def _old_appointment_id(token: str) -> int | None:
    head, _, signature = token.partition(OLD_SEPARATOR)
    if not head or len(signature) != 12 or len(head) > 12:
        return None
    try:
        return int(head, 36)
    except ValueError:
        return None


def appointment_id_from_token(token: str) -> int | None:
    """The appointment id a well-formed token (new or old format) claims, not yet checked
    against its signature and time."""
    if OLD_SEPARATOR in token:
        return _old_appointment_id(token)
    head = token[:-SIGNATURE_LENGTH]
    if not head or len(head) > MAX_ID_LENGTH or _decode(token[-SIGNATURE_LENGTH:]) is None:
        return None
    return _decode(head)


def token_matches(token: str, appointment) -> bool:
    expected = (
        _old_token(appointment) if OLD_SEPARATOR in token else appointment_token(appointment)
    )
    return hmac.compare_digest(token.encode(), expected.encode())


def appointment_link(appointment) -> str:
    path = reverse("appointment_link", args=[appointment_token(appointment)])
    return f"{settings.PUBLIC_BASE_URL}{path}"
