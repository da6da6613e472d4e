"""Reading age of a page's text, for editors. The sums are textstat's; we only gather text."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import textstat
from django.utils.html import strip_tags
from wagtail.blocks import StreamValue, StructValue
from wagtail.blocks.list_block import ListValue
from wagtail.rich_text import RichText

# UK reading age is roughly the US school grade plus five years.
GRADE_TO_AGE = 5
TEXT_FIELDS = ("intro", "summary")
MIN_WORDS = 10


@dataclass(frozen=True)
class Reading:
    age: int | None
    target: int

    @property
    def too_hard(self) -> bool:
        return self.age is not None and self.age > self.target


def _texts(value: Any) -> list[str]:
    if value is None or isinstance(value, bool | int | float):
        return []
    if isinstance(value, RichText):
        return [strip_tags(value.source.replace("</p>", "</p>\n"))]
    if isinstance(value, str):
        return [strip_tags(value)]
    if isinstance(value, StreamValue):
        return [text for child in value for text in _texts(child.value)]
    if isinstance(value, StructValue):
        return [
            text
            for name, child in value.items()
            if name not in {"alt_text", "heading_level", "type", "new_window"}
            for text in _texts(child)
        ]
    if isinstance(value, ListValue | list | tuple):
        return [text for child in value for text in _texts(child)]
    return []  # images, pages, dates: not reading matter


def sentence(text: str) -> str:
    text = " ".join(text.split())
    return text if not text or text[-1] in ".!?:" else text + "."


def page_text(page) -> str:
    parts = [getattr(page, name, "") or "" for name in TEXT_FIELDS]
    parts += _texts(getattr(page, "body", None))
    return " ".join(sentence(part) for part in parts if part.strip())


def reading_age(text: str) -> int | None:
    if textstat.lexicon_count(text) < MIN_WORDS:
        return None
    return max(GRADE_TO_AGE, round(textstat.flesch_kincaid_grade(text) + GRADE_TO_AGE))


def page_reading_age(page) -> Reading:
    target = getattr(page, "reading_age_target", 11)
    return Reading(age=reading_age(page_text(page)), target=target)
