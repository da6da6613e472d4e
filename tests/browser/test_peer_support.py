"""The peer support journey in a real Chromium, with axe-core on every page it passes:
a coordinator offers a person to the best-suggested supporter, the volunteer accepts, logs a
contact and an outcome, the person sees their appointment and their supporter's first name,
and a different volunteer reaches none of it."""

import re
from datetime import timedelta

import pytest
from django.conf import settings as django_settings
from django.test import Client
from django.utils import timezone

from peer_support.models import Appointment, Contact, Offer
from peer_support.services import appointment_create
from portal.roles import Role
from tests.browser.conftest import assert_accessible
from tests.factories import ServiceUserRecordFactory, SupporterFactory
from tests.portal.conftest import make_member, person_with_consents, service

__all__ = ["person_with_consents", "service"]

pytestmark = pytest.mark.django_db(transaction=True)


def sign_in(page, live_server, user) -> None:
    """Reuse a server-side session: the sign-in journeys themselves are tested elsewhere."""
    client = Client()
    client.force_login(user)
    page.context.clear_cookies()
    page.context.add_cookies(
        [
            {
                "name": django_settings.SESSION_COOKIE_NAME,
                "value": client.cookies[django_settings.SESSION_COOKIE_NAME].value,
                "url": live_server.url,
            }
        ]
    )


@pytest.fixture
def world(service, person_with_consents):
    coordinator = make_member(Role.COORDINATOR, service, first_name="Casey")
    best_user = make_member(Role.PEER_VOLUNTEER, service, first_name="Morgan")
    best = SupporterFactory(
        user=best_user,
        services=[service],
        lived_experience=["housing", "alcohol"],
        districts_covered=["NM1"],
        capacity=4,
    )
    second = SupporterFactory(
        user=make_member(Role.PEER_VOLUNTEER, service, first_name="Riley"),
        services=[service],
        lived_experience=["debt"],
        districts_covered=["NM9"],
    )
    record = ServiceUserRecordFactory(
        service=service,
        user=person_with_consents,
        preferred_name="Avery",
        needs=["housing", "alcohol"],
        home_district="NM1",
    )
    appointment = appointment_create(
        service_user=record,
        kind=Appointment.Kind.HOUSING,
        place_label="Riverside Centre",
        address="1 Example Street, Testtown NM1 1AA",
        starts_at=timezone.now() - timedelta(hours=3),
        arranged_by=coordinator,
    )
    upcoming = appointment_create(
        service_user=record,
        kind=Appointment.Kind.GP,
        place_label="Eastgate Centre",
        address="2 Example Road, Testtown NM1 2BB",
        starts_at=timezone.now() + timedelta(days=3),
        arranged_by=coordinator,
    )
    return {
        "coordinator": coordinator,
        "best": best,
        "second": second,
        "record": record,
        "person": person_with_consents,
        "past": appointment,
        "upcoming": upcoming,
    }


def test_offer_accept_contact_outcome_and_what_the_person_sees(page, live_server, world):
    record, best = world["record"], world["best"]

    # The coordinator sees the ranked suggestions with their reasons, and makes an offer.
    sign_in(page, live_server, world["coordinator"])
    page.goto(f"{live_server.url}/staff/referrals/{record.pk}/")
    table = page.get_by_role("table", name="Suggested supporters, best first")
    rows = table.locator("tbody tr")
    assert rows.count() == 2
    assert "Morgan" in rows.nth(0).inner_text()
    assert "shares lived experience of alcohol and housing" in rows.nth(0).inner_text()
    assert "covers NM1" in rows.nth(0).inner_text()
    assert "Riley" in rows.nth(1).inner_text()
    assert_accessible(page)
    page.get_by_role("button", name="Offer to Morgan").click()
    page.wait_for_load_state()
    page.get_by_text("Offer pending").wait_for()
    offer = Offer.objects.get(service_user=record, status=Offer.Status.PENDING)
    assert offer.supporter == best

    # The volunteer sees only what they need, and accepts.
    sign_in(page, live_server, best.user)
    page.goto(f"{live_server.url}/supporter/offers/")
    assert page.get_by_text("Avery").first.is_visible()
    body = page.content()
    assert offer.explanation not in body
    assert str(record.mobile)[-6:] not in body
    assert_accessible(page)
    page.get_by_role("button", name="Accept and support Avery").click()
    page.wait_for_url(re.compile(rf"/supporter/people/{record.pk}/$"))
    assert page.get_by_role("heading", name="Avery", level=1).is_visible()
    assert_accessible(page)

    # The volunteer logs a contact, using the keyboard only.
    page.get_by_role("link", name="Log a contact").focus()
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/contacts/new/$"))
    assert_accessible(page)
    page.get_by_label("Phone call").check()
    page.get_by_label("How long, in minutes").fill("25")
    page.get_by_label("What you did").fill("Talked through getting to the housing team.")
    page.get_by_label("Next step (optional)").fill("Meet at the bus stop on Thursday.")
    page.get_by_role("button", name="Save contact").focus()
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(rf"/supporter/people/{record.pk}/$"))
    assert page.get_by_text("Talked through getting to the housing team.").is_visible()
    assert Contact.objects.filter(service_user=record, supporter=best).count() == 1

    # ... and records what happened at the appointment that has passed.
    page.get_by_role("link", name=re.compile("Record what happened")).first.click()
    page.wait_for_url(re.compile(r"/outcome/$"))
    assert_accessible(page)
    page.get_by_label("Attended").check()
    page.get_by_role("button", name="Save").click()
    page.wait_for_url(lambda url: not url.endswith("/outcome/"))
    world["past"].refresh_from_db()
    assert world["past"].outcome == Appointment.Outcome.ATTENDED
    assert page.console_errors == []

    # The person sees their appointment and their supporter's first name, nothing more.
    sign_in(page, live_server, world["person"])
    page.goto(f"{live_server.url}/my/appointments/")
    assert page.get_by_text("Eastgate Centre").first.is_visible()
    assert_accessible(page)
    page.goto(f"{live_server.url}/my/supporter/")
    assert page.get_by_text("Your peer supporter is Morgan.").is_visible()
    assert best.user.email not in page.content()
    assert_accessible(page)
    assert page.console_errors == []


def test_a_different_volunteer_reaches_none_of_it(page, live_server, world):
    record, best = world["record"], world["best"]
    Offer.objects.create(
        service_user=record,
        supporter=best,
        offered_at=timezone.now(),
        respond_by=timezone.now() + timedelta(hours=48),
    )
    other = world["second"].user
    sign_in(page, live_server, other)
    paths = [
        f"/supporter/people/{record.pk}/",
        f"/supporter/people/{record.pk}/phone/",
        f"/supporter/people/{record.pk}/contacts/new/",
        f"/supporter/people/{record.pk}/appointments/new/",
        f"/supporter/appointments/{world['past'].pk}/outcome/",
        f"/staff/referrals/{record.pk}/",
        "/my/appointments/",
    ]
    for path in paths:
        response = page.goto(live_server.url + path)
        assert response.status == 404, path
        assert "Avery" not in page.content(), path
        assert "Riverside Centre" not in page.content(), path
    page.goto(f"{live_server.url}/supporter/")
    assert "Avery" not in page.content()
    page.goto(f"{live_server.url}/supporter/offers/")
    assert "Avery" not in page.content()
    assert_accessible(page)
