"""Reads for text messages, scoped to what the user may see.

Messages about a person are visible to the staff of that person's service and to the person's
current supporter (the same rule as their record, through
``peer_support.selectors.service_user_records_visible_to``), never to the person's own account
here. A text from a number the portal does not know belongs to no service: only superusers
see those.
"""

from __future__ import annotations

from django.db.models import QuerySet

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


def number_is_opted_out(*, number: str) -> bool:
    return OptOut.objects.filter(number=number, active=True).exists()


def number_is_shared(*, number: str, record: ServiceUserRecord) -> bool:
    """Another open record has this mobile number: a reminder could reach the wrong person."""
    return (
        ServiceUserRecord.objects.filter(mobile=number)
        .exclude(pk=record.pk)
        .exclude(status=ServiceUserRecord.Status.CLOSED)
        .exists()
    )


def sender_record(*, number: str) -> ServiceUserRecord | None:
    """Whose reply is this? The person we last texted at this number, else the one open
    record with it (none if two share it)."""
    last = (
        OutboundMessage.objects.filter(to=number, service_user__isnull=False)
        .exclude(sent_at__isnull=True)
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
