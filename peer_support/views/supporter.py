"""Pages for supporters: peer volunteers, and paid peer support workers who support people
themselves.

A supporter sees only the people they are actively matched with, and only what they need to
help them get to appointments: never a phone number except on its own audited page, never
another supporter's notes, never exclusions, never an offer's score or explanation. Every
person-level read goes through a scoped selector and is audited; every write is a service.
No page is kept in a browser's cache: supporters may use a shared computer.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import OuterRef, QuerySet, Subquery
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from portal.audit import audit_record, audit_record_many
from portal.models import AuditEvent

from .. import selectors, services
from ..forms.common import AppointmentForm, OutcomeForm, add_service_errors
from ..forms.supporter import AvailabilityForm, ContactForm, DeclineForm
from ..models import (
    ACCESSIBILITY_CHOICES,
    NEED_CHOICES,
    Appointment,
    Offer,
    ServiceUserRecord,
    Supporter,
)
from ..readiness import readiness_problems, readiness_settings
from ..wording import language_names, slot_labels
from .common import deny, paginate, supporter_required

FORM_METHODS = ["GET", "HEAD", "POST"]

NEED_LABELS = dict(NEED_CHOICES)
ACCESSIBILITY_LABELS = dict(ACCESSIBILITY_CHOICES)
PERSON_FIELDS = (
    "fields=preferred_name,needs,accessibility_needs,languages,home_district,interests,"
    "availability,appointments,contacts"
)


# --- Helpers ---------------------------------------------------------------------------------


def _labels(codes: Iterable[str], labels: dict[str, str]) -> list[str]:
    return [labels.get(code, code) for code in codes or []]


def _about(record: ServiceUserRecord) -> dict:
    """What a supporter may know about the person, in words rather than codes."""
    return {
        "needs": _labels(record.needs, NEED_LABELS),
        "accessibility": _labels(record.accessibility_needs, ACCESSIBILITY_LABELS),
        "languages": language_names(record.languages),
        "interests": list(record.interests or []),
        "free_times": slot_labels(record.availability),
    }


def _supported_record(request: HttpRequest, record_id: int) -> ServiceUserRecord:
    """A person this supporter is actively matched with; anyone else is a 404."""
    return get_object_or_404(selectors.records_supported_by(user=request.user), pk=record_id)


def _own_offers(request: HttpRequest, supporter: Supporter) -> QuerySet[Offer]:
    return selectors.offers_visible_to(user=request.user).filter(supporter=supporter)


def _audit_view(request: HttpRequest, record: ServiceUserRecord, detail: str, obj=None) -> None:
    audit_record(
        actor=request.user,
        action=AuditEvent.Action.VIEW,
        obj=obj if obj is not None else record,
        subject=record.user,
        service=record.service_id,
        detail=detail,
    )


def _audit_records(request: HttpRequest, records: Iterable[ServiceUserRecord]) -> None:
    """One event per person shown on a list, in one insert."""
    unique = list({record.pk: record for record in records}.values())
    if unique:
        audit_record_many(
            actor=request.user,
            action=AuditEvent.Action.VIEW,
            objects=unique,
            subject_attr="user_id",
        )


def _local_midnight(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


# --- My people -------------------------------------------------------------------------------


@require_safe
@never_cache
@supporter_required
def people(request: HttpRequest, *, supporter: Supporter) -> HttpResponse:
    now = timezone.now()
    next_appointment = (
        selectors.appointments_visible_to(user=request.user)
        .filter(
            service_user=OuterRef("pk"),
            status=Appointment.Status.SCHEDULED,
            starts_at__gte=now,
        )
        .order_by("starts_at", "pk")
        .values("pk")[:1]
    )
    records = (
        selectors.records_supported_by(user=request.user)
        .annotate(next_appointment_id=Subquery(next_appointment))
        .order_by("preferred_name", "pk")
    )
    page = paginate(request, records)
    ids = [r.next_appointment_id for r in page if r.next_appointment_id]
    appointments = selectors.appointments_visible_to(user=request.user).in_bulk(ids) if ids else {}
    rows = [
        {
            "record": record,
            "about": _about(record),
            "next_appointment": appointments.get(record.next_appointment_id),
        }
        for record in page
    ]
    _audit_records(request, page)
    offers_waiting = (
        _own_offers(request, supporter)
        .filter(status=Offer.Status.PENDING, respond_by__gt=now)
        .count()
    )
    return render(
        request,
        "peer_support/supporter/people.html",
        {"page": page, "rows": rows, "offers_waiting": offers_waiting, "supporter": supporter},
    )


@require_safe
@never_cache
@supporter_required
def person(request: HttpRequest, record_id: int, *, supporter: Supporter) -> HttpResponse:
    record = _supported_record(request, record_id)
    now = timezone.now()
    appointments = selectors.appointments_visible_to(user=request.user).filter(service_user=record)
    upcoming = paginate(
        request, appointments.filter(starts_at__gte=now).order_by("starts_at", "pk"), "upcoming"
    )
    past = paginate(
        request, appointments.filter(starts_at__lt=now).order_by("-starts_at", "-pk"), "past"
    )
    contacts = paginate(
        request,
        selectors.contacts_visible_to(user=request.user)
        .filter(service_user=record, supporter=supporter)
        .order_by("-occurred_at", "-pk"),
    )
    _audit_view(request, record, PERSON_FIELDS)
    return render(
        request,
        "peer_support/supporter/person.html",
        {
            "record": record,
            "about": _about(record),
            "upcoming": upcoming,
            "past": past,
            "contacts": contacts,
            "now": now,
        },
    )


@require_safe
@never_cache
@supporter_required
def person_phone(request: HttpRequest, record_id: int, *, supporter: Supporter) -> HttpResponse:
    record = _supported_record(request, record_id)
    _audit_view(request, record, "mobile")
    return render(request, "peer_support/supporter/person_phone.html", {"record": record})


# --- Contacts and appointments ---------------------------------------------------------------


@require_http_methods(FORM_METHODS)
@never_cache
@supporter_required
def contact_new(request: HttpRequest, record_id: int, *, supporter: Supporter) -> HttpResponse:
    record = _supported_record(request, record_id)
    form = ContactForm(request.POST if request.method == "POST" else None)
    if form.is_bound and form.is_valid():
        data = form.cleaned_data
        try:
            services.contact_log_create(
                service_user=record,
                logged_by=request.user,
                occurred_at=data["occurred_at"],
                method=data["method"],
                duration_minutes=data["duration_minutes"],
                summary=data["summary"],
                next_step=data["next_step"],
                safeguarding_concern=data["safeguarding_concern"],
            )
        except PermissionDenied:
            raise deny() from None
        except ValidationError as error:
            add_service_errors(form, error, {"occurred_at": "date"})
        else:
            if data["safeguarding_concern"]:
                messages.warning(
                    request,
                    "Contact saved. The peer support team has been told about your "
                    "safeguarding concern. If someone is in danger now, call 999.",
                )
            else:
                messages.success(request, "Contact saved.")
            return redirect("peer_support:supporter_person", record_id=record.pk)
    _audit_view(request, record, "fields=preferred_name")
    return render(
        request,
        "peer_support/supporter/contact_form.html",
        {"record": record, "form": form},
    )


@require_http_methods(FORM_METHODS)
@never_cache
@supporter_required
def appointment_new(request: HttpRequest, record_id: int, *, supporter: Supporter) -> HttpResponse:
    record = _supported_record(request, record_id)
    form = AppointmentForm(request.POST if request.method == "POST" else None)
    if form.is_bound and form.is_valid():
        data = form.cleaned_data
        try:
            services.appointment_create(
                service_user=record,
                kind=data["kind"],
                place_label=data["place_label"],
                address=data["address"],
                starts_at=data["starts_at"],
                arranged_by=request.user,
                supporter_attending=data["supporter_attending"],
            )
        except PermissionDenied:
            raise deny() from None
        except ValidationError as error:
            add_service_errors(
                form,
                error,
                {"starts_at": "time"},
                codes={"nonexistent_time": "time"},
            )
        else:
            messages.success(request, "Appointment added.")
            return redirect("peer_support:supporter_person", record_id=record.pk)
    _audit_view(request, record, "fields=preferred_name")
    return render(
        request,
        "peer_support/supporter/appointment_form.html",
        {"record": record, "form": form},
    )


@require_safe
@never_cache
@supporter_required
def appointments(request: HttpRequest, *, supporter: Supporter) -> HttpResponse:
    """Today, the next 7 days and what still needs an outcome, in Europe/London days."""
    now = timezone.now()
    today = timezone.localdate()
    start_today = _local_midnight(today)
    start_tomorrow = _local_midnight(today + dt.timedelta(days=1))
    week_end = _local_midnight(today + dt.timedelta(days=8))
    theirs = (
        selectors.appointments_visible_to(user=request.user)
        .filter(
            service_user__in=selectors.records_supported_by(user=request.user),
            status=Appointment.Status.SCHEDULED,
        )
        .order_by("starts_at", "pk")
    )
    today_page = paginate(
        request, theirs.filter(starts_at__gte=start_today, starts_at__lt=start_tomorrow), "today"
    )
    week_page = paginate(
        request, theirs.filter(starts_at__gte=start_tomorrow, starts_at__lt=week_end), "week"
    )
    no_outcome = paginate(
        request,
        theirs.filter(starts_at__lt=start_today, outcome="").order_by("-starts_at", "-pk"),
    )
    _audit_records(
        request,
        [a.service_user for a in [*today_page, *week_page, *no_outcome]],
    )
    return render(
        request,
        "peer_support/supporter/appointments.html",
        {"today": today_page, "week": week_page, "no_outcome": no_outcome, "now": now},
    )


@require_http_methods(FORM_METHODS)
@never_cache
@supporter_required
def appointment_outcome(
    request: HttpRequest, appointment_id: int, *, supporter: Supporter
) -> HttpResponse:
    # Visible is not enough: a person sees their own appointments and staff see their
    # service's. Only someone this supporter supports now.
    appointment = get_object_or_404(
        selectors.appointments_visible_to(user=request.user).filter(
            service_user__in=selectors.records_supported_by(user=request.user)
        ),
        pk=appointment_id,
    )
    form = OutcomeForm(
        request.POST if request.method == "POST" else None,
        initial={"outcome": appointment.outcome or None},
    )
    if form.is_bound and form.is_valid():
        try:
            services.appointment_outcome_record(
                appointment=appointment,
                outcome=form.cleaned_data["outcome"],
                recorded_by=request.user,
            )
        except PermissionDenied:
            raise deny() from None
        except ValidationError as error:
            add_service_errors(form, error, {}, default="outcome")
        else:
            messages.success(request, "Saved what happened.")
            return redirect("peer_support:supporter_appointments")
    record = appointment.service_user
    _audit_view(
        request, record, "fields=kind,place_label,address,starts_at,outcome", obj=appointment
    )
    return render(
        request,
        "peer_support/supporter/outcome_form.html",
        {"appointment": appointment, "record": record, "form": form},
    )


# --- Availability ----------------------------------------------------------------------------


def _readiness(supporter: Supporter) -> dict:
    required = list(getattr(settings, "PEER_REQUIRED_TRAINING", []))
    done = set(supporter.training_modules_completed or [])
    return {
        "problems": readiness_problems(
            supporter, today=timezone.localdate(), settings_values=readiness_settings()
        ),
        "training_done": [m.replace("_", " ") for m in required if m in done],
        "training_missing": [m.replace("_", " ") for m in required if m not in done],
    }


@require_http_methods(FORM_METHODS)
@never_cache
@supporter_required
def availability(request: HttpRequest, *, supporter: Supporter) -> HttpResponse:
    initial = {
        "availability": supporter.availability,
        "capacity": supporter.capacity,
        "paused": supporter.paused,
        "paused_reason": supporter.paused_reason,
    }
    form = AvailabilityForm(request.POST if request.method == "POST" else None, initial=initial)
    if form.is_bound and form.is_valid():
        data = form.cleaned_data
        try:
            services.supporter_availability_update(
                supporter=supporter,
                changed_by=request.user,
                availability=data["availability"],
                capacity=data["capacity"],
                paused=data["paused"],
                paused_reason=data["paused_reason"],
            )
        except PermissionDenied:
            raise deny() from None
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, "Your availability is saved.")
            return redirect("peer_support:supporter_availability")
    audit_record(
        actor=request.user,
        action=AuditEvent.Action.VIEW,
        obj=supporter,
        subject=request.user,
        detail="fields=availability,capacity,paused,dbs_checked_on,training,last_supervision_on",
    )
    return render(
        request,
        "peer_support/supporter/availability.html",
        {"form": form, "supporter": supporter, "readiness": _readiness(supporter)},
    )


# --- Offers ----------------------------------------------------------------------------------


@require_safe
@never_cache
@supporter_required
def offers(request: HttpRequest, *, supporter: Supporter) -> HttpResponse:
    now = timezone.now()
    own = _own_offers(request, supporter)
    is_waiting = {"status": Offer.Status.PENDING, "respond_by__gt": now}
    waiting = paginate(request, own.filter(**is_waiting).order_by("respond_by", "pk"), "waiting")
    answered = paginate(request, own.exclude(**is_waiting).order_by("-offered_at", "-pk"))
    rows = [{"offer": offer, "about": _about(offer.service_user)} for offer in waiting]
    _audit_records(request, [o.service_user for o in [*waiting, *answered]])
    return render(
        request,
        "peer_support/supporter/offers.html",
        {
            "waiting": waiting,
            "rows": rows,
            "answered": answered,
            "reasons": Offer.DeclineReason.choices,
        },
    )


@require_POST
@never_cache
@supporter_required
def offer_accept(request: HttpRequest, offer_id: int, *, supporter: Supporter) -> HttpResponse:
    offer = get_object_or_404(_own_offers(request, supporter), pk=offer_id)
    try:
        match = services.offer_accept(offer=offer, accepted_by=request.user)
    except PermissionDenied:
        raise deny() from None
    except ValidationError as error:
        # Saved before it was raised: the offer is closed and the coordinator told.
        messages.error(request, " ".join(error.messages))
        return redirect("peer_support:supporter_offers")
    messages.success(request, "Thank you for saying yes. Here is the person you now support.")
    return redirect("peer_support:supporter_person", record_id=match.service_user_id)


@require_http_methods(FORM_METHODS)
@never_cache
@supporter_required
def offer_decline(request: HttpRequest, offer_id: int, *, supporter: Supporter) -> HttpResponse:
    """The offers page posts here; on its own (GET, or a form with a mistake) it is a page
    for one offer, so the error sits next to the question."""
    offer = get_object_or_404(_own_offers(request, supporter), pk=offer_id)
    form = DeclineForm(request.POST if request.method == "POST" else None)
    if form.is_bound and form.is_valid():
        try:
            services.offer_decline(
                offer=offer, declined_by=request.user, reason=form.cleaned_data["reason"]
            )
        except PermissionDenied:
            raise deny() from None
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(request, "Thank you for letting us know. We will ask someone else.")
        return redirect("peer_support:supporter_offers")
    record = offer.service_user
    _audit_view(request, record, "fields=preferred_name,needs,home_district,accessibility_needs")
    return render(
        request,
        "peer_support/supporter/offer_decline.html",
        {
            "offer": offer,
            "record": record,
            "about": _about(record),
            "form": form,
            "is_waiting": offer.status == Offer.Status.PENDING
            and offer.respond_by > timezone.now(),
        },
    )


urlpatterns: list = [
    path("supporter/", people, name="supporter_people"),
    path("supporter/people/<int:record_id>/", person, name="supporter_person"),
    path("supporter/people/<int:record_id>/phone/", person_phone, name="supporter_person_phone"),
    path(
        "supporter/people/<int:record_id>/contacts/new/",
        contact_new,
        name="supporter_contact_new",
    ),
    path(
        "supporter/people/<int:record_id>/appointments/new/",
        appointment_new,
        name="supporter_appointment_new",
    ),
    path("supporter/appointments/", appointments, name="supporter_appointments"),
    path(
        "supporter/appointments/<int:appointment_id>/outcome/",
        appointment_outcome,
        name="supporter_appointment_outcome",
    ),
    path("supporter/availability/", availability, name="supporter_availability"),
    path("supporter/offers/", offers, name="supporter_offers"),
    path("supporter/offers/<int:offer_id>/accept/", offer_accept, name="supporter_offer_accept"),
    path(
        "supporter/offers/<int:offer_id>/decline/",
        offer_decline,
        name="supporter_offer_decline",
    ),
]
