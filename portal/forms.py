from allauth.account.fields import EmailField
from allauth.account.forms import LoginForm, RequestLoginCodeForm
from django import forms

from .models import AuditEvent, ConsentMethod, ConsentPurpose

STAFF_METHODS = [choice for choice in ConsentMethod.choices if choice[0] != ConsentMethod.ONLINE]


class ConsentGiveForm(forms.Form):
    """A service user agrees, online, to one purpose."""

    purpose = forms.ChoiceField(choices=ConsentPurpose.choices, widget=forms.HiddenInput)


class ConsentWithdrawForm(forms.Form):
    """No fields: the consent is in the URL and the method is "online"."""


class StaffConsentForm(forms.Form):
    """Staff record a consent given or withdrawn in person, on paper or on the phone."""

    GIVE = "give"
    WITHDRAW = "withdraw"

    decision = forms.ChoiceField(
        label="What did the person decide?",
        choices=[(GIVE, "They agreed"), (WITHDRAW, "They withdrew their agreement")],
        widget=forms.RadioSelect,
    )
    purpose = forms.ChoiceField(
        label="What for?", choices=ConsentPurpose.choices, widget=forms.RadioSelect
    )
    method = forms.ChoiceField(
        label="How did they tell you?", choices=STAFF_METHODS, widget=forms.RadioSelect
    )


class AuditSearchForm(forms.Form):
    action = forms.ChoiceField(
        label="Action", choices=[("", "Any")] + list(AuditEvent.Action.choices), required=False
    )
    object_type = forms.CharField(
        label="Record type", required=False, max_length=100, help_text="For example portal.consent"
    )
    actor = forms.IntegerField(label="Done by (user number)", required=False, min_value=1)
    subject = forms.IntegerField(label="About (user number)", required=False, min_value=1)
    date_from = forms.DateField(
        label="From date", required=False, help_text="For example 2026-11-01"
    )
    date_to = forms.DateField(label="To date", required=False, help_text="For example 2026-11-30")

    def clean(self):
        cleaned = super().clean()
        start, end = cleaned.get("date_from"), cleaned.get("date_to")
        if start and end and start > end:
            self.add_error("date_to", "The to date must be the same as or after the from date")
        return cleaned


class EmailPasswordLoginForm(LoginForm):
    """The password sign-in is for staff and volunteers, who sign in with an email address.

    Phone numbers stay a login method only so service users can ask for a code by text.
    """

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["login"] = EmailField(label="Email address")
        self.order_fields(["login", "password"])


class MobileLoginCodeForm(RequestLoginCodeForm):
    """Service users ask for a sign-in code by mobile number only.

    allauth's form also offers email, and fails with a server error when both are left empty
    (found by the property tests); asking for the one thing service users have avoids both.
    """

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields.pop("email", None)
        self.fields["phone"].required = True
        self.fields["phone"].error_messages["required"] = "Enter your mobile phone number"
