"""The confirm link in a reminder (``/a/<token>/``): no sign-in, only the day, time and place,
answers recorded once, wrong or stale links refused without saying why, and no input at all
ever gives a 500."""

from __future__ import annotations

import datetime as dt
from urllib.parse import quote

import pytest
import time_machine
from django.core.cache import cache
from django.test import Client
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from notifications.links import appointment_token
from peer_support.models import Alert, Appointment
from peer_support.wording import when_text
from portal.roles import Role
from tests.factories import AppointmentFactory, ServiceUserRecordFactory
from tests.portal import conftest as portal_fixtures
from tests.portal.conftest import make_member

pytestmark = pytest.mark.django_db

# The portal's fixtures (tests/notifications/conftest.py does not bring them in).
service = portal_fixtures.service
other_service = portal_fixtures.other_service
person_with_consents = portal_fixtures.person_with_consents

PLACE = "Riverside Centre"
ADDRESS = "1 Example Street, Testtown NM1 1AA"


@pytest.fixture(autouse=True)
def _fresh_rate_limits():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def appointment(service):
    record = ServiceUserRecordFactory(service=service, preferred_name="Avery")
    return AppointmentFactory(
        service_user=record,
        kind=Appointment.Kind.MENTAL_HEALTH_ASSESSMENT,
        place_label=PLACE,
        address=ADDRESS,
        starts_at=timezone.now() + dt.timedelta(days=2),
    )


def url_for(appointment) -> str:
    return f"/a/{appointment_token(appointment)}/"


def test_the_page_shows_the_day_time_and_place_and_nothing_that_says_what_it_is(
    client, appointment
):
    response = client.get(url_for(appointment))
    assert response.status_code == 200
    html = response.content.decode()
    assert when_text(appointment.starts_at) in html
    assert PLACE in html
    assert "I&#x27;ll be there" in html or "I'll be there" in html
    assert "I need to change it" in html
    service = appointment.service_user.service
    for secret in (
        appointment.get_kind_display(),
        ADDRESS,
        "Example Street",
        appointment.service_user.preferred_name,
        service.name,
        "Liaison and Diversion",
        "mental health",
        "police",
        "court",
    ):
        assert secret.lower() not in html.lower(), secret


def test_every_answer_is_private_not_cached_and_not_indexed(client, appointment):
    for response in (
        client.get(url_for(appointment)),
        client.post(url_for(appointment), {"answer": "yes"}),
        client.get("/a/not-a-token/"),
    ):
        assert "no-store" in response["Cache-Control"]
        assert "noindex" in response["X-Robots-Tag"]
        assert response["Referrer-Policy"] == "no-referrer"


def test_ill_be_there_confirms_the_appointment_and_says_thank_you(client, appointment):
    response = client.post(url_for(appointment), {"answer": "yes"})
    assert response.status_code == 302
    assert response["Location"] == f"{url_for(appointment)}?answered=yes"
    appointment.refresh_from_db()
    assert appointment.confirmed_at is not None
    assert appointment.change_requested_at is None
    thanks = client.get(response["Location"])
    assert thanks.status_code == 200
    assert b"Thank you" in thanks.content
    assert b"you will be there" in thanks.content


def test_i_need_to_change_it_asks_for_a_change_and_alerts_staff(client, appointment):
    response = client.post(url_for(appointment), {"answer": "change"})
    assert response.status_code == 302
    appointment.refresh_from_db()
    assert appointment.change_requested_at is not None
    assert appointment.confirmed_at is None
    alert = Alert.objects.get(kind=Alert.Kind.CHANGE_REQUESTED)
    assert alert.service_id == appointment.service_user.service_id
    thanks = client.get(response["Location"])
    assert b"Someone will contact you" in thanks.content


def test_a_thank_you_address_without_an_answer_shows_the_question_again(client, appointment):
    response = client.get(f"{url_for(appointment)}?answered=yes")
    assert response.status_code == 200
    assert b"Can you come to your appointment?" in response.content


def test_the_link_works_for_someone_signed_in_as_anyone(client, appointment, other_service):
    client.force_login(make_member(Role.PEER_SUPPORT_WORKER, other_service))
    response = client.post(url_for(appointment), {"answer": "yes"})
    assert response.status_code == 302
    appointment.refresh_from_db()
    assert appointment.confirmed_at is not None


@pytest.mark.parametrize("answer", ["", "YES", "no", "maybe", "yes ", "<script>"])
def test_an_answer_that_is_not_one_of_the_buttons_is_a_400_and_changes_nothing(
    client, appointment, answer
):
    response = client.post(url_for(appointment), {"answer": answer})
    assert response.status_code == 400
    appointment.refresh_from_db()
    assert appointment.confirmed_at is None
    assert appointment.change_requested_at is None


def test_another_appointments_id_with_this_tokens_signature_is_not_found(client, appointment):
    other = AppointmentFactory(
        service_user=appointment.service_user, starts_at=appointment.starts_at
    )
    head, signature = appointment_token(appointment).split("-", 1)
    other_head = appointment_token(other).split("-", 1)[0]
    response = client.post(f"/a/{other_head}-{signature}/", {"answer": "yes"})
    assert response.status_code == 404
    assert b"This link is not right or has expired" in response.content
    other.refresh_from_db()
    assert other.confirmed_at is None


def test_a_link_for_an_appointment_that_moved_is_not_found(client, appointment):
    old_url = url_for(appointment)
    Appointment.objects.filter(pk=appointment.pk).update(
        starts_at=appointment.starts_at + dt.timedelta(hours=3)
    )
    response = client.post(old_url, {"answer": "yes"})
    assert response.status_code == 404
    appointment.refresh_from_db()
    assert appointment.confirmed_at is None
    assert client.get(url_for(appointment)).status_code == 200


@pytest.mark.parametrize(
    "token",
    [
        "x",
        "abc",
        "1-short",
        "-abcdefghijkl",
        "zzzzzzzzzzzzz-abcdefghijkl",
        "zzzzzzzzzzzz-abcdefghijkl",
        "1-abcdefghijklm",
        "%C3%A9-abcdefghijkl",
        "1-%00bcdefghijk",
    ],
)
def test_a_malformed_or_made_up_token_is_not_found(client, appointment, token):
    response = client.get(f"/a/{token}/")
    assert response.status_code == 404


@pytest.mark.parametrize("method", ["get", "post"])
def test_after_the_start_the_link_says_it_has_passed(client, appointment, method):
    url = url_for(appointment)
    with time_machine.travel(appointment.starts_at + dt.timedelta(minutes=1)):
        response = getattr(client, method)(url, {"answer": "yes"})
    assert response.status_code == 410
    assert b"This appointment has passed or changed" in response.content
    phone = appointment.service_user.service.phone.as_national
    assert phone.encode() in response.content
    appointment.refresh_from_db()
    assert appointment.confirmed_at is None


@pytest.mark.parametrize(
    "change",
    [{"status": Appointment.Status.CANCELLED}, {"outcome": Appointment.Outcome.REARRANGED}],
    ids=["cancelled", "outcome recorded"],
)
def test_a_cancelled_or_finished_appointment_says_it_has_changed(client, appointment, change):
    Appointment.objects.filter(pk=appointment.pk).update(**change)
    response = client.post(url_for(appointment), {"answer": "change"})
    assert response.status_code == 410
    assert not Alert.objects.filter(kind=Alert.Kind.CHANGE_REQUESTED).exists()


def test_many_requests_from_one_address_are_slowed_down(client, appointment):
    statuses = [client.get("/a/1-abcdefghijkl/").status_code for _ in range(30)]
    assert set(statuses) == {404}
    limited = client.get(url_for(appointment))
    assert limited.status_code == 429
    assert b"Too many attempts" in limited.content
    assert "no-store" in limited["Cache-Control"]


# --- Property: no input gives a 500 -----------------------------------------------------------

FUZZ = settings(
    max_examples=500,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
any_text = st.one_of(
    st.text(max_size=40),
    st.sampled_from(["yes", "change", "", "YES", "\x00", "<script>", "' OR 1=1"]),
)
tokens = st.one_of(
    st.text(max_size=30),
    st.from_regex(r"\A[0-9a-z]{0,14}-[A-Za-z0-9_\-]{0,14}\Z", fullmatch=True),
)


@FUZZ
@given(token=st.one_of(st.none(), tokens), answer=any_text, extra=any_text)
def test_the_link_never_errors_and_only_a_real_answer_changes_anything(
    appointment, token, answer, extra
):
    cache.clear()
    path = url_for(appointment) if token is None else f"/a/{quote(token, safe='')}/"
    before = Appointment.objects.get(pk=appointment.pk)
    response = Client().post(path, {"answer": answer, "extra": extra})
    assert response.status_code in {302, 400, 404, 410}
    after = Appointment.objects.get(pk=appointment.pk)
    # Nothing about the appointment itself is ever changed by the link.
    for field in ("starts_at", "place_label", "address", "kind", "status", "outcome"):
        assert getattr(after, field) == getattr(before, field)
    if response.status_code == 302:
        assert token is None and answer in {"yes", "change"}
        assert after.confirmed_at if answer == "yes" else after.change_requested_at
    else:
        assert after.confirmed_at == before.confirmed_at
        assert after.change_requested_at == before.change_requested_at
