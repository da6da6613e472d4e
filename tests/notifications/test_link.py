"""The confirm link in a reminder (``/a/<token>/``): no sign-in, only the day, time and place,
answers recorded once, wrong or stale links refused without saying why, and no input at all
ever gives a 500. Tokens never spell a word (so never a sensitive one), and tokens in the old
format, already sent, keep working until the appointment starts."""

from __future__ import annotations

import base64
import datetime as dt
from types import SimpleNamespace
from urllib.parse import quote

import pytest
import time_machine
from django.core.cache import cache
from django.test import Client, override_settings
from django.utils import timezone
from django.utils.crypto import salted_hmac
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from notifications import services
from notifications.links import (
    ALPHABET,
    SIGNATURE_LENGTH,
    appointment_id_from_token,
    appointment_token,
    token_matches,
)
from notifications.models import OutboundMessage
from notifications.sms import MemorySMSClient
from notifications.templating import WORST_CASE_LINK_KEY
from peer_support.models import Alert, Appointment
from peer_support.wording import when_text
from portal.roles import Role
from portal.sensitive import sensitive_words_in
from portal.settings.base import SMS_SENSITIVE_WORDS as DEFAULT_SENSITIVE_WORDS
from tests.factories import AppointmentFactory, ServiceUserRecordFactory
from tests.portal import conftest as portal_fixtures
from tests.portal.conftest import make_member

from .world import committed, person

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


def _b36(number: int) -> str:
    digits = "0123456789abcdefghijklmnopqrstuvwxyz"
    out = ""
    while True:
        number, rest = divmod(number, 36)
        out = digits[rest] + out
        if not number:
            return out


def old_format_token(appointment) -> str:
    """A token as links.py wrote them before tokens were made of consonants and digits (texts
    already sent carry these): base36 id, "-", 12 urlsafe base64 characters of the HMAC."""
    digest = salted_hmac(
        "notifications.appointment-link",
        f"{appointment.pk}:{int(appointment.starts_at.timestamp())}",
        algorithm="sha256",
    ).digest()
    return f"{_b36(appointment.pk)}-{base64.urlsafe_b64encode(digest)[:12].decode()}"


@pytest.fixture(params=["new format", "old format"])
def token_for(request):
    """Each behaviour of a link, for tokens made today and for those already sent."""
    return appointment_token if request.param == "new format" else old_format_token


def test_the_page_shows_the_day_time_and_place_and_nothing_that_says_what_it_is(
    client, appointment, token_for
):
    response = client.get(f"/a/{token_for(appointment)}/")
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


def test_ill_be_there_confirms_the_appointment_and_says_thank_you(client, appointment, token_for):
    url = f"/a/{token_for(appointment)}/"
    response = client.post(url, {"answer": "yes"})
    assert response.status_code == 302
    assert response["Location"] == f"{url}?answered=yes"
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
    signature = appointment_token(appointment)[-SIGNATURE_LENGTH:]
    other_head = appointment_token(other)[:-SIGNATURE_LENGTH]
    response = client.post(f"/a/{other_head}{signature}/", {"answer": "yes"})
    assert response.status_code == 404
    assert b"This link is not right or has expired" in response.content
    other.refresh_from_db()
    assert other.confirmed_at is None


def test_an_old_format_token_with_another_appointments_id_is_not_found(client, appointment):
    other = AppointmentFactory(
        service_user=appointment.service_user, starts_at=appointment.starts_at
    )
    signature = old_format_token(appointment).split("-", 1)[1]
    other_head = old_format_token(other).split("-", 1)[0]
    response = client.post(f"/a/{other_head}-{signature}/", {"answer": "yes"})
    assert response.status_code == 404
    other.refresh_from_db()
    assert other.confirmed_at is None


@pytest.mark.parametrize("convert", ["old signature, new id", "new signature, old id"])
def test_a_token_mixing_the_two_formats_is_not_found(client, appointment, convert):
    new, old = appointment_token(appointment), old_format_token(appointment)
    if convert == "old signature, new id":
        token = f"{new[:-SIGNATURE_LENGTH]}-{old.split('-', 1)[1]}"
    else:
        token = f"{old.split('-', 1)[0]}{new[-SIGNATURE_LENGTH:]}"
    assert client.get(f"/a/{token}/").status_code == 404


def test_a_link_for_an_appointment_that_moved_is_not_found(client, appointment, token_for):
    old_url = f"/a/{token_for(appointment)}/"
    Appointment.objects.filter(pk=appointment.pk).update(
        starts_at=appointment.starts_at + dt.timedelta(hours=3)
    )
    response = client.post(old_url, {"answer": "yes"})
    assert response.status_code == 404
    appointment.refresh_from_db()
    assert appointment.confirmed_at is None
    assert client.get(f"/a/{token_for(appointment)}/").status_code == 200


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
        # The new format: consonants and digits, the id then exactly 12 of signature.
        "B" * 12,
        "B" * 13,
        "z" * 13 + "B" * 12,
        "2a" + "B" * 12,
        "2" + "B" * 11 + "e",
        "2" + "B" * 11 + "%C3%A9",
        "2_" + "B" * 12,
    ],
)
def test_a_malformed_or_made_up_token_is_not_found(client, appointment, token):
    response = client.get(f"/a/{token}/")
    assert response.status_code == 404


@pytest.mark.parametrize("method", ["get", "post"])
def test_after_the_start_the_link_says_it_has_passed(client, appointment, method, token_for):
    url = f"/a/{token_for(appointment)}/"
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
def test_a_cancelled_or_finished_appointment_says_it_has_changed(
    client, appointment, change, token_for
):
    Appointment.objects.filter(pk=appointment.pk).update(**change)
    response = client.post(f"/a/{token_for(appointment)}/", {"answer": "change"})
    assert response.status_code == 410
    assert not Alert.objects.filter(kind=Alert.Kind.CHANGE_REQUESTED).exists()


def test_many_requests_from_one_address_are_slowed_down(client, appointment):
    statuses = [client.get("/a/1-abcdefghijkl/").status_code for _ in range(30)]
    assert set(statuses) == {404}
    limited = client.get(url_for(appointment))
    assert limited.status_code == 429
    assert b"Too many attempts" in limited.content
    assert "no-store" in limited["Cache-Control"]


# --- Tokens that cannot spell a word, and the old format ------------------------------------

KNOWN_KEY = "known-answer-key-for-the-old-link-format-0123456789"
KNOWN_TIME = dt.datetime(2025, 3, 4, 14, 30, tzinfo=dt.UTC)
# Written by links.py before the change, with KNOWN_KEY and KNOWN_TIME: such texts are out there.
OLD_TOKENS = {
    526845: "bail-AiNFEtBC5y-N",
    642616: "drug-dKkzaYMZII31",
    1: "1-N8Y9LmSWyJ5r",
    41: "15-RvynKjtuHF6-",
}


def at(pk: int, starts_at: dt.datetime = KNOWN_TIME) -> SimpleNamespace:
    return SimpleNamespace(pk=pk, starts_at=starts_at)


def test_every_default_sensitive_word_has_a_vowel_which_no_token_has():
    # Why tokens cannot spell one: a word of consonants only ("GP") would need more than this.
    assert set(ALPHABET).isdisjoint("aeiouyAEIOUY")
    for word in DEFAULT_SENSITIVE_WORDS:
        assert set(word.lower()) & set("aeiouy"), word


@pytest.mark.parametrize("pk", [526845, 642616])
@override_settings(SECRET_KEY=KNOWN_KEY, SMS_SENSITIVE_WORDS=DEFAULT_SENSITIVE_WORDS)
def test_the_ids_whose_tokens_spelt_bail_and_drug_no_longer_spell_anything(pk):
    assert sensitive_words_in(f"/a/{OLD_TOKENS[pk]}/") != []  # the bug, as it was
    token = appointment_token(at(pk))
    assert sensitive_words_in(f"https://example.org/a/{token}/") == []
    assert set(token) <= set(ALPHABET)
    assert appointment_id_from_token(token) == pk


@pytest.mark.parametrize(("pk", "token"), OLD_TOKENS.items())
@override_settings(SECRET_KEY=KNOWN_KEY)
def test_old_format_tokens_already_sent_are_still_accepted(pk, token):
    assert old_format_token(at(pk)) == token  # the helper the page tests use writes them
    assert appointment_id_from_token(token) == pk
    assert token_matches(token, at(pk))
    assert not token_matches(token, at(pk, KNOWN_TIME + dt.timedelta(minutes=30)))
    assert not token_matches(token, at(pk + 1))
    assert appointment_token(at(pk)) != token


@settings(max_examples=500, deadline=None)
@given(
    pk=st.integers(min_value=0, max_value=10**12),
    starts_at=st.datetimes(
        min_value=dt.datetime(2000, 1, 1),
        max_value=dt.datetime(2100, 1, 1),
        timezones=st.just(dt.UTC),
    ),
    secret=st.text(min_size=1, max_size=60),
)
def test_no_token_contains_a_sensitive_word(pk, starts_at, secret):
    with override_settings(SECRET_KEY=secret, SMS_SENSITIVE_WORDS=DEFAULT_SENSITIVE_WORDS):
        token = appointment_token(at(pk, starts_at))
        assert sensitive_words_in(token) == []
        assert sensitive_words_in(f"See you soon. https://example.org/a/{token}/ ok") == []
        assert set(token) <= set(ALPHABET)
        assert appointment_id_from_token(token) == pk
        assert token_matches(token, at(pk, starts_at))


def test_the_signature_keeps_at_least_64_bits():
    assert len(ALPHABET) == len(set(ALPHABET))
    assert len(ALPHABET) ** SIGNATURE_LENGTH >= 2**64


@pytest.mark.parametrize(
    "pk", [0, 1, 46, 47, 36**6 - 1, 2**31 - 1, 10**10, 47**7 - 1], ids=lambda pk: f"id {pk}"
)
def test_a_token_is_never_longer_than_the_linters_worst_case(pk):
    # 36**6 - 1: the largest id the old format fitted in the worst case; new ones go further.
    token = appointment_token(at(pk))
    assert len(f"{token}/") <= len(WORST_CASE_LINK_KEY)


@given(pk=st.integers(min_value=0, max_value=10**12))
def test_a_token_is_never_longer_than_the_old_one_for_the_same_id(pk):
    assert len(appointment_token(at(pk))) <= len(old_format_token(at(pk)))


@pytest.mark.parametrize("pk", [526845, 642616])
def test_reminders_of_those_appointments_are_sent_not_refused(service, pk):
    MemorySMSClient.outbox.clear()
    record = person(service, mobile="+447700900302")
    appt = AppointmentFactory(
        pk=pk, service_user=record, starts_at=timezone.now() + dt.timedelta(days=5)
    )
    services.reminders_sync(appointment_id=appt.pk)
    due = appt.reminders.get(slot="3d", status__in=OutboundMessage.PENDING)
    with time_machine.travel(due.send_at + dt.timedelta(seconds=1), tick=False), committed():
        services.messages_dispatch_due()
    due.refresh_from_db()
    assert due.status == OutboundMessage.Status.SENT, due.reason
    assert len(MemorySMSClient.outbox) == 1
    assert f"/a/{appointment_token(appt)}/" in MemorySMSClient.outbox[0].body
    MemorySMSClient.outbox.clear()


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
    st.text(alphabet=ALPHABET, max_size=30),
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
