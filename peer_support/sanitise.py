"""Free text people type (contact notes, the public request form) is cleaned with bleach on
every write path, before it is saved, to a small allow-list with no attributes.

Templates print the result with ``|safe`` only because it was cleaned here; anything not from
:func:`sanitise_text` is escaped as usual. Cleaning twice gives the same text as cleaning once
(a property test holds it), so a note that is saved, read and saved again never changes.
"""

from __future__ import annotations

import re

import bleach

# Enough for a note to have paragraphs, a list and some emphasis; no links, no attributes.
ALLOWED_TAGS = frozenset({"p", "br", "strong", "em", "ul", "ol", "li"})

# Control characters other than tab and newline: PostgreSQL refuses NUL in text, and the rest
# are never meant.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def sanitise_text(value: str) -> str:
    """Allowed tags kept, every other tag and comment removed, the rest escaped; control
    characters dropped, line endings made ``\\n``, outer whitespace trimmed."""
    text = _CONTROL.sub("", str(value).replace("\r\n", "\n").replace("\r", "\n"))
    previous = None
    # bleach can expose new markup when it strips a tag out of the middle of another
    # ("<<b>p>"); clean until nothing changes, so the result is a fixed point.
    while text != previous:
        previous = text
        text = bleach.clean(
            text,
            tags=ALLOWED_TAGS,
            attributes={},
            protocols=[],
            strip=True,
            strip_comments=True,
        )
    return text.strip()
