"""The demo's peer support data: enough of everything for every page, fictional, within the
matching rules, and made once however often ``seed_demo`` runs.

Seeding takes a few seconds, so it runs once for the module (the pattern of
tests/content/conftest.py: inside a transaction rolled back at the end); each test reads it in
its own savepoint.
"""

from collections import Counter
from datetime import timedelta

import pytest
from django.db import transaction
from django.test import override_settings
from django.utils import timezone

from peer_support import matching
from peer_support.adapters import referral_from_record, supporter_from_model
from peer_support.demo import FIRST_NAMES, peer_support_demo_counts
from peer_support.models import (
    Alert,
    Appointment,
    Contact,
    Match,
    Offer,
    ServiceUserRecord,
    Supporter,
)
from peer_support.readiness import readiness_problems, readiness_settings
from peer_support.selectors import excluded_supporter_ids, supporter_places_taken
from portal.demo import SERVICES, demo_seed
from portal.models import AuditEvent, ConsentPurpose, Membership, User
from portal.phone import is_fictional_mobile
from portal.roles import Role
from portal.selectors import consent_is_active
from portal.sensitive import sensitive_words_in


def _snapshot(services) -> dict:
    return {
        "counts": peer_support_demo_counts(services=services),
        "users": User.objects.count(),
        "memberships": Membership.objects.count(),
        "audit_events": AuditEvent.objects.count(),
        "alerts": Alert.objects.count(),
    }


@pytest.fixture(scope="module")
def _seeded(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock(), override_settings(DEMO_PEER_SUPPORT=True):
        atomic = transaction.atomic()
        atomic.__enter__()
        services, _, _ = demo_seed()
        first = _snapshot(services)
        demo_seed()
        second = _snapshot(services)
    yield {"services": services, "first": first, "second": second}
    with django_db_blocker.unblock():
        transaction.set_rollback(True)
        atomic.__exit__(None, None, None)


@pytest.fixture
def demo(_seeded, db) -> dict:
    return _seeded


def test_seeding_twice_creates_nothing_more(demo):
    assert demo["second"] == demo["first"]
    assert demo["first"]["counts"]["records"] > 0


def test_both_demo_services_have_people_in_every_state(demo):
    services = demo["services"]
    assert [s.slug for s in services] == [spec["slug"] for spec in SERVICES]
    now = timezone.now()
    for service in services:
        statuses = Counter(
            ServiceUserRecord.objects.filter(service=service).values_list("status", flat=True)
        )
        assert 140 <= sum(statuses.values()) <= 160, service.slug
        assert statuses[ServiceUserRecord.Status.AWAITING_MATCH] >= 40
        assert statuses[ServiceUserRecord.Status.MATCHED] >= 30
        assert statuses[ServiceUserRecord.Status.REFERRED] >= 15
        assert statuses[ServiceUserRecord.Status.CLOSED] >= 5
        records = ServiceUserRecord.objects.filter(service=service)
        assert {r.age_band for r in records} == {"under_18", "18_24", "25_plus"}
        assert records.filter(source=ServiceUserRecord.Source.SELF).exists()
        someone_else = records.filter(source=ServiceUserRecord.Source.SOMEONE_ELSE)
        assert someone_else.exists()
        assert all(r.referrer_name and r.referral_notes for r in someone_else)
        assert all(r.closed_reason for r in records.filter(status="closed"))
        assert records.exclude(languages=["en"]).exists()
        # The waiting-list matcher has work: people with an account and consent, unmatched.
        waiting = records.filter(status="awaiting_match", user__isnull=False)
        assert (
            sum(
                consent_is_active(
                    subject=r.user, purpose=ConsentPurpose.PEER_SUPPORT, service_id=service.pk
                )
                for r in waiting
            )
            >= 30
        )

        supporters = Supporter.objects.filter(services=service)
        assert 18 <= supporters.count() <= 25
        matches = Match.objects.filter(service_user__service=service)
        assert matches.filter(ended_at__isnull=True).count() >= 30
        ended = matches.filter(ended_at__isnull=False)
        assert ended.count() >= 5 and all(m.end_reason for m in ended)
        appointments = Appointment.objects.filter(service_user__service=service)
        assert appointments.filter(starts_at__gt=now).count() >= 20
        past_outcomes = set(
            appointments.filter(starts_at__lt=now).values_list("outcome", flat=True)
        )
        assert {"attended", "did_not_attend", "unknown"} <= past_outcomes
        contacts = Contact.objects.filter(service_user__service=service)
        assert contacts.count() >= 50
        assert contacts.filter(safeguarding_concern=True).exists()
        offers = Offer.objects.filter(service_user__service=service)
        assert offers.filter(status=Offer.Status.PENDING).count() >= 2
        assert offers.filter(status=Offer.Status.DECLINED).exists()
        kinds = set(Alert.objects.filter(service=service).values_list("kind", flat=True))
        assert {"new_referral", "offer_declined", "safeguarding", "supporter_not_ready"} <= kinds
    shared = Supporter.objects.filter(services=services[0]).filter(services=services[1])
    assert shared.exists()
    assert 36 <= Supporter.objects.filter(services__in=services).distinct().count() <= 45


def test_supporters_have_varied_readiness_and_profiles(demo):
    today = timezone.localdate()
    values = readiness_settings()
    supporters = list(Supporter.objects.select_related("user"))
    problems = {
        s.pk: readiness_problems(s, today=today, settings_values=values) for s in supporters
    }
    ready = [s for s in supporters if not problems[s.pk]]
    assert len(ready) >= 25
    text = " ".join("; ".join(p) for p in problems.values())
    assert "DBS check lapsed" in text
    assert "Training not completed" in text
    assert "Supervision overdue" in text
    paused = [s for s in supporters if s.paused]
    assert len(paused) >= 4 and all(s.paused_reason for s in paused)
    assert any(not problems[s.pk] for s in paused), "someone paused by choice, not readiness"
    assert any(s.cleared_for_under_18 for s in ready)
    assert {s.kind for s in supporters} == {"worker", "volunteer"}
    assert Counter(s.kind for s in supporters)["volunteer"] > len(supporters) / 2
    assert {s.capacity for s in supporters} <= set(range(1, 6))
    assert len({tuple(s.languages) for s in supporters}) >= 4
    assert len({tuple(s.lived_experience) for s in supporters}) >= 10
    for supporter in supporters:
        roles = set(Membership.objects.filter(user=supporter.user).values_list("role", flat=True))
        wanted = Role.PEER_SUPPORT_WORKER if supporter.kind == "worker" else Role.PEER_VOLUNTEER
        assert wanted in roles, supporter.pk
        allowed = set().union(*(s.postcode_districts.split() for s in supporter.services.all()))
        assert set(supporter.districts_covered) <= allowed


def test_every_match_and_offer_keeps_the_matching_rules(demo):
    """Checked now with the engine's own rules: every pair is still safe. Places are checked
    apart, because a supporter who took people is meant to be full."""
    today = timezone.localdate()
    matches = Match.objects.select_related("service_user", "service_user__user", "supporter")
    offers = Offer.objects.filter(status=Offer.Status.PENDING).select_related(
        "service_user", "service_user__user", "supporter"
    )
    pairs = [(m.service_user, m.supporter) for m in matches] + [
        (o.service_user, o.supporter) for o in offers
    ]
    assert len(pairs) > 100
    for record, supporter in pairs:
        referral = referral_from_record(
            record, excluded_supporter_ids=excluded_supporter_ids(record=record)
        )
        candidate = supporter_from_model(supporter, active_matches=0, today=today)
        failures = set(matching.hard_constraint_failures(referral, candidate))
        assert not failures - {matching.NO_CAPACITY}, (record.pk, supporter.pk, failures)
        assert record.user is not None
        assert consent_is_active(
            subject=record.user, purpose=ConsentPurpose.PEER_SUPPORT, service_id=record.service_id
        )
    for supporter in Supporter.objects.all():
        assert supporter_places_taken(supporter=supporter) <= supporter.capacity, supporter.pk
    active = Match.objects.filter(ended_at__isnull=True).values_list("service_user_id", flat=True)
    matched = ServiceUserRecord.objects.filter(status="matched").values_list("pk", flat=True)
    assert sorted(active) == sorted(matched)
    for match in matches:
        assert match.ended_at is None or match.ended_at >= match.started_at
        assert match.service_user.created_at <= match.started_at


def test_everything_is_fictional(demo):
    for user in User.objects.all():
        assert not user.email or user.email.endswith("@example.org"), user.pk
        assert not user.mobile or is_fictional_mobile(user.mobile), user.pk
    for record in ServiceUserRecord.objects.all():
        assert not record.mobile or is_fictional_mobile(record.mobile), record.pk
        assert not record.referrer_phone, record.pk
    names = set(User.objects.values_list("first_name", flat=True)) | set(
        ServiceUserRecord.objects.values_list("preferred_name", flat=True)
    )
    names |= set(ServiceUserRecord.objects.values_list("referrer_name", flat=True))
    assert not names & {"Avery", "Robin"}
    assert names - {"", "Demo"} <= set(FIRST_NAMES) | {"Jordan"}
    for label in set(Appointment.objects.values_list("place_label", flat=True)):
        assert sensitive_words_in(label) == [], label


def test_the_demo_accounts_have_their_own_peer_support(demo):
    volunteer = Supporter.objects.get(user__username="demo-peer-volunteer")
    worker = Supporter.objects.get(user__username="demo-peer-support-worker")
    northmoor = demo["services"][0]
    today = timezone.localdate()
    for supporter, kind in ((volunteer, "volunteer"), (worker, "worker")):
        assert supporter.kind == kind
        assert list(supporter.services.all()) == [northmoor]
        assert (
            readiness_problems(supporter, today=today, settings_values=readiness_settings()) == []
        )
        assert not supporter.paused
    assert volunteer.capacity == 4
    assert Offer.objects.filter(supporter=volunteer, status=Offer.Status.PENDING).exists()

    record = ServiceUserRecord.objects.get(user__username="demo-service-user")
    assert record.service == northmoor
    assert record.preferred_name == "Jordan"
    match = Match.objects.get(service_user=record, ended_at__isnull=True)
    assert match.supporter == volunteer
    now = timezone.now()
    upcoming = list(record.appointments.filter(starts_at__gt=now).order_by("starts_at"))
    assert [timezone.localtime(a.starts_at).date() - today for a in upcoming] == [
        timedelta(days=2),
        timedelta(days=9),
    ]
    assert all(timezone.localtime(a.starts_at).hour == 10 for a in upcoming)
    past = record.appointments.get(starts_at__lt=now)
    assert past.outcome == Appointment.Outcome.ATTENDED
    assert record.contacts.filter(supporter=volunteer).count() == 2
