"""The public "Ask for a peer supporter" form and the page that says what happens next."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from django.test import Client
from django.urls import reverse
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from peer_support.models import Alert, ServiceUserRecord
from portal.roles import Role
from tests.factories import ServiceFactory
from tests.portal.conftest import make_member

pytestmark = pytest.mark.django_db

URL = "/ask-for-a-peer-supporter/"
SENT_URL = "/ask-for-a-peer-supporter/sent/"


@pytest.fixture(autouse=True)
def _fresh_rate_limits():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def north(db):
    return ServiceFactory(
        name="Northmoor Liaison and Diversion",
        slug="northmoor",
        phone="+441134960123",
        hours="Every day, 8am to 10pm",
        postcode_districts="NM1 NM2",
    )


@pytest.fixture
def south(db):
    return ServiceFactory(
        name="Southdale Liaison and Diversion",
        slug="southdale",
        phone="+441134960456",
        hours="Monday to Friday, 9am to 5pm",
        postcode_districts="DB4 db5",
    )


def valid_request(chosen, /, **overrides) -> dict:
    data = {
        "source": "self",
        "preferred_name": "Sam",
        "age_band": "25_plus",
        "mobile": "07700 900 123",
        "service": str(chosen.pk),
        "postcode": "",
        "notes": "",
        "referrer_name": "",
        "referrer_relationship": "",
        "referrer_phone": "",
    }
    data.update(overrides)
    return data


def test_the_pages_have_their_names():
    assert reverse("peer_support:request") == URL
    assert reverse("peer_support:request_sent") == SENT_URL


def test_the_form_page_lists_services_by_name_and_i_do_not_know(client, north, south):
    response = client.get(URL)

    assert response.status_code == 200
    html = response.content.decode()
    assert html.index("Northmoor Liaison") < html.index("Southdale Liaison")
    assert "I do not know" in html
    assert "csrfmiddlewaretoken" in html
    assert "call 999" in html


def test_the_form_page_is_never_cached(client, north):
    response = client.get(URL)

    assert "no-store" in response["Cache-Control"]
    assert not getattr(response, "page_cacheable", False)


def test_a_signed_in_person_can_use_the_form_too(north):
    client = Client()
    client.force_login(make_member(Role.SERVICE_USER, north))

    response = client.post(URL, valid_request(north))

    assert response.status_code == 302
    assert ServiceUserRecord.objects.filter(service=north).count() == 1


def test_a_request_for_yourself_creates_a_referred_record_in_the_chosen_service(
    client, north, south
):
    response = client.post(
        URL, valid_request(south, postcode="db4 1ab", needs=["housing", "mental_health"])
    )

    assert response.status_code == 302
    assert response["Location"] == f"{SENT_URL}?service=southdale"
    record = ServiceUserRecord.objects.get()
    assert record.service == south
    assert record.status == ServiceUserRecord.Status.REFERRED
    assert record.source == ServiceUserRecord.Source.SELF
    assert record.user is None
    assert record.preferred_name == "Sam"
    assert str(record.mobile) == "+447700900123"
    assert record.home_district == "DB4"
    assert record.needs == ["housing", "mental_health"]
    assert Alert.objects.filter(
        service=south, kind=Alert.Kind.NEW_REFERRAL, service_user=record
    ).exists()


@pytest.mark.parametrize(
    ("typed", "expected"), [("NM1", "NM1"), ("nm1 2ab", "NM1"), (" nm2   3CD ", "NM2")]
)
def test_i_do_not_know_finds_the_service_by_postcode(client, north, south, typed, expected):
    response = client.post(URL, valid_request(north, service="unknown", postcode=typed))

    assert response.status_code == 302
    record = ServiceUserRecord.objects.get()
    assert record.service == north
    assert record.home_district == expected
    assert Alert.objects.filter(service=north, kind=Alert.Kind.NEW_REFERRAL).count() == 1


def test_i_do_not_know_matches_a_lower_case_district_list(client, north, south):
    response = client.post(URL, valid_request(north, service="unknown", postcode="DB5 9ZZ"))

    assert response.status_code == 302
    assert ServiceUserRecord.objects.get().service == south


def test_a_request_for_someone_else_records_who_asked(client, north):
    response = client.post(
        URL,
        valid_request(
            north,
            source="someone_else",
            mobile="",
            referrer_name="Jo",
            referrer_relationship="Sister",
            referrer_phone="0113 496 0999",
        ),
    )

    assert response.status_code == 302
    record = ServiceUserRecord.objects.get()
    assert record.source == ServiceUserRecord.Source.SOMEONE_ELSE
    assert record.mobile == ""
    assert (record.referrer_name, record.referrer_relationship) == ("Jo", "Sister")
    assert str(record.referrer_phone) == "+441134960999"


def test_asking_for_yourself_ignores_the_boxes_for_someone_else(client, north):
    response = client.post(
        URL, valid_request(north, referrer_name="Jo", referrer_phone="not a number")
    )

    assert response.status_code == 302
    record = ServiceUserRecord.objects.get()
    assert (record.referrer_name, str(record.referrer_phone)) == ("", "")


def test_notes_are_sanitised(client, north):
    notes = '<script>alert("x")</script><p onclick="bad()">Needs help <b>with</b> housing</p>'

    client.post(URL, valid_request(north, notes=notes))

    saved = ServiceUserRecord.objects.get().referral_notes
    assert "<script" not in saved
    assert "onclick" not in saved
    assert "<b>" not in saved
    assert saved == 'alert("x")<p>Needs help with housing</p>'  # tags gone, text kept


def test_the_sent_page_names_the_service_and_its_phone(client, north):
    response = client.post(URL, valid_request(north), follow=True)

    assert response.status_code == 200
    html = response.content.decode()
    assert "Request sent" in html
    assert "The Northmoor Liaison and Diversion team will phone you" in html
    assert "usually within 2 working days" in html
    assert "0113 496 0123" in html
    assert "Every day, 8am to 10pm" in html
    assert (
        "If you or someone else is in danger now, call 999. For urgent mental health help, "
        "call NHS 111 and choose the mental health option."
    ) in html
    assert "Sam" not in html  # nothing they typed is echoed back


@pytest.mark.parametrize("query", ["", "?service=", "?service=nope", "?service=%00", "?x=1"])
def test_the_sent_page_without_a_known_service_is_generic(client, north, query):
    response = client.get(f"{SENT_URL}{query}")

    assert response.status_code == 200
    html = response.content.decode()
    assert "The Liaison and Diversion team will phone you" in html
    assert "Northmoor" not in html
    assert "call 999" in html


def errors_of(response) -> dict:
    return response.context["form"].errors


def test_a_request_with_no_phone_number_is_refused_on_the_mobile_field(client, north):
    response = client.post(URL, valid_request(north, mobile=""))

    assert response.status_code == 200
    assert "mobile" in errors_of(response)
    assert "so the team can get in touch" in response.content.decode()
    assert not ServiceUserRecord.objects.exists()


def test_someone_else_with_no_phone_number_is_asked_for_theirs(client, north):
    response = client.post(
        URL,
        valid_request(north, source="someone_else", mobile="", referrer_name="Jo"),
    )

    assert "referrer_phone" in errors_of(response)
    assert not ServiceUserRecord.objects.exists()


def test_someone_else_without_their_own_name_is_refused(client, north):
    response = client.post(URL, valid_request(north, source="someone_else"))

    assert errors_of(response)["referrer_name"] == ["Enter your name"]
    assert not ServiceUserRecord.objects.exists()


def test_an_area_no_service_covers_asks_them_to_choose_a_service(client, north, south):
    response = client.post(URL, valid_request(north, service="unknown", postcode="ZZ9 9ZZ"))

    assert response.status_code == 200
    assert errors_of(response)["service"] == [
        "We could not find a service for ZZ9. Choose the service they met"
    ]
    assert not ServiceUserRecord.objects.exists()


def test_i_do_not_know_without_a_postcode_asks_for_one(client, north):
    response = client.post(URL, valid_request(north, service="unknown"))

    assert "postcode" in errors_of(response)
    assert not ServiceUserRecord.objects.exists()


def test_two_services_covering_one_area_ask_them_to_choose(client, north):
    ServiceFactory(name="Another team", postcode_districts="NM1")

    response = client.post(URL, valid_request(north, service="unknown", postcode="NM1"))

    assert "More than one service covers NM1" in errors_of(response)["service"][0]
    assert not ServiceUserRecord.objects.exists()


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("mobile", "0113 496 0000"),  # a landline is not a mobile
        ("mobile", "+48 601 234 567"),  # not a UK number
        ("mobile", "hello"),
        ("postcode", "12345"),
        ("postcode", "NM1 2A"),
        ("age_band", "100"),
        ("service", "999999"),
        ("source", "police"),
        ("notes", "x" * 2001),
        ("preferred_name", ""),
        ("preferred_name", "   "),
    ],
)
def test_bad_answers_are_shown_on_their_own_field(client, north, field, value):
    response = client.post(URL, valid_request(north, **{field: value}))

    assert response.status_code == 200
    assert field in errors_of(response)
    assert 'class="nhsuk-error-summary"' in response.content.decode()
    assert not ServiceUserRecord.objects.exists()


def test_someone_elses_phone_must_be_a_real_uk_number(client, north):
    response = client.post(
        URL,
        valid_request(
            north, source="someone_else", referrer_name="Jo", referrer_phone="+33 1 23 45 67 89"
        ),
    )

    assert "referrer_phone" in errors_of(response)


def test_the_sixth_request_in_an_hour_from_one_address_is_refused_and_saves_nothing(client, north):
    cache.clear()
    for _ in range(5):
        assert client.post(URL, valid_request(north)).status_code == 302

    response = client.post(URL, valid_request(north))

    assert response.status_code == 429
    assert "several requests" in response.content.decode()
    assert "0113 496 0123" in response.content.decode()  # ring the service instead
    assert ServiceUserRecord.objects.count() == 5
    assert Alert.objects.count() == 5


def test_requests_with_mistakes_do_not_count_towards_the_limit(client, north):
    cache.clear()
    for _ in range(10):
        assert client.post(URL, valid_request(north, mobile="")).status_code == 200

    for _ in range(5):
        assert client.post(URL, valid_request(north)).status_code == 302


# --- Property: no input ever gives a server error ---------------------------------------------

FUZZ = settings(
    max_examples=500,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
NORTH, SOUTH = "@north", "@south"  # replaced by the services' ids in the test


def answer(valid: list[str], odd: list[str] = ()):
    """Mostly answers a person would give (so some requests go through), sometimes odd
    ones, sometimes anything at all."""
    kinds = {
        "valid": st.sampled_from(valid),
        "odd": st.sampled_from(odd or valid),
        "any": st.text(max_size=40),
    }
    return st.sampled_from(["valid"] * 7 + ["odd", "any", "any"]).flatmap(kinds.__getitem__)


request_bodies = st.fixed_dictionaries(
    {
        "source": answer(["self", "someone_else"], [""]),
        "preferred_name": answer(["Sam", "Alex"], ["", " ", "x" * 101]),
        "age_band": answer(["under_18", "18_24", "25_plus"], [""]),
        "mobile": answer(["07700 900 123", "+447700900124", ""], ["0113 496 0000", "07700"]),
        "service": answer([NORTH, SOUTH, "unknown"], ["", "0", "-1"]),
        "postcode": answer(["NM1", "nm1 2ab", "DB4", ""], ["ZZ9", "NM1 2A", "\x00"]),
        "needs": st.lists(answer(["housing", "mental_health", "drug_use"]), max_size=3),
        "notes": answer(["", "<script>x</script>", "<p>ok</p>"], ["x" * 2001]),
        "referrer_name": answer(["Jo", ""], [" "]),
        "referrer_relationship": answer(["Sister", ""]),
        "referrer_phone": answer(["0113 496 0999", ""], ["07700 900 125", "+33123456789"]),
    }
)


@FUZZ
@given(data=request_bodies)
def test_any_request_body_gets_a_page_never_a_server_error(data, north, south):
    cache.clear()
    ids = {NORTH: str(north.pk), SOUTH: str(south.pk)}
    data["service"] = ids.get(data["service"], data["service"])
    before = ServiceUserRecord.objects.count()

    response = Client().post(URL, data)

    event(f"status {response.status_code}")
    assert response.status_code in {200, 302, 429}
    created = ServiceUserRecord.objects.count() - before
    assert created == (1 if response.status_code == 302 else 0)


def test_every_page_links_to_the_request_form_from_its_footer(client, service):
    page = client.get("/ask-for-a-peer-supporter/sent/").content.decode()
    footer = page[page.index('<footer class="nhsuk-footer"') :]
    assert 'href="/ask-for-a-peer-supporter/"' in footer
    assert "Ask for a peer supporter" in footer
