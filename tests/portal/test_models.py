"""The custom user: email and mobile are optional, and unique when set."""

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from portal.models import User
from tests.factories import ServiceFactory, ServiceLocationFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_service_users_need_neither_email_nor_mobile():
    for username in ("a", "b"):
        user = User(username=username)
        user.set_unusable_password()  # service users sign in by text message code
        user.full_clean()
        user.save()
    assert User.objects.filter(email="", mobile="").count() == 2


def test_email_is_unique_when_set_ignoring_case():
    UserFactory(email="Someone@Example.org")
    duplicate = User(username="dup", email="someone@example.org", password="!")
    with pytest.raises(ValidationError, match="email address already exists"):
        duplicate.full_clean()
    with pytest.raises(IntegrityError), transaction.atomic():
        duplicate.save()


def test_mobile_is_unique_when_set_and_stored_in_e164():
    user = UserFactory(mobile="07700 900123")
    user.refresh_from_db()
    assert user.mobile.as_e164 == "+447700900123"
    duplicate = User(username="dup", mobile="+447700900123", password="!")
    with pytest.raises(ValidationError, match="mobile number already exists"):
        duplicate.full_clean()
    with pytest.raises(IntegrityError), transaction.atomic():
        duplicate.save()


@pytest.mark.parametrize(
    "number",
    ["0113 496 0000", "+1 202 555 0143", "12345", "07700 900", "not a number"],
)
def test_mobile_must_be_a_uk_mobile(number):
    user = User(username="x", mobile=number, password="!")
    with pytest.raises(ValidationError) as caught:
        user.full_clean()
    assert "mobile" in caught.value.message_dict


def test_fictional_numbers_are_refused_when_not_allowed(settings):
    settings.PHONE_ALLOW_FICTIONAL_NUMBERS = False
    with pytest.raises(ValidationError):
        User(username="x", mobile="07700 900123", password="!").full_clean()


def test_str_never_shows_contact_details():
    user = UserFactory(email="private@example.org", mobile="07700900555", first_name="Robin")
    assert str(user) == f"User {user.pk}"


def test_service_lists_its_custody_suites_and_courts():
    service = ServiceFactory()
    ServiceLocationFactory(service=service, name="B suite")
    ServiceLocationFactory(service=service, name="A court", kind="magistrates")
    assert [str(location) for location in service.locations.all()] == [
        "B suite (Police custody suite)",
        "A court (Magistrates' court)",
    ]
