"""The reminder pipeline end to end on the in-memory provider: planning from the peer support
signal, sending at the right time, every refusal recorded, replies acting on appointments."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.utils import timezone

from notifications import services
from notifications.models import InboundMessage, OptOut, OutboundMessage
from notifications.sms import MemorySMSClient
from peer_support import services as peer_services
from peer_support.models import Alert, Appointment, ServiceUserRecord
from portal.models import Consent
from portal.roles import Role
from portal.services import consent_withdraw
from tests.factories import ServiceUserRecordFactory
from tests.portal.conftest import make_member

from .world import appointment, committed, local, person, supporter_of

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("empty_outbox")]

Status = OutboundMessage.Status


def send_due(at: dt.datetime) -> None:
    with time_machine.travel(at, tick=False), committed():
        services.messages_dispatch_due()


def rows(appt: Appointment) -> dict[str, OutboundMessage]:
    return {row.slot: row for row in appt.reminders.filter(status__in=OutboundMessage.PENDING)}


def test_an_appointment_gets_three_reminders_at_uk_clock_times(service):
    record = person(service)
    with time_machine.travel(local(2026, 3, 20, 9), tick=False):
        appt = appointment(
            record, starts_at=local(2026, 3, 30, 10)
        )  # the Monday after the clocks go forward
        services.reminders_sync(appointment_id=appt.pk)
    planned = {
        slot: row.send_at.astimezone(appt.starts_at.tzinfo) for slot, row in rows(appt).items()
    }
    assert planned == {
        "3d": local(2026, 3, 27, 10),
        "1d": local(2026, 3, 29, 10),  # the change day: same clock time
        "2h": local(2026, 3, 30, 8),
    }


def test_planning_twice_changes_nothing(service):
    record = person(service)
    appt = appointment(record)
    services.reminders_sync(appointment_id=appt.pk)
    first = sorted(appt.reminders.values_list("pk", "send_at", "status"))
    services.reminders_sync(appointment_id=appt.pk)
    assert sorted(appt.reminders.values_list("pk", "send_at", "status")) == first


def test_the_peer_support_signal_plans_moves_and_withdraws_reminders(
    service, django_capture_on_commit_callbacks
):
    record = person(service)
    worker = make_member(Role.PEER_SUPPORT_WORKER, service)
    with django_capture_on_commit_callbacks(execute=True):
        appt = peer_services.appointment_create(
            service_user=record,
            kind=Appointment.Kind.GP,
            place_label="Riverside Centre",
            address="1 Example Street",
            starts_at=timezone.now() + dt.timedelta(days=6),
            arranged_by=worker,
        )
    assert set(rows(appt)) == {"3d", "1d", "2h"}
    old = set(appt.reminders.values_list("pk", flat=True))

    with django_capture_on_commit_callbacks(execute=True):
        peer_services.appointment_reschedule(
            appointment=appt, starts_at=appt.starts_at + dt.timedelta(days=2), changed_by=worker
        )
    appt.refresh_from_db()
    assert set(rows(appt)) == {"3d", "1d", "2h"}
    assert all(row.appointment_starts_at == appt.starts_at for row in rows(appt).values())
    assert set(OutboundMessage.objects.filter(pk__in=old).values_list("status", flat=True)) == {
        Status.WITHDRAWN
    }

    with django_capture_on_commit_callbacks(execute=True):
        peer_services.appointment_cancel(appointment=appt, cancelled_by=worker)
    assert rows(appt) == {}
    assert appt.reminders.filter(status=Status.WITHDRAWN).count() == 6


def test_moving_away_and_back_revives_the_same_rows(service):
    record = person(service)
    appt = appointment(record)
    original = appt.starts_at
    services.reminders_sync(appointment_id=appt.pk)
    first = {slot: row.pk for slot, row in rows(appt).items()}
    Appointment.objects.filter(pk=appt.pk).update(starts_at=original + dt.timedelta(days=1))
    services.reminders_sync(appointment_id=appt.pk)
    Appointment.objects.filter(pk=appt.pk).update(starts_at=original)
    services.reminders_sync(appointment_id=appt.pk)
    assert {slot: row.pk for slot, row in rows(appt).items()} == first
    assert appt.reminders.count() == 6


def test_a_due_reminder_is_sent_once_with_nothing_sensitive(service):
    record = person(service, mobile="+447700900301")
    appt = appointment(record, starts_at=timezone.now() + dt.timedelta(days=5))
    services.reminders_sync(appointment_id=appt.pk)
    due = rows(appt)["3d"]
    send_due(due.send_at + dt.timedelta(seconds=1))
    send_due(due.send_at + dt.timedelta(seconds=2))
    assert len(MemorySMSClient.outbox) == 1
    sent = MemorySMSClient.outbox[0]
    assert sent.to == "+447700900301"
    assert "Riverside Centre" in sent.body
    assert "/a/" in sent.body
    for word in ("GP", "Example Street", "Sam", "Liaison", "Testshire"):
        assert word not in sent.body
    due.refresh_from_db()
    assert (due.status, due.body, due.to, due.attempts) == (Status.SENT, sent.body, sent.to, 1)
    assert due.provider_sid.startswith("memory-")


def test_the_easy_read_variant_goes_to_people_who_asked_for_easy_read(service):
    record = person(service, accessibility_needs=["easy_read"])
    appt = appointment(record)
    services.reminders_sync(appointment_id=appt.pk)
    due = rows(appt)["3d"]
    send_due(due.send_at)
    assert MemorySMSClient.outbox[0].body.startswith("Your appointment:")


def _withdraw_consent(record):
    consent = Consent.objects.get(subject=record.user, purpose="sms_reminders")
    consent_withdraw(
        consent=consent,
        method="verbal_phone",
        recorded_by=make_member(Role.COORDINATOR, record.service),
    )


REFUSALS = {
    "no_consent": lambda record, appt: _withdraw_consent(record),
    "opted_out": lambda record, appt: services.opt_out(
        number=record.mobile.as_e164, source="reply"
    ),
    "invalid_number": lambda record, appt: ServiceUserRecord.objects.filter(pk=record.pk).update(
        mobile=""
    ),
    "shared_number": lambda record, appt: ServiceUserRecordFactory(
        service=record.service, mobile=record.mobile.as_e164
    ),
    "cancelled": lambda record, appt: Appointment.objects.filter(pk=appt.pk).update(
        status=Appointment.Status.CANCELLED
    ),
    "outcome": lambda record, appt: Appointment.objects.filter(pk=appt.pk).update(
        outcome=Appointment.Outcome.REARRANGED
    ),
    "moved": lambda record, appt: Appointment.objects.filter(pk=appt.pk).update(
        starts_at=appt.starts_at + dt.timedelta(hours=1)
    ),
    "in_custody": lambda record, appt: ServiceUserRecord.objects.filter(pk=record.pk).update(
        in_custody=True
    ),
    "record_closed": lambda record, appt: ServiceUserRecord.objects.filter(pk=record.pk).update(
        status=ServiceUserRecord.Status.CLOSED
    ),
}


@pytest.mark.parametrize("code", sorted(REFUSALS))
def test_each_reason_not_to_send_is_checked_at_send_time_and_recorded(service, code):
    record = person(service)
    appt = appointment(record)
    services.reminders_sync(appointment_id=appt.pk)
    due = rows(appt)["3d"]
    REFUSALS[code](record, appt)
    send_due(due.send_at)
    due.refresh_from_db()
    assert MemorySMSClient.outbox == []
    assert (due.status, due.reason_code) == (Status.NOT_SENT, code)
    assert due.reason and due.body == ""


def test_a_reminder_whose_appointment_has_passed_is_not_sent(service):
    record = person(service)
    appt = appointment(record)
    services.reminders_sync(appointment_id=appt.pk)
    due = rows(appt)["3d"]
    send_due(appt.starts_at + dt.timedelta(minutes=1))
    due.refresh_from_db()
    assert (due.status, due.reason_code) == (Status.NOT_SENT, "past")
    assert MemorySMSClient.outbox == []


def test_a_reminder_delayed_past_its_cutoff_is_not_sent(service):
    record = person(service)
    appt = appointment(record)
    services.reminders_sync(appointment_id=appt.pk)
    due = rows(appt)["3d"]  # cutoff 36 hours before
    send_due(appt.starts_at - dt.timedelta(hours=30))
    due.refresh_from_db()
    assert (due.status, due.reason_code) == (Status.NOT_SENT, "too_late")


def inbound(number: str, body: str, sid: str) -> InboundMessage:
    with committed():
        message = services.inbound_record(message_sid=sid, from_number=number, body=body)
    return InboundMessage.objects.get(pk=message.pk)


def test_stop_prevents_every_later_reminder_and_start_allows_them_again(service):
    record = person(service)
    number = record.mobile.as_e164
    first, second = (
        appointment(record),
        appointment(record, starts_at=timezone.now() + dt.timedelta(days=9)),
    )
    for appt in (first, second):
        services.reminders_sync(appointment_id=appt.pk)
    message = inbound(number, " stop ", "SM" + "1" * 32)
    assert (message.intent, message.status) == ("stop", InboundMessage.Status.HANDLED)
    assert OptOut.objects.get(number=number).active
    latest = max(row.send_at for appt in (first, second) for row in rows(appt).values())
    for row in sorted(
        OutboundMessage.objects.filter(kind="reminder"), key=lambda row: row.send_at
    ):
        send_due(row.send_at)
    send_due(latest)
    assert MemorySMSClient.outbox == []
    assert set(
        OutboundMessage.objects.filter(kind="reminder").values_list("reason_code", flat=True)
    ) == {"opted_out"}

    inbound(number, "START", "SM" + "2" * 32)
    assert not OptOut.objects.get(number=number).active


def test_yes_confirms_the_next_unconfirmed_appointment_and_replies(service):
    record = person(service)
    soon, later = (
        appointment(record, starts_at=timezone.now() + dt.timedelta(days=2)),
        appointment(record, starts_at=timezone.now() + dt.timedelta(days=4)),
    )
    message = inbound(record.mobile.as_e164, "Yes!", "SM" + "3" * 32)
    soon.refresh_from_db()
    later.refresh_from_db()
    assert soon.reply_state == "confirmed" and later.reply_state == ""
    assert (message.intent, message.appointment_id) == ("confirm", soon.pk)
    assert len(MemorySMSClient.outbox) == 1
    assert MemorySMSClient.outbox[0].to == record.mobile.as_e164
    assert MemorySMSClient.outbox[0].body.startswith("Thank you. See you on")
    inbound(record.mobile.as_e164, "y", "SM" + "4" * 32)
    later.refresh_from_db()
    assert later.reply_state == "confirmed"


def test_change_asks_to_rearrange_alerts_staff_and_texts_the_supporter(service):
    record = person(service)
    supporter = supporter_of(record, mobile="+447700900555")
    appt = appointment(record)
    message = inbound(record.mobile.as_e164, "CHANGE", "SM" + "5" * 32)
    appt.refresh_from_db()
    assert appt.reply_state == "change"
    alert = Alert.objects.get(kind=Alert.Kind.CHANGE_REQUESTED)
    assert (alert.appointment_id, alert.supporter_id, alert.service_id) == (
        appt.pk,
        supporter.pk,
        service.pk,
    )
    assert message.status == InboundMessage.Status.HANDLED
    to_numbers = [sent.to for sent in MemorySMSClient.outbox]
    assert sorted(to_numbers) == sorted([record.mobile.as_e164, "+447700900555"])
    supporter_text = next(s for s in MemorySMSClient.outbox if s.to == "+447700900555")
    assert record.preferred_name not in supporter_text.body


def test_help_replies_with_the_services_phone_number(service):
    record = person(service)
    inbound(record.mobile.as_e164, "help", "SM" + "6" * 32)
    assert len(MemorySMSClient.outbox) == 1
    assert service.phone.as_national in MemorySMSClient.outbox[0].body


def test_anything_else_waits_in_the_inbox_for_a_person(service):
    record = person(service)
    message = inbound(record.mobile.as_e164, "Can I bring my dog?", "SM" + "7" * 32)
    assert (message.intent, message.status) == ("other", InboundMessage.Status.NEEDS_ANSWER)
    assert message.service_user_id == record.pk
    assert MemorySMSClient.outbox == []


def test_a_replayed_inbound_message_is_stored_and_handled_once(service):
    record = person(service)
    appointment(record)
    with committed():
        first = services.inbound_record(
            message_sid="SM" + "8" * 32, from_number=record.mobile.as_e164, body="yes"
        )
        again = services.inbound_record(
            message_sid="SM" + "8" * 32, from_number=record.mobile.as_e164, body="yes"
        )
    assert first is not None and again is None
    assert InboundMessage.objects.count() == 1
    assert services.inbound_handle(inbound_id=first.pk) == "already_handled"
    assert len(MemorySMSClient.outbox) == 1


@pytest.mark.parametrize(
    "reports, final",
    [
        (["queued", "sent", "delivered"], "delivered"),
        (["delivered", "sent", "queued"], "delivered"),
        (["sent", "undelivered", "sent", "delivered"], "undelivered"),
        (["delivered", "failed"], "delivered"),
        (["sending", "accepted"], "queued"),
    ],
)
def test_delivery_reports_are_monotonic_and_replays_change_nothing(service, reports, final):
    record = person(service)
    appt = appointment(record)
    services.reminders_sync(appointment_id=appt.pk)
    due = rows(appt)["3d"]
    send_due(due.send_at)
    due.refresh_from_db()
    OutboundMessage.objects.filter(pk=due.pk).update(delivery_status="")
    for _ in range(5):
        for report in reports:
            services.delivery_status_record(provider_sid=due.provider_sid, provider_status=report)
    due.refresh_from_db()
    assert due.delivery_status == final


def test_a_delivery_report_before_the_send_was_recorded_still_counts(service):
    record = person(service)
    appt = appointment(record)
    services.reminders_sync(appointment_id=appt.pk)
    due = rows(appt)["3d"]
    services.delivery_status_record(provider_sid="SM" + "9" * 32, provider_status="delivered")
    due.status = Status.SENDING
    due.save()
    from notifications.sms import SMSResult

    services._record_sent(due, None, SMSResult("twilio", "SM" + "9" * 32, "queued"))
    due.refresh_from_db()
    assert (due.status, due.delivery_status) == (Status.SENT, "delivered")


def test_an_undelivered_reminder_alerts_the_service_once(service):
    record = person(service)
    appt = appointment(record)
    services.reminders_sync(appointment_id=appt.pk)
    due = rows(appt)["3d"]
    send_due(due.send_at)
    due.refresh_from_db()
    OutboundMessage.objects.filter(pk=due.pk).update(delivery_status="sent")
    for _ in range(3):
        with committed():
            services.delivery_status_record(
                provider_sid=due.provider_sid, provider_status="undelivered", error_code="30003"
            )
    assert Alert.objects.filter(kind=Alert.Kind.SMS_FAILED, appointment=appt).count() == 1


def test_planning_in_bulk_makes_the_same_rows_as_one_by_one_and_is_safe_to_repeat(service):
    record = person(service)
    starts = [timezone.now() + dt.timedelta(days=days, hours=3) for days in (1, 4, 9)]
    one_by_one = [appointment(record, starts_at=moment) for moment in starts]
    in_bulk = [appointment(record, starts_at=moment) for moment in starts]
    now = timezone.now()
    for appt in one_by_one:
        services.reminders_sync(appointment_id=appt.pk, now=now)
    assert services.reminders_plan_many(appointment_ids=[a.pk for a in in_bulk], now=now) > 0
    services.reminders_plan_many(appointment_ids=[a.pk for a in in_bulk], now=now)

    def shape(appt):
        # Every column but the row's own id, its appointment and when it was written.
        skip = {"id", "appointment", "created_at", "updated_at"}
        fields = [f.attname for f in OutboundMessage._meta.concrete_fields if f.name not in skip]
        return sorted(appt.reminders.values_list(*fields), key=repr)

    for single, bulk in zip(one_by_one, in_bulk, strict=True):
        assert shape(single) == shape(bulk)
        assert bulk.reminders.count() == 3
    row = in_bulk[2].reminders.get(slot="3d")
    assert (row.kind, row.service_id, row.service_user_id, row.attempts, row.body) == (
        "reminder",
        service.pk,
        record.pk,
        0,
        "",
    )


class SlowPhoneNetwork(MemorySMSClient):
    """The edge of the machine, slowed down: each send takes 0.4 s."""

    def send(self, **kwargs):
        import time

        time.sleep(0.4)
        return super().send(**kwargs)


def test_planning_in_bulk_where_some_are_planned_already_adds_only_the_rest(service):
    # PostgreSQL copies rows straight in; a row that exists makes it fall back to skipping
    # conflicts. Either way: every appointment ends with its three rows, none twice.
    record = person(service)
    now = timezone.now()
    appts = [appointment(record, starts_at=now + dt.timedelta(days=d, hours=3)) for d in (4, 5, 6)]
    services.reminders_sync(appointment_id=appts[1].pk, now=now)
    before = {row.pk: row.updated_at for row in appts[1].reminders.all()}

    assert services.reminders_plan_many(appointment_ids=[a.pk for a in appts], now=now) == 9

    assert [a.reminders.count() for a in appts] == [3, 3, 3]
    assert {row.pk: row.updated_at for row in appts[1].reminders.all()} == before


def test_a_slow_batch_puts_back_what_it_cannot_send_while_its_claim_is_fresh(service, settings):
    settings.SMS_CLAIM_STALE_SECONDS = 0  # leaves the one-second minimum to send in
    settings.TWILIO_HTTP_TIMEOUT_SECONDS = 1
    record = person(service)
    appts = [
        appointment(record, starts_at=timezone.now() + dt.timedelta(days=4, hours=h))
        for h in range(5)
    ]
    for appt in appts:
        services.reminders_sync(appointment_id=appt.pk)
    due = [rows(appt)["3d"] for appt in appts]
    ids = [row.pk for row in due]
    OutboundMessage.objects.filter(pk__in=ids).update(send_at=timezone.now())
    first = services.messages_send(message_ids=ids, client=SlowPhoneNetwork())
    assert first["sent"] < 5 and first["put_back"] == 5 - first["sent"]
    put_back = OutboundMessage.objects.filter(pk__in=ids, status=Status.SCHEDULED)
    assert put_back.count() == first["put_back"]
    assert set(put_back.values_list("attempts", flat=True)) == {0}  # not counted as tried
    while OutboundMessage.objects.filter(pk__in=ids, status=Status.SCHEDULED).exists():
        services.messages_send(message_ids=ids, client=SlowPhoneNetwork())
    assert sorted(m.body for m in MemorySMSClient.outbox) == sorted(
        OutboundMessage.objects.filter(pk__in=ids).values_list("body", flat=True)
    )
    assert len(MemorySMSClient.outbox) == 5


# Claim, read the rows, consents, opt-outs, shared numbers, templates, store the texts, write
# down the accepted sends (one UPDATE per RECORD_SENT_EVERY), delivery reports that came early.
SEND_QUERIES = {1: 9, 25: 11}


@pytest.mark.parametrize("count", sorted(SEND_QUERIES))
def test_a_batch_is_sent_in_a_fixed_number_of_queries(service, django_assert_num_queries, count):
    ids = []
    for _ in range(count):
        appt = appointment(person(service))
        services.reminders_sync(appointment_id=appt.pk)
        ids.append(rows(appt)["3d"].pk)
    OutboundMessage.objects.filter(pk__in=ids).update(
        send_at=timezone.now() - dt.timedelta(minutes=1)
    )

    with django_assert_num_queries(SEND_QUERIES[count]):
        counts = services.messages_send(message_ids=ids, client=MemorySMSClient())

    assert counts == {"sent": count}
    assert len(MemorySMSClient.outbox) == count
    sent = OutboundMessage.objects.filter(pk__in=ids, status=Status.SENT)
    assert sorted(sent.values_list("provider_sid", flat=True)) == sorted(
        m.provider_id for m in MemorySMSClient.outbox
    )
