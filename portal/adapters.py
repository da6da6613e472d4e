"""allauth hooks: closed sign-up, UK mobile numbers on the user model, codes sent by SMS.

Text messages are sent through the hook named in ``settings.PORTAL_SMS_SENDER`` (the
notifications app), so `portal` never imports the app above it.
"""

from __future__ import annotations

import phonenumbers
from allauth.account.adapter import DefaultAccountAdapter
from allauth.account.fields import PhoneField
from allauth.mfa.models import Authenticator
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.module_loading import import_string
from phonenumber_field.phonenumber import PhoneNumber

from .models import User
from .phone import INVALID_MOBILE_MESSAGE, is_uk_mobile

SIGN_IN_CODE_TEXT = (
    "Your sign-in code is {code}. It works for 3 minutes. "
    "If you did not ask for it, you can ignore this text."
)


def normalise_uk_mobile(value: str) -> str:
    """``07700 900001`` or ``+44 7700 900001`` → ``+447700900001``; other input unchanged."""
    try:
        parsed = phonenumbers.parse(value, "GB")
    except phonenumbers.NumberParseException:
        return value
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


class UKMobileField(PhoneField):
    """allauth's phone field, taking UK numbers as people write them."""

    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("validators", [])
        kwargs.setdefault("label", "Mobile phone number")
        kwargs.setdefault("help_text", "For example, 07700 900 982")
        super().__init__(*args, **kwargs)
        self.widget.attrs.pop("placeholder", None)
        self.widget.attrs["inputmode"] = "tel"

    def to_python(self, value):
        value = super().to_python(value)
        return normalise_uk_mobile(value) if value else value


class AccountAdapter(DefaultAccountAdapter):
    """Accounts are created by staff or by referral, never by open sign-up."""

    def is_open_for_signup(self, request) -> bool:
        return False

    def is_reauthentication_required(self, *, app: str, **kwargs) -> bool:
        """Enrolling the first authenticator straight after signing in asks for no password
        again: there is no second factor yet to protect, and every person-level page stays
        closed until it is done. Any later change to sign-in security does ask."""
        user = getattr(self.request, "user", None)
        if (
            app == "allauth.mfa"
            and user is not None
            and user.is_authenticated
            and not Authenticator.objects.filter(user=user).exists()
        ):
            return False
        return super().is_reauthentication_required(app=app, **kwargs)

    # --- phone numbers --------------------------------------------------------------------

    def phone_form_field(self, **kwargs):
        return UKMobileField(**kwargs)

    def clean_phone(self, phone: str) -> str:
        try:
            number = PhoneNumber.from_string(phone, region="GB")
        except phonenumbers.NumberParseException:
            number = None
        if not is_uk_mobile(number):
            raise ValidationError(INVALID_MOBILE_MESSAGE, code="invalid_mobile")
        return number.as_e164

    def get_phone(self, user: User) -> tuple[str, bool] | None:
        if not user.mobile:
            return None
        return user.mobile.as_e164, user.phone_verified

    def set_phone(self, user: User, phone: str, verified: bool) -> None:
        user.mobile = phone
        user.phone_verified = verified
        user.save(update_fields=["mobile", "phone_verified"])

    def set_phone_verified(self, user: User, phone: str) -> None:
        if user.mobile and user.mobile.as_e164 == phone:
            user.phone_verified = True
            user.save(update_fields=["phone_verified"])

    def get_user_by_phone(self, phone: str) -> User | None:
        return User.objects.filter(mobile=phone, is_active=True).first()

    def send_verification_code_sms(self, user: User, phone: str, code: str, **kwargs) -> None:
        send = import_string(settings.PORTAL_SMS_SENDER)
        send(to=phone, body=SIGN_IN_CODE_TEXT.format(code=code), recipient_id=user.pk)

    def send_unknown_account_sms(self, phone: str, **kwargs) -> None:
        """Say nothing to numbers we do not know: a text could reach the wrong person."""
