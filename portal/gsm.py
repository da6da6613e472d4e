"""The characters a text message can carry in the GSM 03.38 7-bit alphabet, and the typographic
ones we turn into their plain GSM-7 equivalents.

A single character outside the alphabet makes a whole text UCS-2, which more than halves what
fits in one message: a place label typed as "St Mary’s Centre" (curly apostrophe) turned every
reminder for it into two. Text we fill into a message goes through :func:`typographic_to_gsm`
first (``notifications.templating.template_render``); a place label, typed by staff and sent in
every reminder, must be GSM-7 once that is done (``peer_support.forms.common``).

Here rather than in ``notifications`` because peer_support needs it too and imports only portal
(like ``sensitive.py``). ``notifications/gsm.py`` counts lengths and segments with this alphabet.
"""

from __future__ import annotations

import unicodedata

# The GSM 03.38 basic character set in table order, without 0x1B (the escape to the extension
# table, which is not a character anyone can type into a message).
GSM_BASIC_CHARS = (
    "@£$¥èéùìòÇ\nØø\rÅå"
    "Δ_ΦΓΛΩΠΨΣΘΞÆæßÉ"
    " !\"#¤%&'()*+,-./"
    "0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNO"
    "PQRSTUVWXYZÄÖÑÜ§"
    "¿abcdefghijklmno"
    "pqrstuvwxyzäöñüà"
)
# The extension table: each is sent as the escape plus one septet, so it counts twice.
GSM_EXTENSION_CHARS = "\f^{}\\[~]|€"

GSM_BASIC = frozenset(GSM_BASIC_CHARS)
GSM_EXTENSION = frozenset(GSM_EXTENSION_CHARS)
GSM_ALL = GSM_BASIC | GSM_EXTENSION

# Typographic characters that word processors, phones and web pages put in for plain ones,
# with the GSM-7 text a reader takes each for. Deliberately short and explicit: any other
# character is left as it is (a name keeps its letters; a place label is refused).
TYPOGRAPHIC_TO_GSM: dict[str, str] = {
    # Single quotes and apostrophes.
    "\u2018": "'",  # left single quotation mark
    "\u2019": "'",  # right single quotation mark, the curly apostrophe
    "\u201a": "'",  # single low-9 quotation mark
    "\u201b": "'",  # single high-reversed-9 quotation mark
    "\u2032": "'",  # prime
    "\u00b4": "'",  # acute accent, typed for an apostrophe
    "`": "'",  # grave accent, the same
    # Double quotes.
    "\u201c": '"',  # left double quotation mark
    "\u201d": '"',  # right double quotation mark
    "\u201e": '"',  # double low-9 quotation mark
    "\u201f": '"',  # double high-reversed-9 quotation mark
    "\u2033": '"',  # double prime
    # Hyphens and dashes.
    "\u2010": "-",  # hyphen
    "\u2011": "-",  # non-breaking hyphen
    "\u2012": "-",  # figure dash
    "\u2013": "-",  # en dash
    "\u2014": "-",  # em dash
    "\u2015": "-",  # horizontal bar
    "\u2212": "-",  # minus sign
    "\u2026": "...",  # horizontal ellipsis
    # Every Unicode space separator other than the plain space.
    "\u00a0": " ",  # no-break space
    "\u1680": " ",  # ogham space mark
    "\u2000": " ",  # en quad
    "\u2001": " ",  # em quad
    "\u2002": " ",  # en space
    "\u2003": " ",  # em space
    "\u2004": " ",  # three-per-em space
    "\u2005": " ",  # four-per-em space
    "\u2006": " ",  # six-per-em space
    "\u2007": " ",  # figure space
    "\u2008": " ",  # punctuation space
    "\u2009": " ",  # thin space
    "\u200a": " ",  # hair space
    "\u202f": " ",  # narrow no-break space
    "\u205f": " ",  # medium mathematical space
    "\u3000": " ",  # ideographic space
}
_TRANSLATION = str.maketrans(TYPOGRAPHIC_TO_GSM)


def typographic_to_gsm(text: str) -> str:
    """``text`` with each character of :data:`TYPOGRAPHIC_TO_GSM` replaced by its GSM-7 text.
    Everything else is left alone, so the result is GSM-7 only if the rest already was."""
    return text.translate(_TRANSLATION)


def first_non_gsm(text: str) -> str | None:
    """The first character that is not in the GSM alphabet (basic or extension), if any."""
    for char in text:
        if char not in GSM_ALL:
            return char
    return None


def non_gsm_characters(text: str) -> list[str]:
    """Each character of ``text`` outside the GSM alphabet, in order, without repeats."""
    return list(dict.fromkeys(char for char in text if char not in GSM_ALL))


def describe_character(char: str) -> str:
    """A character as staff can recognise it in a message: invisible ones (a no-break space, a
    tab, a zero-width space pasted from elsewhere) by code and name, the rest as themselves."""
    name = unicodedata.name(char, "").lower()
    if unicodedata.category(char)[0] in "CZ":
        code = f"U+{ord(char):04X}"
        return f"{code} ({name})" if name else code
    return f"{char} ({name})" if name else char
