"""django-q2 entry points: ids in, a service call, nothing else (CONVENTIONS: thin tasks)."""

from __future__ import annotations

from . import services


def messages_send(*message_ids: int) -> dict[str, int]:
    return services.messages_send(message_ids=message_ids)


def messages_dispatch() -> dict[str, int]:
    """Every minute: reconcile and re-queue what is stuck, then queue what is due."""
    counts = services.messages_sweep()
    counts["queued"] = services.messages_dispatch_due()
    return counts


def inbound_handle(inbound_id: int) -> str:
    return services.inbound_handle(inbound_id=inbound_id)


def message_undelivered(message_id: int) -> None:
    services.message_alert(message_id=message_id, why="The phone network could not deliver it.")
