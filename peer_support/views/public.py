"""Public pages: the "Ask for a peer supporter" form and what happens next.

Anyone may use them, signed in or not. The form page carries a CSRF token, so it is never
cached (the anonymous page cache only stores pages that opt in; these do not).
"""

from __future__ import annotations

import re
from urllib.parse import urlencode

from allauth.core import ratelimit
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_safe

from portal.models import Service

from .. import services
from ..forms.public import PeerSupportRequestForm

RATE_LIMIT_ACTION = "peer_support_request"  # settings.ACCOUNT_RATE_LIMITS: "5/h/ip"
SLUG_RE = re.compile(r"[-a-zA-Z0-9_]{1,100}")


@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
def request_form(request):
    if request.method != "POST":
        return render(
            request, "peer_support/public/request.html", {"form": PeerSupportRequestForm()}
        )
    form = PeerSupportRequestForm(request.POST)
    if form.is_valid():
        # Only a complete request counts towards the limit: a mistake costs nothing.
        if not ratelimit.consume(request, action=RATE_LIMIT_ACTION):
            return render(
                request,
                "peer_support/public/request_limited.html",
                {"service": form.cleaned_data["service"]},
                status=429,
            )
        try:
            record = services.referral_request_create(**form.service_kwargs())
        except ValidationError as error:
            form.add_service_errors(error)
        else:
            query = urlencode({"service": record.service.slug})
            return redirect(f"{reverse('peer_support:request_sent')}?{query}")
    return render(request, "peer_support/public/request.html", {"form": form})


@require_safe
def request_sent(request):
    """What happens next. The slug only chooses which team's number to show; an unknown one
    gives the general version."""
    slug = request.GET.get("service", "")
    service = Service.objects.filter(slug=slug).first() if SLUG_RE.fullmatch(slug) else None
    return render(request, "peer_support/public/request_sent.html", {"service": service})


urlpatterns = [
    path("ask-for-a-peer-supporter/", request_form, name="request"),
    path("ask-for-a-peer-supporter/sent/", request_sent, name="request_sent"),
]
