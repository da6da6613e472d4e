"""Property-based: no input to a supporter's forms ever causes a 500, and nothing already
saved is lost. Each test posts generated dicts (good values mixed with anything at all) to the
real view as a signed-in volunteer; the test client re-raises any exception in the view."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client
from django.utils import timezone
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from peer_support.forms.common import AVAILABILITY_CHOICES
from peer_support.models import (
    Appointment,
    Contact,
    Match,
    Offer,
    ServiceUserRecord,
    Supporter,
)
from portal.roles import Role
from tests.factories import (
    AppointmentFactory,
    ContactFactory,
    MatchFactory,
    OfferFactory,
    ServiceUserRecordFactory,
    SupporterFactory,
)
from tests.portal.conftest import make_member

pytestmark = pytest.mark.django_db

EXAMPLES = 500
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
OK = {200, 302, 404}

junk = st.one_of(
    st.text(max_size=80),
    st.sampled_from(["", " ", "\x00", "<script>alert(1)</script>", "' OR 1=1", "\u202e"]),
)
huge = st.one_of(
    st.integers(min_value=-(10**30), max_value=10**30).map(str),
    st.sampled_from(["9" * 5000, "1e9", "-0", "NaN", "inf", "0x10", " 7 "]),
)
bad_dates = st.sampled_from(
    ["2026-02-30", "2026-13-01", "0000-00-00", "99999-01-01", "2999-01-01", "1066-10-14", ""]
)
bad_times = st.sampled_from(["24:00", "25:61", "12:60", "-1:00", "noon", "", "\x00"])


def form(good: dict, bad: dict | None = None) -> st.SearchStrategy:
    """Half the time every field is good (so the save path runs often), half the time each
    field is a good value, one of its known bad ones, or anything at all."""
    bad = bad or {}
    mixed = {name: st.one_of(value, *bad.get(name, ()), junk) for name, value in good.items()}
    return st.one_of(st.fixed_dictionaries(good), st.fixed_dictionaries(mixed))


past_dates = st.dates(min_value=dt.date(2020, 1, 1), max_value=dt.date.today()).map(
    dt.date.isoformat
)
any_dates = st.dates(min_value=dt.date(2000, 1, 1), max_value=dt.date(2100, 1, 1)).map(
    dt.date.isoformat
)
times = st.times().map(lambda t: t.strftime("%H:%M"))
checkbox = st.sampled_from(["on", "", "true", "false", "0", "1"])


@pytest.fixture
def setting(service, worker):
    """A signed-in volunteer supporting one person, with a contact, a past and a future
    appointment already saved."""
    user = make_member(Role.PEER_VOLUNTEER, service)
    supporter = SupporterFactory(user=user, services=[service], capacity=5)
    record = ServiceUserRecordFactory(service=service, status=ServiceUserRecord.Status.MATCHED)
    match = MatchFactory(service_user=record, supporter=supporter, created_by=worker)
    contact = ContactFactory(match=match)
    now = timezone.now()
    past = AppointmentFactory(
        service_user=record, starts_at=now - dt.timedelta(days=1), arranged_by=worker
    )
    future = AppointmentFactory(
        service_user=record, starts_at=now + dt.timedelta(days=3), arranged_by=worker
    )
    client = Client()
    client.force_login(user)
    return {
        "client": client,
        "user": user,
        "supporter": supporter,
        "record": record,
        "match": match,
        "contact": contact,
        "past": past,
        "future": future,
        "service": service,
    }


def snapshot(model, pk: int) -> dict:
    return model.objects.filter(pk=pk).values().get()


# --- Log a contact ---------------------------------------------------------------------------

contact_data = form(
    {
        "date": past_dates,
        "time": times,
        "method": st.sampled_from(Contact.Method.values),
        "duration_minutes": st.integers(1, 1440).map(str),
        "summary": st.text(min_size=1, max_size=200),
        "next_step": st.text(max_size=200),
        "safeguarding_concern": checkbox,
    },
    {
        "date": (any_dates, bad_dates),
        "time": (bad_times,),
        "duration_minutes": (huge,),
    },
)


@FUZZ
@given(data=contact_data)
def test_contact_form_never_errors_or_loses_anything(data, setting):
    existing = snapshot(Contact, setting["contact"].pk)
    before = Contact.objects.count()
    response = setting["client"].post(
        f"/supporter/people/{setting['record'].pk}/contacts/new/", data
    )
    event(f"status {response.status_code}")
    assert response.status_code in OK
    after = Contact.objects.count()
    assert after in {before, before + 1}
    assert (after == before + 1) == (response.status_code == 302)
    assert snapshot(Contact, setting["contact"].pk) == existing


# --- Add an appointment ----------------------------------------------------------------------

appointment_data = form(
    {
        "kind": st.sampled_from(Appointment.Kind.values),
        "place_label": st.sampled_from(["Riverside Centre", "Hillside Hub", "Civic Centre"]),
        "address": st.text(min_size=1, max_size=300),
        "date": any_dates,
        "time": times,
        "supporter_attending": checkbox,
    },
    {
        "place_label": (st.sampled_from(["Police station", "Drug service", "x" * 81]),),
        "address": (st.just("x" * 301),),
        "date": (st.just("2027-03-28"), bad_dates),
        "time": (st.just("01:30"), bad_times),
    },
)


@FUZZ
@given(data=appointment_data)
def test_appointment_form_never_errors_or_loses_anything(data, setting):
    existing = [snapshot(Appointment, a.pk) for a in (setting["past"], setting["future"])]
    before = Appointment.objects.count()
    response = setting["client"].post(
        f"/supporter/people/{setting['record'].pk}/appointments/new/", data
    )
    event(f"status {response.status_code}")
    assert response.status_code in OK
    after = Appointment.objects.count()
    assert after == before + (1 if response.status_code == 302 else 0)
    assert [snapshot(Appointment, a.pk) for a in (setting["past"], setting["future"])] == existing
    if response.status_code == 302:
        assert "police" not in Appointment.objects.latest("pk").place_label.lower()


# --- Record what happened --------------------------------------------------------------------

outcome_data = form({"outcome": st.sampled_from(Appointment.Outcome.values)})


@FUZZ
@given(data=outcome_data, which=st.sampled_from(["past", "future", "missing"]))
def test_outcome_form_never_errors_or_loses_anything(data, which, setting):
    others = {
        name: snapshot(Appointment, setting[name].pk)
        for name in ("past", "future")
        if name != which
    }
    before = Appointment.objects.count()
    target = setting[which].pk if which != "missing" else 10**9
    response = setting["client"].post(f"/supporter/appointments/{target}/outcome/", data)
    event(f"status {response.status_code}")
    assert response.status_code in OK
    assert response.status_code == 404 if which == "missing" else response.status_code != 404
    assert Appointment.objects.count() == before
    for name, values in others.items():
        assert snapshot(Appointment, setting[name].pk) == values
    if which == "future":
        # Never "attended" or "did not attend" before it has happened.
        setting["future"].refresh_from_db()
        assert setting["future"].outcome not in {"attended", "did_not_attend"}


# --- Availability ----------------------------------------------------------------------------

availability_codes = [code for code, _ in AVAILABILITY_CHOICES]
availability_data = form(
    {
        "availability": st.lists(st.sampled_from(availability_codes), max_size=6, unique=True),
        "capacity": st.integers(0, 20).map(str),
        "paused": checkbox,
        "paused_reason": st.text(max_size=200),
    },
    {
        "availability": (st.lists(st.one_of(st.sampled_from(availability_codes), junk)),),
        "capacity": (huge,),
        "paused_reason": (st.text(min_size=201, max_size=300),),
    },
)


@FUZZ
@given(data=availability_data)
def test_availability_form_never_errors_or_loses_anything(data, setting):
    supporter = setting["supporter"]
    matches = list(Match.objects.filter(supporter=supporter).values())
    response = setting["client"].post("/supporter/availability/", data)
    event(f"status {response.status_code}")
    assert response.status_code in OK
    supporter.refresh_from_db()
    supporter.full_clean()  # whatever was saved is still a valid profile
    assert 0 <= supporter.capacity <= 20
    assert supporter.capacity >= Match.objects.filter(supporter=supporter).count()
    assert list(Match.objects.filter(supporter=supporter).values()) == matches
    assert supporter.dbs_checked_on is not None and supporter.training_modules_completed


# --- Decline an offer ------------------------------------------------------------------------

decline_data = form({"reason": st.sampled_from(Offer.DeclineReason.values)})


@FUZZ
@given(data=decline_data, missing=st.booleans())
def test_decline_form_never_errors_or_loses_anything(data, missing, setting):
    offer = OfferFactory(
        service_user=ServiceUserRecordFactory(service=setting["service"]),
        supporter=setting["supporter"],
    )
    before = Offer.objects.count()
    answered_before = Offer.objects.exclude(status=Offer.Status.PENDING).count()
    target = 10**9 if missing else offer.pk
    response = setting["client"].post(f"/supporter/offers/{target}/decline/", data)
    event(f"status {response.status_code}")
    assert response.status_code in OK
    offer.refresh_from_db()
    if missing:
        assert response.status_code == 404
        assert offer.status == Offer.Status.PENDING
    elif data["reason"] in Offer.DeclineReason.values:
        assert response.status_code == 302
        assert offer.status == Offer.Status.DECLINED
        assert offer.decline_reason == data["reason"]
    else:
        assert response.status_code == 200
        assert offer.status == Offer.Status.PENDING
    assert Offer.objects.count() >= before
    assert Offer.objects.exclude(status=Offer.Status.PENDING).count() >= answered_before
    assert Supporter.objects.filter(pk=setting["supporter"].pk).exists()
