"""Reads of peer support data, already scoped to what the user may see.

Who sees a person's record (and so their appointments):

* peer support workers and coordinators of the record's service, and administrators of that
  service (a superuser: every service);
* a supporter (volunteer or worker) while they have an active match with the person;
* the person themselves.

Exclusions are staff-only: volunteers never see them, or why they exist.
"""

from __future__ import annotations

from django.db.models import Exists, OuterRef, Q, QuerySet

from portal import permissions
from portal.models import User
from portal.roles import Role

from .models import Appointment, Exclusion, Match, ServiceUserRecord, Supporter

STAFF_ROLES = permissions.CASEWORK_ROLES | {Role.ADMINISTRATOR}


def _staff_service_ids(user: User) -> set[int]:
    return permissions.service_ids_where(user, STAFF_ROLES)


def _visible_records_q(user: User) -> Q:
    active_match_to_user = Match.objects.filter(
        service_user=OuterRef("pk"), ended_at__isnull=True, supporter__user=user
    )
    return (
        Q(service_id__in=_staff_service_ids(user)) | Q(user=user) | Q(Exists(active_match_to_user))
    )


def service_user_records_visible_to(*, user: User) -> QuerySet[ServiceUserRecord]:
    if not getattr(user, "is_authenticated", False):
        return ServiceUserRecord.objects.none()
    records = ServiceUserRecord.objects.select_related("service", "user")
    if user.is_superuser:
        return records
    return records.filter(_visible_records_q(user))


def appointments_visible_to(*, user: User) -> QuerySet[Appointment]:
    if not getattr(user, "is_authenticated", False):
        return Appointment.objects.none()
    appointments = Appointment.objects.select_related(
        "service_user", "service_user__service", "arranged_by"
    )
    if user.is_superuser:
        return appointments
    visible = ServiceUserRecord.objects.filter(_visible_records_q(user)).values("pk")
    return appointments.filter(service_user__in=visible)


def supporters_visible_to(*, user: User) -> QuerySet[Supporter]:
    """Casework staff (and administrators) see the supporters of their services; a supporter
    sees their own profile."""
    if not getattr(user, "is_authenticated", False):
        return Supporter.objects.none()
    supporters = Supporter.objects.select_related("user")
    if user.is_superuser:
        return supporters
    in_staff_service = Supporter.services.through.objects.filter(
        supporter_id=OuterRef("pk"), service_id__in=_staff_service_ids(user)
    )
    return supporters.filter(Q(Exists(in_staff_service)) | Q(user=user))


def exclusions_visible_to(*, user: User) -> QuerySet[Exclusion]:
    """Staff of the person's service only; nobody else learns an exclusion exists."""
    if not getattr(user, "is_authenticated", False):
        return Exclusion.objects.none()
    exclusions = Exclusion.objects.select_related("service_user", "supporter", "entered_by")
    if user.is_superuser:
        return exclusions
    return exclusions.filter(service_user__service_id__in=_staff_service_ids(user))


# --- Unscoped reads for the services (never shown to anyone as they are) ---------------------


def excluded_supporter_ids(*, record: ServiceUserRecord) -> frozenset[int]:
    """Supporters this person must not have: those excluded directly, and the active
    supporters of anyone this person must not meet (an exclusion either way round)."""
    direct = Exclusion.objects.filter(service_user=record, supporter__isnull=False).values_list(
        "supporter_id", flat=True
    )
    others = set(
        Exclusion.objects.filter(
            service_user=record, other_service_user__isnull=False
        ).values_list("other_service_user_id", flat=True)
    ) | set(
        Exclusion.objects.filter(other_service_user=record).values_list(
            "service_user_id", flat=True
        )
    )
    via_others = (
        Match.objects.filter(service_user_id__in=others, ended_at__isnull=True).values_list(
            "supporter_id", flat=True
        )
        if others
        else []
    )
    return frozenset(direct) | frozenset(via_others)


def supporter_active_match_count(*, supporter: Supporter) -> int:
    return Match.objects.filter(supporter=supporter, ended_at__isnull=True).count()
