"""Request-level guards: MFA enrolment for staff, and the Content-Security-Policy.

Staff must enrol an authenticator app before any person-level page or an admin.

An allow-list, not a block-list: a signed-in person who needs MFA and has not enrolled can
reach only sign-in/enrolment pages (allauth), the public Wagtail pages, and the health check.
Everything else, including any URL added later, sends them to enrol first.
"""

from __future__ import annotations

from allauth.mfa.models import Authenticator
from csp.middleware import CSPMiddleware, PolicyParts
from csp.utils import default_config
from django.conf import settings
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.http import urlencode
from wagtail.views import serve as wagtail_serve

from .permissions import needs_mfa
from .views import healthz

# allauth (sign-in, enrolment), the public site's own views (search) and its images.
ALLOWED_VIEW_MODULE_PREFIXES = ("allauth.", "content.views", "wagtail.images.views.serve")
ALLOWED_VIEWS = {wagtail_serve, healthz}


def has_totp(user) -> bool:
    return Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists()


class RequireMFAMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        if settings.SESSION_COOKIE_NAME not in request.COOKIES:
            return None  # nobody is signed in; not touching the session keeps pages cacheable
        user = request.user
        if not needs_mfa(user):
            return None
        target = getattr(view_func, "view_class", view_func)
        if view_func in ALLOWED_VIEWS or target.__module__.startswith(
            ALLOWED_VIEW_MODULE_PREFIXES
        ):
            return None
        if has_totp(user):
            return None
        enrol = reverse("mfa_activate_totp")
        return redirect(f"{enrol}?{urlencode({'next': request.get_full_path()})}")


class PortalCSPMiddleware(CSPMiddleware):
    """django-csp with a second, documented policy for the admin paths (see settings)."""

    def get_policy_parts(self, request, response, report_only: bool = False) -> PolicyParts:
        parts = super().get_policy_parts(request, response, report_only)
        if (
            not report_only
            and parts.config is None
            and request.path.startswith(settings.PORTAL_ADMIN_PATH_PREFIXES)
        ):
            parts.config = default_config(settings.PORTAL_ADMIN_CSP_DIRECTIVES)
        return parts
