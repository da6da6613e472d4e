"""The permission matrix: every role against every person-level URL and action.

Denied answers are 404 (the same as "no such thing") and carry none of the person's data.
A separate test fails when one of our URL patterns is missing from the matrix.
"""

import pytest
from django.urls import URLPattern, URLResolver, get_resolver

from portal.models import Consent
from portal.roles import Role
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
OUR_APPS = ("portal.", "notifications.", "peer_support.", "content.")
NOT_PERSON_LEVEL = {"healthz", "search"}  # public: health check and site search


@pytest.fixture
def ctx(service, person_with_consents):
    return {"person": person_with_consents}


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
    client.force_login(user)
    response = _request(client, method, path_for(ctx), {"purpose": "case_study"})
    if role in allowed:
        assert response.status_code == ok_status, response.content[:500]
    else:
        assert response.status_code == 404
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


@pytest.mark.parametrize("name", sorted(MATRIX))
def test_anonymous_people_are_sent_to_sign_in(client, ctx, name):
    method, path_for, _, _ = MATRIX[name]
    ctx["own_consent"] = ctx["person"].consents.first()
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
