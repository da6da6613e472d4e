"""Reads of peer support data, already scoped to what the user may see.

Who sees a person's record (and so their appointments):

* peer support workers and coordinators of the record's service, and administrators of that
  service (a superuser: every service);
* a supporter (volunteer or worker) while they have an active match with the person;
* the person themselves.

Exclusions are staff-only: volunteers never see them, or why they exist. Contact notes are
read by the service's casework staff and by the supporter who wrote them, while they still
support the person: never by another volunteer. Alerts are for casework staff only.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import date

from django.db.models import Count, Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from portal import permissions
from portal.models import Consent, ConsentPurpose, Service, User
from portal.roles import Role

from . import matching
from .adapters import referral_from_record, supporter_from_model
from .models import (
    Alert,
    Appointment,
    Contact,
    Exclusion,
    Match,
    Offer,
    ServiceUserRecord,
    Supporter,
)
from .readiness import readiness_settings

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


def supporter_places_taken(*, supporter: Supporter, ignoring_offer: Offer | None = None) -> int:
    """Active matches plus offers still waiting for an answer: an offer holds a place, so
    two offers cannot both be accepted into one free place."""
    pending = Offer.objects.filter(supporter=supporter, status=Offer.Status.PENDING)
    if ignoring_offer is not None:
        pending = pending.exclude(pk=ignoring_offer.pk)
    return supporter_active_match_count(supporter=supporter) + pending.count()


def _counts(queryset: QuerySet, field: str) -> dict[int, int]:
    return dict(queryset.values_list(field).annotate(n=Count("pk")).order_by())


def supporters_for_matching(
    *, service_ids: Iterable[int], today: date | None = None
) -> list[matching.Supporter]:
    """Every supporter of these services as the matching engine sees them, in four queries
    however many there are. Places taken count pending offers (see above)."""
    today = today or timezone.localdate()
    rows = list(
        Supporter.objects.filter(services__in=list(service_ids))
        .distinct()
        .prefetch_related("services")
        .order_by("pk")
    )
    ids = [s.pk for s in rows]
    active = _counts(
        Match.objects.filter(supporter_id__in=ids, ended_at__isnull=True), "supporter_id"
    )
    pending = _counts(
        Offer.objects.filter(supporter_id__in=ids, status=Offer.Status.PENDING), "supporter_id"
    )
    values = readiness_settings()
    return [
        supporter_from_model(
            s,
            active_matches=active.get(s.pk, 0) + pending.get(s.pk, 0),
            today=today,
            settings_values=values,
        )
        for s in rows
    ]


def _excluded_supporters_by_record(service_ids: list[int]) -> dict[int, set[int]]:
    """``excluded_supporter_ids`` for every record of these services at once."""
    excluded: dict[int, set[int]] = defaultdict(set)
    direct = Exclusion.objects.filter(
        service_user__service_id__in=service_ids, supporter__isnull=False
    ).values_list("service_user_id", "supporter_id")
    for record_id, supporter_id in direct:
        excluded[record_id].add(supporter_id)
    pairs = Exclusion.objects.filter(
        Q(service_user__service_id__in=service_ids)
        | Q(other_service_user__service_id__in=service_ids),
        other_service_user__isnull=False,
    ).values_list("service_user_id", "other_service_user_id")
    others: dict[int, set[int]] = defaultdict(set)
    for a, b in pairs:
        others[a].add(b)
        others[b].add(a)
    if others:
        all_others = set().union(*others.values())
        supporter_of = dict(
            Match.objects.filter(
                service_user_id__in=all_others, ended_at__isnull=True
            ).values_list("service_user_id", "supporter_id")
        )
        for record_id, other_ids in others.items():
            excluded[record_id].update(supporter_of[o] for o in other_ids if o in supporter_of)
    return excluded


def waiting_list_for_matching(*, service_ids: Iterable[int]) -> list[matching.Referral]:
    """People who could be offered a supporter now: on the waiting list, with an account and
    peer support consent for their own service, no supporter and no offer waiting.

    Four queries, whatever the size. Consent, active matches and pending offers are read as
    plain sets rather than correlated subqueries: PostgreSQL planned those as a nested loop
    over the consent index after a bulk import (seconds for 10,000 people before ANALYZE),
    while sets cost the same with or without planner statistics.
    """
    service_ids = list(service_ids)
    consented = set(
        Consent.objects.filter(
            service_id__in=service_ids,
            purpose=ConsentPurpose.PEER_SUPPORT,
            withdrawn_at__isnull=True,
        ).values_list("subject_id", "service_id")
    )
    busy = set(
        Match.objects.filter(
            service_user__service_id__in=service_ids, ended_at__isnull=True
        ).values_list("service_user_id", flat=True)
    ) | set(
        Offer.objects.filter(
            service_user__service_id__in=service_ids, status=Offer.Status.PENDING
        ).values_list("service_user_id", flat=True)
    )
    records = ServiceUserRecord.objects.filter(
        service_id__in=service_ids,
        status__in=[ServiceUserRecord.Status.REFERRED, ServiceUserRecord.Status.AWAITING_MATCH],
        user__isnull=False,
    ).order_by("created_at", "pk")
    excluded = _excluded_supporters_by_record(service_ids)
    return [
        referral_from_record(r, excluded_supporter_ids=excluded.get(r.pk, ()))
        for r in records
        if r.pk not in busy and (r.user_id, r.service_id) in consented
    ]


def suggestions_for_record(
    *, record: ServiceUserRecord, limit: int = 10
) -> list[tuple[matching.Suggestion, Supporter]]:
    """The best eligible supporters for one person, each with the reasons, for a
    coordinator (callers must already have checked the coordinator may see ``record``)."""
    referral = referral_from_record(
        record, excluded_supporter_ids=excluded_supporter_ids(record=record)
    )
    ranked = matching.rank_candidates(
        referral,
        supporters_for_matching(service_ids=[record.service_id]),
        weights=matching.weights_from_settings(),
        limit=limit,
    )
    by_id = Supporter.objects.select_related("user").in_bulk([s.supporter_id for s in ranked])
    # A supporter removed between the two reads is simply left out.
    return [(s, by_id[s.supporter_id]) for s in ranked if s.supporter_id in by_id]


# --- Offers, contacts, alerts -----------------------------------------------------------------


def supporter_profile_of(*, user: User) -> Supporter | None:
    """The signed-in person's own supporter profile, if they are a supporter."""
    if not getattr(user, "is_authenticated", False):
        return None
    return Supporter.objects.filter(user=user).first()


def records_supported_by(*, user: User) -> QuerySet[ServiceUserRecord]:
    """The people ``user`` supports now (active matches only)."""
    if not getattr(user, "is_authenticated", False):
        return ServiceUserRecord.objects.none()
    return ServiceUserRecord.objects.select_related("service").filter(
        Exists(
            Match.objects.filter(
                service_user=OuterRef("pk"), ended_at__isnull=True, supporter__user=user
            )
        )
    )


def offers_visible_to(*, user: User) -> QuerySet[Offer]:
    """Casework staff see their services' offers. A supporter sees the offers made to them
    while they wait for an answer, and the ones they accepted: once an offer is declined,
    expired or withdrawn they have no need to know who it was about."""
    if not getattr(user, "is_authenticated", False):
        return Offer.objects.none()
    offers = Offer.objects.select_related(
        "service_user", "service_user__service", "supporter", "supporter__user", "offered_by"
    )
    if user.is_superuser:
        return offers
    return offers.filter(
        Q(service_user__service_id__in=_staff_service_ids(user))
        | (Q(supporter__user=user) & Q(status__in=[Offer.Status.PENDING, Offer.Status.ACCEPTED]))
    )


def contacts_visible_to(*, user: User) -> QuerySet[Contact]:
    """Casework staff of the person's service; the supporter who wrote the note, while they
    still support the person. Never another volunteer."""
    if not getattr(user, "is_authenticated", False):
        return Contact.objects.none()
    contacts = Contact.objects.select_related(
        "service_user", "supporter", "supporter__user", "created_by"
    )
    if user.is_superuser:
        return contacts
    still_matched = Match.objects.filter(
        service_user=OuterRef("service_user"),
        supporter=OuterRef("supporter"),
        ended_at__isnull=True,
    )
    return contacts.filter(
        Q(service_user__service_id__in=_staff_service_ids(user))
        | (Q(supporter__user=user) & Q(Exists(still_matched)))
    )


def alerts_visible_to(*, user: User) -> QuerySet[Alert]:
    if not getattr(user, "is_authenticated", False):
        return Alert.objects.none()
    alerts = Alert.objects.select_related("service", "service_user", "supporter__user")
    if user.is_superuser:
        return alerts
    return alerts.filter(service_id__in=_staff_service_ids(user))


# --- The person's own pages and the public request form ---------------------------------------


def current_match_for(*, record: ServiceUserRecord) -> Match | None:
    """The person's active match, with the supporter's user (for their first name only).
    Callers must already have checked who may see ``record``."""
    return (
        Match.objects.select_related("supporter__user")
        .filter(service_user=record, ended_at__isnull=True)
        .first()
    )


def services_covering_district(*, district: str) -> list[Service]:
    """Services whose postcode districts include ``district`` ("NM1"), for a public request
    that does not know which team it met. Public data: no user needed."""
    district = district.strip().upper()
    if not district:
        return []
    candidates = Service.objects.filter(postcode_districts__icontains=district).order_by("name")
    return [
        service
        for service in candidates
        if district in service.postcode_districts.upper().replace(",", " ").split()
    ]


# --- Casework staff pages --------------------------------------------------------------------


def casework_services_of(*, user: User) -> QuerySet[Service]:
    """The services where ``user`` is a peer support worker or coordinator: the only ones
    whose people the staff pages show or change (administrators use the admin)."""
    return Service.objects.filter(
        pk__in=permissions.service_ids_where(user, permissions.CASEWORK_ROLES)
    ).order_by("name", "pk")


def matches_visible_to(*, user: User) -> QuerySet[Match]:
    """Staff of the person's service; the supporter in the match; the person."""
    if not getattr(user, "is_authenticated", False):
        return Match.objects.none()
    matches = Match.objects.select_related("service_user", "supporter", "supporter__user")
    if user.is_superuser:
        return matches
    return matches.filter(
        Q(service_user__service_id__in=_staff_service_ids(user))
        | Q(supporter__user=user)
        | Q(service_user__user=user)
    )


def with_casework_state(records: QuerySet[ServiceUserRecord]) -> QuerySet[ServiceUserRecord]:
    """Annotate already-scoped records with what a caseworker's list needs, in the same query
    (Exists and Subquery, never a query per row): ``has_peer_consent``, ``has_active_match``
    and the pending offer's ``pending_offer_supporter_name`` and ``pending_offer_respond_by``
    (None when there is none)."""
    from django.db.models import Subquery

    consent = Consent.objects.filter(
        subject=OuterRef("user"),
        service=OuterRef("service"),
        purpose=ConsentPurpose.PEER_SUPPORT,
        withdrawn_at__isnull=True,
    )
    pending = Offer.objects.filter(service_user=OuterRef("pk"), status=Offer.Status.PENDING)
    return records.annotate(
        has_peer_consent=Exists(consent),
        has_active_match=Exists(
            Match.objects.filter(service_user=OuterRef("pk"), ended_at__isnull=True)
        ),
        pending_offer_supporter_name=Subquery(pending.values("supporter__user__first_name")[:1]),
        pending_offer_respond_by=Subquery(pending.values("respond_by")[:1]),
    )


def with_supporter_load(supporters: QuerySet[Supporter]) -> QuerySet[Supporter]:
    """Annotate already-scoped supporters with ``active_count`` (people supported now) and
    ``pending_count`` (offers waiting for their answer), as subqueries so the two counts do
    not multiply each other."""
    from django.db.models import IntegerField, Subquery, Value
    from django.db.models.functions import Coalesce

    def _count(queryset: QuerySet) -> Coalesce:
        counted = (
            queryset.filter(supporter=OuterRef("pk"))
            .order_by()
            .values("supporter")
            .annotate(n=Count("pk"))
            .values("n")
        )
        return Coalesce(Subquery(counted, output_field=IntegerField()), Value(0))

    return supporters.annotate(
        active_count=_count(Match.objects.filter(ended_at__isnull=True)),
        pending_count=_count(Offer.objects.filter(status=Offer.Status.PENDING)),
    )
