"""django-q2 entry points: thin, ids only."""

from __future__ import annotations

from . import services


def case_studies_consent_sweep() -> list[int]:
    """Scheduled (settings.PORTAL_SCHEDULES): take down case studies whose consent lapsed."""
    return services.case_studies_consent_sweep()
