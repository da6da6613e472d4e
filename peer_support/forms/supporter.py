"""Forms for supporters' pages (volunteers and paid workers who support people themselves).

The appointment and outcome forms are shared (``forms.common``); these are the supporter's
own: logging a contact, their availability, and saying no to an offer.
"""

from __future__ import annotations

from django import forms
from django.utils import timezone

from ..models import Contact, Offer
from .common import AvailabilityField, DateInput, TimeInput, local_datetime

NOTE_MAX_LENGTH = 10_000


class ContactForm(forms.Form):
    """A contact with the person. Date and time are Europe/London wall-clock time; the
    service reads the naive datetime as such."""

    date = forms.DateField(label="Date", widget=DateInput, help_text="For example 2026-12-01")
    time = forms.TimeField(label="Time", widget=TimeInput, help_text="For example 14:30")
    method = forms.ChoiceField(
        label="How were you in touch?", choices=Contact.Method.choices, widget=forms.RadioSelect
    )
    duration_minutes = forms.IntegerField(
        label="How long, in minutes",
        min_value=1,
        max_value=24 * 60,
        help_text="For example 30",
    )
    summary = forms.CharField(
        label="What you did",
        max_length=NOTE_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 5}),
    )
    next_step = forms.CharField(
        label="Next step (optional)",
        required=False,
        max_length=NOTE_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    safeguarding_concern = forms.BooleanField(
        label="I have a safeguarding concern",
        required=False,
        help_text="The peer support team will be told at once.",
    )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        now = timezone.localtime()
        self.fields["date"].initial = now.date()
        self.fields["time"].initial = now.time().replace(second=0, microsecond=0)

    def clean(self):
        cleaned = super().clean()
        occurred_at = local_datetime(self, cleaned)
        if occurred_at is not None:
            cleaned["occurred_at"] = occurred_at
        return cleaned


class AvailabilityForm(forms.Form):
    availability = AvailabilityField(label="When are you usually free?")
    capacity = forms.IntegerField(
        label="How many people can you support at once?",
        min_value=0,
        max_value=20,
        help_text="Enter a number from 0 to 20.",
    )
    paused = forms.BooleanField(
        label="Take a break from new people",
        required=False,
        help_text="You keep the people you support now. You will not be offered anyone new.",
    )
    paused_reason = forms.CharField(
        label="Why are you taking a break? (optional)",
        required=False,
        max_length=200,
        help_text="Only the peer support team sees this.",
    )


class DeclineForm(forms.Form):
    reason = forms.ChoiceField(
        label="Why can you not support them?",
        choices=Offer.DeclineReason.choices,
        widget=forms.RadioSelect,
    )
