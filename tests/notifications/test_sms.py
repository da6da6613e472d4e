"""The SMS providers. Twilio is exercised with its real SDK against the loopback double
(tests/notifications/twilio_double.py): nothing of the SDK or of ours is mocked."""

from __future__ import annotations

import contextlib
import json
import logging
import socket
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import requests
from django.utils.datastructures import MultiValueDict
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from twilio.request_validator import RequestValidator

from notifications import sms
from notifications.models import ConsoleMessage
from tests.notifications.conftest import DOUBLE_ACCOUNT_SID, DOUBLE_MESSAGING_SERVICE_SID
from tests.notifications.twilio_double import TwilioDouble

SAM = "+447700900123"
JORDAN = "+447700900456"
SENDER = "+447700900001"
BODY = "Hi Sam, see you Tuesday 4 March at 10:30 at the Riverside office. Reply YES or NO."
T = datetime(2025, 3, 10, 12, 0, 0, tzinfo=UTC)
DOUBLE_SCRIPT = Path(__file__).with_name("twilio_double.py")


def at(moment: datetime):
    return lambda: moment


# --- Sending with the real SDK ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("service_sid", "from_number", "expected_service", "expected_from"),
    [
        (DOUBLE_MESSAGING_SERVICE_SID, "", DOUBLE_MESSAGING_SERVICE_SID, None),
        (DOUBLE_MESSAGING_SERVICE_SID, SENDER, DOUBLE_MESSAGING_SERVICE_SID, None),
        ("", SENDER, None, SENDER),
    ],
)
def test_send_uses_the_messaging_service_when_set_else_the_from_number(
    twilio_double, settings, service_sid, from_number, expected_service, expected_from
):
    settings.TWILIO_MESSAGING_SERVICE_SID = service_sid
    settings.TWILIO_FROM_NUMBER = from_number

    result = sms.TwilioSMSClient().send(to=SAM, body=BODY)

    [message] = twilio_double.messages
    assert (message["to"], message["body"]) == (SAM, BODY)
    assert message["messaging_service_sid"] == expected_service
    assert message["from"] == expected_from
    assert result == sms.SMSResult("twilio", message["sid"], "queued")
    assert result.provider_id.startswith("SM") and len(result.provider_id) == 34


@pytest.mark.parametrize("callback", ["https://portal.example.org/notifications/status/", None])
def test_send_passes_the_status_callback_only_when_given(twilio_double, callback):
    sms.TwilioSMSClient().send(to=SAM, body=BODY, status_callback=callback)

    [message] = twilio_double.messages
    assert message["status_callback"] == callback


def test_send_sms_goes_through_twilio_when_it_is_the_backend(twilio_double):
    result = sms.send_sms(
        to=SAM, body=BODY, recipient_id=7, status_callback="https://portal.example.org/cb/"
    )

    assert result.provider == "twilio"
    assert [(m["sid"], m["status_callback"]) for m in twilio_double.messages] == [
        (result.provider_id, "https://portal.example.org/cb/")
    ]


def test_one_sdk_client_and_one_kept_alive_connection_serve_many_sends(twilio_double):
    first, second = sms.TwilioSMSClient(), sms.TwilioSMSClient()
    for n in range(5):
        (first if n % 2 else second).send(to=SAM, body=f"{BODY} {n}")

    assert first._rest is second._rest
    assert twilio_double.create_requests == 5
    assert twilio_double.connections == 1


def test_a_proxy_in_the_environment_is_used(twilio_double, settings, monkeypatch):
    # The double stands in for the proxy: a request for the (unresolvable) API host reaches
    # it only through HTTP_PROXY. Read once, when the client is made.
    for name in ("NO_PROXY", "no_proxy", "http_proxy"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HTTP_PROXY", twilio_double.base_url)
    settings.TWILIO_API_BASE_URL = "http://api.twilio.invalid"

    result = sms.TwilioSMSClient().send(to=SAM, body=BODY)

    assert [m["sid"] for m in twilio_double.messages] == [result.provider_id]


def test_no_proxy_in_the_environment_is_respected(twilio_double, monkeypatch):
    for name in ("NO_PROXY", "no_proxy", "http_proxy"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HTTP_PROXY", "http://127.0.0.1:9")  # nothing listens on port 9
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")

    sms.TwilioSMSClient().send(to=SAM, body=BODY)  # straight to the double

    assert len(twilio_double.messages) == 1


def test_changed_settings_get_a_client_of_their_own(twilio_double, settings):
    before = sms.TwilioSMSClient()._rest
    settings.TWILIO_HTTP_TIMEOUT_SECONDS = 2.0

    assert sms.TwilioSMSClient()._rest is not before


def test_a_wrong_auth_token_is_a_permanent_error_with_http_401(twilio_double, settings):
    settings.TWILIO_AUTH_TOKEN = "not-the-token"

    with pytest.raises(sms.SMSPermanentError) as raised:
        sms.TwilioSMSClient().send(to=SAM, body=BODY)

    assert (raised.value.http_status, raised.value.code) == (401, "20003")
    assert twilio_double.messages == []


# --- Errors -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fault", "error_class", "http_status", "code", "recorded"),
    [
        ("status_429", sms.SMSTemporaryError, 429, "20429", 0),
        ("status_500", sms.SMSTemporaryError, 500, "20500", 0),
        ("status_503", sms.SMSTemporaryError, 503, "20503", 0),
        ("error_code:20429", sms.SMSTemporaryError, 400, "20429", 0),
        ("reset_before", sms.SMSOutcomeUnknown, None, "", 0),
        ("reset_after", sms.SMSOutcomeUnknown, None, "", 1),
        ("hang_before", sms.SMSOutcomeUnknown, None, "", 0),
        ("hang_after", sms.SMSOutcomeUnknown, None, "", 1),
        ("error_code:21610", sms.SMSPermanentError, 400, "21610", 0),
        ("error_code:21408", sms.SMSPermanentError, 400, "21408", 0),
    ],
)
def test_each_fault_raises_the_error_that_says_what_to_do_next(
    twilio_double, fault, error_class, http_status, code, recorded
):
    twilio_double.add_faults(fault)

    with pytest.raises(sms.SMSError) as raised:
        sms.TwilioSMSClient().send(to=SAM, body=BODY)

    assert type(raised.value) is error_class
    assert (raised.value.http_status, raised.value.code) == (http_status, code)
    assert len(twilio_double.messages) == recorded
    assert twilio_double.create_requests == 1, "the SDK must not retry on its own"


def test_the_next_send_after_a_fault_goes_through(twilio_double):
    twilio_double.add_faults("reset_after", "status_503")
    client = sms.TwilioSMSClient()
    for _ in range(2):
        with pytest.raises(sms.SMSError):
            client.send(to=SAM, body=BODY)

    result = client.send(to=SAM, body=BODY)

    assert twilio_double.count_by_body() == {BODY: 2}
    assert result.provider_id == twilio_double.messages[-1]["sid"]


@pytest.mark.parametrize(
    ("code", "error_class"),
    [
        (21610, sms.SMSPermanentError),  # replied STOP
        (21211, sms.SMSPermanentError),  # invalid 'To'
        (21612, sms.SMSPermanentError),  # unreachable 'To'
        (21614, sms.SMSPermanentError),  # not a mobile
        (30007, sms.SMSPermanentError),  # any other 4xx
        (20429, sms.SMSTemporaryError),  # too many requests, even as a 400
    ],
)
def test_a_number_the_provider_refuses_maps_its_code(twilio_double, code, error_class):
    twilio_double.set_number_error(SAM, code)

    with pytest.raises(sms.SMSError) as raised:
        sms.TwilioSMSClient().send(to=SAM, body=BODY)

    assert type(raised.value) is error_class
    assert (raised.value.code, raised.value.http_status) == (str(code), 400)


@pytest.mark.parametrize(
    ("to", "body", "service_sid", "code"),
    [
        ("07700900123", BODY, DOUBLE_MESSAGING_SERVICE_SID, "21211"),
        (SAM, "", DOUBLE_MESSAGING_SERVICE_SID, "21602"),
        (SAM, BODY, "", "21603"),
    ],
)
def test_a_request_twilio_would_reject_is_permanent(
    twilio_double, settings, to, body, service_sid, code
):
    settings.TWILIO_MESSAGING_SERVICE_SID = service_sid

    with pytest.raises(sms.SMSPermanentError) as raised:
        sms.TwilioSMSClient().send(to=to, body=body)

    assert raised.value.code == code
    assert twilio_double.messages == []


def test_refused_connection_is_temporary(twilio_double, settings):
    with socket.socket() as spare:
        spare.bind(("127.0.0.1", 0))
        port = spare.getsockname()[1]
    settings.TWILIO_API_BASE_URL = f"http://127.0.0.1:{port}"  # nothing listens there now

    with pytest.raises(sms.SMSTemporaryError) as raised:
        sms.TwilioSMSClient().send(to=SAM, body=BODY)

    assert raised.value.http_status is None


def test_connect_timeout_is_temporary(twilio_double, settings):
    # A listener that never accepts, its queue filled: the kernel drops our SYN, so the
    # connection is never made and the request never leaves.
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(0)
    port = listener.getsockname()[1]
    fillers = []
    for _ in range(3):
        filler = socket.socket()
        filler.setblocking(False)
        with contextlib.suppress(BlockingIOError):
            filler.connect(("127.0.0.1", port))
        fillers.append(filler)
    settings.TWILIO_API_BASE_URL = f"http://127.0.0.1:{port}"
    settings.TWILIO_HTTP_TIMEOUT_SECONDS = 0.5
    try:
        with pytest.raises(sms.SMSTemporaryError):
            sms.TwilioSMSClient().send(to=SAM, body=BODY)
    finally:
        for filler in fillers:
            filler.close()
        listener.close()


# --- Delivery states --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("provider_status", "state"),
    [
        ("accepted", "queued"),
        ("scheduled", "queued"),
        ("queued", "queued"),
        ("sending", "queued"),
        ("sent", "sent"),
        ("partially_delivered", "sent"),
        ("delivered", "delivered"),
        ("read", "delivered"),
        ("undelivered", "undelivered"),
        ("failed", "failed"),
        ("canceled", "failed"),
        ("  Delivered ", "delivered"),
        ("SENT", "sent"),
        ("receiving", None),
        ("received", None),
        ("", None),
        ("lost-in-the-post", None),
    ],
)
def test_delivery_state_maps_twilio_words_to_ours(provider_status, state):
    assert sms.delivery_state(provider_status) == state


@hypothesis_settings(max_examples=500, deadline=None)
@given(st.text(max_size=30))
def test_delivery_state_is_one_of_ours_or_none_for_any_text(word):
    assert sms.delivery_state(word) in (*sms.DELIVERY_STATES, None)


# --- Reconciling: find_sent -------------------------------------------------------------------


def send_at(double: TwilioDouble, moment: datetime, *, to: str, body: str) -> str:
    double.clock = at(moment)
    return sms.TwilioSMSClient().send(to=to, body=body).provider_id


@pytest.mark.parametrize(
    "since",
    [
        T,
        T + timedelta(microseconds=400_000),  # Twilio's timestamps have whole seconds
        T.astimezone(ZoneInfo("Europe/London")),
        (T + timedelta(microseconds=600_000)).astimezone(ZoneInfo("America/New_York")),
    ],
)
def test_twilio_find_sent_finds_exactly_the_matching_message(twilio_double, since):
    send_at(twilio_double, T - timedelta(seconds=1), to=SAM, body=BODY)  # earlier, same day
    send_at(twilio_double, T + timedelta(seconds=5), to=JORDAN, body=BODY)  # other number
    send_at(twilio_double, T + timedelta(seconds=5), to=SAM, body=BODY + "!")  # other body
    wanted = send_at(twilio_double, T, to=SAM, body=BODY)

    found = sms.TwilioSMSClient().find_sent(to=SAM, body=BODY, since=since)

    assert found == sms.SMSResult("twilio", wanted, "queued")


def test_twilio_find_sent_ignores_a_message_from_before_since(twilio_double):
    send_at(twilio_double, T - timedelta(seconds=1), to=SAM, body=BODY)

    assert sms.TwilioSMSClient().find_sent(to=SAM, body=BODY, since=T) is None


def test_twilio_find_sent_reads_past_the_first_page(twilio_double):
    wanted = send_at(twilio_double, T, to=SAM, body=BODY)
    twilio_double.clock = at(T + timedelta(minutes=1))
    client = sms.TwilioSMSClient()
    for n in range(sms.FIND_SENT_PAGE_SIZE + 20):
        client.send(to=SAM, body=f"Reminder {n}")

    found = client.find_sent(to=SAM, body=BODY, since=T)

    assert found is not None and found.provider_id == wanted


def test_twilio_find_sent_after_a_reset_finds_the_message_twilio_kept(twilio_double):
    twilio_double.add_faults("reset_after")
    since = datetime.now(UTC)
    client = sms.TwilioSMSClient()
    with pytest.raises(sms.SMSOutcomeUnknown):
        client.send(to=SAM, body=BODY)

    found = client.find_sent(to=SAM, body=BODY, since=since)

    assert found is not None and found.provider_id == twilio_double.messages[0]["sid"]


@pytest.mark.parametrize("breakage", ["stopped", "wrong_token"])
def test_twilio_find_sent_is_temporary_when_twilio_cannot_be_asked(
    twilio_double, settings, breakage
):
    send_at(twilio_double, T, to=SAM, body=BODY)
    if breakage == "stopped":
        twilio_double.stop()
    else:
        settings.TWILIO_AUTH_TOKEN = "not-the-token"

    with pytest.raises(sms.SMSTemporaryError):
        sms.TwilioSMSClient().find_sent(to=SAM, body=BODY, since=T)


def three_alike(client: sms.SMSClient, move_to) -> list[str]:
    """The same text to the same number at T, T + 2 h and T + 4 h, as an appointment's three
    reminders are: their texts read alike."""
    sids = []
    for hours in (0, 2, 4):
        move_to(T + timedelta(hours=hours))
        sids.append(client.send(to=SAM, body=BODY).provider_id)
    return sids


@pytest.mark.django_db
@pytest.mark.parametrize("client_class", [sms.ConsoleSMSClient, sms.MemorySMSClient, "twilio"])
def test_find_sent_takes_the_first_match_in_its_window_and_passes_over_known_ones(
    client_class, twilio_double, time_machine, capsys
):
    sms.MemorySMSClient.outbox.clear()
    if client_class == "twilio":
        client: sms.SMSClient = sms.TwilioSMSClient()

        def move_to(moment: datetime) -> None:
            twilio_double.clock = at(moment)
    else:
        client = client_class()

        def move_to(moment: datetime) -> None:
            time_machine.move_to(moment, tick=False)

    first, second, third = three_alike(client, move_to)
    window = {"since": T - timedelta(seconds=5), "until": T + timedelta(seconds=90)}

    # A reconcile that runs hours late still finds the text of its own claim...
    assert client.find_sent(to=SAM, body=BODY, **window).provider_id == first
    # ...never a later reminder's, though the text is the same...
    later = {"since": T + timedelta(hours=1), "until": T + timedelta(hours=3)}
    assert client.find_sent(to=SAM, body=BODY, **later).provider_id == second
    # ...and not one another row has recorded already.
    assert client.find_sent(to=SAM, body=BODY, **window, exclude={first}) is None
    everything = {"since": T - timedelta(seconds=5)}
    assert client.find_sent(to=SAM, body=BODY, **everything).provider_id == first
    found = client.find_sent(to=SAM, body=BODY, **everything, exclude={first, second})
    assert found.provider_id == third
    capsys.readouterr()
    sms.MemorySMSClient.outbox.clear()


@pytest.mark.parametrize("client_class", [sms.MemorySMSClient, sms.TwilioSMSClient])
def test_find_sent_refuses_a_naive_since(twilio_double, client_class):
    with pytest.raises(ValueError, match="aware"):
        client_class().find_sent(to=SAM, body=BODY, since=datetime(2025, 3, 10, 12, 0))


@pytest.mark.django_db
def test_console_find_sent_looks_up_what_the_console_kept(time_machine, capsys):
    client = sms.ConsoleSMSClient()
    time_machine.move_to(T - timedelta(seconds=1), tick=False)
    client.send(to=SAM, body=BODY)  # too early
    time_machine.move_to(T + timedelta(seconds=3), tick=False)
    client.send(to=JORDAN, body=BODY)
    client.send(to=SAM, body="Something else")
    wanted = client.send(to=SAM, body=BODY)
    capsys.readouterr()

    assert client.find_sent(to=SAM, body=BODY, since=T) == wanted
    assert client.find_sent(to=SAM, body=BODY, since=T + timedelta(seconds=4)) is None
    assert ConsoleMessage.objects.count() == 4


def test_memory_find_sent_searches_what_it_kept(time_machine):
    sms.MemorySMSClient.outbox.clear()
    client = sms.MemorySMSClient()
    time_machine.move_to(T - timedelta(seconds=1), tick=False)
    client.send(to=SAM, body=BODY)  # too early
    time_machine.move_to(T + timedelta(seconds=3), tick=False)
    client.send(to=JORDAN, body=BODY)
    client.send(to=SAM, body="Something else")
    wanted = client.send(to=SAM, body=BODY, recipient_id=5)

    assert client.find_sent(to=SAM, body=BODY, since=T) == wanted
    assert client.find_sent(to=SAM, body=BODY, since=T + timedelta(seconds=4)) is None
    # What other tests compare stays comparable on (to, body, recipient_id) alone.
    assert sms.MemorySMSClient.outbox[-1] == sms.SentMessage(SAM, BODY, 5)
    sms.MemorySMSClient.outbox.clear()


# --- No personal data in logs -----------------------------------------------------------------


def test_nothing_logged_names_the_number_or_the_text(twilio_double, caplog):
    caplog.set_level(logging.DEBUG)
    client = sms.TwilioSMSClient()
    client.send(to=SAM, body=BODY)
    twilio_double.add_faults("status_503", "reset_after", "error_code:21211")
    for _ in range(3):
        with pytest.raises(sms.SMSError):
            client.send(to=SAM, body=BODY)
    with pytest.raises(sms.SMSPermanentError) as invalid:
        client.send(to="07700900999", body=BODY)  # Twilio's answer repeats the number
    client.find_sent(to=SAM, body=BODY, since=T)
    sms.send_sms(to=SAM, body=BODY, recipient_id=3)

    formatter = logging.Formatter()
    logged = [r.getMessage() for r in caplog.records] + [
        formatter.formatException(r.exc_info) for r in caplog.records if r.exc_info
    ]
    assert any("urllib3" in r.name for r in caplog.records), "the HTTP layer was not heard"
    for text in logged:
        assert "7700900" not in text and "Riverside" not in text, text
    assert "7700900" not in str(invalid.value)
    # Raised "from None": a logged traceback must not print the SDK's error, which has it.
    assert invalid.value.__cause__ is None and invalid.value.__suppress_context__


# --- Webhook signatures -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("signed", "received", "token", "valid"),
    [
        ({"MessageSid": ["SM1"], "MessageStatus": ["sent"]}, None, "token-1", True),
        (
            {"MessageSid": ["SM1"], "MessageStatus": ["sent"]},
            {"MessageSid": "SM1"},
            "token-1",
            False,
        ),
        ({"MessageSid": ["SM1"], "MessageStatus": ["sent"]}, None, "token-2", False),
        ({"MessageSid": ["SM1"], "MessageStatus": ["sent"]}, None, "", False),
        (
            {"Body": ["YES", "NO"], "From": [SAM]},
            {"Body": ["YES", "NO"], "From": SAM},
            "token-1",
            True,
        ),
        ({"Body": ["YES", "NO"], "From": [SAM]}, {"Body": "YES", "From": SAM}, "token-1", False),
    ],
)
def test_signature_is_valid_only_for_what_twilio_signed(settings, signed, received, token, valid):
    settings.TWILIO_AUTH_TOKEN = token
    url = "https://portal.example.org/notifications/twilio/status/"
    signature = RequestValidator("token-1").compute_signature(url, MultiValueDict(signed))
    if received is None:
        received = {key: values[0] for key, values in signed.items()}

    assert sms.signature_is_valid(url=url, params=received, signature=signature) is valid


# --- The double on its own --------------------------------------------------------------------


def test_double_fetches_one_message_and_pages_a_filtered_list(twilio_double):
    client = sms.TwilioSMSClient()
    sids = [client.send(to=SAM, body=f"{BODY} {n}").provider_id for n in range(3)]
    client.send(to=JORDAN, body=BODY)
    auth = (DOUBLE_ACCOUNT_SID, twilio_double.auth_token)
    base = f"{twilio_double.base_url}/2010-04-01/Accounts/{DOUBLE_ACCOUNT_SID}/Messages"

    one = requests.get(f"{base}/{sids[1]}.json", auth=auth, timeout=5).json()
    page = requests.get(f"{base}.json", params={"To": SAM, "PageSize": 2}, auth=auth, timeout=5)
    dated = requests.get(f"{base}.json", params={"DateSent>": "2000-01-01"}, auth=auth, timeout=5)

    assert one["sid"] == sids[1] and one["body"] == f"{BODY} 1"
    assert [m["sid"] for m in page.json()["messages"]] == sids[:0:-1]  # newest first
    assert page.json()["next_page_uri"].endswith("Page=1&PageToken=PA1")
    assert dated.json()["messages"] == []  # nothing is "sent" until Twilio hands it on


def test_double_runs_as_a_process_controlled_over_http(settings):
    process = subprocess.Popen(
        [
            sys.executable,
            str(DOUBLE_SCRIPT),
            "--port",
            "0",
            "--account-sid",
            DOUBLE_ACCOUNT_SID,
            "--auth-token",
            "process-token",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        ready = process.stdout.readline().split()
        assert ready[0] == "READY", ready
        base_url = ready[1]
        settings.SMS_BACKEND = "twilio"
        settings.TWILIO_ACCOUNT_SID = DOUBLE_ACCOUNT_SID
        settings.TWILIO_AUTH_TOKEN = "process-token"
        settings.TWILIO_MESSAGING_SERVICE_SID = DOUBLE_MESSAGING_SERVICE_SID
        settings.TWILIO_API_BASE_URL = base_url
        settings.TWILIO_HTTP_TIMEOUT_SECONDS = 2.0
        control = requests.Session()
        faults = control.post(f"{base_url}/_double/faults", json=["status_429"], timeout=5)
        refusals = control.post(
            f"{base_url}/_double/number_errors", json={JORDAN: 21610}, timeout=5
        )
        assert (faults.status_code, refusals.status_code) == (200, 200)

        client = sms.get_sms_client()
        with pytest.raises(sms.SMSTemporaryError):
            client.send(to=SAM, body=BODY)
        with pytest.raises(sms.SMSPermanentError):
            client.send(to=JORDAN, body=BODY)
        sent = sms.send_sms(to=SAM, body=BODY)
        listed = control.get(f"{base_url}/_double/messages", timeout=5).json()
        stats = control.get(f"{base_url}/_double/stats", timeout=5).json()
        control.post(f"{base_url}/_double/reset", timeout=5)
        after_reset = control.get(f"{base_url}/_double/messages", timeout=5).json()
        bad_fault = control.post(f"{base_url}/_double/faults", json=["meteor"], timeout=5)

        assert [(m["sid"], m["to"], m["body"]) for m in listed] == [(sent.provider_id, SAM, BODY)]
        assert (stats["messages"], stats["create_requests"], stats["duplicated_bodies"]) == (
            1,
            3,
            0,
        )
        assert after_reset == []
        assert bad_fault.status_code == 400 and "meteor" in json.dumps(bad_fault.json())
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_double_stops_promptly_while_a_request_hangs(twilio_double):
    twilio_double.hang_seconds = 30
    twilio_double.add_faults("hang_after")
    with pytest.raises(sms.SMSOutcomeUnknown):
        sms.TwilioSMSClient().send(to=SAM, body=BODY)

    started = time.monotonic()
    twilio_double.stop()

    assert time.monotonic() - started < 5


def test_send_sms_answers_none_instead_of_raising_when_the_provider_fails(twilio_double, caplog):
    """Direct texts (sign-in codes, notices) never turn a provider fault into a 500."""
    twilio_double.add_faults("status_500")
    twilio_double.set_number_error(JORDAN, 21610)
    assert sms.send_sms(to=SAM, body=BODY, recipient_id=7) is None
    assert sms.send_sms(to=JORDAN, body=BODY, recipient_id=8) is None
    assert "recipient 7 not sent" in caplog.text
    assert SAM not in caplog.text and JORDAN not in caplog.text
