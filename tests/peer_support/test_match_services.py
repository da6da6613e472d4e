"""match_create refuses every unsafe pair, with a reason staff can act on."""

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from peer_support.models import Exclusion, Match, ServiceUserRecord
from peer_support.services import exclusion_create, match_create, match_end
from portal.models import AuditEvent, Consent
from portal.roles import Role
from portal.services import consent_withdraw
from tests.factories import ServiceUserRecordFactory, SupporterFactory
from tests.portal.conftest import make_member

pytestmark = pytest.mark.django_db


@pytest.fixture
def record(service, person_with_consents):
    return ServiceUserRecordFactory(service=service, user=person_with_consents)


@pytest.fixture
def supporter(service):
    return SupporterFactory(services=[service])


def refusal_codes(excinfo) -> set[str]:
    return {error.code for error in excinfo.value.error_list}


def test_a_ready_supporter_is_matched_and_the_match_audited(record, supporter, worker):
    match = match_create(service_user=record, supporter=supporter, created_by=worker)

    assert match.is_active
    record.refresh_from_db()
    assert record.status == ServiceUserRecord.Status.MATCHED
    event = AuditEvent.objects.get(object_type="peer_support.match", object_id=str(match.pk))
    assert event.actor == worker
    assert event.subject == record.user


def _today():
    return timezone.localdate()


# (name, change to the supporter, change to the record, expected code)
REFUSALS = [
    ("paused", {"paused": True, "paused_reason": "On leave"}, {}, "paused"),
    ("dbs lapsed", {"dbs_checked_on": _today() - dt.timedelta(days=1095)}, {}, "not_ready"),
    ("dbs missing", {"dbs_checked_on": None}, {}, "not_ready"),
    ("training missing", {"training_modules_completed": ["safeguarding"]}, {}, "not_ready"),
    ("supervision overdue", {"last_supervision_on": _today() - dt.timedelta(days=57)}, {},
     "not_ready"),
    ("full", {"capacity": 0}, {}, "no_capacity"),
    ("under 18 not cleared", {"cleared_for_under_18": False}, {"age_band": "under_18"},
     "not_cleared_for_under_18"),
    ("gender preference", {"gender": "man"}, {"preferred_supporter_gender": "woman"},
     "gender_preference"),
    ("no shared language", {"languages": ["en"]},
     {"languages": ["pl"], "accessibility_needs": ["interpreter"]}, "no_shared_language"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("supporter_changes", "record_changes", "code"),
    [pytest.param(s, r, c, id=name) for name, s, r, c in REFUSALS],
)
def test_match_create_refuses(record, supporter, worker, supporter_changes, record_changes, code):
    for field, value in supporter_changes.items():
        setattr(supporter, field, value)
    supporter.save()
    for field, value in record_changes.items():
        setattr(record, field, value)
    record.save()

    with pytest.raises(ValidationError) as excinfo:
        match_create(service_user=record, supporter=supporter, created_by=worker)

    assert code in refusal_codes(excinfo)
    assert not Match.objects.exists()


def test_supporter_of_another_service_is_refused(record, other_service, worker):
    elsewhere = SupporterFactory(services=[other_service])
    with pytest.raises(ValidationError) as excinfo:
        match_create(service_user=record, supporter=elsewhere, created_by=worker)
    assert refusal_codes(excinfo) == {"different_service"}


def test_supporter_full_after_their_active_matches(service, record, worker):
    supporter = SupporterFactory(services=[service], capacity=1)
    other = ServiceUserRecordFactory(service=service, user=make_consenting_person(service))
    match_create(service_user=other, supporter=supporter, created_by=worker)
    with pytest.raises(ValidationError) as excinfo:
        match_create(service_user=record, supporter=supporter, created_by=worker)
    assert refusal_codes(excinfo) == {"no_capacity"}


def test_a_directly_excluded_supporter_is_refused_without_the_reason(record, supporter, worker):
    exclusion_create(
        service_user=record,
        supporter=supporter,
        kind=Exclusion.Kind.FAMILY,
        reason="Cousins",
        entered_by=worker,
    )
    with pytest.raises(ValidationError) as excinfo:
        match_create(service_user=record, supporter=supporter, created_by=worker)
    assert refusal_codes(excinfo) == {"excluded"}
    assert "Cousins" not in str(excinfo.value)
    assert "family" not in str(excinfo.value).lower()


def make_consenting_person(service):
    from portal.services import consent_give

    person = make_member(Role.SERVICE_USER, service)
    consent_give(
        subject=person,
        service=service,
        purpose="peer_support",
        method="verbal_court",
        recorded_by=make_member(Role.COORDINATOR, service),
    )
    return person


@pytest.mark.parametrize("direction", ["from_this_person", "from_the_other_person"])
def test_supporter_of_a_co_defendant_is_refused(service, record, supporter, worker, direction):
    co_defendant = ServiceUserRecordFactory(service=service, user=make_consenting_person(service))
    match_create(service_user=co_defendant, supporter=supporter, created_by=worker)
    first, second = (
        (record, co_defendant) if direction == "from_this_person" else (co_defendant, record)
    )
    exclusion_create(
        service_user=first,
        other_service_user=second,
        kind=Exclusion.Kind.CO_DEFENDANT,
        reason="Same incident",
        entered_by=worker,
    )

    with pytest.raises(ValidationError) as excinfo:
        match_create(service_user=record, supporter=supporter, created_by=worker)

    assert refusal_codes(excinfo) == {"excluded"}


def test_exclusion_against_someone_whose_match_ended_no_longer_blocks(
    service, record, supporter, worker
):
    co_defendant = ServiceUserRecordFactory(service=service, user=make_consenting_person(service))
    earlier = match_create(service_user=co_defendant, supporter=supporter, created_by=worker)
    exclusion_create(
        service_user=record,
        other_service_user=co_defendant,
        kind=Exclusion.Kind.CO_DEFENDANT,
        reason="Same incident",
        entered_by=worker,
    )
    match_end(match=earlier, reason=Match.EndReason.GOALS_MET, ended_by=worker)

    assert match_create(service_user=record, supporter=supporter, created_by=worker).is_active


def test_consent_withdrawn_refuses_the_match_at_once(record, supporter, worker):
    consent = Consent.objects.get(subject=record.user, purpose="peer_support")
    consent_withdraw(consent=consent, method="verbal_phone", recorded_by=worker)

    with pytest.raises(ValidationError) as excinfo:
        match_create(service_user=record, supporter=supporter, created_by=worker)

    assert refusal_codes(excinfo) == {"no_consent"}


def test_a_referral_without_an_account_is_refused(service, supporter, worker):
    record = ServiceUserRecordFactory(service=service, user=None)
    with pytest.raises(ValidationError) as excinfo:
        match_create(service_user=record, supporter=supporter, created_by=worker)
    assert refusal_codes(excinfo) == {"no_account"}


def test_a_second_active_match_is_refused(service, record, supporter, worker):
    match_create(service_user=record, supporter=supporter, created_by=worker)
    another = SupporterFactory(services=[service])
    with pytest.raises(ValidationError) as excinfo:
        match_create(service_user=record, supporter=another, created_by=worker)
    assert refusal_codes(excinfo) == {"already_matched"}


def test_every_reason_is_given_at_once(record, other_service, worker):
    supporter = SupporterFactory(services=[other_service], paused=True, paused_reason="Leave")
    with pytest.raises(ValidationError) as excinfo:
        match_create(service_user=record, supporter=supporter, created_by=worker)
    assert refusal_codes(excinfo) == {"different_service", "paused"}


@pytest.mark.parametrize("role", [Role.PEER_VOLUNTEER, Role.SERVICE_USER, Role.COMMISSIONER])
def test_only_casework_staff_may_match_or_exclude(service, record, supporter, role):
    someone = make_member(role, service)
    with pytest.raises(PermissionDenied):
        match_create(service_user=record, supporter=supporter, created_by=someone)
    with pytest.raises(PermissionDenied):
        exclusion_create(
            service_user=record, supporter=supporter, kind="other", reason="x", entered_by=someone
        )


def test_staff_of_another_service_may_not_match(record, supporter, other_service):
    stranger = make_member(Role.COORDINATOR, other_service)
    with pytest.raises(PermissionDenied):
        match_create(service_user=record, supporter=supporter, created_by=stranger)


def test_match_end_returns_the_person_to_the_waiting_list(record, supporter, worker):
    match = match_create(service_user=record, supporter=supporter, created_by=worker)
    match_end(match=match, reason=Match.EndReason.MOVED, ended_by=worker)

    record.refresh_from_db()
    match.refresh_from_db()
    assert record.status == ServiceUserRecord.Status.AWAITING_MATCH
    assert match.ended_at is not None and match.ended_by == worker
    with pytest.raises(ValidationError):
        match_end(match=match, reason=Match.EndReason.MOVED, ended_by=worker)


def test_exclusion_needs_exactly_one_target(record, supporter, worker):
    other = ServiceUserRecordFactory(service=record.service)
    with pytest.raises(ValidationError):
        exclusion_create(
            service_user=record,
            supporter=supporter,
            other_service_user=other,
            kind="other",
            reason="x",
            entered_by=worker,
        )
    with pytest.raises(ValidationError):
        exclusion_create(service_user=record, kind="other", reason="x", entered_by=worker)
    assert not Exclusion.objects.exists()
