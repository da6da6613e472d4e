"""Reads for text messages, scoped to what the user may see.

Messages about a person are visible to the staff of that person's service and to the person's
current supporter (the same rule as their record, through
``peer_support.selectors.service_user_records_visible_to``), never to the person's own account
here. A text from a number the portal does not know belongs to no service: only superusers
see those.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db.models import Count, QuerySet

from peer_support.models import ServiceUserRecord
from peer_support.selectors import service_user_records_visible_to
from portal.models import User

from .models import InboundMessage, MessageTemplate, OptOut, OutboundMessage


def _visible_records(user: User) -> QuerySet[ServiceUserRecord]:
    return service_user_records_visible_to(user=user).exclude(user=user).values("pk")


def outbound_visible_to(*, user: User) -> QuerySet[OutboundMessage]:
    if not getattr(user, "is_authenticated", False):
        return OutboundMessage.objects.none()
    messages = OutboundMessage.objects.select_related("service_user", "appointment")
    if user.is_superuser:
        return messages
    return messages.filter(service_user__in=_visible_records(user))


def inbound_visible_to(*, user: User) -> QuerySet[InboundMessage]:
    if not getattr(user, "is_authenticated", False):
        return InboundMessage.objects.none()
    messages = InboundMessage.objects.select_related("service_user", "appointment")
    if user.is_superuser:
        return messages
    return messages.filter(service_user__in=_visible_records(user))


def inbox_for(*, user: User) -> QuerySet[InboundMessage]:
    """Replies a person must answer."""
    return inbound_visible_to(user=user).filter(status=InboundMessage.Status.NEEDS_ANSWER)


def numbers_opted_out(*, numbers: Iterable[str]) -> set[str]:
    """Which of these numbers asked us to stop."""
    return set(
        OptOut.objects.filter(number__in=list(numbers), active=True).values_list(
            "number", flat=True
        )
    )


def numbers_shared(*, numbers: Iterable[str]) -> set[str]:
    """Which of these numbers belong to more than one open record: a reminder to one of those
    people could reach another."""
    shared = (
        ServiceUserRecord.objects.filter(mobile__in=list(numbers))
        .exclude(status=ServiceUserRecord.Status.CLOSED)
        .values("mobile")
        .annotate(records=Count("pk"))
        .filter(records__gt=1)
        .values_list("mobile", flat=True)
    )
    return {getattr(mobile, "as_e164", str(mobile)) for mobile in shared}


def sender_record(*, number: str) -> ServiceUserRecord | None:
    """Whose reply is this? The person we last texted at this number, if their record still
    has it (a number can change hands; a record closed since still belongs to the service
    that texted them), else the one open record with it (none if two share it)."""
    last = (
        OutboundMessage.objects.filter(
            to=number, sent_at__isnull=False, service_user__mobile=number
        )
        .order_by("-sent_at", "-pk")
        .select_related("service_user")
        .first()
    )
    if last is not None:
        return last.service_user
    records = list(
        ServiceUserRecord.objects.filter(mobile=number)
        .exclude(status=ServiceUserRecord.Status.CLOSED)
        .select_related("service")[:2]
    )
    return records[0] if len(records) == 1 else None


def templates_current() -> dict[tuple[str, bool], str]:
    """Staff's saved wording, by (purpose, easy_read); the defaults fill the gaps."""
    return {(t.purpose, t.easy_read): t.body for t in MessageTemplate.objects.all()}


def reminders_of(*, appointment_id: int, user: User) -> QuerySet[OutboundMessage]:
    """An appointment's reminder timeline, for someone who may see the appointment."""
    return (
        outbound_visible_to(user=user)
        .filter(appointment_id=appointment_id)
        .order_by("send_at", "pk")
    )
