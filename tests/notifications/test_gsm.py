"""Text message length: GSM-7 or UCS-2, septets or UTF-16 units, and the editor's copy in JS."""

from __future__ import annotations

import json
import random
import re
import shutil
import subprocess
import unicodedata
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from notifications.gsm import (
    GSM_ALL,
    GSM_BASIC,
    GSM_BASIC_CHARS,
    GSM_EXTENSION,
    GSM_EXTENSION_CHARS,
    PART_LIMIT,
    SINGLE_LIMIT,
    TYPOGRAPHIC_TO_GSM,
    SmsLength,
    describe_character,
    encoding,
    first_non_gsm,
    length,
    measure,
    non_gsm_characters,
    segments,
    typographic_to_gsm,
)

JS_FILE = Path(__file__).resolve().parents[2] / "notifications/static/notifications/sms-length.js"
PROPERTY = settings(max_examples=500, deadline=None)

# (id, text, encoding, length, segments)
CASES = [
    ("empty", "", "GSM-7", 0, 0),
    ("one letter", "a", "GSM-7", 1, 1),
    ("160 basic is one message", "a" * 160, "GSM-7", 160, 1),
    ("161 basic is two", "a" * 161, "GSM-7", 161, 2),
    ("306 basic is two", "a" * 306, "GSM-7", 306, 2),
    ("307 basic is three", "a" * 307, "GSM-7", 307, 3),
    ("459 basic is three", "a" * 459, "GSM-7", 459, 3),
    ("460 basic is four", "a" * 460, "GSM-7", 460, 4),
    ("80 euro signs are 160", "€" * 80, "GSM-7", 160, 1),
    ("80 euro signs and a letter are 161", "€" * 80 + "a", "GSM-7", 161, 2),
    ("159 letters and a brace are 161", "a" * 159 + "{", "GSM-7", 161, 2),
    ("158 letters and a brace are 160", "a" * 158 + "{", "GSM-7", 160, 1),
    ("every extension char counts two", GSM_EXTENSION_CHARS, "GSM-7", 20, 1),
    ("form feed is an extension char", "\f", "GSM-7", 2, 1),
    ("line breaks are basic", "a\r\nb\n", "GSM-7", 5, 1),
    ("accents in the basic set", "Café à Ñoño Ü", "GSM-7", 13, 1),
    ("Greek capitals are basic", "ΔΦΓΛΩΠΨΣΘΞ", "GSM-7", 10, 1),
    ("the escape itself is not a character", "\x1b", "UCS-2", 1, 1),
    ("curly apostrophe", "It’s", "UCS-2", 4, 1),
    ("70 curly quotes are one message", "’" * 70, "UCS-2", 70, 1),
    ("71 curly quotes are two", "’" * 71, "UCS-2", 71, 2),
    ("134 curly quotes are two", "’" * 134, "UCS-2", 134, 2),
    ("135 curly quotes are three", "’" * 135, "UCS-2", 135, 3),
    ("one curly quote in 160 letters", "a" * 159 + "’", "UCS-2", 160, 3),
    ("an emoji is two units", "😀", "UCS-2", 2, 1),
    ("35 emoji are 70 units", "😀" * 35, "UCS-2", 70, 1),
    ("35 emoji and a letter are 71", "😀" * 35 + "a", "UCS-2", 71, 2),
    ("69 letters and an emoji are 71", "a" * 69 + "😀", "UCS-2", 71, 2),
    ("emoji with variation selector", "❤️", "UCS-2", 2, 1),
    ("extension char in UCS-2 counts one", "€’", "UCS-2", 2, 1),
    ("lower-case c cedilla is not GSM", "ç", "UCS-2", 1, 1),
    ("e with diaeresis is not GSM", "Zoë", "UCS-2", 3, 1),
    ("lower-case Greek is not GSM", "δ", "UCS-2", 1, 1),
    ("backtick is not GSM", "`", "UCS-2", 1, 1),
    ("tab is not GSM", "a\tb", "UCS-2", 3, 1),
    ("no-break space is not GSM", "a\u00a0b", "UCS-2", 3, 1),
    ("zero-width space is not GSM", "a\u200bb", "UCS-2", 3, 1),
    ("a lone surrogate counts one", "\ud800", "UCS-2", 1, 1),
]


@pytest.mark.parametrize(
    ("text", "expected_encoding", "expected_length", "expected_segments"),
    [pytest.param(*case[1:], id=case[0]) for case in CASES],
)
def test_length_encoding_and_segments(text, expected_encoding, expected_length, expected_segments):
    assert encoding(text) == expected_encoding
    assert length(text) == expected_length
    assert segments(text) == expected_segments
    assert measure(text) == SmsLength(
        encoding=expected_encoding,
        length=expected_length,
        segments=expected_segments,
        limit_single=160 if expected_encoding == "GSM-7" else 70,
        non_gsm_character=first_non_gsm(text),
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [("abc", None), ("a’b😀", "’"), ("€{}", None), ("x😀’", "😀"), ("", None)],
)
def test_first_non_gsm_is_the_first_that_forces_ucs2(text, expected):
    assert first_non_gsm(text) == expected
    assert measure(text).non_gsm_character == expected


@pytest.mark.parametrize(
    ("char", "expected"),
    [
        ("’", "’ (right single quotation mark)"),
        ("😀", "😀 (grinning face)"),
        ("\u00a0", "U+00A0 (no-break space)"),
        ("\u200b", "U+200B (zero width space)"),
        ("\t", "U+0009"),
    ],
)
def test_describe_character_shows_invisible_ones_by_code(char, expected):
    assert describe_character(char) == expected


def test_the_tables_are_the_gsm_03_38_sets():
    # 128 basic positions less the escape; ten extension characters, none of them basic.
    assert len(GSM_BASIC_CHARS) == len(GSM_BASIC) == 127
    assert len(GSM_EXTENSION_CHARS) == len(GSM_EXTENSION) == 10
    assert not GSM_BASIC & GSM_EXTENSION
    assert "\x1b" not in GSM_ALL
    assert set("^{}\\[~]|€\f") == GSM_EXTENSION
    assert set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789") < GSM_BASIC


def test_fits_in_one():
    assert measure("a" * 160).fits_in_one
    assert not measure("a" * 161).fits_in_one
    assert measure("").fits_in_one


# --- Properties ----------------------------------------------------------------------------

basic_char = st.sampled_from(GSM_BASIC_CHARS)
gsm_char = st.sampled_from(GSM_BASIC_CHARS + GSM_EXTENSION_CHARS)
non_gsm_char = st.characters().filter(lambda char: char not in GSM_ALL)
any_char = st.one_of(gsm_char, st.characters())


def repeated(char_strategy):
    """Long runs, so the 70/160 boundaries are crossed often, mixed with short random text."""
    run = st.builds(lambda char, n: char * n, char_strategy, st.integers(0, 480))
    return st.lists(st.one_of(run, st.text(char_strategy, max_size=20)), max_size=4).map("".join)


@PROPERTY
@given(text=repeated(basic_char))
def test_basic_only_text_is_gsm_and_one_septet_a_character(text):
    assert encoding(text) == "GSM-7"
    assert length(text) == len(text)


@PROPERTY
@given(text=repeated(gsm_char))
def test_each_extension_character_adds_one_more(text):
    assert encoding(text) == "GSM-7"
    assert length(text) == len(text) + sum(char in GSM_EXTENSION for char in text)


@PROPERTY
@given(text=repeated(gsm_char), char=non_gsm_char, where=st.integers(min_value=0))
def test_one_non_gsm_character_anywhere_makes_it_ucs2(text, char, where):
    where %= len(text) + 1
    changed = text[:where] + char + text[where:]
    assert encoding(changed) == "UCS-2"
    assert measure(changed).non_gsm_character == char
    assert measure(changed).limit_single == 70


@PROPERTY
@given(text=repeated(any_char))
def test_ucs2_length_is_utf16_code_units(text):
    if encoding(text) == "UCS-2":
        assert length(text) == len(text.encode("utf-16-le", "surrogatepass")) // 2


@PROPERTY
@given(text=repeated(any_char), more=repeated(any_char))
def test_segments_never_fall_as_text_grows(text, more):
    longer = text + more
    if encoding(text) == "UCS-2":
        assert encoding(longer) == "UCS-2"
    if encoding(longer) == encoding(text):
        assert length(longer) >= length(text)
        assert segments(longer) >= segments(text)


@PROPERTY
@given(text=repeated(any_char))
def test_segments_are_the_fewest_that_hold_the_text(text):
    size = measure(text)
    assert (size.segments == 0) == (text == "")
    if size.segments == 1:
        assert 0 < size.length <= SINGLE_LIMIT[size.encoding]
    elif size.segments > 1:
        part = PART_LIMIT[size.encoding]
        assert size.length > SINGLE_LIMIT[size.encoding]
        assert (size.segments - 1) * part < size.length <= size.segments * part


@PROPERTY
@given(text=repeated(any_char))
def test_measure_agrees_with_the_single_functions(text):
    size = measure(text)
    assert (size.encoding, size.length, size.segments) == (
        encoding(text),
        length(text),
        segments(text),
    )


# --- The editor's JavaScript counts the same way -------------------------------------------

STRING_LITERAL = r'"(?:[^"\\\n]|\\.)*"'


def js_string_constant(name: str) -> str:
    """A JS constant written as one or more double-quoted literals joined with +. The script
    uses only escapes JSON also has, so each literal is read as JSON."""
    source = JS_FILE.read_text(encoding="utf-8")
    found = re.search(
        rf"const {name} =((?:\s*\+?\s*{STRING_LITERAL})+)\s*;", source, flags=re.MULTILINE
    )
    assert found, f"{name} not found in {JS_FILE.name}"
    return "".join(json.loads(lit) for lit in re.findall(STRING_LITERAL, found.group(1)))


def test_js_gsm_tables_equal_the_python_ones():
    assert js_string_constant("GSM_BASIC") == GSM_BASIC_CHARS
    assert js_string_constant("GSM_EXTENSION") == GSM_EXTENSION_CHARS


def test_js_limits_equal_the_python_ones():
    source = JS_FILE.read_text(encoding="utf-8")
    assert 'const SINGLE_LIMIT = { "GSM-7": 160, "UCS-2": 70 };' in source
    assert 'const PART_LIMIT = { "GSM-7": 153, "UCS-2": 67 };' in source
    assert SINGLE_LIMIT == {"GSM-7": 160, "UCS-2": 70}
    assert PART_LIMIT == {"GSM-7": 153, "UCS-2": 67}


NODE = shutil.which("node")
needs_node = pytest.mark.usefixtures("node_required")  # tests/notifications/conftest.py


def run_js(expression: str, payload) -> list:
    """Evaluate ``expression`` over each item of ``payload`` with the script loaded in Node."""
    program = (
        f"const sms = require({json.dumps(str(JS_FILE))});"
        "let input = '';"
        "process.stdin.on('data', (chunk) => { input += chunk; });"
        "process.stdin.on('end', () => {"
        f"  const out = JSON.parse(input).map((text) => {expression});"
        "  process.stdout.write(JSON.stringify(out));"
        "});"
    )
    result = subprocess.run(
        [NODE, "-e", program],
        input=json.dumps(payload),
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return json.loads(result.stdout)


def sample_texts() -> list[str]:
    pool = list(GSM_BASIC_CHARS + GSM_EXTENSION_CHARS) + [
        "’",
        "“",
        "😀",
        "\u00a0",
        "\u200b",
        "ç",
        "ë",
        "\t",
        "\x1b",
        "\ud83d",
    ]
    rng = random.Random(6)
    texts = [case[1] for case in CASES]
    for _ in range(300):
        # Mostly GSM, sometimes one odd character, at lengths around the limits.
        size = rng.choice([rng.randint(0, 20), rng.randint(60, 80), rng.randint(150, 320)])
        odd = rng.random() < 0.3
        texts.append("".join(rng.choice(pool if odd else pool[:137]) for _ in range(size)))
    return texts


@needs_node
def test_js_measures_exactly_as_python():
    texts = sample_texts()
    got = run_js(
        "{ const m = sms.measure(text); "
        "return [m.encoding, m.length, m.segments, m.limitSingle, m.nonGsmCharacter]; }",
        texts,
    )
    expected = [
        [m.encoding, m.length, m.segments, m.limit_single, m.non_gsm_character]
        for m in map(measure, texts)
    ]
    mismatches = [(t, g, e) for t, g, e in zip(texts, got, expected, strict=True) if g != e]
    assert not mismatches, mismatches[:5]


JS_STATUS_CASES = [
    ("a" * 112, "112 characters. Fits in 1 text message (limit 160)."),
    ("a", "1 character. Fits in 1 text message (limit 160)."),
    ("", "0 characters."),
    (
        "a" * 161,
        "161 characters, 2 text messages. Too long: a text message can be 160 characters.",
    ),
    (
        "’" * 75,
        "75 characters, 2 text messages. Too long: a text with the character ’ can be 70 "
        "characters.",
    ),
    ("It’s", "4 characters. Fits in 1 text message (limit 70, because of the character ’)."),
    (
        "a\u00a0b",
        "3 characters. Fits in 1 text message (limit 70, because of the character U+00A0).",
    ),
    (
        # Braces are extension characters: 8 + 1 + 3 + 1 + 2 extra.
        "See you {day}",
        "15 characters. Fits in 1 text message (limit 160). "
        "Placeholders are measured at their longest when you save.",
    ),
]


@needs_node
def test_js_status_messages():
    got = run_js("sms.status(text)", [text for text, _ in JS_STATUS_CASES])
    assert got == [expected for _, expected in JS_STATUS_CASES]


# --- Typographic characters made plain -------------------------------------------------------

TYPOGRAPHIC = [
    ("curly apostrophe", "St Mary’s Centre", "St Mary's Centre"),
    ("curly single quotes", "‘Hub’", "'Hub'"),
    ("curly double quotes", "“The Hub” „B‟", '"The Hub" "B"'),
    ("en and em dashes", "Room 2–3 — upstairs", "Room 2-3 - upstairs"),
    ("ellipsis", "Wait…", "Wait..."),
    ("no-break and thin spaces", "Room\u00a02\u2009B\u202fC", "Room 2 B C"),
    ("a backtick or acute accent for an apostrophe", "D`Arcy D´Arcy", "D'Arcy D'Arcy"),
    ("GSM letters stay", "Zoé Ça à René", "Zoé Ça à René"),
    ("other letters stay, not guessed at", "Zoë Даша", "Zoë Даша"),
    ("emoji stay", "Hi 😀", "Hi 😀"),
    ("empty", "", ""),
]


@pytest.mark.parametrize(
    ("text", "expected"), [pytest.param(*c[1:], id=c[0]) for c in TYPOGRAPHIC]
)
def test_typographic_characters_become_plain_gsm(text, expected):
    assert typographic_to_gsm(text) == expected


def test_the_table_is_small_and_every_replacement_is_gsm():
    assert len(TYPOGRAPHIC_TO_GSM) < 40
    for char, plain in TYPOGRAPHIC_TO_GSM.items():
        assert char not in GSM_ALL, describe_character(char)
        assert plain and first_non_gsm(plain) is None, describe_character(char)
        # Plain GSM-7 text in place of each: nothing that counts twice.
        assert not set(plain) & GSM_EXTENSION


def test_every_unicode_space_becomes_a_plain_space():
    spaces = [
        chr(code)
        for code in range(0x110000)
        if unicodedata.category(chr(code)) == "Zs" and chr(code) != " "
    ]
    assert spaces
    for char in spaces:
        assert typographic_to_gsm(char) == " ", describe_character(char)


@pytest.mark.parametrize(
    ("text", "expected"),
    [("", []), ("Riverside", []), ("a😀b😀Д", ["😀", "Д"])],
)
def test_non_gsm_characters_are_listed_once_in_order(text, expected):
    assert non_gsm_characters(text) == expected


gsm_or_typographic = st.text(
    st.sampled_from(GSM_BASIC_CHARS + GSM_EXTENSION_CHARS + "".join(TYPOGRAPHIC_TO_GSM)),
    max_size=80,
)


@PROPERTY
@given(text=gsm_or_typographic)
def test_gsm_and_typographic_text_is_gsm_once_made_plain(text):
    plain = typographic_to_gsm(text)
    assert encoding(plain) == "GSM-7"
    assert non_gsm_characters(plain) == []


@PROPERTY
@given(text=st.text(max_size=80))
def test_making_text_plain_only_touches_the_tables_characters(text):
    plain = typographic_to_gsm(text)
    assert typographic_to_gsm(plain) == plain
    assert non_gsm_characters(plain) == [
        char for char in non_gsm_characters(text) if char not in TYPOGRAPHIC_TO_GSM
    ]
    if not set(text) & set(TYPOGRAPHIC_TO_GSM):
        assert plain == text
