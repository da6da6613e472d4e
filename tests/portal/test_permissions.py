"""The permission matrix: every role against every person-level URL and action.

Denied answers are 404 (the same as "no such thing") and carry none of the person's data.
A separate test fails when one of our URL patterns is missing from the matrix.
"""

from datetime import timedelta

import pytest
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils import timezone

from notifications.links import appointment_token
from notifications.models import InboundMessage, OutboundMessage
from portal.models import Consent
from portal.roles import Role
from tests.factories import (
    AlertFactory,
    AppointmentFactory,
    MatchFactory,
    OfferFactory,
    ServiceUserRecordFactory,
    SupporterFactory,
    UserFactory,
)
from tests.portal.conftest import make_member

pytestmark = pytest.mark.django_db

ALL_ROLES = list(Role)
CASEWORK = {Role.PEER_SUPPORT_WORKER, Role.COORDINATOR, Role.ADMINISTRATOR}

# name: (method, path builder, roles allowed in the person's own service, allowed status)
MATRIX = {
    "dashboard": ("get", lambda ctx: "/dashboard/", set(ALL_ROLES), 200),
    "my_consents": ("get", lambda ctx: "/my/consents/", {Role.SERVICE_USER}, 200),
    "my_consent_give": ("post", lambda ctx: "/my/consents/give/", {Role.SERVICE_USER}, 302),
    "my_consent_withdraw": (
        "post",
        lambda ctx: f"/my/consents/{ctx['own_consent'].pk}/withdraw/",
        {Role.SERVICE_USER},
        302,
    ),
    "staff_people": ("get", lambda ctx: "/staff/people/", CASEWORK, 200),
    "staff_person_consents": (
        "get",
        lambda ctx: f"/staff/people/{ctx['person'].pk}/consents/",
        CASEWORK,
        200,
    ),
    "staff_audit": ("get", lambda ctx: "/staff/audit/", CASEWORK, 200),
    "sms_outbox": ("get", lambda ctx: "/notifications/outbox/", CASEWORK, 200),
}

# Peer support. "Allowed" means: in the person's own service, and for supporter pages, as the
# person's current supporter (the requester is made their supporter when they are a
# volunteer). Staff pages are for casework roles only; the statuses are what a good request
# gets (a form shown again with its errors is 200). Anyone else gets 404.
PEER_CASEWORK = {Role.PEER_SUPPORT_WORKER, Role.COORDINATOR}
VOLUNTEER = {Role.PEER_VOLUNTEER}
EVERYONE = set(ALL_ROLES)
PEER_MATRIX = {
    "request": ("get", lambda ctx: "/ask-for-a-peer-supporter/", EVERYONE, 200),
    "request_sent": ("get", lambda ctx: "/ask-for-a-peer-supporter/sent/", EVERYONE, 200),
    "my_appointments": ("get", lambda ctx: "/my/appointments/", {Role.SERVICE_USER}, 200),
    "my_supporter": ("get", lambda ctx: "/my/supporter/", {Role.SERVICE_USER}, 200),
    "my_preferences": ("get", lambda ctx: "/my/preferences/", {Role.SERVICE_USER}, 200),
    "supporter_people": ("get", lambda ctx: "/supporter/", VOLUNTEER, 200),
    "supporter_person": (
        "get",
        lambda ctx: f"/supporter/people/{ctx['record'].pk}/",
        VOLUNTEER,
        200,
    ),
    "supporter_person_phone": (
        "get",
        lambda ctx: f"/supporter/people/{ctx['record'].pk}/phone/",
        VOLUNTEER,
        200,
    ),
    "supporter_contact_new": (
        "post",
        lambda ctx: f"/supporter/people/{ctx['record'].pk}/contacts/new/",
        VOLUNTEER,
        200,
    ),
    "supporter_appointment_new": (
        "post",
        lambda ctx: f"/supporter/people/{ctx['record'].pk}/appointments/new/",
        VOLUNTEER,
        200,
    ),
    "supporter_appointments": ("get", lambda ctx: "/supporter/appointments/", VOLUNTEER, 200),
    "supporter_appointment_outcome": (
        "post",
        lambda ctx: f"/supporter/appointments/{ctx['appointment'].pk}/outcome/",
        VOLUNTEER,
        200,
    ),
    "supporter_availability": ("get", lambda ctx: "/supporter/availability/", VOLUNTEER, 200),
    "supporter_offers": ("get", lambda ctx: "/supporter/offers/", VOLUNTEER, 200),
    "supporter_offer_accept": (
        "post",
        lambda ctx: f"/supporter/offers/{ctx['offer'].pk}/accept/",
        VOLUNTEER,
        302,
    ),
    "supporter_offer_decline": (
        "post",
        lambda ctx: f"/supporter/offers/{ctx['offer'].pk}/decline/",
        VOLUNTEER,
        200,
    ),
    "staff_referrals": ("get", lambda ctx: "/staff/referrals/", PEER_CASEWORK, 200),
    "staff_referral_new": ("get", lambda ctx: "/staff/referrals/new/", PEER_CASEWORK, 200),
    "staff_referral": (
        "get",
        lambda ctx: f"/staff/referrals/{ctx['record'].pk}/",
        PEER_CASEWORK,
        200,
    ),
    "staff_referral_account": (
        "post",
        lambda ctx: f"/staff/referrals/{ctx['record'].pk}/account/",
        PEER_CASEWORK,
        200,
    ),
    "staff_referral_offer": (
        "post",
        lambda ctx: f"/staff/referrals/{ctx['record'].pk}/offer/",
        PEER_CASEWORK,
        200,
    ),
    "staff_exclusion_new": (
        "post",
        lambda ctx: f"/staff/referrals/{ctx['record'].pk}/exclusions/new/",
        PEER_CASEWORK,
        200,
    ),
    "staff_appointment_new": (
        "get",
        lambda ctx: f"/staff/referrals/{ctx['record'].pk}/appointments/new/",
        PEER_CASEWORK,
        200,
    ),
    "staff_referral_close": (
        "post",
        lambda ctx: f"/staff/referrals/{ctx['record'].pk}/close/",
        PEER_CASEWORK,
        200,
    ),
    "staff_match_end": (
        "post",
        lambda ctx: f"/staff/matches/{ctx['match'].pk}/end/",
        PEER_CASEWORK,
        200,
    ),
    "staff_offers": ("get", lambda ctx: "/staff/offers/", PEER_CASEWORK, 200),
    "staff_offer_withdraw": (
        "post",
        lambda ctx: f"/staff/offers/{ctx['offer'].pk}/withdraw/",
        PEER_CASEWORK,
        302,
    ),
    "staff_appointment_outcome": (
        "post",
        lambda ctx: f"/staff/appointments/{ctx['appointment'].pk}/outcome/",
        PEER_CASEWORK,
        200,
    ),
    "staff_alerts": ("get", lambda ctx: "/staff/alerts/", PEER_CASEWORK, 200),
    "staff_alert_resolve": (
        "post",
        lambda ctx: f"/staff/alerts/{ctx['alert'].pk}/resolve/",
        PEER_CASEWORK,
        302,
    ),
    "staff_supporters": ("get", lambda ctx: "/staff/supporters/", PEER_CASEWORK, 200),
    "staff_supporter": (
        "get",
        lambda ctx: f"/staff/supporters/{ctx['supporter'].pk}/",
        PEER_CASEWORK,
        200,
    ),
    "staff_supporter_unpause": (
        "post",
        lambda ctx: f"/staff/supporters/{ctx['supporter'].pk}/unpause/",
        PEER_CASEWORK,
        302,
    ),
    "staff_waiting_list": ("get", lambda ctx: "/staff/waiting-list/", PEER_CASEWORK, 200),
    "staff_record_custody": (
        "post",
        lambda ctx: f"/staff/referrals/{ctx['record'].pk}/custody/",
        PEER_CASEWORK,
        200,  # the form asks again: the matrix posts no answer
    ),
}
MATRIX.update(PEER_MATRIX)

# Text messages. The outbox and replies are for casework staff, administrators and the
# person's supporter; the wording for administrators only. The confirm link needs no sign-in;
# Twilio's webhooks refuse everyone without Twilio's signature.
SMS_READERS = PEER_CASEWORK | VOLUNTEER | {Role.ADMINISTRATOR}
SMS_MATRIX = {
    "sms_messages": ("get", lambda ctx: "/notifications/messages/", SMS_READERS, 200),
    "sms_inbox": ("get", lambda ctx: "/notifications/inbox/", SMS_READERS, 200),
    "sms_inbox_message": (
        "get",
        lambda ctx: f"/notifications/inbox/{ctx['inbound'].pk}/",
        SMS_READERS,
        200,
    ),
    "sms_appointment_reminders": (
        "get",
        lambda ctx: f"/notifications/appointments/{ctx['upcoming'].pk}/reminders/",
        SMS_READERS,
        200,
    ),
    "sms_templates": ("get", lambda ctx: "/notifications/templates/", {Role.ADMINISTRATOR}, 200),
    "sms_template_edit": (
        "get",
        lambda ctx: "/notifications/templates/reminder/standard/",
        {Role.ADMINISTRATOR},
        200,
    ),
    "appointment_link": (
        "get",
        lambda ctx: f"/a/{appointment_token(ctx['upcoming'])}/",
        EVERYONE,
        200,
    ),
    "twilio_status": ("post", lambda ctx: "/notifications/twilio/status/", EVERYONE, 403),
    "twilio_inbound": ("post", lambda ctx: "/notifications/twilio/inbound/", EVERYONE, 403),
}
MATRIX.update(SMS_MATRIX)
# Whether a page shows person-level data, for the test that checks denials leak nothing.
PUBLIC_NAMES = {"request", "request_sent", "appointment_link", "twilio_status", "twilio_inbound"}
OUR_APPS = ("portal.", "notifications.", "peer_support.", "content.")
NOT_PERSON_LEVEL = {"healthz", "search"}  # public: health check and site search


@pytest.fixture
def ctx(service, person_with_consents):
    return {"person": person_with_consents}


def peer_world(ctx, service, requester, role) -> None:
    """The person's record, matched to a supporter (the requester, when a volunteer), with a
    past appointment, a pending offer of another person to that supporter, and an alert."""
    supporter = SupporterFactory(
        user=requester if role == Role.PEER_VOLUNTEER else UserFactory(), services=[service]
    )
    ctx["supporter"] = supporter
    ctx["record"] = ServiceUserRecordFactory(
        service=service, user=ctx["person"], preferred_name="Avery", status="matched"
    )
    ctx["match"] = MatchFactory(service_user=ctx["record"], supporter=supporter)
    ctx["appointment"] = AppointmentFactory(
        service_user=ctx["record"], starts_at=timezone.now() - timedelta(days=1)
    )
    ctx["offer"] = OfferFactory(
        service_user=ServiceUserRecordFactory(service=service, preferred_name="Avery"),
        supporter=supporter,
    )
    ctx["alert"] = AlertFactory(service=service, message="A request about Avery")
    # Text messages: an upcoming appointment with a reminder sent, and a reply to answer.
    ctx["upcoming"] = AppointmentFactory(
        service_user=ctx["record"], starts_at=timezone.now() + timedelta(days=3)
    )
    OutboundMessage.objects.create(
        kind=OutboundMessage.Kind.REMINDER,
        service=service,
        service_user=ctx["record"],
        appointment=ctx["upcoming"],
        slot="3d",
        appointment_starts_at=ctx["upcoming"].starts_at,
        send_at=timezone.now() - timedelta(hours=1),
        status=OutboundMessage.Status.SENT,
        sent_at=timezone.now() - timedelta(hours=1),
        to=str(ctx["record"].mobile),
        body="Reminder: an appointment soon.",
    )
    ctx["inbound"] = InboundMessage.objects.create(
        message_sid=f"SM-world-{ctx['record'].pk}",
        from_number=str(ctx["record"].mobile),
        body="Can I bring a friend?",
        status=InboundMessage.Status.NEEDS_ANSWER,
        service=service,
        service_user=ctx["record"],
    )


def _request(client, method, path, data=None):
    return getattr(client, method)(path, data or {})


@pytest.mark.parametrize("name", sorted(MATRIX))
@pytest.mark.parametrize("role", ALL_ROLES, ids=lambda role: role.value)
def test_role_against_url_in_own_service(client, service, ctx, name, role):
    method, path_for, allowed, ok_status = MATRIX[name]
    user = make_member(role, service, first_name="Requester")
    if role == Role.SERVICE_USER:
        # A service user's own consent; the person in ctx is somebody else.
        ctx["own_consent"] = Consent.objects.create(
            subject=user,
            service=service,
            purpose="peer_support",
            wording=ctx["person"].consents.first().wording,
            given_at=ctx["person"].consents.first().given_at,
            given_method="online",
            recorded_by=user,
        )
    else:
        ctx["own_consent"] = ctx["person"].consents.first()
    peer_world(ctx, service, user, role)
    client.force_login(user)
    response = _request(client, method, path_for(ctx), {"purpose": "case_study"})
    if role in allowed:
        assert response.status_code == ok_status, response.content[:500]
    else:
        assert response.status_code == 404
        assert b"Avery" not in response.content


PERSON_LEVEL_PEER = sorted(
    name for name, (_, _, allowed, _) in PEER_MATRIX.items() if allowed != EVERYONE
)


@pytest.mark.parametrize("name", PERSON_LEVEL_PEER)
@pytest.mark.parametrize(
    "role",
    [Role.PEER_SUPPORT_WORKER, Role.COORDINATOR, Role.PEER_VOLUNTEER],
    ids=lambda role: role.value,
)
def test_peer_support_staff_and_volunteers_of_another_service_get_404(
    client, service, other_service, ctx, name, role
):
    method, path_for, _, _ = MATRIX[name]
    outsider = make_member(role, other_service)
    if role == Role.PEER_VOLUNTEER:
        # A supporter in their own right, just not this person's.
        SupporterFactory(user=outsider, services=[other_service])
    peer_world(ctx, service, UserFactory(), None)
    client.force_login(outsider)
    response = _request(client, method, path_for(ctx), {"purpose": "case_study"})
    if name in {
        "supporter_people",
        "supporter_appointments",
        "supporter_availability",
        "supporter_offers",
        "staff_referrals",
        "staff_referral_new",
        "staff_offers",
        "staff_alerts",
        "staff_supporters",
        "staff_waiting_list",
    }:
        # Lists and their own pages open for them, with none of this service's people.
        assert response.status_code in {200, 404}
    else:
        assert response.status_code == 404
    assert b"Avery" not in response.content


SMS_LISTS = {"sms_messages", "sms_inbox"}


@pytest.mark.parametrize("name", sorted(set(SMS_MATRIX) - PUBLIC_NAMES))
@pytest.mark.parametrize(
    "role",
    [Role.PEER_SUPPORT_WORKER, Role.COORDINATOR, Role.PEER_VOLUNTEER],
    ids=lambda role: role.value,
)
def test_text_message_pages_show_nothing_to_another_service(
    client, service, other_service, ctx, name, role
):
    method, path_for, _, _ = MATRIX[name]
    outsider = make_member(role, other_service)
    if role == Role.PEER_VOLUNTEER:
        SupporterFactory(user=outsider, services=[other_service])
    peer_world(ctx, service, UserFactory(), None)
    client.force_login(outsider)
    response = _request(client, method, path_for(ctx))
    # The lists open for them, with none of this service's people; everything else is 404.
    assert response.status_code == (200 if name in SMS_LISTS else 404)
    assert b"Avery" not in response.content


@pytest.mark.parametrize("name", ["staff_person_consents", "staff_people"])
@pytest.mark.parametrize(
    "role", [Role.PEER_SUPPORT_WORKER, Role.COORDINATOR], ids=lambda role: role.value
)
def test_staff_of_another_service_see_nothing(client, other_service, ctx, name, role):
    method, path_for, _, _ = MATRIX[name]
    client.force_login(make_member(role, other_service))
    response = _request(client, method, path_for(ctx))
    if name == "staff_people":
        assert response.status_code == 200
    else:
        assert response.status_code == 404
    assert b"Avery" not in response.content


def test_service_user_cannot_withdraw_someone_elses_consent(client, service, ctx):
    intruder = make_member(Role.SERVICE_USER, service)
    client.force_login(intruder)
    someone_elses = ctx["person"].consents.first()
    response = client.post(f"/my/consents/{someone_elses.pk}/withdraw/")
    assert response.status_code == 404
    someone_elses.refresh_from_db()
    assert someone_elses.withdrawn_at is None


@pytest.mark.parametrize("name", sorted(set(MATRIX) - PUBLIC_NAMES))
def test_anonymous_people_are_sent_to_sign_in(client, service, ctx, name):
    method, path_for, _, _ = MATRIX[name]
    ctx["own_consent"] = ctx["person"].consents.first()
    peer_world(ctx, service, UserFactory(), None)
    response = _request(client, method, path_for(ctx))
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def _our_url_names(patterns, prefix=""):
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            yield from _our_url_names(pattern.url_patterns, prefix)
        elif isinstance(pattern, URLPattern):
            callback = getattr(pattern.callback, "view_class", pattern.callback)
            if callback.__module__.startswith(OUR_APPS):
                yield pattern.name


def test_every_url_of_ours_is_in_the_permission_matrix():
    names = set(_our_url_names(get_resolver().url_patterns))
    missing = names - set(MATRIX) - NOT_PERSON_LEVEL
    assert not missing, f"add these URLs to the permission matrix: {sorted(missing)}"
    assert set(MATRIX) <= names, "the matrix names a URL that no longer exists"
