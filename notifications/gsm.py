"""How long a text message is, counted the way phone networks bill it.

A text is sent in the GSM 03.38 7-bit alphabet when every character is in it, and otherwise in
UCS-2 (UTF-16), which more than halves what fits in one message: a single curly quote pasted
from a word processor turns a 160-character text into three. Staff see these numbers while they
write templates, and the template linter refuses anything that would not fit in one message.

The alphabet itself, and the typographic characters turned into plain ones before a value goes
into a text, are in ``portal/gsm.py`` (peer_support checks place labels against them and
cannot import notifications); they are imported here so this stays the one place to ask.

``static/notifications/sms-length.js`` counts the same way for the editor; a test reads its
tables and checks they equal the ones here, so the two cannot drift apart.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

from portal.gsm import GSM_ALL as GSM_ALL
from portal.gsm import GSM_BASIC as GSM_BASIC
from portal.gsm import GSM_BASIC_CHARS as GSM_BASIC_CHARS
from portal.gsm import GSM_EXTENSION as GSM_EXTENSION
from portal.gsm import GSM_EXTENSION_CHARS as GSM_EXTENSION_CHARS
from portal.gsm import TYPOGRAPHIC_TO_GSM as TYPOGRAPHIC_TO_GSM
from portal.gsm import describe_character as describe_character
from portal.gsm import first_non_gsm as first_non_gsm
from portal.gsm import non_gsm_characters as non_gsm_characters
from portal.gsm import typographic_to_gsm as typographic_to_gsm

Encoding = Literal["GSM-7", "UCS-2"]

GSM_7: Encoding = "GSM-7"
UCS_2: Encoding = "UCS-2"

# What fits in one message, and in each part of a longer one (the rest carries the header
# that lets the phone join the parts back together).
SINGLE_LIMIT: dict[Encoding, int] = {GSM_7: 160, UCS_2: 70}
PART_LIMIT: dict[Encoding, int] = {GSM_7: 153, UCS_2: 67}


@dataclass(frozen=True)
class SmsLength:
    encoding: Encoding
    length: int
    segments: int
    limit_single: int
    # The first character that forced UCS-2, so a message can say what to replace.
    non_gsm_character: str | None = None

    @property
    def fits_in_one(self) -> bool:
        return self.segments <= 1


def encoding(text: str) -> Encoding:
    return GSM_7 if first_non_gsm(text) is None else UCS_2


def _utf16_units(text: str) -> int:
    # Characters beyond the Basic Multilingual Plane (most emoji) take a surrogate pair. Counted
    # by code point rather than by encoding, so a lone surrogate counts 1 (as in JavaScript)
    # instead of raising.
    return sum(2 if ord(char) > 0xFFFF else 1 for char in text)


def _septets(text: str) -> int:
    return sum(2 if char in GSM_EXTENSION else 1 for char in text)


def _length(text: str, enc: Encoding) -> int:
    return _septets(text) if enc == GSM_7 else _utf16_units(text)


def length(text: str) -> int:
    """Septets for GSM-7 (extension characters count 2); UTF-16 code units for UCS-2."""
    return _length(text, encoding(text))


def _segments(size: int, enc: Encoding) -> int:
    if size == 0:
        return 0
    if size <= SINGLE_LIMIT[enc]:
        return 1
    return math.ceil(size / PART_LIMIT[enc])


def segments(text: str) -> int:
    """How many messages the network sends (and the provider bills) for ``text``."""
    enc = encoding(text)
    return _segments(_length(text, enc), enc)


def measure(text: str) -> SmsLength:
    odd_one = first_non_gsm(text)
    enc = GSM_7 if odd_one is None else UCS_2
    size = _length(text, enc)
    return SmsLength(
        encoding=enc,
        length=size,
        segments=_segments(size, enc),
        limit_single=SINGLE_LIMIT[enc],
        non_gsm_character=odd_one,
    )
