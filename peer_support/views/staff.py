"""Peer support pages for casework staff: peer support workers and coordinators.

Thin, like every view here: records come from ``selectors.service_user_records_visible_to``
narrowed to the services where the user does casework (an administrator role elsewhere does
not bring people onto these pages), every write goes through ``peer_support.services`` (which
checks the permission again), and a refusal or a missing row both answer 404. Every page that
shows people writes an audit event: one per record page, one bulk insert per list.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Case, IntegerField, Q, QuerySet, Value, When
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from portal import permissions
from portal.audit import audit_record, audit_record_many
from portal.models import AuditEvent, ConsentPurpose, Service, User
from portal.selectors import consent_is_active

from .. import matching, selectors, services
from ..forms.common import AppointmentForm, OutcomeForm, add_service_errors
from ..forms.staff import (
    MAX_ID,
    CloseRecordForm,
    CustodyForm,
    ExclusionForm,
    MatchEndForm,
    OfferForm,
    ReadinessForm,
    ReferralForm,
    WaitingListForm,
    parse_pairs,
    training_label,
)
from ..models import (
    ACCESSIBILITY_CHOICES,
    Alert,
    Offer,
    ServiceUserRecord,
    Supporter,
)
from ..readiness import (
    dbs_expires_on,
    readiness_problems,
    readiness_settings,
    supervision_due_on,
)
from ..wording import language_names, need_labels, slot_labels
from .common import casework_required, deny, paginate

GET_OR_POST = require_http_methods(["GET", "HEAD", "POST"])

ACCESSIBILITY_LABELS = dict(ACCESSIBILITY_CHOICES)


# --- Scoping helpers -------------------------------------------------------------------------


def _casework_ids(user: User) -> set[int]:
    return permissions.service_ids_where(user, permissions.CASEWORK_ROLES)


def _records(user: User) -> QuerySet[ServiceUserRecord]:
    return selectors.service_user_records_visible_to(user=user).filter(
        service_id__in=_casework_ids(user)
    )


def _one(queryset: QuerySet, pk: int, **filters) -> Any:
    """The row with this id, or 404. An id no database column can hold is simply not there
    (SQLite would raise on it rather than find nothing)."""
    found = queryset.filter(pk=pk, **filters).first() if 1 <= pk <= MAX_ID else None
    if found is None:
        raise deny()
    return found


def _record_or_404(user: User, record_id: int) -> ServiceUserRecord:
    return _one(_records(user), record_id)


def _supporters(user: User) -> QuerySet[Supporter]:
    """Supporters who share at least one of the user's casework services."""
    return (
        selectors.supporters_visible_to(user=user)
        .filter(services__in=_casework_ids(user))
        .distinct()
    )


def _supporter_or_404(user: User, supporter_id: int) -> Supporter:
    return _one(_supporters(user), supporter_id)


def _first_name(user: User | None, fallback: str = "Someone") -> str:
    return (user.first_name if user is not None else "") or fallback


def _labels(codes: Iterable[str], labels: dict[str, str]) -> str:
    return ", ".join(labels.get(code, code) for code in codes)


def _need_labels(codes: Iterable[str]) -> str:
    return ", ".join(need_labels(codes))


# --- Referrals -------------------------------------------------------------------------------

REFERRAL_VIEWS = {
    "waiting": (
        "Waiting for a supporter",
        [ServiceUserRecord.Status.REFERRED, ServiceUserRecord.Status.AWAITING_MATCH],
    ),
    "matched": ("Matched", [ServiceUserRecord.Status.MATCHED]),
    "closed": ("Closed", [ServiceUserRecord.Status.CLOSED]),
}


@casework_required
@require_safe
@never_cache
def referrals(request: HttpRequest) -> HttpResponse:
    """People waiting for a supporter, oldest first: the ones waiting longest come first."""
    show = request.GET.get("show", "waiting")
    if show not in REFERRAL_VIEWS:
        show = "waiting"
    title, statuses = REFERRAL_VIEWS[show]
    records = selectors.with_casework_state(_records(request.user).filter(status__in=statuses))
    records = records.order_by("created_at", "pk")
    page = paginate(request, records)
    rows = list(page.object_list)
    for record in rows:
        record.needs_display = _need_labels(record.needs)
    audit_record_many(
        actor=request.user, action=AuditEvent.Action.VIEW, objects=rows, subject_attr="user_id"
    )
    return render(
        request,
        "peer_support/staff/referrals.html",
        {
            "page": page,
            "rows": rows,
            "show": show,
            "title": title,
            "views": [(key, label) for key, (label, _) in REFERRAL_VIEWS.items()],
            "several_services": len(_casework_ids(request.user)) > 1,
        },
    )


@casework_required
@GET_OR_POST
@never_cache
def referral_new(request: HttpRequest) -> HttpResponse:
    """L&D staff add someone they have met. Times free are set straight after, through the
    preferences service, in the same transaction (the create service does not take them)."""
    service_list = list(selectors.casework_services_of(user=request.user))
    form = ReferralForm(request.POST or None, services=service_list)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        service = next(s for s in service_list if s.pk == data["service"])
        try:
            with transaction.atomic():
                record = services.service_user_record_create(
                    service=service,
                    created_by=request.user,
                    preferred_name=data["preferred_name"],
                    age_band=data["age_band"],
                    mobile=data["mobile"],
                    gender=data["gender"],
                    preferred_supporter_gender=data["preferred_supporter_gender"],
                    languages=data["languages"],
                    home_district=data["home_district"],
                    needs=data["needs"],
                    accessibility_needs=data["accessibility_needs"],
                    interests=data["interests"],
                )
                if data["availability"]:
                    services.service_user_preferences_update(
                        record=record,
                        changed_by=request.user,
                        preferred_name=record.preferred_name,
                        preferred_supporter_gender=record.preferred_supporter_gender,
                        languages=record.languages,
                        accessibility_needs=record.accessibility_needs,
                        interests=record.interests,
                        availability=data["availability"],
                    )
        except PermissionDenied:
            raise deny() from None
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, "Referral added.")
            return redirect("peer_support:staff_referral", record_id=record.pk)
    return render(request, "peer_support/staff/referral_new.html", {"form": form})


# --- One person ------------------------------------------------------------------------------


def _state(record: ServiceUserRecord) -> dict:
    has_consent = bool(record.user_id) and consent_is_active(
        subject=record.user, purpose=ConsentPurpose.PEER_SUPPORT, service_id=record.service_id
    )
    if record.user_id is None:
        label = "No account yet"
    elif not has_consent:
        label = "No consent to peer support"
    else:
        label = "Ready"
    return {"has_consent": has_consent, "label": label}


def _record_page(
    request: HttpRequest,
    record: ServiceUserRecord,
    *,
    problems: list[str] | None = None,
    problems_title: str = "",
    end_form: MatchEndForm | None = None,
    exclusion_form: ExclusionForm | None = None,
    close_form: CloseRecordForm | None = None,
    custody_form: CustodyForm | None = None,
) -> HttpResponse:
    """The person's page, also re-shown (200) with the errors of an action that failed."""
    user = request.user
    now = timezone.now()
    sections = ["details", "account"]
    state = _state(record)
    match = (
        selectors.matches_visible_to(user=user)
        .filter(service_user=record, ended_at__isnull=True)
        .first()
    )
    offers = selectors.offers_visible_to(user=user).filter(service_user=record)
    pending = offers.filter(status=Offer.Status.PENDING).first()
    history = list(offers.exclude(status=Offer.Status.PENDING).order_by("-offered_at", "-pk")[:50])
    if match:
        sections.append("match")
    if pending:
        sections.append("pending_offer")
    if history:
        sections.append("offers")
    suggestions = []
    show_suggestions = (
        record.status != ServiceUserRecord.Status.CLOSED and match is None and pending is None
    )
    if show_suggestions:
        sections.append("suggestions")
        suggestions = [
            {
                "suggestion": suggestion,
                "supporter": supporter,
                "percent": round(suggestion.score.total * 100),
            }
            for suggestion, supporter in selectors.suggestions_for_record(record=record, limit=10)
        ]
    exclusions = list(
        selectors.exclusions_visible_to(user=user)
        .filter(Q(service_user=record) | Q(other_service_user=record))
        .select_related("supporter__user", "other_service_user")
    )
    sections.append("exclusions")
    casework = _casework_ids(user)
    for exclusion in exclusions:
        other = (
            exclusion.other_service_user
            if exclusion.service_user_id == record.pk
            else exclusion.service_user
        )
        exclusion.other_person = other
        exclusion.other_visible = other is not None and other.service_id in casework
    service_supporters = list(
        selectors.supporters_visible_to(user=user)
        .filter(services=record.service_id)
        .order_by("user__first_name", "pk")
    )
    appointments = selectors.appointments_visible_to(user=user).filter(service_user=record)
    upcoming = paginate(
        request,
        appointments.filter(starts_at__gte=now).order_by("starts_at", "pk"),
        "upcoming_page",
    )
    past = paginate(
        request,
        appointments.filter(starts_at__lt=now).order_by("-starts_at", "-pk"),
        "past_page",
    )
    sections.append("appointments")
    for appointment in [*upcoming.object_list, *past.object_list]:
        appointment.outcome_form = OutcomeForm(
            auto_id=f"outcome-{appointment.pk}-%s",
            initial={"outcome": appointment.outcome or None},
        )
    contacts = paginate(
        request,
        selectors.contacts_visible_to(user=user)
        .filter(service_user=record)
        .order_by("-occurred_at", "-pk"),
        "contacts_page",
    )
    sections.append("contacts")
    audit_record(
        actor=user,
        action=AuditEvent.Action.VIEW,
        obj=record,
        subject=record.user,
        service=record.service_id,
        detail="sections=" + ",".join(sections),
    )
    context = {
        "record": record,
        "state": state,
        "needs_display": _need_labels(record.needs),
        "accessibility_display": _labels(record.accessibility_needs, ACCESSIBILITY_LABELS),
        "availability_display": ", ".join(slot_labels(record.availability)),
        "languages_display": ", ".join(language_names(record.languages)),
        "is_public_request": record.source != ServiceUserRecord.Source.LD_TEAM,
        "consent_url": (
            reverse("staff_person_consents", args=[record.user_id]) if record.user_id else ""
        ),
        "match": match,
        "pending": pending,
        "history": history,
        "show_suggestions": show_suggestions,
        "suggestions": suggestions,
        "can_offer": state["has_consent"],
        "exclusions": exclusions,
        "upcoming": upcoming,
        "past": past,
        "contacts": contacts,
        "problems": problems or [],
        "problems_title": problems_title,
        "end_form": end_form or MatchEndForm(auto_id="end-%s"),
        "exclusion_form": exclusion_form
        or ExclusionForm(supporters=service_supporters, auto_id="exclusion-%s"),
        "close_form": close_form or CloseRecordForm(auto_id="close-%s"),
        "custody_form": custody_form
        or CustodyForm(
            auto_id="custody-%s", initial={"in_custody": "yes" if record.in_custody else "no"}
        ),
        "is_open": record.status != ServiceUserRecord.Status.CLOSED,
    }
    return render(request, "peer_support/staff/referral.html", context)


@casework_required
@require_safe
@never_cache
def referral(request: HttpRequest, record_id: int) -> HttpResponse:
    return _record_page(request, _record_or_404(request.user, record_id))


def _back_to(record: ServiceUserRecord) -> HttpResponse:
    return redirect("peer_support:staff_referral", record_id=record.pk)


@casework_required
@require_POST
def referral_account(request: HttpRequest, record_id: int) -> HttpResponse:
    record = _record_or_404(request.user, record_id)
    try:
        services.service_user_account_create(record=record, created_by=request.user)
    except PermissionDenied:
        raise deny() from None
    except ValidationError as error:
        return _record_page(
            request,
            record,
            problems=error.messages,
            problems_title="Their sign-in could not be created",
        )
    messages.success(
        request,
        "They have a sign-in now: they get a code by text message. "
        "Record their consent to peer support next.",
    )
    return _back_to(record)


@casework_required
@require_POST
def referral_offer(request: HttpRequest, record_id: int) -> HttpResponse:
    record = _record_or_404(request.user, record_id)
    title = "The offer could not be sent"
    form = OfferForm(request.POST)
    if not form.is_valid():
        return _record_page(
            request, record, problems=["Choose a supporter to offer."], problems_title=title
        )
    supporter = (
        selectors.supporters_visible_to(user=request.user)
        .filter(pk=form.cleaned_data["supporter"])
        .first()
    )
    if supporter is None:
        return _record_page(
            request,
            record,
            problems=["That supporter is not one of your service's supporters."],
            problems_title=title,
        )
    try:
        offer = services.offer_make(
            service_user=record, supporter=supporter, offered_by=request.user
        )
    except PermissionDenied:
        raise deny() from None
    except ValidationError as error:
        return _record_page(request, record, problems=error.messages, problems_title=title)
    due = timezone.localtime(offer.respond_by)
    messages.success(
        request,
        f"Offer sent to {_first_name(supporter.user, 'the supporter')}. "
        f"They have until {due:%-d %B %Y at %H:%M} to answer.",
    )
    return _back_to(record)


@casework_required
@require_POST
def offer_withdraw(request: HttpRequest, offer_id: int) -> HttpResponse:
    offer = _one(
        selectors.offers_visible_to(user=request.user),
        offer_id,
        service_user__service_id__in=_casework_ids(request.user),
    )
    record = _record_or_404(request.user, offer.service_user_id)
    try:
        services.offer_withdraw(offer=offer, withdrawn_by=request.user)
    except PermissionDenied:
        raise deny() from None
    except ValidationError as error:
        return _record_page(
            request,
            record,
            problems=error.messages,
            problems_title="The offer could not be withdrawn",
        )
    messages.success(request, "Offer withdrawn. You can offer them to someone else now.")
    return _back_to(record)


@casework_required
@require_POST
def match_end(request: HttpRequest, match_id: int) -> HttpResponse:
    match = _one(
        selectors.matches_visible_to(user=request.user),
        match_id,
        service_user__service_id__in=_casework_ids(request.user),
    )
    record = _record_or_404(request.user, match.service_user_id)
    form = MatchEndForm(request.POST, auto_id="end-%s")
    if form.is_valid():
        try:
            services.match_end(
                match=match,
                reason=form.cleaned_data["reason"],
                ended_by=request.user,
                close_record=form.cleaned_data["close_record"],
            )
        except PermissionDenied:
            raise deny() from None
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            if form.cleaned_data["close_record"]:
                messages.success(request, "The match has ended and their record is closed.")
            else:
                messages.success(
                    request, "The match has ended. They are back on the waiting list."
                )
            return _back_to(record)
    return _record_page(request, record, end_form=form)


@casework_required
@require_POST
def exclusion_new(request: HttpRequest, record_id: int) -> HttpResponse:
    record = _record_or_404(request.user, record_id)
    supporters = list(
        selectors.supporters_visible_to(user=request.user)
        .filter(services=record.service_id)
        .order_by("user__first_name", "pk")
    )
    form = ExclusionForm(request.POST, supporters=supporters, auto_id="exclusion-%s")
    if form.is_valid():
        data = form.cleaned_data
        supporter = next((s for s in supporters if s.pk == data["supporter"]), None)
        other = None
        if data["other_record"] is not None:
            other = _records(request.user).filter(pk=data["other_record"]).first()
            if other is None:
                form.add_error("other_record", "There is nobody with that number in your services")
            elif other.pk == record.pk:
                form.add_error("other_record", "That is this person's own number")
        if not form.errors:
            try:
                services.exclusion_create(
                    service_user=record,
                    kind=data["kind"],
                    reason=data["reason"],
                    entered_by=request.user,
                    supporter=supporter,
                    other_service_user=other,
                )
            except PermissionDenied:
                raise deny() from None
            except ValidationError as error:
                add_service_errors(form, error)
            else:
                messages.success(request, "Added to their do-not-match list.")
                return _back_to(record)
    return _record_page(request, record, exclusion_form=form)


@casework_required
@require_POST
def referral_close(request: HttpRequest, record_id: int) -> HttpResponse:
    record = _record_or_404(request.user, record_id)
    form = CloseRecordForm(request.POST, auto_id="close-%s")
    if form.is_valid():
        try:
            services.service_user_record_close(
                record=record, reason=form.cleaned_data["reason"], closed_by=request.user
            )
        except PermissionDenied:
            raise deny() from None
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, "Record closed.")
            return _back_to(record)
    return _record_page(request, record, close_form=form)


@casework_required
@require_POST
def record_custody(request: HttpRequest, record_id: int) -> HttpResponse:
    """In custody or on remand, or not: reminders stop while they are."""
    record = _record_or_404(request.user, record_id)
    form = CustodyForm(request.POST, auto_id="custody-%s")
    if form.is_valid():
        try:
            services.service_user_custody_update(
                record=record,
                in_custody=form.cleaned_data["in_custody"],
                changed_by=request.user,
            )
        except PermissionDenied:
            raise deny() from None
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            if form.cleaned_data["in_custody"]:
                messages.success(
                    request, "Saved. No reminders are sent while they are in custody."
                )
            else:
                messages.success(request, "Saved. Reminders are sent again.")
            return _back_to(record)
    return _record_page(request, record, custody_form=form)


# --- Appointments ----------------------------------------------------------------------------


@casework_required
@GET_OR_POST
@never_cache
def appointment_new(request: HttpRequest, record_id: int) -> HttpResponse:
    record = _record_or_404(request.user, record_id)
    form = AppointmentForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
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
            add_service_errors(form, error)
        else:
            messages.success(request, "Appointment added.")
            return _back_to(record)
    audit_record(
        actor=request.user,
        action=AuditEvent.Action.VIEW,
        obj=record,
        subject=record.user,
        service=record.service_id,
        detail="sections=appointment_form",
    )
    return render(
        request, "peer_support/staff/appointment_new.html", {"record": record, "form": form}
    )


@casework_required
@require_POST
def appointment_outcome(request: HttpRequest, appointment_id: int) -> HttpResponse:
    appointment = _one(
        selectors.appointments_visible_to(user=request.user),
        appointment_id,
        service_user__service_id__in=_casework_ids(request.user),
    )
    record = _record_or_404(request.user, appointment.service_user_id)
    title = "What happened could not be saved"
    form = OutcomeForm(request.POST)
    if not form.is_valid():
        return _record_page(
            request, record, problems=["Choose what happened."], problems_title=title
        )
    try:
        services.appointment_outcome_record(
            appointment=appointment,
            outcome=form.cleaned_data["outcome"],
            recorded_by=request.user,
        )
    except PermissionDenied:
        raise deny() from None
    except ValidationError as error:
        return _record_page(request, record, problems=error.messages, problems_title=title)
    messages.success(request, "Saved what happened at the appointment.")
    return _back_to(record)


# --- Offers and alerts -----------------------------------------------------------------------


@casework_required
@require_safe
@never_cache
def offers(request: HttpRequest) -> HttpResponse:
    """Offers waiting for an answer, the soonest deadline first."""
    waiting = (
        selectors.offers_visible_to(user=request.user)
        .filter(
            status=Offer.Status.PENDING,
            service_user__service_id__in=_casework_ids(request.user),
        )
        .order_by("respond_by", "pk")
    )
    page = paginate(request, waiting)
    rows = list(page.object_list)
    audit_record_many(
        actor=request.user,
        action=AuditEvent.Action.VIEW,
        objects=[offer.service_user for offer in rows],
        subject_attr="user_id",
    )
    return render(request, "peer_support/staff/offers.html", {"page": page, "rows": rows})


@casework_required
@require_safe
@never_cache
def alerts(request: HttpRequest) -> HttpResponse:
    """Open alerts, safeguarding first; or the ones already dealt with."""
    dealt_with = request.GET.get("show") == "dealt-with"
    scoped = selectors.alerts_visible_to(user=request.user).filter(
        service_id__in=_casework_ids(request.user)
    )
    if dealt_with:
        listed = (
            scoped.filter(resolved_at__isnull=False)
            .select_related("resolved_by")
            .order_by("-resolved_at", "-pk")
        )
    else:
        listed = (
            scoped.filter(resolved_at__isnull=True)
            .annotate(
                urgent=Case(
                    When(kind__in=list(Alert.URGENT_KINDS), then=Value(1)),
                    default=Value(0),
                    output_field=IntegerField(),
                )
            )
            .order_by("-urgent", "-created_at", "-pk")
        )
    page = paginate(request, listed)
    rows = list(page.object_list)
    audit_record_many(actor=request.user, action=AuditEvent.Action.VIEW, objects=rows)
    return render(
        request,
        "peer_support/staff/alerts.html",
        {"page": page, "rows": rows, "dealt_with": dealt_with},
    )


@casework_required
@require_POST
def alert_resolve(request: HttpRequest, alert_id: int) -> HttpResponse:
    alert = _one(
        selectors.alerts_visible_to(user=request.user),
        alert_id,
        service_id__in=_casework_ids(request.user),
    )
    try:
        services.alert_resolve(alert=alert, resolved_by=request.user)
    except PermissionDenied:
        raise deny() from None
    messages.success(request, "Alert marked as dealt with.")
    return redirect("peer_support:staff_alerts")


# --- Supporters ------------------------------------------------------------------------------


def _readiness(supporter: Supporter, today, values: dict) -> dict:
    done = set(supporter.training_modules_completed or [])
    return {
        "problems": readiness_problems(supporter, today=today, settings_values=values),
        "dbs_expires_on": (
            dbs_expires_on(supporter.dbs_checked_on, settings.PEER_DBS_VALID_DAYS)
            if supporter.dbs_checked_on
            else None
        ),
        "supervision_due_on": (
            supervision_due_on(
                supporter.last_supervision_on, settings.PEER_SUPERVISION_INTERVAL_DAYS
            )
            if supporter.last_supervision_on
            else None
        ),
        "training_missing": [
            training_label(code) for code in settings.PEER_REQUIRED_TRAINING if code not in done
        ],
        "training_done": [training_label(code) for code in supporter.training_modules_completed],
    }


@casework_required
@require_safe
@never_cache
def supporters(request: HttpRequest) -> HttpResponse:
    listed = selectors.with_supporter_load(_supporters(request.user)).order_by(
        "user__first_name", "pk"
    )
    page = paginate(request, listed)
    today, values = timezone.localdate(), readiness_settings()
    rows = [
        {"supporter": supporter, **_readiness(supporter, today, values)}
        for supporter in page.object_list
    ]
    audit_record_many(
        actor=request.user,
        action=AuditEvent.Action.VIEW,
        objects=[row["supporter"] for row in rows],
        subject_attr="user_id",
    )
    return render(request, "peer_support/staff/supporters.html", {"page": page, "rows": rows})


def _supporter_page(
    request: HttpRequest,
    supporter: Supporter,
    *,
    form: ReadinessForm | None = None,
    problems: list[str] | None = None,
) -> HttpResponse:
    supporter = selectors.with_supporter_load(_supporters(request.user)).get(pk=supporter.pk)
    readiness = _readiness(supporter, timezone.localdate(), readiness_settings())
    people = list(
        selectors.records_supported_by(user=supporter.user)
        .filter(service_id__in=_casework_ids(request.user))
        .order_by("preferred_name", "pk")
    )
    if form is None:
        form = ReadinessForm(
            required_training=settings.PEER_REQUIRED_TRAINING,
            recorded=supporter.training_modules_completed,
            initial={
                "dbs_checked_on": supporter.dbs_checked_on,
                "dbs_level": supporter.dbs_level,
                "risk_assessment_recorded_on": supporter.risk_assessment_recorded_on,
                "training_modules_completed": supporter.training_modules_completed,
                "last_supervision_on": supporter.last_supervision_on,
                "cleared_for_under_18": supporter.cleared_for_under_18,
            },
        )
    audit_record(
        actor=request.user,
        action=AuditEvent.Action.VIEW,
        obj=supporter,
        subject=supporter.user,
        detail="sections=readiness,people",
    )
    return render(
        request,
        "peer_support/staff/supporter.html",
        {
            "supporter": supporter,
            "readiness": readiness,
            "people": people,
            "form": form,
            "problems": problems or [],
        },
    )


@casework_required
@GET_OR_POST
@never_cache
def supporter(request: HttpRequest, supporter_id: int) -> HttpResponse:
    found = _supporter_or_404(request.user, supporter_id)
    if request.method != "POST":
        return _supporter_page(request, found)
    form = ReadinessForm(
        request.POST,
        required_training=settings.PEER_REQUIRED_TRAINING,
        recorded=found.training_modules_completed,
    )
    if form.is_valid():
        try:
            services.supporter_readiness_record(
                supporter=found, recorded_by=request.user, **form.cleaned_data
            )
        except PermissionDenied:
            raise deny() from None
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, "Checks and training saved.")
            return redirect("peer_support:staff_supporter", supporter_id=found.pk)
    return _supporter_page(request, found, form=form)


@casework_required
@require_POST
def supporter_unpause(request: HttpRequest, supporter_id: int) -> HttpResponse:
    found = _supporter_or_404(request.user, supporter_id)
    try:
        services.supporter_unpause(supporter=found, unpaused_by=request.user)
    except PermissionDenied:
        raise deny() from None
    except ValidationError as error:
        return _supporter_page(request, found, problems=error.messages)
    messages.success(request, f"{_first_name(found.user, 'They')} can take new people again.")
    return redirect("peer_support:staff_supporter", supporter_id=found.pk)


# --- Matching the waiting list ---------------------------------------------------------------


def _proposal(request: HttpRequest, service: Service) -> dict:
    """Run the batch matcher and the greedy baseline over one service's waiting list."""
    referrals_ = selectors.waiting_list_for_matching(service_ids=[service.pk])
    candidates = selectors.supporters_for_matching(service_ids=[service.pk])
    weights = matching.weights_from_settings()
    result = matching.match_waiting_list(referrals_, candidates, weights=weights)
    baseline = matching.match_greedy(referrals_, candidates, weights=weights)
    records = _records(request.user).in_bulk([r.id for r in referrals_])
    people = selectors.supporters_visible_to(user=request.user).in_bulk(
        [s.supporter_id for s in result.assignments.values()]
    )
    rows = [
        {
            "record": records.get(record_id),
            "record_id": record_id,
            "supporter": people.get(suggestion.supporter_id),
            "suggestion": suggestion,
            "percent": round(suggestion.score.total * 100),
        }
        for record_id, suggestion in result.assignments.items()
    ]
    left = [records[record_id] for record_id in result.unassigned if record_id in records]
    audit_record_many(
        actor=request.user,
        action=AuditEvent.Action.VIEW,
        objects=list(records.values()),
        subject_attr="user_id",
    )
    return {
        "rows": rows,
        "left": left,
        "waiting": len(referrals_),
        "result": result,
        "baseline": baseline,
        "matched_gain": result.matched - baseline.matched,
    }


@casework_required
@GET_OR_POST
@never_cache
def waiting_list(request: HttpRequest) -> HttpResponse:
    service_list = list(selectors.casework_services_of(user=request.user))
    by_id = {s.pk: s for s in service_list}
    context: dict = {"problems": []}
    if request.method != "POST":
        form = WaitingListForm(services=service_list)
        return render(request, "peer_support/staff/waiting_list.html", {"form": form, **context})
    form = WaitingListForm(request.POST, services=service_list)
    action = request.POST.get("action")
    service = by_id[form.cleaned_data["service"]] if form.is_valid() else None
    if service is None:
        pass  # the form shows what is wrong with the service chosen
    elif action == "propose":
        context.update(_proposal(request, service), service=service)
    elif action == "send":
        try:
            # One field, not one input per pair: a long waiting list would pass Django's
            # DATA_UPLOAD_MAX_NUMBER_FIELDS (1,000) and be refused before reaching here.
            pairs = parse_pairs([v for v in request.POST.get("pairs", "").split(",") if v.strip()])
        except ValidationError as error:
            context["problems"] = error.messages
        else:
            try:
                made, refused = services.offers_make_from_batch(
                    service=service, pairs=pairs, offered_by=request.user
                )
            except PermissionDenied:
                raise deny() from None
            _report_batch(request, made, refused)
            return redirect("peer_support:staff_waiting_list")
    else:
        context["problems"] = ["Choose what to do: propose matches, or send the offers."]
    return render(request, "peer_support/staff/waiting_list.html", {"form": form, **context})


def _report_batch(request: HttpRequest, made: list[Offer], refused: dict[int, list[str]]) -> None:
    count = len(made)
    messages.success(request, f"{count} {'offer' if count == 1 else 'offers'} sent.")
    if not refused:
        return
    names = _records(request.user).in_bulk(list(refused))
    for record_id, reasons in sorted(refused.items()):
        record = names.get(record_id)
        who = f"{record.preferred_name} (number {record_id})" if record else f"Number {record_id}"
        messages.error(request, f"Not sent for {who}: {' '.join(reasons)}")


urlpatterns = [
    path("staff/referrals/", referrals, name="staff_referrals"),
    path("staff/referrals/new/", referral_new, name="staff_referral_new"),
    path("staff/referrals/<int:record_id>/", referral, name="staff_referral"),
    path(
        "staff/referrals/<int:record_id>/account/",
        referral_account,
        name="staff_referral_account",
    ),
    path("staff/referrals/<int:record_id>/offer/", referral_offer, name="staff_referral_offer"),
    path(
        "staff/referrals/<int:record_id>/exclusions/new/",
        exclusion_new,
        name="staff_exclusion_new",
    ),
    path(
        "staff/referrals/<int:record_id>/appointments/new/",
        appointment_new,
        name="staff_appointment_new",
    ),
    path("staff/referrals/<int:record_id>/close/", referral_close, name="staff_referral_close"),
    path(
        "staff/referrals/<int:record_id>/custody/",
        record_custody,
        name="staff_record_custody",
    ),
    path("staff/matches/<int:match_id>/end/", match_end, name="staff_match_end"),
    path("staff/offers/", offers, name="staff_offers"),
    path("staff/offers/<int:offer_id>/withdraw/", offer_withdraw, name="staff_offer_withdraw"),
    path(
        "staff/appointments/<int:appointment_id>/outcome/",
        appointment_outcome,
        name="staff_appointment_outcome",
    ),
    path("staff/alerts/", alerts, name="staff_alerts"),
    path("staff/alerts/<int:alert_id>/resolve/", alert_resolve, name="staff_alert_resolve"),
    path("staff/supporters/", supporters, name="staff_supporters"),
    path("staff/supporters/<int:supporter_id>/", supporter, name="staff_supporter"),
    path(
        "staff/supporters/<int:supporter_id>/unpause/",
        supporter_unpause,
        name="staff_supporter_unpause",
    ),
    path("staff/waiting-list/", waiting_list, name="staff_waiting_list"),
]
