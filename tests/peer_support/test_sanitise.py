"""sanitise_text: a fixed point (cleaning twice is cleaning once), only the allowed tags and no
attributes ever come out, no control characters, and plain text passes through untouched."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from peer_support.sanitise import ALLOWED_TAGS, sanitise_text

EXAMPLES = 500
PROPERTY = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

MARKUP_CHARACTERS = "<>/&;#\"'=!- \n\t\r"
TAG_NAMES = [
    *sorted(ALLOWED_TAGS),
    "script",
    "style",
    "a",
    "img",
    "b",
    "iframe",
    "svg",
    "math",
    "textarea",
    "title",
    "noscript",
    "template",
    "div",
    "P",
    "SCRIPT",
]
ATTRIBUTES = ["onclick", "href", "src", "style", "class", "onerror", "x"]
VALUES = ['"javascript:alert(1)"', "'x'", "x", '""', "a>b", '"<p>"']

tag_like = st.one_of(
    st.builds("<{}>".format, st.sampled_from(TAG_NAMES)),
    st.builds("</{}>".format, st.sampled_from(TAG_NAMES)),
    st.builds("<{}/>".format, st.sampled_from(TAG_NAMES)),
    st.builds(
        "<{} {}={}>".format,
        st.sampled_from(TAG_NAMES),
        st.sampled_from(ATTRIBUTES),
        st.sampled_from(VALUES),
    ),
    st.sampled_from(
        ["<!--", "-->", "<!DOCTYPE html>", "<![CDATA[", "]]>", "<?xml?>", "<", ">", "</"]
    ),
)
entity_like = st.sampled_from(
    ["&amp;", "&amp", "&lt;", "&gt;", "&#0;", "&#x0;", "&#1;", "&#x85;", "&nbsp;", "&", "&#"]
)
controls = st.sampled_from(["\x00", "\x01", "\x08", "\x0b", "\x0c", "\x1f", "\x7f", "\r", "\r\n"])
fragment = st.one_of(
    st.text(max_size=20),
    st.text(alphabet=MARKUP_CHARACTERS + "abpsr1", max_size=20),
    st.sampled_from(TAG_NAMES),
    tag_like,
    entity_like,
    controls,
)
markupish = st.one_of(st.text(), st.lists(fragment, max_size=15).map("".join))

# Anything but the three characters markup is made of, control characters and surrogates.
plain_character = st.one_of(
    st.characters(blacklist_categories=("Cs", "Cc"), blacklist_characters="<>&"),
    st.sampled_from(["\n", "\t", " "]),
)
plain_text = st.text(alphabet=plain_character)

CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\r]")
ALLOWED_TAG = re.compile(r"</?(?:{})>".format("|".join(sorted(ALLOWED_TAGS))))


class TagCollector(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, list]] = []
        self.comments: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, attrs))

    def handle_startendtag(self, tag, attrs):
        self.tags.append((tag, attrs))

    def handle_endtag(self, tag):
        self.tags.append((tag, []))

    def handle_comment(self, data):
        self.comments.append(data)

    def handle_decl(self, decl):
        self.comments.append(decl)

    def handle_pi(self, data):
        self.comments.append(data)

    def unknown_decl(self, data):
        self.comments.append(data)


def assert_safe(cleaned: str) -> None:
    collector = TagCollector()
    collector.feed(cleaned)
    collector.close()
    for tag, attrs in collector.tags:
        assert tag in ALLOWED_TAGS, (tag, cleaned)
        assert attrs == [], (tag, cleaned)
    assert collector.comments == [], cleaned
    # Every "<" that is left opens an allowed tag with nothing else inside it.
    assert "<" not in ALLOWED_TAG.sub("", cleaned), cleaned
    assert not CONTROL.search(cleaned), cleaned


@PROPERTY
@given(text=markupish)
@example(text="<<b>p>")
@example(text="<scr<script>ipt>alert(1)</script>")
@example(text="&amp")
def test_sanitising_twice_is_the_same_as_once(text):
    once = sanitise_text(text)
    assert sanitise_text(once) == once


@PROPERTY
@given(text=markupish)
@example(text='<p onclick="x()"><a href="javascript:alert(1)">hi</a></p>')
@example(text="<svg><p onload=x>")
@example(text="a\x00b\r\nc\x0b")
def test_only_allowed_tags_without_attributes_and_no_control_characters(text):
    assert_safe(sanitise_text(text))


@PROPERTY
@given(text=plain_text)
@example(text='  Met at the café; said "thanks" — next week\'s fine = good!  \n')
def test_plain_text_survives_unchanged(text):
    assert sanitise_text(text) == text.strip()


CASES = [
    ("", ""),
    ("  hello  ", "hello"),
    ("<p>One</p><p>Two</p>", "<p>One</p><p>Two</p>"),
    ("<P CLASS='x'>Loud</P>", "<p>Loud</p>"),
    ("<br/>line", "<br>line"),
    ("<script>alert(1)</script>", "alert(1)"),
    ("<<b>p>", "&lt;p&gt;"),
    ("1 < 2 & 3 > 2", "1 &lt; 2 &amp; 3 &gt; 2"),
    ("a\r\nb\rc", "a\nb\nc"),
    ("<!-- hidden -->shown", "shown"),
    (42, "42"),
]


@pytest.mark.parametrize(("given_text", "expected"), CASES)
def test_examples(given_text, expected):
    assert sanitise_text(given_text) == expected
