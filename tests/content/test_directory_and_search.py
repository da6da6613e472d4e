"""Finding a local service and searching the site; odd input never causes a 500."""

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from content.models import GuidancePage
from content.selectors import services_matching

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("NM1", ["northmoor"]),
        ("nm1 4ab", ["northmoor"]),
        ("NM14AB", ["northmoor"]),
        ("EF2", ["riverside-eastfield"]),
        ("Eastfield", ["riverside-eastfield"]),
        ("dalebridge", ["northmoor"]),
        ("Kingsmere", ["riverside-eastfield"]),  # named in the area, no location there
        ("ZZ9", []),
        ("Atlantis", []),
        ("", ["northmoor", "riverside-eastfield"]),
    ],
)
def test_services_are_found_by_town_or_postcode_area(site, query, expected):
    assert [match.service.slug for match in services_matching(query=query)] == expected


def test_directory_search_shows_the_local_service(client, site):
    html = client.get("/find-your-local-service/", {"q": "NM2 7XY"}).content.decode()
    assert "Services covering NM2 7XY" in html
    assert 'href="/find-your-local-service/northmoor/"' in html
    assert "riverside-eastfield" not in html


def test_directory_explains_an_empty_search(client, site):
    response = client.get("/find-your-local-service/", {"q": "   "})
    assert response.status_code == 200
    html = response.content.decode()
    assert "There is a problem" in html
    assert "Enter a town or the first part of a postcode, like NM1." in html
    assert "<title>Error:" in html


def test_each_service_has_its_own_page(client, site):
    html = client.get("/find-your-local-service/riverside-eastfield/").content.decode()
    assert "<h1>Riverside and Eastfield Liaison and Diversion Service</h1>" in html
    assert "Eastfield Youth Court (youth court), Eastfield" in html
    assert 'href="tel:+441614960200"' in html
    assert "Monday to Friday, 8am to 8pm; weekends, 9am to 5pm" in html
    assert client.get("/find-your-local-service/no-such-service/").status_code == 404


@pytest.mark.parametrize(
    ("query", "finds"),
    [
        ("court", "/guidance/going-to-court/"),
        ("solicitor", "/guidance/your-rights/"),
        ("Samaritans", "/guidance/help-in-a-crisis/"),
        ("alcohol service", "/stories/alexs-story/"),
    ],
)
def test_search_finds_guidance_and_stories(client, site, query, finds):
    html = client.get("/search/", {"q": query}).content.decode()
    assert f'<a href="{finds}">' in html
    assert "result" in html


def test_search_leaves_out_unpublished_pages(client, site):
    GuidancePage.objects.get(slug="help-in-a-crisis").unpublish()
    html = client.get("/search/", {"q": "Samaritans"}).content.decode()
    assert "/guidance/help-in-a-crisis/" not in html.replace(
        "/guidance/help-in-a-crisis/easy-read/", ""
    )


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"q": ""}, "Enter a word or two to search for"),
        ({"q": "!!!"}, "Enter a word or two to search for"),
        ({"q": "a" * 101}, "Use 100 characters or fewer."),
    ],
)
def test_search_answers_bad_input_with_a_clear_message(client, site, params, message):
    response = client.get("/search/", params)
    assert response.status_code == 200
    assert message in response.content.decode()


def test_search_says_when_nothing_matches(client, site):
    html = client.get("/search/", {"q": "xylophone"}).content.decode()
    assert "No results for xylophone" in html


QUERIES = st.one_of(
    st.text(max_size=120),
    st.text(alphabet=st.characters(codec="utf-8"), max_size=20),
    st.sampled_from(["NM1 4AB", "' OR 1=1 --", "\x00", "%", "_", "court & custody", "a:b"]),
)


@settings(
    max_examples=300,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(query=QUERIES, page=st.one_of(st.none(), st.text(max_size=5)))
def test_search_never_fails_on_odd_input(client, site, query, page):
    params = {"q": query} if page is None else {"q": query, "page": page}
    assert client.get("/search/", params).status_code == 200


@settings(
    max_examples=300,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(query=QUERIES)
def test_directory_never_fails_on_odd_input(client, site, query):
    assert client.get("/find-your-local-service/", {"q": query}).status_code == 200
