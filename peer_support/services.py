"""Writes for peer support. Each is keyword-only, atomic, validated and audited.

Who may write: peer support workers and coordinators of the person's service (the casework
roles); for appointments, also the supporter with an active match to the person, who helps
them get there. Refusals are ``PermissionDenied`` (not allowed) or ``ValidationError`` (not
possible, with a message staff can act on).
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterable
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.html import strip_tags
from django.utils.module_loading import import_string

from portal import permissions
from portal.audit import audit_record
from portal.models import AuditEvent, ConsentPurpose, Service, User
from portal.queue import enqueue_on_commit
from portal.roles import Role
from portal.selectors import consent_is_active
from portal.services import membership_grant

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
from .readiness import readiness_problems, readiness_settings
from .sanitise import sanitise_text
from .selectors import (
    excluded_supporter_ids,
    supporter_active_match_count,
    supporter_places_taken,
    supporters_for_matching,
)
from .signals import appointment_changed_on_commit
from .wording import when_text

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


def _save_changes(
    obj: ServiceUserRecord | Supporter,
    values: dict,
    *,
    by: User,
    subject: User | None,
    service_id: int | None = None,
) -> list[str]:
    """Set the fields whose value differs, validate, save only those and audit their names
    (never the values). Nothing differs: nothing is written. Returns the changed names."""
    changed = [name for name, value in values.items() if getattr(obj, name) != value]
    if not changed:
        return changed
    for name in changed:
        setattr(obj, name, values[name])
    obj.full_clean()
    obj.save(update_fields=[*changed, "updated_at"])
    audit_record(
        actor=by,
        action=AuditEvent.Action.CHANGE,
        obj=obj,
        subject=subject,
        service=service_id,
        detail=_fields(changed),
    )
    return changed


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


def _match_check(
    record: ServiceUserRecord, supporter: Supporter, *, ignoring_offer: Offer | None = None
) -> tuple[list[ValidationError], matching.Referral, matching.Supporter]:
    """Every reason this person cannot be matched with (or offered to) this supporter now.

    The safety rules are the matching engine's (``matching.hard_constraint_failures``) applied
    to today's rows; consent is checked at this moment, so a withdrawal counts at once. A
    supporter's places are taken by their active matches and by offers still waiting for an
    answer (other than ``ignoring_offer``, the one being accepted).
    """
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
        supporter,
        active_matches=supporter_places_taken(supporter=supporter, ignoring_offer=ignoring_offer),
        today=timezone.localdate(),
    )
    for code in matching.hard_constraint_failures(referral, candidate):
        errors.append(_refusal(f"This supporter {matching.REASON_LABELS[code]}.", code))
    return errors, referral, candidate


def _lock_supporter(supporter: Supporter) -> Supporter:
    return Supporter.objects.select_for_update().prefetch_related("services").get(pk=supporter.pk)


def _lock_pair(
    record: ServiceUserRecord, supporter: Supporter
) -> tuple[ServiceUserRecord, Supporter]:
    """Both rows locked, so two people cannot over-fill a supporter or double-match a person."""
    locked_record = ServiceUserRecord.objects.select_for_update().get(pk=record.pk)
    return locked_record, _lock_supporter(supporter)


def _match_save(record: ServiceUserRecord, supporter: Supporter, *, created_by: User) -> Match:
    match = Match(
        service_user=record, supporter=supporter, started_at=timezone.now(), created_by=created_by
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
def match_create(
    *, service_user: ServiceUserRecord, supporter: Supporter, created_by: User
) -> Match:
    """Match a person with a supporter at once, or refuse with every reason at once.

    The usual way is an offer the supporter accepts (``offer_make``/``offer_accept``); this is
    for staff who have already agreed it with the supporter.
    """
    _require_casework(created_by, service_user.service_id)
    record, locked = _lock_pair(service_user, supporter)
    # An offer still waiting for this person would hold a place (perhaps this supporter's)
    # and fail when answered: withdraw it first. A refusal below rolls this back.
    for offer in Offer.objects.select_for_update().filter(
        service_user=record, status=Offer.Status.PENDING
    ):
        _offer_close(offer, Offer.Status.WITHDRAWN, by=created_by, note="Matched directly")
    errors, _, _ = _match_check(record, locked)
    if errors:
        raise ValidationError(errors)
    return _match_save(record, locked, created_by=created_by)


@transaction.atomic
def match_end(*, match: Match, reason: str, ended_by: User, close_record: bool = False) -> Match:
    """End a match. The person goes back on the waiting list (re-referred) for a new
    supporter, unless ``close_record``: then their record is closed with the same reason."""
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
    if close_record:
        record.status = ServiceUserRecord.Status.CLOSED
        record.closed_reason = f"Support ended: {match.get_end_reason_display().lower()}"
        record.full_clean()
        record.save(update_fields=["status", "closed_reason", "updated_at"])
    elif record.status == ServiceUserRecord.Status.MATCHED:
        record.status = ServiceUserRecord.Status.AWAITING_MATCH
        record.save(update_fields=["status", "updated_at"])
    audit_record(
        actor=ended_by,
        action=AuditEvent.Action.CHANGE,
        obj=match,
        subject=record.user,
        service=record.service_id,
        detail=_fields(["ended_at", "end_reason"] + (["record_closed"] if close_record else [])),
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
    # A new time needs its own answer from the person.
    appointment.confirmed_at = None
    appointment.change_requested_at = None
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


CHANGE_REQUEST_SMS = (
    "One of the people you support has asked to change an appointment. "
    "Please sign in to the portal to see it."
)


def _answerable(appointment: Appointment) -> bool:
    return (
        appointment.status == Appointment.Status.SCHEDULED
        and not appointment.outcome
        and appointment.starts_at > timezone.now()
    )


def _record_answer(
    appointment: Appointment, *, field: str, via: str
) -> tuple[Appointment, str] | None:
    """Lock the appointment and record the person's answer: set ``field`` to now, save it and
    audit it with no actor (``via`` names the text or the link). Returns the locked appointment
    and what the person had said before (its ``reply_state``), or None, changing nothing, once
    it is past, cancelled or done."""
    appointment = _lock(appointment)
    if not _answerable(appointment):
        return None
    before = appointment.reply_state
    setattr(appointment, field, timezone.now())
    appointment.save(update_fields=[field, "updated_at"])
    audit_record(
        actor=None,
        action=AuditEvent.Action.CHANGE,
        obj=appointment,
        subject=appointment.service_user.user,
        service=appointment.service_user.service_id,
        detail=f"fields={field} via={via}",
    )
    return appointment, before


@transaction.atomic
def appointment_confirm(*, appointment: Appointment, via: str) -> bool:
    """The person says they will be there (a "YES" text or the confirm link; ``via`` names
    which, for the audit trail). No signed-in user: the person proved it with their phone or
    the signed link. Returns False, changing nothing, once it is past, cancelled or done."""
    return _record_answer(appointment, field="confirmed_at", via=via) is not None


@transaction.atomic
def appointment_change_request(*, appointment: Appointment, via: str) -> bool:
    """The person asks to change it: staff of the service get an alert, and the supporter a
    text with no detail. Asking twice raises one alert. Returns False when it cannot be
    changed any more (past, cancelled or done)."""
    answered = _record_answer(appointment, field="change_requested_at", via=via)
    if answered is None:
        return False
    appointment, before = answered
    if before == "change":  # asked already: the alert and the text went then
        return True
    record = appointment.service_user
    match = (
        Match.objects.filter(service_user=record, ended_at__isnull=True)
        .select_related("supporter__user")
        .first()
    )
    _alert(
        service_id=record.service_id,
        kind=Alert.Kind.CHANGE_REQUESTED,
        message=f"{record.preferred_name} asked to change the appointment on "
        f"{when_text(appointment.starts_at)}.",
        service_user=record,
        supporter=match.supporter if match else None,
        appointment=appointment,
    )
    if match and match.supporter.user.mobile:
        supporter_user = match.supporter.user
        transaction.on_commit(
            lambda: _send_sms(
                to=str(supporter_user.mobile),
                body=CHANGE_REQUEST_SMS,
                recipient_id=supporter_user.pk,
            )
        )
    return True


@transaction.atomic
def service_user_custody_update(
    *, record: ServiceUserRecord, in_custody: bool, changed_by: User
) -> ServiceUserRecord:
    """Mark a person as in custody or on remand (no reminders are sent while they are), or
    back in the community."""
    record = ServiceUserRecord.objects.select_for_update().get(pk=record.pk)
    _require_casework(changed_by, record.service_id)
    _save_changes(
        record,
        {"in_custody": in_custody},
        by=changed_by,
        subject=record.user,
        service_id=record.service_id,
    )
    return record


def alert_raise(
    *,
    service_id: int,
    kind: str,
    message: str,
    service_user: ServiceUserRecord | None = None,
    appointment: Appointment | None = None,
) -> Alert:
    """For higher apps (notifications: a text that could not be sent). Not audited: no person
    did it, and the alert itself is the record."""
    with transaction.atomic():
        return _alert(
            service_id=service_id,
            kind=kind,
            message=message,
            service_user=service_user,
            appointment=appointment,
        )


# --- Records: requests from the public, accounts, preferences, closing -----------------------


@transaction.atomic
def referral_request_create(
    *,
    service: Service,
    source: str,
    preferred_name: str,
    age_band: str,
    mobile: str = "",
    home_district: str = "",
    needs: list[str] | None = None,
    notes: str = "",
    referrer_name: str = "",
    referrer_relationship: str = "",
    referrer_phone: str = "",
) -> ServiceUserRecord:
    """A request from the public "Ask for a peer supporter" form: nobody is signed in.

    The record starts as "referred"; the service's staff are alerted and contact the person
    (or whoever asked, with their agreement) before anything else happens. Free text is
    sanitised here, on the way in.
    """
    if source not in (ServiceUserRecord.Source.SELF, ServiceUserRecord.Source.SOMEONE_ELSE):
        raise ValidationError("Say who is asking.", code="invalid_source")
    if source == ServiceUserRecord.Source.SOMEONE_ELSE and not referrer_name.strip():
        raise ValidationError({"referrer_name": "Enter your name."})
    if not mobile and not referrer_phone:
        raise ValidationError("Give us a phone number so we can get in touch.", code="no_phone")
    record = ServiceUserRecord(
        service=service,
        source=source,
        preferred_name=preferred_name.strip(),
        mobile=mobile,
        age_band=age_band,
        home_district=home_district,
        needs=list(needs or []),
        referral_notes=sanitise_text(notes),
        referrer_name=referrer_name.strip(),
        referrer_relationship=referrer_relationship.strip(),
        referrer_phone=referrer_phone,
        status=ServiceUserRecord.Status.REFERRED,
    )
    record.full_clean()
    record.save()
    audit_record(
        actor=None,
        action=AuditEvent.Action.CREATE,
        obj=record,
        service=service,
        detail=f"referral source={source}",
    )
    _alert(
        service_id=service.pk,
        kind=Alert.Kind.NEW_REFERRAL,
        message="A new request for a peer supporter came in through the website.",
        service_user=record,
    )
    return record


@transaction.atomic
def service_user_account_create(*, record: ServiceUserRecord, created_by: User) -> User:
    """Give a referred person a sign-in (their mobile number and a text message code), so
    their consent can be recorded and they can see their appointments. Moves a new referral
    onto the waiting list."""
    record = ServiceUserRecord.objects.select_for_update().get(pk=record.pk)
    _require_casework(created_by, record.service_id)
    if record.user_id is not None:
        raise ValidationError("This person already has an account.", code="has_account")
    if not record.mobile:
        raise ValidationError(
            "Add their mobile number first: they sign in with a code sent to it.",
            code="no_mobile",
        )
    if User.objects.filter(mobile=record.mobile).exists():
        raise ValidationError(
            "That mobile number already belongs to another account. Check with the person "
            "whether they share a phone, and ask for a number that is theirs.",
            code="mobile_taken",
        )
    user = User(
        username=f"person-{uuid.uuid4().hex[:12]}",
        first_name=record.preferred_name[:150],
        mobile=record.mobile,
    )
    user.set_unusable_password()
    user.full_clean()
    user.save()
    membership_grant(
        user=user, service=record.service, role=Role.SERVICE_USER, granted_by=created_by
    )
    record.user = user
    if record.status == ServiceUserRecord.Status.REFERRED:
        record.status = ServiceUserRecord.Status.AWAITING_MATCH
    record.save(update_fields=["user", "status", "updated_at"])
    audit_record(
        actor=created_by,
        action=AuditEvent.Action.CHANGE,
        obj=record,
        subject=user,
        service=record.service_id,
        detail=_fields(["user", "status"]),
    )
    return user


PREFERENCE_FIELDS = (
    "preferred_name",
    "preferred_supporter_gender",
    "languages",
    "accessibility_needs",
    "interests",
    "availability",
)


@transaction.atomic
def service_user_preferences_update(
    *,
    record: ServiceUserRecord,
    changed_by: User,
    preferred_name: str,
    preferred_supporter_gender: str = "",
    languages: list[str] | None = None,
    accessibility_needs: list[str] | None = None,
    interests: list[str] | None = None,
    availability: list[list[str]] | None = None,
) -> ServiceUserRecord:
    """The person (or their service's staff) says how they like to be supported."""
    record = ServiceUserRecord.objects.select_for_update().get(pk=record.pk)
    if record.user_id != changed_by.pk:
        _require_casework(changed_by, record.service_id)
    values = {
        "preferred_name": preferred_name.strip(),
        "preferred_supporter_gender": preferred_supporter_gender.strip(),
        "languages": list(languages or []),
        "accessibility_needs": list(accessibility_needs or []),
        "interests": list(interests or []),
        "availability": [list(slot) for slot in availability or []],
    }
    _save_changes(record, values, by=changed_by, subject=record.user, service_id=record.service_id)
    return record


@transaction.atomic
def service_user_record_close(
    *, record: ServiceUserRecord, reason: str, closed_by: User
) -> ServiceUserRecord:
    """Close a record (moved away, declined support...). A match must be ended first; an
    offer still waiting is withdrawn."""
    record = ServiceUserRecord.objects.select_for_update().get(pk=record.pk)
    _require_casework(closed_by, record.service_id)
    if record.status == ServiceUserRecord.Status.CLOSED:
        return record
    if Match.objects.filter(service_user=record, ended_at__isnull=True).exists():
        raise ValidationError("End their match first.", code="has_match")
    for offer in Offer.objects.select_for_update().filter(
        service_user=record, status=Offer.Status.PENDING
    ):
        _offer_close(offer, Offer.Status.WITHDRAWN, by=closed_by, note="Record closed")
    record.status = ServiceUserRecord.Status.CLOSED
    record.closed_reason = reason.strip()
    record.full_clean()
    record.save(update_fields=["status", "closed_reason", "updated_at"])
    audit_record(
        actor=closed_by,
        action=AuditEvent.Action.CHANGE,
        obj=record,
        subject=record.user,
        service=record.service_id,
        detail=_fields(["status", "closed_reason"]),
    )
    return record


# --- Offers ----------------------------------------------------------------------------------


def _offer_create(
    record: ServiceUserRecord, supporter: Supporter, *, offered_by: User | None
) -> Offer:
    """Both rows already locked. Refuses with every reason at once."""
    errors, referral, candidate = _match_check(record, supporter)
    if Offer.objects.filter(service_user=record, status=Offer.Status.PENDING).exists():
        errors.append(
            _refusal("This person already has an offer waiting for an answer.", "offer_pending")
        )
    if errors:
        raise ValidationError(errors)
    suggestion = matching.suggest(referral, candidate, matching.weights_from_settings())
    now = timezone.now()
    offer = Offer(
        service_user=record,
        supporter=supporter,
        offered_at=now,
        respond_by=now + timedelta(hours=settings.PEER_OFFER_DEADLINE_HOURS),
        offered_by=offered_by,
        score=suggestion.score.total,
        explanation=suggestion.explanation[:300],
    )
    offer.full_clean()
    offer.save()
    if record.status == ServiceUserRecord.Status.REFERRED:
        record.status = ServiceUserRecord.Status.AWAITING_MATCH
        record.save(update_fields=["status", "updated_at"])
    audit_record(
        actor=offered_by,
        action=AuditEvent.Action.CREATE,
        obj=offer,
        subject=record.user,
        service=record.service_id,
        detail=_fields(["service_user", "supporter"]),
    )
    enqueue_on_commit("peer_support.tasks.offer_notify_supporter", offer.pk)
    return offer


@transaction.atomic
def offer_make(
    *, service_user: ServiceUserRecord, supporter: Supporter, offered_by: User
) -> Offer:
    """A coordinator offers a person to a supporter, who has ``PEER_OFFER_DEADLINE_HOURS``
    to answer. Refused for a paused, full, unready or excluded supporter, as ``match_create``
    would be; a place is held for the offer until it is answered."""
    _require_casework(offered_by, service_user.service_id)
    record, locked = _lock_pair(service_user, supporter)
    return _offer_create(record, locked, offered_by=offered_by)


def _offer_close(offer: Offer, status: str, *, by: User | None, note: str = "") -> Offer:
    offer.status = status
    offer.responded_at = timezone.now()
    offer.closed_note = note[:200]
    offer.full_clean()
    offer.save(update_fields=["status", "responded_at", "closed_note", "decline_reason"])
    audit_record(
        actor=by,
        action=AuditEvent.Action.CHANGE,
        obj=offer,
        subject=offer.service_user.user,
        service=offer.service_user.service_id,
        detail=f"status={status}",
    )
    return offer


def _offer_lock(offer: Offer) -> Offer:
    # Lock the offer row only: PostgreSQL cannot lock the nullable side of the outer join
    # to the person's (optional) account.
    return (
        Offer.objects.select_for_update(of=("self",))
        .select_related("service_user", "service_user__user", "supporter", "supporter__user")
        .get(pk=offer.pk)
    )


def _require_offered_supporter(user: User, offer: Offer) -> None:
    if offer.supporter.user_id != user.pk:
        raise PermissionDenied("Only the supporter this was offered to can answer it.")


def _offer_alert(offer: Offer, record: ServiceUserRecord, kind: str, message: str) -> Alert:
    return _alert(
        service_id=record.service_id,
        kind=kind,
        message=message,
        service_user=record,
        supporter=offer.supporter,
        offer=offer,
    )


def _offer_move_on(
    offer: Offer,
    record: ServiceUserRecord,
    status: str,
    *,
    by: User | None,
    kind: str,
    message: str,
    note: str = "",
) -> None:
    """An offer that ends without a match: close it, tell the coordinator, and offer the
    person to the next candidate. Declines, timeouts and offers that can no longer go ahead
    all end here."""
    _offer_close(offer, status, by=by, note=note)
    _offer_alert(offer, record, kind, message)
    _offer_next(record)


def _offer_expire(offer: Offer, record: ServiceUserRecord) -> None:
    _offer_move_on(
        offer,
        record,
        Offer.Status.EXPIRED,
        by=None,
        kind=Alert.Kind.OFFER_EXPIRED,
        message=(
            f"{_first_name(offer.supporter)} did not answer the offer to support "
            f"{record.preferred_name} in time."
        ),
    )


def offer_accept(*, offer: Offer, accepted_by: User) -> Match:
    """The supporter says yes: the match is made, through the same rules as ``match_create``.

    If it can no longer go ahead (the deadline passed, the supporter was paused or filled
    up, consent was withdrawn...) the offer is closed, the next candidate is offered and the
    coordinator is told; then ``ValidationError`` says why. That closing is saved even though
    the accept fails.
    """
    problem: ValidationError
    with transaction.atomic():
        offer = _offer_lock(offer)
        _require_offered_supporter(accepted_by, offer)
        if offer.status != Offer.Status.PENDING:
            raise ValidationError("This offer has already been answered.", code="not_pending")
        record, supporter = _lock_pair(offer.service_user, offer.supporter)
        name = record.preferred_name
        if offer.respond_by <= timezone.now():
            _offer_expire(offer, record)
            problem = ValidationError(
                "Sorry, the time to answer this offer has passed.", code="expired"
            )
        else:
            errors, _, _ = _match_check(record, supporter, ignoring_offer=offer)
            if not errors:
                match = _match_save(record, supporter, created_by=accepted_by)
                offer.match = match
                offer.save(update_fields=["match"])
                _offer_close(offer, Offer.Status.ACCEPTED, by=accepted_by)
                _offer_alert(
                    offer,
                    record,
                    Alert.Kind.OFFER_ACCEPTED,
                    f"{_first_name(supporter)} accepted the offer to support {name}.",
                )
                return match
            reasons = "; ".join(e.messages[0] for e in errors)
            _offer_move_on(
                offer,
                record,
                Offer.Status.WITHDRAWN,
                by=accepted_by,
                kind=Alert.Kind.OFFER_DECLINED,
                message=f"The offer to support {name} could not go ahead: {reasons}",
                note=f"Could not go ahead: {reasons}",
            )
            problem = ValidationError(
                "Sorry, this offer can no longer go ahead. The coordinator has been told.",
                code="no_longer_possible",
            )
    raise problem


@transaction.atomic
def offer_decline(*, offer: Offer, declined_by: User, reason: str) -> Offer:
    """The supporter says no. The next candidate is offered at once, and the coordinator told."""
    offer = _offer_lock(offer)
    _require_offered_supporter(declined_by, offer)
    if offer.status != Offer.Status.PENDING:
        raise ValidationError("This offer has already been answered.", code="not_pending")
    if reason not in Offer.DeclineReason.values:
        raise ValidationError({"decline_reason": "Choose a reason."})
    offer.decline_reason = reason
    record = ServiceUserRecord.objects.select_for_update().get(pk=offer.service_user_id)
    _offer_move_on(
        offer,
        record,
        Offer.Status.DECLINED,
        by=declined_by,
        kind=Alert.Kind.OFFER_DECLINED,
        message=(
            f"{_first_name(offer.supporter)} declined the offer to support "
            f"{record.preferred_name} ({offer.get_decline_reason_display().lower()})."
        ),
    )
    return offer


@transaction.atomic
def offer_withdraw(*, offer: Offer, withdrawn_by: User, note: str = "") -> Offer:
    """A coordinator takes back an offer still waiting for an answer (no automatic next)."""
    offer = _offer_lock(offer)
    _require_casework(withdrawn_by, offer.service_user.service_id)
    if offer.status != Offer.Status.PENDING:
        raise ValidationError("This offer has already been answered.", code="not_pending")
    return _offer_close(offer, Offer.Status.WITHDRAWN, by=withdrawn_by, note=note or "Withdrawn")


def offers_expire_sweep(*, now: datetime | None = None) -> list[int]:
    """Scheduled: every offer past its deadline expires, its person is offered to the next
    candidate, and the coordinator is told. Idempotent: an expired offer is not pending."""
    now = now or timezone.now()
    expired: list[int] = []
    due = Offer.objects.filter(status=Offer.Status.PENDING, respond_by__lte=now).order_by("pk")
    for offer_id in due.values_list("pk", flat=True):
        with transaction.atomic():
            offer = _offer_lock(Offer(pk=offer_id))
            if offer.status != Offer.Status.PENDING or offer.respond_by > now:
                continue  # answered while we were getting here
            record = ServiceUserRecord.objects.select_for_update().get(pk=offer.service_user_id)
            _offer_expire(offer, record)
            expired.append(offer.pk)
    if expired:
        logger.info("Offers expired: %s", expired)
    return expired


def _offer_next(record: ServiceUserRecord) -> Offer | None:
    """Offer the person to the best candidate not yet asked since they were last (re)placed
    on the waiting list. Nobody left, or the person cannot be offered now: the coordinator
    is alerted instead. Runs inside the caller's transaction."""
    last_end = (
        Match.objects.filter(service_user=record, ended_at__isnull=False)
        .order_by("-ended_at")
        .values_list("ended_at", flat=True)
        .first()
    )
    asked = Offer.objects.filter(service_user=record)
    if last_end is not None:
        asked = asked.filter(offered_at__gte=last_end)
    already_asked = set(asked.values_list("supporter_id", flat=True))
    referral = referral_from_record(
        record, excluded_supporter_ids=excluded_supporter_ids(record=record)
    )
    candidates = [
        s
        for s in supporters_for_matching(service_ids=[record.service_id])
        if s.id not in already_asked
    ]
    ranked = matching.rank_candidates(
        referral, candidates, weights=matching.weights_from_settings(), limit=None
    )
    problems = ""
    for suggestion in ranked:
        supporter = _lock_supporter(Supporter(pk=suggestion.supporter_id))
        try:
            with transaction.atomic():
                return _offer_create(record, supporter, offered_by=None)
        except ValidationError as error:
            problems = "; ".join(error.messages)
            if {e.code for e in error.error_list} & RECORD_LEVEL_REFUSALS:
                break  # no other supporter would do better
    message = f"Nobody else can be offered to support {record.preferred_name} now" + (
        f": {problems}" if problems else ". Every suitable supporter has been asked or is full."
    )
    _alert(
        service_id=record.service_id,
        kind=Alert.Kind.NO_SUPPORTER,
        message=message[:300],
        service_user=record,
    )
    return None


# Refusals about the person, not the supporter: trying the next supporter cannot help.
RECORD_LEVEL_REFUSALS = frozenset(
    {"record_closed", "no_account", "no_consent", "already_matched", "offer_pending"}
)


def offers_make_from_batch(
    *, service: Service, pairs: dict[int, int], offered_by: User
) -> tuple[list[Offer], dict[int, list[str]]]:
    """Send the offers a batch proposal suggested (person id -> supporter id). Each is
    checked again as it is made; those refused are returned with their reasons."""
    _require_casework(offered_by, service.pk)
    made: list[Offer] = []
    refused: dict[int, list[str]] = {}
    records = {r.pk: r for r in ServiceUserRecord.objects.filter(service=service, pk__in=pairs)}
    supporters = {
        s.pk: s for s in Supporter.objects.filter(pk__in=pairs.values(), services=service)
    }
    for record_id, supporter_id in sorted(pairs.items()):
        record, supporter = records.get(record_id), supporters.get(supporter_id)
        if record is None or supporter is None:
            refused[record_id] = ["This person or supporter is not in your service."]
            continue
        try:
            made.append(
                offer_make(service_user=record, supporter=supporter, offered_by=offered_by)
            )
        except ValidationError as error:
            refused[record_id] = error.messages
    return made, refused


def offer_notify_supporter(*, offer: Offer) -> bool:
    """Tell the supporter by text that there is an offer to answer, at most once, with no
    detail about the person. Called by the task queued when the offer is made."""
    claimed = Offer.objects.filter(
        pk=offer.pk, supporter_notified_at__isnull=True, status=Offer.Status.PENDING
    ).update(supporter_notified_at=timezone.now())
    if not claimed:
        return False
    user = User.objects.get(pk=offer.supporter.user_id)
    if not user.mobile:
        return False
    _send_sms(
        to=str(user.mobile),
        body=(
            "You have a new request to answer in the peer support portal. "
            f"Please sign in and answer by {when_text(offer.respond_by)}."
        ),
        recipient_id=user.pk,
    )
    return True


# --- Alerts ----------------------------------------------------------------------------------

URGENT_ALERT_SMS = (
    "There is an urgent alert for your team in the peer support portal. Please sign in to read it."
)


def _alert(
    *,
    service_id: int,
    kind: str,
    message: str,
    service_user: ServiceUserRecord | None = None,
    supporter: Supporter | None = None,
    contact: Contact | None = None,
    offer: Offer | None = None,
    appointment: Appointment | None = None,
) -> Alert:
    alert = Alert(
        service_id=service_id,
        kind=kind,
        message=message[:300],
        service_user=service_user,
        supporter=supporter,
        contact=contact,
        offer=offer,
        appointment=appointment,
    )
    alert.full_clean()
    alert.save()
    if alert.is_urgent:
        enqueue_on_commit("peer_support.tasks.alert_notify_by_sms", alert.pk)
    return alert


@transaction.atomic
def alert_resolve(*, alert: Alert, resolved_by: User) -> Alert:
    alert = Alert.objects.select_for_update().get(pk=alert.pk)
    _require_casework(resolved_by, alert.service_id)
    if alert.resolved_at is not None:
        return alert
    alert.resolved_at = timezone.now()
    alert.resolved_by = resolved_by
    alert.save(update_fields=["resolved_at", "resolved_by"])
    audit_record(
        actor=resolved_by,
        action=AuditEvent.Action.CHANGE,
        obj=alert,
        service=alert.service_id,
        detail="fields=resolved_at",
    )
    return alert


def alert_notify_by_sms(*, alert: Alert) -> int:
    """Text the service's peer support workers that an urgent alert is waiting: no detail,
    nothing about the person or what happened. At most once per alert (the claim below), so
    a retried task sends nothing twice. Returns how many texts were sent."""
    claimed = Alert.objects.filter(pk=alert.pk, notified_at__isnull=True).update(
        notified_at=timezone.now()
    )
    if not claimed:
        return 0
    recipients = (
        User.objects.filter(
            memberships__service_id=alert.service_id,
            memberships__role=Role.PEER_SUPPORT_WORKER,
            is_active=True,
        )
        .exclude(mobile="")
        .distinct()
        .order_by("pk")
    )
    sent = 0
    for user in recipients:
        _send_sms(to=str(user.mobile), body=URGENT_ALERT_SMS, recipient_id=user.pk)
        sent += 1
    return sent


def _send_sms(*, to: str, body: str, recipient_id: int) -> None:
    """Through the hook in settings (``notifications.sms.send_sms``): peer_support never
    imports the notifications app."""
    import_string(settings.PORTAL_SMS_SENDER)(to=to, body=body, recipient_id=recipient_id)


def _first_name(supporter: Supporter) -> str:
    return supporter.user.first_name or f"Supporter {supporter.pk}"


# --- Contact log -----------------------------------------------------------------------------


@transaction.atomic
def contact_log_create(
    *,
    service_user: ServiceUserRecord,
    logged_by: User,
    occurred_at: datetime,
    method: str,
    duration_minutes: int,
    summary: str,
    next_step: str = "",
    safeguarding_concern: bool = False,
) -> Contact:
    """The person's current supporter records a contact. Notes are sanitised here, on the
    way in. A safeguarding concern alerts the service's peer support workers at once: in the
    portal, and by a text with no detail."""
    record = ServiceUserRecord.objects.select_for_update().get(pk=service_user.pk)
    match = (
        Match.objects.select_related("supporter", "supporter__user")
        .filter(service_user=record, supporter__user=logged_by, ended_at__isnull=True)
        .first()
    )
    if match is None:
        raise PermissionDenied("Only this person's current supporter can log a contact.")
    occurred_at = _aware(occurred_at)
    if occurred_at > timezone.now() + timedelta(minutes=5):
        raise ValidationError({"occurred_at": "The contact must have happened already."})
    contact = Contact(
        match=match,
        service_user=record,
        supporter=match.supporter,
        occurred_at=occurred_at,
        method=method,
        duration_minutes=duration_minutes,
        summary=sanitise_text(summary),
        next_step=sanitise_text(next_step),
        safeguarding_concern=safeguarding_concern,
        created_by=logged_by,
    )
    if not strip_tags(contact.summary).strip():  # "<p></p>" says nothing either
        raise ValidationError({"summary": "Say what you did."})
    contact.full_clean()
    contact.save()
    audit_record(
        actor=logged_by,
        action=AuditEvent.Action.CREATE,
        obj=contact,
        subject=record.user,
        service=record.service_id,
        detail=_fields(
            ["occurred_at", "method", "duration_minutes", "summary", "next_step"]
            + (["safeguarding_concern"] if safeguarding_concern else [])
        ),
    )
    if safeguarding_concern:
        _alert(
            service_id=record.service_id,
            kind=Alert.Kind.SAFEGUARDING,
            message=(
                f"{_first_name(match.supporter)} raised a safeguarding concern about "
                f"{record.preferred_name}. Read the contact note and act today."
            )[:300],
            service_user=record,
            supporter=match.supporter,
            contact=contact,
        )
    return contact


# --- Supporters ------------------------------------------------------------------------------


def _is_supporter_staff(user: User, supporter: Supporter) -> bool:
    """Casework staff of at least one of the supporter's services."""
    staff_services = permissions.service_ids_where(user, permissions.CASEWORK_ROLES)
    return bool(staff_services & {s.pk for s in supporter.services.all()})


def _require_supporter_staff(user: User, supporter: Supporter) -> None:
    if not _is_supporter_staff(user, supporter):
        raise PermissionDenied("Only staff of the supporter's service.")


def _require_supporter_or_staff(user: User, supporter: Supporter) -> None:
    if supporter.user_id != user.pk and not _is_supporter_staff(user, supporter):
        raise PermissionDenied("Only the supporter or their service's staff.")


@transaction.atomic
def supporter_availability_update(
    *,
    supporter: Supporter,
    changed_by: User,
    availability: list[list[str]],
    capacity: int,
    paused: bool,
    paused_reason: str = "",
) -> Supporter:
    """A supporter sets when they are free, how many people they can support, and whether
    they are taking a break from new people. They cannot un-pause themselves while their
    checks, training or supervision are not up to date."""
    supporter = _lock_supporter(supporter)
    _require_supporter_or_staff(changed_by, supporter)
    active = supporter_active_match_count(supporter=supporter)
    if capacity < active:
        raise ValidationError(
            {
                "capacity": f"You support {active} {'person' if active == 1 else 'people'} now, "
                "so this cannot be lower than that."
            }
        )
    if supporter.paused and not paused:
        problems = readiness_problems(
            supporter, today=timezone.localdate(), settings_values=readiness_settings()
        )
        if problems:
            raise ValidationError(
                {
                    "paused": "You cannot take new people until this is sorted: "
                    + "; ".join(problems)
                }
            )
    # Staying paused without a new reason keeps the recorded one (say the sweep's "Not ready:
    # ..."), so editing times does not hide from staff why the supporter was paused.
    kept_reason = supporter.paused_reason if supporter.paused else ""
    values = {
        "availability": [list(slot) for slot in availability],
        "capacity": capacity,
        "paused": paused,
        "paused_reason": (paused_reason.strip() or kept_reason or "Taking a break")
        if paused
        else "",
    }
    _save_changes(supporter, values, by=changed_by, subject=supporter.user)
    return supporter


@transaction.atomic
def supporter_readiness_record(
    *,
    supporter: Supporter,
    recorded_by: User,
    dbs_checked_on: date | None,
    dbs_level: str,
    training_modules_completed: list[str],
    last_supervision_on: date | None,
    risk_assessment_recorded_on: date | None,
    cleared_for_under_18: bool,
) -> Supporter:
    """Staff record a supporter's checks, training and supervision. A disclosure on a DBS
    check does not exclude anyone by itself: the risk assessment is what staff record."""
    supporter = _lock_supporter(supporter)
    _require_supporter_staff(recorded_by, supporter)
    today = timezone.localdate()
    for name, value in (
        ("dbs_checked_on", dbs_checked_on),
        ("last_supervision_on", last_supervision_on),
        ("risk_assessment_recorded_on", risk_assessment_recorded_on),
    ):
        if value is not None and value > today:
            raise ValidationError({name: "This date cannot be in the future."})
    values = {
        "dbs_checked_on": dbs_checked_on,
        "dbs_level": dbs_level,
        "training_modules_completed": list(training_modules_completed),
        "last_supervision_on": last_supervision_on,
        "risk_assessment_recorded_on": risk_assessment_recorded_on,
        "cleared_for_under_18": cleared_for_under_18,
    }
    _save_changes(supporter, values, by=recorded_by, subject=supporter.user)
    return supporter


@transaction.atomic
def supporter_unpause(*, supporter: Supporter, unpaused_by: User) -> Supporter:
    """Staff let a paused supporter take new people again, only once they are ready."""
    supporter = _lock_supporter(supporter)
    _require_supporter_staff(unpaused_by, supporter)
    if not supporter.paused:
        return supporter
    problems = readiness_problems(
        supporter, today=timezone.localdate(), settings_values=readiness_settings()
    )
    if problems:
        raise ValidationError("Not ready yet: " + "; ".join(problems), code="not_ready")
    supporter.paused = False
    supporter.paused_reason = ""
    supporter.full_clean()
    supporter.save(update_fields=["paused", "paused_reason", "updated_at"])
    audit_record(
        actor=unpaused_by,
        action=AuditEvent.Action.CHANGE,
        obj=supporter,
        subject=supporter.user,
        detail=_fields(["paused", "paused_reason"]),
    )
    return supporter


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
    unpaused = Supporter.objects.select_for_update().select_related("user").filter(paused=False)
    for supporter in unpaused.order_by("pk"):
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
        # Their peer support workers and coordinators are told in the portal's alerts.
        for service_id in supporter.services.values_list("pk", flat=True):
            _alert(
                service_id=service_id,
                kind=Alert.Kind.SUPPORTER_NOT_READY,
                message=(
                    f"{_first_name(supporter)} has been paused and will not be offered new "
                    f"people. {supporter.paused_reason}."
                )[:300],
                supporter=supporter,
            )
        paused.append(supporter.pk)
    if paused:
        logger.info("Paused supporters who are not ready: %s", paused)
    return paused
