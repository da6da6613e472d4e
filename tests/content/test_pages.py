"""The public page types: NHS shell, easy-read twins, review dates, listings."""

import datetime
import re

import pytest
from django.core.exceptions import ValidationError
from wagtail.test.utils import WagtailTestUtils

from content.models import EasyReadPage, GuidancePage
from content.readability import page_reading_age, reading_age

pytestmark = pytest.mark.django_db

PUBLIC_PAGES = [
    ("/", "Peer support after contact with police or courts"),
    ("/guidance/", "Guidance"),
    ("/guidance/going-to-court/", "Going to court"),
    ("/guidance/going-to-court/easy-read/", "Going to court (easy read)"),
    ("/stories/", "Stories from people who have been there"),
    ("/stories/sams-story/", "Sam's story: getting to the first appointment"),
    ("/find-your-local-service/", "Find your local Liaison and Diversion service"),
    ("/find-your-local-service/northmoor/", "Northmoor Liaison and Diversion Service"),
    ("/search/?q=court", "Search"),
]


@pytest.mark.parametrize(("url", "heading"), PUBLIC_PAGES)
def test_every_public_page_type_renders_in_the_nhs_shell(client, site, url, heading):
    response = client.get(url)
    assert response.status_code == 200
    html = response.content.decode()
    assert f"<h1>{heading}</h1>".replace("'", "&#x27;") in html
    assert 'class="nhsuk-header' in html
    assert 'action="/search/"' in html  # the header search points at our search page
    assert not re.search(r"<script(?![^>]*\bsrc=)", html), "no inline scripts"
    assert not re.search(r"\son[a-z]+=", html), "no inline event handlers"


def test_guidance_and_its_easy_read_twin_link_to_each_other(client, site):
    standard = client.get("/guidance/going-to-court/").content.decode()
    assert '<a href="/guidance/going-to-court/easy-read/" lang="en-GB">Easy read version</a>' in (
        standard
    )
    easy = client.get("/guidance/going-to-court/easy-read/").content.decode()
    assert '<a href="/guidance/going-to-court/">Standard version</a>' in easy
    # An image beside each point, each with alt text.
    points = re.findall(r'<li class="content-easy-read__point">\s*<img [^>]*alt="([^"]*)"', easy)
    assert len(points) == 5
    assert all(points)


def test_guidance_page_shows_review_dates(client, court_page):
    court_page.last_reviewed = datetime.date(2026, 3, 3)
    court_page.next_review_due = datetime.date(2027, 3, 3)
    court_page.save_revision().publish()
    html = client.get("/guidance/going-to-court/").content.decode()
    assert "Page last reviewed: 3 March 2026" in html
    assert "Next review due: 3 March 2027" in html


def test_listing_shows_which_guidance_lacks_an_easy_read_version(client, court_page):
    EasyReadPage.objects.child_of(court_page).get().unpublish()
    html = client.get("/guidance/").content.decode()
    court_item = html.split('href="/guidance/going-to-court/"')[1].split("</li>")[0]
    assert "No easy read version yet" in court_item
    rights_item = html.split('href="/guidance/your-rights/"')[1].split("</li>")[0]
    assert 'href="/guidance/your-rights/easy-read/">Easy read version' in rights_item
    # The guidance page itself no longer offers a twin.
    assert "Easy read version" not in client.get("/guidance/going-to-court/").content.decode()


@pytest.mark.parametrize(
    ("query", "shown", "hidden"),
    [
        ("audience=family", "Support for family and friends", "Going to court"),
        ("stage=court", "Going to court", "Your rights"),
        ("audience=young_people&stage=custody", "Your rights", "Help in a crisis"),
        ("audience=nonsense&stage=%00", "Going to court", None),
        ("page=999", "Going to court", None),
    ],
)
def test_guidance_listing_filters_without_javascript(client, site, query, shown, hidden):
    response = client.get(f"/guidance/?{query}")
    assert response.status_code == 200
    html = response.content.decode()
    assert shown in html
    if hidden:
        assert hidden not in html


@pytest.mark.parametrize(
    ("text", "low", "high"),
    [
        ("You can ask for help. A nurse will talk to you. You can say no.", 5, 8),
        (
            "Comprehensive multidisciplinary assessment facilitates the identification of "
            "previously undiagnosed neurodevelopmental conditions, consequently informing "
            "proportionate judicial decision-making regarding disposal.",
            16,
            40,
        ),
    ],
)
def test_reading_age_comes_from_textstat(text, low, high):
    assert low <= reading_age(text) <= high


def test_reading_age_needs_enough_words():
    assert reading_age("Too short.") is None


def test_seeded_pages_meet_their_reading_age_targets(site):
    for model in (GuidancePage, EasyReadPage):
        for page in model.objects.all():
            reading = page_reading_age(page)
            assert reading.age is not None, page.title
            assert not reading.too_hard, (page.title, reading)


def test_editor_sees_reading_age_with_target_and_warning(client, court_page, editor):
    client.force_login(editor)
    html = client.get(f"/admin/pages/{court_page.pk}/edit/").content.decode()
    assert "Reading age 8: within the target of 11 or under." in html

    court_page.body = [
        (
            "paragraph",
            "<p>Notwithstanding considerable organisational heterogeneity, multidisciplinary "
            "practitioners systematically facilitate comprehensive neurodevelopmental "
            "assessments, subsequently communicating individualised recommendations.</p>",
        )
    ]
    court_page.save_revision()
    html = client.get(f"/admin/pages/{court_page.pk}/edit/").content.decode()
    assert re.search(r"Reading age \d+: above the target of 11 or under", html)
    assert "help-warning" in html


def test_review_due_must_follow_last_review(court_page):
    court_page.next_review_due = court_page.last_reviewed
    with pytest.raises(ValidationError, match="after the last review"):
        court_page.full_clean()


class TestPageTree(WagtailTestUtils):
    """Where each page type may go (Wagtail's own assertions, through its test helpers)."""

    def test_allowed_parents(self, site):
        from wagtail.test.utils import WagtailPageTestCase

        from content.models import (
            CaseStudyIndexPage,
            CaseStudyPage,
            GuidanceIndexPage,
            HomePage,
            ServiceDirectoryPage,
        )

        case = WagtailPageTestCase()
        case.assertAllowedParentPageTypes(GuidancePage, {GuidanceIndexPage})
        case.assertAllowedParentPageTypes(EasyReadPage, {GuidancePage})
        case.assertAllowedParentPageTypes(CaseStudyPage, {CaseStudyIndexPage})
        case.assertAllowedSubpageTypes(GuidancePage, {EasyReadPage})
        case.assertAllowedSubpageTypes(
            HomePage, {GuidanceIndexPage, CaseStudyIndexPage, ServiceDirectoryPage}
        )
