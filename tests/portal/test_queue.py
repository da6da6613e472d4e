"""Task arguments are ids only; schedules are created idempotently."""

import uuid
from datetime import timedelta

import pytest
from django.contrib.sessions.models import Session
from django.core.management import call_command
from django.utils import timezone
from django_q.models import Schedule, Task
from django_q.tasks import result

from portal.queue import enqueue
from portal.tasks import sessions_clear_expired


@pytest.mark.parametrize(
    "bad",
    ["+447700900001", "Alex", 1.5, None, True, {"id": 1}, [1], b"1"],
)
def test_enqueue_refuses_anything_but_ids(bad):
    with pytest.raises(TypeError, match="must be ids"):
        enqueue("portal.tasks.sessions_clear_expired", bad)


def double(value):
    return value * 2 if isinstance(value, int) else str(value)


@pytest.mark.django_db
def test_enqueue_with_ids_runs_the_task_and_stores_only_the_ids():
    # sync mode in test settings: the task runs now and its row is stored like a worker's.
    task_id = enqueue("tests.portal.test_queue.double", 21)
    task = Task.objects.get(id=task_id)
    assert task.success is True
    assert task.result == 42
    assert task.args == (21,)
    key = uuid.uuid4()
    assert result(enqueue("tests.portal.test_queue.double", key)) == str(key)


@pytest.mark.django_db
def test_schedules_are_created_once_and_kept_in_step(settings):
    call_command("setup_schedules")
    call_command("setup_schedules")
    rows = list(Schedule.objects.values_list("name", "func", "schedule_type"))
    assert rows == [
        (spec["name"], spec["func"], spec["schedule_type"]) for spec in settings.PORTAL_SCHEDULES
    ]

    first = settings.PORTAL_SCHEDULES[0]
    settings.PORTAL_SCHEDULES = [{**first, "schedule_type": "W"}]
    call_command("setup_schedules")
    assert Schedule.objects.get(name=first["name"]).schedule_type == "W"
    assert Schedule.objects.count() == len(rows)


@pytest.mark.django_db
def test_schedule_with_a_wrong_function_path_fails_at_set_up(settings):
    settings.PORTAL_SCHEDULES = [
        {"name": "Broken", "func": "portal.tasks.does_not_exist", "schedule_type": "D"}
    ]
    with pytest.raises(ImportError):
        call_command("setup_schedules")
    assert not Schedule.objects.filter(name="Broken").exists()


@pytest.mark.django_db
def test_clear_expired_sessions_task_removes_only_expired():
    Session.objects.create(
        session_key="expired", session_data="", expire_date=timezone.now() - timedelta(days=1)
    )
    Session.objects.create(
        session_key="current", session_data="", expire_date=timezone.now() + timedelta(days=1)
    )
    sessions_clear_expired()
    assert list(Session.objects.values_list("session_key", flat=True)) == ["current"]
