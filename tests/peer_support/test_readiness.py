"""Readiness rules (pure, with date edges) and the daily sweep that pauses supporters."""

import datetime as dt
from types import SimpleNamespace

import pytest
from django.conf import settings

from peer_support import tasks
from peer_support.models import Supporter
from peer_support.readiness import readiness_problems
from portal.models import AuditEvent
from tests.factories import REQUIRED_TRAINING, SupporterFactory

TODAY = dt.date(2026, 11, 22)
VALUES = {
    "PEER_DBS_VALID_DAYS": 1095,
    "PEER_SUPERVISION_INTERVAL_DAYS": 56,
    "PEER_REQUIRED_TRAINING": REQUIRED_TRAINING,
}


def supporter(**changes):
    fields = {
        "dbs_checked_on": TODAY - dt.timedelta(days=30),
        "training_modules_completed": list(REQUIRED_TRAINING),
        "last_supervision_on": TODAY - dt.timedelta(days=7),
    }
    return SimpleNamespace(**{**fields, **changes})


def days_ago(n):
    return TODAY - dt.timedelta(days=n)


CASES = [
    ("ready", {}, []),
    ("dbs missing", {"dbs_checked_on": None}, ["No DBS check recorded"]),
    ("dbs last valid day", {"dbs_checked_on": days_ago(1094)}, []),
    ("dbs lapses today", {"dbs_checked_on": days_ago(1095)},
     [f"DBS check lapsed on {TODAY.isoformat()}"]),
    ("dbs from the future counts", {"dbs_checked_on": TODAY}, []),
    ("training missing two", {"training_modules_completed": ["safeguarding", "boundaries"]},
     ["Training not completed: data_protection, lived_experience_sharing"]),
    ("extra training is fine", {"training_modules_completed": [*REQUIRED_TRAINING, "first_aid"]},
     []),
    ("supervision due today", {"last_supervision_on": days_ago(56)}, []),
    ("supervision overdue by a day", {"last_supervision_on": days_ago(57)},
     [f"Supervision overdue since {days_ago(1).isoformat()}"]),
    ("supervision never", {"last_supervision_on": None}, ["No supervision recorded"]),
    ("everything", {"dbs_checked_on": None, "training_modules_completed": [],
                    "last_supervision_on": None},
     ["No DBS check recorded",
      "Training not completed: " + ", ".join(REQUIRED_TRAINING),
      "No supervision recorded"]),
]  # fmt: skip


@pytest.mark.parametrize(
    ("changes", "expected"), [pytest.param(c, e, id=name) for name, c, e in CASES]
)
def test_readiness_problems(changes, expected):
    assert (
        readiness_problems(supporter(**changes), today=TODAY, settings_values=VALUES) == expected
    )


def test_settings_are_read_not_hard_coded():
    shorter = {**VALUES, "PEER_DBS_VALID_DAYS": 30, "PEER_REQUIRED_TRAINING": []}
    assert readiness_problems(
        supporter(dbs_checked_on=days_ago(30)), today=TODAY, settings_values=shorter
    ) == [f"DBS check lapsed on {TODAY.isoformat()}"]


def test_settings_have_the_documented_defaults():
    assert settings.PEER_DBS_VALID_DAYS == 1095
    assert settings.PEER_SUPERVISION_INTERVAL_DAYS == 56
    assert settings.PEER_OFFER_DEADLINE_HOURS == 48
    assert "safeguarding" in settings.PEER_REQUIRED_TRAINING


@pytest.mark.django_db
def test_sweep_pauses_the_unready_and_is_idempotent(service):
    ready = SupporterFactory(services=[service])
    lapsed = SupporterFactory(services=[service], dbs_checked_on=dt.date(2020, 1, 1))
    untrained = SupporterFactory(services=[service], training_modules_completed=[])
    already = SupporterFactory(
        services=[service], paused=True, paused_reason="On leave", last_supervision_on=None
    )

    first = tasks.supporters_readiness_sweep()
    second = tasks.supporters_readiness_sweep()

    assert sorted(first) == sorted([lapsed.pk, untrained.pk])
    assert second == []
    states = {s.pk: (s.paused, s.paused_reason) for s in Supporter.objects.all()}
    assert states[ready.pk] == (False, "")
    assert states[lapsed.pk][0] is True
    assert states[lapsed.pk][1].startswith("Not ready: DBS check lapsed on")
    assert states[untrained.pk][1].startswith("Not ready: Training not completed")
    assert states[already.pk] == (True, "On leave")  # a person's reason is kept
    assert AuditEvent.objects.filter(object_type="peer_support.supporter").count() == 2


@pytest.mark.django_db
def test_sweep_logs_ids_only(service, caplog):
    lapsed = SupporterFactory(services=[service], dbs_checked_on=dt.date(2020, 1, 1))
    with caplog.at_level("INFO", logger="peer_support"):
        tasks.supporters_readiness_sweep()
    assert str(lapsed.pk) in caplog.text
    assert "example.org" not in caplog.text


def test_the_sweep_is_scheduled_daily():
    specs = {spec["name"]: spec for spec in settings.PORTAL_SCHEDULES}
    spec = specs["Pause supporters who are not ready"]
    assert spec["func"] == "peer_support.tasks.supporters_readiness_sweep"
    assert spec["schedule_type"] == "D"
