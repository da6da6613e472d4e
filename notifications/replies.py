"""What a text message reply means.

People reply from any phone in any style: " Yes! ", "y.", "S T O P", "Opt-out", a keyword in
fullwidth letters, or with an emoji after it. Only an exact keyword counts once spaces,
punctuation and case are set aside; "yes please" or "stop texting me at work" is left for a
person to read (OTHER), never guessed at.

The opt-out words are the ones Twilio acts on itself for a long code (it stops delivering
after any of them, whatever we do), so we record an opt-out for each of them. CANCEL is one: it
can never mean "cancel my appointment" here. We read more loosely than Twilio ("S T O P" stops
us, not Twilio), which errs towards sending nothing. Twilio also treats YES as opting back in;
here YES only confirms, and only START or UNSTOP undo an opt-out.
"""

from __future__ import annotations

import unicodedata
from enum import StrEnum


class Intent(StrEnum):
    CONFIRM = "confirm"
    CHANGE = "change"
    STOP = "stop"
    START = "start"
    HELP = "help"
    OTHER = "other"


# Each word as it is after normalise(): lower case, letters and digits only.
CONFIRM_WORDS = frozenset({"yes", "y", "confirm"})
CHANGE_WORDS = frozenset({"no", "change"})
STOP_WORDS = frozenset(
    {"stop", "stopall", "unsubscribe", "cancel", "end", "quit", "revoke", "optout"}
)
START_WORDS = frozenset({"start", "unstop"})
HELP_WORDS = frozenset({"help", "info"})

KEYWORDS: dict[str, Intent] = {
    word: intent
    for words, intent in (
        (CONFIRM_WORDS, Intent.CONFIRM),
        (CHANGE_WORDS, Intent.CHANGE),
        (STOP_WORDS, Intent.STOP),
        (START_WORDS, Intent.START),
        (HELP_WORDS, Intent.HELP),
    )
    for word in words
}


def normalise(text: str) -> str:
    """Only the letters and digits of ``text``, case-folded.

    NFKC first, so fullwidth or styled letters (Ｓ, ｓ) count as the letters they look like.
    Spaces, punctuation, emoji and invisible characters (zero-width spaces, joiners, variation
    selectors) are all dropped.
    """
    folded = unicodedata.normalize("NFKC", text).casefold()
    return "".join(char for char in folded if unicodedata.category(char)[0] in "LN")


def reply_intent(text: str) -> Intent:
    return KEYWORDS.get(normalise(text), Intent.OTHER)
