"""Writes for the core app: consent and memberships. Each is atomic and audited."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from .audit import audit_record
from .consent_text import WORDING_V1
from .models import (
    AuditEvent,
    Consent,
    ConsentMethod,
    ConsentWording,
    Membership,
    Service,
    User,
)
from .roles import Role
from .selectors import consent_wording_current


@transaction.atomic
def consent_wording_ensure() -> None:
    """Make sure version 1 of every purpose's wording exists (after a `flush`, say)."""
    for purpose, text in WORDING_V1.items():
        ConsentWording.objects.get_or_create(
            purpose=purpose, version=1, defaults={"text": text, "effective_from": timezone.now()}
        )


@transaction.atomic
def consent_give(
    *,
    subject: User,
    service: Service,
    purpose: str,
    method: str,
    recorded_by: User,
) -> Consent:
    """Record that ``subject`` agreed to ``purpose``, with the wording they were shown."""
    wording = consent_wording_current(purpose=purpose)
    if wording is None:
        raise ValidationError("There is no wording for this kind of consent yet.")
    existing = (
        Consent.objects.select_for_update()
        .filter(subject=subject, service=service, purpose=purpose, withdrawn_at__isnull=True)
        .first()
    )
    if existing is not None:
        return existing
    consent = Consent(
        subject=subject,
        service=service,
        purpose=purpose,
        wording=wording,
        given_at=timezone.now(),
        given_method=method,
        recorded_by=recorded_by,
    )
    consent.full_clean()
    consent.save()
    audit_record(
        actor=recorded_by,
        action=AuditEvent.Action.CREATE,
        obj=consent,
        subject=subject,
        service=service,
        detail=f"purpose={purpose} method={method}",
    )
    return consent


@transaction.atomic
def consent_withdraw(*, consent: Consent, method: str, recorded_by: User) -> Consent:
    """Withdraw at once. Everything that reads consent goes through `consent_is_active`."""
    consent = Consent.objects.select_for_update().get(pk=consent.pk)
    if consent.withdrawn_at is not None:
        return consent
    if method not in ConsentMethod.values:
        raise ValidationError("Choose how the person told us.")
    consent.withdrawn_at = timezone.now()
    consent.withdrawn_method = method
    consent.withdrawn_recorded_by = recorded_by
    consent.full_clean()
    consent.save(update_fields=["withdrawn_at", "withdrawn_method", "withdrawn_recorded_by"])
    audit_record(
        actor=recorded_by,
        action=AuditEvent.Action.CHANGE,
        obj=consent,
        subject=consent.subject,
        service=consent.service_id,
        detail=f"withdrawn method={method}",
    )
    return consent


@transaction.atomic
def membership_grant(
    *, user: User, service: Service, role: Role, granted_by: User | None
) -> Membership:
    membership, created = Membership.objects.get_or_create(user=user, service=service, role=role)
    if created:
        audit_record(
            actor=granted_by,
            action=AuditEvent.Action.PERMISSION_CHANGE,
            obj=membership,
            subject=user,
            service=service,
            detail=f"granted role={role}",
        )
    return membership


@transaction.atomic
def membership_revoke(*, membership: Membership, revoked_by: User | None) -> None:
    audit_record(
        actor=revoked_by,
        action=AuditEvent.Action.PERMISSION_CHANGE,
        obj=membership,
        subject=membership.user,
        service=membership.service_id,
        detail=f"revoked role={membership.role}",
    )
    membership.delete()
