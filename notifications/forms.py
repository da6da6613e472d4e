"""Forms for the text message pages. They only parse input: what a text may say is the
services' business (``services.inbound_answer`` and ``services.template_save`` check it and
raise ``ValidationError`` with messages the views put back on these forms)."""

from __future__ import annotations

from django import forms

# Far beyond one text message, so the service's plain-English length message is the one
# people see; this only stops a pasted essay from being echoed back into the page.
TEXT_MAX_LENGTH = 1600
ONE_TEXT_HINT = "One text message is up to 160 characters."

STATE_FILTERS = {
    "all": "All",
    "not_sent": "Not sent",
    "failed": "Could not be sent or not delivered",
    "waiting": "Waiting to send",
}


class StateFilterForm(forms.Form):
    """The outbox filter (a GET form). Anything unknown shows everything rather than an
    error: a filter is never worth a dead end."""

    state = forms.ChoiceField(
        label="Show",
        choices=list(STATE_FILTERS.items()),
        required=False,
        widget=forms.Select,
    )

    def chosen(self) -> str:
        if self.is_valid() and self.cleaned_data["state"]:
            return self.cleaned_data["state"]
        return "all"


def _text_field(label: str, *, length_id: str, required_message: str) -> forms.CharField:
    return forms.CharField(
        label=label,
        help_text=ONE_TEXT_HINT,
        max_length=TEXT_MAX_LENGTH,
        strip=False,
        error_messages={
            "required": required_message,
            "max_length": f"This is far too long for a text message. {ONE_TEXT_HINT}",
        },
        # The live counter (static/notifications/sms-length.js) writes into ``length_id``.
        widget=forms.Textarea(attrs={"rows": 4, "data-sms-length": length_id}),
    )


class ReplyForm(forms.Form):
    body = _text_field("Your reply", length_id="body-length", required_message="Enter your reply.")


class TemplateForm(forms.Form):
    body = _text_field(
        "Text of the message",
        length_id="body-length",
        required_message="Enter the text of the message.",
    )
