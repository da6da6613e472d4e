"""Text message pages: the outbox and the replies for staff and supporters, one appointment's
reminders, the wording administrators may change, and the confirm link people get by text.

Thin, like every view here: rows come from the scoped selectors in ``selectors.py`` (so a
page cannot show a message about someone the user may not see), every write is a service in
``services.py`` (which checks again), anything the user may not see answers 404, and every
page that shows people writes an audit event. No page shows a whole phone number.

The confirm link (``/a/<token>/``) is different: no sign-in, opened on a phone that other
people may see. It shows only the day, time and neutral place label, never what the
appointment is for, where exactly, whose it is or which service arranged it.
"""

from __future__ import annotations

from functools import wraps
from typing import Any

from allauth.core.internal import ratelimit
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Q, QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import add_never_cache_headers
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_safe

from peer_support import selectors as peer_selectors
from peer_support.forms.common import add_service_errors
from peer_support.models import Appointment, ServiceUserRecord
from peer_support.views.common import deny, paginate
from peer_support.wording import when_text
from portal import permissions
from portal.audit import audit_record, audit_record_many
from portal.models import AuditEvent, User

from . import gsm, links, services, wording
from .forms import STATE_FILTERS, ReplyForm, StateFilterForm, TemplateForm
from .models import ConsoleMessage, MessageTemplate, OutboundMessage
from .selectors import (
    inbound_visible_to,
    inbox_for,
    outbound_visible_to,
    reminders_of,
    templates_current,
)
from .templating import PLACEHOLDERS, TemplateError, template_render

GET_OR_POST = require_http_methods(["GET", "HEAD", "POST"])
PAGE_SIZE = 25
# Ids arrive from the browser: keep them within a 64-bit integer (SQLite raises on bigger).
MAX_ID = 2**63 - 1
# Staff who see a service's people: casework roles and administrators of the service.
STAFF_ROLES = peer_selectors.STAFF_ROLES
Status = OutboundMessage.Status

VARIANTS = {"standard": False, "easy-read": True}
VARIANT_LABELS = {False: "Standard", True: "Easy read"}
LINK_RATE_LIMIT_ACTION = "appointment_link"  # settings.ACCOUNT_RATE_LIMITS: "30/m/ip"
LINK_ANSWERS = {"yes": True, "change": False}
# What ``Appointment.reply_state`` says once each answer is recorded.
ANSWER_STATES = {"yes": "confirmed", "change": "change"}


@login_required
@require_safe
def outbox(request):
    """What the console SMS backend would have sent (development and demos)."""
    if not permissions.can_read_outbox(request.user):
        raise Http404("Page not found")
    sent = ConsoleMessage.objects.order_by("-created_at", "-pk")[:100]
    return render(request, "notifications/outbox.html", {"messages_sent": sent})


# --- Who may open these pages -----------------------------------------------------------------


def can_read_messages(user: User) -> bool:
    """Casework staff, administrators and supporters. Which messages each sees is still the
    selectors' business; a volunteer sees only the people they support now."""
    if not getattr(user, "is_authenticated", False):
        return False
    if user.is_superuser or permissions.has_any_role(user, STAFF_ROLES):
        return True
    return peer_selectors.supporter_profile_of(user=user) is not None


def messages_required(view):
    @login_required
    @wraps(view)
    def wrapped(request, *args, **kwargs):
        if not can_read_messages(request.user):
            raise deny()
        return view(request, *args, **kwargs)

    return wrapped


def _one(queryset: QuerySet, pk: int) -> Any:
    found = queryset.filter(pk=pk).first() if 1 <= pk <= MAX_ID else None
    if found is None:
        raise deny()
    return found


def _audit_people(user: User, records: list[ServiceUserRecord | None]) -> None:
    """One event per person shown on a list, in one insert."""
    unique = list({r.pk: r for r in records if r is not None}.values())
    if unique:
        audit_record_many(
            actor=user, action=AuditEvent.Action.VIEW, objects=unique, subject_attr="user_id"
        )


class _People:
    """Where a person's name links to for this user, and whether the user is staff for
    them (staff see the last digits of a number; supporters see no number at all)."""

    def __init__(self, user: User, records: list[ServiceUserRecord | None]) -> None:
        self.casework = permissions.service_ids_where(user, permissions.CASEWORK_ROLES)
        self.staff = permissions.service_ids_where(user, STAFF_ROLES)
        self.superuser = bool(user.is_superuser)
        ids = {r.pk for r in records if r is not None}
        self.supported = (
            set(
                peer_selectors.records_supported_by(user=user)
                .filter(pk__in=ids)
                .values_list("pk", flat=True)
            )
            if ids
            else set()
        )

    def url(self, record: ServiceUserRecord | None) -> str:
        if record is None:
            return ""
        if record.service_id in self.casework:
            return reverse("peer_support:staff_referral", args=[record.pk])
        if record.pk in self.supported:
            return reverse("peer_support:supporter_person", args=[record.pk])
        return ""

    def is_staff_for(self, record: ServiceUserRecord | None) -> bool:
        if record is None:
            return self.superuser
        return self.superuser or record.service_id in self.staff


# --- How a message is described ---------------------------------------------------------------


def slot_label(slot: str) -> str:
    """ "3 days before", "2 hours before": from the settings, so a new slot reads right."""
    spec = settings.REMINDER_SLOTS.get(slot)
    if not spec:
        return slot
    parts = []
    for amount, unit in ((spec.get("days", 0), "day"), (spec.get("hours", 0), "hour")):
        if amount:
            parts.append(f"{amount} {unit}{'' if amount == 1 else 's'}")
    return f"{' and '.join(parts)} before" if parts else slot


def _what(message: OutboundMessage) -> str:
    if message.kind == OutboundMessage.Kind.REMINDER:
        return f"Reminder, {slot_label(message.slot)}"
    return message.get_kind_display()


TAG_COLOURS = {
    Status.SENT: "green",
    Status.FAILED: "red",
    Status.NOT_SENT: "orange",
    Status.WITHDRAWN: "grey",
}
SHOW_REASON = {Status.NOT_SENT, Status.FAILED, Status.WITHDRAWN}
BAD_DELIVERY = {OutboundMessage.Delivery.UNDELIVERED, OutboundMessage.Delivery.FAILED}


def _describe(message: OutboundMessage) -> dict:
    """The state of one text in words: its status, what the network said, and why not."""
    sent = message.sent_at is not None
    return {
        "message": message,
        "what": _what(message),
        "when": when_text(message.sent_at if sent else message.send_at),
        "when_label": "Sent" if sent else "Planned for",
        "status": message.get_status_display(),
        "colour": TAG_COLOURS.get(message.status, "blue"),
        "delivery": message.get_delivery_status_display() if message.delivery_status else "",
        "delivery_bad": message.delivery_status in BAD_DELIVERY,
        "reason": message.reason if message.status in SHOW_REASON else "",
    }


STATE_QUERIES = {
    "not_sent": Q(status=Status.NOT_SENT),
    "failed": Q(status=Status.FAILED) | Q(delivery_status__in=list(BAD_DELIVERY)),
    "waiting": Q(status__in=[Status.SCHEDULED, Status.QUEUED, Status.SENDING]),
}


# --- The outbox and the replies ---------------------------------------------------------------


@messages_required
@require_safe
@never_cache
def messages_list(request: HttpRequest) -> HttpResponse:
    """Every text about the people the user may see, newest first."""
    state = StateFilterForm(request.GET).chosen()
    listed = outbound_visible_to(user=request.user)
    if state in STATE_QUERIES:
        listed = listed.filter(STATE_QUERIES[state])
    page = paginate(request, listed.order_by("-send_at", "-pk"), per_page=PAGE_SIZE)
    items = list(page.object_list)
    people = _People(request.user, [m.service_user for m in items])
    rows = [
        {
            **_describe(message),
            "person_url": people.url(message.service_user),
            "show_number": people.is_staff_for(message.service_user),
        }
        for message in items
    ]
    _audit_people(request.user, [m.service_user for m in items])
    return render(
        request,
        "notifications/messages.html",
        {
            "page": page,
            "rows": rows,
            "state": state,
            "states": list(STATE_FILTERS.items()),
        },
    )


@messages_required
@require_safe
@never_cache
def inbox(request: HttpRequest) -> HttpResponse:
    """Replies the portal could not answer by itself, newest first."""
    page = paginate(
        request, inbox_for(user=request.user).order_by("-received_at", "-pk"), per_page=PAGE_SIZE
    )
    items = list(page.object_list)
    people = _People(request.user, [m.service_user for m in items])
    rows = [
        {
            "inbound": inbound,
            "person_url": people.url(inbound.service_user),
            "show_number": people.is_staff_for(inbound.service_user),
        }
        for inbound in items
    ]
    _audit_people(request.user, [m.service_user for m in items])
    return render(request, "notifications/inbox.html", {"page": page, "rows": rows})


def _next_appointment(user: User, record: ServiceUserRecord | None) -> Appointment | None:
    if record is None:
        return None
    return (
        peer_selectors.appointments_visible_to(user=user)
        .filter(
            service_user=record,
            status=Appointment.Status.SCHEDULED,
            outcome="",
            starts_at__gt=timezone.now(),
        )
        .order_by("starts_at", "pk")
        .first()
    )


@messages_required
@GET_OR_POST
@never_cache
def inbox_message(request: HttpRequest, pk: int) -> HttpResponse:
    """One reply, and a form to answer it by text (the same rules as the templates)."""
    inbound = _one(inbound_visible_to(user=request.user), pk)
    form = ReplyForm(request.POST if request.method == "POST" else None)
    if form.is_bound and form.is_valid():
        try:
            services.inbound_answer(
                inbound=inbound, body=form.cleaned_data["body"], answered_by=request.user
            )
        except PermissionDenied:
            raise deny() from None
        except ValidationError as error:
            add_service_errors(form, error, default="body")
        else:
            messages.success(request, "Your reply is being sent.")
            return redirect("sms_inbox")
    record = inbound.service_user
    people = _People(request.user, [record])
    audit_record(
        actor=request.user,
        action=AuditEvent.Action.VIEW,
        obj=inbound,
        subject=record.user if record else None,
        service=inbound.service_id,
        detail="fields=body,outcome,next_appointment",
    )
    upcoming = _next_appointment(request.user, record)
    return render(
        request,
        "notifications/inbox_message.html",
        {
            "inbound": inbound,
            "record": record,
            "person_url": people.url(record),
            "show_number": people.is_staff_for(record),
            "next_appointment": upcoming,
            "next_when": when_text(upcoming.starts_at) if upcoming else "",
            "form": form,
        },
    )


# --- One appointment's reminders --------------------------------------------------------------

REPLY_STATES = {"confirmed": "Confirmed", "change": "Asked to change", "": "No answer yet"}
REPLY_COLOURS = {"confirmed": "green", "change": "orange", "": "grey"}


def _may_follow(user: User, appointment: Appointment) -> bool:
    """Staff of the person's service, or their supporter now; never the person themselves
    (the timeline says which texts were withheld and why)."""
    record = appointment.service_user
    if user.is_superuser or record.service_id in permissions.service_ids_where(user, STAFF_ROLES):
        return True
    return peer_selectors.records_supported_by(user=user).filter(pk=record.pk).exists()


@messages_required
@require_safe
@never_cache
def appointment_reminders(request: HttpRequest, pk: int) -> HttpResponse:
    appointment = _one(peer_selectors.appointments_visible_to(user=request.user), pk)
    if not _may_follow(request.user, appointment):
        raise deny()
    record = appointment.service_user
    rows = [
        _describe(message)
        for message in reminders_of(appointment_id=appointment.pk, user=request.user)
    ]
    replies = list(
        inbound_visible_to(user=request.user)
        .filter(appointment=appointment)
        .order_by("received_at", "pk")
    )
    people = _People(request.user, [record])
    audit_record(
        actor=request.user,
        action=AuditEvent.Action.VIEW,
        obj=appointment,
        subject=record.user,
        service=record.service_id,
        detail="fields=reminders,confirmed_at,change_requested_at,text_replies",
    )
    return render(
        request,
        "notifications/appointment_reminders.html",
        {
            "appointment": appointment,
            "record": record,
            "person_url": people.url(record),
            "when": when_text(appointment.starts_at),
            "rows": rows,
            "replies": replies,
            "reply_state": REPLY_STATES[appointment.reply_state],
            "reply_colour": REPLY_COLOURS[appointment.reply_state],
        },
    )


# --- Message wording --------------------------------------------------------------------------


def templates_required(view):
    @login_required
    @wraps(view)
    def wrapped(request, *args, **kwargs):
        if not services.can_edit_templates(request.user):
            raise deny()
        return view(request, *args, **kwargs)

    return wrapped


def _purpose_label(purpose: str) -> str:
    try:
        return MessageTemplate.Purpose(purpose).label
    except ValueError:
        return purpose


def _variant_slug(easy_read: bool) -> str:
    return "easy-read" if easy_read else "standard"


@templates_required
@require_safe
@never_cache
def templates_list(request: HttpRequest) -> HttpResponse:
    saved = templates_current()
    rows = [
        {
            "purpose": _purpose_label(purpose),
            "variant": VARIANT_LABELS[easy_read],
            "body": saved.get((purpose, easy_read)) or default,
            "changed": (purpose, easy_read) in saved,
            "url": reverse("sms_template_edit", args=[purpose, _variant_slug(easy_read)]),
        }
        for (purpose, easy_read), default in wording.DEFAULTS.items()
    ]
    return render(request, "notifications/templates.html", {"rows": rows})


def example_values() -> dict[str, str]:
    """What a preview is filled in with: ordinary values, not the worst case the linter
    measures (the editor sees a realistic text; the linter keeps every real one in bounds)."""
    return {
        "first_name": "Sam",
        "day": "Tue 3 Mar",
        "time": "2:30pm",
        "place": "Riverside Centre",
        "service_phone": "0113 496 0000",
        "link": f"{settings.PUBLIC_BASE_URL}/a/k3f9Rb3dH6fG8hJ2/",
    }


def _preview(text: str) -> dict:
    try:
        rendered = template_render(text, example_values())
    except TemplateError:
        return {"text": "", "size": None}
    return {"text": rendered, "size": gsm.measure(rendered) if rendered else None}


@templates_required
@GET_OR_POST
@never_cache
def template_edit(request: HttpRequest, purpose: str, variant: str) -> HttpResponse:
    easy_read = VARIANTS.get(variant)
    if easy_read is None or (purpose, easy_read) not in wording.DEFAULTS:
        raise deny()
    saved = templates_current()
    current = saved.get((purpose, easy_read)) or wording.DEFAULTS[(purpose, easy_read)]
    if request.method == "POST":
        form = TemplateForm(request.POST)
        if form.is_valid():
            try:
                services.template_save(
                    purpose=purpose,
                    easy_read=easy_read,
                    body=form.cleaned_data["body"],
                    saved_by=request.user,
                )
            except PermissionDenied:
                raise deny() from None
            except ValidationError as error:
                add_service_errors(form, error, default="body")
            else:
                messages.success(request, "The new wording is saved. Texts use it from now on.")
                return redirect("sms_templates")
        submitted = request.POST.get("body", "")
        preview = _preview(submitted if isinstance(submitted, str) else "")
    else:
        form = TemplateForm(initial={"body": current})
        preview = _preview(current)
    required = wording.REQUIRED.get(purpose, ())
    return render(
        request,
        "notifications/template_edit.html",
        {
            "form": form,
            "purpose": _purpose_label(purpose),
            "variant": VARIANT_LABELS[easy_read],
            "is_default": (purpose, easy_read) not in saved,
            "placeholders": [
                {"name": name, "meaning": meaning, "required": name in required}
                for name, meaning in PLACEHOLDERS.items()
            ],
            "required": [f"{{{name}}}" for name in required],
            "preview": preview,
        },
    )


# --- The confirm link -------------------------------------------------------------------------


def _link_response(request: HttpRequest, template: str, context: dict, status: int = 200):
    """Every answer of the link page: never cached, never indexed, and the token never sent
    on to another site in a Referer header."""
    response = render(request, f"notifications/{template}", context, status=status)
    return _private(response)


def _private(response: HttpResponse) -> HttpResponse:
    add_never_cache_headers(response)
    response["X-Robots-Tag"] = "noindex, nofollow"
    response["Referrer-Policy"] = "no-referrer"
    return response


def _has_passed(appointment: Appointment) -> bool:
    return (
        appointment.starts_at <= timezone.now()
        or appointment.status != Appointment.Status.SCHEDULED
        or bool(appointment.outcome)
    )


def _phone(appointment: Appointment) -> str:
    return wording.phone_text(appointment.service_user.service.phone)


@require_http_methods(["GET", "HEAD", "POST"])
def appointment_link(request: HttpRequest, token: str) -> HttpResponse:
    """The link in a reminder: "I'll be there" or "I need to change it", without signing in.
    Rate-limited per address, so tokens cannot be guessed at speed."""
    # Reading counts too (the public ``allauth.core.ratelimit.consume`` never limits a GET):
    # a guessed token would show a day, time and place.
    if not ratelimit.consume(
        request, app="allauth.account", action=LINK_RATE_LIMIT_ACTION, limit_get=True
    ):
        return _link_response(request, "link_limited.html", {}, status=429)
    appointment_id = links.appointment_id_from_token(token)
    appointment = None
    if appointment_id is not None and 1 <= appointment_id <= MAX_ID:
        appointment = (
            Appointment.objects.select_related("service_user__service")
            .filter(pk=appointment_id)
            .first()
        )
    if appointment is None or not links.token_matches(token, appointment):
        return _link_response(request, "link_not_found.html", {}, status=404)
    if _has_passed(appointment):
        return _link_response(
            request, "link_passed.html", {"phone": _phone(appointment)}, status=410
        )
    if request.method == "POST":
        answer = request.POST.get("answer", "")
        if answer not in LINK_ANSWERS:
            return _link_response(
                request, "link_bad_answer.html", {"phone": _phone(appointment)}, status=400
            )
        if not services.appointment_answer_by_link(
            appointment=appointment, going=LINK_ANSWERS[answer]
        ):
            # It started, or was cancelled or done, since the page was shown.
            return _link_response(
                request, "link_passed.html", {"phone": _phone(appointment)}, status=410
            )
        return _private(redirect(f"{request.path}?answered={answer}"))
    context = {
        "day": when_text(appointment.starts_at),
        "place": appointment.place_label,
        "phone": _phone(appointment),
        "reply_state": appointment.reply_state,
    }
    answered = request.GET.get("answered")
    if answered in LINK_ANSWERS and appointment.reply_state == ANSWER_STATES[answered]:
        return _link_response(request, "link_answered.html", {**context, "answer": answered})
    return _link_response(request, "link.html", context)
