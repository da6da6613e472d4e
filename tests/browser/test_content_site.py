"""A reader's journeys through the information site, in Chromium, with axe-core checks."""

import pytest
from playwright.sync_api import expect

from portal.demo import demo_seed
from tests.browser.conftest import assert_accessible

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def seeded_site():
    return demo_seed()


def test_home_to_guidance_to_easy_read_and_back(page, live_server, seeded_site):
    page.goto(live_server.url + "/")
    page.get_by_role(
        "link", name="Read guidance about police stations, courts and afterwards"
    ).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Guidance")
    page.get_by_role("link", name="Going to court", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Going to court")
    page.get_by_role("link", name="Easy read version").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Going to court (easy read)")
    assert page.locator(".content-easy-read__point img").count() == 5
    page.get_by_role("link", name="Standard version").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Going to court")
    page.go_back()
    expect(page.get_by_role("heading", level=1)).to_have_text("Going to court (easy read)")
    assert page.console_errors == []


def test_reader_searches_from_the_header_and_finds_a_page(page, live_server, seeded_site):
    page.goto(live_server.url + "/")
    page.get_by_role("searchbox", name="Search this website").fill("solicitor")
    page.keyboard.press("Enter")
    page.wait_for_url("**/search/?q=solicitor")
    page.get_by_role("link", name="Your rights", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Your rights")
    assert page.console_errors == []


def test_reader_finds_their_local_service_by_keyboard_alone(page, live_server, seeded_site):
    page.goto(live_server.url + "/find-your-local-service/")
    field = page.get_by_label("Town or postcode")
    for _ in range(40):  # tab from the top of the page to the field
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.id") == "service-search":
            break
    assert page.evaluate("document.activeElement.id") == "service-search"
    page.keyboard.type("EF1 2AB")
    page.keyboard.press("Enter")
    page.wait_for_url("**/?q=EF1+2AB")
    link = page.get_by_role("link", name="Riverside and Eastfield Liaison and Diversion Service")
    link.focus()
    page.keyboard.press("Enter")
    page.wait_for_url("**/find-your-local-service/riverside-eastfield/")
    assert page.get_by_text("0161 496 0200").is_visible()
    assert field is not None
    assert page.console_errors == []


def test_empty_directory_search_shows_an_error_summary(page, live_server, seeded_site):
    page.goto(live_server.url + "/find-your-local-service/")
    page.get_by_role("button", name="Find services").click()
    page.get_by_role("alert").wait_for()
    assert "There is a problem" in page.get_by_role("alert").inner_text()
    assert_accessible(page)


PAGES = [
    "/",
    "/guidance/",
    "/guidance/what-happens-in-police-custody/",
    "/guidance/what-happens-in-police-custody/easy-read/",
    "/stories/",
    "/stories/jos-story/",
    "/find-your-local-service/",
    "/find-your-local-service/?q=NM1",
    "/find-your-local-service/northmoor/",
    "/search/?q=court",
]


def test_every_public_page_type_is_accessible_and_keyboard_usable(page, live_server, seeded_site):
    for path in PAGES:
        response = page.goto(live_server.url + path)
        assert response.status == 200, path
        assert_accessible(page)
        # Keyboard: the skip link comes first, and every link and control can take focus
        # with a visible focus style.
        page.keyboard.press("Tab")
        assert page.evaluate("document.activeElement.textContent.trim()") == "Skip to main content"
        seen = 0
        for _ in range(60):
            page.keyboard.press("Tab")
            outline = page.evaluate(
                "(() => { const s = getComputedStyle(document.activeElement);"
                " return s.outlineStyle !== 'none' || s.boxShadow !== 'none'"
                " || s.backgroundColor !== 'rgba(0, 0, 0, 0)'; })()"
            )
            assert outline, (path, page.evaluate("document.activeElement.outerHTML"))
            seen += 1
            if page.evaluate("document.activeElement === document.body"):
                break
        assert seen > 3, path
    assert page.console_errors == []


def test_guidance_works_without_javascript(browser, live_server, seeded_site):
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    try:
        page.goto(live_server.url + "/guidance/?audience=family")
        assert page.get_by_role(
            "link", name="Support for family and friends", exact=True
        ).is_visible()
        page.goto(live_server.url + "/find-your-local-service/")
        page.get_by_label("Town or postcode").fill("Dalebridge")
        page.get_by_role("button", name="Find services").click()
        # wait_for, not is_visible(): without JavaScript the click is a page load, and
        # is_visible() does not wait for it (a CI run failed that way).
        page.get_by_role("link", name="Northmoor Liaison and Diversion Service").wait_for()
    finally:
        context.close()
