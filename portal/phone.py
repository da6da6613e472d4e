"""UK mobile numbers: parsing and validation shared by models and forms.

Ofcom keeps 07700 900000 to 07700 900999 for fiction; libphonenumber calls them invalid. The
demo data and the tests use that range so that no real person's phone is ever written down,
so it is accepted only while ``settings.PHONE_ALLOW_FICTIONAL_NUMBERS`` is on (never in
production).
"""

from __future__ import annotations

import phonenumbers
from django.conf import settings
from django.core.exceptions import ValidationError
from phonenumber_field.modelfields import PhoneNumberField
from phonenumber_field.phonenumber import PhoneNumber, to_python

FICTIONAL_MOBILE_PREFIX = "+447700900"
MOBILE_TYPES = {
    phonenumbers.PhoneNumberType.MOBILE,
    phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE,
}
INVALID_MOBILE_MESSAGE = "Enter a UK mobile number, like 07700 900 982"


def is_fictional_mobile(number: PhoneNumber) -> bool:
    e164 = number.as_e164
    return e164.startswith(FICTIONAL_MOBILE_PREFIX) and len(e164) == len("+447700900000")


def is_uk_mobile(number: PhoneNumber | None) -> bool:
    if number is None or not isinstance(number, PhoneNumber) or number.country_code != 44:
        return False
    if getattr(settings, "PHONE_ALLOW_FICTIONAL_NUMBERS", False) and is_fictional_mobile(number):
        return True
    return number.is_valid() and phonenumbers.number_type(number) in MOBILE_TYPES


def validate_uk_mobile(value) -> None:
    number = to_python(value, region="GB") if not isinstance(value, PhoneNumber) else value
    if not is_uk_mobile(number):
        raise ValidationError(INVALID_MOBILE_MESSAGE, code="invalid_mobile")


class UKMobileNumberField(PhoneNumberField):
    """A phone number field that accepts UK mobile numbers only."""

    default_validators = [validate_uk_mobile]

    def get_prep_value(self, value):
        # The library stores numbers it calls invalid as typed; a fictional number we accept
        # must be stored in E.164 like any other, or uniqueness and look-ups would miss it.
        parsed = to_python(value, region=self.region)
        if isinstance(parsed, PhoneNumber) and parsed.national_number and is_uk_mobile(parsed):
            return parsed.as_e164
        return super().get_prep_value(value)


INVALID_PHONE_MESSAGE = "Enter a UK phone number, like 0113 496 0000 or 07700 900 982"


def validate_uk_phone(value) -> None:
    """Any valid UK number (landline or mobile), or the drama mobile range where allowed."""
    number = to_python(value, region="GB") if not isinstance(value, PhoneNumber) else value
    if not isinstance(number, PhoneNumber) or number.country_code != 44:
        raise ValidationError(INVALID_PHONE_MESSAGE, code="invalid_phone")
    if is_uk_mobile(number) or number.is_valid():
        return
    raise ValidationError(INVALID_PHONE_MESSAGE, code="invalid_phone")


class UKPhoneNumberField(UKMobileNumberField):
    """Any UK phone number: a landline or a mobile (someone who asks on a person's behalf may
    give either). Stored in E.164 like the mobile field."""

    default_validators = [validate_uk_phone]
