"""Writes for text messages: planning reminders, sending exactly once, reconciling, delivery
reports, replies, opt-outs and templates.

The life of a reminder (ARCHITECTURE.md tells it end to end):

1. ``reminders_sync`` plans one row per (appointment, slot, appointment time) when peer_support
   says an appointment was created or moved, and withdraws pending rows when it is cancelled,
   moved or done.
2. ``messages_dispatch_due`` (every minute) marks due rows ``queued`` and queues their ids.
3. ``message_send`` claims a row with one conditional UPDATE (only one caller can win), checks
   every reason not to send at that moment, stores the exact text, calls the provider once and
   records what happened. A temporary failure goes back to ``scheduled`` with backoff; a
   permanent one fails; an unknown outcome stays ``sending``.
4. ``messages_sweep`` (every minute) asks the provider about ``sending`` rows whose claim has
   gone stale (the worker died or timed out) and either records the message it finds or puts
   the row back to be sent: never resent blind. Rows that stay stuck raise an alert.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.core.cache import cache
from django.core.cache.backends.locmem import LocMemCache
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import F
from django.utils import timezone
from phonenumber_field.phonenumber import PhoneNumber, to_python

from peer_support import services as peer_services
from peer_support.models import Alert, Appointment, ServiceUserRecord
from portal import permissions
from portal.audit import audit_record
from portal.models import AuditEvent, ConsentPurpose, User
from portal.phone import is_uk_mobile
from portal.queue import enqueue_on_commit
from portal.selectors import consents_active_for
from portal.sensitive import sensitive_words_in

from . import gsm, replies, schedule, sms, wording
from .links import appointment_link
from .models import (
    DeliveryReport,
    InboundMessage,
    MessageTemplate,
    OptOut,
    OutboundMessage,
)
from .selectors import (
    inbound_visible_to,
    numbers_opted_out,
    numbers_shared,
    sender_record,
    templates_current,
)
from .templating import TemplateError, placeholders_in, template_lint, template_render

logger = logging.getLogger(__name__)

Status = OutboundMessage.Status
SEND_TASK = "notifications.tasks.messages_send"
RECORD_SENT_EVERY = 10  # accepted sends written down per UPDATE (see messages_send)


# --- Planning ---------------------------------------------------------------------------------


class _Planner:
    """The outbox rows appointments should have, as seen at one moment ``now``: planned, or
    skipped with the reason. Appointments of the same kind at the same time get the same
    send times (clinics book on the hour and the half hour), so each time is planned once per
    planner. ``adapt`` turns datetimes into what the database stores (for raw inserts)."""

    # The columns of a planned row, in the order of the tuples ``rows`` returns.
    COLUMNS = (
        "kind",
        "service_id",
        "service_user_id",
        "appointment_id",
        "slot",
        "appointment_starts_at",
        "send_at",
        "status",
        "reason",
        "reason_code",
    )

    def __init__(self, now: datetime, *, adapt=lambda value: value) -> None:
        self.now = now
        self.adapt = adapt
        self._slots: dict[str, list[schedule.Slot]] = {}
        self._tails: dict[tuple[str, datetime], list[tuple]] = {}

    def _tails_for(self, kind: str, starts_at: datetime) -> list[tuple]:
        """The columns from ``slot`` on, one tuple per slot, the same for every appointment
        of this kind at this time."""
        tails = self._tails.get((kind, starts_at))
        if tails is None:
            if kind not in self._slots:
                self._slots[kind] = schedule.slots_for_kind(kind)
            planned = schedule.plan(
                starts_at=starts_at,
                now=self.now,
                slots=self._slots[kind],
                quiet_start=settings.SMS_QUIET_HOURS[0],
                quiet_end=settings.SMS_QUIET_HOURS[1],
            )
            tails = self._tails[(kind, starts_at)] = [
                (
                    item.slot,
                    self.adapt(starts_at),
                    self.adapt(item.send_at or self.now),
                    Status.SCHEDULED if item.send_at else Status.NOT_SENT,
                    item.skip_reason[:200],
                    "" if item.send_at else "skipped",
                )
                for item in planned
            ]
        return tails

    def rows(
        self,
        *,
        appointment_id: int,
        kind: str,
        starts_at: datetime,
        service_id: int,
        service_user_id: int,
    ) -> list[tuple]:
        head = (OutboundMessage.Kind.REMINDER, service_id, service_user_id, appointment_id)
        return [head + tail for tail in self._tails_for(kind, starts_at)]

    def values(self, **appointment) -> list[dict]:
        """``rows`` as field values."""
        return [dict(zip(self.COLUMNS, row, strict=True)) for row in self.rows(**appointment)]


def _remindable(status: str, outcome: str) -> bool:
    return status == Appointment.Status.SCHEDULED and not outcome


def reminders_withdraw(*, appointment_id: int, reason: str, except_time=None) -> int:
    """Withdraw the appointment's reminders that have not been sent. A row already claimed by a
    sender is left alone: the sender checks the appointment again before calling the
    provider, and refuses then."""
    pending = OutboundMessage.objects.filter(
        appointment_id=appointment_id,
        kind=OutboundMessage.Kind.REMINDER,
        status__in=OutboundMessage.PENDING,
    )
    if except_time is not None:
        pending = pending.exclude(appointment_starts_at=except_time)
    return pending.update(status=Status.WITHDRAWN, reason=reason[:200], reason_code="withdrawn")


@transaction.atomic
def reminders_sync(*, appointment_id: int, now: datetime | None = None) -> list[OutboundMessage]:
    """Make the outbox match the appointment as it is now (peer_support's
    ``appointment_changed`` signal calls this for every change). Idempotent: calling it twice
    changes nothing the second time."""
    now = now or timezone.now()
    appointment = (
        Appointment.objects.select_for_update()
        .select_related("service_user")
        .filter(pk=appointment_id)
        .first()
    )
    if appointment is None:
        return []
    if not _remindable(appointment.status, appointment.outcome):
        why = (
            "An outcome was recorded." if appointment.outcome else "The appointment was cancelled."
        )
        reminders_withdraw(appointment_id=appointment.pk, reason=why)
        return []
    reminders_withdraw(
        appointment_id=appointment.pk,
        reason="The appointment moved.",
        except_time=appointment.starts_at,
    )
    existing = {
        row.slot: row
        for row in OutboundMessage.objects.filter(
            appointment=appointment,
            kind=OutboundMessage.Kind.REMINDER,
            appointment_starts_at=appointment.starts_at,
        )
    }
    rows = []
    wanted = set()
    planner = _Planner(now)
    for values in planner.values(
        appointment_id=appointment.pk,
        kind=appointment.kind,
        starts_at=appointment.starts_at,
        service_id=appointment.service_user.service_id,
        service_user_id=appointment.service_user_id,
    ):
        row = OutboundMessage(**values)
        wanted.add(row.slot)
        current = existing.get(row.slot)
        if current is None:
            row.save()
            rows.append(row)
        elif current.status == Status.WITHDRAWN:
            # Moved away and back again: the same row comes back to life.
            for field in ("send_at", "status", "reason", "reason_code"):
                setattr(current, field, getattr(row, field))
            current.save(
                update_fields=["send_at", "status", "reason", "reason_code", "updated_at"]
            )
            rows.append(current)
        else:
            rows.append(current)
    stale = [row.pk for slot, row in existing.items() if slot not in wanted]
    if stale:
        OutboundMessage.objects.filter(pk__in=stale, status__in=OutboundMessage.PENDING).update(
            status=Status.WITHDRAWN,
            reason="No longer in the reminder schedule.",
            reason_code="withdrawn",
        )
    return rows


def reminders_plan_many(*, appointment_ids: Iterable[int], now: datetime | None = None) -> int:
    """Plan reminders for many new appointments at once (imports, the demo, the benchmark):
    the same rows as ``reminders_sync`` (``_Planner``), read as plain values and inserted
    with INSERT ... ON CONFLICT DO NOTHING, because building 100,000 appointments and
    300,000 outbox rows as model instances costs most of the time. Rows that exist already
    are left alone. Returns how many rows were planned (including any that existed)."""
    now = now or timezone.now()
    ids = list(appointment_ids)
    planner = _Planner(now, adapt=connection.ops.adapt_datetimefield_value)
    planned = 0
    for start in range(0, len(ids), 5000):
        chunk = Appointment.objects.filter(pk__in=ids[start : start + 5000]).values_list(
            "pk",
            "kind",
            "starts_at",
            "status",
            "outcome",
            "service_user_id",
            "service_user__service_id",
        )
        rows = []
        for pk, kind, starts_at, status, outcome, service_user_id, service_id in chunk:
            if _remindable(status, outcome):
                rows.extend(
                    planner.rows(
                        appointment_id=pk,
                        kind=kind,
                        starts_at=starts_at,
                        service_id=service_id,
                        service_user_id=service_user_id,
                    )
                )
        _insert_ignoring_existing(rows, now=now)
        planned += len(rows)
    return planned


# Every other column of a planned reminder row, with its value.
_PLAN_DEFAULTS = {
    "inbound_id": None,
    "purpose": "",
    "attempts": 0,
    "claim_token": None,
    "claimed_at": None,
    "queued_at": None,
    "to": "",
    "body": "",
    "segments": 0,
    "provider": "",
    "provider_sid": "",
    "delivery_status": "",
    "error_code": "",
    "sent_at": None,
    "delivery_updated_at": None,
    "alerted_at": None,
    "written_by_id": None,
}


def _insert_ignoring_existing(rows: list[tuple], *, now: datetime) -> None:
    """Insert planned rows (``_Planner.rows``, datetimes adapted), skipping any that break a
    unique constraint (already planned).

    PostgreSQL: COPY straight into the table, the fastest way in. COPY cannot skip a
    conflict, so if any row exists already (planned before, or meanwhile by another process)
    it is undone and the rows go through a temporary table and one INSERT ... SELECT ... ON
    CONFLICT DO NOTHING instead. SQLite: one INSERT ... ON CONFLICT DO NOTHING run for every
    row (``executemany``), with the values every row shares written into the statement."""
    if not rows:
        return
    quote = connection.ops.quote_name
    table = quote(OutboundMessage._meta.db_table)
    stamp = connection.ops.adapt_datetimefield_value(now)
    shared = {**_PLAN_DEFAULTS, "created_at": stamp, "updated_at": stamp}
    names = ", ".join(quote(column) for column in (*_Planner.COLUMNS, *shared))
    if connection.vendor != "postgresql":
        placeholders = ", ".join(
            ["%s"] * len(_Planner.COLUMNS) + [_sql_literal(value) for value in shared.values()]
        )
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.executemany(
                f"INSERT INTO {table} ({names}) VALUES ({placeholders}) "  # noqa: S608
                "ON CONFLICT DO NOTHING",
                rows,
            )
        return
    tail = tuple(shared.values())

    def copy_into(target: str) -> None:
        with (
            connection.wrap_database_errors,
            connection.cursor() as cursor,
            cursor.cursor.copy(f"COPY {target} ({names}) FROM STDIN") as copy,
        ):
            for row in rows:
                copy.write_row(row + tail)

    with transaction.atomic():
        try:
            with transaction.atomic():
                copy_into(table)
            return
        except IntegrityError:
            pass  # some exist: skip those, below
        with connection.cursor() as cursor:
            cursor.execute(
                f"CREATE TEMPORARY TABLE planned_reminders ON COMMIT DROP AS "  # noqa: S608
                f"SELECT {names} FROM {table} WITH NO DATA"
            )
            copy_into("planned_reminders")
            cursor.execute(
                f"INSERT INTO {table} ({names}) SELECT {names} FROM planned_reminders "  # noqa: S608
                "ON CONFLICT DO NOTHING"
            )
            cursor.execute("DROP TABLE planned_reminders")  # now, not at the outer commit


def _sql_literal(value: None | int | str) -> str:
    """One of the constant values above as SQL (never anything a person typed)."""
    if value is None:
        return "NULL"
    if isinstance(value, int):
        return str(value)
    return "'" + value.replace("'", "''") + "'"


# --- Dispatch ---------------------------------------------------------------------------------


def messages_dispatch_due(*, now: datetime | None = None) -> int:
    """Queue every due row, in batches of ids (never text or numbers). Two dispatchers may
    queue the same id: harmless, because ``message_send`` claims each row once."""
    now = now or timezone.now()
    batch = settings.SMS_DISPATCH_BATCH
    queued = 0
    while True:
        with transaction.atomic():
            ids = list(
                OutboundMessage.objects.select_for_update(skip_locked=True)
                .filter(status=Status.SCHEDULED, send_at__lte=now)
                .order_by("send_at", "pk")
                .values_list("pk", flat=True)[: batch * 20]
            )
            if not ids:
                return queued
            OutboundMessage.objects.filter(pk__in=ids, status=Status.SCHEDULED).update(
                status=Status.QUEUED, queued_at=now
            )
            for start in range(0, len(ids), batch):
                enqueue_on_commit(SEND_TASK, *ids[start : start + batch], group="sms")
        queued += len(ids)


@dataclass(frozen=True)
class Refusal:
    code: str
    reason: str


@dataclass(frozen=True)
class _BatchFacts:
    """What the send-time checks need for a whole batch, read in a constant number of
    queries when the batch is claimed (not once per text)."""

    consents: set[tuple[int, int]]
    opted_out: set[str]
    shared: set[str]
    cutoffs: dict[tuple[str, str], timedelta]

    @classmethod
    def load(cls, messages: list[OutboundMessage], numbers: set[str]) -> _BatchFacts:
        numbers = numbers - {""}
        subjects = {m.service_user.user_id for m in messages if m.service_user}
        kinds = {m.appointment.kind for m in messages if m.appointment}
        return cls(
            consents=consents_active_for(
                subject_ids=subjects - {None}, purpose=ConsentPurpose.SMS_REMINDERS
            ),
            opted_out=numbers_opted_out(numbers=numbers),
            shared=numbers_shared(numbers=numbers),
            cutoffs={
                (kind, slot.name): slot.cutoff
                for kind in kinds
                for slot in schedule.slots_for_kind(kind)
            },
        )


def message_send(*, message_id: int, client: sms.SMSClient | None = None) -> str:
    """Send one outbox row at most once (a batch of one). Returns what happened, in a word."""
    counts = messages_send(message_ids=[message_id], client=client)
    return next(iter(counts))


def messages_send(
    *, message_ids: Iterable[int], client: sms.SMSClient | None = None
) -> dict[str, int]:
    """Send a task's batch of outbox rows, each at most once. Returns what happened, counted.

    1. Claim: one conditional UPDATE gives the rows still pending and due a claim token of
       this call; a row another sender claimed first is not touched.
    2. Check: every reason not to send (``_refusal``), with the facts for the whole batch read
       at this moment; refused rows are recorded with the reason.
    3. Store the exact text and number of every row about to go, before any provider call, so
       that after a crash the sweep can ask the provider whether each one went out.
    4. Send one by one under the rate limit, checking the rows not yet sent again every
       ``SMS_RECHECK_SECONDS``. Failures are recorded as they come, accepted sends in groups
       of ``RECORD_SENT_EVERY``.
    """
    ids = list(message_ids)
    now = timezone.now()
    token = uuid.uuid4()
    claimed = OutboundMessage.objects.filter(
        pk__in=ids, status__in=OutboundMessage.PENDING, send_at__lte=now
    ).update(
        status=Status.SENDING,
        claim_token=token,
        claimed_at=now,
        attempts=F("attempts") + 1,
        updated_at=now,
    )
    counts: dict[str, int] = {}

    def count(outcome: str, n: int = 1) -> None:
        counts[outcome] = counts.get(outcome, 0) + n

    if claimed < len(ids):
        count("not_claimed", len(ids) - claimed)
    if not claimed:
        return counts
    templates = templates_current()
    ready = []
    for message, number in _still_allowed(_claimed_rows(ids, token), token, now, count):
        body, link = _render(message, templates)
        # The link is ours and opaque (links.py spells no words): only the rest is checked.
        if message.kind != OutboundMessage.Kind.MANUAL and sensitive_words_in(
            body.replace(link, " ") if link else body
        ):
            _refuse(
                message,
                token,
                Refusal("sensitive", "The text would name something sensitive."),
                count,
            )
            continue
        message.to, message.body, message.segments = number, body, gsm.segments(body)
        ready.append(message)
    _update_claimed(
        token, {m.pk: {"to": m.to, "body": m.body, "segments": m.segments} for m in ready}
    )
    client = client or sms.get_sms_client()
    callback = _status_callback_url()
    sent: list[str] = []
    # Stop starting sends while the sweep still sees this claim as fresh, with room for the
    # last call to time out: after that it may reconcile and re-queue these rows, and a send
    # from here as well would be a duplicate. Rows not reached go back to be sent later.
    deadline = time.monotonic() + _calls_start_within()
    # Accepted sends are written down in groups (one UPDATE each), not one by one. A sender
    # that dies before writing some down leaves them ``sending``: the sweep finds them at the
    # provider, so nothing is sent twice; the group size bounds how many it has to look up.
    accepted: dict[int, dict] = {}
    # Sending a batch can take a while under the rate limit: every ``SMS_RECHECK_SECONDS`` the
    # rows not yet sent are checked again (a STOP, a cancellation or a withdrawn consent that
    # came in meanwhile counts before the next send, not after the batch).
    checked_at, allowed = time.monotonic(), None

    def write_down() -> None:
        if accepted:
            _update_claimed(token, accepted, status=Status.SENT, reason="", reason_code="")
            sent.extend(values["provider_sid"] for values in accepted.values())
            accepted.clear()

    try:
        for position, message in enumerate(ready):
            if time.monotonic() > deadline:
                left = [m.pk for m in ready[position:]]
                count("put_back", _put_back(left, token))
                break
            _rate_limit()
            if time.monotonic() - checked_at >= settings.SMS_RECHECK_SECONDS:
                rows = _claimed_rows([m.pk for m in ready[position:]], token)
                allowed = {
                    m.pk: number
                    for m, number in _still_allowed(rows, token, timezone.now(), count)
                }
                checked_at = time.monotonic()
            if allowed is not None and message.pk not in allowed:
                continue  # refused or put back just now (recorded), or no longer this claim's
            if allowed is not None and allowed[message.pk] != message.to:
                count("put_back", _put_back([message.pk], token))  # a new number: a new text
                continue
            try:
                result = client.send(
                    to=message.to,
                    body=message.body,
                    recipient_id=message.service_user.user_id if message.service_user else None,
                    status_callback=callback,
                )
            except sms.SMSTemporaryError as error:
                count(_retry_or_fail(message, token, error))
            except sms.SMSPermanentError as error:
                _fail(message, token, error, now=now)
                count("failed")
            except sms.SMSOutcomeUnknown:
                logger.warning("sms %s outcome unknown; the sweep will reconcile it", message.pk)
                count("unknown")
            else:
                accepted[message.pk] = {
                    "provider": result.provider,
                    "provider_sid": result.provider_id,
                    "delivery_status": result.status or "",
                    "sent_at": timezone.now(),
                }
                logger.info(
                    "sms %s sent via %s: %s", message.pk, result.provider, result.provider_id
                )
                count("sent")
                if len(accepted) >= RECORD_SENT_EVERY:
                    write_down()
    finally:
        write_down()
    _apply_early_reports(sent)
    return counts


def _calls_start_within() -> float:
    """Seconds after its claim in which a batch may start provider calls: it stops while the
    sweep still sees the claim as fresh, with room for the last call to time out."""
    return max(1.0, settings.SMS_CLAIM_STALE_SECONDS - settings.TWILIO_HTTP_TIMEOUT_SECONDS - 5)


def _claimed_rows(ids: list[int], token: uuid.UUID) -> list[OutboundMessage]:
    """This claim's rows, with what the checks and the texts need, in sending order."""
    messages = list(
        # By id as well as token: the ids find the rows by primary key (no index on the token).
        OutboundMessage.objects.filter(pk__in=ids, claim_token=token)
        .select_related("appointment", "service_user__service")
        .order_by("send_at", "pk")
    )
    for message in messages:
        if message.appointment is not None and (
            message.appointment.service_user_id == message.service_user_id
        ):
            # The same person: rendering reads the appointment's record and its service,
            # which the query above has loaded already.
            message.appointment.service_user = message.service_user
    return messages


def _still_allowed(
    messages: list[OutboundMessage], token: uuid.UUID, now: datetime, count
) -> list[tuple[OutboundMessage, str]]:
    """Check every reason not to send each claimed row at ``now``: refused rows are recorded
    with the reason. Returns the rows that may go, each with its number."""
    # Each row's number, worked out once (checking a number with phonenumbers is slow).
    numbers = {message.pk: _number_for(message) for message in messages}
    facts = _BatchFacts.load(messages, set(numbers.values()))
    allowed = []
    for message in messages:
        refusal = _refusal(message, number=numbers[message.pk], now=now, facts=facts)
        if refusal is not None:
            _refuse(message, token, refusal, count)
            continue
        allowed.append((message, numbers[message.pk]))
    return allowed


def _refuse(message: OutboundMessage, token: uuid.UUID, refusal: Refusal, count) -> None:
    _finish(
        message, token, status=Status.NOT_SENT, reason=refusal.reason, reason_code=refusal.code
    )
    logger.info("sms %s not sent: %s", message.pk, refusal.code)
    count(refusal.code)


def _put_back(ids: list[int], token: uuid.UUID) -> int:
    """Rows of this claim that were not tried go back to be sent later (the attempt the claim
    counted does not count)."""
    return OutboundMessage.objects.filter(pk__in=ids, claim_token=token).update(
        status=Status.SCHEDULED,
        claim_token=None,
        attempts=F("attempts") - 1,
        updated_at=timezone.now(),
    )


def _finish(message: OutboundMessage, token: uuid.UUID, **values) -> bool:
    """Record an outcome, only while our claim still holds (the sweep may have taken over)."""
    values.setdefault("updated_at", timezone.now())
    return bool(OutboundMessage.objects.filter(pk=message.pk, claim_token=token).update(**values))


def _update_claimed(token: uuid.UUID, each: dict[int, dict], **same) -> int:
    """One UPDATE for rows of this claim (a row another sender or the sweep has taken is left
    alone): ``each`` maps a row's id to values of its own, ``same`` holds values for all of
    them. Django's ``bulk_update`` would build an expression object for every row and field,
    which costs more than the provider calls; this is the same CASE statement, written once.
    Returns how many rows were updated."""
    if not each:
        return 0
    meta = OutboundMessage._meta
    quote = connection.ops.quote_name

    def prepared(name: str, value) -> object:
        return meta.get_field(name).get_db_prep_save(value, connection)

    ids = list(each)
    assignments, params = [], []
    for name in next(iter(each.values())):
        cases = " ".join(["WHEN %s THEN %s"] * len(ids))
        assignments.append(
            f"{quote(meta.get_field(name).column)} = CASE {quote('id')} {cases} END"
        )
        for pk in ids:
            params += [pk, prepared(name, each[pk][name])]
    for name, value in {**same, "updated_at": timezone.now()}.items():
        assignments.append(f"{quote(meta.get_field(name).column)} = %s")
        params.append(prepared(name, value))
    params += [*ids, prepared("claim_token", token)]
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {quote(meta.db_table)} SET {', '.join(assignments)} "  # noqa: S608
            f"WHERE {quote('id')} IN ({', '.join(['%s'] * len(ids))}) "
            f"AND {quote('claim_token')} = %s",
            params,
        )
        return cursor.rowcount


def _refusal(
    message: OutboundMessage, *, number: str, now: datetime, facts: _BatchFacts
) -> Refusal | None:
    """Every reason not to send this text at ``now``, checked when its batch is claimed and
    again every ``SMS_RECHECK_SECONDS`` while the batch is being sent."""
    record = message.service_user
    if message.kind == OutboundMessage.Kind.REMINDER:
        appointment = message.appointment
        if appointment.status != Appointment.Status.SCHEDULED:
            return Refusal("cancelled", "The appointment was cancelled.")
        if appointment.outcome:
            return Refusal("outcome", "An outcome was recorded for the appointment.")
        if appointment.starts_at != message.appointment_starts_at:
            return Refusal("moved", "The appointment moved.")
        if appointment.starts_at <= now:
            return Refusal("past", "The appointment has started or passed.")
        cutoff = facts.cutoffs.get((appointment.kind, message.slot))
        if cutoff is not None and appointment.starts_at - now < cutoff:
            return Refusal("too_late", "Too close to the appointment to be useful.")
        if record.status == ServiceUserRecord.Status.CLOSED:
            return Refusal("record_closed", "The person's record is closed.")
        if record.in_custody:
            return Refusal("in_custody", "The person is marked as in custody or on remand.")
        if (record.user_id, record.service_id) not in facts.consents:
            return Refusal("no_consent", "No consent to text reminders.")
    if not number:
        return Refusal("invalid_number", "No valid UK mobile number.")
    if number in facts.opted_out:
        return Refusal("opted_out", "This number asked us to stop texting it.")
    if message.kind == OutboundMessage.Kind.REMINDER and number in facts.shared:
        return Refusal("shared_number", "Another person the service supports has this number.")
    return None


def _number_for(message: OutboundMessage) -> str:
    if message.kind == OutboundMessage.Kind.REMINDER:
        mobile = message.service_user.mobile
        return mobile.as_e164 if mobile and is_uk_mobile(mobile) else ""
    # Replies go back to the number that wrote to us, if it is a UK mobile.
    number = to_python(message.to, region="GB")
    return number.as_e164 if isinstance(number, PhoneNumber) and is_uk_mobile(number) else ""


def _render(message: OutboundMessage, templates: dict) -> tuple[str, str]:
    """The text of a row, and the confirm link in it ("" if none)."""
    if message.kind == OutboundMessage.Kind.MANUAL:
        return message.body, ""
    record = message.service_user
    easy_read = bool(record and "easy_read" in (record.accessibility_needs or []))
    purpose = (
        wording.REMINDER if message.kind == OutboundMessage.Kind.REMINDER else message.purpose
    )
    body = templates.get((purpose, easy_read)) or wording.DEFAULTS[(purpose, easy_read)]
    link = ""
    if message.appointment is not None:
        link = appointment_link(message.appointment) if purpose == wording.REMINDER else ""
        values = wording.appointment_values(message.appointment, link=link)
    else:
        phone = record.service.phone if record else settings.SMS_FALLBACK_HELP_PHONE
        values = {"service_phone": wording.phone_text(phone)}
    try:
        return template_render(body, values), link
    except TemplateError:
        # A saved template the linter let through but that cannot be filled in here: the
        # default wording, which the tests render for every purpose, goes instead.
        logger.error(
            "sms %s: template %s cannot be rendered; using the default", message.pk, purpose
        )
        return template_render(wording.DEFAULTS[(purpose, easy_read)], values), link


def _rate_limit() -> None:
    """At most ``SMS_MAX_PER_SECOND`` calls to the provider in any clock second, counted in
    the shared cache: Redis counts across every worker. The embedded default's cache is each
    process's own, so there each worker keeps to its share of the limit."""
    limit = settings.SMS_MAX_PER_SECOND
    if not limit:
        return
    if isinstance(cache, LocMemCache):
        limit = max(1, limit // max(1, settings.Q_CLUSTER.get("workers", 1)))
    while True:
        second = int(time.time())
        key = f"sms-rate:{second}"
        cache.add(key, 0, timeout=5)
        try:
            used = cache.incr(key)
        except ValueError:  # expired between add and incr
            continue
        if used <= limit:
            return
        time.sleep(max(0.0, second + 1 - time.time()))


def _backoff(attempts: int) -> timedelta:
    seconds = settings.SMS_RETRY_BASE_SECONDS * 2 ** max(0, attempts - 1)
    return timedelta(seconds=min(seconds, settings.SMS_RETRY_MAX_SECONDS))


def _status_callback_url() -> str | None:
    if settings.SMS_BACKEND != "twilio":
        return None
    return f"{settings.PUBLIC_BASE_URL}/notifications/twilio/status/"


def _record_sent(message: OutboundMessage, token: uuid.UUID | None, result: sms.SMSResult) -> bool:
    """Record a send the provider accepted (or the sweep found), only while the claim holds."""
    values = {
        "status": Status.SENT,
        "provider": result.provider,
        "provider_sid": result.provider_id,
        "delivery_status": result.status or "",
        "sent_at": timezone.now(),
        "reason": "",
        "reason_code": "",
    }
    rows = OutboundMessage.objects.filter(pk=message.pk)
    rows = rows.filter(claim_token=token) if token else rows.filter(status=Status.SENDING)
    recorded = bool(rows.update(**values, updated_at=timezone.now()))
    if recorded:
        _apply_early_reports([result.provider_id])
    logger.info("sms %s sent via %s: %s", message.pk, result.provider, result.provider_id)
    return recorded


def _apply_early_reports(provider_ids: list[str]) -> None:
    """Delivery reports that arrived before we had stored the message's id count now."""
    if not provider_ids:
        return
    for report in DeliveryReport.objects.filter(provider_sid__in=provider_ids):
        delivery_status_record(
            provider_sid=report.provider_sid,
            provider_status=report.status,
            error_code=report.error_code,
            keep=False,
        )


def _retry_or_fail(message: OutboundMessage, token: uuid.UUID, error: sms.SMSError) -> str:
    attempts = message.attempts  # read after the claim counted this attempt
    if attempts >= settings.SMS_MAX_ATTEMPTS:
        _fail(message, token, error, now=timezone.now())
        return "failed"
    _finish(
        message,
        token,
        status=Status.SCHEDULED,
        send_at=timezone.now() + _backoff(attempts),
        claim_token=None,
        reason="The provider was busy or unreachable; trying again.",
        reason_code=f"retry_{error.code or error.http_status or 'network'}"[:30],
    )
    logger.info("sms %s will retry (attempt %s, %s)", message.pk, attempts, error.code)
    return "retry"


PERMANENT_REASONS = {
    "21610": "The number has replied STOP to the provider.",
    "21211": "The number is not a valid phone number.",
    "21612": "The provider cannot reach this number.",
    "21614": "The number is not a mobile number.",
}


def _fail(message: OutboundMessage, token: uuid.UUID, error: sms.SMSError, *, now) -> None:
    reason = PERMANENT_REASONS.get(error.code, "The provider refused the message.")
    if isinstance(error, sms.SMSTemporaryError):
        reason = "The provider kept failing; gave up after several tries."
    _finish(
        message,
        token,
        status=Status.FAILED,
        reason=reason,
        reason_code=f"error_{error.code or error.http_status or 'network'}"[:30],
        error_code=(error.code or "")[:10],
    )
    if error.code == "21610" and message.to:
        opt_out(number=message.to, source="provider")
    message_alert(message_id=message.pk, why=reason)


# --- Reconciling and the sweep ----------------------------------------------------------------


def message_reconcile(*, message_id: int, now: datetime | None = None) -> str:
    """A ``sending`` row whose sender is gone: ask the provider whether the text went out.
    Found: record it as sent. Not found: back to ``scheduled`` (it will be checked again
    before it goes). The provider cannot answer: leave it for the next sweep."""
    now = now or timezone.now()
    message = OutboundMessage.objects.filter(pk=message_id, status=Status.SENDING).first()
    if message is None:
        return "gone"
    token = message.claim_token
    if not message.body:
        # The text was never stored, so the provider was never called.
        _requeue(message, token, now)
        return "requeued"
    # The sender starts no call later than ``_calls_start_within`` after its claim, and a call
    # lasts at most the client's timeout, so the text went out in this window if at all. Another row's text can be the same (each
    # reminder of an appointment reads alike): messages already recorded are passed over.
    since = message.claimed_at - timedelta(seconds=5)
    until = message.claimed_at + timedelta(
        seconds=_calls_start_within() + settings.TWILIO_HTTP_TIMEOUT_SECONDS + 5
    )
    recorded = OutboundMessage.objects.filter(
        to=message.to, sent_at__isnull=False, sent_at__gte=since
    ).values_list("provider_sid", flat=True)
    try:
        found = sms.get_sms_client().find_sent(
            to=message.to, body=message.body, since=since, until=until, exclude=set(recorded)
        )
    except sms.SMSError:
        logger.warning("sms %s: the provider could not be asked; will try again", message.pk)
        return "unknown"
    if found is not None:
        _record_sent(message, token, found)
        return "found"
    _requeue(message, token, now)
    return "requeued"


def _requeue(message: OutboundMessage, token, now: datetime) -> None:
    if message.attempts >= settings.SMS_MAX_ATTEMPTS:
        error = sms.SMSTemporaryError("gave up")
        _fail(message, token, error, now=now)
        return
    OutboundMessage.objects.filter(pk=message.pk, claim_token=token).update(
        status=Status.SCHEDULED, send_at=now, claim_token=None, updated_at=now
    )


def messages_sweep(*, now: datetime | None = None) -> dict[str, int]:
    """Every minute: reconcile stale ``sending`` rows, re-queue ``queued`` rows whose task was
    lost, and alert staff about rows stuck for longer than ``SMS_STUCK_ALERT_MINUTES``."""
    now = now or timezone.now()
    counts = {"reconciled": 0, "requeued": 0, "alerted": 0}
    stale_claim = now - timedelta(seconds=settings.SMS_CLAIM_STALE_SECONDS)
    for message_id in OutboundMessage.objects.filter(
        status=Status.SENDING, claimed_at__lt=stale_claim
    ).values_list("pk", flat=True)[:1000]:
        if message_reconcile(message_id=message_id, now=now) != "unknown":
            counts["reconciled"] += 1
    stale_queue = now - timedelta(seconds=settings.SMS_QUEUED_STALE_SECONDS)
    lost = list(
        OutboundMessage.objects.filter(
            status=Status.QUEUED, queued_at__lt=stale_queue
        ).values_list("pk", flat=True)[:5000]
    )
    if lost:
        with transaction.atomic():
            OutboundMessage.objects.filter(pk__in=lost, status=Status.QUEUED).update(queued_at=now)
            batch = settings.SMS_DISPATCH_BATCH
            for start in range(0, len(lost), batch):
                enqueue_on_commit(SEND_TASK, *lost[start : start + batch], group="sms")
        counts["requeued"] = len(lost)
    stuck_since = now - timedelta(minutes=settings.SMS_STUCK_ALERT_MINUTES)
    for message in OutboundMessage.objects.filter(
        status__in=[Status.SENDING, Status.QUEUED],
        alerted_at__isnull=True,
        send_at__lt=stuck_since,
    ).only("pk")[:100]:
        message_alert(
            message_id=message.pk,
            why="It has been waiting to send for a long time; the portal keeps trying.",
        )
        counts["alerted"] += 1
    return counts


def message_alert(*, message_id: int, why: str) -> Alert | None:
    """Tell the service's staff that a text could not be sent (once per message)."""
    now = timezone.now()
    if not OutboundMessage.objects.filter(pk=message_id, alerted_at__isnull=True).update(
        alerted_at=now
    ):
        return None
    message = OutboundMessage.objects.select_related("service_user", "appointment").get(
        pk=message_id
    )
    if message.service_id is None:
        logger.warning("sms %s failed and has no service to alert", message.pk)
        return None
    who = message.service_user.preferred_name if message.service_user else "someone"
    what = "A reminder" if message.kind == OutboundMessage.Kind.REMINDER else "A text"
    return peer_services.alert_raise(
        service_id=message.service_id,
        kind=Alert.Kind.SMS_FAILED,
        message=f"{what} to {who} was not sent. {why}",
        service_user=message.service_user,
        appointment=message.appointment,
    )


# --- Delivery reports -------------------------------------------------------------------------

DELIVERY_RANK = {"": 0, "queued": 1, "sent": 2, "delivered": 3, "undelivered": 3, "failed": 3}


def delivery_status_record(
    *, provider_sid: str, provider_status: str, error_code: str = "", keep: bool = True
) -> bool:
    """Record a delivery callback. Monotonic: a state only replaces an earlier one ("sent"
    never overwrites "delivered"), so replays and callbacks out of order change nothing.
    Returns True when the message's state changed."""
    state = sms.delivery_state(provider_status)
    if state is None or not provider_sid:
        return False
    error_code = (error_code or "")[:10]
    if keep:
        try:
            with transaction.atomic():
                DeliveryReport.objects.create(
                    provider_sid=provider_sid[:64], status=state, error_code=error_code
                )
        except IntegrityError:
            return False  # this exact report was recorded before: a replay
    earlier = [name for name, rank in DELIVERY_RANK.items() if rank < DELIVERY_RANK[state]]
    changed = OutboundMessage.objects.filter(
        provider_sid=provider_sid, delivery_status__in=earlier
    ).update(delivery_status=state, error_code=error_code, delivery_updated_at=timezone.now())
    if changed and state in ("undelivered", "failed"):
        message = OutboundMessage.objects.filter(provider_sid=provider_sid).first()
        if error_code == "21610" and message.to:
            opt_out(number=message.to, source="provider")
        enqueue_on_commit("notifications.tasks.message_undelivered", message.pk)
    return bool(changed)


# --- Opt-outs ---------------------------------------------------------------------------------


def opt_out(*, number: str, source: str) -> OptOut:
    """Stop every text to ``number`` at once (checked before each send)."""
    now = timezone.now()
    with transaction.atomic():
        entry, created = OptOut.objects.select_for_update().get_or_create(
            number=number, defaults={"opted_out_at": now, "source": source}
        )
        if not created and not entry.active:
            entry.active = True
            entry.opted_out_at = now
            entry.source = source
            entry.save(update_fields=["active", "opted_out_at", "source"])
    return entry


def opt_in(*, number: str) -> bool:
    return bool(
        OptOut.objects.filter(number=number, active=True).update(
            active=False, opted_in_at=timezone.now()
        )
    )


# --- Replies ----------------------------------------------------------------------------------


def inbound_record(*, message_sid: str, from_number: str, body: str) -> InboundMessage | None:
    """Store a text someone sent us, once per ``message_sid``, and queue its handling.
    Returns None for a replay."""
    try:
        with transaction.atomic():
            inbound = InboundMessage.objects.create(
                message_sid=message_sid[:64], from_number=from_number[:20], body=body[:1600]
            )
            enqueue_on_commit("notifications.tasks.inbound_handle", inbound.pk)
    except IntegrityError:
        return None
    return inbound


def _reply(inbound: InboundMessage, purpose: str, appointment: Appointment | None) -> None:
    record = inbound.service_user
    reply = OutboundMessage(
        kind=OutboundMessage.Kind.REPLY,
        service_id=record.service_id if record else None,
        service_user=record,
        appointment=appointment,
        inbound=inbound,
        purpose=purpose,
        send_at=timezone.now(),
        to=inbound.from_number,
    )
    reply.save()
    enqueue_on_commit(SEND_TASK, reply.pk, group="sms")


def _next_appointment(
    record: ServiceUserRecord | None, *, unconfirmed: bool
) -> Appointment | None:
    if record is None:
        return None
    upcoming = Appointment.objects.filter(
        service_user=record,
        status=Appointment.Status.SCHEDULED,
        outcome="",
        starts_at__gt=timezone.now(),
    ).order_by("starts_at", "pk")
    if unconfirmed:
        upcoming = upcoming.filter(confirmed_at__isnull=True)
    return upcoming.first()


def inbound_handle(*, inbound_id: int) -> str:
    """Act on a reply: confirm, ask to change, stop, start, help, or leave it for a person."""
    if not InboundMessage.objects.filter(
        pk=inbound_id, status=InboundMessage.Status.RECEIVED
    ).update(status=InboundMessage.Status.HANDLING):
        return "already_handled"
    with transaction.atomic():
        inbound = InboundMessage.objects.select_for_update().get(pk=inbound_id)
        record = sender_record(number=inbound.from_number)
        inbound.service_user = record
        inbound.service_id = record.service_id if record else None
        intent = replies.reply_intent(inbound.body)
        inbound.intent = str(intent)
        status, outcome = _act(inbound, intent, record)
        inbound.status = status
        inbound.outcome = outcome[:200]
        inbound.save()
    logger.info("sms reply %s handled: %s", inbound.pk, inbound.intent)
    return str(intent)


def _act(inbound: InboundMessage, intent: replies.Intent, record) -> tuple[str, str]:
    handled, needs_answer = InboundMessage.Status.HANDLED, InboundMessage.Status.NEEDS_ANSWER
    if intent == replies.Intent.STOP:
        opt_out(number=inbound.from_number, source="reply")
        return handled, "Stopped all texts to this number."
    if intent == replies.Intent.START:
        opt_in(number=inbound.from_number)
        return handled, "Texts to this number started again."
    if intent == replies.Intent.HELP:
        _reply(inbound, wording.HELP, None)
        return handled, "Sent the help text."
    if record is None:
        return needs_answer, "The number is not one the portal knows."
    if intent == replies.Intent.CONFIRM:
        appointment = _next_appointment(record, unconfirmed=True)
        inbound.appointment = appointment
        if appointment and peer_services.appointment_confirm(appointment=appointment, via="sms"):
            _reply(inbound, wording.CONFIRMED, appointment)
            return handled, "Confirmed the next appointment."
        _reply(inbound, wording.NOTHING_TO_CONFIRM, None)
        return needs_answer, "There was no appointment to confirm."
    if intent == replies.Intent.CHANGE:
        appointment = _next_appointment(record, unconfirmed=False)
        inbound.appointment = appointment
        if appointment and peer_services.appointment_change_request(
            appointment=appointment, via="sms"
        ):
            _reply(inbound, wording.CHANGE, appointment)
            return handled, "Asked to change the next appointment; staff were alerted."
        return needs_answer, "Asked to change, but there is no appointment coming up."
    return needs_answer, ""


@transaction.atomic
def inbound_answer(*, inbound: InboundMessage, body: str, answered_by: User) -> OutboundMessage:
    """A person answers a reply by text. The same rules as templates: nothing sensitive, one
    text message."""
    if not inbound_visible_to(user=answered_by).filter(pk=inbound.pk).exists():
        raise PermissionDenied("Not one of your messages.")
    body = body.strip()
    problems = []
    if not body:
        problems.append("Enter your reply.")
    found = sensitive_words_in(body)
    if found:
        problems.append(
            "Texts must not name anything that tells others about health or the justice "
            f"system. Remove: {', '.join(found)}."
        )
    measured = gsm.measure(body)
    if body and measured.segments > 1:
        problems.append(
            f"Your reply is {measured.length} characters. A single text message can be "
            f"{measured.limit_single} characters."
        )
    if problems:
        raise ValidationError(problems)
    inbound = InboundMessage.objects.select_for_update().get(pk=inbound.pk)
    reply = OutboundMessage(
        kind=OutboundMessage.Kind.MANUAL,
        service_id=inbound.service_id,
        service_user_id=inbound.service_user_id,
        inbound=inbound,
        send_at=timezone.now(),
        to=inbound.from_number,
        body=body,
        written_by=answered_by,
    )
    reply.full_clean()
    reply.save()
    inbound.status = InboundMessage.Status.ANSWERED
    inbound.answered_by = answered_by
    inbound.answered_at = timezone.now()
    inbound.save(update_fields=["status", "answered_by", "answered_at"])
    audit_record(
        actor=answered_by,
        action=AuditEvent.Action.CREATE,
        obj=reply,
        subject=inbound.service_user.user if inbound.service_user else None,
        service=inbound.service_id,
        detail="fields=body",
    )
    enqueue_on_commit(SEND_TASK, reply.pk, group="sms")
    return reply


# --- Confirm links ----------------------------------------------------------------------------


def appointment_answer_by_link(*, appointment: Appointment, going: bool) -> bool:
    """The person used the signed link: "I'll be there" or "I need to change it"."""
    if going:
        return peer_services.appointment_confirm(appointment=appointment, via="link")
    return peer_services.appointment_change_request(appointment=appointment, via="link")


# --- Templates --------------------------------------------------------------------------------


def can_edit_templates(user: User) -> bool:
    return bool(user.is_superuser or permissions.is_administrator(user))


@transaction.atomic
def template_save(*, purpose: str, easy_read: bool, body: str, saved_by: User) -> MessageTemplate:
    if not can_edit_templates(saved_by):
        raise PermissionDenied("Only administrators change message wording.")
    if (purpose, easy_read) not in wording.DEFAULTS:
        raise ValidationError("There is no such message.", code="unknown_template")
    problems = template_lint(body, require=wording.REQUIRED.get(purpose, ()))
    not_here = sorted(set(placeholders_in(body)) - set(wording.ALLOWED[purpose]))
    if not problems and not_here:
        problems.append(
            "This message is not about one appointment, so it cannot use "
            + ", ".join("{" + name + "}" for name in not_here)
            + "."
        )
    if problems:
        raise ValidationError(problems)
    template, _ = MessageTemplate.objects.select_for_update().get_or_create(
        purpose=purpose, easy_read=easy_read, defaults={"body": body, "updated_by": saved_by}
    )
    template.body = body
    template.updated_by = saved_by
    template.full_clean()
    template.save()
    audit_record(
        actor=saved_by, action=AuditEvent.Action.CHANGE, obj=template, detail="fields=body"
    )
    return template
