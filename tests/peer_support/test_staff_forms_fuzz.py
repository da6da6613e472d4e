"""Property-based: no input to the casework staff forms ever causes a 500, every answer is a
page (200), a redirect after saving (302) or a 404, and nothing saved before is lost."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client
from django.utils import timezone
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from peer_support.matching import NEED_LABELS
from peer_support.models import (
    ACCESSIBILITY_CHOICES,
    Alert,
    Appointment,
    Exclusion,
    Match,
    Offer,
    ServiceUserRecord,
    Supporter,
)
from peer_support.services import offer_withdraw
from portal.models import AuditEvent
from portal.roles import Role
from portal.sensitive import sensitive_words_in
from portal.services import consent_give, consent_wording_ensure
from tests.factories import (
    REQUIRED_TRAINING,
    AlertFactory,
    AppointmentFactory,
    MatchFactory,
    OfferFactory,
    ServiceUserRecordFactory,
    SupporterFactory,
    UserFactory,
)
from tests.portal.conftest import make_member

pytestmark = pytest.mark.django_db

EXAMPLES = 500
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
ANSWERS = {200, 302, 404}

any_text = st.one_of(
    st.text(max_size=80),
    st.sampled_from(["", " ", "\x00", "<script>alert(1)</script>", "' OR 1=1", "LS6", "ls 6"]),
)
big_numbers = st.integers(min_value=-(2**80), max_value=2**80).map(str)
any_id = st.one_of(big_numbers, any_text, st.integers(min_value=1, max_value=50).map(str))
dates = st.one_of(
    st.dates(min_value=dt.date(1, 1, 1), max_value=dt.date(9999, 12, 31)).map(str),
    any_text,
)
phone_like = st.one_of(
    st.from_regex(r"\A[+0(]?[0-9 ()\-]{0,20}\Z", fullmatch=True),
    st.sampled_from(["07700 900 123", "+447700900456", ""]),
    any_text,
)


def codes_or_junk(codes) -> st.SearchStrategy:
    return st.lists(st.one_of(st.sampled_from(list(codes)), any_text), max_size=5)


def slots() -> st.SearchStrategy:
    days = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
    parts = ["morning", "afternoon", "evening"]
    return st.lists(
        st.one_of(
            st.builds(lambda d, p: f"{d}:{p}", st.sampled_from(days), st.sampled_from(parts)),
            any_text,
        ),
        max_size=5,
    )


OMIT = object()


@st.composite
def mostly_valid(draw, valid: dict, junk: dict) -> dict:
    """A form that would save, with some fields (often none) replaced by junk or left out,
    so the examples reach the services as well as the forms' own checks."""
    data = {name: draw(strategy) for name, strategy in valid.items()}
    for name in draw(st.sets(st.sampled_from(sorted(valid)))):
        data[name] = draw(st.one_of(junk[name], st.just(OMIT)))
    return {name: value for name, value in data.items() if value is not OMIT}


def words(*examples: str) -> st.SearchStrategy:
    return st.lists(st.sampled_from(examples), max_size=3, unique=True).map(", ".join)


# --- The desk: one service's people, supporters and things already saved ----------------------


@pytest.fixture
def desk(service, other_service):
    """A coordinator's client, a person ready for an offer, supporters (ready, paused, of the
    other service), and rows saved before any fuzzing that must all survive it."""
    consent_wording_ensure()
    coordinator = make_member(Role.COORDINATOR, service, first_name="Casey")
    person = make_member(Role.SERVICE_USER, service)
    consent_give(
        subject=person,
        service=service,
        purpose="peer_support",
        method="verbal_custody",
        recorded_by=coordinator,
    )
    record = ServiceUserRecordFactory(service=service, user=person, preferred_name="Sam")
    ready = SupporterFactory(user=UserFactory(first_name="Jordan"), services=[service])
    paused = SupporterFactory(services=[service], paused=True, paused_reason="On leave")
    elsewhere_supporter = SupporterFactory(services=[other_service])
    elsewhere_record = ServiceUserRecordFactory(service=other_service)
    # Saved before: must be there, unchanged, after every example.
    kept_record = ServiceUserRecordFactory(service=service, preferred_name="Kept")
    kept_match = MatchFactory(service_user=kept_record, supporter=paused)
    kept_exclusion = Exclusion.objects.create(
        service_user=kept_record,
        supporter=ready,
        kind="family",
        reason="Saved before",
        entered_by=coordinator,
    )
    kept_offer = OfferFactory(
        service_user=ServiceUserRecordFactory(service=service), supporter=paused
    )
    kept_appointment = AppointmentFactory(service_user=kept_record)
    kept_alert = AlertFactory(service=service)
    client = Client()
    client.force_login(coordinator)
    return {
        "client": client,
        "service": service,
        "coordinator": coordinator,
        "record": record,
        "ready": ready,
        "paused": paused,
        "elsewhere_supporter": elsewhere_supporter,
        "elsewhere_record": elsewhere_record,
        "kept": {
            "record": kept_record,
            "match": kept_match,
            "exclusion": kept_exclusion,
            "offer": kept_offer,
            "appointment": kept_appointment,
            "alert": kept_alert,
        },
    }


def snapshot(desk) -> dict:
    kept = desk["kept"]
    return {
        "record": ServiceUserRecord.objects.filter(pk=kept["record"].pk).values().first(),
        "match": Match.objects.filter(pk=kept["match"].pk).values().first(),
        "exclusion": Exclusion.objects.filter(pk=kept["exclusion"].pk).values().first(),
        "offer": Offer.objects.filter(pk=kept["offer"].pk).values().first(),
        "appointment": Appointment.objects.filter(pk=kept["appointment"].pk).values().first(),
        "alert": Alert.objects.filter(pk=kept["alert"].pk).values().first(),
        "ready": Supporter.objects.filter(pk=desk["ready"].pk).values().first(),
    }


def counts() -> dict:
    return {
        model.__name__: model.objects.count()
        for model in (ServiceUserRecord, Match, Exclusion, Offer, Appointment, AuditEvent)
    }


def assert_nothing_lost(desk, before_snapshot, before_counts) -> None:
    assert snapshot(desk) == before_snapshot
    after = counts()
    assert all(after[name] >= number for name, number in before_counts.items()), after


def post(desk, url: str, data: dict):
    before, numbers = snapshot(desk), counts()
    response = desk["client"].post(url, data)
    event(f"answered {response.status_code}")  # shown by --hypothesis-show-statistics
    assert response.status_code in ANSWERS
    assert response.status_code != 500
    assert_nothing_lost(desk, before, numbers)
    return response


# --- The forms -------------------------------------------------------------------------------


REFERRAL_VALID = {
    "service": st.just("mine"),
    "preferred_name": st.sampled_from(["Kit", "Jo", "Al-Amin", "Zoë", "O'Neil"]),
    "mobile": st.sampled_from(["", "07700 900 123", "+447700900456", "07700900789"]),
    "age_band": st.sampled_from(["under_18", "18_24", "25_plus"]),
    "gender": st.sampled_from(["", "woman", "man", "non-binary"]),
    "preferred_supporter_gender": st.sampled_from(["", "woman", "man"]),
    "languages": words("English", "Polish", "Urdu"),
    "home_district": st.sampled_from(["", "LS6", "nm1", " ec1a ", "B2"]),
    "needs": st.lists(st.sampled_from(list(NEED_LABELS)), max_size=3, unique=True),
    "accessibility_needs": st.lists(
        st.sampled_from([code for code, _ in ACCESSIBILITY_CHOICES]), max_size=2, unique=True
    ),
    "interests": words("football", "music", "cooking"),
    "availability": st.lists(st.sampled_from(["mon:morning", "sat:evening"]), unique=True),
}
REFERRAL_JUNK = {
    "service": any_id,
    "preferred_name": any_text,
    "mobile": phone_like,
    "age_band": any_text,
    "gender": any_text,
    "preferred_supporter_gender": any_text,
    "languages": any_text,
    "home_district": any_text,
    "needs": codes_or_junk(NEED_LABELS),
    "accessibility_needs": codes_or_junk(code for code, _ in ACCESSIBILITY_CHOICES),
    "interests": any_text,
    "availability": slots(),
}


@FUZZ
@given(data=mostly_valid(REFERRAL_VALID, REFERRAL_JUNK))
def test_the_referral_form_never_errors(desk, data):
    if data.get("service") == "mine":
        data = {**data, "service": str(desk["service"].pk)}
    before = ServiceUserRecord.objects.count()
    response = post(desk, "/staff/referrals/new/", data)
    if response.status_code == 302:
        assert ServiceUserRecord.objects.count() == before + 1
    else:
        assert response.status_code == 200
        assert ServiceUserRecord.objects.count() == before


EXCLUSION_VALID = {
    "kind": st.sampled_from([k for k, _ in Exclusion.Kind.choices]),
    "reason": st.sampled_from(["Same incident", "Cousins", "Line one\nLine two"]),
    "supporter": st.sampled_from(["ready", "paused"]),
    "other_record": st.just(OMIT),
}
EXCLUSION_JUNK = {
    "kind": any_text,
    "reason": any_text,
    "supporter": st.one_of(st.just("elsewhere_supporter"), any_id),
    "other_record": st.one_of(st.sampled_from(["record", "kept", "elsewhere_record"]), any_id),
}


@FUZZ
@given(data=mostly_valid(EXCLUSION_VALID, EXCLUSION_JUNK))
def test_the_exclusion_form_never_errors(desk, data):
    names = {
        "ready": desk["ready"],
        "paused": desk["paused"],
        "elsewhere_supporter": desk["elsewhere_supporter"],
        "record": desk["record"],
        "kept": desk["kept"]["record"],
        "elsewhere_record": desk["elsewhere_record"],
    }
    data = {
        name: str(names[value].pk) if isinstance(value, str) and value in names else value
        for name, value in data.items()
        if value is not OMIT
    }
    before = Exclusion.objects.count()
    response = post(desk, f"/staff/referrals/{desk['record'].pk}/exclusions/new/", data)
    assert response.status_code in {200, 302}
    assert Exclusion.objects.count() == before + (response.status_code == 302)
    # Never an exclusion with someone the coordinator cannot see.
    assert not Exclusion.objects.filter(other_service_user=desk["elsewhere_record"]).exists()


@FUZZ
@given(
    reason=st.one_of(st.sampled_from([r for r, _ in Match.EndReason.choices]), any_text),
    close_record=st.one_of(st.sampled_from(["", "on", "true", "false"]), any_text),
    target=st.sampled_from(["fresh", "ended", "elsewhere", "missing"]),
)
def test_the_match_end_form_never_errors(desk, reason, close_record, target, other_service):
    if target == "fresh":
        fresh = ServiceUserRecordFactory(service=desk["service"], status="matched")
        match_id = MatchFactory(service_user=fresh, supporter=desk["ready"]).pk
    elif target == "ended":
        ended = ServiceUserRecordFactory(service=desk["service"])
        match_id = MatchFactory(
            service_user=ended,
            supporter=desk["ready"],
            started_at=timezone.now() - dt.timedelta(days=2),
            ended_at=timezone.now() - dt.timedelta(days=1),
            end_reason="moved",
        ).pk
    elif target == "elsewhere":
        match_id = MatchFactory(
            service_user=ServiceUserRecordFactory(service=other_service),
            supporter=desk["elsewhere_supporter"],
        ).pk
    else:
        match_id = 10**30
    response = post(
        desk, f"/staff/matches/{match_id}/end/", {"reason": reason, "close_record": close_record}
    )
    if target in ("elsewhere", "missing"):
        assert response.status_code == 404
    if target == "ended":
        assert response.status_code == 200


def past_dates() -> st.SearchStrategy:
    today = dt.date.today()
    return st.one_of(
        st.just(""),
        st.dates(min_value=today - dt.timedelta(days=4000), max_value=today).map(str),
    )


READINESS_VALID = {
    "dbs_checked_on": past_dates(),
    "dbs_level": st.sampled_from(["", "basic", "standard", "enhanced"]),
    "risk_assessment_recorded_on": past_dates(),
    "training_modules_completed": st.lists(
        st.sampled_from(REQUIRED_TRAINING), max_size=4, unique=True
    ),
    "last_supervision_on": past_dates(),
    "cleared_for_under_18": st.sampled_from(["", "on"]),
}
READINESS_JUNK = {
    "dbs_checked_on": dates,
    "dbs_level": any_text,
    "risk_assessment_recorded_on": dates,
    "training_modules_completed": codes_or_junk(REQUIRED_TRAINING),
    "last_supervision_on": dates,
    "cleared_for_under_18": any_text,
}


@FUZZ
@given(
    data=mostly_valid(READINESS_VALID, READINESS_JUNK),
    whose=st.sampled_from(["paused", "paused", "paused", "elsewhere_supporter"]),
)
def test_the_readiness_form_never_errors(desk, data, whose):
    supporter = desk[whose]
    response = post(desk, f"/staff/supporters/{supporter.pk}/", data)
    if whose == "elsewhere_supporter":
        assert response.status_code == 404
    else:
        assert response.status_code in {200, 302}
        supporter.refresh_from_db()
        assert supporter.paused  # recording checks never unpauses anyone


@FUZZ
@given(supporter=st.one_of(st.sampled_from(["ready", "paused", "elsewhere_supporter"]), any_id))
def test_the_offer_post_never_errors(desk, supporter):
    known = {name: desk[name] for name in ("ready", "paused", "elsewhere_supporter")}
    value = str(known[supporter].pk) if supporter in known else supporter
    pending_before = Offer.objects.filter(status="pending").count()
    response = post(desk, f"/staff/referrals/{desk['record'].pk}/offer/", {"supporter": value})
    assert response.status_code in {200, 302}
    if response.status_code == 302:
        offer = Offer.objects.get(service_user=desk["record"], status="pending")
        assert offer.supporter == desk["ready"]
        # Take it back, so the next example can make an offer too.
        offer_withdraw(offer=offer, withdrawn_by=desk["coordinator"])
    else:
        assert Offer.objects.filter(status="pending").count() == pending_before


pair_text = st.one_of(
    st.builds(
        lambda a, b: f"{a}:{b}",
        st.integers(min_value=-(2**70), max_value=2**70),
        st.integers(min_value=-(2**70), max_value=2**70),
    ),
    st.from_regex(r"\A[0-9]{1,22}:[0-9]{1,22}\Z", fullmatch=True),
    any_text,
)


@FUZZ
@given(
    pairs=st.lists(
        st.one_of(st.sampled_from(["mine", "elsewhere", "kept"]), pair_text), max_size=6
    ),
    service=st.one_of(st.just("mine"), any_id),
    action=st.one_of(st.sampled_from(["send", "propose"]), any_text),
)
def test_the_waiting_list_send_never_errors(desk, pairs, service, action):
    real = {
        "mine": f"{desk['record'].pk}:{desk['ready'].pk}",
        "elsewhere": f"{desk['elsewhere_record'].pk}:{desk['ready'].pk}",
        "kept": f"{desk['kept']['record'].pk}:{desk['paused'].pk}",
    }
    data = {
        "pairs": ",".join(real.get(pair, pair) for pair in pairs),
        "service": str(desk["service"].pk) if service == "mine" else service,
        "action": action,
    }
    response = post(desk, "/staff/waiting-list/", data)
    assert response.status_code in {200, 302}
    # Offers only ever go to people of the coordinator's own service.
    assert not Offer.objects.filter(service_user=desk["elsewhere_record"]).exists()


@FUZZ
@given(
    reason=any_text,
    target=st.sampled_from(["fresh", "matched", "closed", "elsewhere", "missing"]),
)
def test_the_close_form_never_errors(desk, reason, target, other_service):
    service = desk["service"]
    if target == "fresh":
        record_id = ServiceUserRecordFactory(service=service).pk
    elif target == "matched":
        record_id = desk["kept"]["record"].pk  # has a match: refused, and stays open
    elif target == "closed":
        record_id = ServiceUserRecordFactory(
            service=service, status="closed", closed_reason="Earlier"
        ).pk
    elif target == "elsewhere":
        record_id = ServiceUserRecordFactory(service=other_service).pk
    else:
        record_id = 10**30
    response = post(desk, f"/staff/referrals/{record_id}/close/", {"reason": reason})
    if target in ("elsewhere", "missing"):
        assert response.status_code == 404
    if target == "matched":
        assert response.status_code == 200
    if target == "closed":
        record = ServiceUserRecord.objects.get(pk=record_id)
        assert record.closed_reason == "Earlier"  # closing twice keeps the first reason


APPOINTMENT_VALID = {
    "kind": st.sampled_from([code for code, _ in Appointment.Kind.choices]),
    "place_label": st.sampled_from(["Riverside Centre", "Eastgate Centre", "Hub 2"]),
    "address": st.sampled_from(["1 Example Street, Testtown NM1 1AA", "2 Example Road"]),
    "date": st.dates(min_value=dt.date(2026, 1, 1), max_value=dt.date(2028, 12, 31)).map(str),
    "time": st.sampled_from(["09:30", "14:00", "01:30", "23:59"]),
    "supporter_attending": st.sampled_from(["", "on"]),
}
APPOINTMENT_JUNK = {
    "kind": any_text,
    "place_label": st.one_of(any_text, st.sampled_from(["Police station", "Drug service"])),
    "address": any_text,
    "date": dates,
    "time": st.one_of(any_text, st.sampled_from(["24:00", "9", "12:60"])),
    "supporter_attending": any_text,
}


@FUZZ
@given(data=mostly_valid(APPOINTMENT_VALID, APPOINTMENT_JUNK))
def test_the_staff_appointment_form_never_errors(desk, data):
    response = post(desk, f"/staff/referrals/{desk['record'].pk}/appointments/new/", data)
    if response.status_code == 302:
        # Whatever was saved carries no word that would reveal the place in a text.
        saved = Appointment.objects.filter(service_user=desk["record"]).latest("pk")
        assert sensitive_words_in(saved.place_label) == []


@FUZZ
@given(
    outcome=st.one_of(
        st.sampled_from([code for code, _ in Appointment.Outcome.choices]), any_text
    ),
    target=st.sampled_from(["past", "future", "kept", "elsewhere", "missing"]),
)
def test_the_staff_outcome_form_never_errors(desk, outcome, target, other_service):
    if target == "past":
        appointment_id = AppointmentFactory(
            service_user=desk["record"], starts_at=timezone.now() - dt.timedelta(days=1)
        ).pk
    elif target == "future":
        appointment_id = AppointmentFactory(service_user=desk["record"]).pk
    elif target == "kept":
        appointment_id = desk["kept"]["appointment"].pk
        outcome = "not-a-real-outcome"  # the kept row must never change
    elif target == "elsewhere":
        appointment_id = AppointmentFactory(
            service_user=ServiceUserRecordFactory(service=other_service)
        ).pk
    else:
        appointment_id = 10**30
    response = post(desk, f"/staff/appointments/{appointment_id}/outcome/", {"outcome": outcome})
    if target in ("elsewhere", "missing"):
        assert response.status_code == 404
    if target == "future" and outcome in ("attended", "did_not_attend"):
        assert Appointment.objects.get(pk=appointment_id).outcome == ""
