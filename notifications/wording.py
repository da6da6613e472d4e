"""The default wording of every text we send, and how an appointment is put into a text.

Staff can replace any of these (``MessageTemplate``); the linter in ``templating.py`` checks
their versions the same way these are checked in the tests. Reminders never say what the
appointment is for, only the day, time and a neutral place label.
"""

from __future__ import annotations

from datetime import datetime

from django.utils import dateformat
from phonenumber_field.phonenumber import PhoneNumber

from peer_support.wording import LONDON, clock_text

REMINDER = "reminder"
CONFIRMED = "confirmed"
CHANGE = "change"
HELP = "help"
NOTHING_TO_CONFIRM = "nothing_to_confirm"

# (purpose, easy_read) -> wording. Easy read: short sentences, one idea each.
DEFAULTS: dict[tuple[str, bool], str] = {
    (
        REMINDER,
        False,
    ): "{day} {time} at {place}. Reply YES to confirm, CHANGE to rearrange. {link}",
    (REMINDER, True): "Your appointment: {day} at {time}. Place: {place}. Going? Text YES. {link}",
    (CONFIRMED, False): "Thank you. See you on {day} at {time}. Questions? Call {service_phone}.",
    (CONFIRMED, True): "Thank you. See you on {day} at {time}.",
    (CHANGE, False): (
        "Thank you. Someone will contact you to find a new time. Or call {service_phone}."
    ),
    (CHANGE, True): "Thank you. We will call you to find a new time.",
    (HELP, False): (
        "Appointment reminders. Reply YES to confirm, CHANGE to rearrange, STOP to end texts. "
        "Help: {service_phone}"
    ),
    (HELP, True): "Text YES to say you will go. Text STOP to stop texts. Call {service_phone}.",
    (NOTHING_TO_CONFIRM, False): (
        "Thank you. We could not find an appointment to confirm. Please call {service_phone}."
    ),
    (
        NOTHING_TO_CONFIRM,
        True,
    ): "Thank you. We could not find your appointment. Call {service_phone}.",
}

# Placeholders each purpose may use: replies that are not about one appointment have no day,
# time, place or link to fill in.
ALLOWED: dict[str, tuple[str, ...]] = {
    REMINDER: ("first_name", "day", "time", "place", "service_phone", "link"),
    CONFIRMED: ("first_name", "day", "time", "place", "service_phone"),
    CHANGE: ("first_name", "day", "time", "place", "service_phone"),
    HELP: ("service_phone",),
    NOTHING_TO_CONFIRM: ("service_phone",),
}

# Placeholders each purpose must keep, so a staff edit cannot drop what the text is for.
REQUIRED: dict[str, tuple[str, ...]] = {
    REMINDER: ("day", "time", "link"),
    CONFIRMED: (),
    CHANGE: (),
    HELP: ("service_phone",),
    NOTHING_TO_CONFIRM: (),
}


def day_text(moment: datetime) -> str:
    """ "Wed 30 Sep" in UK time: short, so a reminder fits in one text."""
    return dateformat.format(moment.astimezone(LONDON), "D j M")


def phone_text(number: PhoneNumber | str) -> str:
    if isinstance(number, PhoneNumber) and number.is_valid():
        return number.as_national
    return str(number)


def appointment_values(appointment, *, link: str = "") -> dict[str, str]:
    record = appointment.service_user
    return {
        "first_name": (record.preferred_name.split() or [""])[0],
        "day": day_text(appointment.starts_at),
        "time": clock_text(appointment.starts_at),
        "place": appointment.place_label,
        "service_phone": phone_text(record.service.phone),
        "link": link,
    }
