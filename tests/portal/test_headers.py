"""Security headers on every URL pattern: CSP with nonces, nosniff, referrer policy, HSTS."""

import re

import pytest
from django.test import override_settings
from django.urls import URLPattern, URLResolver

from portal.demo import demo_seed
from portal.roles import Role
from portal.urls import urlpatterns
from tests.factories import UserFactory
from tests.portal.conftest import make_member
from tests.portal.test_permissions import MATRIX, peer_world

pytestmark = pytest.mark.django_db

ADMIN_PREFIXES = ("/admin/", "/django-admin/")
# One real path for each pattern that is not in the permission matrix.
REPRESENTATIVE = {
    "healthz": "/healthz/",
    "accounts/": "/accounts/login/",
    "django-admin/": "/django-admin/",
    "admin/": "/admin/",
    "wagtailadmin_login_redirect": "/admin/login/",
    "wagtailadmin_password_reset_redirect": "/admin/password_reset/",
    "documents/": "/documents/1/missing.pdf",
    "": "/",
}


# Resolvers mounted at "" whose own patterns each need a real path.
EXTRA_RESOLVERS = {
    "content.urls": ["/search/", "/search/?q=court"],
}


def _paths(ctx) -> list[str]:
    paths = []
    for pattern in urlpatterns:
        key = pattern.name if isinstance(pattern, URLPattern) else str(pattern.pattern)
        if isinstance(pattern, URLPattern) and key in MATRIX:
            paths.append(MATRIX[key][1](ctx))
        elif isinstance(pattern, URLResolver) and (
            key in ("notifications/", "a/") or pattern.urlconf_name == "peer_support.urls"
        ):
            paths.extend(MATRIX[p.name][1](ctx) for p in pattern.url_patterns)
        elif isinstance(pattern, URLResolver) and str(pattern.urlconf_name) in EXTRA_RESOLVERS:
            paths.extend(EXTRA_RESOLVERS[str(pattern.urlconf_name)])
        else:
            assert key in REPRESENTATIVE, f"add a representative path for {key!r}"
            paths.append(REPRESENTATIVE[key])
    # Easy-read pictures (signed image URLs) and a path that does not exist.
    extra = ["/images/bad-signature/1/original/x.png", "/accounts/login/code/", "/no-such-page/"]
    return paths + extra


@pytest.fixture
def ctx(service, person_with_consents):
    demo_seed()
    ctx = {"person": person_with_consents, "own_consent": person_with_consents.consents.first()}
    peer_world(ctx, service, UserFactory(), None)
    return ctx


def check_headers(path: str, response) -> None:
    csp = response.get("Content-Security-Policy", "")
    assert response["X-Content-Type-Options"] == "nosniff", path
    # The confirm link (/a/<token>/) is stricter: its token never leaves in a Referer.
    referrer = "no-referrer" if path.startswith("/a/") else "same-origin"
    assert response["Referrer-Policy"] == referrer, path
    assert csp, f"{path} has no Content-Security-Policy"
    directives = {part.split()[0]: part.split()[1:] for part in csp.split("; ") if part}
    if path.startswith(ADMIN_PREFIXES):
        assert directives["frame-ancestors"] == ["'self'"], path
    else:
        assert directives["frame-ancestors"] == ["'none'"], path
        assert "'unsafe-inline'" not in directives["script-src"], path
        # A page served from the anonymous page cache carries no fresh nonce; its scripts are
        # files from this site ('self'), so none is needed.
        fresh = response.get("X-Page-Cache") != "hit"
        if (
            fresh
            and response.status_code == 200
            and response["Content-Type"].startswith("text/html")
        ):
            nonces = [s for s in directives["script-src"] if s.startswith("'nonce-")]
            assert nonces, path
        assert "'unsafe-inline'" not in directives.get("style-src", []), path


@pytest.mark.parametrize("who", ["anonymous", "service_user", "administrator"])
def test_every_url_pattern_sends_the_security_headers(client, service, ctx, who):
    if who == "service_user":
        client.force_login(ctx["person"])
    elif who == "administrator":
        client.force_login(make_member(Role.ADMINISTRATOR, service))
    for path in _paths(ctx):
        check_headers(path, client.get(path))


def test_the_page_nonce_matches_the_header_and_changes_every_time(client, ctx, settings):
    settings.PAGE_CACHE_SECONDS = 0
    nonces = []
    for _ in range(2):
        response = client.get("/")
        header = re.search(r"'nonce-([^']+)'", response["Content-Security-Policy"]).group(1)
        assert f'nonce="{header}"' in response.content.decode()
        nonces.append(header)
    assert nonces[0] != nonces[1]


@override_settings(SECURE_HSTS_SECONDS=31536000, SECURE_HSTS_INCLUDE_SUBDOMAINS=True)
def test_hsts_is_sent_over_https(client, ctx):
    response = client.get("/", secure=True)
    assert response["Strict-Transport-Security"].startswith("max-age=31536000")
