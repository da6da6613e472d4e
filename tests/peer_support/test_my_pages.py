"""A service user's own pages: appointments, their supporter, their preferences."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from peer_support.models import Appointment, ServiceUserRecord
from peer_support.views.mine import when_text
from portal.models import AuditEvent
from portal.roles import Role
from tests.factories import (
    AppointmentFactory,
    MatchFactory,
    OfferFactory,
    ServiceUserRecordFactory,
    SupporterFactory,
    UserFactory,
)
from tests.portal.conftest import make_member

pytestmark = pytest.mark.django_db

LONDON = ZoneInfo("Europe/London")
PAGES = ["/my/appointments/", "/my/supporter/", "/my/preferences/"]
NAMES = ["my_appointments", "my_supporter", "my_preferences"]


@pytest.fixture
def record(service, person_with_consents):
    return ServiceUserRecordFactory(
        service=service, user=person_with_consents, preferred_name="Avery"
    )


@pytest.fixture
def person_client(person_with_consents, record):
    client = Client()
    client.force_login(person_with_consents)
    return client


@pytest.fixture
def other_record(service):
    other = make_member(Role.SERVICE_USER, service, first_name="Robin")
    return ServiceUserRecordFactory(
        service=service,
        user=other,
        preferred_name="Robin",
        languages=["en"],
        interests=["chess"],
    )


@pytest.fixture
def supporter(service):
    user = UserFactory(first_name="Jordan", email="jordan.k@example.org", mobile="+447700900777")
    return SupporterFactory(user=user, services=[service])


def html_of(response) -> str:
    return response.content.decode()


# --- Appointments ----------------------------------------------------------------------------


def test_when_text_is_uk_time_in_plain_words():
    assert when_text(dt.datetime(2099, 12, 1, 14, 30, tzinfo=dt.UTC)) == (
        "Tuesday 1 December 2099, 2:30pm"
    )
    # British Summer Time: 13:00 UTC is 2pm in London.
    assert when_text(dt.datetime(2099, 7, 1, 13, 0, tzinfo=dt.UTC)) == "Wednesday 1 July 2099, 2pm"
    assert when_text(dt.datetime(2099, 7, 1, 11, 0, tzinfo=dt.UTC)).endswith(", midday")
    assert when_text(dt.datetime(2099, 1, 1, 9, 5, tzinfo=dt.UTC)).endswith(", 9:05am")


def test_a_service_user_sees_only_their_own_appointments(person_client, record, other_record):
    AppointmentFactory(
        service_user=record,
        kind=Appointment.Kind.HOUSING,
        place_label="Riverside Centre",
        address="1 Example Street, Testtown NM1 1AA",
        starts_at=dt.datetime(2099, 12, 1, 14, 30, tzinfo=LONDON),
        supporter_attending=True,
    )
    AppointmentFactory(
        service_user=other_record,
        place_label="Harbour House",
        address="9 Quay Road, Testtown NM2 2BB",
    )

    response = person_client.get("/my/appointments/")

    assert response.status_code == 200
    html = html_of(response)
    assert "Tuesday 1 December 2099, 2:30pm" in html
    assert "Housing" in html
    assert "Riverside Centre" in html
    assert "1 Example Street, Testtown NM1 1AA" in html
    assert "Yes, your supporter is going with you" in html
    assert "Harbour House" not in html
    assert "9 Quay Road" not in html


def test_upcoming_come_soonest_first_and_past_most_recent_first(person_client, record):
    now = timezone.now()
    for days, place in [(9, "Later Place"), (1, "Sooner Place")]:
        AppointmentFactory(
            service_user=record, place_label=place, starts_at=now + dt.timedelta(days=days)
        )
    for days, place in [(-9, "Older Place"), (-1, "Recent Place")]:
        AppointmentFactory(
            service_user=record, place_label=place, starts_at=now + dt.timedelta(days=days)
        )

    html = html_of(person_client.get("/my/appointments/"))

    assert html.index("Sooner Place") < html.index("Later Place")
    assert html.index("Later Place") < html.index("Recent Place")  # upcoming before past
    assert html.index("Recent Place") < html.index("Older Place")


def test_cancelled_appointments_and_outcomes_are_shown_clearly(person_client, record):
    now = timezone.now()
    AppointmentFactory(
        service_user=record,
        place_label="Cancelled Place",
        starts_at=now + dt.timedelta(days=3),
        status=Appointment.Status.CANCELLED,
    )
    AppointmentFactory(
        service_user=record,
        place_label="Attended Place",
        starts_at=now - dt.timedelta(days=3),
        outcome=Appointment.Outcome.ATTENDED,
    )

    html = html_of(person_client.get("/my/appointments/"))

    assert 'nhsuk-tag nhsuk-tag--red">Cancelled' in html
    assert "This appointment is not going ahead." in html
    assert "Attended" in html


def test_past_appointments_are_paginated(person_client, record):
    arranged_by = UserFactory()
    start = timezone.now() - dt.timedelta(days=1)
    Appointment.objects.bulk_create(
        Appointment(
            service_user=record,
            kind=Appointment.Kind.GP,
            place_label=f"Place {n:02d}",
            address="Somewhere",
            starts_at=start - dt.timedelta(days=n),
            arranged_by=arranged_by,
        )
        for n in range(60)
    )

    first = person_client.get("/my/appointments/")
    second = person_client.get("/my/appointments/?page=2")
    silly = person_client.get("/my/appointments/?page=abc")

    assert len(first.context["past"].object_list) == 50
    assert "Place 00" in html_of(first) and "Place 50" not in html_of(first)
    assert "Place 50" in html_of(second) and "Place 59" in html_of(second)
    assert "Page 2 of 2" in html_of(first)
    assert silly.status_code == 200


@pytest.mark.parametrize("how_many", [10, 1000])
def test_the_appointments_page_costs_the_same_queries_however_many_there_are(
    how_many, person_with_consents, record, django_assert_num_queries
):
    arranged_by = UserFactory()
    now = timezone.now()
    Appointment.objects.bulk_create(
        Appointment(
            service_user=record,
            kind=Appointment.Kind.GP,
            place_label="Riverside Centre",
            address="Somewhere",
            starts_at=now + dt.timedelta(hours=n if n % 2 else -n - 1),
            arranged_by=arranged_by,
        )
        for n in range(how_many)
    )
    client = Client()
    client.force_login(person_with_consents)

    with django_assert_num_queries(12):
        response = client.get("/my/appointments/")

    assert response.status_code == 200


# --- Supporter -------------------------------------------------------------------------------


def test_a_matched_person_sees_their_supporters_first_name_only(person_client, record, supporter):
    MatchFactory(service_user=record, supporter=supporter)

    response = person_client.get("/my/supporter/")

    html = html_of(response)
    assert response.status_code == 200
    assert "Your peer supporter is <strong>Jordan</strong>" in html
    assert "jordan.k@example.org" not in html
    for shape in ("+447700900777", "07700 900777", "07700900777", "7700900777"):
        assert shape not in html
    # How to reach them: through the service.
    assert record.service.name in html
    assert record.service.phone.as_national in html
    assert record.service.hours in html
    assert "We are finding a peer supporter for you" not in html


def test_an_unmatched_person_is_told_we_are_finding_a_supporter(person_client, record):
    html = html_of(person_client.get("/my/supporter/"))

    assert "We are finding a peer supporter for you" in html
    assert record.service.phone.as_national in html


def test_an_offer_waiting_for_an_answer_never_reveals_the_offered_supporter(
    person_client, record, supporter
):
    OfferFactory(service_user=record, supporter=supporter)

    html = html_of(person_client.get("/my/supporter/"))

    assert "We are finding a peer supporter for you" in html
    assert "Jordan" not in html


def test_an_ended_match_is_not_shown_as_a_current_supporter(person_client, record, supporter):
    MatchFactory(
        service_user=record,
        supporter=supporter,
        started_at=timezone.now() - dt.timedelta(days=30),
        ended_at=timezone.now() - dt.timedelta(days=1),
        end_reason="goals_met",
    )

    html = html_of(person_client.get("/my/supporter/"))

    assert "Jordan" not in html
    assert "We are finding a peer supporter for you" in html


def test_someone_elses_supporter_is_not_shown(person_client, record, other_record, supporter):
    MatchFactory(service_user=other_record, supporter=supporter)

    html = html_of(person_client.get("/my/supporter/"))

    assert "Jordan" not in html
    assert "We are finding a peer supporter for you" in html


# --- Who may open these pages ----------------------------------------------------------------


@pytest.mark.parametrize("url", PAGES)
@pytest.mark.parametrize("role", [Role.PEER_VOLUNTEER, Role.PEER_SUPPORT_WORKER, Role.COORDINATOR])
def test_other_roles_get_not_found(url, role, service, record):
    client = Client()
    client.force_login(make_member(role, service))

    assert client.get(url).status_code == 404
    assert client.post(url, {"preferred_name": "X"}).status_code == 404
    assert ServiceUserRecord.objects.get(pk=record.pk).preferred_name == "Avery"


@pytest.mark.parametrize("url", PAGES)
def test_signed_out_visitors_are_sent_to_sign_in(url, client, record):
    response = client.get(url)

    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


@pytest.mark.parametrize("url", PAGES)
def test_a_service_user_without_a_record_sees_nothing_here_yet(url, service):
    client = Client()
    client.force_login(make_member(Role.SERVICE_USER, service))

    response = client.get(url)

    assert response.status_code == 200
    assert "There is nothing here yet." in html_of(response)


@pytest.mark.parametrize(
    ("url", "detail"),
    [
        ("/my/appointments/", "appointments"),
        ("/my/supporter/", "supporter"),
        ("/my/preferences/", "preferences"),
    ],
)
def test_every_page_view_is_audited(url, detail, person_client, person_with_consents, record):
    before = AuditEvent.objects.filter(action=AuditEvent.Action.VIEW).count()

    assert person_client.get(url).status_code == 200

    event = AuditEvent.objects.filter(action=AuditEvent.Action.VIEW).latest("pk")
    assert AuditEvent.objects.filter(action=AuditEvent.Action.VIEW).count() > before
    assert event.actor == person_with_consents
    assert event.subject == person_with_consents
    assert event.object_type == "peer_support.serviceuserrecord"
    assert event.object_id == str(record.pk)
    assert event.service_id == record.service_id
    assert event.detail == detail


def test_each_appointment_shown_is_audited(person_client, person_with_consents, record):
    shown = AppointmentFactory(service_user=record)

    person_client.get("/my/appointments/")

    assert AuditEvent.objects.filter(
        actor=person_with_consents,
        action=AuditEvent.Action.VIEW,
        object_type="peer_support.appointment",
        object_id=str(shown.pk),
    ).exists()


# --- Preferences -----------------------------------------------------------------------------


def test_the_preferences_form_shows_what_is_saved_and_links_to_agreements(person_client, record):
    ServiceUserRecord.objects.filter(pk=record.pk).update(
        languages=["English", "Polish"], preferred_supporter_gender="woman"
    )

    response = person_client.get("/my/preferences/")

    html = html_of(response)
    assert 'value="English, Polish"' in html
    assert 'value="woman" checked' in html
    assert 'href="/my/consents/"' in html
    assert "text message reminders" in html


def test_the_preferences_form_saves_and_audits(person_client, person_with_consents, record):
    response = person_client.post(
        "/my/preferences/",
        {
            "preferred_name": "  Ave ",
            "preferred_supporter_gender": "man",
            "languages": "English, polish, English",
            "accessibility_needs": ["easy_read", "interpreter"],
            "interests": "football, music",
            "availability": ["mon:morning", "sat:evening"],
        },
    )

    assert response.status_code == 302
    assert response["Location"] == "/my/preferences/"
    record.refresh_from_db()
    assert record.preferred_name == "Ave"
    assert record.preferred_supporter_gender == "man"
    assert record.languages == ["English", "polish"]
    assert record.accessibility_needs == ["easy_read", "interpreter"]
    assert record.interests == ["football", "music"]
    assert record.availability == [["mon", "morning"], ["sat", "evening"]]
    change = AuditEvent.objects.get(action=AuditEvent.Action.CHANGE, actor=person_with_consents)
    assert change.object_id == str(record.pk)
    assert "preferred_name" in change.detail and "Ave" not in change.detail
    follow = person_client.get("/my/preferences/")
    assert "We have saved your changes" in html_of(follow)


def test_no_preference_clears_the_supporter_gender(person_client, record):
    ServiceUserRecord.objects.filter(pk=record.pk).update(preferred_supporter_gender="woman")

    person_client.post(
        "/my/preferences/", {"preferred_name": "Avery", "preferred_supporter_gender": ""}
    )

    record.refresh_from_db()
    assert record.preferred_supporter_gender == ""


def test_a_preference_staff_wrote_in_other_words_is_kept(person_client, record):
    ServiceUserRecord.objects.filter(pk=record.pk).update(preferred_supporter_gender="non-binary")

    html = html_of(person_client.get("/my/preferences/"))
    person_client.post(
        "/my/preferences/",
        {"preferred_name": "Avery", "preferred_supporter_gender": "non-binary"},
    )

    assert 'value="non-binary" checked' in html
    record.refresh_from_db()
    assert record.preferred_supporter_gender == "non-binary"


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("preferred_name", ""),
        ("preferred_name", "x" * 101),
        ("preferred_supporter_gender", "robot"),
        ("languages", "x" * 51),
        ("interests", ", ".join(f"w{n}" for n in range(21))),
        ("accessibility_needs", "braille"),
        ("availability", "mon:night"),
    ],
)
def test_bad_preferences_are_shown_on_their_own_field(person_client, record, field, value):
    data = {"preferred_name": "Avery", field: value}

    response = person_client.post("/my/preferences/", data)

    assert response.status_code == 200
    assert field in response.context["form"].errors
    record.refresh_from_db()
    assert record.preferred_name == "Avery"


EXAMPLES = 500
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def answer(valid: list, odd: list = ()):
    kinds = {
        "valid": st.sampled_from(valid),
        "odd": st.sampled_from(odd or valid),
        "any": st.text(max_size=60),
    }
    return st.sampled_from(["valid"] * 6 + ["odd", "any", "any"]).flatmap(kinds.__getitem__)


preference_bodies = st.fixed_dictionaries(
    {
        "preferred_name": answer(["Sam", "  Jo  "], ["", " ", "x" * 101, "\x00"]),
        "preferred_supporter_gender": answer(["", "woman", "man"], ["other"]),
        "languages": answer(["English", "English, Polish", ""], [",,,", "x" * 51]),
        "accessibility_needs": st.lists(
            answer(["easy_read", "large_print", "interpreter"]), max_size=3
        ),
        "interests": answer(["football", "music, art", ""], [" , "]),
        "availability": st.lists(
            answer(["mon:morning", "sun:evening", "wed:afternoon"], ["mon", ":", "x:y:z"]),
            max_size=4,
        ),
    }
)


@FUZZ
@given(data=preference_bodies)
def test_any_preferences_body_never_errors_or_touches_anyone_else(
    data, person_client, record, other_record
):
    other_before = ServiceUserRecord.objects.values().get(pk=other_record.pk)

    response = person_client.post("/my/preferences/", data)

    event(f"status {response.status_code}")
    assert response.status_code in {200, 302}
    assert ServiceUserRecord.objects.values().get(pk=other_record.pk) == other_before


def test_the_pages_have_their_names():
    assert [reverse(f"peer_support:{name}") for name in NAMES] == PAGES
