"""The every-minute sweep (services.messages_sweep) on the in-memory provider, with time moved
on by time-machine: a queued send whose task was lost is queued again and goes out; a text
still not sent SMS_STUCK_ALERT_MINUTES after it was due raises one alert for the service's
staff, once; and the retry backoff never grows past SMS_RETRY_MAX_SECONDS."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.conf import settings as django_settings
from django.test import Client

from notifications import services, tasks
from notifications.models import OutboundMessage
from notifications.sms import MemorySMSClient
from peer_support.models import Alert
from peer_support.selectors import alerts_visible_to
from portal.models import User
from portal.roles import Role
from tests.portal.conftest import make_member

from .world import appointment, committed, person

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("empty_outbox")]

Status = OutboundMessage.Status


def queued_with_its_task_lost(service) -> OutboundMessage:
    """A "3 days before" reminder the dispatcher queued when it was due, whose send task never
    ran (the queue lost it: the callbacks that would enqueue it are not run)."""
    appt = appointment(person(service))
    services.reminders_sync(appointment_id=appt.pk)
    row = appt.reminders.get(slot="3d", status=Status.SCHEDULED)
    with time_machine.travel(row.send_at, tick=False):
        assert services.messages_dispatch_due() == 1
    row.refresh_from_db()
    assert (row.status, row.queued_at) == (Status.QUEUED, row.send_at)
    return row


def sweep(at: dt.datetime, *, run_queued_tasks: bool = False) -> dict[str, int]:
    with time_machine.travel(at, tick=False):
        if not run_queued_tasks:
            return services.messages_sweep()
        with committed():
            return services.messages_sweep()


def sms_alerts() -> list[Alert]:
    return list(Alert.objects.filter(kind=Alert.Kind.SMS_FAILED))


def minutes(n: float) -> dt.timedelta:
    return dt.timedelta(minutes=n)


def test_the_stuck_alert_is_fifteen_minutes():
    # The tests below are written around the setting's value: say so if it changes.
    assert django_settings.SMS_STUCK_ALERT_MINUTES == 15


def test_a_row_queued_sixteen_minutes_after_it_was_due_raises_one_alert_for_its_staff(
    service, other_service
):
    row = queued_with_its_task_lost(service)
    coordinator = make_member(Role.COORDINATOR, service)
    outsider = make_member(Role.COORDINATOR, other_service)

    counts = sweep(row.send_at + minutes(16))

    assert counts["alerted"] == 1
    [alert] = sms_alerts()
    assert (alert.service_id, alert.service_user_id, alert.appointment_id) == (
        service.pk,
        row.service_user_id,
        row.appointment_id,
    )
    assert alert.message.startswith("A reminder to Sam was not sent.")
    assert list(alerts_visible_to(user=coordinator)) == [alert]
    assert list(alerts_visible_to(user=outsider)) == []
    client = Client()
    client.force_login(User.objects.get(pk=coordinator.pk))
    assert "A reminder to Sam was not sent." in client.get("/staff/alerts/").content.decode()
    row.refresh_from_db()
    assert row.alerted_at is not None
    assert row.status == Status.QUEUED, "the alert does not give up on the text"


def test_a_second_sweep_does_not_alert_again(service):
    row = queued_with_its_task_lost(service)
    assert sweep(row.send_at + minutes(16))["alerted"] == 1
    alerted_at = OutboundMessage.objects.get(pk=row.pk).alerted_at

    for later in (16.5, 17, 60, 24 * 60):
        assert sweep(row.send_at + minutes(later))["alerted"] == 0

    assert len(sms_alerts()) == 1
    assert OutboundMessage.objects.get(pk=row.pk).alerted_at == alerted_at


@pytest.mark.parametrize(("late", "alerts"), [(14, 0), (14.99, 0), (15.01, 1), (16, 1)])
def test_only_a_row_stuck_for_longer_than_the_setting_is_alerted(service, late, alerts):
    row = queued_with_its_task_lost(service)
    assert sweep(row.send_at + minutes(late))["alerted"] == alerts
    assert len(sms_alerts()) == alerts
    assert (OutboundMessage.objects.get(pk=row.pk).alerted_at is not None) == bool(alerts)


def test_a_row_being_sent_for_too_long_is_alerted_too(service):
    # Claimed late (a fresh claim, so the sweep does not reconcile it) and still sending.
    row = queued_with_its_task_lost(service)
    at = row.send_at + minutes(16)
    OutboundMessage.objects.filter(pk=row.pk).update(status=Status.SENDING, claimed_at=at)
    assert sweep(at)["alerted"] == 1
    assert len(sms_alerts()) == 1


def test_rows_already_sent_or_not_due_are_never_alerted(service):
    sent = queued_with_its_task_lost(service)
    OutboundMessage.objects.filter(pk=sent.pk).update(status=Status.SENT)
    scheduled = queued_with_its_task_lost(service)
    OutboundMessage.objects.filter(pk=scheduled.pk).update(status=Status.SCHEDULED)
    counts = sweep(max(sent.send_at, scheduled.send_at) + minutes(60))
    assert counts["alerted"] == 0
    assert sms_alerts() == []


def test_a_queued_row_whose_task_was_lost_is_queued_again_and_sent(service):
    row = queued_with_its_task_lost(service)
    stale = dt.timedelta(seconds=django_settings.SMS_QUEUED_STALE_SECONDS)

    # Not yet stale: left alone (its task may still be on its way).
    counts = sweep(row.send_at + stale - dt.timedelta(seconds=1), run_queued_tasks=True)
    assert counts["requeued"] == 0
    assert MemorySMSClient.outbox == []
    assert OutboundMessage.objects.get(pk=row.pk).status == Status.QUEUED

    counts = sweep(row.send_at + stale + dt.timedelta(seconds=1), run_queued_tasks=True)

    assert counts == {"reconciled": 0, "requeued": 1, "alerted": 0}
    row.refresh_from_db()
    assert (row.status, row.attempts) == (Status.SENT, 1)
    [sent] = MemorySMSClient.outbox
    assert (sent.to, sent.body) == (row.to, row.body)
    assert row.provider_sid == sent.provider_id

    # Sent: later sweeps find nothing to queue or alert, and nothing goes twice.
    counts = sweep(row.send_at + minutes(30), run_queued_tasks=True)
    assert counts == {"reconciled": 0, "requeued": 0, "alerted": 0}
    assert len(MemorySMSClient.outbox) == 1


def test_queueing_a_lost_task_again_restarts_its_clock(service):
    row = queued_with_its_task_lost(service)
    stale = dt.timedelta(seconds=django_settings.SMS_QUEUED_STALE_SECONDS)
    first = row.send_at + stale + dt.timedelta(seconds=1)
    assert sweep(first)["requeued"] == 1  # its task is lost again (callbacks not run)
    assert OutboundMessage.objects.get(pk=row.pk).queued_at == first
    assert sweep(first + dt.timedelta(seconds=1))["requeued"] == 0
    assert sweep(first + stale + dt.timedelta(seconds=1))["requeued"] == 1


# --- Retry backoff ----------------------------------------------------------------------------


def test_the_backoff_doubles_from_the_base(settings):
    settings.SMS_RETRY_BASE_SECONDS = 30
    settings.SMS_RETRY_MAX_SECONDS = 30 * 60
    waits = [services._backoff(attempt).total_seconds() for attempt in range(0, 8)]
    assert waits == [30, 30, 60, 120, 240, 480, 960, 1800]


@pytest.mark.parametrize("maximum", [1, 45, 30 * 60, 6 * 60 * 60])
def test_the_backoff_never_exceeds_the_maximum_however_many_attempts(settings, maximum):
    settings.SMS_RETRY_BASE_SECONDS = 30
    settings.SMS_RETRY_MAX_SECONDS = maximum
    cap = dt.timedelta(seconds=maximum)
    attempts = [*range(0, 200), 1_000, 65_535, 1_000_000]  # 65,535: the column's largest
    waits = [services._backoff(attempt) for attempt in attempts]
    assert max(waits) == cap
    assert all(wait <= cap for wait in waits)
    assert waits == sorted(waits), "never shorter after more attempts"
    assert services._backoff(1_000_000) == cap


# --- The reconcile window ---------------------------------------------------------------------


def test_a_text_created_within_the_senders_own_window_is_found_not_sent_twice(
    service, twilio_double, settings
):
    settings.SMS_MAX_PER_SECOND = 0
    settings.SMS_CLAIM_STALE_SECONDS = 0  # the sender still gets its 1-second minimum
    appt = appointment(person(service))
    services.reminders_sync(appointment_id=appt.pk)
    row = appt.reminders.get(slot="3d", status=Status.SCHEDULED)
    claimed = row.send_at.replace(microsecond=600_000)
    # The request reaches the provider half a second after the claim (within the sender's
    # window and its 1-second timeout): the provider records it at the next whole second,
    # then the connection drops, so the sender cannot know.
    twilio_double.clock = lambda: claimed + dt.timedelta(seconds=0.5)
    twilio_double.add_faults("reset_after")
    with time_machine.travel(claimed, tick=False):
        assert services.message_send(message_id=row.pk) == "unknown"
    twilio_double.clock = lambda: claimed + dt.timedelta(seconds=5)

    # Later, with the sender long gone: the sweep asks the provider, then anything it put
    # back is queued and sent.
    for later in (3, 63):
        with time_machine.travel(claimed + dt.timedelta(seconds=later), tick=False), committed():
            tasks.messages_dispatch()

    row.refresh_from_db()
    assert row.status == Status.SENT
    assert twilio_double.count_by_body()[row.body] == 1, "sent twice"
