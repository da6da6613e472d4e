"""Model rows → the matching engine's dataclasses, so the hard rules live in one place
(``peer_support.matching``) and the services never restate them."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date
from typing import Any

from . import matching
from .models import ServiceUserRecord, Supporter
from .readiness import readiness_problems, readiness_settings


def _languages(values: list[str]) -> frozenset[str]:
    # No languages recorded: assume English, as the engine does.
    return frozenset(values) if values else frozenset({"en"})


def referral_from_record(
    record: ServiceUserRecord, *, excluded_supporter_ids: Iterable[int]
) -> matching.Referral:
    """``excluded_supporter_ids`` is the expanded do-not-match list
    (``selectors.excluded_supporter_ids``). Asking for an interpreter means the supporter must
    share one of the person's languages other than English."""
    return matching.Referral(
        id=record.pk,
        service_id=record.service_id,
        age_band=record.age_band,
        excluded_supporter_ids=frozenset(excluded_supporter_ids),
        gender=record.gender,
        preferred_supporter_gender=record.preferred_supporter_gender or None,
        languages=_languages(record.languages),
        needs_language="interpreter" in (record.accessibility_needs or []),
        home_district=record.home_district,
        needs=frozenset(record.needs or []),
        interests=frozenset(record.interests or []),
        availability=frozenset(tuple(slot) for slot in record.availability or []),
    )


def supporter_from_model(
    supporter: Supporter,
    *,
    active_matches: int,
    today: date,
    settings_values: Mapping[str, Any] | None = None,
) -> matching.Supporter:
    """``readiness_valid`` is computed here from the dates, so a supporter whose DBS lapsed
    yesterday is refused today even before the nightly sweep pauses them."""
    values = readiness_settings() if settings_values is None else settings_values
    problems = readiness_problems(supporter, today=today, settings_values=values)
    return matching.Supporter(
        id=supporter.pk,
        service_ids=frozenset(s.pk for s in supporter.services.all()),
        kind=supporter.kind,
        capacity=supporter.capacity,
        active_matches=active_matches,
        paused=supporter.paused,
        readiness_valid=not problems,
        cleared_for_under_18=supporter.cleared_for_under_18,
        gender=supporter.gender,
        languages=_languages(supporter.languages),
        lived_experience=frozenset(supporter.lived_experience or []),
        districts_covered=frozenset(supporter.districts_covered or []),
        availability=frozenset(tuple(slot) for slot in supporter.availability or []),
        interests=frozenset(supporter.interests or []),
    )
