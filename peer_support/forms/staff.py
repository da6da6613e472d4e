"""Forms for the casework staff pages (peer support workers and coordinators).

They only parse and tidy input: every rule about who may do what, and whether it is possible,
is the services' (which re-check it and raise ``ValidationError`` with messages the views put
back on these forms).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Sequence

from django import forms
from django.core.exceptions import ValidationError

from portal.phone import validate_uk_mobile

from ..models import DISTRICT_RE, AgeBand, Exclusion, Match, Supporter
from .common import (
    AccessibilityField,
    AvailabilityField,
    DateInput,
    NeedsField,
    WordListField,
)

# Ids arrive from the browser: keep them within a 64-bit integer so no database is handed a
# number it cannot store (SQLite raises on bigger ones instead of finding nothing).
MAX_ID = 2**63 - 1

SUPPORTER_GENDER_CHOICES = [
    ("", "No preference"),
    ("woman", "A woman"),
    ("man", "A man"),
]


def _district(value: str) -> str:
    district = "".join((value or "").split()).upper()
    if district and not DISTRICT_RE.match(district):
        raise ValidationError('Enter the first half of a postcode, like "LS6" or "NM1"')
    return district


class ServiceChoiceField(forms.TypedChoiceField):
    """One of the services the user does casework for; the choices come from the view."""

    def __init__(self, **kwargs) -> None:
        kwargs.setdefault("coerce", int)
        kwargs.setdefault("label", "Which service?")
        kwargs.setdefault("error_messages", {"invalid_choice": "Choose one of your services"})
        super().__init__(**kwargs)


class ShowsHiddenErrors:
    """A hidden field's error is shown at the top of the form: the shared template lists
    visible fields' errors only, and a tampered hidden value must still say why it failed."""

    def full_clean(self) -> None:
        super().full_clean()
        if self._errors is None:
            return
        for name in list(self._errors):
            field = self.fields.get(name)
            if field is not None and field.widget.is_hidden:
                for message in self._errors.pop(name):
                    self.add_error(None, message)


def _use_services(form: forms.Form, services: Sequence) -> None:
    """A select of the user's services, hidden (and preset) when they have only one."""
    field = form.fields["service"]
    field.choices = [(s.pk, s.name) for s in services]
    if len(services) == 1:
        field.widget = forms.HiddenInput()
        field.initial = services[0].pk


class ReferralForm(ShowsHiddenErrors, forms.Form):
    """L&D staff add a person they have met."""

    service = ServiceChoiceField()
    preferred_name = forms.CharField(
        label="First name, or the name they like to be called",
        max_length=100,
        error_messages={"required": "Enter the name they like to be called"},
    )
    mobile = forms.CharField(
        label="Mobile phone number (optional)",
        required=False,
        max_length=30,
        validators=[validate_uk_mobile],
        help_text="They sign in with a code sent to this number. Needed before they can "
        "have a sign-in.",
    )
    age_band = forms.ChoiceField(
        label="How old are they?",
        choices=AgeBand.choices,
        widget=forms.RadioSelect,
        error_messages={"required": "Choose their age group"},
    )
    gender = forms.CharField(
        label="Gender (optional)", required=False, max_length=50, help_text="In their words."
    )
    preferred_supporter_gender = forms.ChoiceField(
        label="Would they like their supporter to be",
        choices=SUPPORTER_GENDER_CHOICES,
        widget=forms.RadioSelect,
        required=False,
        initial="",
    )
    languages = WordListField(
        label="Languages they speak (optional)",
        help_text="Separate them with commas, like English, Polish.",
    )
    home_district = forms.CharField(
        label="First half of their home postcode (optional)",
        required=False,
        max_length=8,
        help_text='Like "LS6". Leave empty if they have no fixed address.',
    )
    needs = NeedsField(label="What would they like support with?")
    accessibility_needs = AccessibilityField(label="Accessibility needs")
    interests = WordListField(
        label="Interests (optional)",
        help_text="Separate them with commas, like football, cooking.",
    )
    availability = AvailabilityField(label="When are they usually free?")

    def __init__(self, *args, services: Sequence, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        _use_services(self, services)

    def clean_home_district(self) -> str:
        return _district(self.cleaned_data["home_district"])


class ExclusionForm(forms.Form):
    """Two people who must never be matched: this person and a supporter, or another
    person (by record number)."""

    kind = forms.ChoiceField(
        label="Why must they never be matched?",
        choices=Exclusion.Kind.choices,
        widget=forms.RadioSelect,
        error_messages={"required": "Choose why they must never be matched"},
    )
    reason = forms.CharField(
        label="What happened",
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Staff only: volunteers never see this, or that the list exists.",
        error_messages={"required": "Say what happened"},
    )
    supporter = forms.TypedChoiceField(
        label="A supporter",
        coerce=int,
        required=False,
        empty_value=None,
        error_messages={"invalid_choice": "Choose one of the service's supporters"},
    )
    other_record = forms.IntegerField(
        label="Or another person's record number",
        required=False,
        min_value=1,
        max_value=MAX_ID,
        help_text="The number on their record page.",
    )

    def __init__(self, *args, supporters: Iterable[Supporter], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["supporter"].choices = [("", "Choose a supporter")] + [
            (s.pk, f"{s.user.first_name or 'Supporter'} (supporter {s.pk})") for s in supporters
        ]

    def clean(self):
        cleaned = super().clean()
        if not self.errors:
            chosen = [cleaned.get("supporter"), cleaned.get("other_record")]
            if all(value is None for value in chosen):
                raise ValidationError("Choose a supporter or enter another person's number")
            if all(value is not None for value in chosen):
                raise ValidationError("Choose a supporter or another person, not both")
        return cleaned


class MatchEndForm(forms.Form):
    reason = forms.ChoiceField(
        label="Why is the match ending?",
        choices=Match.EndReason.choices,
        widget=forms.RadioSelect,
        error_messages={"required": "Choose why the match is ending"},
    )
    close_record = forms.BooleanField(
        label="Close their record too",
        required=False,
        help_text="Otherwise they go back on the waiting list for a new supporter.",
    )


class CloseRecordForm(forms.Form):
    reason = forms.CharField(
        label="Why are you closing this record?",
        max_length=200,
        help_text="For example: moved away, does not want support any more.",
        error_messages={"required": "Say why you are closing the record"},
    )


class CustodyForm(forms.Form):
    """Whether the person is in custody or on remand: no text reminders go to them while
    they are (their phone may be held, and a text could reach someone else)."""

    in_custody = forms.TypedChoiceField(
        label="In custody or on remand",
        choices=[("yes", "Yes"), ("no", "No")],
        coerce=lambda value: value == "yes",
        widget=forms.RadioSelect,
        help_text="No reminders are sent while this is yes.",
        error_messages={
            "required": "Choose yes if they are in custody or on remand",
            "invalid_choice": "Choose yes if they are in custody or on remand",
        },
    )


class OfferForm(forms.Form):
    """The "Offer to ..." buttons: which supporter."""

    supporter = forms.IntegerField(min_value=1, max_value=MAX_ID, widget=forms.HiddenInput)


def training_label(code: str) -> str:
    return code.replace("_", " ").capitalize()


class ReadinessForm(forms.Form):
    """Staff record a supporter's checks, training and supervision."""

    dbs_checked_on = forms.DateField(
        label="Date of their DBS check", required=False, widget=DateInput
    )
    dbs_level = forms.ChoiceField(
        label="DBS level",
        choices=[("", "Not recorded"), *Supporter.DBSLevel.choices],
        required=False,
        widget=forms.RadioSelect,
    )
    risk_assessment_recorded_on = forms.DateField(
        label="Date of the risk assessment (if the check had a disclosure)",
        required=False,
        widget=DateInput,
    )
    training_modules_completed = forms.MultipleChoiceField(
        label="Training completed",
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    last_supervision_on = forms.DateField(
        label="Date of their last supervision", required=False, widget=DateInput
    )
    cleared_for_under_18 = forms.BooleanField(
        label="Cleared to support people under 18", required=False
    )

    def __init__(self, *args, required_training: Sequence[str], recorded: Sequence[str], **kw):
        super().__init__(*args, **kw)
        codes = list(dict.fromkeys([*required_training, *recorded]))
        self.fields["training_modules_completed"].choices = [
            (code, training_label(code)) for code in codes
        ]

    def clean(self):
        cleaned = super().clean()
        for name in ("dbs_checked_on", "risk_assessment_recorded_on", "last_supervision_on"):
            value = cleaned.get(name)
            if value is not None and value < dt.date(1950, 1, 1):
                self.add_error(name, "Enter a real date, like 2026-01-31")
        return cleaned


class WaitingListForm(ShowsHiddenErrors, forms.Form):
    """Which service's waiting list to match (a select only when there are several)."""

    service = ServiceChoiceField()

    def __init__(self, *args, services: Sequence, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        _use_services(self, services)


_PAIR = re.compile(r"\A([0-9]{1,19}):([0-9]{1,19})\Z")
MAX_PAIRS = 10_000


def parse_pairs(values: Sequence[str]) -> dict[int, int]:
    """The proposal's hidden ``pairs`` ("<record id>:<supporter id>", comma-separated) back into
    person id -> supporter id. Anything that is not exactly what the page wrote is refused as
    a whole: a half-read proposal must not send half the offers."""
    unreadable = ValidationError(
        "The proposed matches could not be read. Propose them again and send those.",
        code="unreadable_pairs",
    )
    if not values:
        raise ValidationError("There are no proposed matches to send.", code="no_pairs")
    if len(values) > MAX_PAIRS:
        raise unreadable
    pairs: dict[int, int] = {}
    for value in values:
        found = _PAIR.match(value)
        if found is None:
            raise unreadable
        record_id, supporter_id = int(found.group(1)), int(found.group(2))
        if not (1 <= record_id <= MAX_ID and 1 <= supporter_id <= MAX_ID):
            raise unreadable
        if record_id in pairs:
            raise ValidationError(
                "The same person is in the proposal twice. Propose the matches again.",
                code="duplicate_person",
            )
        pairs[record_id] = supporter_id
    return pairs
