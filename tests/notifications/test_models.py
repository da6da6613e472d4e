"""The outbox's database constraints, checked by the database itself (SQLite and PostgreSQL):
the code relies on them to plan each reminder once, whoever plans it and however often."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import IntegrityError, connection, transaction

from notifications import services
from notifications.models import OutboundMessage

from .world import appointment, person

pytestmark = pytest.mark.django_db

Status = OutboundMessage.Status
CONSTRAINT = "one_reminder_per_appointment_slot"


def planned(service) -> OutboundMessage:
    appt = appointment(person(service))
    services.reminders_sync(appointment_id=appt.pk)
    return appt.reminders.get(slot="3d")


def another_row_like(row: OutboundMessage, **changes) -> OutboundMessage:
    values = {
        "kind": row.kind,
        "service_id": row.service_id,
        "service_user_id": row.service_user_id,
        "appointment_id": row.appointment_id,
        "slot": row.slot,
        "appointment_starts_at": row.appointment_starts_at,
        "send_at": row.send_at + dt.timedelta(minutes=5),
        "status": Status.SCHEDULED,
        **changes,
    }
    return OutboundMessage.objects.create(**values)


def test_the_constraint_is_declared_on_the_model():
    [constraint] = [c for c in OutboundMessage._meta.constraints if c.name == CONSTRAINT]
    assert tuple(constraint.fields) == ("appointment", "slot", "appointment_starts_at")


@pytest.mark.parametrize("existing", [Status.SCHEDULED, Status.WITHDRAWN, Status.SENT])
@pytest.mark.parametrize("new", [Status.SCHEDULED, Status.NOT_SENT])
def test_a_second_reminder_for_the_same_appointment_slot_and_time_is_refused(
    service, existing, new
):
    row = planned(service)
    OutboundMessage.objects.filter(pk=row.pk).update(status=existing)
    before = OutboundMessage.objects.count()

    with pytest.raises(IntegrityError) as refused, transaction.atomic():
        another_row_like(row, status=new)

    message = str(refused.value)
    if connection.vendor == "postgresql":
        assert CONSTRAINT in message
    else:
        assert "UNIQUE constraint failed" in message and "slot" in message
    # The refusal was contained by the savepoint: the outer transaction goes on.
    assert OutboundMessage.objects.count() == before


def test_another_slot_or_another_appointment_time_is_allowed(service):
    row = planned(service)
    moved = row.appointment_starts_at + dt.timedelta(hours=1)
    with transaction.atomic():
        another_row_like(row, slot="extra")
        another_row_like(row, appointment_starts_at=moved)
        # ...and each of those once only.
        with pytest.raises(IntegrityError), transaction.atomic():
            another_row_like(row, appointment_starts_at=moved)
    assert row.appointment.reminders.filter(slot=row.slot).count() == 2


def test_only_reminders_are_constrained(service):
    row = planned(service)
    manual = {"kind": OutboundMessage.Kind.MANUAL, "slot": row.slot}
    with transaction.atomic():
        first, second = another_row_like(row, **manual), another_row_like(row, **manual)
    assert first.pk != second.pk
