"""When each appointment reminder should go out: pure functions, no database, no clock.

The services call :func:`slots_for_kind` to learn which reminders an appointment gets and
:func:`plan` to turn them into send times (or reasons not to send). ``now`` is a parameter, so
the rules below can be tested at any moment, including the nights the clocks change.

The rules, in the order they are applied to each reminder slot:

1. Target. Take the appointment in local time (Europe/London), go back ``days`` calendar days
   keeping the clock time, then go back ``hours`` of real elapsed time. "1 day before" a 10:00
   appointment is 10:00 the day before by the clock, which is 23 or 25 real hours when the
   clocks change in between (an appointment on the Sunday they change, reminded on Saturday).
   If that clock time does not exist (the hour skipped in spring) it moves forward by the
   length of the gap, as the clocks did: 01:30 becomes 02:30 BST. If it happens twice (the
   hour repeated in autumn) the first one is taken: 01:30 BST, not 01:30 GMT. ``hours`` are
   real time, so "2 hours before" a 03:30 BST appointment on the spring Sunday is 00:30 GMT.
2. Quiet hours. Texts go out from ``quiet_end`` (08:00) up to and including ``quiet_start``
   (21:00) local time. A target inside quiet hours moves to the latest allowed time before
   it: 05:30 becomes 21:00 the evening before, 22:15 becomes 21:00 the same evening. Earlier,
   never later, so the reminder cannot land after the person has set off.
3. Late scheduling. If that time has already passed (the appointment was booked late), the
   reminder goes out now; but if now is itself in quiet hours, at the next allowed time
   (08:00) instead.
4. Skips, each with a reason:
   - the appointment is not in the future: "The appointment has passed.";
   - the chosen time is less than the slot's ``cutoff`` before the appointment (a "3 days
     before" text the evening before is noise): "Too close to the appointment.";
   - slots are listed furthest from the appointment first, so each reminder must go out
     strictly before the next one in the list. Where two would go out at the same time, or an
     earlier-listed one at or after a later-listed one (late booking, quiet hours, the clocks
     changing), the later-listed one, nearest the appointment, is kept and the others are
     skipped: "A later reminder covers it.". This keeps a person from getting two texts at
     once.
5. Results come back in the order of ``slots``, with ``send_at`` in UTC. Naive datetimes are
   refused with ``ValueError``: a time without a zone is a bug waiting for the clocks to change.

The quiet-hour boundaries are assumed to be clock times that exist once every day (21:00 and
08:00 do in the UK, where the clocks change between 01:00 and 02:00).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import KW_ONLY, dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

LONDON = ZoneInfo("Europe/London")
QUIET_START = time(21, 0)
QUIET_END = time(8, 0)

SLOT_NAME_MAX_LENGTH = 10  # the outbox row stores the name

SKIP_PASSED = "The appointment has passed."
SKIP_TOO_CLOSE = "Too close to the appointment."
SKIP_COVERED = "A later reminder covers it."

# Used when settings.REMINDER_SCHEDULE / REMINDER_SLOTS are not set.
DEFAULT_REMINDER_SCHEDULE: dict[str, list[str]] = {"default": ["3d", "1d", "2h"]}
DEFAULT_REMINDER_SLOTS: dict[str, dict[str, int]] = {
    "3d": {"days": 3, "hours": 0, "cutoff_minutes": 36 * 60},
    "1d": {"days": 1, "hours": 0, "cutoff_minutes": 4 * 60},
    "2h": {"days": 0, "hours": 2, "cutoff_minutes": 30},
}


@dataclass(frozen=True)
class Slot:
    """One reminder an appointment may get, e.g. "1d": the day before at the same clock time.

    ``cutoff`` is how long before the appointment the text must go out to be worth sending.
    """

    name: str
    _: KW_ONLY
    days: int = 0
    hours: int = 0
    cutoff: timedelta

    def __post_init__(self) -> None:
        if not 0 < len(self.name) <= SLOT_NAME_MAX_LENGTH:
            raise ValueError(f"A slot name must be 1 to {SLOT_NAME_MAX_LENGTH} characters")
        if self.days < 0 or self.hours < 0:
            raise ValueError(f"Slot {self.name!r} must be before the appointment, not after")
        if self.cutoff <= timedelta(0):
            # A zero cutoff would allow a "reminder" at the very moment of the appointment.
            raise ValueError(f"Slot {self.name!r} needs a cutoff greater than zero")

    @property
    def nominal_lead(self) -> timedelta:
        """How far ahead the slot is on a day the clocks do not change; used to order slots."""
        return timedelta(days=self.days, hours=self.hours)


@dataclass(frozen=True)
class Planned:
    slot: str
    send_at: datetime | None  # aware, UTC; None when skipped
    skip_reason: str  # "" when planned


def slots_for_kind(kind: str) -> list[Slot]:
    """The reminder slots for an appointment kind, furthest from the appointment first.

    Read on every call, not at import, so that settings overrides (in tests, say) apply. A
    mistake in the settings raises ``ImproperlyConfigured`` rather than silently sending fewer
    reminders.
    """
    schedule = getattr(settings, "REMINDER_SCHEDULE", DEFAULT_REMINDER_SCHEDULE)
    definitions = getattr(settings, "REMINDER_SLOTS", DEFAULT_REMINDER_SLOTS)
    if kind in schedule:
        names = schedule[kind]
    elif "default" in schedule:
        names = schedule["default"]
    else:
        raise ImproperlyConfigured(
            f"REMINDER_SCHEDULE has no entry for {kind!r} and no 'default' entry"
        )

    slots: list[Slot] = []
    for name in names:
        if name not in definitions:
            raise ImproperlyConfigured(f"REMINDER_SLOTS does not define slot {name!r}")
        definition = definitions[name]
        try:
            slot = Slot(
                name,
                days=int(definition.get("days", 0)),
                hours=int(definition.get("hours", 0)),
                cutoff=timedelta(minutes=int(definition["cutoff_minutes"])),
            )
        except (KeyError, TypeError, ValueError) as error:
            raise ImproperlyConfigured(f"REMINDER_SLOTS[{name!r}] is invalid: {error}") from None
        if slots and slot.nominal_lead >= slots[-1].nominal_lead:
            # plan() keeps the later-listed of two clashing reminders, which is only right if
            # the list runs from furthest to nearest.
            raise ImproperlyConfigured(
                f"REMINDER_SCHEDULE[{kind!r}] must list slots furthest from the appointment "
                f"first, without repeats ({slots[-1].name!r} then {name!r})"
            )
        slots.append(slot)
    return slots


def plan(
    *,
    starts_at: datetime,
    now: datetime,
    slots: Sequence[Slot],
    tz: ZoneInfo = LONDON,
    quiet_start: time = QUIET_START,
    quiet_end: time = QUIET_END,
) -> list[Planned]:
    """Send times for each slot of an appointment starting at ``starts_at``, as seen at ``now``.

    See the module docstring for the rules. ``slots`` must be listed furthest from the
    appointment first: when two reminders clash, the later-listed one is kept.
    """
    _require_aware(starts_at, "starts_at")
    _require_aware(now, "now")
    if quiet_start == quiet_end:
        raise ValueError("quiet_start and quiet_end must differ")
    starts_at = starts_at.astimezone(UTC)
    now = now.astimezone(UTC)

    if starts_at <= now:
        return [Planned(slot.name, None, SKIP_PASSED) for slot in slots]

    send_times: list[datetime | None] = []
    reasons: list[str] = []
    for slot in slots:
        send_at = slot_target(starts_at=starts_at, slot=slot, tz=tz)
        if _is_quiet(send_at, tz, quiet_start, quiet_end):
            send_at = _latest_allowed_before(send_at, tz, quiet_start)
        if send_at < now:
            if _is_quiet(now, tz, quiet_start, quiet_end):
                send_at = _next_allowed_after(now, tz, quiet_end)
            else:
                send_at = now
        if starts_at - send_at < slot.cutoff:
            send_times.append(None)
            reasons.append(SKIP_TOO_CLOSE)
        else:
            send_times.append(send_at)
            reasons.append("")

    # Walk from the reminder nearest the appointment outwards: anything that would not go out
    # strictly before the reminder kept after it is covered by that one.
    next_kept: datetime | None = None
    for index in reversed(range(len(slots))):
        send_at = send_times[index]
        if send_at is None:
            continue
        if next_kept is not None and send_at >= next_kept:
            send_times[index] = None
            reasons[index] = SKIP_COVERED
        else:
            next_kept = send_at

    return [
        Planned(slot.name, send_at, reason)
        for slot, send_at, reason in zip(slots, send_times, reasons, strict=True)
    ]


def slot_target(*, starts_at: datetime, slot: Slot, tz: ZoneInfo = LONDON) -> datetime:
    """Rule 1 alone, before quiet hours or ``now`` are considered (aware, UTC).

    Public so the clock-change arithmetic can be checked directly: at night, quiet hours would
    otherwise hide it.
    """
    _require_aware(starts_at, "starts_at")
    target = starts_at.astimezone(UTC)
    if slot.days:
        # Only when going back whole days: re-reading the clock time would lose which of the
        # two 01:30s an autumn appointment is at.
        local = starts_at.astimezone(tz)
        day = local.date() - timedelta(days=slot.days)
        target = _local_instant(day, local.time(), tz)
    return target - timedelta(hours=slot.hours)


def _local_instant(day: date, clock: time, tz: ZoneInfo) -> datetime:
    """The instant (UTC) the clocks in ``tz`` show ``clock`` on ``day``, choosing explicitly
    when the clocks change rather than trusting whatever ``fold`` happens to do."""
    wall = datetime.combine(day, clock.replace(tzinfo=None, fold=0))
    offsets = {wall.replace(tzinfo=tz, fold=fold).utcoffset() for fold in (0, 1)}
    if len(offsets) == 1:
        return (wall - offsets.pop()).replace(tzinfo=UTC)  # an ordinary time
    earlier = (wall - max(offsets)).replace(tzinfo=UTC)
    if earlier.astimezone(tz).replace(tzinfo=None) == wall:
        return earlier  # shown twice (autumn): take the first, 01:30 BST
    # Never shown (spring): read it with the offset from before the change, which puts it the
    # length of the gap later, 01:30 -> 02:30 BST. Java's ZonedDateTime does the same.
    return (wall - min(offsets)).replace(tzinfo=UTC)


def _is_quiet(instant: datetime, tz: ZoneInfo, quiet_start: time, quiet_end: time) -> bool:
    clock = instant.astimezone(tz).time()
    if quiet_end < quiet_start:  # overnight, the usual case: 21:00 to 08:00
        return clock > quiet_start or clock < quiet_end
    return quiet_start < clock < quiet_end


def _latest_allowed_before(instant: datetime, tz: ZoneInfo, quiet_start: time) -> datetime:
    local = instant.astimezone(tz)
    day = local.date()
    if local.time() < quiet_start:  # e.g. 05:30: quiet hours began the evening before
        day -= timedelta(days=1)
    return _local_instant(day, quiet_start, tz)


def _next_allowed_after(instant: datetime, tz: ZoneInfo, quiet_end: time) -> datetime:
    local = instant.astimezone(tz)
    day = local.date()
    if local.time() >= quiet_end:  # e.g. 22:00: quiet hours end tomorrow morning
        day += timedelta(days=1)
    return _local_instant(day, quiet_end, tz)


def _require_aware(value: datetime, name: str) -> None:
    if not isinstance(value, datetime):
        raise TypeError(f"{name} must be a datetime")
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware")
