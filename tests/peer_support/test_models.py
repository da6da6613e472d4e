"""Shape rules the models enforce themselves (the services rely on them)."""

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from peer_support.models import Exclusion, Match, ServiceUserRecord
from tests.factories import MatchFactory, ServiceUserRecordFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("field", "value", "valid"),
    [
        ("home_district", "LS6", True),
        ("home_district", "ec1a", True),  # normalised to upper case
        ("home_district", "LS6 1AA", False),
        ("home_district", "6LS", False),
        ("needs", ["alcohol", "housing"], True),
        ("needs", ["astrology"], False),
        ("needs", ["alcohol", "alcohol"], False),
        ("needs", "alcohol", False),
        ("accessibility_needs", ["easy_read", "interpreter"], True),
        ("accessibility_needs", ["braille"], False),
        ("mobile", "07700 900123", True),
        ("mobile", "01134960000", False),
    ],
)
def test_record_field_validation(service, field, value, valid):
    record = ServiceUserRecordFactory.build(service=service, **{field: value})
    if valid:
        record.full_clean()
    else:
        with pytest.raises(ValidationError):
            record.full_clean()


def test_a_closed_record_needs_a_reason(service):
    record = ServiceUserRecordFactory.build(service=service, status="closed")
    with pytest.raises(ValidationError):
        record.full_clean()


def test_database_refuses_a_second_active_match(service):
    first = MatchFactory(service_user=ServiceUserRecordFactory(service=service))
    with pytest.raises(IntegrityError), transaction.atomic():
        Match.objects.create(
            service_user=first.service_user,
            supporter=first.supporter,
            started_at=first.started_at,
            created_by=first.created_by,
        )


def test_database_refuses_an_exclusion_with_two_targets(service):
    record = ServiceUserRecordFactory(service=service)
    other = ServiceUserRecordFactory(service=service)
    supporter = MatchFactory(service_user=other).supporter
    with pytest.raises(IntegrityError), transaction.atomic():
        Exclusion.objects.create(
            service_user=record,
            supporter=supporter,
            other_service_user=other,
            kind="other",
            reason="x",
            entered_by=UserFactory(),
        )


def test_str_never_shows_a_name(service):
    record = ServiceUserRecordFactory(service=service, preferred_name="Robin")
    assert "Robin" not in str(record)
    assert isinstance(record, ServiceUserRecord)
