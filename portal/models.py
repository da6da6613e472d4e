"""The core: people who sign in, and the L&D services every person-level record belongs to."""

from __future__ import annotations

from django.contrib.auth.models import AbstractUser, UserManager
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower
from phonenumber_field.modelfields import PhoneNumberField

from .phone import UKMobileNumberField


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
