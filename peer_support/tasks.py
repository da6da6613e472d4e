"""django-q2 entry points: thin, ids only."""

from __future__ import annotations

from . import services
from .models import Alert, Offer


def supporters_readiness_sweep() -> list[int]:
    """Scheduled daily (settings.PORTAL_SCHEDULES): pause supporters who are not ready."""
    return services.supporters_readiness_sweep()


def offers_expire_sweep() -> list[int]:
    """Scheduled (settings.PORTAL_SCHEDULES): offers past their deadline go to the next
    candidate."""
    return services.offers_expire_sweep()


def offer_notify_supporter(offer_id: int) -> bool:
    """Queued when an offer is made: a text to the supporter, with no detail."""
    offer = Offer.objects.select_related("supporter").filter(pk=offer_id).first()
    if offer is None:
        return False
    return services.offer_notify_supporter(offer=offer)


def alert_notify_by_sms(alert_id: int) -> int:
    """Queued for an urgent alert: a text to the service's peer support workers, no detail."""
    alert = Alert.objects.filter(pk=alert_id).first()
    if alert is None:
        return 0
    return services.alert_notify_by_sms(alert=alert)
