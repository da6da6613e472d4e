"""Twilio's two callbacks, signed for real with Twilio's own RequestValidator."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st
from twilio.request_validator import RequestValidator

from notifications import services
from notifications.models import DeliveryReport, InboundMessage, OutboundMessage
from notifications.sms import MemorySMSClient

from .world import appointment, committed, person

pytestmark = pytest.mark.django_db

TOKEN = "test-auth-token-0123456789abcdef"
STATUS_PATH = "/notifications/twilio/status/"
INBOUND_PATH = "/notifications/twilio/inbound/"


@pytest.fixture(autouse=True)
def twilio_token(settings):
    settings.TWILIO_AUTH_TOKEN = TOKEN
    settings.TWILIO_ACCOUNT_SID = "AC" + "0" * 32
    MemorySMSClient.outbox.clear()


def sign(path: str, params: dict, token: str = TOKEN) -> str:
    return RequestValidator(token).compute_signature(f"http://testserver{path}", params)


def post(client, path: str, params: dict, *, signature: str | None = "auto"):
    headers = {}
    if signature == "auto":
        signature = sign(path, params)
    if signature is not None:
        headers["HTTP_X_TWILIO_SIGNATURE"] = signature
    with committed():
        return client.post(path, params, **headers)


@pytest.mark.parametrize("path", [STATUS_PATH, INBOUND_PATH])
@pytest.mark.parametrize(
    "signature",
    [None, "", "bm90IGEgc2lnbmF0dXJl", "wrong-token"],
    ids=["missing", "empty", "garbage", "other-token"],
)
def test_a_missing_or_wrong_signature_is_refused_with_403(client, path, signature):
    params = {"MessageSid": "SM" + "a" * 32, "MessageStatus": "delivered", "From": "+447700900111"}
    if signature == "wrong-token":
        signature = sign(path, params, token="another-token")
    response = post(client, path, params, signature=signature)
    assert response.status_code == 403
    assert not InboundMessage.objects.exists()
    assert not DeliveryReport.objects.exists()


def test_a_signature_for_other_parameters_is_refused(client):
    signed = {"MessageSid": "SM" + "a" * 32, "From": "+447700900111", "Body": "yes"}
    tampered = {**signed, "Body": "STOP"}
    response = client.post(
        INBOUND_PATH, tampered, HTTP_X_TWILIO_SIGNATURE=sign(INBOUND_PATH, signed)
    )
    assert response.status_code == 403


def test_no_auth_token_configured_refuses_everything(client, settings):
    params = {"MessageSid": "SM" + "a" * 32, "From": "+447700900111", "Body": "yes"}
    signature = sign(INBOUND_PATH, params)
    settings.TWILIO_AUTH_TOKEN = ""
    assert post(client, INBOUND_PATH, params, signature=signature).status_code == 403


def test_get_is_not_allowed(client):
    assert client.get(INBOUND_PATH).status_code == 405


def test_a_signed_reply_is_recorded_once_and_confirms(client, service):
    record = person(service)
    appt = appointment(record, starts_at=timezone.now() + dt.timedelta(days=2))
    params = {"MessageSid": "SM" + "b" * 32, "From": record.mobile.as_e164, "Body": "YES"}
    for _ in range(3):
        response = post(client, INBOUND_PATH, params)
        assert response.status_code == 200
        assert response["Content-Type"].startswith("text/xml")
        assert b"<Response>" in response.content
    assert InboundMessage.objects.count() == 1
    appt.refresh_from_db()
    assert appt.reply_state == "confirmed"
    assert len(MemorySMSClient.outbox) == 1


def test_a_signed_status_callback_is_recorded(client, service):
    record = person(service)
    appt = appointment(record)
    services.reminders_sync(appointment_id=appt.pk)
    row = appt.reminders.first()
    OutboundMessage.objects.filter(pk=row.pk).update(
        status="sent", provider_sid="SM" + "c" * 32, delivery_status="queued"
    )
    for status in ["delivered", "sent", "delivered", "queued", "sent"]:
        params = {"MessageSid": "SM" + "c" * 32, "MessageStatus": status, "AccountSid": "AC1"}
        assert post(client, STATUS_PATH, params).status_code == 204
    row.refresh_from_db()
    assert row.delivery_status == "delivered"


@pytest.mark.parametrize("path", [STATUS_PATH, INBOUND_PATH])
def test_signed_but_incomplete_callbacks_get_a_plain_400(client, path):
    response = post(client, path, {"Body": "hello"})
    assert response.status_code == 400
    assert b"required" in response.content


FIELD_NAMES = st.sampled_from(
    ["MessageSid", "SmsSid", "From", "To", "Body", "MessageStatus", "ErrorCode", "AccountSid"]
)
TEXT = st.text(max_size=300)
BODIES = st.dictionaries(st.one_of(FIELD_NAMES, st.text(max_size=20)), TEXT, max_size=8)


@pytest.mark.parametrize("path", [STATUS_PATH, INBOUND_PATH])
@hsettings(
    max_examples=500,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(params=BODIES, signed=st.booleans())
def test_any_body_gets_a_clear_answer_never_a_500(client, path, params, signed):
    clean = {k: v for k, v in params.items() if "\x00" not in k + v}
    response = post(client, path, clean, signature="auto" if signed else None)
    assert response.status_code in {200, 204, 400, 403}
    if not signed:
        assert response.status_code == 403


@hsettings(
    max_examples=500,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    raw=st.binary(max_size=400),
    content_type=st.sampled_from(
        ["application/x-www-form-urlencoded", "multipart/form-data; boundary=x", "text/plain", ""]
    ),
)
def test_any_raw_bytes_get_a_clear_answer_never_a_500(client, raw, content_type):
    for path in (STATUS_PATH, INBOUND_PATH):
        response = client.generic(
            "POST", path, raw, content_type=content_type, HTTP_X_TWILIO_SIGNATURE="abc"
        )
        assert response.status_code in {400, 403}
