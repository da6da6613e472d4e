"""The suite-wide log scanner really catches personal data."""

import logging

from tests.conftest import PERSONAL_DATA_PATTERNS


def test_the_scanner_recognises_phone_numbers_emails_and_names():
    for leak in ["+447700900123", "07700 900123", "7700900123", "a.b@example.org", "Avery"]:
        assert any(p.search(leak) for p in PERSONAL_DATA_PATTERNS), leak
    for fine in ["user 12", "consent 7", "+441134960100"]:
        assert not any(p.search(fine) for p in PERSONAL_DATA_PATTERNS), fine


def test_the_scanner_sees_what_the_portal_logs(no_personal_data_in_logs):
    logging.getLogger("notifications.sms").info("sms sent for recipient %s", 42)
    assert no_personal_data_in_logs.lines[-1] == "notifications.sms: sms sent for recipient 42"
