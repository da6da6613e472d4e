"""Thin views: parse input, check permission through selectors, call a service."""

from __future__ import annotations

from datetime import datetime, time

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST, require_safe

from . import health, permissions, selectors, services
from .audit import audit_record, audit_record_many
from .forms import AuditSearchForm, ConsentGiveForm, StaffConsentForm
from .models import AuditEvent, ConsentMethod, Membership, User
from .roles import Role


@require_safe
@never_cache
def healthz(request):
    """200 when database, cache and queue all answer; 503 naming what failed otherwise."""
    results = health.run_checks()
    failed = [name for name, state in results.items() if state != "ok"]
    body: dict = dict(results)
    if failed:
        body["failed"] = failed
    return JsonResponse(body, status=503 if failed else 200)


def _deny() -> Http404:
    """Denied and missing look the same: nothing is revealed about what exists."""
    return Http404("Page not found")


@login_required
@require_safe
def dashboard(request):
    roles = permissions.roles_of(request.user)
    return render(
        request,
        "portal/dashboard.html",
        {
            "is_service_user": Role.SERVICE_USER in roles,
            "can_manage_people": permissions.can_manage_people(request.user),
            "can_search_audit": permissions.can_search_audit(request.user),
            "can_read_outbox": permissions.can_read_outbox(request.user),
            "does_casework": bool(
                permissions.service_ids_where(request.user, permissions.CASEWORK_ROLES)
            ),
            # Peer support pages live in a higher app; their links are found by URL name,
            # and whether the person supports anyone by the reverse relation, not an import.
            "is_supporter": hasattr(request.user, "supporter_profile"),
            "roles": sorted(role.label for role in roles),
        },
    )


# --- Service users: their own consents -----------------------------------------------------


def _own_service_id(user: User) -> int:
    service_ids = permissions.service_ids_where(user, {Role.SERVICE_USER})
    if not service_ids:
        raise _deny()
    return min(service_ids)


@login_required
@require_safe
def my_consents(request):
    if not permissions.is_service_user(request.user):
        raise _deny()
    consents = list(selectors.consents_visible_to(user=request.user).filter(subject=request.user))
    audit_record_many(
        actor=request.user,
        action=AuditEvent.Action.VIEW,
        objects=consents,
        subject_attr="subject_id",
    )
    active = {c.purpose: c for c in consents if c.is_active}
    purposes = [
        {
            "value": value,
            "label": label,
            "consent": active.get(value),
            "wording": selectors.consent_wording_current(purpose=value),
        }
        for value, label in selectors.consent_purposes()
    ]
    history = [c for c in consents if not c.is_active]
    return render(request, "portal/my_consents.html", {"purposes": purposes, "history": history})


@login_required
@require_POST
def my_consent_give(request):
    if not permissions.is_service_user(request.user):
        raise _deny()
    form = ConsentGiveForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose what you are agreeing to.")
        return redirect("my_consents")
    service = get_object_or_404(
        Membership.objects.select_related("service"),
        user=request.user,
        role=Role.SERVICE_USER,
        service_id=_own_service_id(request.user),
    ).service
    try:
        services.consent_give(
            subject=request.user,
            service=service,
            purpose=form.cleaned_data["purpose"],
            method=ConsentMethod.ONLINE,
            recorded_by=request.user,
        )
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, "Thank you. We have saved your answer.")
    return redirect("my_consents")


@login_required
@require_POST
def my_consent_withdraw(request, pk: int):
    if not permissions.is_service_user(request.user):
        raise _deny()
    consent = get_object_or_404(
        selectors.consents_visible_to(user=request.user).filter(subject=request.user), pk=pk
    )
    services.consent_withdraw(
        consent=consent, method=ConsentMethod.ONLINE, recorded_by=request.user
    )
    messages.success(
        request, f"You have withdrawn your agreement: {consent.get_purpose_display().lower()}."
    )
    return redirect("my_consents")


# --- Staff: people and their consents --------------------------------------------------------


@login_required
@require_safe
def staff_people(request):
    if not permissions.can_manage_people(request.user):
        raise _deny()
    people = list(selectors.service_users_visible_to(user=request.user).order_by("pk")[:200])
    audit_record_many(actor=request.user, action=AuditEvent.Action.VIEW, objects=people)
    return render(request, "portal/staff_people.html", {"people": people})


@login_required
def staff_person_consents(request, user_id: int):
    if not permissions.can_manage_people(request.user):
        raise _deny()
    person = get_object_or_404(selectors.service_users_visible_to(user=request.user), pk=user_id)
    membership = selectors.service_user_membership_visible_to(user=request.user, person=person)
    if membership is None:
        raise _deny()
    form = StaffConsentForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            if data["decision"] == StaffConsentForm.GIVE:
                services.consent_give(
                    subject=person,
                    service=membership.service,
                    purpose=data["purpose"],
                    method=data["method"],
                    recorded_by=request.user,
                )
            else:
                active = (
                    selectors.consents_visible_to(user=request.user)
                    .filter(subject=person, purpose=data["purpose"], withdrawn_at__isnull=True)
                    .first()
                )
                if active is None:
                    form.add_error("purpose", "There is no agreement for this to withdraw")
                    raise ValidationError("nothing to withdraw")
                services.consent_withdraw(
                    consent=active, method=data["method"], recorded_by=request.user
                )
        except ValidationError:
            pass
        else:
            messages.success(request, "Saved.")
            return redirect("staff_person_consents", user_id=person.pk)
    elif request.method not in {"GET", "HEAD", "POST"}:
        raise _deny()
    consents = list(selectors.consents_visible_to(user=request.user).filter(subject=person))
    audit_record(
        actor=request.user,
        action=AuditEvent.Action.VIEW,
        obj=person,
        subject=person,
        service=membership.service,
        detail="consents",
    )
    status = 400 if request.method == "POST" else 200
    return render(
        request,
        "portal/staff_person_consents.html",
        {"person": person, "consents": consents, "form": form, "service": membership.service},
        status=status,
    )


# --- Audit log search ----------------------------------------------------------------------


@login_required
@require_safe
def staff_audit(request):
    if not permissions.can_search_audit(request.user):
        raise _deny()
    form = AuditSearchForm(request.GET or None)
    events = selectors.audit_events_visible_to(user=request.user)
    if form.is_bound and form.is_valid():
        data = form.cleaned_data
        if data["action"]:
            events = events.filter(action=data["action"])
        if data["object_type"]:
            events = events.filter(object_type=data["object_type"].strip().lower())
        if data["actor"]:
            events = events.filter(actor_id=data["actor"])
        if data["subject"]:
            events = events.filter(subject_id=data["subject"])
        zone = timezone.get_current_timezone()
        if data["date_from"]:
            events = events.filter(at__gte=datetime.combine(data["date_from"], time.min, zone))
        if data["date_to"]:
            events = events.filter(at__lte=datetime.combine(data["date_to"], time.max, zone))
    page = Paginator(events, 50).get_page(request.GET.get("page"))
    return render(request, "portal/staff_audit.html", {"form": form, "page": page})
