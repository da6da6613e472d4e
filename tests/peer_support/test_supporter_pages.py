"""Supporters' pages: only the people they support now, no phone number but on its own
audited page, only their own notes, every write through a service, flat query counts."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client
from django.utils import timezone

from notifications.sms import MemorySMSClient
from peer_support import services
from peer_support.models import (
    Alert,
    Appointment,
    Contact,
    Exclusion,
    Match,
    Offer,
    ServiceUserRecord,
    Supporter,
)
from portal.models import AuditEvent, ConsentPurpose
from portal.roles import Role
from portal.services import consent_give
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

MOBILE_E164 = "+447700900456"
MOBILE_NATIONAL = "07700 900456"
OTHER_NOTE = "Notes from the previous supporter only"
OWN_NOTE = "Walked to the housing office together"
EXPLANATION = "shares lived experience of housing; covers NM1; 3 of 3 places free"


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def supporter_of(service, *, capacity: int = 5, **user_fields) -> Supporter:
    user = make_member(Role.PEER_VOLUNTEER, service, **user_fields)
    return SupporterFactory(user=user, services=[service], capacity=capacity)


def consenting_person(service, worker, **record_fields) -> ServiceUserRecord:
    """A referred person with an account and peer support consent, so offers can go ahead."""
    user = make_member(Role.SERVICE_USER, service)
    consent_give(
        subject=user,
        service=service,
        purpose=ConsentPurpose.PEER_SUPPORT,
        method="verbal_custody",
        recorded_by=worker,
    )
    return ServiceUserRecordFactory(service=service, user=user, **record_fields)


@pytest.fixture
def world(service, worker, person_with_consents):
    """Avery is supported by volunteer A (after volunteer C, whose match ended); volunteer B
    supports someone else. A has an offer waiting to support Robin."""
    now = timezone.now()
    volunteer = supporter_of(service, first_name="Jo")
    record = ServiceUserRecordFactory(
        service=service,
        user=person_with_consents,
        preferred_name="Avery",
        mobile=MOBILE_E164,
        needs=["housing", "mental_health"],
        accessibility_needs=["easy_read"],
        languages=["en", "pl"],
        interests=["football"],
        availability=[["mon", "morning"], ["sat", "afternoon"]],
        home_district="NM1",
        status=ServiceUserRecord.Status.MATCHED,
    )
    ended = supporter_of(service, first_name="Cal")
    old_match = MatchFactory(
        service_user=record,
        supporter=ended,
        started_at=now - dt.timedelta(days=60),
        ended_at=now - dt.timedelta(days=30),
        end_reason=Match.EndReason.SUPPORTER_LEFT,
        created_by=worker,
    )
    ContactFactory(match=old_match, summary=OTHER_NOTE, occurred_at=now - dt.timedelta(days=40))
    match = MatchFactory(
        service_user=record,
        supporter=volunteer,
        started_at=now - dt.timedelta(days=20),
        created_by=worker,
    )
    contact = ContactFactory(match=match, summary=f"<strong>{OWN_NOTE}</strong>")
    past = AppointmentFactory(
        service_user=record,
        starts_at=now - dt.timedelta(days=1),
        arranged_by=worker,
        place_label="Riverside Centre",
        address="1 Example Street, Testtown NM1 1AA",
    )
    future = AppointmentFactory(
        service_user=record,
        starts_at=now + dt.timedelta(days=3),
        arranged_by=worker,
        place_label="Hillside Hub",
        address="2 Example Road, Testtown NM1 2BB",
    )
    other = supporter_of(service, first_name="Bea")
    MatchFactory(
        service_user=ServiceUserRecordFactory(service=service, preferred_name="Kit"),
        supporter=other,
        created_by=worker,
    )
    robin = ServiceUserRecordFactory(
        service=service, preferred_name="Robin", mobile="+447700900457", home_district="NM2"
    )
    offer = OfferFactory(service_user=robin, supporter=volunteer, explanation=EXPLANATION)
    return {
        "service": service,
        "worker": worker,
        "volunteer": volunteer,
        "record": record,
        "match": match,
        "contact": contact,
        "past": past,
        "future": future,
        "other": other,
        "ended": ended,
        "robin": robin,
        "offer": offer,
    }


# --- Every page renders ----------------------------------------------------------------------

PAGES = {
    "people": lambda w: "/supporter/",
    "person": lambda w: f"/supporter/people/{w['record'].pk}/",
    "phone": lambda w: f"/supporter/people/{w['record'].pk}/phone/",
    "contact_new": lambda w: f"/supporter/people/{w['record'].pk}/contacts/new/",
    "appointment_new": lambda w: f"/supporter/people/{w['record'].pk}/appointments/new/",
    "appointments": lambda w: "/supporter/appointments/",
    "outcome": lambda w: f"/supporter/appointments/{w['past'].pk}/outcome/",
    "availability": lambda w: "/supporter/availability/",
    "offers": lambda w: "/supporter/offers/",
    "offer_decline": lambda w: f"/supporter/offers/{w['offer'].pk}/decline/",
}
EXPECTED_TEXT = {
    "people": ["My people", "Avery", "Housing", "NM1", "Easy read", "Hillside Hub", "1 offer"],
    "person": ["Avery", "Log a contact", "Add an appointment", "Show their phone number"],
    "phone": [MOBILE_NATIONAL, "only to help them get to appointments"],
    "contact_new": ["Log a contact with Avery", "I have a safeguarding concern"],
    "appointment_new": ["Add an appointment for Avery", "Place name for text messages"],
    "appointments": ["Appointments", "Past appointments without an outcome", "Riverside Centre"],
    "outcome": ["Record what happened", "Riverside Centre", "1 Example Street"],
    "availability": ["When you are free", "Take a break from new people", "DBS check"],
    "offers": ["Robin", "Please answer by", "Accept", "Decline"],
    "offer_decline": ["Can you support Robin?", "I may know this person"],
}


@pytest.mark.parametrize("page", list(PAGES))
def test_each_page_renders_for_a_volunteer_with_matched_people(world, page):
    response = signed_in(world["volunteer"].user).get(PAGES[page](world))
    assert response.status_code == 200
    content = response.content.decode()
    for text in EXPECTED_TEXT[page]:
        assert text in content, text
    assert content.count("<h1") == 1


@pytest.mark.parametrize("page", list(PAGES))
def test_every_page_view_writes_audit_events(world, page):
    user = world["volunteer"].user
    before = AuditEvent.objects.filter(actor=user, action=AuditEvent.Action.VIEW).count()
    assert signed_in(user).get(PAGES[page](world)).status_code == 200
    after = AuditEvent.objects.filter(actor=user, action=AuditEvent.Action.VIEW).count()
    assert after > before


@pytest.mark.parametrize("page", list(PAGES))
def test_someone_who_is_not_a_supporter_gets_404_on_every_page(world, page):
    response = signed_in(world["worker"]).get(PAGES[page](world))
    assert response.status_code == 404


# --- Nobody else's people --------------------------------------------------------------------

PERSON_LEVEL = [
    ("get", "person", lambda w: f"/supporter/people/{w['record'].pk}/"),
    ("get", "phone", lambda w: f"/supporter/people/{w['record'].pk}/phone/"),
    ("get", "contact_new", lambda w: f"/supporter/people/{w['record'].pk}/contacts/new/"),
    ("post", "contact_new", lambda w: f"/supporter/people/{w['record'].pk}/contacts/new/"),
    ("get", "appointment_new", lambda w: f"/supporter/people/{w['record'].pk}/appointments/new/"),
    (
        "post",
        "appointment_new",
        lambda w: f"/supporter/people/{w['record'].pk}/appointments/new/",
    ),
    ("get", "outcome", lambda w: f"/supporter/appointments/{w['past'].pk}/outcome/"),
    ("post", "outcome", lambda w: f"/supporter/appointments/{w['past'].pk}/outcome/"),
    ("post", "offer_accept", lambda w: f"/supporter/offers/{w['offer'].pk}/accept/"),
    ("get", "offer_decline", lambda w: f"/supporter/offers/{w['offer'].pk}/decline/"),
    ("post", "offer_decline", lambda w: f"/supporter/offers/{w['offer'].pk}/decline/"),
]
VALID_POSTS = {
    "contact_new": {
        "date": "2026-01-05",
        "time": "10:00",
        "method": "phone",
        "duration_minutes": "15",
        "summary": "Tried to help",
    },
    "appointment_new": {
        "kind": "gp",
        "place_label": "Riverside Centre",
        "address": "1 Example Street",
        "date": "2030-01-05",
        "time": "10:00",
    },
    "outcome": {"outcome": "attended"},
    "offer_accept": {},
    "offer_decline": {"reason": "no_time"},
}


@pytest.mark.parametrize("outsider", ["other_volunteer", "volunteer_whose_match_ended"])
@pytest.mark.parametrize(
    ("method", "name", "url"), PERSON_LEVEL, ids=[f"{m}-{n}" for m, n, _ in PERSON_LEVEL]
)
def test_a_volunteer_who_does_not_support_the_person_gets_404(world, outsider, method, name, url):
    supporter = world["other"] if outsider == "other_volunteer" else world["ended"]
    client = signed_in(supporter.user)
    counts = (Contact.objects.count(), Appointment.objects.count(), Match.objects.count())
    if method == "get":
        response = client.get(url(world))
    else:
        response = client.post(url(world), VALID_POSTS[name])
    assert response.status_code == 404
    # Nothing was written on their behalf.
    assert (Contact.objects.count(), Appointment.objects.count(), Match.objects.count()) == counts
    world["offer"].refresh_from_db()
    world["past"].refresh_from_db()
    assert world["offer"].status == Offer.Status.PENDING
    assert world["past"].outcome == ""


def test_an_appointment_of_the_supporter_as_a_service_user_is_not_theirs_to_record(
    world, service, worker
):
    """The selector shows a person their own appointments; the outcome page also needs the
    match, so a supporter who is also referred cannot record their own."""
    volunteer = world["volunteer"]
    own_record = ServiceUserRecordFactory(service=service, user=volunteer.user)
    own = AppointmentFactory(
        service_user=own_record, starts_at=timezone.now() - dt.timedelta(hours=2)
    )
    response = signed_in(volunteer.user).get(f"/supporter/appointments/{own.pk}/outcome/")
    assert response.status_code == 404


# --- The person page and the phone page ------------------------------------------------------


def test_the_person_page_never_shows_their_mobile_or_another_volunteers_notes(world):
    response = signed_in(world["volunteer"].user).get(PAGES["person"](world))
    content = response.content.decode()
    assert MOBILE_E164 not in content
    assert MOBILE_NATIONAL not in content
    assert MOBILE_NATIONAL.replace(" ", "") not in content
    assert OTHER_NOTE not in content
    # Their own note, printed as the sanitised HTML it was saved as; full addresses shown.
    assert f"<strong>{OWN_NOTE}</strong>" in content
    assert "2 Example Road" in content and "1 Example Street" in content
    assert "English, Polish" in content
    assert "Monday morning" in content


def test_a_worker_who_supports_someone_sees_only_their_own_notes_there(world, service):
    """Casework staff read every note of their service through the selector; on the
    supporter page a worker who supports the person sees their own notes only."""
    worker_user = make_member(Role.PEER_SUPPORT_WORKER, service)
    profile = SupporterFactory(user=worker_user, kind=Supporter.Kind.WORKER, services=[service])
    record = world["record"]
    Match.objects.filter(pk=world["match"].pk).update(
        ended_at=timezone.now(), end_reason=Match.EndReason.SUPPORTER_LEFT
    )
    MatchFactory(service_user=record, supporter=profile, created_by=world["worker"])
    content = signed_in(worker_user).get(f"/supporter/people/{record.pk}/").content.decode()
    assert OWN_NOTE not in content
    assert OTHER_NOTE not in content
    assert "You have not logged any contacts yet" in content


def test_the_phone_page_shows_the_number_and_is_audited_as_mobile(world):
    user = world["volunteer"].user
    response = signed_in(user).get(PAGES["phone"](world))
    content = response.content.decode()
    assert MOBILE_NATIONAL in content
    assert f"tel:{MOBILE_E164}" in content
    assert "no-cache" in response["Cache-Control"] or "no-store" in response["Cache-Control"]
    event = AuditEvent.objects.filter(actor=user, detail="mobile").get()
    assert event.object_id == str(world["record"].pk)
    assert event.subject_id == world["record"].user_id


def test_the_offers_page_shows_only_what_the_supporter_needs(world, worker):
    Exclusion.objects.create(
        service_user=world["robin"],
        other_service_user=world["record"],
        kind=Exclusion.Kind.CO_DEFENDANT,
        reason="Same incident as the other person",
        entered_by=worker,
    )
    content = signed_in(world["volunteer"].user).get("/supporter/offers/").content.decode()
    assert "Robin" in content and "NM2" in content
    assert EXPLANATION not in content
    assert "+447700900457" not in content and "07700 900457" not in content
    assert "Same incident" not in content
    assert "o-defendant" not in content


# --- Contacts --------------------------------------------------------------------------------


def _contact_post(**overrides) -> dict:
    yesterday = timezone.localdate() - dt.timedelta(days=1)
    data = {
        "date": yesterday.isoformat(),
        "time": "14:30",
        "method": "in_person",
        "duration_minutes": "45",
        "summary": "<script>alert(1)</script><p>Went to the <em>GP</em> together.</p>",
        "next_step": "Call on Friday <img src=x onerror=alert(1)>",
    }
    data.update(overrides)
    return data


def test_logging_a_contact_saves_sanitised_text(world):
    client = signed_in(world["volunteer"].user)
    url = f"/supporter/people/{world['record'].pk}/contacts/new/"
    response = client.post(url, _contact_post())
    assert response.status_code == 302
    assert response["Location"] == f"/supporter/people/{world['record'].pk}/"
    contact = Contact.objects.filter(supporter=world["volunteer"]).latest("pk")
    assert "<script>" not in contact.summary and "<em>GP</em>" in contact.summary
    assert "<img" not in contact.next_step and "Call on Friday" in contact.next_step
    assert contact.duration_minutes == 45
    local = timezone.localtime(contact.occurred_at)
    assert (local.date(), local.hour, local.minute) == (
        timezone.localdate() - dt.timedelta(days=1),
        14,
        30,
    )
    assert not Alert.objects.filter(kind=Alert.Kind.SAFEGUARDING).exists()
    page = client.get(response["Location"]).content.decode()
    assert "<em>GP</em>" in page and "<script>alert" not in page


def test_the_contact_form_starts_at_now_and_explains_the_safeguarding_box(world):
    content = (
        signed_in(world["volunteer"].user)
        .get(f"/supporter/people/{world['record'].pk}/contacts/new/")
        .content.decode()
    )
    assert f'value="{timezone.localdate().isoformat()}"' in content
    assert "The peer support team will be told at once" in content
    assert "call 999" in content.lower()


def test_a_safeguarding_concern_alerts_the_team_and_texts_each_worker(
    world, service, django_capture_on_commit_callbacks
):
    workers = [
        make_member(Role.PEER_SUPPORT_WORKER, service, mobile=f"+44770090080{i}") for i in (1, 2)
    ]
    MemorySMSClient.outbox.clear()
    client = signed_in(world["volunteer"].user)
    url = f"/supporter/people/{world['record'].pk}/contacts/new/"
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url, _contact_post(safeguarding_concern="on"), follow=True)
    content = response.content.decode()
    assert "The peer support team has been told" in content
    assert "If someone is in danger now, call 999." in content
    alert = Alert.objects.get(kind=Alert.Kind.SAFEGUARDING)
    assert alert.contact.safeguarding_concern is True
    assert alert.service_user == world["record"]
    assert sorted(m.recipient_id for m in MemorySMSClient.outbox) == sorted(w.pk for w in workers)
    assert all(m.body == services.URGENT_ALERT_SMS for m in MemorySMSClient.outbox)
    MemorySMSClient.outbox.clear()


@pytest.mark.parametrize(
    ("overrides", "field_error"),
    [
        ({"summary": "   "}, "This field is required"),
        ({"summary": "<script></script>"}, "Say what you did"),
        ({"duration_minutes": "1441"}, "less than or equal to 1440"),
        ({"duration_minutes": "0"}, "greater than or equal to 1"),
        ({"date": "2026-02-30"}, "Enter a valid date"),
        ({"time": "24:00"}, "Enter a valid time"),
        ({"method": "pigeon"}, "Select a valid choice"),
        ({"date": "2999-01-01"}, "Enter a real date"),
    ],
)
def test_a_contact_with_a_mistake_is_shown_again_with_the_error(world, overrides, field_error):
    before = Contact.objects.count()
    response = signed_in(world["volunteer"].user).post(
        f"/supporter/people/{world['record'].pk}/contacts/new/", _contact_post(**overrides)
    )
    assert response.status_code == 200
    assert field_error in response.content.decode()
    assert Contact.objects.count() == before


def test_a_contact_in_the_future_is_refused_on_the_form(world):
    tomorrow = timezone.localdate() + dt.timedelta(days=1)
    response = signed_in(world["volunteer"].user).post(
        f"/supporter/people/{world['record'].pk}/contacts/new/",
        _contact_post(date=tomorrow.isoformat()),
    )
    assert response.status_code == 200
    assert "The contact must have happened already." in response.content.decode()


# --- Appointments ----------------------------------------------------------------------------


def _appointment_post(**overrides) -> dict:
    data = {
        "kind": "housing",
        "place_label": "Civic Centre",
        "address": "3 Example Lane, Testtown NM1 3CC",
        "date": (timezone.localdate() + dt.timedelta(days=5)).isoformat(),
        "time": "09:15",
        "supporter_attending": "on",
    }
    data.update(overrides)
    return data


def test_adding_an_appointment_works(world):
    user = world["volunteer"].user
    response = signed_in(user).post(
        f"/supporter/people/{world['record'].pk}/appointments/new/", _appointment_post()
    )
    assert response.status_code == 302
    appointment = Appointment.objects.get(place_label="Civic Centre")
    assert appointment.service_user == world["record"]
    assert appointment.arranged_by == user
    assert appointment.supporter_attending is True
    assert timezone.localtime(appointment.starts_at).strftime("%H:%M") == "09:15"


def test_adding_an_appointment_refuses_a_sensitive_place_label(world):
    response = signed_in(world["volunteer"].user).post(
        f"/supporter/people/{world['record'].pk}/appointments/new/",
        _appointment_post(place_label="Police station"),
    )
    assert response.status_code == 200
    assert "must not say what the place is for" in response.content.decode()
    assert not Appointment.objects.filter(place_label="Police station").exists()


def test_adding_an_appointment_in_the_skipped_spring_hour_is_refused(world):
    response = signed_in(world["volunteer"].user).post(
        f"/supporter/people/{world['record'].pk}/appointments/new/",
        _appointment_post(date="2027-03-28", time="01:30"),
    )
    assert response.status_code == 200
    content = response.content.decode()
    assert "That time does not exist: the clocks go forward then." in content
    assert 'href="#id_time"' in content  # in the error summary, linked to the field
    assert not Appointment.objects.filter(place_label="Civic Centre").exists()


def test_the_appointments_page_lists_today_this_week_and_those_without_an_outcome(world, worker):
    record = world["record"]
    zone = timezone.get_current_timezone()
    today = timezone.localdate()
    AppointmentFactory(
        service_user=record,
        place_label="Today Place",
        starts_at=dt.datetime.combine(today, dt.time(0, 1), zone),
        arranged_by=worker,
    )
    AppointmentFactory(
        service_user=record,
        place_label="Week Place",
        starts_at=dt.datetime.combine(today + dt.timedelta(days=6), dt.time(12), zone),
        arranged_by=worker,
    )
    AppointmentFactory(
        service_user=record,
        place_label="Far Place",
        starts_at=dt.datetime.combine(today + dt.timedelta(days=9), dt.time(12), zone),
        arranged_by=worker,
    )
    AppointmentFactory(
        service_user=record,
        place_label="Done Place",
        starts_at=timezone.now() - dt.timedelta(days=2),
        outcome=Appointment.Outcome.ATTENDED,
        arranged_by=worker,
    )
    AppointmentFactory(
        service_user=world["other"].matches.get().service_user,
        place_label="Not Yours Place",
        starts_at=timezone.now() + dt.timedelta(hours=1),
        arranged_by=worker,
    )
    content = signed_in(world["volunteer"].user).get("/supporter/appointments/").content.decode()
    for shown in ("Today Place", "Week Place", "Hillside Hub", "Riverside Centre"):
        assert shown in content
    for hidden in ("Far Place", "Done Place", "Not Yours Place"):
        assert hidden not in content
    # "Today Place" has started (00:01 today), so it can be recorded.
    today_place = Appointment.objects.get(place_label="Today Place")
    assert f"/supporter/appointments/{today_place.pk}/outcome/" in content
    assert f"/supporter/appointments/{world['future'].pk}/outcome/" not in content


def test_recording_an_outcome(world):
    user = world["volunteer"].user
    response = signed_in(user).post(
        f"/supporter/appointments/{world['past'].pk}/outcome/", {"outcome": "did_not_attend"}
    )
    assert response.status_code == 302
    assert response["Location"] == "/supporter/appointments/"
    world["past"].refresh_from_db()
    assert world["past"].outcome == Appointment.Outcome.DID_NOT_ATTEND
    assert world["past"].outcome_recorded_by == user


def test_attended_is_refused_for_a_future_appointment_with_the_services_message(world):
    response = signed_in(world["volunteer"].user).post(
        f"/supporter/appointments/{world['future'].pk}/outcome/", {"outcome": "attended"}
    )
    assert response.status_code == 200
    assert "This appointment has not happened yet." in response.content.decode()
    world["future"].refresh_from_db()
    assert world["future"].outcome == ""


# --- Availability ----------------------------------------------------------------------------


def test_availability_is_saved(world):
    volunteer = world["volunteer"]
    response = signed_in(volunteer.user).post(
        "/supporter/availability/",
        {
            "availability": ["tue:evening", "sat:morning"],
            "capacity": "4",
            "paused": "on",
            "paused_reason": "Exams this month",
        },
    )
    assert response.status_code == 302
    volunteer.refresh_from_db()
    assert volunteer.availability == [["tue", "evening"], ["sat", "morning"]]
    assert volunteer.capacity == 4
    assert volunteer.paused is True
    assert volunteer.paused_reason == "Exams this month"
    page = signed_in(volunteer.user).get("/supporter/availability/").content.decode()
    assert "Exams this month" in page


def test_capacity_below_active_matches_is_refused_with_the_message(world):
    volunteer = world["volunteer"]
    response = signed_in(volunteer.user).post("/supporter/availability/", {"capacity": "0"})
    assert response.status_code == 200
    assert (
        "You support 1 person now, so this cannot be lower than that." in response.content.decode()
    )
    volunteer.refresh_from_db()
    assert volunteer.capacity == 5


def test_availability_page_lists_readiness_problems_in_plain_words(world):
    volunteer = world["volunteer"]
    Supporter.objects.filter(pk=volunteer.pk).update(
        training_modules_completed=["safeguarding"], last_supervision_on=None
    )
    content = signed_in(volunteer.user).get("/supporter/availability/").content.decode()
    assert "Training not completed: boundaries, data_protection" in content
    assert "No supervision recorded" in content
    assert "data protection" in content  # the missing module, in words


def test_a_paused_supporter_who_is_not_ready_cannot_unpause_themselves(world):
    volunteer = world["volunteer"]
    Supporter.objects.filter(pk=volunteer.pk).update(
        paused=True, paused_reason="Not ready: No DBS check recorded", dbs_checked_on=None
    )
    response = signed_in(volunteer.user).post("/supporter/availability/", {"capacity": "3"})
    assert response.status_code == 200
    assert "You cannot take new people until this is sorted" in response.content.decode()
    volunteer.refresh_from_db()
    assert volunteer.paused is True


# --- Offers ----------------------------------------------------------------------------------


def test_accepting_an_offer_makes_the_match_and_opens_the_persons_page(world, service, worker):
    person = consenting_person(service, worker, preferred_name="Lee")
    offer = services.offer_make(
        service_user=person, supporter=world["volunteer"], offered_by=worker
    )
    response = signed_in(world["volunteer"].user).post(f"/supporter/offers/{offer.pk}/accept/")
    assert response.status_code == 302
    assert response["Location"] == f"/supporter/people/{person.pk}/"
    offer.refresh_from_db()
    assert offer.status == Offer.Status.ACCEPTED
    assert (
        Match.objects.get(service_user=person, ended_at__isnull=True).supporter
        == (world["volunteer"])
    )


def test_an_offer_past_its_deadline_is_refused_with_the_services_message(world):
    offer = world["offer"]
    past = timezone.now() - dt.timedelta(days=3)
    Offer.objects.filter(pk=offer.pk).update(
        offered_at=past, respond_by=past + dt.timedelta(hours=48)
    )
    response = signed_in(world["volunteer"].user).post(
        f"/supporter/offers/{offer.pk}/accept/", follow=True
    )
    assert response.redirect_chain[-1][0] == "/supporter/offers/"
    assert "Sorry, the time to answer this offer has passed." in response.content.decode()
    offer.refresh_from_db()
    assert offer.status == Offer.Status.EXPIRED  # saved although the accept failed
    assert not Match.objects.filter(service_user=world["robin"]).exists()


def test_declining_an_offer_records_the_reason(world):
    offer = world["offer"]
    response = signed_in(world["volunteer"].user).post(
        f"/supporter/offers/{offer.pk}/decline/", {"reason": "know_them"}
    )
    assert response.status_code == 302
    assert response["Location"] == "/supporter/offers/"
    offer.refresh_from_db()
    assert offer.status == Offer.Status.DECLINED
    assert offer.decline_reason == Offer.DeclineReason.KNOW_THEM
    page = signed_in(world["volunteer"].user).get("/supporter/offers/").content.decode()
    assert "No offers are waiting for your answer" in page
    # Once declined, the supporter no longer needs to know who it was about.
    assert offer.service_user.preferred_name not in page


def test_declining_without_a_reason_shows_the_question_again(world):
    offer = world["offer"]
    response = signed_in(world["volunteer"].user).post(
        f"/supporter/offers/{offer.pk}/decline/", {"reason": "bored"}
    )
    assert response.status_code == 200
    assert "Select a valid choice" in response.content.decode()
    offer.refresh_from_db()
    assert offer.status == Offer.Status.PENDING


def test_a_declined_offer_cannot_then_be_accepted(world):
    client = signed_in(world["volunteer"].user)
    url = f"/supporter/offers/{world['offer'].pk}/"
    client.post(url + "decline/", {"reason": "no_time"})
    response = client.post(url + "accept/")
    assert response.status_code == 404
    world["offer"].refresh_from_db()
    assert world["offer"].status == Offer.Status.DECLINED
    assert not Match.objects.filter(service_user=world["offer"].service_user).exists()


def test_get_is_not_allowed_on_accept(world):
    response = signed_in(world["volunteer"].user).get(
        f"/supporter/offers/{world['offer'].pk}/accept/"
    )
    assert response.status_code == 405


# --- Query counts ----------------------------------------------------------------------------


def _populate(service, supporter: Supporter, creator, n: int) -> ServiceUserRecord:
    """``n`` people matched to ``supporter``, ``n`` appointments across them (today, this
    week, past without outcome, later), ``n`` more appointments and ``n`` contacts for the
    first of them, and ``n`` waiting plus ``n`` answered offers, all in bulk."""
    now = timezone.now()
    today = timezone.localdate()
    start_today = timezone.make_aware(dt.datetime.combine(today, dt.time.min))
    records = ServiceUserRecord.objects.bulk_create(
        [
            ServiceUserRecord(
                service=service,
                preferred_name=f"Sam {i}",
                age_band="25_plus",
                home_district="NM1",
                needs=["housing"],
                accessibility_needs=["large_print"],
                status=ServiceUserRecord.Status.MATCHED,
            )
            for i in range(n)
        ]
    )
    matches = Match.objects.bulk_create(
        [
            Match(
                service_user=r,
                supporter=supporter,
                started_at=now - dt.timedelta(days=10),
                created_by=creator,
            )
            for r in records
        ]
    )
    buckets = [
        lambda i: start_today + dt.timedelta(minutes=i % 600),
        lambda i: start_today + dt.timedelta(days=3, minutes=i % 600),
        lambda i: start_today - dt.timedelta(days=3, minutes=i % 600),
        lambda i: now + dt.timedelta(days=10, minutes=i),
    ]
    first = records[0]
    Appointment.objects.bulk_create(
        [
            Appointment(
                service_user=r,
                kind=Appointment.Kind.GP,
                place_label="Riverside Centre",
                address="1 Example Street",
                starts_at=buckets[i % 4](i),
                arranged_by=creator,
            )
            for i, r in enumerate(records)
        ]
        + [
            Appointment(
                service_user=first,
                kind=Appointment.Kind.HOUSING,
                place_label="Hillside Hub",
                address="2 Example Road",
                starts_at=now + dt.timedelta(hours=i - n // 2),
                arranged_by=creator,
            )
            for i in range(n)
        ]
    )
    Contact.objects.bulk_create(
        [
            Contact(
                match=matches[0],
                service_user=first,
                supporter=supporter,
                occurred_at=now - dt.timedelta(hours=i + 1),
                method=Contact.Method.PHONE,
                duration_minutes=10,
                summary=f"Note {i}",
                created_by=supporter.user,
            )
            for i in range(n)
        ]
    )
    offered = ServiceUserRecord.objects.bulk_create(
        [
            ServiceUserRecord(
                service=service,
                preferred_name=f"Kim {i}",
                age_band="25_plus",
                status=ServiceUserRecord.Status.AWAITING_MATCH,
            )
            for i in range(n)
        ]
    )
    Offer.objects.bulk_create(
        [
            Offer(
                service_user=r,
                supporter=supporter,
                offered_at=now - dt.timedelta(hours=1),
                respond_by=now + dt.timedelta(hours=47),
                explanation=EXPLANATION,
            )
            for r in offered
        ]
        + [
            # Accepted: declined ones are not shown to supporters at all.
            Offer(
                service_user=r,
                supporter=supporter,
                status=Offer.Status.ACCEPTED,
                offered_at=now - dt.timedelta(days=5),
                respond_by=now - dt.timedelta(days=3),
                responded_at=now - dt.timedelta(days=4),
            )
            for r in offered
        ]
    )
    return first


# One number per page, the same at both sizes: the count does not grow with the data.
EXPECTED_QUERIES = {"people": 10, "person": 15, "appointments": 12, "offers": 10}


@pytest.mark.parametrize("size", [10, 1000])
@pytest.mark.parametrize("page", list(EXPECTED_QUERIES))
def test_query_counts_do_not_grow_with_the_data(
    service, worker, django_assert_num_queries, page, size
):
    supporter = supporter_of(service, capacity=2 * size)
    first = _populate(service, supporter, worker, size)
    url = {
        "people": "/supporter/",
        "person": f"/supporter/people/{first.pk}/",
        "appointments": "/supporter/appointments/",
        "offers": "/supporter/offers/",
    }[page]
    client = signed_in(supporter.user)
    with django_assert_num_queries(EXPECTED_QUERIES[page]):
        response = client.get(url)
    assert response.status_code == 200
    content = response.content.decode()
    # A full page of rows really was shown (and audited) at the large size.
    shown = AuditEvent.objects.filter(actor=supporter.user, action=AuditEvent.Action.VIEW)
    assert shown.exists()
    if page == "people":
        assert content.count("/supporter/people/") >= min(size, 50)
    if page == "offers":
        assert content.count("Please answer by") == min(size, 50)
