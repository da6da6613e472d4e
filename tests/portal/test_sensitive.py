"""sensitive_words_in: whole words, any case, plurals; the list comes from settings."""

from __future__ import annotations

import pytest
from django.conf import settings as django_settings

from notifications.templating import template_lint
from portal.sensitive import sensitive_words_in

CASES = [
    ("neutral place", "Riverside Centre", []),
    ("empty", "", []),
    ("capitalised", "Court", ["court"]),
    ("upper case", "POLICE STATION", ["police"]),
    ("mixed case", "CuStOdY suite", ["custody"]),
    ("plural with s", "Leeds courts", ["court"]),
    ("plural with es", "Offences unit", ["offence"]),
    ("plural of another word", "Remands hearing list", ["remand"]),
    ("possessive", "Magistrates' entrance", ["magistrate"]),
    ("two words in order", "Drugs and Alcohol Service", ["drug", "alcohol"]),
    ("order of appearance", "alcohol then drugs", ["alcohol", "drug"]),
    ("no repeats", "drug drug DRUGS", ["drug"]),
    ("hyphen is a boundary", "mental-health hub", ["mental"]),
    ("punctuation is a boundary", "(probation)", ["probation"]),
    ("digits next to it", "Section 136 suite", ["section"]),
    ("longer word first", "Psychiatrist clinic", ["psychiatrist"]),
    ("inside a longer word", "Courtyard Café", []),
    ("suffix that is not a plural", "Sectional sofa shop", []),
    ("prefix", "Bailey Street", []),
    ("compound", "Crimestoppers", []),
    ("every kind at once", "Court, POLICE and custody", ["court", "police", "custody"]),
]


@pytest.mark.parametrize(("text", "expected"), [pytest.param(t, e, id=n) for n, t, e in CASES])
def test_sensitive_words_in(text, expected):
    assert sensitive_words_in(text) == expected


# The words the issue names: each must be in the default list and refused wherever a text's
# wording is checked (the template linter and sensitive_words_in, which place labels use).
ISSUE_WORDS = [
    "police",
    "court",
    "custody",
    "mental",
    "drug",
    "alcohol",
    "probation",
    "offence",
    "arrest",
    "section",
]


def test_the_default_list_covers_health_and_justice_words():
    assert len(ISSUE_WORDS) == 10
    missing = [word for word in ISSUE_WORDS if word not in django_settings.SMS_SENSITIVE_WORDS]
    assert not missing, f"not in the default SMS_SENSITIVE_WORDS: {missing}"


@pytest.mark.parametrize("word", ISSUE_WORDS)
def test_each_default_word_is_refused_by_the_finder_and_the_template_linter(word):
    assert sensitive_words_in(word) == [word]
    assert sensitive_words_in(word.upper()) == [word]
    assert sensitive_words_in(f"See you at the {word.title()}s on Monday.") == [word]
    # A template that would be fine without the word, refused with it, naming the word.
    fine = "Reminder: {day} {time} at {place}. Reply YES to confirm."
    assert template_lint(fine, require=["day", "time"]) == []
    problems = template_lint(f"{fine} {word.title()} team.", require=["day", "time"])
    assert [p for p in problems if f'"{word}"' in p], problems


def test_the_setting_is_respected(settings):
    settings.SMS_SENSITIVE_WORDS = ["Riverside", " hospital "]
    assert sensitive_words_in("Riverside Centre") == ["riverside"]
    assert sensitive_words_in("City Hospitals") == ["hospital"]
    assert sensitive_words_in("Magistrates Court") == []


def test_an_empty_list_finds_nothing(settings):
    settings.SMS_SENSITIVE_WORDS = ["", "   "]
    assert sensitive_words_in("Police court custody") == []


def test_a_changed_setting_is_read_again_each_time(settings):
    assert sensitive_words_in("court") == ["court"]
    settings.SMS_SENSITIVE_WORDS = ["clinic"]
    assert sensitive_words_in("court clinic") == ["clinic"]
    settings.SMS_SENSITIVE_WORDS = ["court"]
    assert sensitive_words_in("court clinic") == ["court"]


def test_words_are_matched_literally_not_as_patterns(settings):
    settings.SMS_SENSITIVE_WORDS = ["a.b", "c+"]
    assert sensitive_words_in("axb cc") == []
    assert sensitive_words_in("a.b") == ["a.b"]


def test_a_phrase_in_the_list_is_matched_as_a_phrase(settings):
    settings.SMS_SENSITIVE_WORDS = ["mental health"]
    assert sensitive_words_in("Mental Health team") == ["mental health"]
    assert sensitive_words_in("mental wellbeing, health centre") == []
