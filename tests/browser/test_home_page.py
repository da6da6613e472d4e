"""The home page in a real browser: NHS header, no console errors, no serious axe issues."""

import pytest

from portal.demo import demo_seed
from tests.browser.conftest import assert_accessible

# Transactional, so the live server's thread sees the data. Each test flushes the tables,
# including what migrations created; demo_seed puts back what Wagtail needs.
pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def seeded_site():
    return demo_seed()


def test_home_page_renders_the_nhs_shell_accessibly(page, live_server, seeded_site):
    response = page.goto(live_server.url + "/")
    assert response.status == 200
    page.wait_for_load_state("networkidle")

    header = page.locator("header.nhsuk-header")
    assert header.is_visible()
    assert header.get_by_role("link", name="Liaison and Diversion peer support").is_visible()
    assert page.locator("footer.nhsuk-footer").is_visible()
    assert page.get_by_role("heading", level=1).inner_text() == (
        "Peer support after contact with police or courts"
    )
    # The NHS.UK stylesheet really applied (not a bare HTML page).
    background = header.evaluate("el => getComputedStyle(el).backgroundColor")
    assert background == "rgb(0, 94, 184)"  # NHS blue
    # The NHS.UK JavaScript loaded and initialised the header without errors.
    assert page.console_errors == []

    assert_accessible(page)


def test_skip_link_is_first_and_moves_focus_to_main_content(page, live_server, seeded_site):
    page.goto(live_server.url + "/")
    page.keyboard.press("Tab")
    focused = page.evaluate("document.activeElement.textContent.trim()")
    assert focused == "Skip to main content"
    page.keyboard.press("Enter")
    assert page.evaluate("location.hash") == "#maincontent"
    assert page.console_errors == []


def test_home_page_works_without_javascript(browser, live_server, seeded_site):
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    try:
        page.goto(live_server.url + "/")
        assert page.locator("header.nhsuk-header").is_visible()
        assert page.get_by_role("heading", level=1).is_visible()
        assert page.locator("footer.nhsuk-footer").is_visible()
    finally:
        context.close()


def test_not_found_page_is_styled_and_accessible(page, live_server, seeded_site):
    response = page.goto(live_server.url + "/not-a-real-page/")
    assert response.status == 404
    assert page.get_by_role("heading", level=1).inner_text() == "Page not found"
    assert page.locator("header.nhsuk-header").is_visible()
    # A 404 response is itself logged by Chromium as a console error; nothing else may be.
    assert [e for e in page.console_errors if "404" not in e] == []
    assert_accessible(page)
