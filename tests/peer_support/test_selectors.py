"""Who sees which records, appointments and supporters; query counts stay flat."""

from datetime import timedelta

import pytest
from django.utils import timezone

from peer_support.selectors import (
    appointments_visible_to,
    exclusions_visible_to,
    service_user_records_visible_to,
    supporters_visible_to,
)
from portal.models import User
from portal.roles import Role
from tests.factories import (
    AppointmentFactory,
    MatchFactory,
    ServiceUserRecordFactory,
    SupporterFactory,
    UserFactory,
)
from tests.portal.conftest import make_member

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(service, other_service):
    """Two records in ``service`` (one matched to a volunteer), one in ``other_service``."""
    volunteer_user = make_member(Role.PEER_VOLUNTEER, service)
    volunteer = SupporterFactory(user=volunteer_user, services=[service])
    person = make_member(Role.SERVICE_USER, service)
    matched = ServiceUserRecordFactory(service=service, user=person)
    unmatched = ServiceUserRecordFactory(service=service)
    elsewhere = ServiceUserRecordFactory(service=other_service)
    MatchFactory(service_user=matched, supporter=volunteer)
    ended = ServiceUserRecordFactory(service=service)
    MatchFactory(
        service_user=ended,
        supporter=volunteer,
        started_at=timezone.now() - timedelta(days=30),
        ended_at=timezone.now(),
        end_reason="moved",
    )
    appointments = {r: AppointmentFactory(service_user=r) for r in (matched, unmatched, elsewhere)}
    return {
        "volunteer": volunteer_user,
        "volunteer_profile": volunteer,
        "person": person,
        "matched": matched,
        "unmatched": unmatched,
        "ended": ended,
        "elsewhere": elsewhere,
        "other_supporter": SupporterFactory(services=[other_service]),
        "appointments": appointments,
    }


def fresh(user):
    """A new user object, so cached memberships do not hide a query."""
    return User.objects.get(pk=user.pk)


@pytest.mark.parametrize("role", [Role.PEER_SUPPORT_WORKER, Role.COORDINATOR, Role.ADMINISTRATOR])
def test_staff_see_every_record_of_their_service_only(world, service, role):
    staff = make_member(role, service)
    if role == Role.ADMINISTRATOR:  # administrators of a service, not superusers
        staff.is_superuser = False
        staff.save()
    records = set(service_user_records_visible_to(user=fresh(staff)))
    assert records == {world["matched"], world["unmatched"], world["ended"]}
    appointments = set(appointments_visible_to(user=fresh(staff)))
    assert world["appointments"][world["elsewhere"]] not in appointments
    assert len(appointments) == 2


def test_a_superuser_sees_every_service(world):
    admin = UserFactory(is_superuser=True, is_staff=True)
    assert world["elsewhere"] in service_user_records_visible_to(user=admin)


def test_a_volunteer_sees_only_the_person_actively_matched_to_them(world):
    volunteer = fresh(world["volunteer"])
    assert list(service_user_records_visible_to(user=volunteer)) == [world["matched"]]
    assert list(appointments_visible_to(user=volunteer)) == [
        world["appointments"][world["matched"]]
    ]
    assert not supporters_visible_to(user=volunteer).exclude(user=volunteer).exists()
    assert not exclusions_visible_to(user=volunteer).exists()


def test_a_service_user_sees_only_their_own_record(world):
    person = fresh(world["person"])
    assert list(service_user_records_visible_to(user=person)) == [world["matched"]]
    assert list(appointments_visible_to(user=person)) == [world["appointments"][world["matched"]]]
    assert not supporters_visible_to(user=person).exists()


@pytest.mark.parametrize("role", [Role.PEER_SUPPORT_WORKER, Role.COORDINATOR])
def test_staff_of_another_service_see_nothing_here(world, other_service, role):
    stranger = fresh(make_member(role, other_service))
    assert list(service_user_records_visible_to(user=stranger)) == [world["elsewhere"]]
    assert list(supporters_visible_to(user=stranger)) == [world["other_supporter"]]
    assert world["matched"] not in service_user_records_visible_to(user=stranger)


@pytest.mark.parametrize("role", [Role.COMMISSIONER, Role.CONTENT_EDITOR])
def test_other_roles_see_no_one(world, service, role):
    someone = fresh(make_member(role, service))
    assert not service_user_records_visible_to(user=someone).exists()
    assert not appointments_visible_to(user=someone).exists()
    assert not supporters_visible_to(user=someone).exists()


def test_casework_staff_see_their_services_supporters(world, service):
    worker = fresh(make_member(Role.PEER_SUPPORT_WORKER, service))
    assert list(supporters_visible_to(user=worker)) == [world["volunteer_profile"]]


def _populate(service, volunteer, n):
    for _ in range(n):
        record = ServiceUserRecordFactory(service=service, user=UserFactory())
        MatchFactory(service_user=record, supporter=volunteer)
        AppointmentFactory(service_user=record)
        SupporterFactory(services=[service])


def _touch_records(user):
    return [
        (r.service.name, r.user_id and r.user.pk)
        for r in service_user_records_visible_to(user=user)
    ]


def _touch_appointments(user):
    return [
        (a.service_user.service.name, a.arranged_by.pk) for a in appointments_visible_to(user=user)
    ]


def _touch_supporters(user):
    return [s.user.pk for s in supporters_visible_to(user=user)]


@pytest.mark.parametrize("reader", [_touch_records, _touch_appointments, _touch_supporters])
@pytest.mark.parametrize("role", [Role.COORDINATOR, Role.PEER_VOLUNTEER])
def test_query_counts_are_flat_at_10_and_100(service, django_assert_num_queries, reader, role):
    member = make_member(role, service)
    volunteer = SupporterFactory(user=member, services=[service], capacity=200)
    # One membership query, then one query for the list itself.
    _populate(service, volunteer, 10)
    reader_user = fresh(member)
    with django_assert_num_queries(2):
        small = reader(reader_user)
    _populate(service, volunteer, 90)
    reader_user = fresh(member)
    with django_assert_num_queries(2):
        large = reader(reader_user)
    if reader is _touch_supporters and role == Role.PEER_VOLUNTEER:
        assert len(small) == len(large) == 1  # their own profile only
    else:
        assert len(large) >= 100 and len(small) >= 10
