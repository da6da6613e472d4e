"""Forms a service user fills in about themselves."""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError

from ..models import ServiceUserRecord
from .common import AccessibilityField, AvailabilityField, WordListField, add_service_errors

SUPPORTER_GENDER_CHOICES = [("", "No preference"), ("woman", "A woman"), ("man", "A man")]

PREFERENCE_FIELDS = (
    "preferred_name",
    "preferred_supporter_gender",
    "languages",
    "accessibility_needs",
    "interests",
    "availability",
)


class MyPreferencesForm(forms.Form):
    preferred_name = forms.CharField(
        label="What would you like us to call you?",
        max_length=100,
        error_messages={
            "required": "Enter the name you would like us to call you",
            "max_length": "Enter a name of 100 characters or fewer",
        },
    )
    preferred_supporter_gender = forms.ChoiceField(
        label="Would you prefer your peer supporter to be",
        choices=SUPPORTER_GENDER_CHOICES,
        required=False,
        widget=forms.RadioSelect,
        error_messages={"invalid_choice": "Choose one of the options"},
    )
    languages = WordListField(
        label="Which languages do you speak? (optional)",
        help_text="Separate them with commas. For example, English, Polish.",
        error_messages={"max_length": "Write 500 characters or fewer"},
    )
    accessibility_needs = AccessibilityField(
        label="Do you need help with reading or language? (optional)",
        help_text="Choose all that apply.",
        error_messages={"invalid_choice": "Choose from the list"},
    )
    interests = WordListField(
        label="What are you interested in? (optional)",
        help_text="Separate them with commas. For example, football, music, cooking.",
        error_messages={"max_length": "Write 500 characters or fewer"},
    )
    availability = AvailabilityField(
        label="When are you usually free? (optional)",
        help_text="Choose all that apply. This helps us find a supporter who is free then too.",
        error_messages={"invalid_choice": "Choose from the list"},
    )

    def __init__(self, *args, record: ServiceUserRecord, **kwargs) -> None:
        kwargs.setdefault("initial", {name: getattr(record, name) for name in PREFERENCE_FIELDS})
        super().__init__(*args, **kwargs)
        current = record.preferred_supporter_gender
        if current and current not in dict(SUPPORTER_GENDER_CHOICES):
            # Staff may have written something else with the person: keep it choosable, so
            # saving this form does not quietly drop it.
            self.fields["preferred_supporter_gender"].choices = [
                *SUPPORTER_GENDER_CHOICES,
                (current, current),
            ]

    def service_kwargs(self) -> dict:
        """What ``services.service_user_preferences_update`` takes, from a valid form."""
        return {name: self.cleaned_data[name] for name in PREFERENCE_FIELDS}

    def add_service_errors(self, error: ValidationError) -> None:
        add_service_errors(self, error)
