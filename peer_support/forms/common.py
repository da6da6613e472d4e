"""Fields and forms used by more than one audience's pages."""

from __future__ import annotations

import datetime as dt

from django import forms
from django.core.exceptions import ValidationError

from portal.gsm import describe_character, non_gsm_characters, typographic_to_gsm
from portal.sensitive import sensitive_words_in

from ..models import (
    ACCESSIBILITY_CHOICES,
    DAY_PARTS,
    DAYS,
    NEED_CHOICES,
    Appointment,
)
from ..wording import DAY_LABELS

AVAILABILITY_CHOICES = [
    (f"{day}:{part}", f"{DAY_LABELS[day]} {part}") for day in DAYS for part in DAY_PARTS
]


def add_service_errors(
    form: forms.Form,
    error: ValidationError,
    field_map: dict[str, str | None] | None = None,
    *,
    codes: dict[str, str] | None = None,
    default: str | None = None,
) -> None:
    """Show a service's ``ValidationError`` on the form, so no message is ever lost and no
    unknown key can crash the page.

    Errors keyed by a model field go to the form field ``field_map`` names for it, else to
    the form field of the same name, else above the form. Errors without a field go to the
    field ``codes`` names for their code, else to ``default`` (``None``: above the form).
    """
    codes = codes or {}
    field_map = field_map or {}
    if hasattr(error, "error_dict"):
        for key, errors in error.error_dict.items():
            target = field_map.get(key, key)
            for message in ValidationError(errors).messages:
                form.add_error(target if target in form.fields else None, message)
        return
    for item in error.error_list:
        target = codes.get(item.code or "", default)
        for message in item.messages:
            form.add_error(target if target in form.fields else None, message)


class AvailabilityField(forms.MultipleChoiceField):
    """Weekly times as checkboxes ("Monday morning"...), cleaned to ``[[day, part], ...]``,
    the shape the models store."""

    widget = forms.CheckboxSelectMultiple

    def __init__(self, **kwargs) -> None:
        kwargs.setdefault("choices", AVAILABILITY_CHOICES)
        kwargs.setdefault("required", False)
        super().__init__(**kwargs)

    def prepare_value(self, value):
        if isinstance(value, list | tuple):
            return [":".join(item) if isinstance(item, list | tuple) else item for item in value]
        return value

    def clean(self, value) -> list[list[str]]:
        return [code.split(":", 1) for code in super().clean(value)]


class NeedsField(forms.MultipleChoiceField):
    widget = forms.CheckboxSelectMultiple

    def __init__(self, **kwargs) -> None:
        kwargs.setdefault("choices", NEED_CHOICES)
        kwargs.setdefault("required", False)
        super().__init__(**kwargs)


class AccessibilityField(forms.MultipleChoiceField):
    widget = forms.CheckboxSelectMultiple

    def __init__(self, **kwargs) -> None:
        kwargs.setdefault("choices", ACCESSIBILITY_CHOICES)
        kwargs.setdefault("required", False)
        super().__init__(**kwargs)


class WordListField(forms.CharField):
    """Short words separated by commas ("Polish, English"), cleaned to a list of distinct
    words: how people type languages and interests."""

    def __init__(self, **kwargs) -> None:
        kwargs.setdefault("required", False)
        kwargs.setdefault("max_length", 500)
        super().__init__(**kwargs)

    def prepare_value(self, value):
        if isinstance(value, list | tuple):
            return ", ".join(value)
        return value

    def clean(self, value) -> list[str]:
        text = super().clean(value)
        words: list[str] = []
        for part in text.split(","):
            word = " ".join(part.split())
            if not word:
                continue
            if len(word) > 50:
                raise ValidationError("Keep each one under 50 characters.", code="too_long")
            if word.casefold() not in {w.casefold() for w in words}:
                words.append(word)
        if len(words) > 20:
            raise ValidationError("Enter 20 or fewer.", code="too_many")
        return words


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, attrs=None) -> None:
        super().__init__(attrs=attrs, format="%Y-%m-%d")


class TimeInput(forms.TimeInput):
    input_type = "time"

    def __init__(self, attrs=None) -> None:
        super().__init__(attrs=attrs, format="%H:%M")


# Dates outside this window are typing mistakes, and far-off years overflow time zone
# arithmetic.
EARLIEST_DATE = dt.date(2000, 1, 1)
LATEST_DATE = dt.date(2100, 1, 1)


def local_datetime(form: forms.Form, cleaned: dict) -> dt.datetime | None:
    """The form's ``date`` and ``time`` fields as one NAIVE datetime, to the minute, on
    purpose: the services read a naive time as Europe/London wall-clock time (and refuse the
    hour skipped in spring). A date outside the sensible window is an error on ``date``."""
    day, at = cleaned.get("date"), cleaned.get("time")
    if not (day and at):
        return None
    if not EARLIEST_DATE <= day <= LATEST_DATE:
        form.add_error("date", "Enter a real date, like 2026-12-01")
        return None
    return dt.datetime.combine(day, at.replace(second=0, microsecond=0))


def neutral_place_label(value: str) -> None:
    """The place label goes into text messages: no word that reveals why the person goes."""
    found = sensitive_words_in(value)
    if found:
        raise ValidationError(
            "This name goes into text messages, so it must not say what the place is for. "
            'Remove: %(words)s. Use a neutral name, like "Riverside Centre".',
            code="sensitive_place_label",
            params={"words": ", ".join(found)},
        )


def sendable_place_label(value: str) -> None:
    """The place label goes into every reminder: one character outside the GSM alphabet would
    make each of them UCS-2, and so two messages. Curly quotes, dashes and the like are fine
    (they are sent as plain ones); anything else left over is refused, by name."""
    odd = non_gsm_characters(typographic_to_gsm(value))
    if odd:
        described = [describe_character(char) for char in odd]
        if len(described) == 1:
            characters = f"the character {described[0]}"
        else:
            characters = "the characters " + ", ".join(described[:-1]) + " and " + described[-1]
        raise ValidationError(
            "This name goes into text messages, which cannot carry %(characters)s. "
            "Use letters, numbers and ordinary punctuation.",
            code="unsendable_place_label",
            params={"characters": characters},
        )


class PlaceLabelField(forms.CharField):
    """A place label as it will be sent: typographic quotes, dashes and spaces made plain
    before the length and the other checks, so what is saved is what the text says."""

    def to_python(self, value):
        return typographic_to_gsm(super().to_python(value)).strip()


class AppointmentForm(forms.Form):
    """An appointment the person should go to. Date and time are Europe/London wall-clock
    time; the service turns them into UTC and refuses the hour skipped in spring."""

    kind = forms.ChoiceField(
        label="What is the appointment for?",
        choices=Appointment.Kind.choices,
        widget=forms.RadioSelect,
    )
    place_label = PlaceLabelField(
        label="Place name for text messages",
        max_length=40,
        validators=[neutral_place_label, sendable_place_label],
        help_text='A neutral name of up to 40 characters, like "Riverside Centre". '
        "Do not say what the place is for.",
    )
    address = forms.CharField(
        label="Full address",
        max_length=300,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Shown in the portal only, never in text messages.",
    )
    date = forms.DateField(label="Date", widget=DateInput, help_text="For example 2026-12-01")
    time = forms.TimeField(label="Time", widget=TimeInput, help_text="For example 14:30")
    supporter_attending = forms.BooleanField(
        label="The supporter will go with them", required=False
    )

    def clean(self):
        cleaned = super().clean()
        starts_at = local_datetime(self, cleaned)
        if starts_at is not None:
            cleaned["starts_at"] = starts_at
        return cleaned


class OutcomeForm(forms.Form):
    outcome = forms.ChoiceField(
        label="What happened?",
        choices=Appointment.Outcome.choices,
        widget=forms.RadioSelect,
    )
