"""Offers: a supporter is asked, has a deadline to answer, and a refusal, a decline or silence
moves the person on to the next candidate. Refusals carry codes; texts carry no detail.

The small helpers at the top (``consenting_person``, ``waiting_record``, ``ready_supporter``)
are shared with the other service-layer test modules of this folder.
"""

from __future__ import annotations

import datetime as dt
import itertools
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from notifications.sms import MemorySMSClient
from peer_support import tasks
from peer_support.matching import NEED_LABELS
from peer_support.models import (
    Alert,
    Exclusion,
    Match,
    Offer,
    ServiceUserRecord,
    Supporter,
)
from peer_support.selectors import (
    offers_visible_to,
    suggestions_for_record,
    supporter_places_taken,
)
from peer_support.services import (
    exclusion_create,
    match_create,
    match_end,
    offer_accept,
    offer_decline,
    offer_make,
    offer_withdraw,
    offers_expire_sweep,
    offers_make_from_batch,
    supporter_availability_update,
)
from portal.models import AuditEvent, Consent, User
from portal.roles import Role
from portal.sensitive import sensitive_words_in
from portal.services import consent_give, consent_withdraw, consent_wording_ensure
from tests.factories import (
    MatchFactory,
    OfferFactory,
    ServiceFactory,
    ServiceUserRecordFactory,
    SupporterFactory,
    UserFactory,
)
from tests.portal.conftest import make_member

pytestmark = pytest.mark.django_db

# --- Shared helpers --------------------------------------------------------------------------

_mobiles = itertools.count()


def fresh_mobile() -> str:
    """A drama-range number (07700 900 600..999) that make_member's service users never use."""
    return f"+447700900{600 + next(_mobiles) % 400:03d}"


def consenting_person(service, **user_fields) -> User:
    """A service user of ``service`` who agreed to peer support."""
    consent_wording_ensure()
    person = make_member(Role.SERVICE_USER, service, **user_fields)
    consent_give(
        subject=person,
        service=service,
        purpose="peer_support",
        method="verbal_custody",
        recorded_by=UserFactory(),
    )
    return person


def waiting_record(service, **fields) -> ServiceUserRecord:
    """A person on the waiting list who could be offered a supporter now."""
    fields.setdefault("user", consenting_person(service))
    return ServiceUserRecordFactory(service=service, **fields)


def ready_supporter(service, *, with_mobile: bool = True, **fields) -> Supporter:
    """A ready volunteer of ``service``; by default with a mobile, so offers are texted."""
    user = make_member(Role.PEER_VOLUNTEER, service, mobile=fresh_mobile() if with_mobile else "")
    return SupporterFactory(user=user, services=[service], **fields)


def refusal_codes(excinfo) -> set[str]:
    return {error.code for error in excinfo.value.error_list}


def pending_offer(record) -> Offer | None:
    return Offer.objects.filter(service_user=record, status=Offer.Status.PENDING).first()


def alerts(kind, **filters) -> list[Alert]:
    return list(Alert.objects.filter(kind=kind, **filters))


# --- Fixtures --------------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def empty_outbox():
    MemorySMSClient.outbox.clear()
    yield
    MemorySMSClient.outbox.clear()


@pytest.fixture
def coordinator(service):
    return make_member(Role.COORDINATOR, service)


@pytest.fixture
def record(service):
    return waiting_record(service)


@pytest.fixture
def supporter(service):
    return ready_supporter(service)


@pytest.fixture
def second(service):
    """Another ready supporter, a little less suited (covers the next district only)."""
    return ready_supporter(service, districts_covered=["NM2"])


# --- offer_make: refusals ----------------------------------------------------------------------


def _today() -> dt.date:
    return timezone.localdate()


def _update(obj, **changes) -> None:
    for name, value in changes.items():
        setattr(obj, name, value)
    obj.save()


def _fill_with_a_match(w) -> None:
    _update(w.supporter, capacity=1)
    MatchFactory(supporter=w.supporter, service_user=ServiceUserRecordFactory(service=w.service))


def _fill_with_a_pending_offer(w) -> None:
    _update(w.supporter, capacity=1)
    offer_make(
        service_user=waiting_record(w.service), supporter=w.supporter, offered_by=w.coordinator
    )


def _exclude_directly(w) -> None:
    exclusion_create(
        service_user=w.record,
        supporter=w.supporter,
        kind=Exclusion.Kind.FAMILY,
        reason="Cousins",
        entered_by=w.coordinator,
    )


def _exclude_via_co_defendant(w) -> None:
    co_defendant = ServiceUserRecordFactory(service=w.service)
    MatchFactory(service_user=co_defendant, supporter=w.supporter)
    exclusion_create(
        service_user=co_defendant,
        other_service_user=w.record,
        kind=Exclusion.Kind.CO_DEFENDANT,
        reason="Same incident",
        entered_by=w.coordinator,
    )


def _withdraw_consent(w) -> None:
    consent = Consent.objects.get(subject=w.record.user, purpose="peer_support")
    consent_withdraw(consent=consent, method="verbal_phone", recorded_by=w.coordinator)


def _already_matched(w) -> None:
    MatchFactory(service_user=w.record, supporter=SupporterFactory(services=[w.service]))


def _offer_already_pending(w) -> None:
    OfferFactory(service_user=w.record, supporter=SupporterFactory(services=[w.service]))


OFFER_REFUSALS = [
    ("paused", lambda w: _update(w.supporter, paused=True, paused_reason="On leave"), "paused"),
    ("full of matches", _fill_with_a_match, "no_capacity"),
    ("full of pending offers", _fill_with_a_pending_offer, "no_capacity"),
    ("dbs lapsed",
     lambda w: _update(w.supporter, dbs_checked_on=_today() - dt.timedelta(days=1095)),
     "not_ready"),
    ("training missing",
     lambda w: _update(w.supporter, training_modules_completed=["safeguarding"]), "not_ready"),
    ("supervision overdue",
     lambda w: _update(w.supporter, last_supervision_on=_today() - dt.timedelta(days=57)),
     "not_ready"),
    ("other service", lambda w: w.supporter.services.set([w.other_service]),
     "different_service"),
    ("under 18 not cleared", lambda w: _update(w.record, age_band="under_18"),
     "not_cleared_for_under_18"),
    ("gender preference",
     lambda w: (_update(w.supporter, gender="man"),
                _update(w.record, preferred_supporter_gender="woman")),
     "gender_preference"),
    ("no shared language",
     lambda w: _update(w.record, languages=["pl"], accessibility_needs=["interpreter"]),
     "no_shared_language"),
    ("excluded directly", _exclude_directly, "excluded"),
    ("excluded via a co-defendant's supporter", _exclude_via_co_defendant, "excluded"),
    ("no account", lambda w: _update(w.record, user=None), "no_account"),
    ("no consent", _withdraw_consent, "no_consent"),
    ("closed record",
     lambda w: _update(w.record, status="closed", closed_reason="Moved away"), "record_closed"),
    ("already matched", _already_matched, "already_matched"),
    ("offer already pending", _offer_already_pending, "offer_pending"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("arrange", "code"), [pytest.param(a, c, id=name) for name, a, c in OFFER_REFUSALS]
)
def test_offer_make_refuses_with_a_code(
    service, other_service, record, supporter, coordinator, arrange, code
):
    world = SimpleNamespace(
        service=service,
        other_service=other_service,
        record=record,
        supporter=supporter,
        coordinator=coordinator,
    )
    arrange(world)
    MemorySMSClient.outbox.clear()

    with pytest.raises(ValidationError) as excinfo:
        offer_make(service_user=record, supporter=supporter, offered_by=coordinator)

    assert code in refusal_codes(excinfo)
    assert not Offer.objects.filter(service_user=record, supporter=supporter).exists()
    if code == "excluded":
        assert "Cousins" not in str(excinfo.value)
        assert "Same incident" not in str(excinfo.value)


def test_offer_make_gives_every_reason_at_once(record, supporter, coordinator, other_service):
    _update(supporter, paused=True, paused_reason="Leave", training_modules_completed=[])
    supporter.services.set([other_service])
    with pytest.raises(ValidationError) as excinfo:
        offer_make(service_user=record, supporter=supporter, offered_by=coordinator)
    assert refusal_codes(excinfo) == {"different_service", "paused", "not_ready"}


@pytest.mark.parametrize(
    "role", [Role.PEER_VOLUNTEER, Role.SERVICE_USER, Role.COMMISSIONER, Role.ADMINISTRATOR]
)
def test_only_casework_staff_of_the_service_may_make_an_offer(service, record, supporter, role):
    someone = make_member(role, service)
    with pytest.raises(PermissionDenied):
        offer_make(service_user=record, supporter=supporter, offered_by=someone)
    assert not Offer.objects.exists()


def test_staff_of_another_service_may_not_make_an_offer(record, supporter, other_service):
    stranger = make_member(Role.COORDINATOR, other_service)
    with pytest.raises(PermissionDenied):
        offer_make(service_user=record, supporter=supporter, offered_by=stranger)
    assert not Offer.objects.exists()


# --- offer_make: what is stored and sent -------------------------------------------------------


@pytest.mark.parametrize("hours", [48, 5])
def test_the_deadline_follows_the_setting(settings, record, supporter, coordinator, hours):
    settings.PEER_OFFER_DEADLINE_HOURS = hours
    offer = offer_make(service_user=record, supporter=supporter, offered_by=coordinator)
    assert offer.status == Offer.Status.PENDING
    assert offer.respond_by - offer.offered_at == dt.timedelta(hours=hours)
    assert offer.offered_by == coordinator


def test_the_score_and_explanation_seen_by_the_coordinator_are_stored(
    record, supporter, coordinator
):
    [(suggestion, suggested)] = suggestions_for_record(record=record)
    offer = offer_make(service_user=record, supporter=supporter, offered_by=coordinator)
    offer.refresh_from_db()
    assert suggested == supporter
    assert offer.score == pytest.approx(suggestion.score.total)
    assert offer.score > 0
    assert offer.explanation == suggestion.explanation
    assert "shares lived experience of housing" in offer.explanation


def test_an_offer_holds_a_place(record, supporter, coordinator):
    assert supporter_places_taken(supporter=supporter) == 0
    offer_make(service_user=record, supporter=supporter, offered_by=coordinator)
    assert supporter_places_taken(supporter=supporter) == 1


def test_offer_make_is_audited_with_field_names_only(record, supporter, coordinator):
    offer = offer_make(service_user=record, supporter=supporter, offered_by=coordinator)
    event = AuditEvent.objects.get(
        object_type="peer_support.offer", object_id=str(offer.pk), action="create"
    )
    assert event.actor == coordinator
    assert event.subject == record.user
    assert event.service_id == record.service_id
    assert event.detail == "fields=service_user,supporter"
    for value in (record.preferred_name, str(record.mobile), offer.explanation, "housing"):
        assert value not in event.detail


def test_a_referred_person_offered_a_supporter_moves_to_the_waiting_list(
    service, supporter, coordinator
):
    record = waiting_record(service, status=ServiceUserRecord.Status.REFERRED)
    offer_make(service_user=record, supporter=supporter, offered_by=coordinator)
    record.refresh_from_db()
    assert record.status == ServiceUserRecord.Status.AWAITING_MATCH


FORBIDDEN_IN_TEXTS = ("mental", "police", "court", "custody", "drug", "alcohol", "liaison")


def assert_neutral(body: str, record: ServiceUserRecord) -> None:
    lowered = body.lower()
    assert record.preferred_name.lower() not in lowered
    assert record.home_district.lower() not in lowered
    for label in NEED_LABELS.values():
        assert label not in lowered
    for word in FORBIDDEN_IN_TEXTS:
        assert word not in lowered
    assert sensitive_words_in(body) == []


def test_the_supporter_gets_one_neutral_text(
    record, supporter, coordinator, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        offer = offer_make(service_user=record, supporter=supporter, offered_by=coordinator)

    assert len(MemorySMSClient.outbox) == 1
    [message] = MemorySMSClient.outbox
    assert message.to == str(supporter.user.mobile)
    assert message.recipient_id == supporter.user_id
    assert "peer support portal" in message.body
    assert_neutral(message.body, record)
    offer.refresh_from_db()
    assert offer.supporter_notified_at is not None

    # A retried task sends nothing more.
    assert tasks.offer_notify_supporter(offer.pk) is False
    assert tasks.offer_notify_supporter(offer.pk) is False
    assert len(MemorySMSClient.outbox) == 1


def test_the_text_says_when_to_answer_by_in_local_time(settings, record, supporter, coordinator):
    settings.PEER_OFFER_DEADLINE_HOURS = 48
    london = ZoneInfo("Europe/London")
    with time_machine.travel(dt.datetime(2026, 6, 1, 13, 30, tzinfo=london), tick=False):
        _update(
            supporter, dbs_checked_on=dt.date(2026, 1, 5), last_supervision_on=dt.date(2026, 5, 25)
        )
        offer = offer_make(service_user=record, supporter=supporter, offered_by=coordinator)
        assert tasks.offer_notify_supporter(offer.pk) is True
    [message] = MemorySMSClient.outbox
    assert "answer by Wednesday 3 June 2026, 1:30pm" in message.body


def test_a_supporter_without_a_mobile_gets_no_text(
    service, record, coordinator, django_capture_on_commit_callbacks
):
    supporter = ready_supporter(service, with_mobile=False)
    with django_capture_on_commit_callbacks(execute=True):
        offer = offer_make(service_user=record, supporter=supporter, offered_by=coordinator)
    assert MemorySMSClient.outbox == []
    assert tasks.offer_notify_supporter(offer.pk) is False
    assert MemorySMSClient.outbox == []


def test_no_text_for_an_offer_already_answered(record, supporter, coordinator):
    offer = offer_make(service_user=record, supporter=supporter, offered_by=coordinator)
    offer_withdraw(offer=offer, withdrawn_by=coordinator)
    assert tasks.offer_notify_supporter(offer.pk) is False
    assert tasks.offer_notify_supporter(999_999) is False
    assert MemorySMSClient.outbox == []


# --- offer_accept ------------------------------------------------------------------------------


def test_accepting_makes_the_match(record, supporter, coordinator):
    offer = offer_make(service_user=record, supporter=supporter, offered_by=coordinator)

    match = offer_accept(offer=offer, accepted_by=supporter.user)

    offer.refresh_from_db()
    record.refresh_from_db()
    assert match.is_active
    assert (match.service_user, match.supporter, match.created_by) == (
        record,
        supporter,
        supporter.user,
    )
    assert offer.status == Offer.Status.ACCEPTED
    assert offer.match == match
    assert offer.responded_at is not None
    assert record.status == ServiceUserRecord.Status.MATCHED
    [alert] = alerts(Alert.Kind.OFFER_ACCEPTED)
    assert (alert.service_id, alert.offer, alert.supporter) == (
        record.service_id,
        offer,
        supporter,
    )
    # Accepting frees the place the offer held and takes it with the match: still one.
    assert supporter_places_taken(supporter=supporter) == 1


def test_accepting_into_the_last_place_held_by_the_offer_itself_works(
    service, record, coordinator
):
    supporter = ready_supporter(service, capacity=1)
    offer = offer_make(service_user=record, supporter=supporter, offered_by=coordinator)
    assert offer_accept(offer=offer, accepted_by=supporter.user).is_active


@pytest.mark.parametrize("who", ["coordinator", "another volunteer", "the person"])
def test_only_the_offered_supporter_may_accept(service, record, supporter, coordinator, who):
    offer = offer_make(service_user=record, supporter=supporter, offered_by=coordinator)
    user = {
        "coordinator": coordinator,
        "another volunteer": ready_supporter(service).user,
        "the person": record.user,
    }[who]
    with pytest.raises(PermissionDenied):
        offer_accept(offer=offer, accepted_by=user)
    with pytest.raises(PermissionDenied):
        offer_decline(offer=offer, declined_by=user, reason=Offer.DeclineReason.NO_TIME)
    offer.refresh_from_db()
    assert offer.status == Offer.Status.PENDING
    assert not Match.objects.exists()


def test_accepting_twice_is_refused(record, supporter, coordinator):
    offer = offer_make(service_user=record, supporter=supporter, offered_by=coordinator)
    offer_accept(offer=offer, accepted_by=supporter.user)
    with pytest.raises(ValidationError) as excinfo:
        offer_accept(offer=offer, accepted_by=supporter.user)
    assert refusal_codes(excinfo) == {"not_pending"}
    assert Match.objects.count() == 1


def test_accepting_after_the_deadline_expires_the_offer_and_offers_the_next(
    record, supporter, second, coordinator
):
    offer = offer_make(service_user=record, supporter=supporter, offered_by=coordinator)

    late = time_machine.travel(offer.respond_by + dt.timedelta(minutes=1))
    with late, pytest.raises(ValidationError) as excinfo:
        offer_accept(offer=offer, accepted_by=supporter.user)

    assert refusal_codes(excinfo) == {"expired"}
    offer.refresh_from_db()
    assert offer.status == Offer.Status.EXPIRED  # saved although the accept failed
    assert not Match.objects.exists()
    following = pending_offer(record)
    assert following.supporter == second
    assert following.offered_by is None
    [alert] = alerts(Alert.Kind.OFFER_EXPIRED)
    assert alert.offer == offer


def _pause(w) -> None:
    supporter_availability_update(
        supporter=w.supporter,
        changed_by=w.supporter.user,
        availability=[],
        capacity=w.supporter.capacity,
        paused=True,
        paused_reason="Holiday",
    )


def _fill(w) -> None:
    _update(w.supporter, capacity=1)  # the place this offer holds does not count against it
    MatchFactory(supporter=w.supporter, service_user=ServiceUserRecordFactory(service=w.service))


NO_LONGER_POSSIBLE = [
    ("paused", _pause, "paused"),
    ("full", _fill, "has no free places"),
    ("excluded", _exclude_directly, "must not be matched"),
]


@pytest.mark.parametrize(
    ("arrange", "said"), [pytest.param(a, s, id=name) for name, a, s in NO_LONGER_POSSIBLE]
)
def test_an_offer_that_can_no_longer_go_ahead_is_withdrawn_and_the_next_offered(
    service, other_service, record, supporter, second, coordinator, arrange, said
):
    offer = offer_make(service_user=record, supporter=supporter, offered_by=coordinator)
    arrange(
        SimpleNamespace(
            service=service, record=record, supporter=supporter, coordinator=coordinator
        )
    )

    with pytest.raises(ValidationError) as excinfo:
        offer_accept(offer=offer, accepted_by=supporter.user)

    assert refusal_codes(excinfo) == {"no_longer_possible"}
    offer.refresh_from_db()
    assert offer.status == Offer.Status.WITHDRAWN
    assert offer.closed_note.startswith("Could not go ahead")
    assert said in offer.closed_note
    assert not Match.objects.filter(service_user=record).exists()
    [told] = alerts(Alert.Kind.OFFER_DECLINED, offer=offer)
    assert told.service_id == service.pk
    assert pending_offer(record).supporter == second
    assert "Cousins" not in offer.closed_note + told.message


def test_consent_withdrawn_before_accepting_offers_nobody_and_alerts(
    record, supporter, second, coordinator
):
    offer = offer_make(service_user=record, supporter=supporter, offered_by=coordinator)
    _withdraw_consent(SimpleNamespace(record=record, coordinator=coordinator))

    with pytest.raises(ValidationError) as excinfo:
        offer_accept(offer=offer, accepted_by=supporter.user)

    assert refusal_codes(excinfo) == {"no_longer_possible"}
    offer.refresh_from_db()
    assert offer.status == Offer.Status.WITHDRAWN
    assert "consent" in offer.closed_note
    assert alerts(Alert.Kind.OFFER_DECLINED, offer=offer)
    assert pending_offer(record) is None
    assert not Offer.objects.filter(supporter=second).exists()
    [nobody] = alerts(Alert.Kind.NO_SUPPORTER, service_user=record)
    assert "consent" in nobody.message


# --- offer_decline -----------------------------------------------------------------------------


@pytest.fixture
def ranked(service):
    """Three eligible supporters, best first, plus two who must never be offered."""
    best = ready_supporter(service)  # housing, covers NM1
    middle = ready_supporter(service, districts_covered=["NM2"])  # housing, nearby
    last = ready_supporter(service, lived_experience=[], districts_covered=["ZZ9"])
    ready_supporter(service, paused=True, paused_reason="On leave", capacity=9)
    SupporterFactory(services=[ServiceFactory()], capacity=9)
    return best, middle, last


@pytest.mark.parametrize("reason", ["", "busy", None])
def test_a_decline_needs_a_valid_reason(record, supporter, coordinator, reason):
    offer = offer_make(service_user=record, supporter=supporter, offered_by=coordinator)
    with pytest.raises(ValidationError) as excinfo:
        offer_decline(offer=offer, declined_by=supporter.user, reason=reason)
    assert "decline_reason" in excinfo.value.message_dict
    offer.refresh_from_db()
    assert offer.status == Offer.Status.PENDING


def test_declines_go_down_the_ranking_then_alert_when_nobody_is_left(record, ranked, coordinator):
    best, middle, last = ranked
    offer = offer_make(service_user=record, supporter=best, offered_by=coordinator)

    offer_decline(offer=offer, declined_by=best.user, reason=Offer.DeclineReason.NO_TIME)
    offer.refresh_from_db()
    assert (offer.status, offer.decline_reason) == (Offer.Status.DECLINED, "no_time")
    following = pending_offer(record)
    assert following.supporter == middle

    offer_decline(offer=following, declined_by=middle.user, reason=Offer.DeclineReason.KNOW_THEM)
    following = pending_offer(record)
    assert following.supporter == last  # not the best again: asked already in this round

    offer_decline(offer=following, declined_by=last.user, reason=Offer.DeclineReason.OTHER)
    assert pending_offer(record) is None
    assert Offer.objects.filter(service_user=record).count() == 3
    declined = alerts(Alert.Kind.OFFER_DECLINED, service_user=record)
    assert len(declined) == 3
    assert any("i may know this person" in a.message.lower() for a in declined)
    [nobody] = alerts(Alert.Kind.NO_SUPPORTER, service_user=record)
    assert nobody.service_id == record.service_id


def test_declining_twice_is_refused(record, supporter, coordinator):
    offer = offer_make(service_user=record, supporter=supporter, offered_by=coordinator)
    offer_decline(offer=offer, declined_by=supporter.user, reason=Offer.DeclineReason.NO_TIME)
    with pytest.raises(ValidationError) as excinfo:
        offer_decline(offer=offer, declined_by=supporter.user, reason=Offer.DeclineReason.NO_TIME)
    assert refusal_codes(excinfo) == {"not_pending"}


def test_a_supporter_who_declined_in_an_earlier_round_can_be_asked_again(
    record, ranked, coordinator
):
    best, middle, last = ranked
    first = offer_make(service_user=record, supporter=best, offered_by=coordinator)
    offer_decline(offer=first, declined_by=best.user, reason=Offer.DeclineReason.NO_TIME)
    match = offer_accept(offer=pending_offer(record), accepted_by=middle.user)
    match_end(match=match, reason=Match.EndReason.SUPPORTER_LEFT, ended_by=coordinator)

    # A new round: the coordinator asks the last one, who says no.
    again = offer_make(service_user=record, supporter=last, offered_by=coordinator)
    offer_decline(offer=again, declined_by=last.user, reason=Offer.DeclineReason.NO_TIME)

    assert pending_offer(record).supporter == best


# --- offers_expire_sweep -----------------------------------------------------------------------


def test_the_sweep_expires_only_offers_past_their_deadline_and_is_idempotent(
    service, record, supporter, second, coordinator
):
    start = timezone.now()
    early = offer_make(service_user=record, supporter=supporter, offered_by=coordinator)
    later_record = waiting_record(service)
    with time_machine.travel(start + dt.timedelta(hours=40)):
        later = offer_make(service_user=later_record, supporter=second, offered_by=coordinator)

    with time_machine.travel(start + dt.timedelta(hours=49)):
        first_run = tasks.offers_expire_sweep()
        second_run = tasks.offers_expire_sweep()

    assert first_run == [early.pk]
    assert second_run == []
    early.refresh_from_db()
    later.refresh_from_db()
    assert early.status == Offer.Status.EXPIRED
    assert later.status == Offer.Status.PENDING
    following = pending_offer(record)
    assert following.supporter == second and following.offered_by is None
    [expired] = alerts(Alert.Kind.OFFER_EXPIRED)
    assert expired.offer == early
    assert Alert.objects.count() == 1


def test_the_sweep_reads_the_time_it_is_given(record, supporter, coordinator):
    offer = offer_make(service_user=record, supporter=supporter, offered_by=coordinator)
    assert offers_expire_sweep(now=offer.respond_by - dt.timedelta(seconds=1)) == []
    assert offers_expire_sweep(now=offer.respond_by) == [offer.pk]
    offer.refresh_from_db()
    assert offer.status == Offer.Status.EXPIRED
    # Nobody else to ask: the coordinator is told.
    assert alerts(Alert.Kind.NO_SUPPORTER, service_user=record)


def test_the_sweep_is_scheduled():
    specs = {spec["func"]: spec for spec in settings.PORTAL_SCHEDULES}
    spec = specs["peer_support.tasks.offers_expire_sweep"]
    assert spec["schedule_type"] == "I"
    assert 0 < spec["minutes"] <= 60


# --- offer_withdraw and batches ---------------------------------------------------------------


def test_a_coordinator_withdraws_an_offer_without_offering_the_next(
    record, supporter, second, coordinator
):
    offer = offer_make(service_user=record, supporter=supporter, offered_by=coordinator)
    offer_withdraw(offer=offer, withdrawn_by=coordinator, note="Spoke to them")
    offer.refresh_from_db()
    assert (offer.status, offer.closed_note) == (Offer.Status.WITHDRAWN, "Spoke to them")
    assert pending_offer(record) is None
    assert supporter_places_taken(supporter=supporter) == 0
    with pytest.raises(ValidationError) as excinfo:
        offer_withdraw(offer=offer, withdrawn_by=coordinator)
    assert refusal_codes(excinfo) == {"not_pending"}


def test_only_casework_staff_may_withdraw_an_offer(record, supporter, coordinator, other_service):
    offer = offer_make(service_user=record, supporter=supporter, offered_by=coordinator)
    for user in (supporter.user, make_member(Role.COORDINATOR, other_service)):
        with pytest.raises(PermissionDenied):
            offer_withdraw(offer=offer, withdrawn_by=user)
    offer.refresh_from_db()
    assert offer.status == Offer.Status.PENDING


def test_offers_from_a_batch_are_made_or_refused_with_reasons(
    service, other_service, record, supporter, second, coordinator
):
    paused = ready_supporter(service, paused=True, paused_reason="On leave")
    blocked = waiting_record(service)
    third = waiting_record(service)
    elsewhere = waiting_record(other_service)
    pairs = {
        record.pk: supporter.pk,
        blocked.pk: paused.pk,
        elsewhere.pk: supporter.pk,
        third.pk: second.pk,
    }

    made, refused = offers_make_from_batch(service=service, pairs=pairs, offered_by=coordinator)

    assert {(o.service_user_id, o.supporter_id) for o in made} == {
        (record.pk, supporter.pk),
        (third.pk, second.pk),
    }
    assert set(refused) == {blocked.pk, elsewhere.pk}
    assert any("paused" in reason for reason in refused[blocked.pk])
    assert refused[elsewhere.pk] == ["This person or supporter is not in your service."]
    assert not Offer.objects.filter(service_user=elsewhere).exists()


def test_offers_from_a_batch_need_casework_staff(service, record, supporter):
    volunteer = ready_supporter(service).user
    with pytest.raises(PermissionDenied):
        offers_make_from_batch(
            service=service, pairs={record.pk: supporter.pk}, offered_by=volunteer
        )
    assert not Offer.objects.exists()


# --- offers_visible_to -------------------------------------------------------------------------


def test_who_sees_which_offers(service, other_service, record, supporter, second, coordinator):
    mine = offer_make(service_user=record, supporter=supporter, offered_by=coordinator)
    theirs = offer_make(
        service_user=waiting_record(service), supporter=second, offered_by=coordinator
    )
    elsewhere = OfferFactory(
        service_user=ServiceUserRecordFactory(service=other_service),
        supporter=SupporterFactory(services=[other_service]),
    )

    def seen(user) -> set[Offer]:
        return set(offers_visible_to(user=User.objects.get(pk=user.pk)))

    assert seen(supporter.user) == {mine}
    assert seen(second.user) == {theirs}
    assert seen(coordinator) == {mine, theirs}
    assert seen(make_member(Role.PEER_SUPPORT_WORKER, other_service)) == {elsewhere}
    assert seen(record.user) == set()
    assert seen(make_member(Role.COMMISSIONER, service)) == set()


# --- A direct match and a pending offer --------------------------------------------------------


def test_a_direct_match_withdraws_the_persons_pending_offer(
    record, supporter, second, coordinator
):
    offer = offer_make(service_user=record, supporter=second, offered_by=coordinator)

    match_create(service_user=record, supporter=supporter, created_by=coordinator)

    offer.refresh_from_db()
    assert offer.status == Offer.Status.WITHDRAWN
    assert supporter_places_taken(supporter=second) == 0
    assert not alerts(Alert.Kind.NO_SUPPORTER)


def test_a_direct_match_with_the_supporter_already_offered_uses_the_held_place(
    service, record, coordinator
):
    supporter = ready_supporter(service, capacity=1)
    offer = offer_make(service_user=record, supporter=supporter, offered_by=coordinator)

    match = match_create(service_user=record, supporter=supporter, created_by=coordinator)

    offer.refresh_from_db()
    assert match.is_active
    assert offer.status == Offer.Status.WITHDRAWN
    assert supporter_places_taken(supporter=supporter) == 1


def test_a_refused_direct_match_leaves_the_pending_offer_alone(
    service, record, second, coordinator
):
    offer = offer_make(service_user=record, supporter=second, offered_by=coordinator)
    paused = ready_supporter(service, paused=True, paused_reason="On leave")
    with pytest.raises(ValidationError):
        match_create(service_user=record, supporter=paused, created_by=coordinator)
    offer.refresh_from_db()
    assert offer.status == Offer.Status.PENDING
