"""The contact log: only the current supporter writes, notes are sanitised on the way in, a
safeguarding concern alerts the team at once (by a text with no detail), and notes are read
only by the service's staff and the supporter who wrote them while they still support the
person."""

from __future__ import annotations

import datetime as dt

import pytest
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from notifications.sms import MemorySMSClient
from peer_support import tasks
from peer_support.models import Alert, Contact, Match
from peer_support.selectors import contacts_visible_to
from peer_support.services import (
    URGENT_ALERT_SMS,
    contact_log_create,
    match_create,
    match_end,
)
from portal.models import AuditEvent, User
from portal.roles import Role
from portal.sensitive import sensitive_words_in
from tests.factories import (
    ContactFactory,
    MatchFactory,
    ServiceUserRecordFactory,
    SupporterFactory,
)
from tests.peer_support.test_offers import fresh_mobile, ready_supporter, waiting_record
from tests.portal.conftest import make_member

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def empty_outbox():
    MemorySMSClient.outbox.clear()
    yield
    MemorySMSClient.outbox.clear()


@pytest.fixture
def coordinator(service):
    return make_member(Role.COORDINATOR, service)


@pytest.fixture
def record(service):
    return waiting_record(service)


@pytest.fixture
def supporter(service):
    return ready_supporter(service)


@pytest.fixture
def match(record, supporter, coordinator) -> Match:
    return match_create(service_user=record, supporter=supporter, created_by=coordinator)


def log(record, user, **changes) -> Contact:
    values = {
        "occurred_at": timezone.now() - dt.timedelta(hours=2),
        "method": Contact.Method.PHONE,
        "duration_minutes": 30,
        "summary": "Talked about the housing appointment.",
    }
    values.update(changes)
    return contact_log_create(service_user=record, logged_by=user, **values)


def fresh(user) -> User:
    return User.objects.get(pk=user.pk)


# --- Who may write -----------------------------------------------------------------------------


def test_the_current_supporter_logs_a_contact(record, supporter, match):
    contact = log(record, supporter.user, next_step="Phone on Friday")
    contact.refresh_from_db()
    assert (contact.match, contact.supporter, contact.created_by) == (
        match,
        supporter,
        supporter.user,
    )
    assert contact.summary == "Talked about the housing appointment."
    assert contact.next_step == "Phone on Friday"
    event = AuditEvent.objects.get(object_type="peer_support.contact", object_id=str(contact.pk))
    assert event.actor == supporter.user
    assert event.subject == record.user
    assert event.detail == "fields=occurred_at,method,duration_minutes,summary,next_step"
    assert not Alert.objects.exists()


def test_a_former_supporter_cannot_log_after_the_match_ends(record, supporter, match, coordinator):
    match_end(match=match, reason=Match.EndReason.MOVED, ended_by=coordinator)
    with pytest.raises(PermissionDenied):
        log(record, supporter.user)
    assert not Contact.objects.exists()


@pytest.mark.parametrize(
    "who", ["another volunteer", "peer support worker", "coordinator", "person"]
)
def test_nobody_but_the_current_supporter_may_log(service, record, match, coordinator, who):
    user = {
        "another volunteer": lambda: ready_supporter(service).user,
        "peer support worker": lambda: make_member(Role.PEER_SUPPORT_WORKER, service),
        "coordinator": lambda: coordinator,
        "person": lambda: record.user,
    }[who]()
    with pytest.raises(PermissionDenied):
        log(record, user)
    assert not Contact.objects.exists()


def test_a_supporter_of_someone_else_cannot_log_for_this_person(service, record, match):
    other = SupporterFactory(services=[service])
    MatchFactory(supporter=other, service_user=ServiceUserRecordFactory(service=service))
    with pytest.raises(PermissionDenied):
        log(record, other.user)


# --- What is written ---------------------------------------------------------------------------

SANITISING = [
    ("script removed",
     "<script>alert('x')</script>Met at the cafe", "alert('x')Met at the cafe"),
    ("allowed tags kept",
     "<p>Went <strong>well</strong></p><ul><li>GP</li></ul>",
     "<p>Went <strong>well</strong></p><ul><li>GP</li></ul>"),
    ("attributes stripped",
     '<p class="x" onclick="steal()" style="color:red">Hi</p>', "<p>Hi</p>"),
    ("links removed", '<a href="javascript:alert(1)">click</a> me', "click me"),
    ("images removed", '<img src=x onerror="alert(1)">Seen', "Seen"),
    ("comments removed", "Fine<!-- secret -->", "Fine"),
    ("stray angle brackets escaped", "3 < 4 and 5 > 2", "3 &lt; 4 and 5 &gt; 2"),
    ("control characters dropped", "A\x00B\x07C\r\nD", "ABC\nD"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("typed", "stored"), [pytest.param(t, s, id=name) for name, t, s in SANITISING]
)
def test_notes_are_sanitised_on_the_way_in(record, supporter, match, typed, stored):
    contact = log(record, supporter.user, summary=typed, next_step=typed)
    contact.refresh_from_db()
    assert contact.summary == stored
    assert contact.next_step == stored


@pytest.mark.parametrize("summary", ["", "   ", "<script></script>", "<p></p>", "<!-- x -->"])
def test_a_summary_empty_after_sanitising_is_refused(record, supporter, match, summary):
    with pytest.raises(ValidationError) as excinfo:
        log(record, supporter.user, summary=summary)
    assert "summary" in excinfo.value.message_dict
    assert not Contact.objects.exists()


def test_a_contact_in_the_future_is_refused(record, supporter, match):
    with pytest.raises(ValidationError) as excinfo:
        log(record, supporter.user, occurred_at=timezone.now() + dt.timedelta(hours=1))
    assert "occurred_at" in excinfo.value.message_dict
    assert not Contact.objects.exists()


def test_a_naive_time_is_london_time(record, supporter, match):
    contact = log(record, supporter.user, occurred_at=dt.datetime(2026, 7, 1, 9, 0))
    assert contact.occurred_at == dt.datetime(2026, 7, 1, 8, 0, tzinfo=dt.UTC)


@pytest.mark.parametrize("minutes", [-1, 24 * 60 + 1])
def test_an_impossible_duration_is_refused(record, supporter, match, minutes):
    with pytest.raises(ValidationError):
        log(record, supporter.user, duration_minutes=minutes)
    assert not Contact.objects.exists()


# --- Safeguarding ------------------------------------------------------------------------------


@pytest.fixture
def team(service, other_service, coordinator):
    """Who may and may not get the urgent text."""
    return {
        "workers": [
            make_member(Role.PEER_SUPPORT_WORKER, service, mobile=fresh_mobile()) for _ in range(2)
        ],
        "worker_without_mobile": make_member(Role.PEER_SUPPORT_WORKER, service, mobile=""),
        "inactive_worker": make_member(
            Role.PEER_SUPPORT_WORKER, service, mobile=fresh_mobile(), is_active=False
        ),
        "coordinator": make_member(Role.COORDINATOR, service, mobile=fresh_mobile()),
        "elsewhere": make_member(Role.PEER_SUPPORT_WORKER, other_service, mobile=fresh_mobile()),
    }


def test_a_safeguarding_concern_alerts_the_team_once_without_detail(
    service, record, supporter, match, team, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        contact = log(
            record,
            supporter.user,
            summary="Said something worrying about their safety at home.",
            safeguarding_concern=True,
        )

    [alert] = Alert.objects.all()
    assert alert.kind == Alert.Kind.SAFEGUARDING
    assert alert.is_urgent
    assert (alert.service_id, alert.service_user, alert.supporter, alert.contact) == (
        service.pk,
        record,
        supporter,
        contact,
    )
    assert alert.notified_at is not None

    sent_to = sorted(message.recipient_id for message in MemorySMSClient.outbox)
    assert sent_to == sorted(worker.pk for worker in team["workers"])
    for message in MemorySMSClient.outbox:
        assert message.body == URGENT_ALERT_SMS
        assert message.to in {str(worker.mobile) for worker in team["workers"]}
    assert sensitive_words_in(URGENT_ALERT_SMS) == []
    lowered = URGENT_ALERT_SMS.lower()
    for word in [*settings.SMS_SENSITIVE_WORDS, "safeguarding", "worrying", "sam"]:
        assert word not in lowered

    # The task again (a retry) sends nothing more.
    assert tasks.alert_notify_by_sms(alert.pk) == 0
    assert len(MemorySMSClient.outbox) == 2

    event = AuditEvent.objects.get(object_type="peer_support.contact", object_id=str(contact.pk))
    assert event.detail.endswith(",safeguarding_concern")


def test_an_ordinary_contact_texts_nobody(
    record, supporter, match, team, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        log(record, supporter.user)
    assert not Alert.objects.exists()
    assert MemorySMSClient.outbox == []


def test_a_refused_contact_raises_no_alert(
    record, supporter, match, team, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(ValidationError):
        log(record, supporter.user, summary="", safeguarding_concern=True)
    assert not Alert.objects.exists()
    assert MemorySMSClient.outbox == []


def test_the_urgent_text_task_ignores_a_missing_alert():
    assert tasks.alert_notify_by_sms(999_999) == 0
    assert MemorySMSClient.outbox == []


# --- Who reads the notes -----------------------------------------------------------------------


def test_who_reads_which_notes(service, other_service, record, supporter, match, coordinator):
    first_note = log(record, supporter.user)
    elsewhere = ContactFactory(
        match=MatchFactory(
            service_user=ServiceUserRecordFactory(service=other_service),
            supporter=SupporterFactory(services=[other_service]),
        )
    )
    worker = make_member(Role.PEER_SUPPORT_WORKER, service)
    administrator = make_member(Role.ADMINISTRATOR, service)
    administrator.is_superuser = False
    administrator.save()
    next_supporter = ready_supporter(service)
    stranger = make_member(Role.COORDINATOR, other_service)

    def seen(user) -> set[Contact]:
        return set(contacts_visible_to(user=fresh(user)))

    # While matched.
    assert seen(supporter.user) == {first_note}
    for staff in (worker, coordinator, administrator):
        assert seen(staff) == {first_note}
    assert seen(next_supporter.user) == set()
    assert seen(record.user) == set()
    assert seen(stranger) == {elsewhere}
    assert seen(make_member(Role.COMMISSIONER, service)) == set()

    # The match ends and another volunteer takes over.
    match_end(match=match, reason=Match.EndReason.SUPPORTER_LEFT, ended_by=coordinator)
    match_create(service_user=record, supporter=next_supporter, created_by=coordinator)
    second_note = log(record, next_supporter.user)

    assert seen(supporter.user) == set()
    assert seen(next_supporter.user) == {second_note}  # never the earlier supporter's notes
    assert seen(coordinator) == {first_note, second_note}
    assert seen(record.user) == set()
    assert seen(stranger) == {elsewhere}


def test_a_superuser_reads_every_note(record, supporter, match):
    note = log(record, supporter.user)
    admin = make_member(Role.ADMINISTRATOR, ServiceUserRecordFactory().service)
    assert note in contacts_visible_to(user=fresh(admin))


def test_anonymous_users_read_nothing(record, supporter, match):
    from django.contrib.auth.models import AnonymousUser

    log(record, supporter.user)
    assert not contacts_visible_to(user=AnonymousUser()).exists()
