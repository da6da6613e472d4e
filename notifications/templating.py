"""Staff-editable text message templates: what they may say, and how they are filled in.

A template is plain text with placeholders in braces, like ``{first_name}``. Staff write them in
the admin, so :func:`template_lint` checks a template before it is saved and says in plain
English what to fix, and :func:`template_render` fills one in at send time. Rendering allows
nothing but the known names: Python's own ``str.format`` would follow ``{first_name.__class__}``
or ``{link[0]}`` into the objects it is given, and a template is untrusted input.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping

from django.conf import settings

from portal.sensitive import sensitive_words_in

from .gsm import (
    GSM_7,
    GSM_EXTENSION,
    SINGLE_LIMIT,
    describe_character,
    measure,
    typographic_to_gsm,
)

PLACEHOLDERS: dict[str, str] = {
    "first_name": "The person's first name, if we have one.",
    "day": "The day of the appointment, short, like Tue 3 Mar.",
    "time": "The time of the appointment, like 2:30pm.",
    "place": "Where the appointment is, in neutral words, like Riverside Centre.",
    "service_phone": "The service's phone number, like 0113 496 0000.",
    "link": "A link the person can use to confirm or ask to change the appointment.",
}

# Twenty characters with the closing slash: as long as a confirm link's key can be
# (``links.py``: up to 7 characters of id, enough for about 500 billion, and 12 of signature,
# in digits and consonants only).
WORST_CASE_LINK_KEY = "k3f9Xb2Bh3dR6fG8hJ2/"


class _WorstCase(Mapping[str, str]):
    """Long but realistic values, to measure a template before it is saved.

    A mapping rather than a plain dict so the link is built from ``settings.PUBLIC_BASE_URL``
    as it is when asked, not as it was when this module was first imported.
    """

    _fixed: dict[str, str] = {
        "first_name": "Christabelle",
        "day": "Wed 30 Sep",
        "time": "12:30pm",
        "place": "Riverside Community Centre, Meeting Room",
        "service_phone": "0113 496 0000",
    }

    def _values(self) -> dict[str, str]:
        link = f"{settings.PUBLIC_BASE_URL}/a/{WORST_CASE_LINK_KEY}"
        return {**self._fixed, "link": link}

    def __getitem__(self, key: str) -> str:
        return self._values()[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._values())

    def __len__(self) -> int:
        return len(self._values())

    def __repr__(self) -> str:
        return f"WORST_CASE({self._values()!r})"


WORST_CASE: Mapping[str, str] = _WorstCase()


class TemplateError(ValueError):
    """A template that cannot be filled in safely; the message says why, in plain English."""


# One brace token at a time: an escaped brace, a field with no braces inside, or a brace alone.
_TOKEN = re.compile(r"\{\{|\}\}|\{([^{}]*)\}|[{}]")
_NAME_HINT = "Put a placeholder name inside, like {first_name}."


def _placeholder_list() -> str:
    return _and_list([f"{{{name}}}" for name in PLACEHOLDERS])


def _and_list(items: list[str]) -> str:
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


def _field_problem(field: str) -> str | None:
    """What is wrong with the text between one pair of braces, or None for a known name."""
    shown = f"{{{field}}}"
    if field in PLACEHOLDERS:
        return None
    if field == "":
        return f"Empty braces {{}} are not a placeholder. {_NAME_HINT}"
    if field.strip() in PLACEHOLDERS:
        return f"Remove the spaces inside {shown}: write {{{field.strip()}}}."
    if "!" in field or ":" in field:
        name = re.split(r"[!:]", field, maxsplit=1)[0]
        extra = field[len(name) :]
        return f'Remove "{extra}" from {shown}: a placeholder is just a name in braces.'
    if "." in field or "[" in field or "]" in field:
        return f"{shown} is not allowed: a placeholder is just a name in braces, like {{place}}."
    if field.isdigit():
        return f"{shown} is not a placeholder. {_NAME_HINT}"
    return None  # an unknown name: reported together with any others


def _scan(body: str) -> tuple[list[str], list[str], list[str]]:
    """The structural problems, the unknown names and the known names used, each in order of
    first appearance and without repeats."""
    problems: list[str] = []
    unknown: list[str] = []
    used: list[str] = []

    def add(items: list[str], item: str) -> None:
        if item not in items:
            items.append(item)

    for match in _TOKEN.finditer(body):
        token = match.group(0)
        field = match.group(1)
        if token in ("{{", "}}"):
            add(
                problems,
                f"Use single braces around a placeholder, like {{first_name}}, not {token}.",
            )
        elif field is None:
            add(
                problems,
                f'There is a "{token}" on its own. Braces can only go around a '
                f"placeholder, like {{first_name}}.",
            )
        elif field in PLACEHOLDERS:
            add(used, field)
        elif (problem := _field_problem(field)) is not None:
            add(problems, problem)
        else:
            add(unknown, field)
    return problems, unknown, used


def template_render(body: str, values: Mapping[str, str]) -> str:
    """Fill in a template. Raises :class:`TemplateError` for a template that :func:`template_lint`
    would refuse for its braces, or when a value it uses is missing.

    Line breaks are sent as a single newline: a browser submits a textarea's line breaks as
    CR LF, which would cost two characters each. In the values, typographic quotes, dashes,
    ellipses and spaces become plain GSM-7 ones (``gsm.typographic_to_gsm``): one curly
    apostrophe in a name or a place would make the whole text UCS-2, and so two messages. The
    template itself is not changed: the linter tells staff to fix it instead.
    """
    problems, unknown, used = _scan(body)
    if problems:
        raise TemplateError(problems[0])
    if unknown:
        raise TemplateError(_unknown_message(unknown))
    missing = [name for name in used if name not in values]
    if missing:
        raise TemplateError(f"No value for {_and_list([f'{{{n}}}' for n in missing])}.")
    # Only known names reach format_map, each as a plain str: nothing in the template can
    # reach an attribute or an item of the values given.
    known = {name: typographic_to_gsm(str(values[name])) for name in used}
    text = body.replace("\r\n", "\n").replace("\r", "\n")
    return text.format_map(known)


def _unknown_message(unknown: list[str]) -> str:
    names = _and_list([f"{{{name}}}" for name in unknown])
    noun = "placeholder" if len(unknown) == 1 else "placeholders"
    return f"Unknown {noun} {names}. You can use {_placeholder_list()}."


def _sensitive_message(words: list[str]) -> str:
    quoted = _and_list([f'"{word}"' for word in words])
    noun = "the word" if len(words) == 1 else "the words"
    return (
        f"Remove {noun} {quoted}: someone else may see the phone, so a text must not mention "
        "health or the justice system."
    )


def _length_message(rendered: str, *, has_placeholders: bool) -> str | None:
    size = measure(rendered)
    if size.fits_in_one:
        return None
    if size.encoding == GSM_7:
        message = (
            f"This message is {size.length} characters. "
            f"A single text message can be {size.limit_single} characters."
        )
        doubled = next((char for char in rendered if char in GSM_EXTENSION), None)
        if doubled is not None:
            message += f" The character {describe_character(doubled)} counts as two."
    else:
        message = (
            f"This message is {size.length} characters. Because of the character "
            f"{describe_character(size.non_gsm_character or '')}, a single text message can "
            f"be {size.limit_single} characters instead of {SINGLE_LIMIT[GSM_7]}."
        )
    if has_placeholders:
        message += " Each placeholder is counted at its longest likely length."
    return message


def template_lint(body: str, *, require: Iterable[str] = ()) -> list[str]:
    """Everything wrong with a template, in plain English; an empty list when it can be saved.

    ``require`` names placeholders this kind of message must contain (a reminder is no use
    without ``day`` and ``time``).
    """
    required = list(dict.fromkeys(require))
    not_placeholders = [name for name in required if name not in PLACEHOLDERS]
    if not_placeholders:
        # A caller's mistake, not the editor's: fail loudly rather than show it to staff.
        raise ValueError(f"not placeholders: {not_placeholders!r}")
    if not body or not body.strip():
        return ["Enter the text of the message."]

    problems, unknown, used = _scan(body)
    errors = list(problems)
    if unknown:
        errors.append(_unknown_message(unknown))
    missing = [name for name in required if name not in used]
    if missing:
        errors.append(
            f"This message must contain {_and_list([f'{{{name}}}' for name in missing])}."
        )
    words = sensitive_words_in(body)
    if words:
        errors.append(_sensitive_message(words))
    if not problems and not unknown:
        too_long = _length_message(template_render(body, WORST_CASE), has_placeholders=bool(used))
        if too_long:
            errors.append(too_long)
    return errors


def placeholders_in(body: str) -> list[str]:
    """The known placeholder names a template uses, in order of first appearance."""
    return _scan(body)[2]
