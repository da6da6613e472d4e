"""Replies to text messages: exact keywords only, however they are typed."""

from __future__ import annotations

import unicodedata

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from notifications.replies import (
    CHANGE_WORDS,
    CONFIRM_WORDS,
    HELP_WORDS,
    KEYWORDS,
    START_WORDS,
    STOP_WORDS,
    Intent,
    normalise,
    reply_intent,
)

PROPERTY = settings(max_examples=500, deadline=None)

CASES = [
    # Confirm
    ("YES", Intent.CONFIRM),
    ("yes", Intent.CONFIRM),
    (" Yes! ", Intent.CONFIRM),
    ("Y", Intent.CONFIRM),
    ("y.", Intent.CONFIRM),
    ("CONFIRM", Intent.CONFIRM),
    ("Confirm.", Intent.CONFIRM),
    ("yes 👍", Intent.CONFIRM),
    ("Ｙｅｓ", Intent.CONFIRM),  # fullwidth
    ("Y\u200bES", Intent.CONFIRM),  # zero-width space inside
    ("yes\n", Intent.CONFIRM),
    # Change
    ("NO", Intent.CHANGE),
    ("No.", Intent.CHANGE),
    ("n o", Intent.CHANGE),
    ("CHANGE", Intent.CHANGE),
    ("change!!", Intent.CHANGE),
    # Stop: every Twilio opt-out word
    ("STOP", Intent.STOP),
    ("S T O P", Intent.STOP),
    ("stop.", Intent.STOP),
    ("STOPALL", Intent.STOP),
    ("Stop all", Intent.STOP),
    ("UNSUBSCRIBE", Intent.STOP),
    ("Unsubscribe!", Intent.STOP),
    ("CANCEL", Intent.STOP),
    ("cancel", Intent.STOP),
    ("END", Intent.STOP),
    ("QUIT", Intent.STOP),
    ("REVOKE", Intent.STOP),
    ("OPTOUT", Intent.STOP),
    ("opt-out", Intent.STOP),
    ("Opt Out", Intent.STOP),
    ("ｓｔｏｐ", Intent.STOP),  # fullwidth
    ("🛑 STOP 🛑", Intent.STOP),
    # Start
    ("START", Intent.START),
    ("start", Intent.START),
    ("UNSTOP", Intent.START),
    ("un-stop", Intent.START),
    # Help
    ("HELP", Intent.HELP),
    ("help?", Intent.HELP),
    ("INFO", Intent.HELP),
    ("Info.", Intent.HELP),
    # Everything else is for a person to read
    ("", Intent.OTHER),
    ("   ", Intent.OTHER),
    ("!!!", Intent.OTHER),
    ("👍", Intent.OTHER),
    ("yes please", Intent.OTHER),
    ("Yes, see you then", Intent.OTHER),
    ("no thanks", Intent.OTHER),
    ("please stop", Intent.OTHER),
    ("stop texting me at work", Intent.OTHER),
    ("cancel my appointment", Intent.OTHER),
    ("yeah", Intent.OTHER),
    ("ok", Intent.OTHER),
    ("yes2", Intent.OTHER),
    ("STOP1", Intent.OTHER),
    ("ЅТОР", Intent.OTHER),  # Cyrillic letters that look Latin are not the keyword
    ("Hi it's Sam, running late", Intent.OTHER),
]


@pytest.mark.parametrize(("text", "expected"), CASES, ids=[repr(text) for text, _ in CASES])
def test_reply_intent(text, expected):
    assert reply_intent(text) is expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (" Yes! ", "yes"),
        ("S T O P", "stop"),
        ("Opt-Out", "optout"),
        ("Ｈｅｌｐ", "help"),
        ("a\u200bb\u200dc\ufeffd", "abcd"),
        ("2:30pm", "230pm"),
        ("Straße", "strasse"),
        ("❤️👍🏽", ""),
        ("", ""),
    ],
)
def test_normalise_keeps_only_letters_and_digits_casefolded(text, expected):
    assert normalise(text) == expected


def test_the_word_lists_are_the_agreed_ones():
    assert {"yes", "y", "confirm"} == CONFIRM_WORDS
    assert {"no", "change"} == CHANGE_WORDS
    assert {
        "stop",
        "stopall",
        "unsubscribe",
        "cancel",
        "end",
        "quit",
        "revoke",
        "optout",
    } == STOP_WORDS
    assert {"start", "unstop"} == START_WORDS
    assert {"help", "info"} == HELP_WORDS
    lists = [CONFIRM_WORDS, CHANGE_WORDS, STOP_WORDS, START_WORDS, HELP_WORDS]
    assert sum(len(words) for words in lists) == len(KEYWORDS)  # no word in two lists
    assert all(normalise(word) == word for word in KEYWORDS)


def test_cancel_is_an_opt_out_never_a_change():
    # Twilio blocks further messages after CANCEL whatever we record.
    assert reply_intent("CANCEL") is Intent.STOP
    assert "cancel" not in CHANGE_WORDS


# --- Properties ----------------------------------------------------------------------------


def has_letter_or_digit(char: str) -> bool:
    return any(c.isalnum() for c in unicodedata.normalize("NFKC", char).casefold())


separator = st.one_of(
    st.sampled_from([" ", "\t", "\n", ".", "!", "?", "-", ",", "'", "\u00a0", "\u200b", "👍"]),
    st.characters(categories=["P", "Zs", "Cf", "So"]).filter(
        lambda char: not has_letter_or_digit(char)
    ),
)


def fullwidth(char: str) -> str:
    return chr(ord(char) - ord("!") + 0xFF01)


@st.composite
def disguised_keyword(draw):
    """A keyword with its letters in any case or fullwidth, and separators anywhere."""
    word = draw(st.sampled_from(sorted(KEYWORDS)))
    out = [draw(st.text(separator, max_size=3))]
    for letter in word:
        style = draw(st.sampled_from([str.lower, str.upper, fullwidth]))
        out.append(style(letter))
        out.append(draw(st.text(separator, max_size=2)))
    return word, "".join(out)


@PROPERTY
@given(text=st.text())
def test_any_text_gives_an_intent(text):
    assert isinstance(reply_intent(text), Intent)


@PROPERTY
@given(keyword=disguised_keyword())
def test_case_spaces_and_punctuation_never_change_a_keyword(keyword):
    word, disguised = keyword
    assert reply_intent(disguised) is reply_intent(word) is KEYWORDS[word]


@PROPERTY
@given(text=st.text())
def test_text_that_is_not_a_keyword_is_other(text):
    if normalise(text) in KEYWORDS:
        assert reply_intent(text) is KEYWORDS[normalise(text)]
    else:
        assert reply_intent(text) is Intent.OTHER


@PROPERTY
@given(keyword=st.sampled_from(sorted(KEYWORDS)), extra=st.text(min_size=1))
def test_a_keyword_with_more_words_is_other(keyword, extra):
    text = f"{keyword} {extra}"
    if normalise(text) not in KEYWORDS:
        assert reply_intent(text) is Intent.OTHER


@PROPERTY
@given(text=st.text())
def test_normalise_is_idempotent_and_only_letters_and_digits(text):
    once = normalise(text)
    assert normalise(once) == once
    assert all(char.isalnum() for char in once)
