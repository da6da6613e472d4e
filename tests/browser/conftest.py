"""A real Chromium (Debian's) driven by Playwright, with axe-core from an installed package.

With CI=true a missing Chromium fails the run: browser tests must never be skipped there.
"""

import os
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import sync_playwright

CHROMIUM = Path(os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
BLOCKING_IMPACTS = {"serious", "critical"}
LOOPBACK_HOSTS = {"127.0.0.1", "localhost"}
# The NHS.UK stylesheet loads the Frutiger web font from the NHS's own asset host. The test
# machine has no internet, so those requests are blocked here; any other third party is a
# defect (a service user's browser must not be sent anywhere else).
EXPECTED_EXTERNAL_HOSTS = {"assets.nhs.uk"}


def pytest_collection_modifyitems(items):
    for item in items:
        if "tests/browser/" in str(item.fspath):
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="session")
def browser():
    if not CHROMIUM.exists():
        message = f"Chromium is not installed at {CHROMIUM} (apt-get install chromium)"
        if os.environ.get("CI", "").lower() in {"1", "true", "yes"}:
            pytest.fail(message + "; browser tests must run in CI", pytrace=False)
        pytest.skip(message)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        yield browser
        browser.close()


@pytest.fixture
def page(browser):
    """A fresh browser context; console errors and page errors are collected on it."""
    context = browser.new_context(locale="en-GB", timezone_id="Europe/London")
    page = context.new_page()
    page.console_errors = []
    page.external_hosts = set()

    def on_request(route):
        host = urlsplit(route.request.url).hostname
        if host in LOOPBACK_HOSTS:
            route.continue_()
        else:
            page.external_hosts.add(host)
            route.abort("blockedbyclient")

    def on_console(message):
        if message.type != "error":
            return
        source = urlsplit(message.location.get("url") or "").hostname
        if source in EXPECTED_EXTERNAL_HOSTS:
            return
        page.console_errors.append(message.text)

    context.route("**/*", on_request)
    page.on("console", on_console)
    page.on("pageerror", lambda error: page.console_errors.append(str(error)))
    yield page
    context.close()
    assert page.external_hosts <= EXPECTED_EXTERNAL_HOSTS, page.external_hosts


def assert_accessible(page) -> None:
    """No serious or critical axe-core violations on the page as it is now."""
    results = Axe().run(page)
    blocking = [v for v in results.response["violations"] if v["impact"] in BLOCKING_IMPACTS]
    assert not blocking, results.generate_report()
