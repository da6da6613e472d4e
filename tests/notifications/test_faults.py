"""Provider faults meet the reminder pipeline, in process: the real Twilio SDK against the
loopback double (tests/notifications/twilio_double.py), a fault on the first attempt, then time
moved on and the every-minute task (sweep, then dispatch) run as the schedule would run it.

What must hold whatever the provider does: a person gets each reminder once, never twice; a
send whose outcome is unknown is reconciled by asking the provider, not resent blind; and a
reminder that can never go fails with an alert for staff instead of vanishing.
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections import Counter
from collections.abc import Callable

import pytest
import time_machine
from django.conf import settings as django_settings
from django.core.cache import cache
from django.core.cache.backends.locmem import LocMemCache
from django.db import connection
from django.utils import timezone

from notifications import services, tasks
from notifications.models import OptOut, OutboundMessage
from peer_support.models import Alert
from portal.services import consent_wording_ensure

from .world import appointment, person

pytestmark = pytest.mark.django_db

Status = OutboundMessage.Status

ON_POSTGRESQL = connection.vendor == "postgresql"
ONLY_ON_POSTGRESQL = pytest.mark.skipif(
    not ON_POSTGRESQL,
    reason="SQLite has one writer at a time and no row locks: racing dispatchers need "
    "PostgreSQL to mean anything",
)


@pytest.fixture(autouse=True)
def sms_settings(settings, twilio_double):
    """The real SDK at the double, no rate cap (each test that wants one sets it)."""
    settings.SMS_MAX_PER_SECOND = 0
    return settings


def due_reminders(service, count: int = 1) -> tuple[list[OutboundMessage], dt.datetime]:
    """``count`` people, each with an appointment five days ahead at 14:00 (outside quiet
    hours whatever the date), planned now. Returns their "3 days before" rows and the moment
    when all of them are due."""
    consent_wording_ensure()  # a transactional test's flush removed the migration's wording
    day = timezone.localtime() + dt.timedelta(days=5)
    starts_at = day.replace(hour=14, minute=0, second=0, microsecond=0)
    rows = []
    for _ in range(count):
        appt = appointment(person(service), starts_at=starts_at)
        services.reminders_sync(appointment_id=appt.pk)
        rows.append(appt.reminders.get(slot="3d", status=Status.SCHEDULED))
    return rows, max(row.send_at for row in rows) + dt.timedelta(seconds=1)


def every_minute(at: dt.datetime, capture_on_commit: Callable) -> dict[str, int]:
    """The scheduled task at ``at``: sweep stale sends, then queue what is due. The queued
    send tasks run in this process (django-q2 sync) when the dispatch commits."""
    with time_machine.travel(at, tick=False), capture_on_commit(execute=True):
        return tasks.messages_dispatch()


def sms_failed_alerts(row: OutboundMessage) -> int:
    return Alert.objects.filter(kind=Alert.Kind.SMS_FAILED, appointment=row.appointment).count()


# --- One fault on the first attempt -----------------------------------------------------------

# fault: (status and reason code right after the first attempt, final status, messages at the
# double for the row's text, create requests the double saw in all)
FIRST_ATTEMPT_FAULTS = {
    # Twilio did not take it: back to scheduled with backoff, then sent by the dispatcher.
    "status_429": ((Status.SCHEDULED, "retry_20429"), Status.SENT, 1, 2),
    "status_500": ((Status.SCHEDULED, "retry_20500"), Status.SENT, 1, 2),
    "status_503": ((Status.SCHEDULED, "retry_20503"), Status.SENT, 1, 2),
    # No answer, and Twilio had not recorded it: reconciled (not found), then sent once.
    "reset_before": ((Status.SENDING, ""), Status.SENT, 1, 2),
    "hang_before": ((Status.SENDING, ""), Status.SENT, 1, 2),
    # No answer, but Twilio had recorded it: reconciled (found), never sent again.
    "reset_after": ((Status.SENDING, ""), Status.SENT, 1, 1),
    "hang_after": ((Status.SENDING, ""), Status.SENT, 1, 1),
    # Refused for good: failed with an alert, and never tried again.
    "error_code:21610": ((Status.FAILED, "error_21610"), Status.FAILED, 0, 1),
    "error_code:21211": ((Status.FAILED, "error_21211"), Status.FAILED, 0, 1),
    "error_code:21612": ((Status.FAILED, "error_21612"), Status.FAILED, 0, 1),
    "error_code:21614": ((Status.FAILED, "error_21614"), Status.FAILED, 0, 1),
}


@pytest.mark.parametrize("fault", list(FIRST_ATTEMPT_FAULTS))
def test_a_fault_on_the_first_attempt_ends_in_one_message_or_an_alert(
    service, twilio_double, django_capture_on_commit_callbacks, fault
):
    after_first, final_status, messages, requests = FIRST_ATTEMPT_FAULTS[fault]
    [row], due_at = due_reminders(service)
    twilio_double.add_faults(fault)

    with time_machine.travel(due_at, tick=False):
        services.message_send(message_id=row.pk)
    row.refresh_from_db()
    assert (row.status, row.reason_code) == after_first
    assert row.body and row.to == row.service_user.mobile.as_e164, "stored before the call"

    # Past the backoff of a temporary failure and past the age at which a claim is stale.
    later = due_at + dt.timedelta(
        seconds=max(
            django_settings.SMS_RETRY_BASE_SECONDS, django_settings.SMS_CLAIM_STALE_SECONDS
        )
        + 1
    )
    every_minute(later, django_capture_on_commit_callbacks)
    every_minute(later + dt.timedelta(minutes=1), django_capture_on_commit_callbacks)

    row.refresh_from_db()
    assert row.status == final_status
    assert twilio_double.count_by_body()[row.body] == messages
    assert twilio_double.create_requests == requests
    if final_status == Status.SENT:
        [message] = twilio_double.messages
        assert row.provider_sid == message["sid"]
        assert sms_failed_alerts(row) == 0
    else:
        code = fault.partition(":")[2]
        assert (row.reason_code, row.error_code) == (f"error_{code}", code)
        assert sms_failed_alerts(row) == 1
        opted_out = OptOut.objects.filter(number=row.to, active=True).exists()
        assert opted_out == (code == "21610"), "only 21610 means the number unsubscribed"


def test_a_provider_that_keeps_failing_is_given_up_on_with_an_alert(
    service, twilio_double, django_capture_on_commit_callbacks
):
    attempts = django_settings.SMS_MAX_ATTEMPTS
    [row], at = due_reminders(service)
    twilio_double.add_faults(*["status_500"] * (attempts + 2))

    waits = []
    for attempt in range(1, attempts + 1):
        with time_machine.travel(at, tick=False):
            outcome = services.message_send(message_id=row.pk)
        row.refresh_from_db()
        assert row.attempts == attempt
        if attempt < attempts:
            assert (outcome, row.status, row.reason_code) == (
                "retry",
                Status.SCHEDULED,
                "retry_20500",
            )
            waits.append(int((row.send_at - at).total_seconds()))
            at = row.send_at + dt.timedelta(seconds=1)
    assert waits == [
        min(django_settings.SMS_RETRY_BASE_SECONDS * 2**n, django_settings.SMS_RETRY_MAX_SECONDS)
        for n in range(attempts - 1)
    ]
    assert (outcome, row.status, row.reason_code) == ("failed", Status.FAILED, "error_20500")
    assert sms_failed_alerts(row) == 1

    every_minute(at + dt.timedelta(hours=1), django_capture_on_commit_callbacks)
    assert twilio_double.create_requests == attempts, "no attempt beyond the limit"
    assert twilio_double.messages == []


def test_a_send_nobody_can_check_stays_sending_until_the_provider_answers_again(
    service, twilio_double, django_capture_on_commit_callbacks
):
    [row], due_at = due_reminders(service)
    twilio_double.add_faults("hang_after")
    with time_machine.travel(due_at, tick=False):
        assert services.message_send(message_id=row.pk) == "unknown"
    port = twilio_double._server.server_address[1]
    twilio_double.stop()

    stale = dt.timedelta(seconds=django_settings.SMS_CLAIM_STALE_SECONDS + 1)
    counts = every_minute(due_at + stale, django_capture_on_commit_callbacks)
    row.refresh_from_db()
    assert (row.status, counts["reconciled"]) == (Status.SENDING, 0)

    twilio_double.port = port  # back at the same address, with what it had recorded
    twilio_double.start()
    counts = every_minute(
        due_at + stale + dt.timedelta(minutes=1), django_capture_on_commit_callbacks
    )
    row.refresh_from_db()
    assert (row.status, counts["reconciled"]) == (Status.SENT, 1)
    [message] = twilio_double.messages
    assert row.provider_sid == message["sid"]
    assert twilio_double.create_requests == 1, "reconciled, not sent again"
    assert sms_failed_alerts(row) == 0


# --- Racing dispatchers (PostgreSQL) ----------------------------------------------------------


def race(threads: int, work: Callable[[], object]) -> list[object]:
    """Run ``work`` in ``threads`` threads released at the same moment; each thread closes
    its own database connection, as a worker would."""
    start = threading.Barrier(threads)
    results: list[object] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def run() -> None:
        try:
            start.wait()
            result = work()
            with lock:
                results.append(result)
        except BaseException as error:  # noqa: BLE001 - reported below, with the others
            with lock:
                errors.append(error)
        finally:
            connection.close()

    pool = [threading.Thread(target=run) for _ in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join(timeout=120)
    assert not errors, errors
    assert len(results) == threads
    return results


# Transactional tests flush the database, migration data included: in the parallel run they
# would share a worker (and the file's place in the queue) with tests that need that data.
@pytest.mark.serial
@ONLY_ON_POSTGRESQL
@pytest.mark.django_db(transaction=True)
def test_twenty_senders_racing_for_one_row_send_it_once(service, twilio_double):
    [row], due_at = due_reminders(service)
    with time_machine.travel(due_at, tick=True):
        outcomes = race(20, lambda: services.message_send(message_id=row.pk))
    row.refresh_from_db()
    assert Counter(outcomes) == {"sent": 1, "not_claimed": 19}
    assert (row.status, row.attempts) == (Status.SENT, 1)
    assert twilio_double.count_by_body() == {row.body: 1}


@pytest.mark.serial
@ONLY_ON_POSTGRESQL
@pytest.mark.django_db(transaction=True)
def test_twenty_batches_of_the_same_fifty_rows_send_each_row_once(service, twilio_double):
    rows, due_at = due_reminders(service, 50)
    ids = [row.pk for row in rows]
    with time_machine.travel(due_at, tick=True):
        outcomes = race(20, lambda: services.messages_send(message_ids=ids))
    total = Counter()
    for counts in outcomes:
        total.update(counts)
    assert total == {"sent": 50, "not_claimed": 19 * 50}
    sent = OutboundMessage.objects.filter(pk__in=ids)
    assert set(sent.values_list("status", "attempts")) == {(Status.SENT, 1)}
    assert twilio_double.count_by_body() == dict.fromkeys(sent.values_list("body", flat=True), 1)


# --- The rate cap -----------------------------------------------------------------------------


def test_the_provider_never_sees_more_than_the_cap_in_one_clock_second(
    service, twilio_double, settings
):
    settings.SMS_MAX_PER_SECOND = 5
    rows, due_at = due_reminders(service, 15)
    with time_machine.travel(due_at, tick=True):
        # The cap counts calls per clock second; the double stamps arrivals. Start just after
        # a second begins, so that a call let through at x.999 cannot arrive in the next
        # second (loopback takes milliseconds) and blur what is being measured.
        time.sleep(1.02 - time.time() % 1)
        clock_minus_monotonic = time.time() - time.monotonic()
        counts = tasks.messages_send(*[row.pk for row in rows])
    assert counts == {"sent": 15}
    per_second = Counter(
        int(arrived + clock_minus_monotonic) for arrived in twilio_double.arrivals()
    )
    assert sum(per_second.values()) == 15
    # Redis counts for every worker; a cache of this process's own, for this worker alone,
    # so each worker keeps to its share.
    shared = not isinstance(cache, LocMemCache)
    cap = 5 if shared else 5 // settings.Q_CLUSTER["workers"]
    assert max(per_second.values()) <= cap, per_second
    assert len(twilio_double.count_by_body()) == 15
