"""Writes for peer support. Each is keyword-only, atomic, validated and audited.

Who may write: peer support workers and coordinators of the person's service (the casework
roles); for appointments, also the supporter with an active match to the person, who helps
them get there. Refusals are ``PermissionDenied`` (not allowed) or ``ValidationError`` (not
possible, with a message staff can act on).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import date, datetime
from zoneinfo import ZoneInfo

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from portal import permissions
from portal.audit import audit_record
from portal.models import AuditEvent, ConsentPurpose, Service, User
from portal.selectors import consent_is_active

from . import matching
from .adapters import referral_from_record, supporter_from_model
from .models import Appointment, Exclusion, Match, ServiceUserRecord, Supporter
from .readiness import readiness_problems, readiness_settings
from .selectors import excluded_supporter_ids, supporter_active_match_count
from .signals import appointment_changed_on_commit

logger = logging.getLogger(__name__)


def _require_casework(user: User, service_id: int) -> None:
    if service_id not in permissions.service_ids_where(user, permissions.CASEWORK_ROLES):
        raise PermissionDenied("Only peer support workers and coordinators of this service.")


def _require_arranger(user: User, record: ServiceUserRecord) -> None:
    """Casework staff of the service, or the person's current supporter."""
    if record.service_id in permissions.service_ids_where(user, permissions.CASEWORK_ROLES):
        return
    if Match.objects.filter(
        service_user=record, supporter__user=user, ended_at__isnull=True
    ).exists():
        return
    raise PermissionDenied("Only this person's staff or current supporter.")


def _fields(names: Iterable[str]) -> str:
    return "fields=" + ",".join(names)


# --- Records ---------------------------------------------------------------------------------


@transaction.atomic
def service_user_record_create(
    *,
    service: Service,
    created_by: User,
    preferred_name: str,
    age_band: str,
    user: User | None = None,
    mobile: str = "",
    gender: str = "",
    preferred_supporter_gender: str = "",
    languages: list[str] | None = None,
    home_district: str = "",
    needs: list[str] | None = None,
    accessibility_needs: list[str] | None = None,
    interests: list[str] | None = None,
    in_custody: bool = False,
) -> ServiceUserRecord:
    """A referral from L&D. ``user`` can be linked later, when the person has an account."""
    _require_casework(created_by, service.pk)
    record = ServiceUserRecord(
        service=service,
        user=user,
        preferred_name=preferred_name,
        mobile=mobile,
        age_band=age_band,
        gender=gender,
        preferred_supporter_gender=preferred_supporter_gender,
        languages=list(languages or []),
        home_district=home_district,
        needs=list(needs or []),
        accessibility_needs=list(accessibility_needs or []),
        interests=list(interests or []),
        in_custody=in_custody,
    )
    record.full_clean()
    record.save()
    audit_record(
        actor=created_by,
        action=AuditEvent.Action.CREATE,
        obj=record,
        subject=user,
        service=service,
        detail="referral",
    )
    return record


# --- Exclusions ------------------------------------------------------------------------------


@transaction.atomic
def exclusion_create(
    *,
    service_user: ServiceUserRecord,
    kind: str,
    reason: str,
    entered_by: User,
    supporter: Supporter | None = None,
    other_service_user: ServiceUserRecord | None = None,
) -> Exclusion:
    """Record that two people must never be matched. Staff only; the reason is never shown to
    volunteers (``selectors.exclusions_visible_to``), and the matcher only says "excluded".

    An exclusion does not end a match that already exists: staff must review it.
    """
    _require_casework(entered_by, service_user.service_id)
    exclusion = Exclusion(
        service_user=service_user,
        supporter=supporter,
        other_service_user=other_service_user,
        kind=kind,
        reason=reason,
        entered_by=entered_by,
    )
    exclusion.full_clean()
    exclusion.save()
    audit_record(
        actor=entered_by,
        action=AuditEvent.Action.CREATE,
        obj=exclusion,
        subject=service_user.user,
        service=service_user.service_id,
        detail=_fields(["kind", "reason", "supporter" if supporter else "other_service_user"]),
    )
    return exclusion


# --- Matches ---------------------------------------------------------------------------------


def _refusal(message: str, code: str) -> ValidationError:
    return ValidationError(message, code=code)


@transaction.atomic
def match_create(
    *, service_user: ServiceUserRecord, supporter: Supporter, created_by: User
) -> Match:
    """Match a person with a supporter, or refuse with every reason at once.

    The safety rules are the matching engine's (``matching.hard_constraint_failures``) applied
    to today's rows; consent is checked here, at the moment of matching, so a withdrawal
    counts at once. Both rows are locked so two staff cannot over-fill a supporter.
    """
    _require_casework(created_by, service_user.service_id)
    record = ServiceUserRecord.objects.select_for_update().get(pk=service_user.pk)
    locked = (
        Supporter.objects.select_for_update().prefetch_related("services").get(pk=supporter.pk)
    )
    errors: list[ValidationError] = []
    if record.status == ServiceUserRecord.Status.CLOSED:
        errors.append(_refusal("This person's record is closed.", "record_closed"))
    if record.user_id is None:
        errors.append(
            _refusal(
                "This person has no account yet, so their consent to peer support cannot be "
                "recorded. Create their account and record consent first.",
                "no_account",
            )
        )
    elif not consent_is_active(
        subject=record.user, purpose=ConsentPurpose.PEER_SUPPORT, service_id=record.service_id
    ):
        errors.append(
            _refusal(
                "This person has not given (or has withdrawn) consent to peer support.",
                "no_consent",
            )
        )
    if Match.objects.filter(service_user=record, ended_at__isnull=True).exists():
        errors.append(_refusal("This person already has a supporter.", "already_matched"))
    referral = referral_from_record(
        record, excluded_supporter_ids=excluded_supporter_ids(record=record)
    )
    candidate = supporter_from_model(
        locked,
        active_matches=supporter_active_match_count(supporter=locked),
        today=timezone.localdate(),
    )
    for code in matching.hard_constraint_failures(referral, candidate):
        errors.append(_refusal(f"This supporter {matching.REASON_LABELS[code]}.", code))
    if errors:
        raise ValidationError(errors)
    match = Match(
        service_user=record, supporter=locked, started_at=timezone.now(), created_by=created_by
    )
    match.full_clean()
    match.save()
    record.status = ServiceUserRecord.Status.MATCHED
    record.save(update_fields=["status", "updated_at"])
    audit_record(
        actor=created_by,
        action=AuditEvent.Action.CREATE,
        obj=match,
        subject=record.user,
        service=record.service_id,
        detail=_fields(["service_user", "supporter"]),
    )
    return match


@transaction.atomic
def match_end(*, match: Match, reason: str, ended_by: User) -> Match:
    """End a match; the person goes back to the waiting list unless their record is closed."""
    match = Match.objects.select_for_update().select_related("service_user").get(pk=match.pk)
    record = match.service_user
    _require_casework(ended_by, record.service_id)
    if match.ended_at is not None:
        raise ValidationError("This match has already ended.", code="already_ended")
    match.ended_at = timezone.now()
    match.end_reason = reason
    match.ended_by = ended_by
    match.full_clean()
    match.save(update_fields=["ended_at", "end_reason", "ended_by"])
    if record.status == ServiceUserRecord.Status.MATCHED:
        record.status = ServiceUserRecord.Status.AWAITING_MATCH
        record.save(update_fields=["status", "updated_at"])
    audit_record(
        actor=ended_by,
        action=AuditEvent.Action.CHANGE,
        obj=match,
        subject=record.user,
        service=record.service_id,
        detail=_fields(["ended_at", "end_reason"]),
    )
    return match


# --- Appointments ----------------------------------------------------------------------------


def _aware(starts_at: datetime) -> datetime:
    """An aware datetime. A naive one is read as local time (Europe/London); a time that does
    not exist there (the hour skipped when clocks go forward) is refused. In the hour that
    happens twice in October, a naive time means the first (BST) one."""
    if timezone.is_aware(starts_at):
        return starts_at
    zone = ZoneInfo(timezone.get_current_timezone_name())
    aware = starts_at.replace(tzinfo=zone)
    if aware.astimezone(ZoneInfo("UTC")).astimezone(zone).replace(tzinfo=None) != starts_at:
        raise ValidationError(
            "That time does not exist: the clocks go forward then.", code="nonexistent_time"
        )
    return aware


@transaction.atomic
def appointment_create(
    *,
    service_user: ServiceUserRecord,
    kind: str,
    place_label: str,
    address: str,
    starts_at: datetime,
    arranged_by: User,
    supporter_attending: bool = False,
) -> Appointment:
    _require_arranger(arranged_by, service_user)
    if service_user.status == ServiceUserRecord.Status.CLOSED:
        raise ValidationError("This person's record is closed.", code="record_closed")
    appointment = Appointment(
        service_user=service_user,
        kind=kind,
        place_label=place_label,
        address=address,
        starts_at=_aware(starts_at),
        arranged_by=arranged_by,
        supporter_attending=supporter_attending,
    )
    return _appointment_save(
        appointment,
        by=arranged_by,
        action=AuditEvent.Action.CREATE,
        fields=["kind", "place_label", "address", "starts_at"],
        change="created",
    )


def _appointment_save(
    appointment: Appointment,
    *,
    by: User,
    action: str,
    fields: list[str],
    change: str,
    update_fields: list[str] | None = None,
) -> Appointment:
    """Validate, save, audit and tell the SMS side: every appointment write ends here."""
    appointment.full_clean()
    appointment.save(update_fields=update_fields)
    audit_record(
        actor=by,
        action=action,
        obj=appointment,
        subject=appointment.service_user.user,
        service=appointment.service_user.service_id,
        detail=_fields(fields),
    )
    appointment_changed_on_commit(appointment_id=appointment.pk, change=change)
    return appointment


def _lock(appointment: Appointment) -> Appointment:
    return (
        Appointment.objects.select_for_update()
        .select_related("service_user")
        .get(pk=appointment.pk)
    )


@transaction.atomic
def appointment_reschedule(
    *, appointment: Appointment, starts_at: datetime, changed_by: User
) -> Appointment:
    """Move to a new time. The same time again changes nothing and sends nothing."""
    appointment = _lock(appointment)
    _require_arranger(changed_by, appointment.service_user)
    if appointment.status == Appointment.Status.CANCELLED:
        raise ValidationError("A cancelled appointment cannot be moved.", code="cancelled")
    new_start = _aware(starts_at)
    if new_start == appointment.starts_at:
        return appointment
    appointment.starts_at = new_start
    appointment.outcome = ""
    appointment.outcome_recorded_by = None
    appointment.outcome_recorded_at = None
    return _appointment_save(
        appointment,
        by=changed_by,
        action=AuditEvent.Action.CHANGE,
        fields=["starts_at"],
        change="rescheduled",
    )


@transaction.atomic
def appointment_cancel(*, appointment: Appointment, cancelled_by: User) -> Appointment:
    """Cancel. Cancelling twice changes nothing and sends nothing."""
    appointment = _lock(appointment)
    _require_arranger(cancelled_by, appointment.service_user)
    if appointment.status == Appointment.Status.CANCELLED:
        return appointment
    appointment.status = Appointment.Status.CANCELLED
    return _appointment_save(
        appointment,
        by=cancelled_by,
        action=AuditEvent.Action.CHANGE,
        fields=["status"],
        change="cancelled",
        update_fields=["status", "updated_at"],
    )


@transaction.atomic
def appointment_outcome_record(
    *, appointment: Appointment, outcome: str, recorded_by: User
) -> Appointment:
    """What happened. Attended / did not attend only once the appointment has started."""
    appointment = _lock(appointment)
    _require_arranger(recorded_by, appointment.service_user)
    if not outcome:
        raise ValidationError("Choose what happened.", code="outcome_required")
    happened = {Appointment.Outcome.ATTENDED, Appointment.Outcome.DID_NOT_ATTEND}
    if outcome in happened and appointment.starts_at > timezone.now():
        raise ValidationError("This appointment has not happened yet.", code="outcome_in_future")
    appointment.outcome = outcome
    appointment.outcome_recorded_by = recorded_by
    appointment.outcome_recorded_at = timezone.now()
    return _appointment_save(
        appointment,
        by=recorded_by,
        action=AuditEvent.Action.CHANGE,
        fields=["outcome"],
        change="outcome",
    )


# --- Readiness -------------------------------------------------------------------------------


@transaction.atomic
def supporters_readiness_sweep(*, today: date | None = None) -> list[int]:
    """Pause every unpaused supporter who is not ready; return their ids.

    Idempotent: a paused supporter is left alone, so a second run pauses nobody. Unpausing is
    a person's decision (after the check or supervision is done), never automatic.
    """
    today = today or timezone.localdate()
    values = readiness_settings()
    paused: list[int] = []
    for supporter in Supporter.objects.select_for_update().filter(paused=False).order_by("pk"):
        problems = readiness_problems(supporter, today=today, settings_values=values)
        if not problems:
            continue
        supporter.paused = True
        supporter.paused_reason = ("Not ready: " + "; ".join(problems))[:200]
        supporter.full_clean()
        supporter.save(update_fields=["paused", "paused_reason", "updated_at"])
        audit_record(
            actor=None,
            action=AuditEvent.Action.CHANGE,
            obj=supporter,
            subject=supporter.user,
            detail=_fields(["paused", "paused_reason"]),
        )
        paused.append(supporter.pk)
    if paused:
        # TODO(alerts page): tell the supporters' peer support workers in the portal. Until
        # that page exists, a log line with ids only.
        logger.info("Paused supporters who are not ready: %s", paused)
    return paused
