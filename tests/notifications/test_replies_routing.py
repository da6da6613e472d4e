"""Whose reply is it? A text from a number is given to a person by
``notifications.selectors.sender_record``: the person we last texted at that number, else the
one open record with it. A number nobody open has, or that two open records share (and that
we never texted), belongs to no service: the reply waits in the inbox of superusers only,
never of a service's staff or of anyone's supporter. And STOP, then START, lets reminders go
again."""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace

import pytest
import time_machine
from django.test import Client
from django.utils import timezone

from notifications import services
from notifications.models import InboundMessage, OptOut, OutboundMessage
from notifications.selectors import sender_record
from notifications.sms import MemorySMSClient
from peer_support.models import ServiceUserRecord
from portal.models import User
from portal.roles import Role
from tests.factories import SupporterFactory
from tests.portal.conftest import make_member

from .world import appointment, committed, person, supporter_of

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("empty_outbox")]

Status = OutboundMessage.Status
NUMBER = "+447700900871"  # the number the tests are about
OTHER_NUMBER = "+447700900872"
QUESTION = "Can I bring my dog along on Tuesday?"
UNKNOWN = "The number is not one the portal knows."


@pytest.fixture
def people(service, other_service):
    """Staff and supporters of two services. ``admin`` is an administrator (a superuser)."""
    return SimpleNamespace(
        admin=make_member(Role.ADMINISTRATOR, service),
        worker=make_member(Role.PEER_SUPPORT_WORKER, service),
        coordinator=make_member(Role.COORDINATOR, service),
        other_worker=make_member(Role.PEER_SUPPORT_WORKER, other_service),
        other_volunteer=SupporterFactory(
            user=make_member(Role.PEER_VOLUNTEER, other_service), services=[other_service]
        ).user,
    )


def reply(number: str, body: str, sid: str) -> InboundMessage:
    """A text arrives and is handled, as the webhook and its task would do it."""
    with committed():
        inbound = services.inbound_record(message_sid=sid, from_number=number, body=body)
    return InboundMessage.objects.get(pk=inbound.pk)


def inbox_of(user: User) -> str:
    client = Client()
    client.force_login(User.objects.get(pk=user.pk))
    response = client.get("/notifications/inbox/")
    assert response.status_code == 200
    return response.content.decode()


def listed(user: User, inbound: InboundMessage) -> bool:
    """Whether the reply is in the user's inbox: its "Answer" link is."""
    return f'href="/notifications/inbox/{inbound.pk}/"' in inbox_of(user)


def closed(record: ServiceUserRecord) -> ServiceUserRecord:
    ServiceUserRecord.objects.filter(pk=record.pk).update(status=ServiceUserRecord.Status.CLOSED)
    record.refresh_from_db()
    return record


def texted(record: ServiceUserRecord, number: str, *, ago: dt.timedelta) -> OutboundMessage:
    """A text we sent to ``record`` at ``number`` (a reply written by staff)."""
    at = timezone.now() - ago
    return OutboundMessage.objects.create(
        kind=OutboundMessage.Kind.MANUAL,
        service_id=record.service_id,
        service_user=record,
        send_at=at,
        sent_at=at,
        status=Status.SENT,
        to=number,
        body="Hello from the team.",
    )


def assert_belongs_to_nobody(inbound: InboundMessage, people) -> None:
    assert (inbound.service_id, inbound.service_user_id) == (None, None)
    assert (inbound.status, inbound.intent, inbound.outcome) == (
        InboundMessage.Status.NEEDS_ANSWER,
        "other",
        UNKNOWN,
    )
    assert listed(people.admin, inbound)
    admin_inbox = inbox_of(people.admin)
    assert QUESTION in admin_inbox
    assert "A number the portal does not know" in admin_inbox
    for viewer in ("worker", "coordinator", "other_worker", "other_volunteer"):
        assert not listed(getattr(people, viewer), inbound), viewer


# --- sender_record ----------------------------------------------------------------------------


def test_sender_record_is_the_one_open_record_with_the_number(service):
    record = person(service, mobile=NUMBER)
    assert sender_record(number=NUMBER) == record
    assert sender_record(number=OTHER_NUMBER) is None


def test_sender_record_ignores_closed_records(service):
    gone = closed(person(service, mobile=NUMBER))
    assert sender_record(number=NUMBER) is None
    open_one = person(service, mobile=NUMBER)
    assert sender_record(number=NUMBER) == open_one != gone


@pytest.mark.parametrize("same_service", [True, False], ids=["same service", "two services"])
def test_sender_record_is_nobody_when_two_open_records_share_the_number(
    service, other_service, same_service
):
    person(service, mobile=NUMBER)
    person(service if same_service else other_service, mobile=NUMBER)
    assert sender_record(number=NUMBER) is None


def test_sender_record_is_the_person_we_last_texted_at_the_number(service, other_service):
    first = person(service, mobile=NUMBER)
    second = person(other_service, mobile=NUMBER)
    texted(first, NUMBER, ago=dt.timedelta(days=2))
    assert sender_record(number=NUMBER) == first
    texted(second, NUMBER, ago=dt.timedelta(days=1))
    assert sender_record(number=NUMBER) == second
    # A text not sent (yet) does not count.
    OutboundMessage.objects.create(
        kind=OutboundMessage.Kind.MANUAL,
        service_id=first.service_id,
        service_user=first,
        send_at=timezone.now(),
        status=Status.SCHEDULED,
        to=NUMBER,
        body="Not sent yet.",
    )
    assert sender_record(number=NUMBER) == second


# --- Where a reply lands, and who sees it -----------------------------------------------------


def test_a_reply_from_a_number_nobody_has_belongs_to_no_service(service, people):
    person(service, mobile=OTHER_NUMBER)
    inbound = reply(NUMBER, QUESTION, "SM" + "a1" * 16)
    assert_belongs_to_nobody(inbound, people)


def test_a_reply_from_the_number_of_a_closed_record_belongs_to_no_service(service, people):
    closed(person(service, mobile=NUMBER))
    inbound = reply(NUMBER, QUESTION, "SM" + "a2" * 16)
    assert_belongs_to_nobody(inbound, people)


@pytest.mark.parametrize("same_service", [True, False], ids=["same service", "two services"])
def test_a_reply_from_a_shared_number_belongs_to_no_service(
    service, other_service, people, same_service
):
    one = person(service, mobile=NUMBER)
    other = person(service if same_service else other_service, mobile=NUMBER)
    supporter_of(one)
    supporter_of(other)
    inbound = reply(NUMBER, QUESTION, "SM" + "a3" * 16)
    assert_belongs_to_nobody(inbound, people)


def test_a_reply_from_a_shared_number_goes_to_the_person_we_last_texted(
    service, other_service, people
):
    ours = person(service, mobile=NUMBER)
    theirs = person(other_service, mobile=NUMBER)
    volunteer = supporter_of(ours).user
    texted(ours, NUMBER, ago=dt.timedelta(hours=1))

    inbound = reply(NUMBER, QUESTION, "SM" + "a4" * 16)

    assert (inbound.service_id, inbound.service_user_id) == (service.pk, ours.pk)
    assert inbound.status == InboundMessage.Status.NEEDS_ANSWER
    for viewer in (people.admin, people.worker, people.coordinator, volunteer):
        assert listed(viewer, inbound)
    for viewer in (people.other_worker, people.other_volunteer, supporter_of(theirs).user):
        assert not listed(viewer, inbound)


def test_a_volunteer_of_another_service_never_sees_a_persons_reply(service, people):
    record = person(service, mobile=NUMBER)
    volunteer = supporter_of(record).user
    inbound = reply(NUMBER, QUESTION, "SM" + "a5" * 16)
    assert (inbound.service_id, inbound.service_user_id) == (service.pk, record.pk)
    assert listed(volunteer, inbound)
    assert listed(people.worker, inbound)
    assert not listed(people.other_volunteer, inbound)
    assert not listed(people.other_worker, inbound)
    client = Client()
    client.force_login(User.objects.get(pk=people.other_volunteer.pk))
    assert client.get(f"/notifications/inbox/{inbound.pk}/").status_code == 404


@pytest.mark.parametrize("body", ["YES", "change"])
def test_a_keyword_from_a_number_nobody_has_changes_nothing_and_waits_for_a_person(
    service, people, body
):
    appt = appointment(person(service, mobile=OTHER_NUMBER))
    inbound = reply(NUMBER, body, "SM" + "a6" * 16)
    appt.refresh_from_db()
    assert appt.reply_state == ""
    assert (inbound.service_id, inbound.status) == (None, InboundMessage.Status.NEEDS_ANSWER)
    assert inbound.outcome == UNKNOWN
    assert listed(people.admin, inbound)
    assert not listed(people.worker, inbound)


def test_help_from_a_number_nobody_has_gets_the_fallback_phone(settings):
    settings.SMS_FALLBACK_HELP_PHONE = "111"
    inbound = reply(NUMBER, "HELP", "SM" + "a7" * 16)
    assert inbound.status == InboundMessage.Status.HANDLED
    [sent] = MemorySMSClient.outbox
    assert sent.to == NUMBER
    assert "111" in sent.body


# --- STOP, then START -------------------------------------------------------------------------


def send_due(at: dt.datetime) -> None:
    with time_machine.travel(at, tick=False), committed():
        services.messages_dispatch_due()


def test_after_stop_then_start_a_later_reminder_is_sent_again(service):
    record = person(service, mobile=NUMBER)
    first = appointment(record, starts_at=timezone.now() + dt.timedelta(days=5))
    later = appointment(record, starts_at=timezone.now() + dt.timedelta(days=9))
    for appt in (first, later):
        services.reminders_sync(appointment_id=appt.pk)
    while_stopped = first.reminders.get(slot="3d")
    after_start = later.reminders.get(slot="3d")

    reply(NUMBER, "STOP", "SM" + "b1" * 16)
    send_due(while_stopped.send_at)
    while_stopped.refresh_from_db()
    assert (while_stopped.status, while_stopped.reason_code) == (Status.NOT_SENT, "opted_out")
    assert MemorySMSClient.outbox == []

    started = reply(NUMBER, "Start", "SM" + "b2" * 16)
    assert (started.intent, started.status) == ("start", InboundMessage.Status.HANDLED)
    assert not OptOut.objects.get(number=NUMBER).active

    send_due(after_start.send_at)
    after_start.refresh_from_db()
    assert after_start.status == Status.SENT
    [sent] = MemorySMSClient.outbox
    assert (sent.to, sent.body) == (NUMBER, after_start.body)

    # And STOP again stops them again: the opt-out is not a one-off.
    reply(NUMBER, "stop", "SM" + "b3" * 16)
    next_one = later.reminders.get(slot="1d")
    send_due(next_one.send_at)
    next_one.refresh_from_db()
    assert (next_one.status, next_one.reason_code) == (Status.NOT_SENT, "opted_out")
    assert len(MemorySMSClient.outbox) == 1


# --- Numbers that change hands ----------------------------------------------------------------


def test_a_reply_from_the_number_of_a_closed_record_we_texted_goes_to_that_record(service, people):
    # Nobody open has the number; the person we last texted at it did. Their service's staff
    # are the ones who can answer, so it lands with them (the last-texted rule comes first).
    record = person(service, mobile=NUMBER)
    texted(record, NUMBER, ago=dt.timedelta(days=3))
    closed(record)
    inbound = reply(NUMBER, QUESTION, "SM" + "c1" * 16)
    assert (inbound.service_id, inbound.service_user_id) == (service.pk, record.pk)
    assert listed(people.worker, inbound)
    assert not listed(people.other_worker, inbound)
    assert not listed(people.other_volunteer, inbound)


def test_a_number_that_moved_to_someone_else_is_theirs_not_the_person_we_texted_before(
    service, other_service, people
):
    before = person(service, mobile=NUMBER)
    texted(before, NUMBER, ago=dt.timedelta(days=30))
    ServiceUserRecord.objects.filter(pk=before.pk).update(mobile=OTHER_NUMBER)  # new phone
    their_appointment = appointment(before, starts_at=timezone.now() + dt.timedelta(days=2))
    now_has_it = person(other_service, mobile=NUMBER)

    inbound = reply(NUMBER, "YES", "SM" + "c2" * 16)

    their_appointment.refresh_from_db()
    assert their_appointment.reply_state == "", "someone else's YES confirmed it"
    assert (inbound.service_id, inbound.service_user_id) == (other_service.pk, now_has_it.pk)
