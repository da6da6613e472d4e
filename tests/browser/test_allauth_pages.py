"""allauth's sign-in and two-factor pages in a real browser: accessible, keyboard-only usable."""

import pytest

from portal.demo import demo_seed
from tests.browser.conftest import assert_accessible
from tests.factories import UserFactory

# Transactional, so the live server's thread sees the data.
pytestmark = pytest.mark.django_db(transaction=True)

PASSWORD = "test-password-123"


@pytest.fixture
def seeded_site():
    return demo_seed()


@pytest.fixture
def user(seeded_site):
    return UserFactory(email="sign-in-test@example.org")


def focused_id(page) -> str:
    return page.evaluate("document.activeElement.id")


def tab_to(page, element_id: str, limit: int = 40) -> None:
    """Press Tab until the element has focus, as a keyboard user would."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if focused_id(page) == element_id:
            return
    raise AssertionError(f"#{element_id} never received focus by Tab")


def test_sign_in_page_is_accessible(page, live_server, seeded_site):
    response = page.goto(live_server.url + "/accounts/login/")
    assert response.status == 200
    page.wait_for_load_state("networkidle")
    assert page.get_by_role("heading", level=1).inner_text() == "Sign in"
    assert page.get_by_label("Email address").is_visible()
    assert page.get_by_label("Password", exact=True).is_visible()
    # NHS.UK styles really applied to the form.
    border = page.locator("#id_login").evaluate("el => getComputedStyle(el).borderTopWidth")
    assert border == "2px"
    assert page.console_errors == []
    assert_accessible(page)


def test_empty_sign_in_moves_focus_to_a_linked_error_summary(page, live_server, seeded_site):
    page.goto(live_server.url + "/accounts/login/")
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_load_state("networkidle")

    summary = page.locator(".nhsuk-error-summary")
    summary.wait_for()
    assert page.title().startswith("Error: ")
    assert page.evaluate("document.activeElement.classList.contains('nhsuk-error-summary')"), (
        "focus should land on the error summary"
    )
    assert summary.get_by_role("heading", name="There is a problem").is_visible()
    message = page.locator("#id_login-error").text_content()
    assert " ".join(message.split()) == "Error: Enter your email address"

    # The summary's link takes focus to the field it is about.
    summary.get_by_role("link", name="Enter your email address").click()
    assert focused_id(page) == "id_login"
    assert page.console_errors == []
    assert_accessible(page)


def test_error_summary_takes_focus_without_javascript(browser, live_server, seeded_site):
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    try:
        page.goto(live_server.url + "/accounts/login/")
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_load_state("load")
        page.locator(".nhsuk-error-summary").wait_for()
        assert page.evaluate("document.activeElement.classList.contains('nhsuk-error-summary')")
        assert page.locator('.nhsuk-error-summary a[href="#id_login"]').is_visible()
    finally:
        context.close()


def test_sign_in_can_be_done_with_the_keyboard_alone(page, live_server, user):
    page.goto(live_server.url + "/accounts/login/?next=/accounts/2fa/")
    page.wait_for_load_state("networkidle")

    tab_to(page, "id_login")
    page.keyboard.type(user.email)
    tab_to(page, "id_password")
    page.keyboard.type(PASSWORD)
    with page.expect_navigation():
        page.keyboard.press("Enter")

    assert page.url == live_server.url + "/accounts/2fa/"
    assert page.get_by_role("heading", level=1).is_visible()
    assert page.console_errors == []


def test_authenticator_app_activation_is_accessible(page, live_server, user):
    page.goto(live_server.url + "/accounts/login/?next=/accounts/2fa/totp/activate/")
    page.get_by_label("Email address").fill(user.email)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    with page.expect_navigation():
        page.get_by_role("button", name="Sign in").click()
    page.wait_for_load_state("networkidle")

    # The first authenticator straight after sign-in needs no second password prompt.
    assert page.url == live_server.url + "/accounts/2fa/totp/activate/"
    assert page.get_by_role("img").first.is_visible()  # the QR code
    secret = page.get_by_label("Authenticator secret")
    assert secret.is_editable() is False and secret.input_value()
    assert page.get_by_label("Authenticator code").get_attribute("autocomplete") == (
        "one-time-code"
    )
    assert page.console_errors == []
    assert_accessible(page)

    # A wrong code: the summary links to the code box and the page stays accessible.
    page.get_by_label("Authenticator code").fill("000000")
    with page.expect_navigation():
        page.get_by_role("button", name="Activate").click()
    page.wait_for_load_state("networkidle")
    assert page.locator('.nhsuk-error-summary a[href="#id_code"]').is_visible()
    assert "nhsuk-input--error" in page.locator("#id_code").get_attribute("class")
    assert_accessible(page)
