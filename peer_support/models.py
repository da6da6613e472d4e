"""Peer support records: the people referred, their supporters, who must never meet, matches
and appointments.

Lists (needs, languages, districts...) are JSON lists validated against their choices, so the
same schema works on SQLite and PostgreSQL without ArrayField. Models hold data and its shape
only: every write goes through ``peer_support/services.py``.
"""

from __future__ import annotations

import re

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator
from django.db import models
from django.db.models import Q
from django.utils.deconstruct import deconstructible

from portal.phone import UKMobileNumberField, UKPhoneNumberField

from .matching import NEED_LABELS

NEED_CHOICES = [(code, label.capitalize()) for code, label in NEED_LABELS.items()]

ACCESSIBILITY_CHOICES = [
    ("easy_read", "Easy read"),
    ("large_print", "Large print"),
    ("interpreter", "Interpreter"),
]

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
DAY_PARTS = ("morning", "afternoon", "evening")

# Outward code of a UK postcode: "LS6", "NM1", "EC1A", "B2". Stored upper case.
DISTRICT_RE = re.compile(r"^[A-Z]{1,2}[0-9][0-9A-Z]?$")


@deconstructible
class ChoiceListValidator:
    """A JSON value must be a list of distinct codes taken from ``choices``."""

    def __init__(self, choices: list[str]) -> None:
        self.choices = list(choices)

    def __call__(self, value) -> None:
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise ValidationError("Enter a list of codes.", code="not_a_list")
        unknown = sorted(set(value) - set(self.choices))
        if unknown:
            raise ValidationError(
                "Unknown choice(s): %(unknown)s.",
                code="unknown_choice",
                params={"unknown": ", ".join(unknown)},
            )
        if len(set(value)) != len(value):
            raise ValidationError("A choice is listed twice.", code="duplicate")

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ChoiceListValidator) and self.choices == other.choices

    def __hash__(self) -> int:
        return hash(tuple(self.choices))


def validate_word_list(value) -> None:
    """Free words (languages, interests): a list of short non-empty strings."""
    if not isinstance(value, list) or not all(
        isinstance(v, str) and v.strip() and len(v) <= 50 for v in value
    ):
        raise ValidationError("Enter a list of short words.", code="not_a_word_list")


def validate_district(value: str) -> None:
    if value and not DISTRICT_RE.match(value):
        raise ValidationError(
            'Enter the first half of a postcode, like "LS6" or "NM1".', code="invalid_district"
        )


def validate_district_list(value) -> None:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ValidationError("Enter a list of postcode districts.", code="not_a_list")
    for district in value:
        validate_district(district)
        if not district:
            raise ValidationError("A postcode district is empty.", code="invalid_district")


def validate_availability(value) -> None:
    """Weekly slots as ``[["mon", "morning"], ["sat", "afternoon"]]``."""
    if not isinstance(value, list):
        raise ValidationError("Enter a list of [day, part of day] pairs.", code="not_a_list")
    for slot in value:
        if (
            not isinstance(slot, list | tuple)
            or len(slot) != 2
            or slot[0] not in DAYS
            or slot[1] not in DAY_PARTS
        ):
            raise ValidationError(
                "Each time must be a day (mon..sun) and a part of the day "
                "(morning, afternoon, evening).",
                code="invalid_slot",
            )


class AgeBand(models.TextChoices):
    UNDER_18 = "under_18", "Under 18"
    AGE_18_24 = "18_24", "18 to 24"
    AGE_25_PLUS = "25_plus", "25 or over"


class ServiceUserRecord(models.Model):
    """A person referred by L&D, and their peer support record.

    ``user`` is empty until the person has an account: a referral often comes first. Nothing
    that needs consent (matching, reminders) can happen until it is set, because consent is
    recorded against the account.
    """

    class Status(models.TextChoices):
        REFERRED = "referred", "Referred"
        AWAITING_MATCH = "awaiting_match", "Waiting for a supporter"
        MATCHED = "matched", "Matched"
        CLOSED = "closed", "Closed"

    class Source(models.TextChoices):
        LD_TEAM = "ld_team", "Referred by the Liaison and Diversion team"
        SELF = "self", "Asked for themselves"
        SOMEONE_ELSE = "someone_else", "Asked for by someone else, with their agreement"

    service = models.ForeignKey(
        "portal.Service", on_delete=models.PROTECT, related_name="service_user_records"
    )
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="peer_record",
        null=True,
        blank=True,
    )
    preferred_name = models.CharField(max_length=100)
    mobile = UKMobileNumberField(blank=True, default="", region="GB")
    age_band = models.CharField(max_length=10, choices=AgeBand.choices)
    gender = models.CharField(max_length=50, blank=True, default="")
    preferred_supporter_gender = models.CharField(
        max_length=50, blank=True, default="", help_text="Blank: no preference."
    )
    languages = models.JSONField(
        default=list, blank=True, validators=[validate_word_list], help_text='e.g. ["en", "pl"]'
    )
    home_district = models.CharField(
        "home postcode district",
        max_length=4,
        blank=True,
        default="",
        validators=[validate_district],
    )
    needs = models.JSONField(
        default=list, blank=True, validators=[ChoiceListValidator(list(NEED_LABELS))]
    )
    accessibility_needs = models.JSONField(
        default=list,
        blank=True,
        validators=[ChoiceListValidator([code for code, _ in ACCESSIBILITY_CHOICES])],
    )
    interests = models.JSONField(default=list, blank=True, validators=[validate_word_list])
    availability = models.JSONField(
        "times they are free",
        default=list,
        blank=True,
        validators=[validate_availability],
        help_text='Weekly times as [day, part of day] pairs, e.g. [["mon", "morning"]].',
    )
    source = models.CharField(
        "how the referral arrived", max_length=20, choices=Source.choices, default=Source.LD_TEAM
    )
    referrer_name = models.CharField(
        "name of the person who asked for them", max_length=100, blank=True, default=""
    )
    referrer_relationship = models.CharField(max_length=100, blank=True, default="")
    referrer_phone = UKPhoneNumberField(blank=True, default="", region="GB")
    referral_notes = models.TextField(
        blank=True,
        default="",
        help_text="What the person (or whoever asked for them) told us. Sanitised on write.",
    )
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.REFERRED)
    closed_reason = models.CharField(max_length=200, blank=True, default="")
    in_custody = models.BooleanField(
        default=False, help_text="While in custody the person is not sent text messages."
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["service", "status"])]

    def __str__(self) -> str:
        # Never the name or number: this string reaches logs and admin history.
        return f"Record {self.pk}"

    def clean_fields(self, exclude=None) -> None:
        # Normalise before the validators run: "ls6 " is "LS6".
        self.home_district = (self.home_district or "").strip().upper()
        super().clean_fields(exclude=exclude)

    def clean(self) -> None:
        if self.status == self.Status.CLOSED and not self.closed_reason.strip():
            raise ValidationError({"closed_reason": "Say why the record is closed."})
        if self.status != self.Status.CLOSED and self.closed_reason:
            raise ValidationError({"closed_reason": "Only a closed record has a reason."})


class Supporter(models.Model):
    """A peer support worker (paid) or volunteer, with their checks and training."""

    class Kind(models.TextChoices):
        WORKER = "worker", "Peer support worker"
        VOLUNTEER = "volunteer", "Peer volunteer"

    class DBSLevel(models.TextChoices):
        BASIC = "basic", "Basic"
        STANDARD = "standard", "Standard"
        ENHANCED = "enhanced", "Enhanced"

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="supporter_profile"
    )
    kind = models.CharField(max_length=10, choices=Kind.choices)
    services = models.ManyToManyField("portal.Service", related_name="supporters")
    lived_experience = models.JSONField(
        default=list, blank=True, validators=[ChoiceListValidator(list(NEED_LABELS))]
    )
    languages = models.JSONField(default=list, blank=True, validators=[validate_word_list])
    gender = models.CharField(max_length=50, blank=True, default="")
    districts_covered = models.JSONField(
        default=list, blank=True, validators=[validate_district_list]
    )
    interests = models.JSONField(default=list, blank=True, validators=[validate_word_list])
    capacity = models.PositiveSmallIntegerField(
        default=3, help_text="How many people they can support at once."
    )
    availability = models.JSONField(
        "weekly availability", default=list, blank=True, validators=[validate_availability]
    )
    paused = models.BooleanField(default=False)
    paused_reason = models.CharField(max_length=200, blank=True, default="")
    dbs_checked_on = models.DateField("DBS check date", null=True, blank=True)
    dbs_level = models.CharField(
        "DBS level", max_length=10, choices=DBSLevel.choices, blank=True, default=""
    )
    risk_assessment_recorded_on = models.DateField(null=True, blank=True)
    risk_assessment_notes = models.CharField(max_length=500, blank=True, default="")
    training_modules_completed = models.JSONField(
        default=list, blank=True, validators=[validate_word_list]
    )
    last_supervision_on = models.DateField(null=True, blank=True)
    cleared_for_under_18 = models.BooleanField("cleared to support under-18s", default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["pk"]

    def __str__(self) -> str:
        return f"Supporter {self.pk}"

    def clean_fields(self, exclude=None) -> None:
        if isinstance(self.districts_covered, list):
            self.districts_covered = [
                d.strip().upper() if isinstance(d, str) else d for d in self.districts_covered
            ]
        super().clean_fields(exclude=exclude)

    def clean(self) -> None:
        if self.paused and not self.paused_reason.strip():
            raise ValidationError({"paused_reason": "Say why the supporter is paused."})


class Exclusion(models.Model):
    """Two people who must never be matched: a person and a supporter, or two people referred
    (then neither may have the other's supporter). The reason is for staff only."""

    class Kind(models.TextChoices):
        CO_DEFENDANT = "co_defendant", "Co-defendant"
        VICTIM_PERPETRATOR = "victim_perpetrator", "Victim and perpetrator"
        KNOWN_TO_EACH_OTHER = "known_to_each_other", "Known to each other"
        FAMILY = "family", "Family"
        OTHER = "other", "Other"

    service_user = models.ForeignKey(
        ServiceUserRecord, on_delete=models.CASCADE, related_name="exclusions"
    )
    supporter = models.ForeignKey(
        Supporter, on_delete=models.CASCADE, related_name="exclusions", null=True, blank=True
    )
    other_service_user = models.ForeignKey(
        ServiceUserRecord,
        on_delete=models.CASCADE,
        related_name="exclusions_against",
        null=True,
        blank=True,
    )
    kind = models.CharField(max_length=30, choices=Kind.choices)
    reason = models.TextField(help_text="Staff only. Never shown to volunteers.")
    entered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=(Q(supporter__isnull=False) & Q(other_service_user__isnull=True))
                | (Q(supporter__isnull=True) & Q(other_service_user__isnull=False)),
                name="peer_exclusion_exactly_one_target",
                violation_error_message="Choose either a supporter or another person, not both.",
            ),
            models.CheckConstraint(
                condition=~Q(other_service_user=models.F("service_user")),
                name="peer_exclusion_not_self",
                violation_error_message="A person cannot be excluded from themselves.",
            ),
        ]

    def __str__(self) -> str:
        return f"Exclusion {self.pk}"


class Match(models.Model):
    """A person and their supporter, from start to end. One active match per person."""

    class EndReason(models.TextChoices):
        GOALS_MET = "goals_met", "Goals met"
        DISENGAGED = "disengaged", "Stopped engaging"
        MOVED = "moved", "Moved away"
        SAFEGUARDING = "safeguarding", "Safeguarding"
        SUPPORTER_LEFT = "supporter_left", "Supporter left"

    service_user = models.ForeignKey(
        ServiceUserRecord, on_delete=models.PROTECT, related_name="matches"
    )
    supporter = models.ForeignKey(Supporter, on_delete=models.PROTECT, related_name="matches")
    started_at = models.DateTimeField()
    ended_at = models.DateTimeField(null=True, blank=True)
    end_reason = models.CharField(max_length=20, choices=EndReason.choices, blank=True, default="")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    ended_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )

    class Meta:
        ordering = ["-started_at", "-pk"]
        verbose_name_plural = "matches"
        constraints = [
            models.UniqueConstraint(
                fields=["service_user"],
                condition=Q(ended_at__isnull=True),
                name="peer_match_one_active_per_person",
                violation_error_message="This person already has a supporter.",
            ),
            models.CheckConstraint(
                condition=(Q(ended_at__isnull=True) & Q(end_reason=""))
                | (Q(ended_at__gte=models.F("started_at")) & ~Q(end_reason="")),
                name="peer_match_end_consistent",
                violation_error_message="An ended match needs an end time and a reason.",
            ),
        ]
        indexes = [models.Index(fields=["supporter", "ended_at"])]

    def __str__(self) -> str:
        return f"Match {self.pk}"

    @property
    def is_active(self) -> bool:
        return self.ended_at is None


class Appointment(models.Model):
    """An appointment the person is helped to get to. ``place_label`` is what text messages
    may say; the full address stays in the portal."""

    class Kind(models.TextChoices):
        MENTAL_HEALTH_ASSESSMENT = "mental_health_assessment", "Mental health assessment"
        DRUG_ALCOHOL_SERVICE = "drug_alcohol_service", "Drug and alcohol service"
        GP = "gp", "GP"
        HOUSING = "housing", "Housing"
        BENEFITS = "benefits", "Benefits"
        OTHER = "other", "Other"

    class Outcome(models.TextChoices):
        ATTENDED = "attended", "Attended"
        DID_NOT_ATTEND = "did_not_attend", "Did not attend"
        CANCELLED = "cancelled", "Cancelled"
        REARRANGED = "rearranged", "Rearranged"
        UNKNOWN = "unknown", "Not known"

    class Status(models.TextChoices):
        SCHEDULED = "scheduled", "Scheduled"
        CANCELLED = "cancelled", "Cancelled"

    service_user = models.ForeignKey(
        ServiceUserRecord, on_delete=models.PROTECT, related_name="appointments"
    )
    kind = models.CharField(max_length=30, choices=Kind.choices)
    place_label = models.CharField(
        max_length=80, help_text='A neutral name used in text messages, e.g. "Riverside Centre".'
    )
    address = models.CharField(max_length=300, help_text="Full address. Shown in the portal only.")
    starts_at = models.DateTimeField(db_index=True)
    arranged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    supporter_attending = models.BooleanField(default=False)
    outcome = models.CharField(max_length=20, choices=Outcome.choices, blank=True, default="")
    outcome_recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    outcome_recorded_at = models.DateTimeField(null=True, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.SCHEDULED)
    confirmed_at = models.DateTimeField(
        null=True, blank=True, help_text="When the person said they will be there."
    )
    change_requested_at = models.DateTimeField(
        null=True, blank=True, help_text="When the person asked to change it."
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["starts_at", "pk"]

    def __str__(self) -> str:
        return f"Appointment {self.pk}"

    @property
    def reply_state(self) -> str:
        """What the person last said about it: "confirmed", "change" or ""."""
        if self.change_requested_at and (
            not self.confirmed_at or self.change_requested_at > self.confirmed_at
        ):
            return "change"
        return "confirmed" if self.confirmed_at else ""


class Offer(models.Model):
    """A supporter is asked whether they can support a person, and has until ``respond_by``
    to say yes. Accepting makes the match (through the same rules as ``match_create``);
    declining, or letting the deadline pass, offers the person to the next candidate.

    ``score`` and ``explanation`` are what the coordinator saw when the offer was made. The
    supporter sees neither: only the person's first name, needs and area.
    """

    class Status(models.TextChoices):
        PENDING = "pending", "Waiting for an answer"
        ACCEPTED = "accepted", "Accepted"
        DECLINED = "declined", "Declined"
        EXPIRED = "expired", "No answer in time"
        WITHDRAWN = "withdrawn", "Withdrawn"

    class DeclineReason(models.TextChoices):
        NO_TIME = "no_time", "I do not have time right now"
        NOT_A_GOOD_FIT = "not_a_good_fit", "I do not think I am the right person"
        KNOW_THEM = "know_them", "I may know this person"
        OTHER = "other", "Another reason"

    service_user = models.ForeignKey(
        ServiceUserRecord, on_delete=models.PROTECT, related_name="offers"
    )
    supporter = models.ForeignKey(Supporter, on_delete=models.PROTECT, related_name="offers")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    offered_at = models.DateTimeField()
    respond_by = models.DateTimeField()
    offered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
        help_text="Empty when the portal offered the next candidate by itself.",
    )
    score = models.FloatField(default=0.0)
    explanation = models.CharField(max_length=300, blank=True, default="")
    responded_at = models.DateTimeField(null=True, blank=True)
    decline_reason = models.CharField(
        max_length=20, choices=DeclineReason.choices, blank=True, default=""
    )
    closed_note = models.CharField(
        max_length=200,
        blank=True,
        default="",
        help_text="Why a withdrawn offer was withdrawn (staff only).",
    )
    match = models.OneToOneField(
        Match, on_delete=models.PROTECT, related_name="offer", null=True, blank=True
    )
    supporter_notified_at = models.DateTimeField(
        null=True, blank=True, help_text="When the supporter was sent a text about it."
    )

    class Meta:
        ordering = ["-offered_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["service_user"],
                condition=Q(status="pending"),
                name="peer_offer_one_pending_per_person",
                violation_error_message="This person already has an offer waiting for an answer.",
            ),
            models.CheckConstraint(
                condition=Q(respond_by__gt=models.F("offered_at")),
                name="peer_offer_deadline_after_offer",
            ),
        ]
        indexes = [
            models.Index(fields=["status", "respond_by"]),
            models.Index(fields=["supporter", "status"]),
        ]

    def __str__(self) -> str:
        return f"Offer {self.pk}"


class Contact(models.Model):
    """One contact between a supporter and the person they support. Notes are sanitised with
    bleach on every write (``peer_support.sanitise``); only the supporter who wrote them and
    the service's casework staff read them."""

    class Method(models.TextChoices):
        PHONE = "phone", "Phone call"
        IN_PERSON = "in_person", "In person"
        TEXT = "text", "Text message"
        VIDEO = "video", "Video call"

    match = models.ForeignKey(Match, on_delete=models.PROTECT, related_name="contacts")
    service_user = models.ForeignKey(
        ServiceUserRecord, on_delete=models.PROTECT, related_name="contacts"
    )
    supporter = models.ForeignKey(Supporter, on_delete=models.PROTECT, related_name="contacts")
    occurred_at = models.DateTimeField("when")
    method = models.CharField("how", max_length=10, choices=Method.choices)
    duration_minutes = models.PositiveSmallIntegerField(
        "how long (minutes)", validators=[MaxValueValidator(24 * 60)]
    )
    summary = models.TextField("what you did")
    next_step = models.TextField("next step", blank=True, default="")
    safeguarding_concern = models.BooleanField(default=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-occurred_at", "-pk"]
        indexes = [models.Index(fields=["service_user", "occurred_at"])]

    def __str__(self) -> str:
        return f"Contact {self.pk}"


class Alert(models.Model):
    """Something the service's peer support workers and coordinators must look at: a
    safeguarding concern, an offer declined or unanswered, nobody left to offer, a supporter
    paused because they are not ready, a new request from the public form.

    ``message`` is plain English for staff of that service only; it never goes into a text
    message or a log line.
    """

    class Kind(models.TextChoices):
        SAFEGUARDING = "safeguarding", "Safeguarding concern"
        NEW_REFERRAL = "new_referral", "New request for a peer supporter"
        OFFER_ACCEPTED = "offer_accepted", "Offer accepted"
        OFFER_DECLINED = "offer_declined", "Offer declined"
        OFFER_EXPIRED = "offer_expired", "Offer not answered in time"
        NO_SUPPORTER = "no_supporter", "No supporter available"
        SUPPORTER_NOT_READY = "supporter_not_ready", "Supporter paused: not ready"
        CHANGE_REQUESTED = "change_requested", "Asked to change an appointment"
        SMS_FAILED = "sms_failed", "Text message not sent"
        SMS_REPLY = "sms_reply", "Text message to answer"

    URGENT_KINDS = frozenset({Kind.SAFEGUARDING})

    service = models.ForeignKey("portal.Service", on_delete=models.PROTECT, related_name="alerts")
    kind = models.CharField(max_length=30, choices=Kind.choices)
    message = models.CharField(max_length=300)
    service_user = models.ForeignKey(
        ServiceUserRecord, on_delete=models.PROTECT, related_name="alerts", null=True, blank=True
    )
    supporter = models.ForeignKey(
        Supporter, on_delete=models.PROTECT, related_name="alerts", null=True, blank=True
    )
    contact = models.ForeignKey(
        Contact, on_delete=models.PROTECT, related_name="alerts", null=True, blank=True
    )
    offer = models.ForeignKey(
        Offer, on_delete=models.PROTECT, related_name="alerts", null=True, blank=True
    )
    appointment = models.ForeignKey(
        Appointment, on_delete=models.PROTECT, related_name="alerts", null=True, blank=True
    )
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    notified_at = models.DateTimeField(
        null=True, blank=True, help_text="When staff were sent a text (urgent alerts only)."
    )

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["service", "resolved_at"])]

    def __str__(self) -> str:
        return f"Alert {self.pk}"

    @property
    def is_urgent(self) -> bool:
        return self.kind in self.URGENT_KINDS
