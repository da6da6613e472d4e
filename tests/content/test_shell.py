"""The page shell: NHS.UK header, skip link, footer, error pages, static files."""

import re

import pytest
from django.test import Client, override_settings

from portal.demo import demo_seed

pytestmark = pytest.mark.django_db

QUERIES_UNCACHED = 5


@pytest.fixture
def site():
    return demo_seed()


def test_home_page_has_the_nhs_shell(client, site):
    response = client.get("/")
    assert response.status_code == 200
    html = response.content.decode()
    assert '<html lang="en-GB">' in html
    assert 'class="nhsuk-skip-link"' in html
    assert 'href="#maincontent"' in html
    assert 'id="maincontent"' in html
    assert 'class="nhsuk-header' in html
    assert "Liaison and Diversion peer support" in html
    assert 'class="nhsuk-footer"' in html
    assert "nhsuk-frontend-10.4.2.min.css" in html
    assert "<h1>Peer support after contact with police or courts</h1>" in html


def test_pages_carry_no_inline_script(client, site):
    """Everything works without JavaScript, and what JavaScript there is lives in files."""
    html = client.get("/").content.decode()
    scripts = re.findall(r"<script\b[^>]*>", html)
    assert scripts, "the NHS.UK frontend script should be loaded"
    for tag in scripts:
        assert "src=" in tag
    assert not re.search(r"\son[a-z]+=", html), "no inline event handlers"


def test_missing_page_is_an_nhs_styled_404(client, site):
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    html = response.content.decode()
    assert "<h1>Page not found</h1>" in html
    assert 'class="nhsuk-header' in html


@override_settings(ROOT_URLCONF="tests.portal.urls_broken")
def test_server_error_is_an_nhs_styled_500(site):
    client = Client(raise_request_exception=False)
    response = client.get("/broken/")
    assert response.status_code == 500
    html = response.content.decode()
    assert "Sorry, there is a problem with the service" in html
    assert 'class="nhsuk-header' in html
    assert "deliberate failure" not in html


def test_static_files_are_served_by_whitenoise(client):
    response = client.get("/static/wagtailnhsukfrontend/css/nhsuk-frontend-10.4.2.min.css")
    assert response.status_code == 200
    body = b"".join(response.streaming_content)
    assert b".nhsuk-header" in body


def test_home_page_query_count_is_pinned(client, site, settings, django_assert_num_queries):
    client.get("/")  # warm Wagtail's site-root cache (and the page cache)
    with django_assert_num_queries(0):  # served from the anonymous page cache
        assert client.get("/").status_code == 200
    settings.PAGE_CACHE_SECONDS = 0
    # site, page, ancestors, view restrictions, the pages the three action links point to
    with django_assert_num_queries(QUERIES_UNCACHED):
        assert client.get("/").status_code == 200
