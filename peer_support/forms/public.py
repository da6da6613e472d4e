"""The public "Ask for a peer supporter" form: anyone may fill it in, signed in or not.

It only parses and checks what was typed, and works out which service should get the
request; ``services.referral_request_create`` saves it (and sanitises the notes).
"""

from __future__ import annotations

import re

from django import forms
from django.core.exceptions import ValidationError
from phonenumber_field.phonenumber import PhoneNumber, to_python

from portal.models import Service
from portal.phone import INVALID_MOBILE_MESSAGE, validate_uk_mobile

from .. import selectors
from ..models import AgeBand, ServiceUserRecord
from .common import NeedsField, add_service_errors

SELF = ServiceUserRecord.Source.SELF
SOMEONE_ELSE = ServiceUserRecord.Source.SOMEONE_ELSE
UNKNOWN_SERVICE = "unknown"
REFERRER_FIELDS = ("referrer_name", "referrer_relationship", "referrer_phone")

# The first half of a postcode ("NM1", "EC1A"), optionally followed by the second ("2AB").
POSTCODE_RE = re.compile(r"^([A-Z]{1,2}[0-9][A-Z0-9]?)(?: ?[0-9][A-Z]{2})?$")
INVALID_POSTCODE_MESSAGE = 'Enter the first half of a postcode, like "NM1"'
INVALID_PHONE_MESSAGE = "Enter a UK phone number, like 0113 496 0000 or 07700 900 982"

# Where a refusal from the service belongs on this form (model field -> form field).
MODEL_TO_FORM_FIELD = {
    "service": "service",
    "source": "source",
    "preferred_name": "preferred_name",
    "age_band": "age_band",
    "mobile": "mobile",
    "home_district": "postcode",
    "needs": "needs",
    "referral_notes": "notes",
    "referrer_name": "referrer_name",
    "referrer_relationship": "referrer_relationship",
    "referrer_phone": "referrer_phone",
}


def _parse_phone(value: str) -> PhoneNumber | None:
    number = to_python(value, region="GB")
    return number if isinstance(number, PhoneNumber) else None


def normalise_district(value: str) -> str:
    """ "nm1", " NM1 2ab ", "nm12ab" -> "NM1"; "" for nothing; ValidationError otherwise."""
    text = " ".join(value.split()).upper()
    if not text:
        return ""
    match = POSTCODE_RE.match(text) or POSTCODE_RE.match(text.replace(" ", ""))
    if not match:
        raise ValidationError(INVALID_POSTCODE_MESSAGE, code="invalid_postcode")
    return match.group(1)


class PeerSupportRequestForm(forms.Form):
    source = forms.ChoiceField(
        label="Who is asking for a peer supporter?",
        choices=[
            (SELF, "I am asking for myself"),
            (SOMEONE_ELSE, "I am asking for someone else, and they have agreed"),
        ],
        widget=forms.RadioSelect,
        error_messages={
            "required": "Say who is asking",
            "invalid_choice": "Say who is asking",
        },
    )
    preferred_name = forms.CharField(
        label="Name of the person who would like a peer supporter",
        help_text="Their first name, or the name they like to be called. If you are asking "
        "for yourself, put your own name.",
        max_length=100,
        error_messages={
            "required": "Enter the name of the person who would like a peer supporter",
            "max_length": "Enter a name of 100 characters or fewer",
        },
    )
    age_band = forms.ChoiceField(
        label="How old are they?",
        choices=AgeBand.choices,
        widget=forms.RadioSelect,
        error_messages={"required": "Choose their age", "invalid_choice": "Choose their age"},
    )
    mobile = forms.CharField(
        label="Their mobile phone number (optional)",
        help_text="The team will ring them on this number. For example, 07700 900 982.",
        required=False,
        max_length=30,
        error_messages={"max_length": INVALID_MOBILE_MESSAGE},
    )
    service = forms.ChoiceField(
        label="Which Liaison and Diversion service did they meet?",
        help_text="The team that saw them at a police station or court. If you do not know, "
        'choose "I do not know" and tell us the first half of their postcode.',
        error_messages={
            "required": 'Choose the service they met, or choose "I do not know"',
            "invalid_choice": 'Choose the service they met, or choose "I do not know"',
        },
    )
    postcode = forms.CharField(
        label="The first half of their postcode (optional)",
        help_text="For example, NM1. This helps us find the right team.",
        required=False,
        max_length=20,
        error_messages={"max_length": INVALID_POSTCODE_MESSAGE},
    )
    needs = NeedsField(
        label="What would help? (optional)",
        help_text="Choose all that apply.",
        error_messages={"invalid_choice": "Choose from the list"},
    )
    notes = forms.CharField(
        label="Is there anything else you want to tell us? (optional)",
        help_text="You can write up to 2,000 characters. Do not use this for anything urgent.",
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 5}),
        error_messages={"max_length": "Write 2,000 characters or fewer"},
    )
    referrer_name = forms.CharField(
        label="Your name (if you are asking for someone else)",
        required=False,
        max_length=100,
        error_messages={"max_length": "Enter a name of 100 characters or fewer"},
    )
    referrer_relationship = forms.CharField(
        label="How do you know them? (if you are asking for someone else)",
        help_text="For example, parent, partner, friend or support worker.",
        required=False,
        max_length=100,
        error_messages={"max_length": "Write 100 characters or fewer"},
    )
    referrer_phone = forms.CharField(
        label="Your phone number (if you are asking for someone else)",
        help_text="A mobile or landline. For example, 0113 496 0000.",
        required=False,
        max_length=30,
        error_messages={"max_length": INVALID_PHONE_MESSAGE},
    )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.services_by_key = {str(s.pk): s for s in Service.objects.order_by("name")}
        self.fields["service"].choices = [
            ("", "Choose a service"),
            *((key, s.name) for key, s in self.services_by_key.items()),
            (UNKNOWN_SERVICE, "I do not know"),
        ]

    def clean_mobile(self) -> str:
        value = self.cleaned_data["mobile"]
        if not value:
            return ""
        number = _parse_phone(value)
        validate_uk_mobile(number if number is not None else value)
        return number.as_e164

    def clean_referrer_phone(self) -> str:
        value = self.cleaned_data["referrer_phone"]
        if not value:
            return ""
        number = _parse_phone(value)
        # Any UK number a person can be rung on; the record's field refuses invalid numbers.
        if number is None or number.country_code != 44 or not number.is_valid():
            raise ValidationError(INVALID_PHONE_MESSAGE, code="invalid_phone")
        return number.as_e164

    def clean_postcode(self) -> str:
        return normalise_district(self.cleaned_data["postcode"])

    def clean(self) -> dict:
        cleaned = super().clean()
        source = cleaned.get("source")
        if source == SELF:
            # Nobody else is asking: whatever was typed in those boxes is dropped, mistakes
            # and all, rather than held against the person.
            for name in REFERRER_FIELDS:
                self._errors.pop(name, None)
                cleaned[name] = ""
        self._check_phone(cleaned, source)
        if source == SOMEONE_ELSE and not cleaned.get("referrer_name", "x").strip():
            self.add_error("referrer_name", "Enter your name")
        self._choose_service(cleaned)
        return cleaned

    def _check_phone(self, cleaned: dict, source: str | None) -> None:
        if "mobile" not in cleaned or "referrer_phone" not in cleaned:
            return  # a number was typed but is not valid: that error is already shown
        if cleaned["mobile"] or cleaned["referrer_phone"]:
            return
        if source == SOMEONE_ELSE:
            self.add_error(
                "referrer_phone",
                "Enter your phone number or their mobile number, so the team can get in touch",
            )
        else:
            self.add_error("mobile", "Enter a mobile phone number, so the team can get in touch")

    def _choose_service(self, cleaned: dict) -> None:
        key = cleaned.get("service")
        if not key:
            return
        if key != UNKNOWN_SERVICE:
            cleaned["service"] = self.services_by_key[key]
            return
        if "postcode" not in cleaned:
            return  # the postcode is not valid: that error is already shown
        district = cleaned["postcode"]
        if not district:
            self.add_error(
                "postcode",
                "Enter the first half of their postcode so we can find the right team, "
                "or choose the service they met",
            )
            return
        found = selectors.services_covering_district(district=district)
        if len(found) == 1:
            cleaned["service"] = found[0]
        elif not found:
            self.add_error(
                "service",
                f"We could not find a service for {district}. Choose the service they met",
            )
        else:
            self.add_error(
                "service",
                f"More than one service covers {district}. Choose the service they met",
            )

    def service_kwargs(self) -> dict:
        """What ``services.referral_request_create`` takes, from a valid form."""
        data = self.cleaned_data
        return {
            "service": data["service"],
            "source": data["source"],
            "preferred_name": data["preferred_name"],
            "age_band": data["age_band"],
            "mobile": data["mobile"],
            "home_district": data["postcode"],
            "needs": list(data["needs"]),
            "notes": data["notes"],
            "referrer_name": data["referrer_name"],
            "referrer_relationship": data["referrer_relationship"],
            "referrer_phone": data["referrer_phone"],
        }

    def add_service_errors(self, error: ValidationError) -> None:
        """Show a refusal from the service on the field it is about (or above the form)."""
        add_service_errors(self, error, MODEL_TO_FORM_FIELD)
