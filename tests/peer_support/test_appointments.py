"""Appointment services: UTC storage across clock changes, and one signal per change, only
after commit."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from peer_support.models import Appointment
from peer_support.services import (
    appointment_cancel,
    appointment_create,
    appointment_outcome_record,
    appointment_reschedule,
)
from peer_support.signals import appointment_changed
from portal.roles import Role
from tests.factories import MatchFactory, ServiceUserRecordFactory, SupporterFactory
from tests.portal.conftest import make_member

pytestmark = pytest.mark.django_db

LONDON = ZoneInfo("Europe/London")
UTC = dt.UTC


@pytest.fixture
def record(service):
    return ServiceUserRecordFactory(service=service)


@pytest.fixture
def received():
    calls = []

    def receiver(sender, appointment_id, change, **kwargs):
        calls.append((sender, appointment_id, change))

    appointment_changed.connect(receiver, weak=False)
    yield calls
    appointment_changed.disconnect(receiver)


def create(record, worker, starts_at):
    return appointment_create(
        service_user=record,
        kind=Appointment.Kind.GP,
        place_label="Riverside Centre",
        address="1 Example Street, Testtown NM1 1AA",
        starts_at=starts_at,
        arranged_by=worker,
    )


# (London wall-clock time, the same instant in UTC): either side of both 2026 clock changes.
CLOCK_CHANGES = [
    (dt.datetime(2026, 3, 28, 10, 0), dt.datetime(2026, 3, 28, 10, 0, tzinfo=UTC)),
    (dt.datetime(2026, 3, 29, 10, 0), dt.datetime(2026, 3, 29, 9, 0, tzinfo=UTC)),
    (dt.datetime(2026, 10, 24, 10, 0), dt.datetime(2026, 10, 24, 9, 0, tzinfo=UTC)),
    (dt.datetime(2026, 10, 25, 10, 0), dt.datetime(2026, 10, 25, 10, 0, tzinfo=UTC)),
]


@pytest.mark.parametrize(("local", "utc"), CLOCK_CHANGES)
@pytest.mark.parametrize("naive", [True, False], ids=["naive", "aware"])
def test_times_are_stored_in_utc_across_clock_changes(record, worker, local, utc, naive):
    starts_at = local if naive else local.replace(tzinfo=LONDON)
    appointment = create(record, worker, starts_at)

    stored = Appointment.objects.get(pk=appointment.pk).starts_at
    assert stored == utc
    assert stored.astimezone(UTC).hour == utc.hour
    assert timezone.localtime(stored).hour == 10


def test_a_time_skipped_when_the_clocks_go_forward_is_refused(record, worker):
    with pytest.raises(ValidationError) as excinfo:
        create(record, worker, dt.datetime(2026, 3, 29, 1, 30))
    assert excinfo.value.code == "nonexistent_time"


def test_reschedule_across_the_october_change_keeps_wall_clock_time(record, worker):
    appointment = create(record, worker, dt.datetime(2026, 10, 24, 14, 0))
    appointment_reschedule(
        appointment=appointment,
        starts_at=dt.datetime(2026, 10, 26, 14, 0),
        changed_by=worker,
    )
    appointment.refresh_from_db()
    assert appointment.starts_at == dt.datetime(2026, 10, 26, 14, 0, tzinfo=UTC)


def test_each_change_sends_one_signal_only_after_commit(
    record, worker, received, django_capture_on_commit_callbacks
):
    start = timezone.now() + dt.timedelta(days=3)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        appointment = create(record, worker, start)
        assert received == []  # not before commit
    assert len(callbacks) == 1
    assert received == [(Appointment, appointment.pk, "created")]

    steps = [
        (lambda: appointment_reschedule(
            appointment=appointment, starts_at=start + dt.timedelta(hours=1), changed_by=worker),
         "rescheduled"),
        (lambda: appointment_outcome_record(
            appointment=appointment, outcome="rearranged", recorded_by=worker), "outcome"),
        (lambda: appointment_cancel(appointment=appointment, cancelled_by=worker), "cancelled"),
    ]  # fmt: skip
    for step, change in steps:
        received.clear()
        with django_capture_on_commit_callbacks(execute=True):
            step()
        assert received == [(Appointment, appointment.pk, change)]


def test_no_signal_for_a_change_that_is_rolled_back(
    record, worker, received, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        try:
            with transaction.atomic():
                create(record, worker, timezone.now() + dt.timedelta(days=1))
                raise RuntimeError("rolled back")
        except RuntimeError:
            pass
    assert callbacks == []
    assert received == []
    assert not Appointment.objects.exists()


def test_no_op_changes_send_nothing(record, worker, received, django_capture_on_commit_callbacks):
    start = timezone.now() + dt.timedelta(days=3)
    with django_capture_on_commit_callbacks(execute=True):
        appointment = create(record, worker, start)
        appointment_cancel(appointment=appointment, cancelled_by=worker)
    received.clear()
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        appointment_cancel(appointment=appointment, cancelled_by=worker)
    assert callbacks == [] and received == []
    with pytest.raises(ValidationError):
        appointment_reschedule(appointment=appointment, starts_at=start, changed_by=worker)


def test_a_failing_receiver_does_not_undo_the_change(
    record, worker, django_capture_on_commit_callbacks
):
    def broken(**kwargs):
        raise RuntimeError("receiver bug")

    appointment_changed.connect(broken, weak=False)
    try:
        with django_capture_on_commit_callbacks(execute=True):
            appointment = create(record, worker, timezone.now() + dt.timedelta(days=1))
    finally:
        appointment_changed.disconnect(broken)
    assert Appointment.objects.filter(pk=appointment.pk).exists()


def test_attended_cannot_be_recorded_before_the_appointment(record, worker):
    appointment = create(record, worker, timezone.now() + dt.timedelta(days=1))
    with pytest.raises(ValidationError):
        appointment_outcome_record(appointment=appointment, outcome="attended", recorded_by=worker)


def test_the_matched_supporter_may_arrange_but_another_volunteer_may_not(service, record):
    volunteer = make_member(Role.PEER_VOLUNTEER, service)
    MatchFactory(
        service_user=record, supporter=SupporterFactory(user=volunteer, services=[service])
    )
    stranger = make_member(Role.PEER_VOLUNTEER, service)
    SupporterFactory(user=stranger, services=[service])

    appointment = create(record, volunteer, timezone.now() + dt.timedelta(days=1))
    assert appointment.arranged_by == volunteer
    with pytest.raises(PermissionDenied):
        create(record, stranger, timezone.now() + dt.timedelta(days=1))
