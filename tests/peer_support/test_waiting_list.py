"""The bulk loaders the matcher reads (waiting list, supporters, expanded exclusions), one
person's suggestions, and how ending a match puts the person back on the list or closes them."""

from __future__ import annotations

import datetime as dt
import random

import pytest
from django.core.exceptions import PermissionDenied
from django.utils import timezone

from peer_support import selectors
from peer_support.models import (
    Exclusion,
    Match,
    Offer,
    ServiceUserRecord,
    Supporter,
)
from peer_support.selectors import (
    excluded_supporter_ids,
    suggestions_for_record,
    supporters_for_matching,
    waiting_list_for_matching,
)
from peer_support.services import match_create, match_end
from portal.models import Consent, ConsentWording, User
from portal.roles import Role
from portal.services import consent_withdraw, consent_wording_ensure
from tests.factories import (
    REQUIRED_TRAINING,
    MatchFactory,
    OfferFactory,
    ServiceUserRecordFactory,
    SupporterFactory,
    UserFactory,
)
from tests.peer_support.test_offers import consenting_person, ready_supporter, waiting_record
from tests.portal.conftest import make_member

pytestmark = pytest.mark.django_db


@pytest.fixture
def coordinator(service):
    return make_member(Role.COORDINATOR, service)


def waiting_ids(*services) -> list[int]:
    return [r.id for r in waiting_list_for_matching(service_ids=[s.pk for s in services])]


# --- waiting_list_for_matching -------------------------------------------------------------


def test_the_waiting_list_holds_exactly_who_could_be_offered_now(
    service, other_service, coordinator
):
    waiting = waiting_record(service)
    referred = waiting_record(service, status=ServiceUserRecord.Status.REFERRED)
    previously_matched = waiting_record(service)
    MatchFactory(
        service_user=previously_matched,
        started_at=timezone.now() - dt.timedelta(days=20),
        ended_at=timezone.now() - dt.timedelta(days=1),
        end_reason=Match.EndReason.MOVED,
    )
    out = {
        "no account": ServiceUserRecordFactory(service=service, user=None),
        "no consent": ServiceUserRecordFactory(
            service=service, user=make_member(Role.SERVICE_USER, service)
        ),
        "consent withdrawn": waiting_record(service),
        "matched": waiting_record(service, status=ServiceUserRecord.Status.MATCHED),
        "pending offer": waiting_record(service),
        "closed": waiting_record(
            service, status=ServiceUserRecord.Status.CLOSED, closed_reason="Moved away"
        ),
        "other service": waiting_record(other_service),
    }
    consent_withdraw(
        consent=Consent.objects.get(subject=out["consent withdrawn"].user),
        method="verbal_phone",
        recorded_by=coordinator,
    )
    MatchFactory(service_user=out["matched"])
    OfferFactory(service_user=out["pending offer"], supporter=SupporterFactory())
    OfferFactory(  # an answered offer does not keep anyone off the list
        service_user=waiting,
        supporter=SupporterFactory(),
        status=Offer.Status.DECLINED,
        decline_reason=Offer.DeclineReason.NO_TIME,
    )

    assert waiting_ids(service) == [waiting.pk, referred.pk, previously_matched.pk]
    assert waiting_ids(other_service) == [out["other service"].pk]
    assert sorted(waiting_ids(service, other_service)) == sorted(
        [waiting.pk, referred.pk, previously_matched.pk, out["other service"].pk]
    )
    assert waiting_ids() == []


def test_consent_for_another_service_does_not_count(service, other_service):
    elsewhere_consent = consenting_person(other_service)
    ServiceUserRecordFactory(service=service, user=elsewhere_consent)
    assert waiting_ids(service) == []


def test_the_referral_carries_the_persons_matching_details(service):
    record = waiting_record(
        service,
        age_band="18_24",
        preferred_supporter_gender="woman",
        languages=["pl", "en"],
        accessibility_needs=["interpreter"],
        needs=["housing", "debt"],
        interests=["chess"],
        availability=[["mon", "morning"]],
    )
    [referral] = waiting_list_for_matching(service_ids=[service.pk])
    assert referral.id == record.pk
    assert referral.service_id == service.pk
    assert referral.preferred_supporter_gender == "woman"
    assert referral.needs == frozenset({"housing", "debt"})
    assert referral.needs_language is True
    assert referral.availability == frozenset({("mon", "morning")})


# --- Expanded exclusions: bulk equals one by one ---------------------------------------------


def _random_world(rng: random.Random, service, other_service) -> list[ServiceUserRecord]:
    staff = UserFactory()
    records = [
        ServiceUserRecordFactory(service=rng.choice([service, service, other_service]))
        for _ in range(10)
    ]
    supporters = [SupporterFactory(services=[service, other_service]) for _ in range(5)]
    for record in records:
        roll = rng.random()
        if roll < 0.4:
            MatchFactory(service_user=record, supporter=rng.choice(supporters))
        elif roll < 0.6:
            MatchFactory(
                service_user=record,
                supporter=rng.choice(supporters),
                started_at=timezone.now() - dt.timedelta(days=9),
                ended_at=timezone.now() - dt.timedelta(days=1),
                end_reason=Match.EndReason.GOALS_MET,
            )
    pairs: set[tuple] = set()
    for _ in range(rng.randint(0, 12)):
        record = rng.choice(records)
        if rng.random() < 0.4:
            target = ("supporter", rng.choice(supporters))
        else:
            other = rng.choice(records)
            if other == record:
                continue
            target = ("other_service_user", other)
        if (record.pk, target[0], target[1].pk) in pairs:
            continue
        pairs.add((record.pk, target[0], target[1].pk))
        Exclusion.objects.create(
            service_user=record,
            kind=Exclusion.Kind.CO_DEFENDANT,
            reason="Random",
            entered_by=staff,
            **{target[0]: target[1]},
        )
    return records


@pytest.mark.parametrize("seed", range(8))
def test_bulk_exclusions_equal_the_per_record_ones(service, other_service, seed):
    records = _random_world(random.Random(seed), service, other_service)
    bulk = selectors._excluded_supporters_by_record([service.pk])
    for record in records:
        if record.service_id != service.pk:
            continue
        assert frozenset(bulk.get(record.pk, set())) == excluded_supporter_ids(record=record), (
            f"record {record.pk}"
        )


def test_the_waiting_list_carries_the_expanded_exclusions(service, coordinator):
    record = waiting_record(service)
    co_defendant = ServiceUserRecordFactory(service=service)
    direct = SupporterFactory(services=[service])
    theirs = SupporterFactory(services=[service])
    MatchFactory(service_user=co_defendant, supporter=theirs)
    Exclusion.objects.create(
        service_user=record, supporter=direct, kind="family", reason="x", entered_by=coordinator
    )
    Exclusion.objects.create(
        service_user=co_defendant,
        other_service_user=record,
        kind="co_defendant",
        reason="x",
        entered_by=coordinator,
    )
    [referral] = waiting_list_for_matching(service_ids=[service.pk])
    assert referral.excluded_supporter_ids == frozenset({direct.pk, theirs.pk})
    assert referral.excluded_supporter_ids == excluded_supporter_ids(record=record)


# --- supporters_for_matching -----------------------------------------------------------------


def test_places_taken_count_active_matches_and_pending_offers_only(service, other_service):
    supporter = SupporterFactory(services=[service, other_service], capacity=5)
    MatchFactory(supporter=supporter)
    MatchFactory(
        supporter=supporter,
        started_at=timezone.now() - dt.timedelta(days=9),
        ended_at=timezone.now(),
        end_reason=Match.EndReason.MOVED,
    )
    OfferFactory(supporter=supporter)
    for status in (Offer.Status.DECLINED, Offer.Status.EXPIRED, Offer.Status.WITHDRAWN):
        OfferFactory(supporter=supporter, status=status)
    lapsed = SupporterFactory(services=[service], dbs_checked_on=dt.date(2000, 1, 1))
    paused = SupporterFactory(services=[service], paused=True, paused_reason="Leave")
    SupporterFactory(services=[other_service])

    loaded = {s.id: s for s in supporters_for_matching(service_ids=[service.pk])}

    assert set(loaded) == {supporter.pk, lapsed.pk, paused.pk}  # each once
    assert loaded[supporter.pk].active_matches == 2
    assert loaded[supporter.pk].free_places == 3
    assert loaded[supporter.pk].service_ids == frozenset({service.pk, other_service.pk})
    assert loaded[supporter.pk].readiness_valid is True
    assert loaded[lapsed.pk].readiness_valid is False
    assert loaded[paused.pk].paused is True
    assert loaded[lapsed.pk].active_matches == 0


def test_readiness_is_judged_on_the_day_given(service):
    supporter = SupporterFactory(services=[service])
    due = supporter.last_supervision_on + dt.timedelta(days=56)
    [on_time] = supporters_for_matching(service_ids=[service.pk], today=due)
    [late] = supporters_for_matching(service_ids=[service.pk], today=due + dt.timedelta(days=1))
    assert (on_time.readiness_valid, late.readiness_valid) == (True, False)


# --- Query counts --------------------------------------------------------------------------


def _bulk_world(service, n: int, tag: str) -> None:
    """``n`` consenting people on the waiting list and ``n`` supporters, in a few inserts, with
    one co-defendant pair, one active match and one pending offer so every query runs."""
    consent_wording_ensure()
    wording = ConsentWording.objects.get(purpose="peer_support", version=1)
    recorder = UserFactory()
    people = User.objects.bulk_create([User(username=f"p-{tag}-{i}") for i in range(n)])
    Consent.objects.bulk_create(
        [
            Consent(
                subject=person,
                service=service,
                purpose="peer_support",
                wording=wording,
                given_at=timezone.now(),
                given_method="verbal_custody",
                recorded_by=recorder,
            )
            for person in people
        ]
    )
    records = ServiceUserRecord.objects.bulk_create(
        [
            ServiceUserRecord(
                service=service,
                user=person,
                preferred_name="Sam",
                age_band="25_plus",
                needs=["housing"],
                home_district="NM1",
                status=ServiceUserRecord.Status.AWAITING_MATCH,
            )
            for person in people
        ]
    )
    helpers = User.objects.bulk_create([User(username=f"s-{tag}-{i}") for i in range(n)])
    today = timezone.localdate()
    supporters = Supporter.objects.bulk_create(
        [
            Supporter(
                user=user,
                kind=Supporter.Kind.VOLUNTEER,
                lived_experience=["housing"],
                districts_covered=["NM1"],
                dbs_checked_on=today - dt.timedelta(days=30),
                training_modules_completed=list(REQUIRED_TRAINING),
                last_supervision_on=today - dt.timedelta(days=7),
            )
            for user in helpers
        ]
    )
    Supporter.services.through.objects.bulk_create(
        [Supporter.services.through(supporter=s, service=service) for s in supporters]
    )
    MatchFactory(service_user=records[0], supporter=supporters[0], created_by=recorder)
    OfferFactory(service_user=records[1], supporter=supporters[1])
    Exclusion.objects.create(
        service_user=records[2],
        other_service_user=records[0],
        kind="co_defendant",
        reason="x",
        entered_by=recorder,
    )


@pytest.mark.parametrize(
    ("load", "queries", "sizes"),
    [
        # Two fewer people on the list per world: one is matched, one has an offer waiting.
        (lambda s: waiting_list_for_matching(service_ids=[s.pk]), 7, (8, 996)),
        (lambda s: supporters_for_matching(service_ids=[s.pk]), 4, (10, 1000)),
    ],
    ids=["waiting_list_for_matching", "supporters_for_matching"],
)
def test_query_counts_are_flat_at_10_and_1000(
    service, other_service, django_assert_num_queries, load, queries, sizes
):
    _bulk_world(service, 10, "small")
    with django_assert_num_queries(queries):
        small = load(service)
    _bulk_world(other_service, 3, "elsewhere")  # another service's rows are not read
    _bulk_world(service, 990, "large")
    with django_assert_num_queries(queries):
        large = load(service)
    assert (len(small), len(large)) == sizes


def test_the_bulk_world_excludes_the_co_defendants_supporter(service):
    _bulk_world(service, 10, "check")
    referrals = {r.id: r for r in waiting_list_for_matching(service_ids=[service.pk])}
    with_exclusion = [r for r in referrals.values() if r.excluded_supporter_ids]
    assert len(with_exclusion) == 1
    assert len(with_exclusion[0].excluded_supporter_ids) == 1


# --- suggestions_for_record ------------------------------------------------------------------


def test_suggestions_are_best_first_with_reasons_and_never_unsafe(service, other_service):
    record = waiting_record(service)
    best = ready_supporter(service)
    middle = ready_supporter(service, districts_covered=["NM2"])
    last = ready_supporter(service, lived_experience=[], districts_covered=["ZZ9"])
    staff = UserFactory()
    excluded = ready_supporter(service, capacity=9)
    Exclusion.objects.create(
        service_user=record, supporter=excluded, kind="family", reason="x", entered_by=staff
    )
    via_other = ready_supporter(service, capacity=9)
    co_defendant = ServiceUserRecordFactory(service=service)
    MatchFactory(service_user=co_defendant, supporter=via_other)
    Exclusion.objects.create(
        service_user=co_defendant,
        other_service_user=record,
        kind="co_defendant",
        reason="x",
        entered_by=staff,
    )
    ready_supporter(service, paused=True, paused_reason="Leave", capacity=9)
    ready_supporter(service, dbs_checked_on=dt.date(2000, 1, 1), capacity=9)
    ready_supporter(other_service, capacity=9)
    full = ready_supporter(service, capacity=1)
    OfferFactory(supporter=full)

    suggestions = suggestions_for_record(record=record)

    assert [supporter for _, supporter in suggestions] == [best, middle, last]
    scores = [s.score.total for s, _ in suggestions]
    assert scores == sorted(scores, reverse=True) and scores[0] > scores[1] > scores[2]
    explanations = [s.explanation for s, _ in suggestions]
    assert explanations[0] == "shares lived experience of housing; covers NM1; 3 of 3 places free"
    assert explanations[1].startswith("shares lived experience of housing; covers the NM area")
    assert explanations[2] == "3 of 3 places free"
    assert [s.supporter_id for s, _ in suggestions_for_record(record=record, limit=1)] == [best.pk]


# --- match_end -------------------------------------------------------------------------------


@pytest.fixture
def matched(service, coordinator):
    record = waiting_record(service)
    match = match_create(
        service_user=record, supporter=ready_supporter(service), created_by=coordinator
    )
    return record, match


def test_ending_a_match_puts_the_person_back_on_the_waiting_list(service, matched, coordinator):
    record, match = matched
    assert record.pk not in waiting_ids(service)
    match_end(match=match, reason=Match.EndReason.SUPPORTER_LEFT, ended_by=coordinator)
    record.refresh_from_db()
    assert record.status == ServiceUserRecord.Status.AWAITING_MATCH
    assert record.closed_reason == ""
    assert waiting_ids(service) == [record.pk]


def test_ending_a_match_can_close_the_record(service, matched, coordinator):
    record, match = matched
    match_end(
        match=match, reason=Match.EndReason.GOALS_MET, ended_by=coordinator, close_record=True
    )
    record.refresh_from_db()
    match.refresh_from_db()
    assert record.status == ServiceUserRecord.Status.CLOSED
    assert record.closed_reason == "Support ended: goals met"
    assert match.end_reason == Match.EndReason.GOALS_MET
    assert waiting_ids(service) == []


@pytest.mark.parametrize("who", ["the supporter", "the person", "staff of another service"])
def test_only_casework_staff_end_a_match(service, other_service, matched, who):
    record, match = matched
    user = {
        "the supporter": match.supporter.user,
        "the person": record.user,
        "staff of another service": make_member(Role.COORDINATOR, other_service),
    }[who]
    with pytest.raises(PermissionDenied):
        match_end(match=match, reason=Match.EndReason.MOVED, ended_by=user)
    match.refresh_from_db()
    assert match.is_active
