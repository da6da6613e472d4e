import logging

from notifications.logfilters import HideLinkTokens


def test_confirm_link_tokens_are_hidden_from_log_lines():
    record = logging.LogRecord(
        "django.request",
        logging.WARNING,
        __file__,
        1,
        "Not Found: %s",
        ("/a/2s-Ab3dE6fG8hJ2/",),
        None,
    )
    assert HideLinkTokens().filter(record) is True
    assert record.getMessage() == "Not Found: /a/…/"


def test_other_lines_are_left_alone():
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "sms %s sent", (5,), None)
    HideLinkTokens().filter(record)
    assert record.getMessage() == "sms 5 sent"


def test_the_console_handler_uses_the_filter(settings):
    assert "hide_link_tokens" in settings.LOGGING["handlers"]["console"]["filters"]
