"""Message templates: the linter's plain-English refusals, and rendering that cannot be abused."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.utils import timezone
from hypothesis import given, settings
from hypothesis import strategies as st

from notifications import gsm, services, wording
from notifications.gsm import measure
from notifications.links import appointment_link
from notifications.models import OutboundMessage
from notifications.sms import MemorySMSClient
from notifications.templating import (
    PLACEHOLDERS,
    WORST_CASE,
    TemplateError,
    template_lint,
    template_render,
)
from portal.sensitive import sensitive_words_in
from tests.factories import AppointmentFactory

from .world import committed, person

PROPERTY = settings(max_examples=500, deadline=None)
BASE_URL = "https://portal.example.nhs.uk"
REMINDER = ("day", "time")

YOU_CAN_USE = "You can use {first_name}, {day}, {time}, {place}, {service_phone} and {link}."
ON_ITS_OWN = (
    'There is a "{}" on its own. Braces can only go around a placeholder, like {{first_name}}.'
)
JUST_A_NAME = "a placeholder is just a name in braces"
SHARED_PHONE = (
    "someone else may see the phone, so a text must not mention health or the justice system."
)
ESTIMATED = " Each placeholder is counted at its longest likely length."


@pytest.fixture(autouse=True)
def base_url(settings):
    settings.PUBLIC_BASE_URL = BASE_URL


# (id, body, require, rendered length with WORST_CASE)
GOOD = [
    (
        "a full reminder",
        "Hi {first_name}, your appointment is {day} at {time} at {place}. "
        "Reply YES to confirm or NO to change.",
        REMINDER,
        141,
    ),
    ("call to change", "Reminder: {day} at {time}. Call {service_phone} to change.", REMINDER, 62),
    ("with the link", "See you {day} at {time}. Confirm or change: {link}", REMINDER, 102),
    ("every placeholder", "{first_name} {day} {time} {place} {service_phone} {link}", (), 139),
    ("no placeholders", "No placeholders at all.", (), 23),
    ("a placeholder twice", "{day}, {day} at {time}", REMINDER, 33),
    ("line breaks, CR LF sent as one", "Line one\nLine two\r\nLine three", (), 28),
    ("a sensitive word inside a longer one", "Meet at the Courtyard Café", (), 26),
    ("exactly 160", "a" * 160, (), 160),
    ("exactly 160 after rendering", "{day} at {time}. " + "a" * 137, REMINDER, 160),
    ("80 euro signs are 160", "€" * 80, (), 160),
    ("exactly 70 with a curly quote", "It’s " + "a" * 65, (), 70),
    ("35 emoji are 70", "😀" * 35, (), 70),
]


@pytest.mark.parametrize(
    ("body", "require", "rendered_length"), [pytest.param(*c[1:], id=c[0]) for c in GOOD]
)
def test_good_templates_pass(body, require, rendered_length):
    assert template_lint(body, require=require) == []
    assert measure(template_render(body, WORST_CASE)).length == rendered_length


BAD = [
    ("empty", "", (), ["Enter the text of the message."]),
    ("only spaces", "  \n\t ", REMINDER, ["Enter the text of the message."]),
    ("opening brace alone", "See you {", (), [ON_ITS_OWN.format("{")]),
    ("closing brace alone", "See you at 2pm }", (), [ON_ITS_OWN.format("}")]),
    (
        "brace inside a field",
        "{day{time}",
        (),
        [ON_ITS_OWN.format("{")],
    ),
    (
        "conversion",
        "Hi {first_name!r}",
        (),
        [f'Remove "!r" from {{first_name!r}}: {JUST_A_NAME}.'],
    ),
    ("format spec", "At {time:>10}", (), [f'Remove ":>10" from {{time:>10}}: {JUST_A_NAME}.']),
    (
        "positional",
        "{0}",
        (),
        ["{0} is not a placeholder. Put a placeholder name inside, like {first_name}."],
    ),
    (
        "empty braces",
        "Hi {}",
        (),
        [
            "Empty braces {} are not a placeholder. "
            "Put a placeholder name inside, like {first_name}."
        ],
    ),
    (
        "attribute access",
        "{first_name.__class__}",
        (),
        [f"{{first_name.__class__}} is not allowed: {JUST_A_NAME}, like {{place}}."],
    ),
    (
        "index access",
        "{link[0]}",
        (),
        [f"{{link[0]}} is not allowed: {JUST_A_NAME}, like {{place}}."],
    ),
    (
        "doubled braces",
        "Hi {{first_name}}",
        (),
        [
            "Use single braces around a placeholder, like {first_name}, not {{.",
            "Use single braces around a placeholder, like {first_name}, not }}.",
        ],
    ),
    ("spaces inside", "See you { day }", (), ["Remove the spaces inside { day }: write {day}."]),
    ("unknown", "Hi {name}", (), [f"Unknown placeholder {{name}}. {YOU_CAN_USE}"]),
    (
        "unknowns named once each, in order",
        "{date} {Time} {date}",
        (),
        [f"Unknown placeholders {{date}} and {{Time}}. {YOU_CAN_USE}"],
    ),
    (
        "three unknowns",
        "{a} {b} {c}",
        (),
        [f"Unknown placeholders {{a}}, {{b}} and {{c}}. {YOU_CAN_USE}"],
    ),
    (
        "reminder without day or time",
        "See you soon",
        REMINDER,
        ["This message must contain {day} and {time}."],
    ),
    ("reminder without time", "See you {day}", REMINDER, ["This message must contain {time}."]),
    (
        "a sensitive word",
        "Your court date is {day} at {time}",
        REMINDER,
        [f'Remove the word "court": {SHARED_PHONE}'],
    ),
    (
        "sensitive words, plural forms found by their base word",
        "Police and Drugs team",
        (),
        [f'Remove the words "police" and "drug": {SHARED_PHONE}'],
    ),
    (
        "161 characters",
        "a" * 161,
        (),
        ["This message is 161 characters. A single text message can be 160 characters."],
    ),
    (
        "161 after rendering",
        "{day} at {time}. " + "a" * 138,
        REMINDER,
        [
            "This message is 161 characters. A single text message can be 160 characters."
            + ESTIMATED
        ],
    ),
    (
        "extension characters count two",
        "€" * 81,
        (),
        [
            "This message is 162 characters. A single text message can be 160 characters. "
            "The character € (euro sign) counts as two."
        ],
    ),
    (
        "a curly quote makes the limit 70",
        "It’s " + "a" * 66,
        (),
        [
            "This message is 71 characters. Because of the character ’ (right single "
            "quotation mark), a single text message can be 70 characters instead of 160."
        ],
    ),
    (
        "emoji",
        "See you soon " + "😀" * 29,
        (),
        [
            "This message is 71 characters. Because of the character 😀 (grinning face), a "
            "single text message can be 70 characters instead of 160."
        ],
    ),
    (
        "an invisible no-break space",
        "See\u00a0you " + "a" * 63,
        (),
        [
            "This message is 71 characters. Because of the character U+00A0 (no-break space), "
            "a single text message can be 70 characters instead of 160."
        ],
    ),
    (
        "every kind of problem, in order; too unclear to measure",
        "{ {name} court " + "a" * 200,
        REMINDER,
        [
            ON_ITS_OWN.format("{"),
            f"Unknown placeholder {{name}}. {YOU_CAN_USE}",
            "This message must contain {day} and {time}.",
            f'Remove the word "court": {SHARED_PHONE}',
        ],
    ),
    (
        "sensitive and too long",
        "Probation: {day} at {time}. " + "a" * 140,
        REMINDER,
        [
            f'Remove the word "probation": {SHARED_PHONE}',
            "This message is 174 characters. A single text message can be 160 characters."
            + ESTIMATED,
        ],
    ),
]


@pytest.mark.parametrize(
    ("body", "require", "expected"), [pytest.param(*c[1:], id=c[0]) for c in BAD]
)
def test_bad_templates_are_refused_in_plain_english(body, require, expected):
    assert template_lint(body, require=require) == expected


def test_the_sensitive_words_setting_is_used(settings):
    settings.SMS_SENSITIVE_WORDS = ["clinic"]
    assert template_lint("See you at the clinic") == [f'Remove the word "clinic": {SHARED_PHONE}']
    assert template_lint("See you at court") == []


def test_requiring_a_name_that_is_not_a_placeholder_is_a_programming_error():
    with pytest.raises(ValueError, match="date"):
        template_lint("See you {day}", require=["day", "date"])


# --- WORST_CASE ------------------------------------------------------------------------------


def test_every_placeholder_has_help_text_and_a_worst_case():
    assert set(WORST_CASE) == set(PLACEHOLDERS)
    assert all(description.strip() for description in PLACEHOLDERS.values())


@pytest.mark.parametrize(
    ("name", "expected_length"),
    [("first_name", 12), ("day", 10), ("time", 7), ("place", 40), ("service_phone", 13)],
)
def test_worst_case_values_are_long(name, expected_length):
    assert len(WORST_CASE[name]) == expected_length


def test_worst_case_day_and_time_are_the_longest_forms():
    assert WORST_CASE["day"] == "Wed 30 Sep"
    assert WORST_CASE["time"] == "12:30pm"


def test_worst_case_link_follows_the_public_base_url(settings):
    assert WORST_CASE["link"] == f"{BASE_URL}/a/" + WORST_CASE["link"][-20:]
    assert len(WORST_CASE["link"]) == len(BASE_URL) + len("/a/") + 20
    settings.PUBLIC_BASE_URL = "https://reminders.example.org"
    assert WORST_CASE["link"].startswith("https://reminders.example.org/a/")
    assert dict(WORST_CASE)["link"] == WORST_CASE["link"]


def test_worst_case_values_are_plain_gsm_text_without_sensitive_words():
    for value in WORST_CASE.values():
        assert measure(value).encoding == "GSM-7"
        assert sensitive_words_in(value) == []
    for description in PLACEHOLDERS.values():
        assert sensitive_words_in(description) == []


def test_a_longer_public_url_can_make_a_template_too_long(settings):
    body = "See you {day} at {time}. Confirm or change: {link} " + "a" * 52
    assert template_lint(body) == []
    settings.PUBLIC_BASE_URL = "https://a-much-longer-portal-name.example.org"
    assert template_lint(body) == [
        "This message is 171 characters. A single text message can be 160 characters." + ESTIMATED
    ]


# --- Rendering -------------------------------------------------------------------------------

VALUES = {
    "first_name": "Sam",
    "day": "Tuesday 3 March",
    "time": "2:30pm",
    "place": "Riverside Centre",
    "service_phone": "0113 496 0000",
    "link": f"{BASE_URL}/a/k3f9-Ab3dE6fG8hJ2",
}

RENDER = [
    ("one placeholder", "Hi {first_name}", VALUES, "Hi Sam"),
    (
        "all of them",
        "{first_name}: {day} {time}, {place}. {service_phone} {link}",
        VALUES,
        "Sam: Tuesday 3 March 2:30pm, Riverside Centre. 0113 496 0000 "
        f"{BASE_URL}/a/k3f9-Ab3dE6fG8hJ2",
    ),
    ("no placeholders, no values needed", "See you soon", {}, "See you soon"),
    ("unused values are ignored", "At {time}", {"time": "9am", "other": "x"}, "At 9am"),
    ("a value's braces stay as they are", "Hi {first_name}", {"first_name": "{day}"}, "Hi {day}"),
    ("CR LF becomes LF", "One\r\nTwo\rThree\nFour", {}, "One\nTwo\nThree\nFour"),
    (
        "typographic characters in values become plain GSM-7",
        "Hi {first_name}, at {place}",
        {
            "first_name": "D\u2019Arcy",
            "place": "\u201cSt Mary\u2019s\u201d \u2013 Room\u00a02\u2026",
        },
        "Hi D'Arcy, at \"St Mary's\" - Room 2...",
    ),
    (
        "other letters in a name are kept",
        "Hi {first_name}",
        {"first_name": "Zo\u00eb"},
        "Hi Zo\u00eb",
    ),
    (
        "the template itself is left for the linter",
        "It\u2019s {day}",
        {"day": "Tue 3 Mar"},
        "It\u2019s Tue 3 Mar",
    ),
]


@pytest.mark.parametrize(
    ("body", "values", "expected"), [pytest.param(*c[1:], id=c[0]) for c in RENDER]
)
def test_render(body, values, expected):
    assert template_render(body, values) == expected


@pytest.mark.parametrize(
    ("body", "values", "message"),
    [
        ("Hi {first_name}", {}, "No value for {first_name}."),
        ("{day} at {time}", {"day": "Monday"}, "No value for {time}."),
        ("{first_name.__class__}", VALUES, "is not allowed"),
        ("{link[0]}", VALUES, "is not allowed"),
        ("{first_name!r}", VALUES, 'Remove "!r"'),
        ("{time:>10}", VALUES, 'Remove ":>10"'),
        ("{0}", VALUES, "is not a placeholder"),
        ("{}", VALUES, "Empty braces"),
        ("{", VALUES, "on its own"),
        ("{{first_name}}", VALUES, "single braces"),
        ("{other}", {"other": "x"}, "Unknown placeholder {other}"),
    ],
)
def test_render_refuses_what_it_cannot_fill_safely(body, values, message):
    with pytest.raises(TemplateError) as raised:
        template_render(body, values)
    assert message in str(raised.value)


class Trap(str):
    """A value that records any attribute or item looked up on it by name or index."""

    touched: list[str] = []

    def __getattribute__(self, name):
        if not name.startswith("__"):
            Trap.touched.append(name)
        return super().__getattribute__(name)

    def __getitem__(self, key):
        Trap.touched.append(f"[{key!r}]")
        return super().__getitem__(key)


def trapped_values() -> dict[str, Trap]:
    return {name: Trap(value) for name, value in VALUES.items()}


# --- Real values that are not plain GSM-7 --------------------------------------------------

LONDON = ZoneInfo("Europe/London")
CURLY_PLACE = "St Mary\u2019s Centre"
CURLY_NAME = "D\u2019Arcy"


@pytest.fixture
def st_marys(db):
    # Wed 30 Sep 12:30pm: the longest day and time.
    return AppointmentFactory(
        place_label=CURLY_PLACE,
        service_user__preferred_name=f"{CURLY_NAME} Smith",
        starts_at=dt.datetime(2026, 9, 30, 12, 30, tzinfo=LONDON),
    )


@pytest.mark.parametrize("easy_read", [False, True], ids=["standard", "easy read"])
def test_the_default_reminder_at_a_place_with_a_curly_apostrophe_is_one_gsm_message(
    st_marys, easy_read
):
    values = wording.appointment_values(st_marys, link=appointment_link(st_marys))
    text = template_render(wording.DEFAULTS[(wording.REMINDER, easy_read)], values)
    assert "St Mary's Centre" in text
    assert gsm.encoding(text) == "GSM-7"
    assert gsm.segments(text) == 1
    # As typed, the one apostrophe would have made it UCS-2, and two messages.
    assert gsm.segments(text.replace("St Mary's Centre", CURLY_PLACE)) == 2


def test_a_reminder_with_the_name_and_place_with_curly_apostrophes_is_one_gsm_message(st_marys):
    body = "Hi {first_name}, {day} {time} at {place}. Reply YES to confirm. {link}"
    assert template_lint(body, require=REMINDER) == []
    values = wording.appointment_values(st_marys, link=appointment_link(st_marys))
    text = template_render(body, values)
    assert text.startswith("Hi D'Arcy, Wed 30 Sep 12:30pm at St Mary's Centre.")
    assert gsm.encoding(text) == "GSM-7"
    assert gsm.segments(text) == 1


@pytest.mark.django_db
def test_the_reminder_sent_for_a_place_with_a_curly_apostrophe_is_one_gsm_message(service):
    MemorySMSClient.outbox.clear()
    record = person(service, mobile="+447700900303", preferred_name=f"{CURLY_NAME} Smith")
    appt = AppointmentFactory(
        service_user=record,
        place_label=CURLY_PLACE,
        starts_at=timezone.now() + dt.timedelta(days=5),
    )
    services.reminders_sync(appointment_id=appt.pk)
    due = appt.reminders.get(slot="3d", status__in=OutboundMessage.PENDING)
    with time_machine.travel(due.send_at + dt.timedelta(seconds=1), tick=False), committed():
        services.messages_dispatch_due()
    [sent] = MemorySMSClient.outbox
    MemorySMSClient.outbox.clear()
    assert "St Mary's Centre" in sent.body
    assert gsm.encoding(sent.body) == "GSM-7"
    assert gsm.segments(sent.body) == 1


# --- Properties ----------------------------------------------------------------------------

placeholder = st.sampled_from([f"{{{name}}}" for name in PLACEHOLDERS])
tricky = st.sampled_from(
    [
        "{",
        "}",
        "{{",
        "}}",
        "{}",
        "{0}",
        "{first_name!r}",
        "{first_name!s:>5}",
        "{time:>10}",
        "{link[0]}",
        "{first_name.__class__}",
        "{place.__class__.__mro__[1]}",
        "{day.upper}",
        "{ day }",
        "{Day}",
        "{name}",
        "court",
        "Police",
        "’",
        "😀",
        "€",
        "\u00a0",
        "\r\n",
    ]
)
plain = st.text(st.sampled_from("abcdefghij KLMNOP.,:;!?-'0123456789\n"), max_size=40)
any_text = st.text(max_size=200)
template_like = st.lists(st.one_of(placeholder, tricky, plain, any_text), max_size=8).map("".join)
requirements = st.lists(st.sampled_from(list(PLACEHOLDERS)), max_size=3)


@PROPERTY
@given(body=st.one_of(any_text, template_like), require=requirements)
def test_lint_never_raises_and_returns_messages(body, require):
    errors = template_lint(body, require=require)
    assert isinstance(errors, list)
    assert all(isinstance(error, str) and error for error in errors)


@PROPERTY
@given(body=st.one_of(any_text, template_like))
def test_clean_templates_render_within_one_message(body):
    if template_lint(body) == []:
        rendered = template_render(body, WORST_CASE)
        assert measure(rendered).segments <= 1
        assert template_render(body, VALUES)  # real values, shorter, also render


safe_text = st.text(st.sampled_from("abcdefghij KLMNOP.,:;!?-'0123456789\n"), max_size=60)
safe_template = st.lists(st.one_of(placeholder, safe_text), min_size=1, max_size=10).map("".join)


@PROPERTY
@given(body=safe_template)
def test_well_formed_templates_are_refused_only_for_length(body):
    """Known placeholders and harmless text: the only possible refusal is the length, and it
    is given exactly when the worst-case rendering needs more than one message."""
    if not body.strip():
        return
    rendered = template_render(body, WORST_CASE)
    errors = template_lint(body)
    assert (errors == []) == (measure(rendered).segments == 1)
    if errors:
        assert len(errors) == 1
        assert errors[0].startswith(f"This message is {measure(rendered).length} characters.")


@PROPERTY
@given(body=st.one_of(template_like, any_text))
def test_render_never_looks_inside_the_values(body):
    Trap.touched.clear()
    try:
        rendered = template_render(body, trapped_values())
    except TemplateError:
        rendered = None
    assert Trap.touched == []
    if rendered is not None:
        assert type(rendered) is str
        assert "<class" not in rendered or "<class" in body
