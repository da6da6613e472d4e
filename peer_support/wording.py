"""How peer support data is put into words for people: one place, so every page (and the text
messages) say a time, a need or a weekly slot the same way."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from zoneinfo import ZoneInfo

from django.conf.locale import LANG_INFO
from django.utils import dateformat

from .matching import NEED_LABELS

LONDON = ZoneInfo("Europe/London")
DAY_LABELS = {
    "mon": "Monday",
    "tue": "Tuesday",
    "wed": "Wednesday",
    "thu": "Thursday",
    "fri": "Friday",
    "sat": "Saturday",
    "sun": "Sunday",
}


def clock_text(moment: datetime) -> str:
    """ "2:30pm", "10am", "midday" in UK time, as the NHS writes times."""
    local = moment.astimezone(LONDON)
    if (local.hour, local.minute) == (12, 0):
        return "midday"
    if (local.hour, local.minute) == (0, 0):
        return "midnight"
    hour = local.hour % 12 or 12
    suffix = "am" if local.hour < 12 else "pm"
    return f"{hour}:{local.minute:02d}{suffix}" if local.minute else f"{hour}{suffix}"


def when_text(moment: datetime) -> str:
    """ "Tuesday 1 December 2026, 2:30pm" in UK time."""
    return f"{dateformat.format(moment.astimezone(LONDON), 'l j F Y')}, {clock_text(moment)}"


def slot_labels(slots: Iterable) -> list[str]:
    """Weekly availability as words: [["mon", "morning"]] -> ["Monday morning"]."""
    return [
        f"{DAY_LABELS.get(day, day)} {part}"
        for day, part in (slot for slot in slots or [] if len(slot) == 2)
    ]


def need_labels(codes: Iterable[str]) -> list[str]:
    """Need codes as words people read: ["drug_use"] -> ["Drug use"]."""
    return [NEED_LABELS.get(code, code).capitalize() for code in codes or []]


def language_names(codes: Iterable[str]) -> list[str]:
    """Languages are stored as short codes ("pl") or words ("Polish"): show names."""
    return [LANG_INFO.get(str(code).lower(), {}).get("name", code) for code in codes or []]
