import shutil

import pytest

from notifications.sms import MemorySMSClient
from tests.conftest import in_ci
from tests.notifications.twilio_double import TwilioDouble
from tests.portal.conftest import other_service, service

__all__ = ["other_service", "service"]

DOUBLE_ACCOUNT_SID = "AC" + "d0" * 16
DOUBLE_AUTH_TOKEN = "double-token-" + "7" * 19
DOUBLE_MESSAGING_SERVICE_SID = "MG" + "5e" * 16
# The client's timeout in tests: short, so the hang faults cost a second each, not ten.
DOUBLE_CLIENT_TIMEOUT_SECONDS = 1.0


@pytest.fixture
def twilio_double(settings):
    """A Twilio double on a free loopback port, with the settings pointing the real SDK at
    it (Messaging Service sender). Faults hang for longer than the client waits."""
    double = TwilioDouble(
        account_sid=DOUBLE_ACCOUNT_SID,
        auth_token=DOUBLE_AUTH_TOKEN,
        hang_seconds=DOUBLE_CLIENT_TIMEOUT_SECONDS + 1,
    )
    double.start()
    settings.SMS_BACKEND = "twilio"
    settings.TWILIO_ACCOUNT_SID = DOUBLE_ACCOUNT_SID
    settings.TWILIO_AUTH_TOKEN = DOUBLE_AUTH_TOKEN
    settings.TWILIO_MESSAGING_SERVICE_SID = DOUBLE_MESSAGING_SERVICE_SID
    settings.TWILIO_FROM_NUMBER = ""
    settings.TWILIO_API_BASE_URL = double.base_url
    settings.TWILIO_HTTP_TIMEOUT_SECONDS = DOUBLE_CLIENT_TIMEOUT_SECONDS
    yield double
    double.stop()


@pytest.fixture
def node_required() -> None:
    """Node.js runs the text counter's JavaScript (static/notifications/sms-length.js). On a
    developer's machine without it those tests skip; in CI (CI=true) they fail instead, as
    .ci/run installs Debian's nodejs."""
    if shutil.which("node") is None:
        reason = "Node.js is not installed (apt-get install nodejs)"
        if in_ci():
            pytest.fail(f"{reason}; CI=true: the JavaScript tests must run in CI", pytrace=False)
        pytest.skip(reason)


@pytest.fixture
def empty_outbox():
    """The in-memory provider's outbox, empty before and after the test."""
    MemorySMSClient.outbox.clear()
    yield MemorySMSClient.outbox
    MemorySMSClient.outbox.clear()
