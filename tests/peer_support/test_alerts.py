"""Alerts are for the casework staff of their service only; resolving is audited, idempotent
and refused to anyone else. Only urgent alerts are texted."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import PermissionDenied

from notifications.sms import MemorySMSClient
from peer_support.models import Alert
from peer_support.selectors import alerts_visible_to
from peer_support.services import alert_resolve, referral_request_create
from portal.models import AuditEvent, User
from portal.roles import Role
from tests.factories import AlertFactory, ServiceFactory, UserFactory
from tests.peer_support.test_offers import fresh_mobile, ready_supporter, waiting_record
from tests.portal.conftest import make_member

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def empty_outbox():
    MemorySMSClient.outbox.clear()
    yield
    MemorySMSClient.outbox.clear()


@pytest.fixture
def here(service):
    return AlertFactory(service=service, kind=Alert.Kind.OFFER_DECLINED, message="Declined.")


@pytest.fixture
def there(other_service):
    return AlertFactory(service=other_service, kind=Alert.Kind.SAFEGUARDING, message="Urgent.")


def fresh(user) -> User:
    return User.objects.get(pk=user.pk)


@pytest.mark.parametrize(
    ("role", "sees_here"),
    [
        (Role.PEER_SUPPORT_WORKER, True),
        (Role.COORDINATOR, True),
        (Role.ADMINISTRATOR, True),  # an administrator of the service (not a superuser)
        (Role.PEER_VOLUNTEER, False),
        (Role.SERVICE_USER, False),
        (Role.COMMISSIONER, False),
        (Role.CONTENT_EDITOR, False),
    ],
)
def test_alerts_are_seen_by_the_services_staff_only(service, here, there, role, sees_here):
    user = make_member(role, service)
    if role == Role.ADMINISTRATOR:
        user.is_superuser = False
        user.save()
    assert set(alerts_visible_to(user=fresh(user))) == ({here} if sees_here else set())


def test_a_supporter_never_sees_alerts_about_themselves(service, here):
    supporter = ready_supporter(service)
    AlertFactory(service=service, kind=Alert.Kind.SUPPORTER_NOT_READY, supporter=supporter)
    assert not alerts_visible_to(user=fresh(supporter.user)).exists()


def test_the_person_never_sees_alerts_about_them(service):
    record = waiting_record(service)
    AlertFactory(service=service, service_user=record)
    assert not alerts_visible_to(user=fresh(record.user)).exists()


def test_a_superuser_sees_every_alert_and_anonymous_none(here, there):
    assert set(alerts_visible_to(user=UserFactory(is_superuser=True))) == {here, there}
    assert not alerts_visible_to(user=AnonymousUser()).exists()


def test_staff_resolve_an_alert_once(service, here):
    worker = make_member(Role.PEER_SUPPORT_WORKER, service)

    resolved = alert_resolve(alert=here, resolved_by=worker)
    first_time = resolved.resolved_at
    again = alert_resolve(alert=here, resolved_by=make_member(Role.COORDINATOR, service))

    assert first_time is not None
    assert resolved.resolved_by == worker
    here.refresh_from_db()
    assert (here.resolved_at, here.resolved_by) == (first_time, worker)
    assert again.resolved_at == first_time
    [event] = AuditEvent.objects.filter(object_type="peer_support.alert")
    assert (event.actor, event.service_id, event.detail) == (
        worker,
        service.pk,
        "fields=resolved_at",
    )


@pytest.mark.parametrize(
    "who", ["staff of another service", "volunteer", "service user", "administrator"]
)
def test_nobody_else_may_resolve(service, other_service, here, who):
    user = {
        "staff of another service": lambda: make_member(Role.COORDINATOR, other_service),
        "volunteer": lambda: ready_supporter(service).user,
        "service user": lambda: make_member(Role.SERVICE_USER, service),
        "administrator": lambda: make_member(Role.ADMINISTRATOR, service),
    }[who]()
    with pytest.raises(PermissionDenied):
        alert_resolve(alert=here, resolved_by=user)
    here.refresh_from_db()
    assert here.resolved_at is None
    assert not AuditEvent.objects.filter(object_type="peer_support.alert").exists()


def test_only_safeguarding_alerts_are_urgent():
    urgent = {kind for kind in Alert.Kind if Alert(kind=kind).is_urgent}
    assert urgent == {Alert.Kind.SAFEGUARDING}


def test_a_non_urgent_alert_is_not_texted(service, django_capture_on_commit_callbacks):
    make_member(Role.PEER_SUPPORT_WORKER, service, mobile=fresh_mobile())
    with django_capture_on_commit_callbacks(execute=True):
        referral_request_create(
            service=service,
            source="self",
            preferred_name="Sam",
            age_band="25_plus",
            mobile="07700900981",
        )
    [alert] = Alert.objects.all()
    assert alert.kind == Alert.Kind.NEW_REFERRAL
    assert alert.notified_at is None
    assert MemorySMSClient.outbox == []


def test_alerts_are_newest_first(service):
    worker = make_member(Role.PEER_SUPPORT_WORKER, service)
    older = AlertFactory(service=service)
    AlertFactory(service=ServiceFactory())  # another service, never listed
    newest = AlertFactory(service=service)
    assert list(alerts_visible_to(user=fresh(worker))) == [newest, older]
