"""Keep confirm-link tokens out of the logs. A token in ``/a/<token>/`` opens an
appointment's day, time and place, and Django's request logger writes the path of every 404,
410 and 429."""

from __future__ import annotations

import logging
import re

TOKEN_IN_PATH = re.compile(r"/a/[^/\s?#]+")


class HideLinkTokens(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if "/a/" in message:
            record.msg = TOKEN_IN_PATH.sub("/a/…", message)
            record.args = ()
        return True
