"""Sign-in journeys in a real Chromium: text message code, forced authenticator, admin."""

import re
import time
from urllib.parse import urlsplit

import pytest
from allauth.mfa.totp.internal.auth import TOTP, format_hotp_value, hotp_value
from django.contrib.auth.models import Permission

from notifications.models import ConsoleMessage
from portal.demo import demo_seed
from portal.models import Consent
from portal.roles import Role
from portal.services import consent_give
from tests.browser.conftest import assert_accessible
from tests.portal.conftest import make_member

pytestmark = pytest.mark.django_db(transaction=True)


def totp_now(secret: str) -> str:
    return format_hotp_value(hotp_value(secret, int(time.time()) // 30))


@pytest.fixture
def site(settings):
    settings.SMS_BACKEND = "console"  # codes land in the console outbox, as with `make run`
    services, _, _ = demo_seed()
    return services[0]


def test_service_user_signs_in_by_text_code_and_withdraws_a_consent(page, live_server, site):
    person = make_member(Role.SERVICE_USER, site, mobile="+447700900321", first_name="Sam")
    worker = make_member(Role.PEER_SUPPORT_WORKER, site)
    consent_give(
        subject=person,
        service=site,
        purpose="sms_reminders",
        method="verbal_custody",
        recorded_by=worker,
    )

    page.goto(live_server.url + "/accounts/login/code/")
    assert_accessible(page)
    page.get_by_label("Mobile phone number").fill("07700 900321")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/accounts/login/code/confirm/"))

    message = ConsoleMessage.objects.filter(recipient=person).latest("created_at")
    code = re.search(r"code is ([A-Z0-9-]+)\.", message.body).group(1)
    page.get_by_label(re.compile("code", re.IGNORECASE)).first.fill(code)
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/dashboard/$"))

    page.get_by_role("link", name="What you have agreed to").click()
    page.get_by_text("You said yes").wait_for()
    assert_accessible(page)
    page.get_by_role("button", name="Withdraw: text message reminders").click()
    page.get_by_text("You have withdrawn your agreement").wait_for()
    assert not Consent.objects.filter(subject=person, withdrawn_at__isnull=True).exists()
    assert page.console_errors == []


def test_volunteer_is_made_to_enrol_an_authenticator_then_reaches_the_dashboard(
    page, live_server, site
):
    make_member(Role.PEER_VOLUNTEER, site, enrol_mfa=False, email="new.volunteer@example.org")
    page.goto(live_server.url + "/accounts/login/")
    page.get_by_label("Email address").fill("new.volunteer@example.org")
    page.get_by_label("Password").fill("test-password-123")
    page.keyboard.press("Enter")
    # Anything but enrolment sends them to enrol.
    page.wait_for_url(re.compile(r"/accounts/2fa/totp/activate/"))
    assert_accessible(page)
    secret = page.locator("#authenticator_secret").input_value()
    page.get_by_label(re.compile("code", re.IGNORECASE)).first.fill(totp_now(secret))
    page.get_by_role("button", name=re.compile("activate", re.IGNORECASE)).click()
    page.wait_for_url(lambda url: "/2fa/totp/activate/" not in url)
    page.goto(live_server.url + "/dashboard/")
    assert page.get_by_role("heading", name="Your account").is_visible()
    assert page.get_by_text("Peer volunteer").is_visible()
    assert page.console_errors == []


def test_editor_reaches_the_wagtail_admin_only_after_the_authenticator_code(
    page, live_server, site
):
    editor = make_member(
        Role.CONTENT_EDITOR, site, enrol_mfa=False, email="editor.test@example.org"
    )
    editor.user_permissions.add(Permission.objects.get(codename="access_admin"))
    secret = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
    TOTP.activate(editor, secret)

    page.goto(live_server.url + "/admin/")
    page.wait_for_url(re.compile(r"/accounts/login/"))
    page.get_by_label("Email address").fill("editor.test@example.org")
    page.get_by_label("Password").fill("test-password-123")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/accounts/2fa/authenticate/"))
    # Half signed in: in another tab of the same browser, the admin is still closed.
    other_tab = page.context.new_page()
    other_tab.goto(live_server.url + "/admin/")
    assert urlsplit(other_tab.url).path in {"/accounts/login/", "/accounts/2fa/authenticate/"}
    other_tab.close()
    assert_accessible(page)
    page.get_by_label(re.compile("code", re.IGNORECASE)).first.fill(totp_now(secret))
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/admin/$"))
    assert page.get_by_role("heading", level=1).first.is_visible()
    assert "Dashboard" in page.title() or "Wagtail" in page.title()
