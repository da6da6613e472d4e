"""Reminder send times: clock changes, quiet hours, late booking, clashes, and properties.

Expected times are written as London clock times (``L``) where that is how a person would say
them, and in UTC (``U``) where the clock time alone would be ambiguous. The clocks change at
01:00 UTC on Sunday 29 March and 25 October 2026, and 28 March and 31 October 2027.
"""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ImproperlyConfigured
from hypothesis import given, settings
from hypothesis import strategies as st

from notifications.schedule import (
    SKIP_COVERED,
    SKIP_PASSED,
    SKIP_TOO_CLOSE,
    Planned,
    Slot,
    plan,
    slot_target,
    slots_for_kind,
)

LONDON = ZoneInfo("Europe/London")


def L(*args: int, fold: int = 0) -> datetime:  # noqa: N802 - reads like a time literal
    """A London clock time (must exist; fold=1 picks the second of a repeated one)."""
    return datetime(*args, tzinfo=LONDON, fold=fold)


def U(*args: int) -> datetime:  # noqa: N802
    return datetime(*args, tzinfo=UTC)


THREE_DAYS = Slot("3d", days=3, cutoff=timedelta(hours=36))
ONE_DAY = Slot("1d", days=1, cutoff=timedelta(hours=4))
TWO_HOURS = Slot("2h", hours=2, cutoff=timedelta(minutes=30))
DEFAULT_SLOTS = [THREE_DAYS, ONE_DAY, TWO_HOURS]
SLOTS_BY_NAME = {slot.name: slot for slot in DEFAULT_SLOTS}

# A week before anything in the tables: nothing is late.
LONG_AGO = U(2025, 12, 1, 12)


def is_quiet_in_london(instant: datetime) -> bool:
    clock = instant.astimezone(LONDON).time()
    return clock > time(21, 0) or clock < time(8, 0)


def sends(planned: list[Planned]) -> list[tuple[str, datetime | None, str]]:
    return [(p.slot, p.send_at, p.skip_reason) for p in planned]


# --- Rule 1: the target, straight from slot_target ---------------------------------------

TARGET_CASES = [
    # (id, slot, appointment, expected target, real hours before)
    ("brief: Mon after spring change", "1d", L(2026, 3, 30, 10), U(2026, 3, 29, 9), 24),
    ("brief: Mon after autumn change", "1d", L(2026, 10, 26, 10), U(2026, 10, 25, 10), 24),
    ("change in between, spring 2026", "1d", L(2026, 3, 29, 10), L(2026, 3, 28, 10), 23),
    ("change in between, autumn 2026", "1d", L(2026, 10, 25, 10), L(2026, 10, 24, 10), 25),
    ("Mon after spring change 2027", "1d", L(2027, 3, 29, 10), U(2027, 3, 28, 9), 24),
    ("Mon after autumn change 2027", "1d", L(2027, 11, 1, 10), U(2027, 10, 31, 10), 24),
    ("change in between, spring 2027", "1d", L(2027, 3, 28, 10), L(2027, 3, 27, 10), 23),
    ("change in between, autumn 2027", "1d", L(2027, 10, 31, 10), L(2027, 10, 30, 10), 25),
    ("3d across spring 2026", "3d", L(2026, 3, 31, 10), L(2026, 3, 28, 10), 71),
    ("3d across autumn 2026", "3d", L(2026, 10, 27, 10), L(2026, 10, 24, 10), 73),
    ("3d lands after spring 2027 change", "3d", L(2027, 3, 31, 10), L(2027, 3, 28, 10), 72),
    ("3d across spring 2027", "3d", L(2027, 3, 30, 10), L(2027, 3, 27, 10), 71),
    ("3d across autumn 2027", "3d", L(2027, 11, 2, 10), L(2027, 10, 30, 10), 73),
    # 01:30 on 29 March 2026 never happens: moved forward by the gap to 02:30 BST.
    ("1d into the spring gap", "1d", L(2026, 3, 30, 1, 30), U(2026, 3, 29, 1, 30), 23),
    ("1d onto the spring gap's end", "1d", L(2026, 3, 30, 2), U(2026, 3, 29, 1), 24),
    # 01:30 on 25 October 2026 happens twice: the first, 01:30 BST.
    ("1d into the autumn repeat", "1d", L(2026, 10, 26, 1, 30), U(2026, 10, 25, 0, 30), 25),
    ("1d into the spring 2027 gap", "1d", L(2027, 3, 29, 1, 15), U(2027, 3, 28, 1, 15), 23),
    ("1d into the autumn 2027 repeat", "1d", L(2027, 11, 1, 1, 15), U(2027, 10, 31, 0, 15), 25),
    # Hours are real time, whatever the clocks say.
    ("2h across the spring gap", "2h", L(2026, 3, 29, 3, 30), L(2026, 3, 29, 0, 30), 2),
    ("2h from just after the gap", "2h", L(2026, 3, 29, 2, 30), L(2026, 3, 28, 23, 30), 2),
    ("2h onto the first 01:30", "2h", L(2026, 10, 25, 2, 30), U(2026, 10, 25, 0, 30), 2),
    ("2h onto the second 01:30", "2h", L(2026, 10, 25, 3, 30), U(2026, 10, 25, 1, 30), 2),
    ("2h from the second 01:45", "2h", L(2026, 10, 25, 1, 45, fold=1), U(2026, 10, 24, 23, 45), 2),
    ("2h from the first 01:45", "2h", L(2026, 10, 25, 1, 45), U(2026, 10, 24, 22, 45), 2),
    ("2h across the spring 2027 gap", "2h", L(2027, 3, 28, 3, 30), U(2027, 3, 28, 0, 30), 2),
    ("2h onto the second 01:30 2027", "2h", L(2027, 10, 31, 3, 30), U(2027, 10, 31, 1, 30), 2),
]


@pytest.mark.parametrize(
    ("slot_name", "starts_at", "expected", "hours_before"),
    [pytest.param(s, a, e, h, id=i) for i, s, a, e, h in TARGET_CASES],
)
def test_target_keeps_the_clock_time_for_days_and_counts_real_time_for_hours(
    slot_name, starts_at, expected, hours_before
):
    target = slot_target(starts_at=starts_at, slot=SLOTS_BY_NAME[slot_name])
    assert target == expected
    assert target.tzinfo is UTC
    assert starts_at - target == timedelta(hours=hours_before)


@pytest.mark.parametrize(
    ("starts_at", "expected_clock"),
    [
        pytest.param(L(2026, 3, 30, 10), "2026-03-29 10:00 BST", id="spring 2026"),
        pytest.param(L(2026, 10, 26, 10), "2026-10-25 10:00 GMT", id="autumn 2026"),
        pytest.param(L(2027, 3, 29, 10), "2027-03-28 10:00 BST", id="spring 2027"),
        pytest.param(L(2027, 11, 1, 10), "2027-10-31 10:00 GMT", id="autumn 2027"),
        pytest.param(L(2026, 3, 29, 10), "2026-03-28 10:00 GMT", id="Sunday of spring change"),
        pytest.param(L(2026, 10, 25, 10), "2026-10-24 10:00 BST", id="Sunday of autumn change"),
    ],
)
def test_one_day_before_reads_the_same_on_the_local_clock(starts_at, expected_clock):
    target = slot_target(starts_at=starts_at, slot=ONE_DAY)
    assert target.astimezone(LONDON).strftime("%Y-%m-%d %H:%M %Z") == expected_clock


# --- plan(): whole schedules ----------------------------------------------------------------

PLAN_CASES = [
    # (id, appointment, now, expected [(slot, send_at, reason)] in slot order)
    (
        "ordinary week",
        L(2026, 6, 10, 14),
        LONG_AGO,
        [
            ("3d", L(2026, 6, 7, 14), ""),
            ("1d", L(2026, 6, 9, 14), ""),
            ("2h", L(2026, 6, 10, 12), ""),
        ],
    ),
    (
        "Sunday of the spring change: 2h lands on 08:00 exactly",
        L(2026, 3, 29, 10),
        LONG_AGO,
        [
            ("3d", L(2026, 3, 26, 10), ""),
            ("1d", U(2026, 3, 28, 10), ""),
            ("2h", U(2026, 3, 29, 7), ""),
        ],
    ),
    (
        "Sunday of the autumn change",
        L(2026, 10, 25, 10),
        LONG_AGO,
        [
            ("3d", U(2026, 10, 22, 9), ""),
            ("1d", U(2026, 10, 24, 9), ""),
            ("2h", U(2026, 10, 25, 8), ""),
        ],
    ),
    (
        "spring change night: 2h at 07:30 BST moves to 21:00 GMT Saturday",
        L(2026, 3, 29, 9, 30),
        LONG_AGO,
        [
            ("3d", L(2026, 3, 26, 9, 30), ""),
            ("1d", L(2026, 3, 28, 9, 30), ""),
            ("2h", U(2026, 3, 28, 21), ""),
        ],
    ),
    (
        "autumn change night: 2h at 07:30 GMT moves to 21:00 BST Saturday",
        L(2026, 10, 25, 9, 30),
        LONG_AGO,
        [
            ("3d", L(2026, 10, 22, 9, 30), ""),
            ("1d", L(2026, 10, 24, 9, 30), ""),
            ("2h", U(2026, 10, 24, 20), ""),
        ],
    ),
    (
        "spring 2027, 1d at 10:00 BST on the change day",
        L(2027, 3, 29, 10),
        LONG_AGO,
        [
            ("3d", L(2027, 3, 26, 10), ""),
            ("1d", U(2027, 3, 28, 9), ""),
            ("2h", U(2027, 3, 29, 7), ""),
        ],
    ),
    (
        "autumn 2027, 1d at 10:00 GMT on the change day",
        L(2027, 11, 1, 10),
        LONG_AGO,
        [
            ("3d", L(2027, 10, 29, 10), ""),
            ("1d", U(2027, 10, 31, 10), ""),
            ("2h", U(2027, 11, 1, 8), ""),
        ],
    ),
    (
        "appointment in 3 hours: only the 2h reminder",
        L(2026, 6, 10, 14),
        L(2026, 6, 10, 11),
        [
            ("3d", None, SKIP_TOO_CLOSE),
            ("1d", None, SKIP_TOO_CLOSE),
            ("2h", L(2026, 6, 10, 12), ""),
        ],
    ),
    (
        "appointment in 5 hours: 1d goes now",
        L(2026, 6, 10, 14),
        L(2026, 6, 10, 9),
        [
            ("3d", None, SKIP_TOO_CLOSE),
            ("1d", L(2026, 6, 10, 9), ""),
            ("2h", L(2026, 6, 10, 12), ""),
        ],
    ),
    (
        "appointment in exactly 4 hours: just in time for 1d",
        L(2026, 6, 10, 14),
        L(2026, 6, 10, 10),
        [
            ("3d", None, SKIP_TOO_CLOSE),
            ("1d", L(2026, 6, 10, 10), ""),
            ("2h", L(2026, 6, 10, 12), ""),
        ],
    ),
    (
        "appointment in 90 minutes: 2h goes now",
        L(2026, 6, 10, 14),
        L(2026, 6, 10, 12, 30),
        [
            ("3d", None, SKIP_TOO_CLOSE),
            ("1d", None, SKIP_TOO_CLOSE),
            ("2h", L(2026, 6, 10, 12, 30), ""),
        ],
    ),
    (
        "appointment in 20 minutes: nothing",
        L(2026, 6, 10, 14),
        L(2026, 6, 10, 13, 40),
        [("3d", None, SKIP_TOO_CLOSE), ("1d", None, SKIP_TOO_CLOSE), ("2h", None, SKIP_TOO_CLOSE)],
    ),
    (
        "booked 2 days ahead: 3d goes now",
        L(2026, 6, 10, 10),
        L(2026, 6, 8, 9),
        [
            ("3d", L(2026, 6, 8, 9), ""),
            ("1d", L(2026, 6, 9, 10), ""),
            ("2h", L(2026, 6, 10, 8), ""),
        ],
    ),
    (
        "booked 30 hours ahead: 3d too close",
        L(2026, 6, 10, 15),
        L(2026, 6, 9, 9),
        [
            ("3d", None, SKIP_TOO_CLOSE),
            ("1d", L(2026, 6, 9, 15), ""),
            ("2h", L(2026, 6, 10, 13), ""),
        ],
    ),
    (
        "booked at 23:00 for 13:00: 1d at 08:00",
        L(2026, 6, 10, 13),
        L(2026, 6, 9, 23),
        [
            ("3d", None, SKIP_TOO_CLOSE),
            ("1d", L(2026, 6, 10, 8), ""),
            ("2h", L(2026, 6, 10, 11), ""),
        ],
    ),
    (
        "booked at 23:00 for 11:00: 08:00 is too close for 1d",
        L(2026, 6, 10, 11),
        L(2026, 6, 9, 23),
        [
            ("3d", None, SKIP_TOO_CLOSE),
            ("1d", None, SKIP_TOO_CLOSE),
            ("2h", L(2026, 6, 10, 9), ""),
        ],
    ),
    (
        "booked at 23:00 for 09:00: 2h at 08:00",
        L(2026, 6, 10, 9),
        L(2026, 6, 9, 23),
        [
            ("3d", None, SKIP_TOO_CLOSE),
            ("1d", None, SKIP_TOO_CLOSE),
            ("2h", L(2026, 6, 10, 8), ""),
        ],
    ),
    (
        "booked at 23:00 for 08:30: 08:00 is just far enough for 2h",
        L(2026, 6, 10, 8, 30),
        L(2026, 6, 9, 23),
        [
            ("3d", None, SKIP_TOO_CLOSE),
            ("1d", None, SKIP_TOO_CLOSE),
            ("2h", L(2026, 6, 10, 8), ""),
        ],
    ),
    (
        "booked at 23:00 for 08:20: 08:00 is too close for 2h",
        L(2026, 6, 10, 8, 20),
        L(2026, 6, 9, 23),
        [("3d", None, SKIP_TOO_CLOSE), ("1d", None, SKIP_TOO_CLOSE), ("2h", None, SKIP_TOO_CLOSE)],
    ),
    (
        "booked at 05:00 for 09:00: 2h at 08:00",
        L(2026, 6, 10, 9),
        L(2026, 6, 10, 5),
        [
            ("3d", None, SKIP_TOO_CLOSE),
            ("1d", None, SKIP_TOO_CLOSE),
            ("2h", L(2026, 6, 10, 8), ""),
        ],
    ),
    (
        "booked during the repeated hour for 08:45 GMT",
        L(2026, 10, 25, 8, 45),
        L(2026, 10, 25, 1, 30, fold=1),
        [
            ("3d", None, SKIP_TOO_CLOSE),
            ("1d", None, SKIP_TOO_CLOSE),
            ("2h", U(2026, 10, 25, 8), ""),
        ],
    ),
    (
        "booked at 20:00 for 07:00: 1d now, 2h at 21:00",
        L(2026, 6, 10, 7),
        L(2026, 6, 9, 20),
        [
            ("3d", None, SKIP_TOO_CLOSE),
            ("1d", L(2026, 6, 9, 20), ""),
            ("2h", L(2026, 6, 9, 21), ""),
        ],
    ),
    (
        "booked at 21:00 for 07:00: both due at 21:00, 2h covers 1d",
        L(2026, 6, 10, 7),
        L(2026, 6, 9, 21),
        [("3d", None, SKIP_TOO_CLOSE), ("1d", None, SKIP_COVERED), ("2h", L(2026, 6, 9, 21), "")],
    ),
    (
        "appointment starting now",
        L(2026, 6, 10, 14),
        L(2026, 6, 10, 14),
        [("3d", None, SKIP_PASSED), ("1d", None, SKIP_PASSED), ("2h", None, SKIP_PASSED)],
    ),
    (
        "appointment yesterday",
        L(2026, 6, 9, 14),
        L(2026, 6, 10, 14),
        [("3d", None, SKIP_PASSED), ("1d", None, SKIP_PASSED), ("2h", None, SKIP_PASSED)],
    ),
]


@pytest.mark.parametrize(
    ("starts_at", "now", "expected"), [pytest.param(a, n, e, id=i) for i, a, n, e in PLAN_CASES]
)
def test_plan_with_the_default_slots(starts_at, now, expected):
    planned = plan(starts_at=starts_at, now=now, slots=DEFAULT_SLOTS)
    assert sends(planned) == expected
    for p in planned:
        assert p.send_at is None or p.send_at.tzinfo is UTC


# --- Rule 2: quiet hours, one slot at a time --------------------------------------------------

QUIET_CASES = [
    # (id, slot, appointment, expected send time)
    ("05:30 moves to 21:00 the evening before", "2h", L(2026, 6, 10, 7, 30), L(2026, 6, 9, 21)),
    ("22:15 moves to 21:00 the same evening", "2h", L(2026, 6, 11, 0, 15), L(2026, 6, 10, 21)),
    ("00:30 moves to 21:00 the evening before", "2h", L(2026, 6, 11, 2, 30), L(2026, 6, 10, 21)),
    ("08:00 exactly is allowed", "2h", L(2026, 6, 10, 10), L(2026, 6, 10, 8)),
    ("07:59 is not", "2h", L(2026, 6, 10, 9, 59), L(2026, 6, 9, 21)),
    ("21:00 exactly is allowed", "2h", L(2026, 6, 10, 23), L(2026, 6, 10, 21)),
    ("a second after 21:00 is not", "2h", L(2026, 6, 10, 23, 0, 1), L(2026, 6, 10, 21)),
    ("1d at 07:00 moves two evenings back", "1d", L(2026, 6, 10, 7), L(2026, 6, 8, 21)),
    ("1d at 23:30 moves to 21:00 that day", "1d", L(2026, 6, 10, 23, 30), L(2026, 6, 9, 21)),
    ("winter 05:30 moves to 21:00 GMT", "2h", L(2027, 1, 13, 7, 30), U(2027, 1, 12, 21)),
    ("1d in the spring gap moves back", "1d", L(2026, 3, 30, 1, 30), U(2026, 3, 28, 21)),
    ("1d in the autumn repeat moves back", "1d", L(2026, 10, 26, 1, 30), U(2026, 10, 24, 20)),
    ("3d at 06:00 across the spring change", "3d", L(2026, 3, 31, 6), U(2026, 3, 27, 21)),
]


@pytest.mark.parametrize(
    ("slot_name", "starts_at", "expected"),
    [pytest.param(s, a, e, id=i) for i, s, a, e in QUIET_CASES],
)
def test_a_target_in_quiet_hours_moves_to_the_latest_allowed_time_before_it(
    slot_name, starts_at, expected
):
    (planned,) = plan(starts_at=starts_at, now=LONG_AGO, slots=[SLOTS_BY_NAME[slot_name]])
    assert planned == Planned(slot_name, expected, "")
    assert planned.send_at.tzinfo is UTC


@pytest.mark.parametrize(
    ("quiet_start", "quiet_end", "starts_at", "now", "expected"),
    [
        pytest.param(
            time(20), time(9), L(2026, 6, 10, 10, 30), LONG_AGO, L(2026, 6, 9, 20), id="target"
        ),
        pytest.param(
            time(20),
            time(9),
            L(2026, 6, 10, 10, 30),
            L(2026, 6, 10, 8, 45),
            L(2026, 6, 10, 9),
            id="late",
        ),
        pytest.param(
            time(20), time(9), L(2026, 6, 10, 22, 30), LONG_AGO, L(2026, 6, 10, 20), id="evening"
        ),
        # A quiet window inside one day, say a clinic's lunchtime.
        pytest.param(
            time(12), time(14), L(2026, 6, 10, 15), LONG_AGO, L(2026, 6, 10, 12), id="midday"
        ),
        pytest.param(
            time(12),
            time(14),
            L(2026, 6, 10, 15, 30),
            L(2026, 6, 10, 13, 45),
            L(2026, 6, 10, 14),
            id="midday late",
        ),
    ],
)
def test_quiet_hours_can_be_changed(quiet_start, quiet_end, starts_at, now, expected):
    (planned,) = plan(
        starts_at=starts_at,
        now=now,
        slots=[TWO_HOURS],
        quiet_start=quiet_start,
        quiet_end=quiet_end,
    )
    assert planned == Planned("2h", expected, "")


def test_equal_quiet_hour_boundaries_are_refused():
    with pytest.raises(ValueError, match="differ"):
        plan(starts_at=L(2026, 6, 10, 14), now=LONG_AGO, slots=DEFAULT_SLOTS, quiet_start=time(8))


# --- Rule 4: a later reminder covers an earlier one -----------------------------------------

ONE_DAY_BY_CLOCK = Slot("1d", days=1, cutoff=timedelta(hours=4))
TWENTY_THREE_HOURS = Slot("23h", hours=23, cutoff=timedelta(hours=1))

COVER_CASES = [
    # (id, slots, appointment, now, expected)
    (
        "1 day is 23 hours on the spring change: the same moment, 23h kept",
        [ONE_DAY_BY_CLOCK, TWENTY_THREE_HOURS],
        L(2026, 3, 29, 10),
        LONG_AGO,
        [("1d", None, SKIP_COVERED), ("23h", L(2026, 3, 28, 10), "")],
    ),
    (
        "an ordinary day: an hour apart, both kept",
        [ONE_DAY_BY_CLOCK, TWENTY_THREE_HOURS],
        L(2026, 6, 10, 10),
        LONG_AGO,
        [("1d", L(2026, 6, 9, 10), ""), ("23h", L(2026, 6, 9, 11), "")],
    ),
    (
        "the autumn change: two hours apart, both kept",
        [ONE_DAY_BY_CLOCK, TWENTY_THREE_HOURS],
        L(2026, 10, 25, 10),
        LONG_AGO,
        [("1d", L(2026, 10, 24, 10), ""), ("23h", L(2026, 10, 24, 12), "")],
    ),
    (
        "both late: sent now once",
        [ONE_DAY_BY_CLOCK, TWENTY_THREE_HOURS],
        L(2026, 6, 10, 10),
        L(2026, 6, 9, 15),
        [("1d", None, SKIP_COVERED), ("23h", L(2026, 6, 9, 15), "")],
    ),
    (
        "both moved to the same 21:00 by quiet hours",
        [
            Slot("10h", hours=10, cutoff=timedelta(hours=1)),
            Slot("9h", hours=9, cutoff=timedelta(hours=1)),
        ],
        L(2026, 6, 10, 8),
        LONG_AGO,
        [("10h", None, SKIP_COVERED), ("9h", L(2026, 6, 9, 21), "")],
    ),
    (
        "an earlier-listed slot due after a later-listed one",
        [
            Slot("12h", hours=12, cutoff=timedelta(hours=1)),
            Slot("13h", hours=13, cutoff=timedelta(hours=1)),
        ],
        L(2026, 6, 10, 9),
        LONG_AGO,
        [("12h", None, SKIP_COVERED), ("13h", L(2026, 6, 9, 20), "")],
    ),
    (
        "a slot skipped as too close covers nothing",
        [ONE_DAY_BY_CLOCK, Slot("3h", hours=3, cutoff=timedelta(hours=5))],
        L(2026, 6, 10, 14),
        LONG_AGO,
        [("1d", L(2026, 6, 9, 14), ""), ("3h", None, SKIP_TOO_CLOSE)],
    ),
    (
        "three at once: only the nearest kept",
        [
            THREE_DAYS,
            Slot("2d", days=2, cutoff=timedelta(hours=36)),
            Slot("47h", hours=47, cutoff=timedelta(hours=36)),
        ],
        L(2026, 6, 10, 18),
        L(2026, 6, 8, 19, 30),
        [
            ("3d", None, SKIP_COVERED),
            ("2d", None, SKIP_COVERED),
            ("47h", L(2026, 6, 8, 19, 30), ""),
        ],
    ),
]


@pytest.mark.parametrize(
    ("slots", "starts_at", "now", "expected"),
    [pytest.param(s, a, n, e, id=i) for i, s, a, n, e in COVER_CASES],
)
def test_only_the_reminder_nearest_the_appointment_is_kept_when_they_clash(
    slots, starts_at, now, expected
):
    assert sends(plan(starts_at=starts_at, now=now, slots=slots)) == expected


# --- Rule 5: inputs and outputs ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("starts_at", "now", "name"),
    [
        pytest.param(datetime(2026, 6, 10, 14), LONG_AGO, "starts_at", id="naive appointment"),
        pytest.param(L(2026, 6, 10, 14), datetime(2026, 6, 1, 9), "now", id="naive now"),
    ],
)
def test_naive_datetimes_are_refused(starts_at, now, name):
    with pytest.raises(ValueError, match=name):
        plan(starts_at=starts_at, now=now, slots=DEFAULT_SLOTS)


def test_slot_target_refuses_a_naive_appointment():
    with pytest.raises(ValueError, match="starts_at"):
        slot_target(starts_at=datetime(2026, 6, 10, 14), slot=ONE_DAY)


def test_any_zone_in_gives_the_same_plan_in_utc():
    paris = ZoneInfo("Europe/Paris")
    starts_at = L(2026, 3, 29, 10)
    now = L(2026, 3, 27, 9)
    in_london = plan(starts_at=starts_at, now=now, slots=DEFAULT_SLOTS)
    elsewhere = plan(
        starts_at=starts_at.astimezone(paris), now=now.astimezone(UTC), slots=DEFAULT_SLOTS
    )
    assert in_london == elsewhere
    assert [p.send_at.tzinfo for p in elsewhere] == [UTC, UTC, UTC]


def test_results_follow_the_order_of_the_slots_given():
    # Listed the wrong way round, 3d counts as the nearer reminder and covers 2h.
    slots = [TWO_HOURS, THREE_DAYS]
    planned = plan(starts_at=L(2026, 6, 10, 14), now=LONG_AGO, slots=slots)
    assert [p.slot for p in planned] == ["2h", "3d"]
    assert sends(planned) == [("2h", None, SKIP_COVERED), ("3d", L(2026, 6, 7, 14), "")]


def test_no_slots_plan_nothing():
    assert plan(starts_at=L(2026, 6, 10, 14), now=LONG_AGO, slots=[]) == []


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        pytest.param({"name": "", "cutoff": timedelta(hours=1)}, "1 to 10", id="empty name"),
        pytest.param({"name": "x" * 11, "cutoff": timedelta(hours=1)}, "1 to 10", id="long name"),
        pytest.param({"name": "x", "days": -1, "cutoff": timedelta(hours=1)}, "before", id="days"),
        pytest.param(
            {"name": "x", "hours": -2, "cutoff": timedelta(hours=1)}, "before", id="hours"
        ),
        pytest.param({"name": "x", "hours": 2, "cutoff": timedelta(0)}, "cutoff", id="no cutoff"),
    ],
)
def test_impossible_slots_are_refused(kwargs, message):
    with pytest.raises(ValueError, match=message):
        Slot(**kwargs)


# --- slots_for_kind ---------------------------------------------------------------------------


def test_default_slots_when_the_settings_are_absent(settings):
    del settings.REMINDER_SCHEDULE
    del settings.REMINDER_SLOTS
    assert slots_for_kind("gp") == DEFAULT_SLOTS


CUSTOM_SLOTS = {
    "1w": {"days": 7, "cutoff_minutes": 3 * 24 * 60},
    "1d": {"days": 1, "hours": 0, "cutoff_minutes": 240},
    "2h": {"hours": 2, "cutoff_minutes": 30},
}


@pytest.mark.parametrize(
    ("kind", "expected"),
    [
        pytest.param("housing", ["1w", "1d"], id="own list"),
        pytest.param("benefits", [], id="no reminders"),
        pytest.param("gp", ["1d", "2h"], id="falls back to default"),
    ],
)
def test_slots_come_from_the_settings(settings, kind, expected):
    settings.REMINDER_SCHEDULE = {"default": ["1d", "2h"], "housing": ["1w", "1d"], "benefits": []}
    settings.REMINDER_SLOTS = CUSTOM_SLOTS
    slots = slots_for_kind(kind)
    assert [slot.name for slot in slots] == expected
    if "1w" in expected:
        assert slots[0] == Slot("1w", days=7, cutoff=timedelta(days=3))


@pytest.mark.parametrize(
    ("schedule", "message"),
    [
        pytest.param({"housing": ["1d"]}, "no 'default'", id="no default"),
        pytest.param({"default": ["1d", "3h"]}, "does not define slot '3h'", id="unknown slot"),
        pytest.param({"default": ["2h", "1d"]}, "furthest from the appointment first", id="order"),
        pytest.param({"default": ["1d", "1d"]}, "without repeats", id="repeat"),
        pytest.param({"default": ["broken"]}, "invalid", id="no cutoff"),
        pytest.param({"default": ["much-too-long"]}, "invalid", id="long name"),
    ],
)
def test_a_mistake_in_the_settings_is_reported(settings, schedule, message):
    settings.REMINDER_SCHEDULE = schedule
    settings.REMINDER_SLOTS = {
        **CUSTOM_SLOTS,
        "broken": {"days": 2},
        "much-too-long": {"days": 2, "cutoff_minutes": 60},
    }
    with pytest.raises(ImproperlyConfigured, match=message):
        slots_for_kind("gp")


# --- Properties ---------------------------------------------------------------------------------

CLOCK_CHANGES = [
    U(2026, 3, 29, 1),
    U(2026, 10, 25, 1),
    U(2027, 3, 28, 1),
    U(2027, 10, 31, 1),
    U(2028, 3, 26, 1),
    U(2028, 10, 29, 1),
]


def test_the_clock_changes_used_below_are_real():
    for change in CLOCK_CHANGES:
        before = (change - timedelta(seconds=1)).astimezone(LONDON).utcoffset()
        assert change.astimezone(LONDON).utcoffset() != before


any_time = st.datetimes(
    min_value=datetime(2026, 1, 1),
    max_value=datetime(2028, 12, 31, 23, 59),
    timezones=st.just(UTC),
)
near_a_clock_change = st.builds(
    lambda change, offset: change + offset,
    st.sampled_from(CLOCK_CHANGES),
    st.timedeltas(min_value=timedelta(days=-1), max_value=timedelta(days=4)),
)
appointments = st.one_of(any_time, near_a_clock_change)
# How long before the appointment "now" is; negative when it has passed.
booked_ahead = st.one_of(
    st.timedeltas(min_value=timedelta(hours=-6), max_value=timedelta(days=5)),
    st.timedeltas(min_value=timedelta(0), max_value=timedelta(hours=40)),
)


@st.composite
def slot_lists(draw) -> list[Slot]:
    """1 to 4 slots, furthest first, in days, hours, or both."""
    leads = draw(st.lists(st.integers(1, 8 * 24), min_size=1, max_size=4, unique=True))
    slots = []
    for index, lead in enumerate(sorted(leads, reverse=True)):
        days = draw(st.integers(0, lead // 24))
        cutoff = draw(st.timedeltas(min_value=timedelta(minutes=1), max_value=timedelta(days=3)))
        slots.append(Slot(f"s{index}", days=days, hours=lead - 24 * days, cutoff=cutoff))
    return slots


def check_properties(starts_at, now, slots, planned, quiet=is_quiet_in_london):
    assert [p.slot for p in planned] == [slot.name for slot in slots]
    previous = None
    for slot, p in zip(slots, planned, strict=True):
        assert (p.send_at is None) == bool(p.skip_reason)
        assert p.skip_reason in {"", SKIP_PASSED, SKIP_TOO_CLOSE, SKIP_COVERED}
        if p.send_at is None:
            continue
        assert p.send_at.tzinfo is UTC
        assert not quiet(p.send_at)
        assert starts_at - p.send_at >= slot.cutoff
        assert p.send_at >= now
        if previous is not None:
            assert p.send_at > previous
        previous = p.send_at
        # Sent exactly on time when nothing stood in the way.
        target = slot_target(starts_at=starts_at, slot=slot)
        if target >= now and not quiet(target):
            assert p.send_at == target
    if starts_at <= now:
        assert all(p.skip_reason == SKIP_PASSED for p in planned)


@settings(max_examples=500, deadline=None)
@given(starts_at=appointments, ahead=booked_ahead)
def test_default_plan_properties(starts_at, ahead):
    now = starts_at - ahead
    planned = plan(starts_at=starts_at, now=now, slots=DEFAULT_SLOTS)
    check_properties(starts_at, now, DEFAULT_SLOTS, planned)


@settings(max_examples=500, deadline=None)
@given(starts_at=appointments, ahead=booked_ahead, slots=slot_lists())
def test_plan_properties_for_any_slots(starts_at, ahead, slots):
    now = starts_at - ahead
    planned = plan(starts_at=starts_at, now=now, slots=slots)
    check_properties(starts_at, now, slots, planned)


@settings(max_examples=500, deadline=None)
@given(
    starts_at=appointments,
    ahead=booked_ahead,
    quiet_start=st.times(min_value=time(18), max_value=time(23, 59)),
    quiet_end=st.times(min_value=time(5), max_value=time(10)),
)
def test_plan_properties_for_other_quiet_hours(starts_at, ahead, quiet_start, quiet_end):
    now = starts_at - ahead

    def quiet(instant):
        clock = instant.astimezone(LONDON).time()
        return clock > quiet_start or clock < quiet_end

    planned = plan(
        starts_at=starts_at,
        now=now,
        slots=DEFAULT_SLOTS,
        quiet_start=quiet_start,
        quiet_end=quiet_end,
    )
    check_properties(starts_at, now, DEFAULT_SLOTS, planned, quiet=quiet)
