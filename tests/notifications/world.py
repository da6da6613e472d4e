"""Building blocks for the SMS tests: a person who agreed to reminders, their supporter, an
appointment. Fictional everything (drama-range numbers)."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from django.utils import timezone

from peer_support.models import Appointment, ServiceUserRecord
from portal.roles import Role
from portal.services import consent_give
from tests.factories import (
    AppointmentFactory,
    MatchFactory,
    ServiceUserRecordFactory,
    SupporterFactory,
)
from tests.portal.conftest import make_member

LONDON = ZoneInfo("Europe/London")


def local(year, month, day, hour=10, minute=0) -> dt.datetime:
    return dt.datetime(year, month, day, hour, minute, tzinfo=LONDON)


def person(
    service, *, mobile: str | None = None, consent: bool = True, **fields
) -> ServiceUserRecord:
    """An open record with an account and (by default) consent to text reminders."""
    user = make_member(Role.SERVICE_USER, service)
    record = ServiceUserRecordFactory(
        service=service,
        user=user,
        status=ServiceUserRecord.Status.MATCHED,
        **({"mobile": mobile} if mobile else {}),
        **fields,
    )
    if consent:
        consent_give(
            subject=user,
            service=service,
            purpose="sms_reminders",
            method="verbal_court",
            recorded_by=make_member(Role.COORDINATOR, service),
        )
    return record


def supporter_of(record: ServiceUserRecord, *, mobile: str = ""):
    supporter = SupporterFactory(services=[record.service])
    if mobile:  # set after the factory, which would log the number
        supporter.user.mobile = mobile
        supporter.user.save(update_fields=["mobile"])
    MatchFactory(service_user=record, supporter=supporter)
    return supporter


def appointment(record: ServiceUserRecord, *, starts_at: dt.datetime | None = None) -> Appointment:
    return AppointmentFactory(
        service_user=record,
        starts_at=starts_at or timezone.now() + dt.timedelta(days=5),
    )


def committed():
    """Run what the code queued for after commit (tasks, replies): tests run inside one
    transaction that never commits."""
    from django.test import TestCase

    return TestCase.captureOnCommitCallbacks(execute=True)
