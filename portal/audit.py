"""Writing the audit log. Every view, create, change, export and permission change touching
person-level data calls :func:`audit_record` (from a service or a selector-backed view)."""

from __future__ import annotations

from django.db import models

from .models import AuditEvent, Service, User


def audit_record(
    *,
    actor: User | None,
    action: str,
    obj: models.Model,
    subject: User | None = None,
    service: Service | int | None = None,
    detail: str = "",
) -> AuditEvent:
    """Append one audit event. ``detail`` names fields, never their values."""
    service_id = service.pk if isinstance(service, Service) else service
    event = AuditEvent(
        actor=actor if actor is not None and actor.is_authenticated else None,
        action=action,
        object_type=obj._meta.label_lower,
        object_id=str(obj.pk),
        subject=subject,
        service_id=service_id,
        detail=detail[:200],
    )
    event.full_clean()
    event.save()
    return event


def audit_record_many(
    *, actor: User, action: str, objects: list[models.Model], subject_attr: str | None = None
) -> None:
    """Record one event per object (e.g. each row shown on a list page) in one query."""
    AuditEvent.objects.bulk_create(
        [
            AuditEvent(
                actor=actor,
                action=action,
                object_type=obj._meta.label_lower,
                object_id=str(obj.pk),
                subject_id=getattr(obj, subject_attr) if subject_attr else None,
                service_id=getattr(obj, "service_id", None),
            )
            for obj in objects
        ]
    )
