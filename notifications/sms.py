"""Sending text messages: one small interface, one class per provider.

This is the only module that imports ``twilio``. Callers use :func:`send_sms` (sign-in codes,
peer support notices) or a client from :func:`get_sms_client` (the reminder dispatcher, which
needs :meth:`SMSClient.find_sent` to reconcile a send whose outcome it could not see).

Nothing here logs a phone number or a message's text: only provider ids, error codes and
HTTP statuses. Provider error messages are never passed on either, because Twilio's own
wording repeats the number ("The 'To' number +44... is not a valid phone number").
"""

from __future__ import annotations

import logging
import os
import re
import threading
import uuid
from abc import ABC, abstractmethod
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

import requests
from django.conf import settings
from django.utils import timezone
from django.utils.datastructures import MultiValueDict
from requests.adapters import HTTPAdapter
from twilio.base.exceptions import TwilioException, TwilioRestException, TwilioServiceException
from twilio.http.http_client import TwilioHttpClient
from twilio.request_validator import RequestValidator
from twilio.rest import Client as TwilioRestClient
from urllib3.exceptions import ClosedPoolError, ConnectTimeoutError, NewConnectionError

logger = logging.getLogger(__name__)


# --- Results and errors -----------------------------------------------------------------------


@dataclass(frozen=True)
class SMSResult:
    provider: str
    provider_id: str  # Twilio's MessageSid (SM...), or console-N / memory-<hex>
    status: str  # one of DELIVERY_STATES


class SMSError(Exception):
    """Base of every provider failure. ``code`` is the provider's error code as a string
    ("21610"), or "" when it gave none; ``http_status`` is None when no answer came back.
    The message never carries the provider's own text, which can contain the number."""

    def __init__(self, message: str = "", *, code: str = "", http_status: int | None = None):
        super().__init__(message or type(self).__name__)
        self.code = code
        self.http_status = http_status


class SMSTemporaryError(SMSError):
    """The provider did not accept the message: safe to try again later."""


class SMSPermanentError(SMSError):
    """The message will never go (unsubscribed, invalid or unreachable number, other 4xx)."""


class SMSOutcomeUnknown(SMSError):
    """The request may have reached the provider: reconcile with ``find_sent``, never resend
    blind, or a person could get the same text twice."""


# --- Delivery states --------------------------------------------------------------------------

DELIVERY_STATES = ("queued", "sent", "delivered", "undelivered", "failed")

# Twilio's status words for outbound messages, folded into ours. "sending" is still on
# Twilio's side (no carrier has it yet); "read" (WhatsApp, RCS) implies delivery; a cancelled
# scheduled message will never go, so it counts as failed.
_DELIVERY_STATE_FOR = {
    "accepted": "queued",
    "scheduled": "queued",
    "queued": "queued",
    "sending": "queued",
    "sent": "sent",
    "partially_delivered": "sent",
    "delivered": "delivered",
    "read": "delivered",
    "undelivered": "undelivered",
    "failed": "failed",
    "canceled": "failed",
}


def delivery_state(provider_status: str) -> str | None:
    """Our delivery state for a provider's status word; None for inbound words ("receiving",
    "received") and anything unknown, so a surprise never overwrites a known state."""
    if not isinstance(provider_status, str):
        return None
    return _DELIVERY_STATE_FOR.get(provider_status.strip().lower())


# --- The interface ----------------------------------------------------------------------------


@dataclass(frozen=True)
class SentMessage:
    to: str
    body: str
    recipient_id: int | None
    # Kept for find_sent, left out of equality so SentMessage(to, body, recipient_id) still
    # equals what the memory client kept.
    provider_id: str = field(default="", compare=False, repr=False)
    sent_at: datetime | None = field(default=None, compare=False, repr=False)


class SMSClient(ABC):
    name: str

    @abstractmethod
    def send(
        self,
        *,
        to: str,
        body: str,
        recipient_id: int | None = None,
        status_callback: str | None = None,
    ) -> SMSResult:
        """Send ``body`` to the E.164 number ``to``. Raises an :class:`SMSError` subclass."""

    @abstractmethod
    def find_sent(
        self,
        *,
        to: str,
        body: str,
        since: datetime,
        until: datetime | None = None,
        exclude: Collection[str] = (),
    ) -> SMSResult | None:
        """The first message with exactly this body sent to ``to`` from ``since`` up to
        ``until`` (aware; None: up to now) whose provider id is not in ``exclude``, or None if
        the provider has none. Raises :class:`SMSTemporaryError` if the provider cannot be
        asked right now."""


def _in_window(moment: datetime, since: datetime, until: datetime | None) -> bool:
    return moment >= since and (until is None or moment <= until)


def _require_aware(since: datetime) -> None:
    if timezone.is_naive(since):
        raise ValueError("since must be an aware datetime")


class ConsoleSMSClient(SMSClient):
    """Development: prints the message (never the number) and keeps it for the outbox page."""

    name = "console"

    def send(
        self,
        *,
        to: str,
        body: str,
        recipient_id: int | None = None,
        status_callback: str | None = None,
    ) -> SMSResult:
        from .models import ConsoleMessage

        message = ConsoleMessage.objects.create(recipient_id=recipient_id, to=to, body=body)
        who = f"user {recipient_id}" if recipient_id else "an unknown account"
        print(f"[SMS console] message {message.pk} for {who}: {body}", flush=True)
        return SMSResult(self.name, f"console-{message.pk}", "delivered")

    def find_sent(
        self,
        *,
        to: str,
        body: str,
        since: datetime,
        until: datetime | None = None,
        exclude: Collection[str] = (),
    ) -> SMSResult | None:
        from .models import ConsoleMessage

        _require_aware(since)
        found = ConsoleMessage.objects.filter(to=to, body=body, created_at__gte=since)
        if until is not None:
            found = found.filter(created_at__lte=until)
        for pk in found.order_by("created_at", "pk").values_list("pk", flat=True):
            if f"console-{pk}" not in exclude:
                return SMSResult(self.name, f"console-{pk}", "delivered")
        return None


class MemorySMSClient(SMSClient):
    """Tests: keeps every message in :data:`outbox` in this process."""

    name = "memory"
    outbox: list[SentMessage] = []

    def send(
        self,
        *,
        to: str,
        body: str,
        recipient_id: int | None = None,
        status_callback: str | None = None,
    ) -> SMSResult:
        provider_id = f"memory-{uuid.uuid4().hex}"
        self.outbox.append(
            SentMessage(
                to=to,
                body=body,
                recipient_id=recipient_id,
                provider_id=provider_id,
                sent_at=timezone.now(),
            )
        )
        return SMSResult(self.name, provider_id, "delivered")

    def find_sent(
        self,
        *,
        to: str,
        body: str,
        since: datetime,
        until: datetime | None = None,
        exclude: Collection[str] = (),
    ) -> SMSResult | None:
        _require_aware(since)
        for message in list(self.outbox):
            if (
                message.to == to
                and message.body == body
                and message.sent_at is not None
                and _in_window(message.sent_at, since, until)
                and message.provider_id not in exclude
            ):
                return SMSResult(self.name, message.provider_id, "delivered")
        return None


# --- Twilio -----------------------------------------------------------------------------------

# Errors Twilio will answer the same way however often we ask.
PERMANENT_ERROR_CODES = frozenset({"21610", "21211", "21612", "21614"})
# Twilio's "too many requests", whatever HTTP status it comes with.
TEMPORARY_ERROR_CODES = frozenset({"20429"})

# find_sent reads at most this many of the number's messages, newest first.
FIND_SENT_PAGE_SIZE = 100
FIND_SENT_LIMIT = 400

_QUERY = re.compile(r"\?[^\s'\"]*")


class _DropQueryStrings(logging.Filter):
    """urllib3 logs each request line at DEBUG with its query string, and the query of a
    Messages list carries the phone number (``?To=%2B44...``)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple) and record.args:
            record.args = tuple(
                _QUERY.sub("?…", arg) if isinstance(arg, str) else arg for arg in record.args
            )
        if isinstance(record.msg, str) and "?" in record.msg:
            record.msg = _QUERY.sub("?…", record.msg)
        return True


def _quiet_urllib3() -> None:
    for name in ("urllib3.connectionpool", "urllib3.util.retry"):
        target = logging.getLogger(name)
        if not any(isinstance(f, _DropQueryStrings) for f in target.filters):
            target.addFilter(_DropQueryStrings())


class _QuietHttpClient(TwilioHttpClient):
    """Twilio's HTTP client with its request logging off (it logs every query parameter at
    INFO, the 'To' number included) and no retries: a retried POST could send a text twice,
    and our callers decide when to try again.

    Proxy and CA bundle settings (``HTTPS_PROXY``, ``NO_PROXY``, ``REQUESTS_CA_BUNDLE``) are
    read from the environment once, here: requests would otherwise scan the whole
    environment twice for every message sent."""

    def __init__(self, *, timeout: float, api_url: str, pool_size: int = 16) -> None:
        super().__init__(
            pool_connections=True,
            timeout=timeout,
            proxy=requests.utils.get_environ_proxies(api_url),
        )
        self.session.trust_env = False
        self.session.verify = (
            os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE") or True
        )
        for prefix in ("https://", "http://"):
            self.session.mount(prefix, HTTPAdapter(pool_maxsize=pool_size, max_retries=0))

    def log_request(self, kwargs) -> None:
        return None

    def log_response(self, status_code, response) -> None:
        return None


_clients: dict[tuple[int, str, str, str, float], TwilioRestClient] = {}
_clients_lock = threading.Lock()
_MAX_CACHED_CLIENTS = 4


def _twilio_rest_client(
    *, account_sid: str, auth_token: str, base_url: str, timeout: float
) -> TwilioRestClient:
    """One SDK client (and so one pool of kept-alive connections) per process and settings.
    Keyed on the values, since tests change settings between calls, and on the process id,
    so that a worker forked from a process that had sent never shares its sockets."""
    key = (os.getpid(), account_sid, auth_token, base_url, timeout)
    with _clients_lock:
        client = _clients.get(key)
        if client is None:
            if len(_clients) >= _MAX_CACHED_CLIENTS:
                for old in _clients.values():
                    old.http_client.session.close()
                _clients.clear()
            _quiet_urllib3()
            client = TwilioRestClient(
                account_sid,
                auth_token,
                http_client=_QuietHttpClient(
                    timeout=timeout, api_url=base_url or "https://api.twilio.com"
                ),
            )
            if base_url:
                # The Api domain builds every Messages URL (and next-page URL) from this.
                client.api.base_url = base_url.rstrip("/")
                # TWILIO_EDGE / TWILIO_REGION in the environment would rewrite the host.
                client.edge = None
                client.region = None
            _clients[key] = client
    return client


def _code_of(exc: TwilioRestException | TwilioServiceException) -> str:
    # The SDK fills ``code`` with the HTTP status when the body had no Twilio code.
    code = getattr(exc, "code", None)
    if code is None or code == "" or str(code) == str(exc.status):
        return ""
    return str(code)


def _error_for_answer(http_status: int, code: str) -> SMSError:
    """An error answer from Twilio: the request arrived and was not accepted."""
    detail = f"Twilio answered HTTP {http_status}" + (f", error {code}" if code else "")
    if http_status == 429 or code in TEMPORARY_ERROR_CODES:
        return SMSTemporaryError(detail, code=code, http_status=http_status)
    if code in PERMANENT_ERROR_CODES:
        return SMSPermanentError(detail, code=code, http_status=http_status)
    if http_status >= 500:
        return SMSTemporaryError(detail, code=code, http_status=http_status)
    if 400 <= http_status < 500:
        return SMSPermanentError(detail, code=code, http_status=http_status)
    return SMSOutcomeUnknown(detail, code=code, http_status=http_status)


def _never_connected(exc: BaseException) -> bool:
    """True when the connection was never made, so the request cannot have been sent."""
    seen: set[int] = set()
    pending: list[object] = [exc]
    while pending:
        item = pending.pop()
        if not isinstance(item, BaseException) or id(item) in seen:
            continue
        seen.add(id(item))
        if isinstance(item, NewConnectionError | ConnectTimeoutError | ClosedPoolError):
            return True
        if isinstance(item, ConnectionRefusedError):
            return True
        pending.extend(item.args)
        pending.extend([getattr(item, "reason", None), item.__cause__, item.__context__])
    return False


def _error_for_transport(exc: requests.RequestException) -> SMSError:
    """No answer came back. Only a connection that was never made is safe to retry: after
    the request went out, a timeout or a reset says nothing about whether Twilio took it."""
    kind = type(exc).__name__
    if isinstance(exc, requests.ConnectTimeout):
        return SMSTemporaryError(f"Twilio could not be reached ({kind})")
    if isinstance(exc, requests.ReadTimeout):
        return SMSOutcomeUnknown(f"Twilio did not answer in time ({kind})")
    if isinstance(exc, requests.ConnectionError) and _never_connected(exc):
        return SMSTemporaryError(f"Twilio could not be reached ({kind})")
    return SMSOutcomeUnknown(f"The connection to Twilio broke ({kind})")


def _error_for_page(exc: TwilioException) -> SMSError:
    # A list page that is not a 200 raises a bare TwilioException("...", response).
    response = exc.args[1] if len(exc.args) > 1 else None
    http_status = getattr(response, "status_code", None)
    return SMSTemporaryError("Twilio's message list could not be read", http_status=http_status)


def _utc_second(moment: datetime) -> datetime:
    """Twilio's timestamps have whole seconds: a message created at 12:00:00.4 reads as
    12:00:00, so "at or after 12:00:00.3" must compare from 12:00:00."""
    return moment.astimezone(UTC).replace(microsecond=0)


class TwilioSMSClient(SMSClient):
    """Production: Twilio's Messages API through its own SDK."""

    name = "twilio"

    def __init__(self) -> None:
        self.messaging_service_sid = getattr(settings, "TWILIO_MESSAGING_SERVICE_SID", "")
        self.from_number = getattr(settings, "TWILIO_FROM_NUMBER", "")
        self._rest = _twilio_rest_client(
            account_sid=settings.TWILIO_ACCOUNT_SID,
            auth_token=settings.TWILIO_AUTH_TOKEN,
            base_url=getattr(settings, "TWILIO_API_BASE_URL", "") or "",
            timeout=float(getattr(settings, "TWILIO_HTTP_TIMEOUT_SECONDS", 10)),
        )

    @property
    def _messages(self):
        return self._rest.api.v2010.account.messages

    def send(
        self,
        *,
        to: str,
        body: str,
        recipient_id: int | None = None,
        status_callback: str | None = None,
    ) -> SMSResult:
        options: dict[str, str] = {}
        if self.messaging_service_sid:
            options["messaging_service_sid"] = self.messaging_service_sid
        else:
            options["from_"] = self.from_number
        if status_callback:
            options["status_callback"] = status_callback
        try:
            message = self._messages.create(to=to, body=body, **options)
        except (TwilioRestException, TwilioServiceException) as exc:
            error = _error_for_answer(int(exc.status), _code_of(exc))
        except requests.RequestException as exc:
            error = _error_for_transport(exc)
        except (TwilioException, ValueError) as exc:
            # A 2xx we could not read: Twilio probably took the message.
            error = SMSOutcomeUnknown(f"Twilio's answer could not be read ({type(exc).__name__})")
        else:
            return SMSResult(self.name, message.sid, delivery_state(message.status) or "queued")
        logger.warning(
            "twilio send for recipient %s: %s (http %s, code %s)",
            recipient_id,
            type(error).__name__,
            error.http_status,
            error.code or "-",
        )
        # ``from None``: the SDK's exception text can hold the number, and a logged traceback
        # would print it.
        raise error from None

    def find_sent(
        self,
        *,
        to: str,
        body: str,
        since: datetime,
        until: datetime | None = None,
        exclude: Collection[str] = (),
    ) -> SMSResult | None:
        # No DateSent filter: Twilio sets date_sent only once it hands the message on, so a
        # message still queued at Twilio (exactly the one a timed-out send leaves behind)
        # would be missed and then sent twice. The filter is per day anyway; the number's own
        # list is short, and date_created is compared here. The list comes newest first: the
        # last match is the first message sent.
        _require_aware(since)
        since = _utc_second(since)
        found = None
        try:
            for message in self._messages.stream(
                to=to, page_size=FIND_SENT_PAGE_SIZE, limit=FIND_SENT_LIMIT
            ):
                created = message.date_created
                if created is None or not _in_window(created, since, until):
                    continue
                if message.body != body or message.sid in exclude:
                    continue
                if message.direction and not message.direction.startswith("outbound"):
                    continue
                found = SMSResult(
                    self.name, message.sid, delivery_state(message.status) or "queued"
                )
        except (TwilioRestException, TwilioServiceException) as exc:
            error: SMSError = SMSTemporaryError(
                "Twilio's message list could not be read",
                code=_code_of(exc),
                http_status=int(exc.status),
            )
        except requests.RequestException as exc:
            error = SMSTemporaryError(f"Twilio could not be asked ({type(exc).__name__})")
        except TwilioException as exc:
            error = _error_for_page(exc)
        except ValueError as exc:
            error = SMSTemporaryError(f"Twilio's answer could not be read ({type(exc).__name__})")
        else:
            return found
        logger.warning(
            "twilio find_sent: %s (http %s, code %s)",
            type(error).__name__,
            error.http_status,
            error.code or "-",
        )
        raise error from None


def signature_is_valid(
    *, url: str, params: Mapping[str, str | Sequence[str]], signature: str
) -> bool:
    """Whether ``X-Twilio-Signature`` matches this URL and form, signed with our auth token.
    Repeated fields may come as lists."""
    token = settings.TWILIO_AUTH_TOKEN
    if not token or not signature:
        return False
    form = MultiValueDict(
        {
            key: [value] if isinstance(value, str) else [str(v) for v in value]
            for key, value in params.items()
        }
    )
    return RequestValidator(token).validate(url, form, signature)


# --- Choosing a provider ----------------------------------------------------------------------

CLIENTS: dict[str, type[SMSClient]] = {
    ConsoleSMSClient.name: ConsoleSMSClient,
    MemorySMSClient.name: MemorySMSClient,
    TwilioSMSClient.name: TwilioSMSClient,
}


def get_sms_client() -> SMSClient:
    try:
        client_class = CLIENTS[settings.SMS_BACKEND]
    except KeyError:
        raise RuntimeError(f"SMS backend {settings.SMS_BACKEND!r} is not available") from None
    return client_class()


def send_sms(
    *,
    to: str,
    body: str,
    recipient_id: int | None = None,
    status_callback: str | None = None,
) -> SMSResult | None:
    """A direct, best-effort text (sign-in codes, notices to staff and supporters). Reminders
    and replies go through the outbox instead (``services.message_send``), which retries and
    reconciles. A provider error is logged (code only) and answered with None, so a page that
    sends a sign-in code never fails because the provider did."""
    client = get_sms_client()
    try:
        result = client.send(
            to=to, body=body, recipient_id=recipient_id, status_callback=status_callback
        )
    except SMSError as error:
        logger.error(
            "sms to recipient %s not sent via %s: %s (HTTP %s)",
            recipient_id,
            client.name,
            type(error).__name__,
            error.http_status,
        )
        return None
    logger.info(
        "sms sent via %s for recipient %s: %s", client.name, recipient_id, result.provider_id
    )
    return result
