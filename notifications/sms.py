"""Sending text messages: one small interface, one class per provider.

This is the only module that will import ``twilio`` (the Twilio provider arrives with the SMS
issue). Callers use :func:`send_sms`. Nothing here logs a phone number.
"""

from __future__ import annotations

import logging
import uuid
from abc import ABC, abstractmethod
from dataclasses import dataclass

from django.conf import settings

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class SMSResult:
    provider: str
    provider_id: str
    status: str


@dataclass(frozen=True)
class SentMessage:
    to: str
    body: str
    recipient_id: int | None


class SMSClient(ABC):
    name: str

    @abstractmethod
    def send(self, *, to: str, body: str, recipient_id: int | None = None) -> SMSResult:
        """Send ``body`` to the E.164 number ``to``."""


class ConsoleSMSClient(SMSClient):
    """Development: prints the message (never the number) and keeps it for the outbox page."""

    name = "console"

    def send(self, *, to: str, body: str, recipient_id: int | None = None) -> SMSResult:
        from .models import ConsoleMessage

        message = ConsoleMessage.objects.create(recipient_id=recipient_id, to=to, body=body)
        who = f"user {recipient_id}" if recipient_id else "an unknown account"
        print(f"[SMS console] message {message.pk} for {who}: {body}", flush=True)
        return SMSResult(self.name, f"console-{message.pk}", "delivered")


class MemorySMSClient(SMSClient):
    """Tests: keeps every message in :data:`outbox` in this process."""

    name = "memory"
    outbox: list[SentMessage] = []

    def send(self, *, to: str, body: str, recipient_id: int | None = None) -> SMSResult:
        self.outbox.append(SentMessage(to=to, body=body, recipient_id=recipient_id))
        return SMSResult(self.name, f"memory-{uuid.uuid4().hex}", "delivered")


CLIENTS: dict[str, type[SMSClient]] = {
    ConsoleSMSClient.name: ConsoleSMSClient,
    MemorySMSClient.name: MemorySMSClient,
}


def get_sms_client() -> SMSClient:
    try:
        return CLIENTS[settings.SMS_BACKEND]()
    except KeyError:
        raise RuntimeError(f"SMS backend {settings.SMS_BACKEND!r} is not available") from None


def send_sms(*, to: str, body: str, recipient_id: int | None = None) -> SMSResult:
    client = get_sms_client()
    result = client.send(to=to, body=body, recipient_id=recipient_id)
    logger.info(
        "sms sent via %s for recipient %s: %s", client.name, recipient_id, result.provider_id
    )
    return result
