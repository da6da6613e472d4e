"""Signing in: service users by text message code; staff by password and an authenticator."""

import re

import pytest
from allauth.mfa.models import Authenticator
from django.core.cache import cache
from django.test import Client

from notifications.sms import MemorySMSClient
from portal.roles import Role
from tests.portal.conftest import make_member

pytestmark = pytest.mark.django_db

CODE_URL = "/accounts/login/code/"
CONFIRM_URL = "/accounts/login/code/confirm/"


@pytest.fixture(autouse=True)
def clean_outbox_and_limits():
    MemorySMSClient.outbox.clear()
    cache.clear()
    yield
    MemorySMSClient.outbox.clear()


def sent_code() -> str:
    assert MemorySMSClient.outbox, "no text message was sent"
    match = re.search(r"code is ([A-Z0-9-]+)\.", MemorySMSClient.outbox[-1].body)
    assert match, MemorySMSClient.outbox[-1].body
    return match.group(1)


@pytest.mark.parametrize("typed", ["07700 900123", "+44 7700 900123", "07700-900-123"])
def test_service_user_signs_in_with_mobile_and_code(client, service, typed):
    person = make_member(Role.SERVICE_USER, service, mobile="+447700900123")
    response = client.post(CODE_URL, {"phone": typed})
    assert response.status_code == 302, response.content.decode()[:2000]
    message = MemorySMSClient.outbox[-1]
    assert message.to == "+447700900123"
    assert message.recipient_id == person.pk
    for word in ("police", "court", "custody", "mental", "drug"):
        assert word not in message.body.lower()
    assert re.fullmatch(r"\d{6}", sent_code()), "a six-digit code"
    response = client.post(CONFIRM_URL, {"code": sent_code()}, follow=True)
    assert response.wsgi_request.user == person
    assert response.redirect_chain[-1][0] == "/dashboard/"


def test_unknown_number_looks_the_same_and_sends_nothing(client, service):
    make_member(Role.SERVICE_USER, service, mobile="+447700900123")
    known = client.post(CODE_URL, {"phone": "07700900123"})
    MemorySMSClient.outbox.clear()
    client.logout()
    cache.clear()
    unknown = client.post(CODE_URL, {"phone": "07700900999"})
    assert unknown.status_code == known.status_code == 302
    assert unknown["Location"] == known["Location"]
    assert MemorySMSClient.outbox == []


@pytest.mark.parametrize(
    "typed", ["0113 496 0000", "12345", "not a number", "+1 202 555 0143", "07700 90"]
)
def test_malformed_or_non_mobile_numbers_get_a_clear_message(client, typed):
    response = client.post(CODE_URL, {"phone": typed})
    assert response.status_code == 200
    assert "Enter a UK mobile number" in response.content.decode()
    assert MemorySMSClient.outbox == []


def test_wrong_code_is_refused_and_a_reused_code_does_not_work(client, service):
    person = make_member(Role.SERVICE_USER, service, mobile="+447700900123")
    client.post(CODE_URL, {"phone": "07700900123"})
    code = sent_code()
    wrong = client.post(CONFIRM_URL, {"code": "WRONG1"})
    assert wrong.status_code == 200
    assert "Incorrect code" in wrong.content.decode() or "incorrect" in (
        wrong.content.decode().lower()
    )
    assert client.post(CONFIRM_URL, {"code": code}).status_code == 302
    client.logout()
    reused = client.post(CONFIRM_URL, {"code": code})
    assert reused.wsgi_request.user != person


def test_too_many_code_requests_for_one_number_are_refused_clearly(service):
    make_member(Role.SERVICE_USER, service, mobile="+447700900123")
    # Each attempt from a fresh browser session, as someone trying many times would.
    responses = [Client().post(CODE_URL, {"phone": "07700900123"}) for _ in range(6)]
    assert [r.status_code for r in responses] == [302, 302, 302, 200, 200, 200]
    assert len(MemorySMSClient.outbox) == 3, "only 3 codes a minute go to one number"
    assert "too many" in responses[-1].content.decode().lower()


def test_too_many_sign_in_attempts_from_one_address_answer_429(client):
    statuses = [
        client.post("/accounts/login/", {"login": "x@example.org", "password": "x"}).status_code
        for _ in range(35)
    ]
    assert 500 not in statuses
    assert statuses[-1] == 429
    limited = client.post("/accounts/login/", {"login": "x@example.org", "password": "x"})
    assert limited.status_code == 429
    assert "Too many attempts" in limited.content.decode()


def test_staff_must_enrol_an_authenticator_before_person_level_pages(client, service):
    make_member(Role.PEER_SUPPORT_WORKER, service, enrol_mfa=False, email="worker@example.org")
    signed_in = client.post(
        "/accounts/login/", {"login": "worker@example.org", "password": "test-password-123"}
    )
    assert signed_in.status_code == 302
    for path in ["/staff/people/", "/dashboard/", "/admin/", "/django-admin/"]:
        response = client.get(path)
        assert response.status_code == 302, path
        assert response["Location"].startswith("/accounts/2fa/totp/activate/"), path
    # Enrolment stays reachable, without asking for the password a second time.
    page = client.get("/accounts/2fa/totp/activate/")
    assert page.status_code == 200
    assert "code" in page.content.decode().lower()
    # So do public pages and the health check.
    assert client.get("/healthz/").status_code == 200


def test_staff_with_an_authenticator_reach_their_pages(client, service):
    worker = make_member(Role.PEER_SUPPORT_WORKER, service)
    assert Authenticator.objects.filter(user=worker).exists()
    client.force_login(worker)
    assert client.get("/staff/people/").status_code == 200


def test_service_users_are_never_asked_for_an_authenticator(client, service):
    person = make_member(Role.SERVICE_USER, service)
    client.force_login(person)
    assert client.get("/my/consents/").status_code == 200


def test_staff_password_sign_in_then_asks_for_the_authenticator_code(client, service):
    worker = make_member(Role.COORDINATOR, service, email="coord@example.org")
    response = client.post(
        "/accounts/login/", {"login": "coord@example.org", "password": "test-password-123"}
    )
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/2fa/authenticate/")
    assert client.get("/staff/people/").status_code == 302  # not signed in until the code
    assert "_auth_user_id" not in client.session or int(client.session["_auth_user_id"]) != (
        worker.pk
    )


def test_sign_in_errors_do_not_reveal_whether_an_account_exists(client, service):
    make_member(Role.COORDINATOR, service, email="coord@example.org")
    known = client.post("/accounts/login/", {"login": "coord@example.org", "password": "nope"})
    unknown = client.post("/accounts/login/", {"login": "who@example.org", "password": "nope"})
    assert known.status_code == unknown.status_code == 200
    strip = re.compile(
        r'name="csrfmiddlewaretoken" value="[^"]+"|value="[^"]*@example.org"|nonce="[^"]*"'
    )
    assert strip.sub("", known.content.decode()) == strip.sub("", unknown.content.decode())


def test_rate_limits_are_on_and_use_the_shared_cache(settings):
    assert settings.ACCOUNT_RATE_LIMITS["request_login_code"]
    assert settings.ACCOUNT_RATE_LIMITS["login_failed"]
    assert settings.ACCOUNT_PREVENT_ENUMERATION is True


def test_changing_sign_in_security_later_asks_for_the_password_again(client, service):
    coordinator = make_member(Role.COORDINATOR, service)  # already has an authenticator
    client.force_login(coordinator)
    response = client.get("/accounts/2fa/recovery-codes/generate/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/reauthenticate/")


def test_staff_signing_in_by_text_code_still_need_their_authenticator(client, service):
    coordinator = make_member(Role.COORDINATOR, service, mobile="+447700900444")
    client.post(CODE_URL, {"phone": "07700900444"})
    response = client.post(CONFIRM_URL, {"code": sent_code()})
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/2fa/authenticate/")
    assert client.get("/staff/people/").status_code == 302
    assert client.session.get("_auth_user_id") != str(coordinator.pk)
