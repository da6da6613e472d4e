"""Reads of person-level data, already scoped to what the user may see."""

from __future__ import annotations

from collections.abc import Iterable

from django.db.models import Exists, OuterRef, QuerySet

from . import permissions
from .models import AuditEvent, Consent, ConsentPurpose, ConsentWording, Membership, User
from .roles import Role

# Who sees the people of a service: its casework staff and its administrators. A superuser
# sees every service. peer_support.selectors follows the same rule.
PEOPLE_ROLES = permissions.CASEWORK_ROLES | {Role.ADMINISTRATOR}


def service_users_visible_to(*, user: User) -> QuerySet[User]:
    """Service users of the services where ``user`` does casework or administers (every
    service, for a superuser). Volunteers reach the people they support through
    ``peer_support.selectors``, never here."""
    service_users = User.objects.filter(memberships__role=Role.SERVICE_USER).distinct()
    if user.is_superuser:
        return service_users
    services = permissions.service_ids_where(user, PEOPLE_ROLES)
    if not services:
        return User.objects.none()
    return service_users.filter(
        Exists(
            Membership.objects.filter(
                user=OuterRef("pk"), role=Role.SERVICE_USER, service_id__in=services
            )
        )
    )


def service_user_membership_visible_to(*, user: User, person: User) -> Membership | None:
    """The service (membership) through which ``user`` may act for ``person``."""
    memberships = Membership.objects.select_related("service").filter(
        user=person, role=Role.SERVICE_USER
    )
    if not user.is_superuser:
        services = permissions.service_ids_where(user, PEOPLE_ROLES)
        memberships = memberships.filter(service_id__in=services)
    return memberships.order_by("service_id").first()


def consents_visible_to(*, user: User) -> QuerySet[Consent]:
    """A service user's own consents; casework staff see their services' consents."""
    consents = Consent.objects.select_related("wording", "service")
    if user.is_superuser:
        return consents
    services = permissions.service_ids_where(user, PEOPLE_ROLES)
    if services:
        return consents.filter(service_id__in=services)
    if permissions.is_service_user(user):
        return consents.filter(subject=user)
    return Consent.objects.none()


def consent_is_active(*, subject: User, purpose: str, service_id: int | None = None) -> bool:
    """Everything that depends on consent asks here, so a withdrawal counts at once."""
    consents = Consent.objects.filter(subject=subject, purpose=purpose, withdrawn_at__isnull=True)
    if service_id is not None:
        consents = consents.filter(service_id=service_id)
    return consents.exists()


def consents_active_for(*, subject_ids: Iterable[int], purpose: str) -> set[tuple[int, int]]:
    """(subject id, service id) of every active consent to ``purpose`` among these people:
    the rule of ``consent_is_active``, for a batch (the SMS sender checks 50 at once)."""
    return set(
        Consent.objects.filter(
            subject_id__in=list(subject_ids), purpose=purpose, withdrawn_at__isnull=True
        ).values_list("subject_id", "service_id")
    )


def consent_wording_current(*, purpose: str) -> ConsentWording | None:
    return ConsentWording.objects.filter(purpose=purpose).order_by("-version").first()


def consent_purposes() -> list[tuple[str, str]]:
    return list(ConsentPurpose.choices)


def audit_events_visible_to(*, user: User) -> QuerySet[AuditEvent]:
    events = AuditEvent.objects.select_related("actor", "service")
    if user.is_superuser:
        return events
    services = permissions.service_ids_where(user, permissions.AUDIT_ROLES)
    if not services:
        return AuditEvent.objects.none()
    return events.filter(service_id__in=services)
