"""Supporters: their own availability and breaks, the checks staff record, unpausing only when
ready, and the daily sweep that pauses the unready and tells their services."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from notifications.sms import MemorySMSClient
from peer_support import tasks
from peer_support.models import Alert, Supporter
from peer_support.services import (
    supporter_availability_update,
    supporter_readiness_record,
    supporter_unpause,
    supporters_readiness_sweep,
)
from portal.models import AuditEvent
from portal.roles import Role
from tests.factories import REQUIRED_TRAINING, MatchFactory, ServiceUserRecordFactory
from tests.peer_support.test_offers import fresh_mobile, ready_supporter
from tests.portal.conftest import make_member

pytestmark = pytest.mark.django_db


def today() -> dt.date:
    return timezone.localdate()


@pytest.fixture
def supporter(service):
    return ready_supporter(service)


@pytest.fixture
def coordinator(service):
    return make_member(Role.COORDINATOR, service)


def events(supporter):
    return AuditEvent.objects.filter(
        object_type="peer_support.supporter", object_id=str(supporter.pk)
    )


def availability(supporter, by, **changes) -> Supporter:
    values = {
        "availability": supporter.availability,
        "capacity": supporter.capacity,
        "paused": supporter.paused,
        "paused_reason": "",
    }
    values.update(changes)
    return supporter_availability_update(supporter=supporter, changed_by=by, **values)


def give_matches(supporter, n: int) -> None:
    for _ in range(n):
        MatchFactory(
            supporter=supporter,
            service_user=ServiceUserRecordFactory(service=supporter.services.first()),
        )


# --- supporter_availability_update -------------------------------------------------------------


def test_a_supporter_sets_their_own_times_and_places(supporter):
    availability(supporter, supporter.user, availability=[("mon", "morning")], capacity=2)
    supporter.refresh_from_db()
    assert supporter.availability == [["mon", "morning"]]
    assert supporter.capacity == 2
    [event] = events(supporter)
    assert (event.actor, event.subject, event.detail) == (
        supporter.user,
        supporter.user,
        "fields=availability,capacity",
    )


def test_casework_staff_of_their_service_may_change_it(supporter, coordinator):
    availability(supporter, coordinator, capacity=5)
    supporter.refresh_from_db()
    assert supporter.capacity == 5
    assert events(supporter).get().actor == coordinator


@pytest.mark.parametrize("who", ["another volunteer", "staff of another service", "person"])
def test_nobody_else_changes_a_supporters_availability(service, other_service, supporter, who):
    user = {
        "another volunteer": lambda: ready_supporter(service).user,
        "staff of another service": lambda: make_member(Role.COORDINATOR, other_service),
        "person": lambda: make_member(Role.SERVICE_USER, service),
    }[who]()
    with pytest.raises(PermissionDenied):
        availability(supporter, user, capacity=9)
    supporter.refresh_from_db()
    assert supporter.capacity == 3
    assert not events(supporter).exists()


@pytest.mark.parametrize(
    ("active", "said"),
    [
        (1, "You support 1 person now, so this cannot be lower than that."),
        (2, "You support 2 people now, so this cannot be lower than that."),
    ],
)
def test_capacity_cannot_go_below_the_people_supported_now(supporter, active, said):
    give_matches(supporter, active)
    with pytest.raises(ValidationError) as excinfo:
        availability(supporter, supporter.user, capacity=active - 1)
    assert excinfo.value.message_dict == {"capacity": [said]}
    availability(supporter, supporter.user, capacity=active)  # equal is fine
    supporter.refresh_from_db()
    assert supporter.capacity == active


@pytest.mark.parametrize(("typed", "stored"), [("", "Taking a break"), (" Holiday ", "Holiday")])
def test_pausing_records_a_reason(supporter, typed, stored):
    availability(supporter, supporter.user, paused=True, paused_reason=typed)
    supporter.refresh_from_db()
    assert (supporter.paused, supporter.paused_reason) == (True, stored)
    assert events(supporter).get().detail == "fields=paused,paused_reason"


def test_a_ready_supporter_unpauses_themselves(service):
    supporter = ready_supporter(service, paused=True, paused_reason="Holiday")
    availability(supporter, supporter.user, paused=False, paused_reason="ignored")
    supporter.refresh_from_db()
    assert (supporter.paused, supporter.paused_reason) == (False, "")


def test_an_unready_supporter_cannot_unpause_themselves(service):
    lapsed_on = today() - dt.timedelta(days=1095)
    supporter = ready_supporter(
        service,
        paused=True,
        paused_reason="Not ready: DBS check lapsed",
        dbs_checked_on=lapsed_on,
        training_modules_completed=["safeguarding"],
    )
    with pytest.raises(ValidationError) as excinfo:
        availability(supporter, supporter.user, paused=False)
    [message] = excinfo.value.message_dict["paused"]
    assert message.startswith("You cannot take new people until this is sorted: ")
    assert f"DBS check lapsed on {today().isoformat()}" in message
    assert "Training not completed: boundaries" in message
    supporter.refresh_from_db()
    assert supporter.paused is True


def test_staying_paused_keeps_the_reason_already_recorded(service):
    supporter = ready_supporter(
        service, paused=True, paused_reason="Not ready: No supervision recorded"
    )
    availability(supporter, supporter.user, availability=[("tue", "evening")], paused_reason="")
    supporter.refresh_from_db()
    assert supporter.paused is True
    assert supporter.paused_reason == "Not ready: No supervision recorded"
    assert events(supporter).get().detail == "fields=availability"


def test_nothing_changed_writes_nothing(supporter):
    before = supporter.updated_at
    availability(supporter, supporter.user)
    supporter.refresh_from_db()
    assert supporter.updated_at == before
    assert not events(supporter).exists()


@pytest.mark.parametrize(
    "changes", [{"availability": [["mon", "night"]]}, {"capacity": -1}, {"availability": "mon"}]
)
def test_bad_availability_is_refused(supporter, changes):
    with pytest.raises(ValidationError):
        availability(supporter, supporter.user, **changes)
    assert not events(supporter).exists()


# --- supporter_readiness_record ----------------------------------------------------------------


def record_readiness(supporter, by, **changes) -> Supporter:
    values = {
        "dbs_checked_on": supporter.dbs_checked_on,
        "dbs_level": supporter.dbs_level,
        "training_modules_completed": list(supporter.training_modules_completed),
        "last_supervision_on": supporter.last_supervision_on,
        "risk_assessment_recorded_on": supporter.risk_assessment_recorded_on,
        "cleared_for_under_18": supporter.cleared_for_under_18,
    }
    values.update(changes)
    return supporter_readiness_record(supporter=supporter, recorded_by=by, **values)


def test_staff_record_checks_and_only_changed_fields_are_audited(supporter, coordinator):
    record_readiness(
        supporter, coordinator, last_supervision_on=today(), cleared_for_under_18=True
    )
    supporter.refresh_from_db()
    assert supporter.last_supervision_on == today()
    assert supporter.cleared_for_under_18 is True
    [event] = events(supporter)
    assert event.detail == "fields=last_supervision_on,cleared_for_under_18"
    record_readiness(supporter, coordinator)  # the same again: nothing written
    assert events(supporter).count() == 1


@pytest.mark.parametrize(
    "field", ["dbs_checked_on", "last_supervision_on", "risk_assessment_recorded_on"]
)
def test_dates_in_the_future_are_refused(supporter, coordinator, field):
    with pytest.raises(ValidationError) as excinfo:
        record_readiness(supporter, coordinator, **{field: today() + dt.timedelta(days=1)})
    assert excinfo.value.message_dict == {field: ["This date cannot be in the future."]}
    assert not events(supporter).exists()


@pytest.mark.parametrize("who", ["the supporter", "staff of another service", "worker"])
def test_only_staff_of_the_supporters_service_record_checks(
    service, other_service, supporter, who
):
    user = {
        "the supporter": lambda: supporter.user,
        "staff of another service": lambda: make_member(Role.COORDINATOR, other_service),
        "worker": lambda: make_member(Role.PEER_SUPPORT_WORKER, service),
    }[who]()
    if who == "worker":  # a peer support worker of the service may
        record_readiness(supporter, user, dbs_level=Supporter.DBSLevel.STANDARD)
        assert events(supporter).count() == 1
        return
    with pytest.raises(PermissionDenied):
        record_readiness(supporter, user, dbs_level=Supporter.DBSLevel.STANDARD)
    supporter.refresh_from_db()
    assert supporter.dbs_level == Supporter.DBSLevel.ENHANCED


# --- supporter_unpause ----------------------------------------------------------------------


def test_staff_unpause_a_ready_supporter(service, coordinator):
    supporter = ready_supporter(service, paused=True, paused_reason="Not ready: old DBS")
    supporter_unpause(supporter=supporter, unpaused_by=coordinator)
    supporter.refresh_from_db()
    assert (supporter.paused, supporter.paused_reason) == (False, "")
    assert events(supporter).get().actor == coordinator
    supporter_unpause(supporter=supporter, unpaused_by=coordinator)  # not paused: nothing
    assert events(supporter).count() == 1


def test_an_unready_supporter_stays_paused(service, coordinator):
    supporter = ready_supporter(
        service, paused=True, paused_reason="Not ready", last_supervision_on=None
    )
    with pytest.raises(ValidationError) as excinfo:
        supporter_unpause(supporter=supporter, unpaused_by=coordinator)
    [error] = excinfo.value.error_list
    assert error.code == "not_ready"
    assert "No supervision recorded" in error.message
    supporter.refresh_from_db()
    assert supporter.paused is True


@pytest.mark.parametrize("who", ["the supporter", "staff of another service"])
def test_only_staff_of_the_service_unpause(service, other_service, who):
    supporter = ready_supporter(service, paused=True, paused_reason="Holiday")
    user = (
        supporter.user if who == "the supporter" else make_member(Role.COORDINATOR, other_service)
    )
    with pytest.raises(PermissionDenied):
        supporter_unpause(supporter=supporter, unpaused_by=user)
    supporter.refresh_from_db()
    assert supporter.paused is True


# --- supporters_readiness_sweep ----------------------------------------------------------------


def test_the_sweep_alerts_every_service_of_a_paused_supporter_once(
    service, other_service, django_capture_on_commit_callbacks
):
    make_member(Role.PEER_SUPPORT_WORKER, service, mobile=fresh_mobile())
    MemorySMSClient.outbox.clear()
    lapsed = ready_supporter(service, dbs_checked_on=today() - dt.timedelta(days=2000))
    lapsed.services.add(other_service)
    ready = ready_supporter(service)

    with django_capture_on_commit_callbacks(execute=True):
        first = supporters_readiness_sweep()
        second = tasks.supporters_readiness_sweep()

    assert first == [lapsed.pk]
    assert second == []
    alerts = Alert.objects.filter(kind=Alert.Kind.SUPPORTER_NOT_READY)
    assert sorted(a.service_id for a in alerts) == sorted([service.pk, other_service.pk])
    for alert in alerts:
        assert alert.supporter == lapsed
        assert "DBS check lapsed on" in alert.message
    assert not Alert.objects.filter(supporter=ready).exists()
    assert MemorySMSClient.outbox == []  # not urgent: in the portal only


def test_the_sweep_reads_the_day_it_is_given(service):
    supporter = ready_supporter(service, training_modules_completed=list(REQUIRED_TRAINING))
    due = supporter.last_supervision_on + dt.timedelta(days=56)
    assert supporters_readiness_sweep(today=due) == []
    assert supporters_readiness_sweep(today=due + dt.timedelta(days=1)) == [supporter.pk]
    [alert] = Alert.objects.filter(kind=Alert.Kind.SUPPORTER_NOT_READY)
    assert "Supervision overdue since" in alert.message
