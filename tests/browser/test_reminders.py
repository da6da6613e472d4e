"""The reminder journey in a real Chromium, with axe-core on the pages it passes: a volunteer
records an appointment; at the scheduled time (time travel) the reminder appears in the console
outbox; a signed "yes" from the person's phone confirms it and the volunteer sees "Confirmed";
"STOP" stops every later reminder; the link in the text works without signing in and shows
nothing sensitive."""

import re
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
import requests
import time_machine
from django.utils import timezone
from twilio.request_validator import RequestValidator

from notifications import services
from notifications.models import ConsoleMessage, OutboundMessage
from peer_support.models import Appointment
from portal.roles import Role
from tests.browser.conftest import assert_accessible
from tests.browser.test_peer_support import sign_in
from tests.factories import MatchFactory, ServiceUserRecordFactory, SupporterFactory
from tests.portal.conftest import make_member, person_with_consents, service

__all__ = ["person_with_consents", "service"]

pytestmark = pytest.mark.django_db(transaction=True)

TOKEN = "browser-test-auth-token-0123456789"
MOBILE = "+447700900246"


def text_from_phone(live_server, body: str, sid: str) -> int:
    """What Twilio would POST when the person texts us: signed for PUBLIC_BASE_URL + path."""
    path = "/notifications/twilio/inbound/"
    params = {"MessageSid": sid, "From": MOBILE, "To": "+447700900999", "Body": body}
    signature = RequestValidator(TOKEN).compute_signature(f"http://testserver{path}", params)
    response = requests.post(
        live_server.url + path, data=params, headers={"X-Twilio-Signature": signature}, timeout=10
    )
    return response.status_code


def send_due_at(moment) -> None:
    with time_machine.travel(moment, tick=False):
        services.messages_dispatch_due()


@pytest.fixture
def journey(settings, service, person_with_consents):
    settings.SMS_BACKEND = "console"
    settings.TWILIO_AUTH_TOKEN = TOKEN
    record = ServiceUserRecordFactory(
        service=service, user=person_with_consents, preferred_name="Sam", mobile=MOBILE
    )
    volunteer = make_member(Role.PEER_VOLUNTEER, service, first_name="Morgan")
    MatchFactory(
        service_user=record, supporter=SupporterFactory(user=volunteer, services=[service])
    )
    return {
        "record": record,
        "volunteer": volunteer,
        "worker": make_member(Role.PEER_SUPPORT_WORKER, service),
    }


def test_reminder_reply_stop_and_confirm_link(page, live_server, journey):
    record = journey["record"]
    day = timezone.localdate() + timedelta(days=6)

    # The volunteer records an appointment, keyboard and form as a person would.
    sign_in(page, live_server, journey["volunteer"])
    page.goto(f"{live_server.url}/supporter/people/{record.pk}/appointments/new/")
    assert_accessible(page)
    page.get_by_label("GP").check()
    page.get_by_label("Place name for text messages").fill("Riverside Centre")
    page.get_by_label("Full address").fill("1 Example Street, Testtown NM1 1AA")
    page.get_by_label("Date").fill(day.isoformat())
    page.get_by_label("Time").fill("14:30")
    page.get_by_role("button", name=re.compile("Save|Add")).click()
    appointment = Appointment.objects.get(service_user=record)
    planned = {
        row.slot: row
        for row in OutboundMessage.objects.filter(appointment=appointment, status="scheduled")
    }
    assert set(planned) == {"3d", "1d", "2h"}
    assert ConsoleMessage.objects.count() == 0

    # At the scheduled time the first reminder goes out, to the console outbox.
    send_due_at(planned["3d"].send_at + timedelta(seconds=1))
    reminder = ConsoleMessage.objects.get()
    assert "Riverside Centre" in reminder.body and "2:30pm" in reminder.body
    sign_in(page, live_server, journey["worker"])
    page.goto(f"{live_server.url}/notifications/outbox/")
    assert page.get_by_text("Riverside Centre").count() == 1
    assert_accessible(page)

    # The person texts back "yes", signed as Twilio signs it: the volunteer sees "Confirmed".
    assert text_from_phone(live_server, "Yes", "SM" + "1" * 32) == 200
    appointment.refresh_from_db()
    assert appointment.reply_state == "confirmed"
    sign_in(page, live_server, journey["volunteer"])
    page.goto(f"{live_server.url}/supporter/people/{record.pk}/")
    assert page.get_by_text("Confirmed", exact=True).count() >= 1
    page.goto(f"{live_server.url}/notifications/appointments/{appointment.pk}/reminders/")
    assert_accessible(page)
    assert page.get_by_text("Confirmed").count() >= 1

    # A question the portal cannot answer waits in the volunteer's inbox; they answer by text,
    # keyboard only.
    assert text_from_phone(live_server, "Can I bring my dog?", "SM" + "3" * 32) == 200
    page.goto(f"{live_server.url}/notifications/inbox/")
    assert_accessible(page)
    page.get_by_role("link", name=re.compile("^Answer")).first.focus()
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/notifications/inbox/\d+/$"))
    assert_accessible(page)
    page.get_by_label("Your reply", exact=False).first.focus()
    page.keyboard.type("Yes, that is fine. See you there.")
    page.get_by_role("button", name="Send reply").focus()
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/notifications/inbox/$"))
    answer = ConsoleMessage.objects.order_by("-pk").first()
    assert (answer.to, answer.body) == (MOBILE, "Yes, that is fine. See you there.")
    page.goto(f"{live_server.url}/notifications/messages/")
    assert_accessible(page)
    assert MOBILE not in page.content()

    # "STOP": no later reminder is ever sent.
    assert text_from_phone(live_server, "STOP", "SM" + "2" * 32) == 200
    for slot in ("1d", "2h"):
        send_due_at(planned[slot].send_at + timedelta(seconds=1))
    assert ConsoleMessage.objects.count() == 3  # the reminder, the reply to "yes", the answer
    stopped = OutboundMessage.objects.filter(appointment=appointment, slot__in=["1d", "2h"])
    assert set(stopped.values_list("status", "reason_code")) == {("not_sent", "opted_out")}

    # The link in the text works without signing in and shows nothing sensitive.
    link = re.search(r"https?://\S+/a/\S+", reminder.body).group(0)
    page.context.clear_cookies()
    page.goto(live_server.url + urlsplit(link).path)
    assert_accessible(page)
    html = page.content()
    assert "Riverside Centre" in html and "2:30pm" in html
    # Short words in what the page says (a random token in the markup may contain "GP");
    # long ones anywhere in the markup.
    text = page.locator("body").inner_text() + " " + page.title()
    for hidden in ("GP", "Sam", "Morgan"):
        assert not re.search(rf"\b{hidden}\b", text), hidden
    for hidden in ("Example Street", service_name(record), "Mental health", "mental health"):
        assert hidden not in html, hidden
    page.get_by_role("button", name="I’ll be there").or_(
        page.get_by_role("button", name="I'll be there")
    ).click()
    assert page.get_by_role("heading", level=1).count() == 1
    assert_accessible(page)
    appointment.refresh_from_db()
    assert appointment.confirmed_at is not None


def service_name(record) -> str:
    return record.service.name


def test_the_wording_editor_counts_length_as_you_type(page, live_server, service):
    admin = make_member(Role.ADMINISTRATOR, service)
    sign_in(page, live_server, admin)
    page.goto(f"{live_server.url}/notifications/templates/help/standard/")
    assert_accessible(page)
    box = page.get_by_role("textbox")
    box.fill("Call us on {service_phone}.")
    status = page.locator("#body-length")
    status.filter(has_text="29 characters").wait_for()
    box.fill("It’s " + "a" * 70)
    status.filter(has_text="2 text messages").wait_for()
    assert "75 characters" in status.inner_text() and "can be 70" in status.inner_text()
    # Saving refuses it with the linter's message, in the error summary.
    page.get_by_role("button", name=re.compile("Save")).click()
    assert page.locator(".nhsuk-error-summary").count() == 1
    assert_accessible(page)
