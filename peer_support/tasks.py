"""django-q2 entry points: thin, ids only."""

from __future__ import annotations

from . import services


def supporters_readiness_sweep() -> list[int]:
    """Scheduled daily (settings.PORTAL_SCHEDULES): pause supporters who are not ready."""
    return services.supporters_readiness_sweep()
