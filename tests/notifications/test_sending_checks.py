"""Checks that hold while a batch is being sent (a STOP or a cancellation that arrives in the
middle of a batch counts before the next send), and reconciling a send whose outcome is
unknown when other rows carry the same text."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
import time_machine
from django.utils import timezone

from notifications import services, sms
from notifications.models import OutboundMessage
from peer_support.models import Appointment

from .world import appointment, person

pytestmark = pytest.mark.django_db

Status = OutboundMessage.Status


@pytest.fixture(autouse=True)
def no_rate_limit(settings, empty_outbox):
    settings.SMS_MAX_PER_SECOND = 0


class CallsBackOnFirstSend(sms.MemorySMSClient):
    """The in-memory provider, running ``meanwhile`` (something that happens elsewhere while
    the batch is being sent) right after it accepts the first text."""

    def __init__(self, meanwhile) -> None:
        self.meanwhile = meanwhile

    def send(self, **kwargs) -> sms.SMSResult:
        result = super().send(**kwargs)
        if len(self.outbox) == 1:
            self.meanwhile()
        return result


def due_batch(service, people: int = 3) -> list[OutboundMessage]:
    """One due "3 days before" reminder for each of ``people`` people."""
    rows = []
    for _ in range(people):
        appt = appointment(person(service))
        services.reminders_sync(appointment_id=appt.pk)
        rows.append(appt.reminders.get(slot="3d", status=Status.SCHEDULED))
    OutboundMessage.objects.filter(pk__in=[r.pk for r in rows]).update(
        send_at=timezone.now() - dt.timedelta(minutes=1)
    )
    return rows


def outcomes(rows: list[OutboundMessage]) -> list[tuple[str, str]]:
    by_id = OutboundMessage.objects.in_bulk([r.pk for r in rows])
    return [(by_id[r.pk].status, by_id[r.pk].reason_code) for r in rows]


def stop_texting(row: OutboundMessage):
    return lambda: services.opt_out(number=row.service_user.mobile.as_e164, source="sms")


def cancel(row: OutboundMessage):
    return lambda: Appointment.objects.filter(pk=row.appointment_id).update(
        status=Appointment.Status.CANCELLED
    )


def taken_by_the_sweep(row: OutboundMessage):
    return lambda: OutboundMessage.objects.filter(pk=row.pk).update(
        status=Status.SCHEDULED, claim_token=None
    )


@pytest.mark.parametrize(
    ("meanwhile", "expected"),
    [
        (stop_texting, (Status.NOT_SENT, "opted_out")),
        (cancel, (Status.NOT_SENT, "cancelled")),
        (taken_by_the_sweep, (Status.SCHEDULED, "")),
    ],
    ids=["stop", "cancelled", "claim_lost"],
)
def test_what_happens_during_a_batch_counts_before_the_next_send(
    service, settings, meanwhile, expected
):
    settings.SMS_RECHECK_SECONDS = 0  # check before every send
    first, second, third = due_batch(service)

    counts = services.messages_send(
        message_ids=[first.pk, second.pk, third.pk],
        client=CallsBackOnFirstSend(meanwhile(second)),
    )

    assert outcomes([first, second, third]) == [
        (Status.SENT, ""),
        expected,
        (Status.SENT, ""),
    ]
    assert [m.to for m in sms.MemorySMSClient.outbox] == [
        first.service_user.mobile.as_e164,
        third.service_user.mobile.as_e164,
    ]
    assert counts["sent"] == 2


def test_between_checks_a_batch_goes_on_as_it_was_checked(service, settings):
    # The other side of the test above: with a long interval, the STOP is seen by the next
    # batch, not this one. It shows the interval is what the test above exercises.
    settings.SMS_RECHECK_SECONDS = 3600
    first, second = due_batch(service, 2)

    services.messages_send(
        message_ids=[first.pk, second.pk], client=CallsBackOnFirstSend(stop_texting(second))
    )

    assert outcomes([first, second]) == [(Status.SENT, ""), (Status.SENT, "")]


def test_a_number_changed_during_a_batch_puts_the_row_back_for_a_new_text(service, settings):
    settings.SMS_RECHECK_SECONDS = 0
    first, second = due_batch(service, 2)
    record = second.service_user

    def new_number():
        record.mobile = "+447700900777"
        record.save(update_fields=["mobile"])

    counts = services.messages_send(
        message_ids=[first.pk, second.pk], client=CallsBackOnFirstSend(new_number)
    )

    assert counts == {"sent": 1, "put_back": 1}
    second.refresh_from_db()
    assert (second.status, second.claim_token, second.attempts) == (Status.SCHEDULED, None, 0)
    services.messages_send(message_ids=[second.pk], client=sms.MemorySMSClient())
    assert sms.MemorySMSClient.outbox[-1].to == "+447700900777"


# --- Reconciling among texts that read alike ----------------------------------------------------


def stuck_sending(row: OutboundMessage, *, body: str, claimed_at: dt.datetime) -> None:
    """``row`` as a sender that died after storing its text leaves it."""
    OutboundMessage.objects.filter(pk=row.pk).update(
        status=Status.SENDING,
        claim_token=uuid.uuid4(),
        claimed_at=claimed_at,
        attempts=1,
        to=row.service_user.mobile.as_e164,
        body=body,
    )


@pytest.mark.parametrize("went_out", [True, False], ids=["sent", "never_sent"])
def test_a_late_reconcile_never_takes_a_later_reminder_with_the_same_text(
    service, twilio_double, went_out
):
    record = person(service)
    appt = appointment(record, starts_at=timezone.now() + dt.timedelta(days=5))
    services.reminders_sync(appointment_id=appt.pk)
    early, later = (appt.reminders.get(slot=slot) for slot in ("3d", "1d"))
    client = sms.TwilioSMSClient()

    # The later reminder goes out and is recorded as usual.
    with time_machine.travel(later.send_at + dt.timedelta(seconds=1), tick=False):
        assert services.messages_send(message_ids=[later.pk], client=client) == {"sent": 1}
    later.refresh_from_db()
    # The early one's sender had died: its text (the same words) stored, its claim two days
    # old. Whether Twilio took it depends on how far that sender got.
    claimed_at = early.send_at + dt.timedelta(seconds=1)
    stuck_sending(early, body=later.body, claimed_at=claimed_at)
    if went_out:
        with time_machine.travel(claimed_at + dt.timedelta(seconds=1), tick=False):
            taken = client.send(to=later.to, body=later.body).provider_id

    with time_machine.travel(later.send_at + dt.timedelta(hours=1), tick=False):
        outcome = services.message_reconcile(message_id=early.pk)

    early.refresh_from_db()
    if went_out:
        assert (outcome, early.status, early.provider_sid) == ("found", Status.SENT, taken)
    else:
        assert (outcome, early.status, early.provider_sid) == ("requeued", Status.SCHEDULED, "")
    assert OutboundMessage.objects.get(pk=later.pk).provider_sid == later.provider_sid
