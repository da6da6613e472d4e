"""Twilio's callbacks: delivery reports and replies.

Each checks ``X-Twilio-Signature`` with Twilio's RequestValidator against ``PUBLIC_BASE_URL``
plus the path (the URL Twilio was given, whatever proxy sits in front), answers 403 when it is
missing or wrong, records what arrived (deduplicated on the message id) and answers at once:
a reply is handled by a task. Bad input gets a 400 with a plain reason, never a 500.
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from . import services, sms

logger = logging.getLogger(__name__)

EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'


def _signed(request: HttpRequest) -> bool:
    signature = request.headers.get("X-Twilio-Signature", "")
    if not signature or not settings.TWILIO_AUTH_TOKEN:
        return False
    url = f"{settings.PUBLIC_BASE_URL}{request.get_full_path()}"
    try:
        params = {key: request.POST.getlist(key) for key in request.POST}
    except Exception:  # an unreadable body cannot carry a valid signature
        return False
    flat = {key: values[0] if len(values) == 1 else values for key, values in params.items()}
    return sms.signature_is_valid(url=url, params=flat, signature=signature)


def _refuse(reason: str, status: int) -> HttpResponse:
    return HttpResponse(reason, status=status, content_type="text/plain; charset=utf-8")


def _field(request: HttpRequest, name: str, limit: int) -> str:
    value = request.POST.get(name, "")
    # NUL is no character a text or an id carries, and PostgreSQL cannot store it in text.
    return value.replace("\x00", "")[:limit] if isinstance(value, str) else ""


@csrf_exempt
@require_POST
def twilio_status(request: HttpRequest) -> HttpResponse:
    if not _signed(request):
        logger.warning("twilio status callback refused: bad or missing signature")
        return _refuse("Signature missing or wrong.", 403)
    sid = _field(request, "MessageSid", 64)
    status = _field(request, "MessageStatus", 20) or _field(request, "SmsStatus", 20)
    if not sid or not status:
        return _refuse("MessageSid and MessageStatus are required.", 400)
    services.delivery_status_record(
        provider_sid=sid, provider_status=status, error_code=_field(request, "ErrorCode", 10)
    )
    return HttpResponse(status=204)


@csrf_exempt
@require_POST
def twilio_inbound(request: HttpRequest) -> HttpResponse:
    if not _signed(request):
        logger.warning("twilio inbound message refused: bad or missing signature")
        return _refuse("Signature missing or wrong.", 403)
    sid = _field(request, "MessageSid", 64) or _field(request, "SmsSid", 64)
    sender = _field(request, "From", 20)
    if not sid or not sender:
        return _refuse("MessageSid and From are required.", 400)
    inbound = services.inbound_record(
        message_sid=sid, from_number=sender, body=_field(request, "Body", 1600)
    )
    logger.info("twilio inbound %s: %s", sid, "recorded" if inbound else "replay ignored")
    return HttpResponse(EMPTY_TWIML, content_type="text/xml")
