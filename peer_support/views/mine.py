"""The service user's own pages: their appointments, their supporter, their preferences.

Each page finds the person's own record through the scoped selectors and records the view in
the audit log. Someone signed in as a service user before their record is linked sees a
"nothing here yet" page rather than a 404: they have done nothing wrong.
"""

from __future__ import annotations

from zoneinfo import ZoneInfo

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import redirect, render
from django.urls import path
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_safe

from portal.audit import audit_record, audit_record_many
from portal.models import AuditEvent, User

from .. import selectors, services
from ..forms.mine import MyPreferencesForm
from ..models import ServiceUserRecord
from ..wording import when_text
from .common import PAGE_SIZE, deny, paginate, service_user_required

LONDON = ZoneInfo("Europe/London")


def _own_record(user: User) -> ServiceUserRecord | None:
    return selectors.service_user_records_visible_to(user=user).filter(user=user).first()


def _nothing_yet(request, *, title: str):
    return render(request, "peer_support/mine/nothing_yet.html", {"title": title})


def _audit_view(request, record: ServiceUserRecord, detail: str) -> None:
    audit_record(
        actor=request.user,
        action=AuditEvent.Action.VIEW,
        obj=record,
        subject=request.user,
        service=record.service_id,
        detail=detail,
    )


@service_user_required
@require_safe
def my_appointments(request):
    record = _own_record(request.user)
    if record is None:
        return _nothing_yet(request, title="Your appointments")
    appointments = selectors.appointments_visible_to(user=request.user).filter(service_user=record)
    now = timezone.now()
    upcoming = list(
        appointments.filter(starts_at__gte=now).order_by("starts_at", "pk")[: PAGE_SIZE + 1]
    )
    more_upcoming = len(upcoming) > PAGE_SIZE
    upcoming = upcoming[:PAGE_SIZE]
    past = paginate(request, appointments.filter(starts_at__lt=now).order_by("-starts_at", "-pk"))
    shown = [*upcoming, *past.object_list]
    for appointment in shown:
        appointment.when_text = when_text(appointment.starts_at)
    _audit_view(request, record, "appointments")
    if shown:
        audit_record_many(actor=request.user, action=AuditEvent.Action.VIEW, objects=shown)
    return render(
        request,
        "peer_support/mine/appointments.html",
        {"upcoming": upcoming, "more_upcoming": more_upcoming, "past": past},
    )


@service_user_required
@require_safe
def my_supporter(request):
    record = _own_record(request.user)
    if record is None:
        return _nothing_yet(request, title="Your peer supporter")
    match = selectors.current_match_for(record=record)
    _audit_view(request, record, "supporter")
    # Only the first name reaches the template: never the supporter's phone or email, and
    # never the name of someone who has only been offered the person.
    return render(
        request,
        "peer_support/mine/supporter.html",
        {
            "matched": match is not None,
            "supporter_first_name": match.supporter.user.first_name if match else "",
            "closed": match is None and record.status == ServiceUserRecord.Status.CLOSED,
            "service": record.service,
        },
    )


@service_user_required
@require_http_methods(["GET", "HEAD", "POST"])
def my_preferences(request):
    record = _own_record(request.user)
    if record is None:
        return _nothing_yet(request, title="How you would like to be supported")
    if request.method == "POST":
        form = MyPreferencesForm(request.POST, record=record)
        if form.is_valid():
            try:
                services.service_user_preferences_update(
                    record=record, changed_by=request.user, **form.service_kwargs()
                )
            except PermissionDenied:
                raise deny() from None
            except ValidationError as error:
                form.add_service_errors(error)
            else:
                messages.success(request, "Thank you. We have saved your changes.")
                return redirect("peer_support:my_preferences")
    else:
        form = MyPreferencesForm(record=record)
    _audit_view(request, record, "preferences")
    return render(request, "peer_support/mine/preferences.html", {"form": form})


urlpatterns = [
    path("my/appointments/", my_appointments, name="my_appointments"),
    path("my/supporter/", my_supporter, name="my_supporter"),
    path("my/preferences/", my_preferences, name="my_preferences"),
]
