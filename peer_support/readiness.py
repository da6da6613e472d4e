"""Is a supporter ready to be matched? Pure: no database, today's date passed in.

A supporter is ready when their DBS check is in date, every required training module is done
and supervision is not overdue. The rules read three settings (``PEER_DBS_VALID_DAYS``,
``PEER_REQUIRED_TRAINING``, ``PEER_SUPERVISION_INTERVAL_DAYS``), passed in as a mapping so the
tests can state them and the function needs no Django.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, timedelta
from typing import Any, Protocol

READINESS_SETTINGS = (
    "PEER_DBS_VALID_DAYS",
    "PEER_SUPERVISION_INTERVAL_DAYS",
    "PEER_REQUIRED_TRAINING",
)


class SupporterLike(Protocol):
    dbs_checked_on: date | None
    training_modules_completed: list[str]
    last_supervision_on: date | None


def readiness_settings() -> dict[str, Any]:
    """The three values from Django's settings."""
    from django.conf import settings

    return {name: getattr(settings, name) for name in READINESS_SETTINGS}


def dbs_expires_on(checked_on: date, valid_days: int) -> date:
    """The first day the check no longer counts: valid for ``valid_days`` days from its date."""
    return checked_on + timedelta(days=valid_days)


def supervision_due_on(last_on: date, interval_days: int) -> date:
    """The last day supervision is in time; overdue from the day after."""
    return last_on + timedelta(days=interval_days)


def readiness_problems(
    supporter_like: SupporterLike, *, today: date, settings_values: Mapping[str, Any]
) -> list[str]:
    """Why the supporter is not ready, in plain English; empty when they are.

    The sentences name dates and module codes only, never a person, so they can go into
    ``paused_reason`` and the logs.
    """
    problems: list[str] = []
    checked_on = supporter_like.dbs_checked_on
    if checked_on is None:
        problems.append("No DBS check recorded")
    else:
        expires_on = dbs_expires_on(checked_on, int(settings_values["PEER_DBS_VALID_DAYS"]))
        if today >= expires_on:
            problems.append(f"DBS check lapsed on {expires_on.isoformat()}")
    done = set(supporter_like.training_modules_completed or [])
    missing = [m for m in settings_values["PEER_REQUIRED_TRAINING"] if m not in done]
    if missing:
        problems.append("Training not completed: " + ", ".join(missing))
    last = supporter_like.last_supervision_on
    if last is None:
        problems.append("No supervision recorded")
    else:
        due_on = supervision_due_on(last, int(settings_values["PEER_SUPERVISION_INTERVAL_DAYS"]))
        if today > due_on:
            problems.append(f"Supervision overdue since {due_on.isoformat()}")
    return problems
