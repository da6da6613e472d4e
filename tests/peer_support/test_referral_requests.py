"""A person's record from the first request to closing: the public "Ask for a peer supporter"
form, an account for a referred person, their preferences, and closing the record."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from peer_support.models import Alert, Offer, ServiceUserRecord
from peer_support.services import (
    match_create,
    offer_make,
    referral_request_create,
    service_user_account_create,
    service_user_preferences_update,
    service_user_record_close,
)
from portal.models import AuditEvent, Membership, User
from portal.roles import Role
from tests.factories import ServiceUserRecordFactory, UserFactory
from tests.peer_support.test_offers import ready_supporter, waiting_record
from tests.portal.conftest import make_member

pytestmark = pytest.mark.django_db

MOBILE = "+447700900950"


@pytest.fixture
def coordinator(service):
    return make_member(Role.COORDINATOR, service)


def request(service, **changes) -> ServiceUserRecord:
    values = {
        "source": ServiceUserRecord.Source.SELF,
        "preferred_name": "Sam",
        "age_band": "25_plus",
        "mobile": "07700 900950",
    }
    values.update(changes)
    return referral_request_create(service=service, **values)


def codes(excinfo) -> set[str]:
    return {error.code for error in excinfo.value.error_list}


# --- referral_request_create -------------------------------------------------------------------


def test_a_person_asks_for_themselves(service):
    record = request(
        service, home_district="nm1 ", needs=["housing"], notes="<b>Please</b> call after 5"
    )
    record.refresh_from_db()
    assert record.status == ServiceUserRecord.Status.REFERRED
    assert record.source == ServiceUserRecord.Source.SELF
    assert record.user is None
    assert str(record.mobile) == MOBILE
    assert record.home_district == "NM1"
    assert record.referral_notes == "Please call after 5"
    [alert] = Alert.objects.all()
    assert (alert.service_id, alert.kind, alert.service_user) == (
        service.pk,
        Alert.Kind.NEW_REFERRAL,
        record,
    )
    assert "Sam" not in alert.message
    [event] = AuditEvent.objects.filter(object_type="peer_support.serviceuserrecord")
    assert event.actor is None
    assert event.action == AuditEvent.Action.CREATE
    assert event.service_id == service.pk
    assert event.detail == "referral source=self"


def test_someone_else_asks_with_their_agreement(service):
    record = request(
        service,
        source=ServiceUserRecord.Source.SOMEONE_ELSE,
        mobile="",
        referrer_name="  Jo  ",
        referrer_relationship="Sister",
        referrer_phone="0113 496 0000",
        notes="<script>alert(1)</script><p onclick='x()'>They would like help</p>",
    )
    record.refresh_from_db()
    assert record.source == ServiceUserRecord.Source.SOMEONE_ELSE
    assert record.referrer_name == "Jo"
    assert record.referrer_relationship == "Sister"
    assert record.referrer_phone.as_e164 == "+441134960000"
    assert record.referral_notes == "alert(1)<p>They would like help</p>"
    assert record.status == ServiceUserRecord.Status.REFERRED
    assert AuditEvent.objects.get(object_id=str(record.pk)).detail == (
        "referral source=someone_else"
    )


@pytest.mark.parametrize("name", ["", "   "])
def test_someone_else_must_give_their_name(service, name):
    with pytest.raises(ValidationError) as excinfo:
        request(service, source=ServiceUserRecord.Source.SOMEONE_ELSE, referrer_name=name)
    assert "referrer_name" in excinfo.value.message_dict
    assert not ServiceUserRecord.objects.exists()


def test_at_least_one_phone_number_is_needed(service):
    with pytest.raises(ValidationError) as excinfo:
        request(service, mobile="", referrer_phone="")
    assert codes(excinfo) == {"no_phone"}
    assert not ServiceUserRecord.objects.exists()
    assert not Alert.objects.exists()


@pytest.mark.parametrize("source", [ServiceUserRecord.Source.LD_TEAM, "", "police"])
def test_the_public_form_cannot_claim_another_source(service, source):
    with pytest.raises(ValidationError) as excinfo:
        request(service, source=source)
    assert codes(excinfo) == {"invalid_source"}
    assert not ServiceUserRecord.objects.exists()


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"mobile": "0113 496 0000"}, "mobile"),  # a landline cannot get texts
        ({"preferred_name": "   "}, "preferred_name"),
        ({"age_band": "old"}, "age_band"),
        ({"home_district": "NOT A DISTRICT"}, "home_district"),
    ],
)
def test_bad_values_are_refused_and_nothing_is_saved(service, changes, field):
    with pytest.raises(ValidationError) as excinfo:
        request(service, **changes)
    assert field in excinfo.value.message_dict
    assert not ServiceUserRecord.objects.exists()
    assert not Alert.objects.exists()


def test_an_unknown_need_is_refused(service):
    with pytest.raises(ValidationError) as excinfo:
        request(service, needs=["flying"])
    assert [e.code for e in excinfo.value.error_dict["needs"]] == ["unknown_choice"]
    assert not ServiceUserRecord.objects.exists()


def test_an_unknown_need_gives_a_readable_message(service):
    with pytest.raises(ValidationError) as excinfo:
        request(service, needs=["flying"])
    assert "flying" in " ".join(excinfo.value.message_dict["needs"])


# --- service_user_account_create -------------------------------------------------------------


@pytest.fixture
def referred(service):
    return ServiceUserRecordFactory(
        service=service, user=None, mobile=MOBILE, status=ServiceUserRecord.Status.REFERRED
    )


def test_a_referred_person_gets_an_account_and_joins_the_waiting_list(
    service, referred, coordinator
):
    user = service_user_account_create(record=referred, created_by=coordinator)

    referred.refresh_from_db()
    assert referred.user == user
    assert referred.status == ServiceUserRecord.Status.AWAITING_MATCH
    assert str(user.mobile) == MOBILE
    assert user.first_name == referred.preferred_name
    assert not user.has_usable_password()
    assert list(Membership.objects.filter(user=user).values_list("service_id", "role")) == [
        (service.pk, Role.SERVICE_USER)
    ]
    event = AuditEvent.objects.get(
        object_type="peer_support.serviceuserrecord", object_id=str(referred.pk)
    )
    assert (event.actor, event.subject, event.detail) == (coordinator, user, "fields=user,status")


def test_an_account_keeps_a_later_status(service, coordinator):
    record = ServiceUserRecordFactory(
        service=service, user=None, mobile=MOBILE, status=ServiceUserRecord.Status.AWAITING_MATCH
    )
    service_user_account_create(record=record, created_by=coordinator)
    record.refresh_from_db()
    assert record.status == ServiceUserRecord.Status.AWAITING_MATCH


def test_no_account_without_a_mobile(service, coordinator):
    record = ServiceUserRecordFactory(service=service, user=None, mobile="")
    with pytest.raises(ValidationError) as excinfo:
        service_user_account_create(record=record, created_by=coordinator)
    assert codes(excinfo) == {"no_mobile"}
    assert User.objects.filter(memberships__role=Role.SERVICE_USER).count() == 0


def test_no_account_with_a_mobile_someone_else_has(referred, coordinator):
    UserFactory(mobile=MOBILE)
    with pytest.raises(ValidationError) as excinfo:
        service_user_account_create(record=referred, created_by=coordinator)
    assert codes(excinfo) == {"mobile_taken"}
    referred.refresh_from_db()
    assert referred.user is None
    assert referred.status == ServiceUserRecord.Status.REFERRED


def test_no_second_account(referred, coordinator):
    service_user_account_create(record=referred, created_by=coordinator)
    with pytest.raises(ValidationError) as excinfo:
        service_user_account_create(record=referred, created_by=coordinator)
    assert codes(excinfo) == {"has_account"}
    assert User.objects.filter(mobile=MOBILE).count() == 1


@pytest.mark.parametrize(
    "role", [Role.PEER_VOLUNTEER, Role.SERVICE_USER, Role.COMMISSIONER, Role.ADMINISTRATOR]
)
def test_only_casework_staff_create_accounts(service, referred, role):
    someone = make_member(role, service)
    with pytest.raises(PermissionDenied):
        service_user_account_create(record=referred, created_by=someone)
    assert not User.objects.filter(mobile=MOBILE).exists()


def test_staff_of_another_service_cannot_create_an_account(referred, other_service):
    with pytest.raises(PermissionDenied):
        service_user_account_create(
            record=referred, created_by=make_member(Role.COORDINATOR, other_service)
        )
    assert not User.objects.filter(mobile=MOBILE).exists()


# --- service_user_preferences_update -------------------------------------------------------


@pytest.fixture
def record(service):
    return waiting_record(service)


def update(record, user, **changes) -> ServiceUserRecord:
    values = {
        "preferred_name": record.preferred_name,
        "preferred_supporter_gender": record.preferred_supporter_gender,
        "languages": list(record.languages),
        "accessibility_needs": list(record.accessibility_needs),
        "interests": list(record.interests),
        "availability": list(record.availability),
    }
    values.update(changes)
    return service_user_preferences_update(record=record, changed_by=user, **values)


def preference_events(record):
    return AuditEvent.objects.filter(
        object_type="peer_support.serviceuserrecord", object_id=str(record.pk), action="change"
    )


def test_the_person_updates_their_own_preferences(record):
    update(
        record,
        record.user,
        preferred_name=" Sammy ",
        interests=["football"],
        availability=[("sat", "morning")],
    )
    record.refresh_from_db()
    assert record.preferred_name == "Sammy"
    assert record.interests == ["football"]
    assert record.availability == [["sat", "morning"]]
    [event] = preference_events(record)
    assert event.actor == record.user
    assert event.detail == "fields=preferred_name,interests,availability"
    assert "Sammy" not in event.detail and "football" not in event.detail


@pytest.mark.parametrize("role", [Role.PEER_SUPPORT_WORKER, Role.COORDINATOR])
def test_casework_staff_update_preferences(service, record, role):
    staff = make_member(role, service)
    update(record, staff, preferred_supporter_gender="woman")
    record.refresh_from_db()
    assert record.preferred_supporter_gender == "woman"
    assert [e.detail for e in preference_events(record)] == ["fields=preferred_supporter_gender"]


def test_nothing_changed_writes_nothing(record):
    before = record.updated_at
    update(record, record.user)
    record.refresh_from_db()
    assert record.updated_at == before
    assert not preference_events(record).exists()


@pytest.mark.parametrize(
    "who", ["another service user", "their own supporter", "staff of another service"]
)
def test_nobody_else_updates_preferences(service, other_service, record, who):
    if who == "another service user":
        user = waiting_record(service).user
    elif who == "their own supporter":
        supporter = ready_supporter(service)
        match_create(
            service_user=record,
            supporter=supporter,
            created_by=make_member(Role.COORDINATOR, service),
        )
        user = supporter.user
    else:
        user = make_member(Role.COORDINATOR, other_service)
    with pytest.raises(PermissionDenied):
        update(record, user, preferred_name="Changed")
    record.refresh_from_db()
    assert record.preferred_name == "Sam"
    assert not preference_events(record).exists()


@pytest.mark.parametrize(
    "changes",
    [
        {"availability": [["funday", "morning"]]},
        {"accessibility_needs": ["telepathy"]},
        {"languages": [""]},
        {"preferred_name": ""},
    ],
)
def test_bad_preferences_are_refused(record, changes):
    with pytest.raises(ValidationError):
        update(record, record.user, **changes)
    assert not preference_events(record).exists()


# --- service_user_record_close ---------------------------------------------------------------


def test_a_record_cannot_close_while_matched(service, record, coordinator):
    match_create(service_user=record, supporter=ready_supporter(service), created_by=coordinator)
    with pytest.raises(ValidationError) as excinfo:
        service_user_record_close(record=record, reason="Moved away", closed_by=coordinator)
    assert codes(excinfo) == {"has_match"}
    record.refresh_from_db()
    assert record.status == ServiceUserRecord.Status.MATCHED


def test_closing_withdraws_a_pending_offer(service, record, coordinator):
    offer = offer_make(
        service_user=record, supporter=ready_supporter(service), offered_by=coordinator
    )

    service_user_record_close(record=record, reason=" Moved away ", closed_by=coordinator)

    record.refresh_from_db()
    offer.refresh_from_db()
    assert (record.status, record.closed_reason) == (ServiceUserRecord.Status.CLOSED, "Moved away")
    assert (offer.status, offer.closed_note) == (Offer.Status.WITHDRAWN, "Record closed")
    # Closing again changes nothing.
    service_user_record_close(record=record, reason="Other", closed_by=coordinator)
    record.refresh_from_db()
    assert record.closed_reason == "Moved away"


def test_closing_needs_a_reason_and_keeps_the_offer_when_refused(service, record, coordinator):
    offer = offer_make(
        service_user=record, supporter=ready_supporter(service), offered_by=coordinator
    )
    with pytest.raises(ValidationError) as excinfo:
        service_user_record_close(record=record, reason="  ", closed_by=coordinator)
    assert "closed_reason" in excinfo.value.message_dict
    offer.refresh_from_db()
    record.refresh_from_db()
    assert offer.status == Offer.Status.PENDING
    assert record.status == ServiceUserRecord.Status.AWAITING_MATCH


def test_only_casework_staff_close_records(service, record):
    for user in (record.user, ready_supporter(service).user):
        with pytest.raises(PermissionDenied):
            service_user_record_close(record=record, reason="Moved", closed_by=user)
    record.refresh_from_db()
    assert record.status == ServiceUserRecord.Status.AWAITING_MATCH
