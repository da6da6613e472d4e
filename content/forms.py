"""Forms for readers: the site search and the service directory search."""

from __future__ import annotations

import re
import unicodedata

from django import forms

MAX_QUERY = 100
# Letters (any alphabet), digits, spaces, apostrophes and hyphens are all a search needs;
# anything else (control characters, operators, quotes) is turned into a space.
UNWANTED = re.compile(r"[^\w\s'’-]|_", re.UNICODE)


def tidy_query(value: str) -> str:
    value = "".join(" " if unicodedata.category(char).startswith("C") else char for char in value)
    return " ".join(UNWANTED.sub(" ", value).split())


class _QueryForm(forms.Form):
    empty_message = "Enter something to search for."

    q = forms.CharField(max_length=MAX_QUERY, required=True, strip=True)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["q"].error_messages.update(
            {
                "required": self.empty_message,
                "max_length": f"Use {MAX_QUERY} characters or fewer.",
            }
        )

    def clean_q(self) -> str:
        value = tidy_query(self.cleaned_data["q"])
        if not value:
            raise forms.ValidationError(self.empty_message)
        return value


class SearchForm(_QueryForm):
    empty_message = "Enter a word or two to search for, like “court” or “appointment”."


class ServiceSearchForm(_QueryForm):
    empty_message = "Enter a town or the first part of a postcode, like NM1."
