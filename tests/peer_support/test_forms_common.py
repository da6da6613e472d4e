"""Shared form pieces: a place label that would reveal why someone goes, or that a text message
cannot carry in GSM-7, is refused with a clear message; availability and word lists clean to the
shapes the models store."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError

from peer_support.demo import PLACES
from peer_support.forms.common import AppointmentForm, AvailabilityField, WordListField
from peer_support.models import validate_availability, validate_word_list
from portal.gsm import first_non_gsm


def appointment_data(**changes) -> dict:
    data = {
        "kind": "gp",
        "place_label": "Riverside Centre",
        "address": "1 Example Street, Testtown NM1 1AA",
        "date": "2026-12-01",
        "time": "14:30",
    }
    data.update(changes)
    return data


def test_a_neutral_appointment_is_valid():
    form = AppointmentForm(data=appointment_data())
    assert form.is_valid(), form.errors
    assert form.cleaned_data["starts_at"] == dt.datetime(2026, 12, 1, 14, 30)
    assert form.cleaned_data["supporter_attending"] is False


@pytest.mark.parametrize(
    ("label", "words"),
    [
        ("Leeds Magistrates Court", "magistrate, court"),
        ("Community Mental Health Team", "mental"),
        ("Drugs and alcohol hub", "drug, alcohol"),
        ("POLICE station", "police"),
    ],
)
def test_a_place_label_with_a_sensitive_word_is_refused_clearly(label, words):
    form = AppointmentForm(data=appointment_data(place_label=label))
    assert not form.is_valid()
    [message] = form.errors["place_label"]
    assert message.startswith("This name goes into text messages")
    assert f"Remove: {words}." in message
    assert 'Use a neutral name, like "Riverside Centre".' in message
    assert form.has_error("place_label", code="sensitive_place_label")


@pytest.mark.parametrize("label", ["Courtyard Rooms", "Sectional House", "St Mary's Centre"])
def test_words_merely_containing_a_sensitive_one_are_allowed(label):
    assert AppointmentForm(data=appointment_data(place_label=label)).is_valid()


@pytest.mark.parametrize(
    ("label", "named"),
    [
        ("Riverside Centre \U0001f600", "the character \U0001f600 (grinning face)"),
        ("\u0414alton House", "the character \u0414 (cyrillic capital letter de)"),
        ("Fa\u00e7ade House", "the character \u00e7 (latin small letter c with cedilla)"),
        ("Riverside\u200bCentre", "the character U+200B (zero width space)"),
        (
            "\u0414om \U0001f600 \u0414om",
            "the characters \u0414 (cyrillic capital letter de) and \U0001f600 (grinning face)",
        ),
    ],
)
def test_a_place_label_a_text_cannot_carry_is_refused_naming_the_character(label, named):
    form = AppointmentForm(data=appointment_data(place_label=label))
    assert not form.is_valid()
    assert form.errors["place_label"] == [
        f"This name goes into text messages, which cannot carry {named}. "
        "Use letters, numbers and ordinary punctuation."
    ]
    assert form.has_error("place_label", code="unsendable_place_label")


@pytest.mark.parametrize(
    ("label", "saved"),
    [
        ("St Mary\u2019s Centre", "St Mary's Centre"),
        ("\u201cThe Hub\u201d \u2013 Room\u00a02", '"The Hub" - Room 2'),
        ("Caf\u00e9 \u00c7a Va", "Caf\u00e9 \u00c7a Va"),  # both in the GSM alphabet
        ("\u00a0Riverside Centre\u2003", "Riverside Centre"),
    ],
)
def test_typographic_quotes_dashes_and_spaces_are_accepted_and_saved_plain(label, saved):
    form = AppointmentForm(data=appointment_data(place_label=label))
    assert form.is_valid(), form.errors
    assert form.cleaned_data["place_label"] == saved


def test_the_length_limit_counts_the_label_as_it_will_be_sent():
    # An ellipsis is sent as three dots: 38 + 3 is over the 40 a reminder has room for.
    form = AppointmentForm(data=appointment_data(place_label="R" * 38 + "\u2026"))
    assert not form.is_valid()
    assert form.has_error("place_label", code="max_length")
    assert AppointmentForm(data=appointment_data(place_label="R" * 37 + "\u2026")).is_valid()


def test_a_sensitive_word_behind_a_no_break_space_is_still_refused():
    form = AppointmentForm(data=appointment_data(place_label="Drug\u00a0service"))
    assert form.has_error("place_label", code="sensitive_place_label")


@pytest.mark.parametrize(
    "label", sorted({label for places in PLACES.values() for label, *_ in places})
)
def test_every_demo_place_label_is_accepted_as_it_is(label):
    assert first_non_gsm(label) is None
    field = AppointmentForm.base_fields["place_label"]
    assert field.clean(label) == label


def test_the_address_may_say_what_the_place_is():
    form = AppointmentForm(data=appointment_data(address="Magistrates Court, 1 High St"))
    assert form.is_valid(), form.errors


@pytest.mark.parametrize("day", ["1999-12-31", "2100-01-02"])
def test_an_unreal_date_is_refused(day):
    form = AppointmentForm(data=appointment_data(date=day))
    assert not form.is_valid()
    assert form.errors["date"] == ["Enter a real date, like 2026-12-01"]
    assert "starts_at" not in form.cleaned_data


def test_seconds_are_dropped_from_the_time():
    form = AppointmentForm(data=appointment_data(time="09:05:59"))
    assert form.is_valid(), form.errors
    assert form.cleaned_data["starts_at"] == dt.datetime(2026, 12, 1, 9, 5)


# --- AvailabilityField -------------------------------------------------------------------


def test_availability_offers_every_day_and_part_of_the_day():
    field = AvailabilityField()
    assert len(field.choices) == 21
    assert ("mon:morning", "Monday morning") in field.choices
    assert ("sun:evening", "Sunday evening") in field.choices
    assert field.required is False


@pytest.mark.parametrize(
    ("posted", "cleaned"),
    [
        ([], []),
        (None, []),
        (["mon:morning"], [["mon", "morning"]]),
        (["sat:evening", "tue:afternoon"], [["sat", "evening"], ["tue", "afternoon"]]),
    ],
)
def test_availability_cleans_to_day_and_part_pairs(posted, cleaned):
    value = AvailabilityField().clean(posted)
    assert value == cleaned
    validate_availability(value)  # the shape the models accept


@pytest.mark.parametrize("posted", [["mon:night"], ["funday:morning"], ["mon"], ["mon:morning:x"]])
def test_availability_refuses_unknown_times(posted):
    with pytest.raises(ValidationError) as excinfo:
        AvailabilityField().clean(posted)
    assert excinfo.value.code == "invalid_choice"


def test_availability_shows_stored_pairs_as_ticked_boxes():
    field = AvailabilityField()
    assert field.prepare_value([["mon", "morning"], ("sat", "evening")]) == [
        "mon:morning",
        "sat:evening",
    ]
    assert field.prepare_value(None) is None


# --- WordListField ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "cleaned"),
    [
        ("", []),
        (None, []),
        ("Polish", ["Polish"]),
        (" Polish, english ,POLISH,, ", ["Polish", "english"]),
        ("Sign   language,\tBSL", ["Sign language", "BSL"]),
        (",,,", []),
    ],
)
def test_word_lists_clean_to_distinct_words(typed, cleaned):
    value = WordListField().clean(typed)
    assert value == cleaned
    validate_word_list(value)  # the shape the models accept


def test_a_word_over_50_characters_is_refused():
    with pytest.raises(ValidationError) as excinfo:
        WordListField().clean("short, " + "x" * 51)
    assert excinfo.value.code == "too_long"
    assert WordListField().clean("x" * 50) == ["x" * 50]


def test_more_than_20_words_are_refused():
    assert len(WordListField().clean(",".join(f"w{i}" for i in range(20)))) == 20
    with pytest.raises(ValidationError) as excinfo:
        WordListField().clean(",".join(f"w{i}" for i in range(21)))
    assert excinfo.value.code == "too_many"


def test_repeats_do_not_count_towards_the_limit():
    assert WordListField().clean(",".join(["same"] * 30)) == ["same"]


def test_a_word_list_longer_than_500_characters_is_refused():
    with pytest.raises(ValidationError) as excinfo:
        WordListField().clean("a" * 501)
    assert [e.code for e in excinfo.value.error_list] == ["max_length"]


def test_a_stored_list_is_shown_comma_separated():
    assert WordListField().prepare_value(["Polish", "English"]) == "Polish, English"
    assert WordListField().prepare_value("as typed") == "as typed"
