"""The anonymous page cache: no queries on a hit, fresh at once after publish and unpublish,
never shared with signed-in people, and flat query counts when it misses."""

import pytest
from django.test import override_settings

from content.models import GuidanceIndexPage, GuidancePage

pytestmark = pytest.mark.django_db

CACHED_URLS = [
    "/",
    "/guidance/",
    "/guidance/going-to-court/",
    "/guidance/going-to-court/easy-read/",
    "/stories/",
    "/stories/sams-story/",
    "/find-your-local-service/",
    "/find-your-local-service/northmoor/",
]


@pytest.mark.parametrize("url", CACHED_URLS)
def test_a_cached_hit_makes_no_queries(client, site, url, django_assert_num_queries):
    first = client.get(url)
    assert first["X-Page-Cache"] == "miss"
    with django_assert_num_queries(0):
        second = client.get(url)
    assert second["X-Page-Cache"] == "hit"
    assert second.content == first.content
    assert second["Cache-Control"] == "max-age=0, must-revalidate"
    assert not second.cookies


def test_publish_is_visible_to_anonymous_readers_at_once(client, court_page):
    client.get("/guidance/going-to-court/")
    client.get("/guidance/")
    court_page.title = "Going to court: what to expect"
    court_page.save_revision().publish()
    page_html = client.get("/guidance/going-to-court/").content.decode()
    assert "<h1>Going to court: what to expect</h1>" in page_html
    assert "Going to court: what to expect" in client.get("/guidance/").content.decode()


def test_unpublish_is_visible_to_anonymous_readers_at_once(client, court_page):
    assert client.get("/guidance/going-to-court/").status_code == 200
    assert client.get("/guidance/going-to-court/")["X-Page-Cache"] == "hit"
    court_page.unpublish()
    assert client.get("/guidance/going-to-court/").status_code == 404
    assert 'href="/guidance/going-to-court/"' not in client.get("/guidance/").content.decode()


def test_deleting_or_moving_a_page_clears_the_cache(client, court_page, guidance_index):
    client.get("/guidance/")
    GuidancePage.objects.get(slug="your-rights").delete()
    assert "Your rights" not in client.get("/guidance/").content.decode()


def test_changing_a_service_refreshes_the_directory(client, site):
    from portal.models import Service

    client.get("/find-your-local-service/northmoor/")
    Service.objects.filter(slug="northmoor").update(hours="placeholder")  # no signal
    service = Service.objects.get(slug="northmoor")
    service.hours = "Every day, 6am to midnight"
    service.save()
    html = client.get("/find-your-local-service/northmoor/").content.decode()
    assert "Every day, 6am to midnight" in html


def test_signed_in_people_never_get_or_leave_a_shared_copy(client, court_page, editor):
    client.force_login(editor)
    signed_in = client.get("/guidance/going-to-court/")
    assert signed_in.status_code == 200
    assert "X-Page-Cache" not in signed_in
    client.logout()
    anonymous = client.get("/guidance/going-to-court/")
    assert anonymous["X-Page-Cache"] == "miss"  # the signed-in view was not stored


@pytest.mark.parametrize(
    "url",
    ["/search/?q=court", "/guidance/?audience=family", "/find-your-local-service/?q=NM1"],
)
def test_query_strings_and_search_are_never_cached(client, site, url):
    client.get(url)
    assert "X-Page-Cache" not in client.get(url)


def test_page_cache_can_be_turned_off(client, site, settings):
    settings.PAGE_CACHE_SECONDS = 0
    client.get("/guidance/")
    assert "X-Page-Cache" not in client.get("/guidance/")


def _grow_guidance(index: GuidanceIndexPage, total: int) -> None:
    """Add plain guidance pages until the index has ``total`` of them."""
    template = GuidancePage.objects.child_of(index).first()
    existing = GuidancePage.objects.child_of(index).count()
    for n in range(existing, total):
        page = GuidancePage(
            title=f"Extra guidance {n:03d}",
            slug=f"extra-guidance-{n:03d}",
            intro="A page to make the site bigger.",
            audience=template.audience,
            stage=template.stage,
            body=[("paragraph", "<p>More words.</p>")],
            last_reviewed=template.last_reviewed,
            next_review_due=template.next_review_due,
        )
        index.add_child(instance=page)


URLS_TO_PIN = ["/guidance/going-to-court/", "/guidance/going-to-court/easy-read/", "/guidance/"]


def _uncached_counts(client) -> dict[str, int]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    counts = {}
    for url in URLS_TO_PIN:
        client.get(url)  # warm Wagtail's per-process caches (site root paths)
        with CaptureQueriesContext(connection) as captured:
            assert client.get(url).status_code == 200
        counts[url] = len(captured.captured_queries)
    return counts


@override_settings(PAGE_CACHE_SECONDS=0)
def test_uncached_query_counts_are_the_same_for_10_and_500_pages(
    client, guidance_index, django_assert_num_queries
):
    _grow_guidance(guidance_index, 10)
    small = _uncached_counts(client)
    _grow_guidance(guidance_index, 500)
    assert GuidancePage.objects.count() == 500
    large = _uncached_counts(client)
    assert small == large
    # Pinned. Most of it is Wagtail's own routing (site, one query per level of the path, the
    # specific page, alias and view-restriction checks); ours is the breadcrumb (one query),
    # the easy-read twin or standard version (one or two), the listing (count + page) and
    # the easy-read pictures (one).
    expected = {
        "/guidance/going-to-court/": 11,
        "/guidance/going-to-court/easy-read/": 12,
        "/guidance/": 11,
    }
    assert large == expected
    for url, count in expected.items():
        with django_assert_num_queries(count):
            client.get(url)
