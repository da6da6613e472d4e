"""The core: people who sign in, and the L&D services every person-level record belongs to."""

from __future__ import annotations

from django.contrib.auth.models import AbstractUser, UserManager
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower
from phonenumber_field.modelfields import PhoneNumberField

from .phone import UKMobileNumberField
from .roles import Role


class AppendOnlyError(Exception):
    """Raised on any attempt to change or delete an append-only record."""


class AppendOnlyQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise AppendOnlyError("Audit events cannot be changed.")

    def delete(self):
        raise AppendOnlyError("Audit events cannot be deleted.")

    def bulk_update(self, *args, **kwargs):
        raise AppendOnlyError("Audit events cannot be changed.")


AppendOnlyManager = models.Manager.from_queryset(AppendOnlyQuerySet)


class PortalUserManager(UserManager):
    def get_by_natural_key(self, username: str) -> User:
        return self.get(**{f"{self.model.USERNAME_FIELD}__iexact": username})


class User(AbstractUser):
    """Anyone who signs in: service users, supporters, staff, editors, commissioners.

    Service users often have no email address, so both email and mobile number are optional;
    each is unique when it is set. ``username`` is an internal handle only, never shown.
    """

    email = models.EmailField("email address", blank=True, default="")
    mobile = UKMobileNumberField(
        "mobile number",
        blank=True,
        default="",
        region="GB",
        help_text="A UK mobile number. Used to sign in by text message code.",
    )

    phone_verified = models.BooleanField(
        default=False, help_text="Whether a sign-in code sent to this number has been used."
    )

    objects = PortalUserManager()

    class Meta(AbstractUser.Meta):
        swappable = "AUTH_USER_MODEL"
        constraints = [
            models.UniqueConstraint(
                Lower("email"),
                condition=~Q(email=""),
                name="portal_user_email_unique_when_set",
                violation_error_message="A user with this email address already exists.",
            ),
            models.UniqueConstraint(
                fields=["mobile"],
                condition=~Q(mobile=""),
                name="portal_user_mobile_unique_when_set",
                violation_error_message="A user with this mobile number already exists.",
            ),
        ]

    def __str__(self) -> str:
        # Never a phone number or email: this string ends up in logs and admin history.
        return f"User {self.pk}"


class Service(models.Model):
    """An NHS England Liaison and Diversion service: the organisation people are referred by."""

    name = models.CharField(max_length=200, unique=True)
    slug = models.SlugField(max_length=100, unique=True)
    area = models.CharField(
        "area covered",
        max_length=300,
        help_text="The towns, boroughs or counties the service covers, in plain words.",
    )
    phone = PhoneNumberField(
        "public phone number",
        region="GB",
        help_text="The number service users and families ring. Used in text messages.",
    )
    hours = models.CharField(
        "opening hours",
        max_length=300,
        help_text='For example "Every day, 8am to 10pm".',
    )
    postcode_districts = models.CharField(
        "postcode districts covered",
        max_length=1000,
        blank=True,
        default="",
        help_text='The first half of the postcodes covered, separated by spaces: "NM1 NM2 DB4".',
    )

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class ServiceLocation(models.Model):
    """A police custody suite or court that a service covers."""

    class Kind(models.TextChoices):
        CUSTODY_SUITE = "custody", "Police custody suite"
        MAGISTRATES_COURT = "magistrates", "Magistrates' court"
        CROWN_COURT = "crown", "Crown court"
        YOUTH_COURT = "youth", "Youth court"

    service = models.ForeignKey(Service, on_delete=models.CASCADE, related_name="locations")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    name = models.CharField(max_length=200)
    town = models.CharField(max_length=100)

    class Meta:
        ordering = ["kind", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["service", "kind", "name"], name="portal_location_unique_per_service"
            )
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.get_kind_display()})"


class Membership(models.Model):
    """A person's role in one L&D service. Staff, volunteers and service users all belong to
    one or more services, and see only those services' people."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="memberships")
    service = models.ForeignKey(Service, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=30, choices=Role.choices)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["user", "service", "role"], name="portal_membership_unique"
            )
        ]

    def __str__(self) -> str:
        return f"Membership {self.pk}: {self.get_role_display()} in service {self.service_id}"


class ConsentPurpose(models.TextChoices):
    PEER_SUPPORT = "peer_support", "Peer support"
    SMS_REMINDERS = "sms_reminders", "Text message reminders"
    INFORMATION_SHARING = "information_sharing", "Sharing information with police and courts"
    CASE_STUDY = "case_study", "Publishing my story as a case study"


class ConsentMethod(models.TextChoices):
    VERBAL_IN_CUSTODY = "verbal_custody", "Said out loud, in police custody"
    VERBAL_AT_COURT = "verbal_court", "Said out loud, at court"
    VERBAL_PHONE = "verbal_phone", "Said out loud, on the phone"
    WRITTEN = "written", "Signed on paper"
    ONLINE = "online", "Online, in this portal"


class ConsentWording(models.Model):
    """What the person was told when they agreed, versioned so old consents keep their text."""

    purpose = models.CharField(max_length=30, choices=ConsentPurpose.choices)
    version = models.PositiveIntegerField()
    text = models.TextField(help_text="What the person is told, in plain English.")
    effective_from = models.DateTimeField()

    class Meta:
        ordering = ["purpose", "-version"]
        constraints = [
            models.UniqueConstraint(
                fields=["purpose", "version"], name="portal_consentwording_unique_version"
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_purpose_display()} wording v{self.version}"


class Consent(models.Model):
    """One agreement by one person for one purpose, and its withdrawal if any.

    Giving consent again after withdrawing makes a new row, so the history stays whole.
    """

    subject = models.ForeignKey(User, on_delete=models.PROTECT, related_name="consents")
    service = models.ForeignKey(Service, on_delete=models.PROTECT, related_name="consents")
    purpose = models.CharField(max_length=30, choices=ConsentPurpose.choices)
    wording = models.ForeignKey(ConsentWording, on_delete=models.PROTECT)
    given_at = models.DateTimeField()
    given_method = models.CharField(max_length=20, choices=ConsentMethod.choices)
    recorded_by = models.ForeignKey(
        User, on_delete=models.PROTECT, related_name="consents_recorded"
    )
    withdrawn_at = models.DateTimeField(null=True, blank=True)
    withdrawn_method = models.CharField(
        max_length=20, choices=ConsentMethod.choices, blank=True, default=""
    )
    withdrawn_recorded_by = models.ForeignKey(
        User,
        on_delete=models.PROTECT,
        related_name="consent_withdrawals_recorded",
        null=True,
        blank=True,
    )

    class Meta:
        ordering = ["purpose", "-given_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["subject", "service", "purpose"],
                condition=Q(withdrawn_at__isnull=True),
                name="portal_consent_one_active_per_purpose",
                violation_error_message="This consent has already been given.",
            ),
            models.CheckConstraint(
                condition=Q(withdrawn_at__isnull=True) | Q(withdrawn_at__gte=models.F("given_at")),
                name="portal_consent_withdrawn_after_given",
            ),
        ]
        indexes = [models.Index(fields=["subject", "purpose", "withdrawn_at"])]

    def __str__(self) -> str:
        return f"Consent {self.pk}"

    @property
    def is_active(self) -> bool:
        return self.withdrawn_at is None


class AuditEvent(models.Model):
    """Append-only record of who touched which person-level data, when, and from which service.

    Rows are never changed or deleted: the ORM refuses, the admin is read-only, and database
    triggers refuse UPDATE and DELETE on both SQLite and PostgreSQL.
    """

    class Action(models.TextChoices):
        VIEW = "view", "Viewed"
        CREATE = "create", "Created"
        CHANGE = "change", "Changed"
        DELETE = "delete", "Deleted"
        EXPORT = "export", "Exported"
        PERMISSION_CHANGE = "permission_change", "Changed permissions"

    at = models.DateTimeField(auto_now_add=True, db_index=True)
    actor = models.ForeignKey(
        User, on_delete=models.PROTECT, related_name="audit_events", null=True, blank=True
    )
    action = models.CharField(max_length=20, choices=Action.choices)
    object_type = models.CharField(max_length=100)
    object_id = models.CharField(max_length=64)
    subject = models.ForeignKey(
        User,
        on_delete=models.PROTECT,
        related_name="audit_events_about",
        null=True,
        blank=True,
        help_text="The person the data is about, when there is one.",
    )
    service = models.ForeignKey(
        Service, on_delete=models.PROTECT, null=True, blank=True, related_name="audit_events"
    )
    detail = models.CharField(
        max_length=200, blank=True, default="", help_text="Field names only, never values."
    )

    objects = AppendOnlyManager()

    class Meta:
        ordering = ["-at", "-pk"]
        indexes = [models.Index(fields=["object_type", "object_id"])]

    def __str__(self) -> str:
        return f"Audit {self.pk}: {self.action} {self.object_type} {self.object_id}"

    def save(self, *args, **kwargs):
        if self.pk is not None or not self._state.adding:
            raise AppendOnlyError("Audit events cannot be changed.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AppendOnlyError("Audit events cannot be deleted.")
