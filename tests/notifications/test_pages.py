"""The text message pages: who sees what (staff of the service and the person's supporter,
nobody else), no phone number for supporters, replies and wording checked by the same rules
as the services, flat query counts, and no input that gives a 500 or loses what was saved."""

from __future__ import annotations

import datetime as dt
import re
from types import SimpleNamespace
from urllib.parse import quote

import pytest
from django.test import Client
from django.utils import timezone
from django.utils.html import escape
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from notifications import wording
from notifications.models import InboundMessage, MessageTemplate, OutboundMessage
from notifications.selectors import templates_current
from notifications.sms import MemorySMSClient
from notifications.templating import template_lint
from peer_support.models import ServiceUserRecord
from portal.models import AuditEvent, User
from portal.roles import Role
from portal.sensitive import sensitive_words_in
from tests.factories import (
    AppointmentFactory,
    MatchFactory,
    ServiceUserRecordFactory,
    SupporterFactory,
)
from tests.portal import conftest as portal_fixtures
from tests.portal.conftest import make_member

pytestmark = pytest.mark.django_db

# The portal's fixtures (tests/notifications/conftest.py does not bring them in).
service = portal_fixtures.service
other_service = portal_fixtures.other_service
person_with_consents = portal_fixtures.person_with_consents

MOBILE = "+447700900456"
PHONE_SHAPES = [MOBILE, "7700900456", "07700 900456", "07700900456", "900456", "…456"]
REMINDER_BODY = "Reminder: Tue 3 Mar 2:30pm, Riverside Centre. Reply YES to confirm."
SKIP_REASON = "Too close to the appointment to be useful."
REPLY_TEXT = "Can I bring my sister with me?"
EARLIER_ANSWER = "Yes, that is fine. See you then."


def signed_in(user: User) -> Client:
    client = Client()
    client.force_login(User.objects.get(pk=user.pk))
    return client


Status = OutboundMessage.Status


@pytest.fixture
def world(service, other_service, person_with_consents):
    """Avery, supported by volunteer Jo, has an appointment in three days with one reminder
    sent and one skipped, and has texted something the portal could not answer."""
    now = timezone.now()
    worker = make_member(Role.PEER_SUPPORT_WORKER, service, first_name="Casey")
    volunteer = make_member(Role.PEER_VOLUNTEER, service, first_name="Jo")
    supporter = SupporterFactory(user=volunteer, services=[service])
    unmatched = make_member(Role.PEER_VOLUNTEER, service, first_name="Bea")
    SupporterFactory(user=unmatched, services=[service])
    record = ServiceUserRecordFactory(
        service=service,
        user=person_with_consents,
        preferred_name="Avery",
        mobile=MOBILE,
        status=ServiceUserRecord.Status.MATCHED,
    )
    MatchFactory(service_user=record, supporter=supporter, created_by=worker)
    appointment = AppointmentFactory(
        service_user=record, starts_at=now + dt.timedelta(days=3), arranged_by=worker
    )
    common = {
        "kind": OutboundMessage.Kind.REMINDER,
        "service": service,
        "service_user": record,
        "appointment": appointment,
        "appointment_starts_at": appointment.starts_at,
    }
    sent = OutboundMessage.objects.create(
        **common,
        slot="3d",
        send_at=now - dt.timedelta(hours=2),
        status=Status.SENT,
        sent_at=now - dt.timedelta(hours=2),
        to=MOBILE,
        body=REMINDER_BODY,
        delivery_status=OutboundMessage.Delivery.DELIVERED,
    )
    skipped = OutboundMessage.objects.create(
        **common,
        slot="2h",
        send_at=now - dt.timedelta(hours=3),
        status=Status.NOT_SENT,
        reason=SKIP_REASON,
        reason_code="too_late",
    )
    inbound = InboundMessage.objects.create(
        message_sid="SM-world-1",
        from_number=MOBILE,
        body=REPLY_TEXT,
        status=InboundMessage.Status.NEEDS_ANSWER,
        service=service,
        service_user=record,
        appointment=appointment,
    )
    earlier = OutboundMessage.objects.create(
        kind=OutboundMessage.Kind.MANUAL,
        service=service,
        service_user=record,
        inbound=inbound,
        send_at=now - dt.timedelta(days=1),
        status=Status.SENT,
        sent_at=now - dt.timedelta(days=1),
        to=MOBILE,
        body=EARLIER_ANSWER,
        written_by=worker,
    )
    return SimpleNamespace(
        service=service,
        worker=worker,
        volunteer=volunteer,
        supporter=supporter,
        unmatched=unmatched,
        outsider=make_member(Role.PEER_SUPPORT_WORKER, other_service),
        outside_volunteer=SupporterFactory(
            user=make_member(Role.PEER_VOLUNTEER, other_service), services=[other_service]
        ).user,
        no_profile=make_member(Role.PEER_VOLUNTEER, service),
        admin=make_member(Role.ADMINISTRATOR, service),
        commissioner=make_member(Role.COMMISSIONER, service),
        person=person_with_consents,
        record=record,
        appointment=appointment,
        sent=sent,
        skipped=skipped,
        inbound=inbound,
        earlier=earlier,
    )


PAGES = {
    "messages": lambda w: "/notifications/messages/",
    "inbox": lambda w: "/notifications/inbox/",
    "inbox_message": lambda w: f"/notifications/inbox/{w.inbound.pk}/",
    "reminders": lambda w: f"/notifications/appointments/{w.appointment.pk}/reminders/",
}
LISTS = {"messages", "inbox"}
# Who sees Avery's texts; who may open the lists but sees nobody of Avery's; who gets 404.
SEES = {"worker", "volunteer", "admin"}
SEES_NOBODY = {"outsider", "unmatched", "outside_volunteer"}
NO_ENTRY = {"person", "commissioner", "no_profile"}


@pytest.mark.parametrize("page", sorted(PAGES))
@pytest.mark.parametrize("viewer", sorted(SEES | SEES_NOBODY | NO_ENTRY))
def test_who_sees_each_page(world, page, viewer):
    response = signed_in(getattr(world, viewer)).get(PAGES[page](world))
    if viewer in SEES:
        assert response.status_code == 200
        assert b"Avery" in response.content
    elif viewer in SEES_NOBODY and page in LISTS:
        assert response.status_code == 200
        assert b"Avery" not in response.content
    else:
        assert response.status_code == 404
        assert b"Avery" not in response.content


def test_a_person_without_a_supporter_profile_or_staff_role_gets_404_everywhere(world):
    client = signed_in(world.person)
    for page in PAGES.values():
        assert client.get(page(world)).status_code == 404


def test_signed_out_people_are_sent_to_sign_in(world):
    for page in PAGES.values():
        response = Client().get(page(world))
        assert response.status_code == 302
        assert response["Location"].startswith("/accounts/login/")


@pytest.mark.parametrize("page", sorted(PAGES))
def test_the_volunteer_never_sees_a_phone_number(world, page):
    html = signed_in(world.volunteer).get(PAGES[page](world)).content.decode()
    for shape in PHONE_SHAPES:
        assert shape not in html
    assert "Number ending" not in html


@pytest.mark.parametrize("page", sorted(PAGES))
def test_staff_see_at_most_the_last_digits_of_a_number(world, page):
    html = signed_in(world.worker).get(PAGES[page](world)).content.decode()
    for shape in PHONE_SHAPES[:-2]:
        assert shape not in html


def test_the_outbox_says_what_each_text_is_when_and_what_happened(world):
    html = signed_in(world.worker).get("/notifications/messages/").content.decode()
    assert "Number ending …456" in html
    assert escape(REMINDER_BODY) in html
    assert "Reminder, 3 days before" in html
    assert "Reminder, 2 hours before" in html
    assert "Reply from a person" in html
    assert "Delivered" in html
    assert SKIP_REASON in html
    assert f'href="/staff/referrals/{world.record.pk}/"' in html


def test_the_volunteer_sees_the_words_and_a_link_to_their_person_page(world):
    html = signed_in(world.volunteer).get("/notifications/messages/").content.decode()
    assert escape(REMINDER_BODY) in html
    assert f'href="/supporter/people/{world.record.pk}/"' in html
    assert "/staff/referrals/" not in html


@pytest.mark.parametrize(
    ("state", "shown", "hidden"),
    [
        ("not_sent", [SKIP_REASON], [REMINDER_BODY, EARLIER_ANSWER]),
        ("waiting", [], [REMINDER_BODY, SKIP_REASON]),
        ("failed", [], [REMINDER_BODY, SKIP_REASON]),
        ("all", [REMINDER_BODY, SKIP_REASON, EARLIER_ANSWER], []),
        ("nonsense", [REMINDER_BODY, SKIP_REASON, EARLIER_ANSWER], []),
    ],
)
def test_the_outbox_filters_by_state(world, state, shown, hidden):
    response = signed_in(world.worker).get("/notifications/messages/", {"state": state})
    assert response.status_code == 200
    html = response.content.decode()
    for text in shown:
        assert escape(text) in html
    for text in hidden:
        assert escape(text) not in html


def test_a_failed_delivery_is_listed_under_could_not_be_sent(world):
    OutboundMessage.objects.filter(pk=world.sent.pk).update(
        delivery_status=OutboundMessage.Delivery.UNDELIVERED
    )
    html = signed_in(world.worker).get("/notifications/messages/?state=failed").content.decode()
    assert escape(REMINDER_BODY) in html
    assert "Not delivered" in html


def test_the_inbox_shows_the_text_escaped_and_what_the_portal_did(world):
    InboundMessage.objects.filter(pk=world.inbound.pk).update(
        body="<script>alert(1)</script>", outcome="There was no appointment to confirm."
    )
    html = signed_in(world.worker).get("/notifications/inbox/").content.decode()
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "There was no appointment to confirm." in html
    assert f'href="/notifications/inbox/{world.inbound.pk}/"' in html


def test_answered_replies_leave_the_inbox(world):
    InboundMessage.objects.filter(pk=world.inbound.pk).update(
        status=InboundMessage.Status.ANSWERED
    )
    html = signed_in(world.worker).get("/notifications/inbox/").content.decode()
    assert REPLY_TEXT not in html
    assert "There are no replies waiting for an answer." in html


def test_list_pages_record_who_was_shown(world):
    before = AuditEvent.objects.count()
    signed_in(world.volunteer).get("/notifications/messages/")
    event = AuditEvent.objects.order_by("-pk").first()
    assert AuditEvent.objects.count() == before + 1
    assert event.actor_id == world.volunteer.pk
    assert event.object_type == "peer_support.serviceuserrecord"
    assert event.object_id == str(world.record.pk)


def test_opening_a_reply_is_audited(world):
    signed_in(world.worker).get(f"/notifications/inbox/{world.inbound.pk}/")
    event = AuditEvent.objects.filter(
        object_type="notifications.inboundmessage", object_id=str(world.inbound.pk)
    ).get()
    assert event.actor_id == world.worker.pk
    assert event.subject_id == world.person.pk
    assert event.action == AuditEvent.Action.VIEW


# --- Query counts ---------------------------------------------------------------------------


def _grow(world, *, sent: int, received: int) -> None:
    """More texts each way, spread over five people the volunteer supports."""
    records = [world.record] + [
        ServiceUserRecordFactory(service=world.service, preferred_name=f"Person {i}")
        for i in range(4)
    ]
    for record in records[1:]:
        MatchFactory(service_user=record, supporter=world.supporter, created_by=world.worker)
    now = timezone.now()
    start = InboundMessage.objects.count()
    OutboundMessage.objects.bulk_create(
        [
            OutboundMessage(
                kind=OutboundMessage.Kind.MANUAL,
                service=world.service,
                service_user=records[i % 5],
                send_at=now - dt.timedelta(minutes=i),
                status=Status.SENT,
                sent_at=now - dt.timedelta(minutes=i),
                to=MOBILE,
                body=f"Message {i}",
            )
            for i in range(sent)
        ]
    )
    InboundMessage.objects.bulk_create(
        [
            InboundMessage(
                message_sid=f"SM-grow-{start + i}",
                from_number=MOBILE,
                body=f"Question {i}",
                status=InboundMessage.Status.NEEDS_ANSWER,
                service=world.service,
                service_user=records[i % 5],
            )
            for i in range(received)
        ]
    )


# Session, user, memberships, authenticator app, (supporter profile,) count, page, people
# supported, audit insert.
QUERIES = {
    ("worker", "/notifications/messages/"): 8,
    ("worker", "/notifications/inbox/"): 8,
    ("volunteer", "/notifications/messages/"): 9,
    ("volunteer", "/notifications/inbox/"): 9,
}


@pytest.mark.parametrize(("viewer", "url"), sorted(QUERIES))
def test_list_queries_do_not_grow_with_the_number_of_texts(
    world, viewer, url, django_assert_num_queries
):
    user = getattr(world, viewer)
    _grow(world, sent=7, received=9)  # with the world's own rows: 10 texts each way
    assert OutboundMessage.objects.count() == InboundMessage.objects.count() == 10
    client = signed_in(user)
    with django_assert_num_queries(QUERIES[(viewer, url)]):
        small = client.get(url)
    assert small.status_code == 200
    _grow(world, sent=990, received=990)
    assert OutboundMessage.objects.count() == InboundMessage.objects.count() == 1000
    client = signed_in(user)
    with django_assert_num_queries(QUERIES[(viewer, url)]):
        large = client.get(url)
    assert large.status_code == 200
    assert large.content.count(b'class="nhsuk-table__row"') == 25


# --- Answering a reply ----------------------------------------------------------------------


@pytest.mark.parametrize("viewer", ["worker", "volunteer"])
def test_answering_a_reply_texts_the_number_that_wrote_and_marks_it_answered(
    world, viewer, django_capture_on_commit_callbacks
):
    MemorySMSClient.outbox.clear()
    user = getattr(world, viewer)
    answer = "Yes, you can bring someone with you."
    with django_capture_on_commit_callbacks(execute=True):
        response = signed_in(user).post(
            f"/notifications/inbox/{world.inbound.pk}/", {"body": answer}
        )
    assert response.status_code == 302
    assert response["Location"] == "/notifications/inbox/"
    assert [(m.to, m.body) for m in MemorySMSClient.outbox] == [(MOBILE, answer)]
    world.inbound.refresh_from_db()
    assert world.inbound.status == InboundMessage.Status.ANSWERED
    assert world.inbound.answered_by_id == user.pk
    reply = OutboundMessage.objects.get(kind=OutboundMessage.Kind.MANUAL, body=answer)
    assert reply.status == Status.SENT
    assert reply.written_by_id == user.pk


def _error_summary(html: str) -> str:
    match = re.search(r'nhsuk-error-summary__list">(.*?)</ul>', html, re.DOTALL)
    assert match, "no error summary on the page"
    return match.group(1)


@pytest.mark.parametrize(
    ("body", "in_summary"),
    [
        ("I will ask the police station for you.", "police"),
        ("Your court date is Tuesday.", "court"),
        ("a" * 161, "161"),
        ("€" * 81, "160"),
        ("", "Enter your reply"),
        ("   ", "Enter your reply"),
    ],
    ids=["police", "court", "161 characters", "euro signs count double", "empty", "spaces"],
)
def test_a_sensitive_or_long_reply_is_refused_and_nothing_is_sent(
    world, body, in_summary, django_capture_on_commit_callbacks
):
    MemorySMSClient.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        response = signed_in(world.worker).post(
            f"/notifications/inbox/{world.inbound.pk}/", {"body": body}
        )
    assert response.status_code == 200
    assert in_summary in _error_summary(response.content.decode())
    assert MemorySMSClient.outbox == []
    assert OutboundMessage.objects.filter(kind=OutboundMessage.Kind.MANUAL).count() == 1
    world.inbound.refresh_from_db()
    assert world.inbound.status == InboundMessage.Status.NEEDS_ANSWER


def test_the_reply_page_shows_the_next_appointment_and_a_counter_that_needs_no_script(world):
    html = signed_in(world.worker).get(f"/notifications/inbox/{world.inbound.pk}/").content
    html = html.decode()
    assert "One text message is up to 160 characters." in html
    assert 'data-sms-length="body-length"' in html
    assert 'id="body-length" aria-live="polite"' in html
    assert "notifications/sms-length.js" in html
    assert world.appointment.place_label in html
    assert escape(REPLY_TEXT) in html


# --- One appointment's reminders ------------------------------------------------------------


def test_the_timeline_shows_uk_times_across_the_clock_change(world):
    """The clocks go forward at 01:00 UTC on Sunday 29 March 2026."""
    starts = dt.datetime(2026, 3, 29, 9, 0, tzinfo=dt.UTC)  # 10am British Summer Time
    appointment = AppointmentFactory(service_user=world.record, starts_at=starts)
    common = {
        "kind": OutboundMessage.Kind.REMINDER,
        "service": world.service,
        "service_user": world.record,
        "appointment": appointment,
        "appointment_starts_at": starts,
    }
    OutboundMessage.objects.create(
        **common, slot="1d", send_at=dt.datetime(2026, 3, 28, 10, 0, tzinfo=dt.UTC)
    )
    OutboundMessage.objects.create(
        **common,
        slot="2h",
        send_at=dt.datetime(2026, 3, 29, 7, 0, tzinfo=dt.UTC),
        status=Status.WITHDRAWN,
        reason="The appointment was cancelled.",
    )
    html = (
        signed_in(world.worker)
        .get(f"/notifications/appointments/{appointment.pk}/reminders/")
        .content.decode()
    )
    assert "Sunday 29 March 2026, 10am" in html  # the appointment
    assert "Saturday 28 March 2026, 10am" in html  # still GMT
    assert "Sunday 29 March 2026, 8am" in html  # BST
    assert "The appointment was cancelled." in html
    assert html.index("Reminder, 1 day before") < html.index("Reminder, 2 hours before")


@pytest.mark.parametrize(
    ("confirmed", "change", "label"),
    [
        (None, None, "No answer yet"),
        (-2, None, "Confirmed"),
        (None, -2, "Asked to change"),
        (-3, -1, "Asked to change"),
        (-1, -3, "Confirmed"),
    ],
)
def test_the_timeline_says_what_the_person_answered(world, confirmed, change, label):
    now = timezone.now()
    world.appointment.confirmed_at = now + dt.timedelta(hours=confirmed) if confirmed else None
    world.appointment.change_requested_at = now + dt.timedelta(hours=change) if change else None
    world.appointment.save()
    html = signed_in(world.volunteer).get(PAGES["reminders"](world)).content.decode()
    assert f'">{label}</strong>' in html
    assert escape(REPLY_TEXT) in html


def test_the_service_user_cannot_open_their_own_reminder_timeline(world):
    response = signed_in(world.person).get(PAGES["reminders"](world))
    assert response.status_code == 404


def test_a_volunteer_whose_match_ended_loses_the_timeline(world):
    world.supporter.matches.update(ended_at=timezone.now(), end_reason="moved")
    assert signed_in(world.volunteer).get(PAGES["reminders"](world)).status_code == 404


@pytest.mark.parametrize("pk", [0, 999999, 2**63, 2**70])
def test_an_unknown_appointment_or_reply_is_404(world, pk):
    client = signed_in(world.worker)
    assert client.get(f"/notifications/appointments/{pk}/reminders/").status_code == 404
    assert client.get(f"/notifications/inbox/{pk}/").status_code == 404


# --- Appointment lists, the person's page and the dashboard ---------------------------------


@pytest.mark.parametrize(
    ("viewer", "url"),
    [
        ("worker", "/staff/referrals/{record}/"),
        ("volunteer", "/supporter/people/{record}/"),
        ("volunteer", "/supporter/appointments/"),
    ],
)
@pytest.mark.parametrize(
    ("field", "label"), [("confirmed_at", "Confirmed"), ("change_requested_at", "Asked to change")]
)
def test_appointment_lists_show_the_answer_and_link_to_the_reminders(
    world, viewer, url, field, label
):
    setattr(world.appointment, field, timezone.now())
    world.appointment.save()
    html = signed_in(getattr(world, viewer)).get(url.format(record=world.record.pk))
    html = html.content.decode()
    assert f">{label}</strong>" in html
    assert f'href="/notifications/appointments/{world.appointment.pk}/reminders/"' in html


@pytest.mark.parametrize(("answer", "in_custody"), [("yes", True), ("no", False)])
def test_staff_mark_someone_in_custody_and_reminders_stop_being_sent(world, answer, in_custody):
    ServiceUserRecord.objects.filter(pk=world.record.pk).update(in_custody=not in_custody)
    client = signed_in(world.worker)
    response = client.post(f"/staff/referrals/{world.record.pk}/custody/", {"in_custody": answer})
    assert response.status_code == 302
    world.record.refresh_from_db()
    assert world.record.in_custody is in_custody
    page = client.get(f"/staff/referrals/{world.record.pk}/").content.decode()
    assert "No reminders are sent while this is yes." in page
    assert ("No reminders are sent to them now." in page) is in_custody


@pytest.mark.parametrize("answer", ["", "maybe", "True"])
def test_the_custody_form_asks_again_without_an_answer(world, answer):
    response = signed_in(world.worker).post(
        f"/staff/referrals/{world.record.pk}/custody/", {"in_custody": answer}
    )
    assert response.status_code == 200
    assert "Choose yes if they are in custody or on remand" in _error_summary(
        response.content.decode()
    )
    world.record.refresh_from_db()
    assert world.record.in_custody is False


@pytest.mark.parametrize("viewer", ["volunteer", "outsider", "admin", "person"])
def test_only_casework_staff_of_the_service_change_custody(world, viewer):
    response = signed_in(getattr(world, viewer)).post(
        f"/staff/referrals/{world.record.pk}/custody/", {"in_custody": "yes"}
    )
    assert response.status_code == 404
    world.record.refresh_from_db()
    assert world.record.in_custody is False


@pytest.mark.parametrize(
    ("viewer", "outbox", "wording_link"),
    [
        ("worker", True, False),
        ("volunteer", True, False),
        ("admin", True, True),
        ("person", False, False),
        ("commissioner", False, False),
    ],
)
def test_the_dashboard_links_the_text_pages_with_the_replies_waiting(
    world, viewer, outbox, wording_link
):
    html = signed_in(getattr(world, viewer)).get("/dashboard/").content.decode()
    assert ('href="/notifications/messages/"' in html) is outbox
    assert ("Replies to answer (1 waiting)" in html) is outbox
    assert ('href="/notifications/templates/"' in html) is wording_link


# --- Message wording ------------------------------------------------------------------------

GOOD = "{day} {time}, {place}. Reply YES to confirm or CHANGE to rearrange. {link}"
EDIT_URL = "/notifications/templates/reminder/standard/"


def test_the_wording_list_shows_every_message_with_its_current_text(world):
    MessageTemplate.objects.create(purpose="help", easy_read=True, body="Call {service_phone}.")
    html = signed_in(world.admin).get("/notifications/templates/").content.decode()
    for (purpose, easy_read), default in wording.DEFAULTS.items():
        url = f"/notifications/templates/{purpose}/{'easy-read' if easy_read else 'standard'}/"
        assert f'href="{url}"' in html
        if (purpose, easy_read) != ("help", True):
            assert escape(default) in html
    assert "Call {service_phone}." in html


def test_saving_good_wording_changes_what_texts_use(world):
    assert template_lint(GOOD, require=wording.REQUIRED["reminder"]) == []
    response = signed_in(world.admin).post(EDIT_URL, {"body": GOOD})
    assert response.status_code == 302
    assert response["Location"] == "/notifications/templates/"
    assert templates_current()[("reminder", False)] == GOOD


@pytest.mark.parametrize(
    ("body", "in_summary"),
    [
        ("{day} {time} at the police station. {link}", "police"),
        ("{day} {time}, " + "a" * 150 + " {link}", "characters"),
        ("Your appointment is soon. {link}", "{day}"),
        ("{day} {time} {name} {link}", "{name}"),
        ("", "Enter the text of the message."),
    ],
    ids=["police", "too long", "missing day", "unknown placeholder", "empty"],
)
def test_wording_the_linter_refuses_is_not_saved(world, body, in_summary):
    response = signed_in(world.admin).post(EDIT_URL, {"body": body})
    assert response.status_code == 200
    assert escape(in_summary) in _error_summary(response.content.decode())
    assert not MessageTemplate.objects.exists()
    assert templates_current() == {}


def test_the_edit_page_shows_the_placeholders_the_required_ones_and_a_preview(world):
    html = signed_in(world.admin).get(EDIT_URL).content.decode()
    for name in ("first_name", "day", "time", "place", "service_phone", "link"):
        assert f"<code>{{{name}}}</code>" in html
    assert "This message must contain {day}, {time}, {link}." in html
    assert "Tue 3 Mar" in html  # the example filled in
    assert 'data-sms-length="body-length"' in html


@pytest.mark.parametrize("viewer", ["worker", "volunteer", "outsider", "person", "commissioner"])
@pytest.mark.parametrize("url", ["/notifications/templates/", EDIT_URL])
def test_people_who_cannot_edit_wording_get_404(world, viewer, url):
    client = signed_in(getattr(world, viewer))
    assert client.get(url).status_code == 404
    assert client.post(url, {"body": GOOD}).status_code == 404
    assert not MessageTemplate.objects.exists()


@pytest.mark.parametrize(
    "url",
    [
        "/notifications/templates/reminder/large-print/",
        "/notifications/templates/nonsense/standard/",
        "/notifications/templates/REMINDER/standard/",
        "/notifications/templates/reminder/Standard/",
    ],
)
def test_an_unknown_message_or_version_is_404(world, url):
    assert signed_in(world.admin).get(url).status_code == 404


# --- Properties: no input gives a 500, nothing saved is lost --------------------------------

FUZZ = settings(
    max_examples=500,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
any_text = st.one_of(
    st.text(max_size=200),
    st.sampled_from(
        [
            "",
            " ",
            "\x00",
            "<script>alert(1)</script>",
            "' OR 1=1",
            "police",
            "a" * 161,
            "€" * 90,
            "{day} {time}, {place}. {link}",
            "{day} {time} {link} {first_name.__class__}",
            "{{day}} {time} {link}",
            "{0} {day} {time} {link}",
            GOOD,
        ]
    ),
)


@FUZZ
@given(body=any_text, extra=any_text)
def test_the_reply_form_never_errors_and_never_loses_a_reply(world, body, extra):
    before = set(OutboundMessage.objects.values_list("pk", "body"))
    response = signed_in(world.worker).post(
        f"/notifications/inbox/{world.inbound.pk}/", {"body": body, "other": extra}
    )
    assert response.status_code in {200, 302}
    after = set(OutboundMessage.objects.values_list("pk", "body"))
    assert before <= after  # nothing already saved changed or went
    new = after - before
    if response.status_code == 302:
        assert [text for _, text in new] == [body.strip()]
    else:
        assert new == set()
    for _, text in after:
        assert not sensitive_words_in(text)
    assert InboundMessage.objects.filter(pk=world.inbound.pk).exists()


purposes = st.one_of(
    st.sampled_from(sorted({purpose for purpose, _ in wording.DEFAULTS})),
    st.text(min_size=1, max_size=20),
)
variants = st.one_of(st.sampled_from(["standard", "easy-read"]), st.text(min_size=1, max_size=20))


@FUZZ
@given(purpose=purposes, variant=variants, body=any_text)
def test_the_wording_form_never_errors_and_never_loses_saved_wording(
    world, purpose, variant, body
):
    kept, _ = MessageTemplate.objects.get_or_create(
        purpose="help", easy_read=False, defaults={"body": "Help: call {service_phone}."}
    )
    before = templates_current()
    url = f"/notifications/templates/{quote(purpose, safe='')}/{quote(variant, safe='')}/"
    response = signed_in(world.admin).post(url, {"body": body})
    assert response.status_code in {200, 302, 404}
    after = templates_current()
    easy_read = {"standard": False, "easy-read": True}.get(variant)
    key = (purpose, easy_read)
    if response.status_code == 302:
        assert after == {**before, key: body}
        assert template_lint(body, require=wording.REQUIRED.get(purpose, ())) == []
    else:
        assert after == before
    assert after[("help", False)] == kept.body or key == ("help", False)
    for text in after.values():
        assert not sensitive_words_in(text)
