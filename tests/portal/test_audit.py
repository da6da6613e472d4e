"""The audit log is append-only and records who touched whose data."""

import pytest
from django.db import DatabaseError, connection, transaction

from portal.models import AppendOnlyError, AuditEvent
from portal.roles import Role
from portal.services import consent_give
from tests.portal.conftest import make_member

pytestmark = pytest.mark.django_db


@pytest.fixture
def event(service, person_with_consents):
    return AuditEvent.objects.filter(subject=person_with_consents).first()


def test_giving_consent_is_audited(person_with_consents, service):
    events = AuditEvent.objects.filter(subject=person_with_consents, action="create")
    assert events.count() == 2
    assert {e.object_type for e in events} == {"portal.consent"}
    assert all(e.service_id == service.pk and e.actor_id for e in events)
    assert all("avery" not in e.detail.lower() for e in events)


@pytest.mark.parametrize(
    "attempt",
    [
        lambda e: e.save(),
        lambda e: e.delete(),
        lambda e: AuditEvent.objects.filter(pk=e.pk).update(detail="changed"),
        lambda e: AuditEvent.objects.filter(pk=e.pk).delete(),
        lambda e: AuditEvent.objects.bulk_update([e], ["detail"]),
    ],
    ids=["save", "delete", "queryset-update", "queryset-delete", "bulk-update"],
)
def test_the_orm_refuses_to_change_audit_events(event, attempt):
    with pytest.raises(AppendOnlyError):
        attempt(event)
    assert AuditEvent.objects.filter(pk=event.pk, detail=event.detail).exists()


def test_the_database_refuses_raw_updates(event):
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "UPDATE portal_auditevent SET detail = 'tampered' WHERE id = %s", [event.pk]
        )
    assert AuditEvent.objects.get(pk=event.pk).detail != "tampered"


@pytest.mark.skipif(connection.vendor != "postgresql", reason="SQLite keeps DELETE for flush")
def test_postgresql_refuses_raw_deletes(event):
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("DELETE FROM portal_auditevent WHERE id = %s", [event.pk])
    assert AuditEvent.objects.filter(pk=event.pk).exists()


def test_viewing_a_persons_consents_is_audited(client, service, person_with_consents):
    worker = make_member(Role.COORDINATOR, service)
    client.force_login(worker)
    client.get(f"/staff/people/{person_with_consents.pk}/consents/")
    viewed = AuditEvent.objects.filter(actor=worker, action="view", subject=person_with_consents)
    assert viewed.exists()


def test_staff_can_search_the_audit_log_of_their_service_only(
    client, service, other_service, person_with_consents
):
    outsider_person = make_member(Role.SERVICE_USER, other_service)
    outsider_worker = make_member(Role.PEER_SUPPORT_WORKER, other_service)
    consent_give(
        subject=outsider_person,
        service=other_service,
        purpose="peer_support",
        method="written",
        recorded_by=outsider_worker,
    )
    coordinator = make_member(Role.COORDINATOR, service)
    client.force_login(coordinator)
    page = client.get("/staff/audit/", {"subject": person_with_consents.pk}).content.decode()
    assert f"User {person_with_consents.pk}" in page
    other = client.get("/staff/audit/", {"subject": outsider_person.pk}).content.decode()
    assert "No events match." in other


@pytest.mark.parametrize(
    "query",
    [
        {"date_from": "not a date"},
        {"actor": "-5"},
        {"date_from": "2026-12-01", "date_to": "2026-11-01"},
        {"page": "999"},
        {"object_type": "x" * 500},
    ],
)
def test_bad_audit_searches_get_clear_messages_not_errors(client, service, query):
    client.force_login(make_member(Role.ADMINISTRATOR, service))
    response = client.get("/staff/audit/", query)
    assert response.status_code == 200


def test_role_changes_in_the_admin_are_audited(client, service):
    admin_user = make_member(Role.ADMINISTRATOR, service)
    volunteer = make_member(Role.PEER_VOLUNTEER, service)
    client.force_login(admin_user)
    response = client.post(
        "/django-admin/portal/membership/add/",
        {"user": volunteer.pk, "service": service.pk, "role": Role.COORDINATOR},
    )
    assert response.status_code == 302
    granted = AuditEvent.objects.get(action="permission_change", subject=volunteer)
    assert granted.actor == admin_user
    assert "role=coordinator" in granted.detail


def test_the_admin_cannot_change_or_delete_audit_events(client, service, event):
    client.force_login(make_member(Role.ADMINISTRATOR, service))
    change = client.post(f"/django-admin/portal/auditevent/{event.pk}/change/", {"detail": "x"})
    delete = client.post(f"/django-admin/portal/auditevent/{event.pk}/delete/", {"post": "yes"})
    assert change.status_code in {403, 200}
    assert delete.status_code == 403
    event.refresh_from_db()
    assert event.detail != "x"
