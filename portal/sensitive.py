"""Words a text message must never contain, because a shared or borrowed phone would tell
someone else about a person's health or contact with the justice system.

One list (``settings.SMS_SENSITIVE_WORDS``) for everything that can reach a text: the neutral
place label of an appointment (peer_support) and the message templates (notifications).
"""

from __future__ import annotations

import re
from functools import lru_cache

from django.conf import settings


@lru_cache(maxsize=8)
def _pattern(words: tuple[str, ...]) -> re.Pattern[str]:
    # Whole words, with an optional plural ending (-s, -es) only: "drug" catches "drugs",
    # "court" catches "courts", but "courtyard" and "Sectional" stay allowed. Other forms
    # ("alcoholic", "custodial") must be in the list themselves.
    alternatives = "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True))
    return re.compile(rf"\b({alternatives})(?:s|es)?\b", re.IGNORECASE)


def sensitive_words_in(text: str) -> list[str]:
    """The sensitive words found in ``text``, lower case, in order, without repeats."""
    words = tuple(w.strip().lower() for w in settings.SMS_SENSITIVE_WORDS if w.strip())
    if not words or not text:
        return []
    found: list[str] = []
    for match in _pattern(words).finditer(text):
        word = match.group(1).lower()
        if word not in found:
            found.append(word)
    return found
