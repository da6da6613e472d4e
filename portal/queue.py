"""The one way our code puts work on the django-q2 queue.

Task rows are stored in the database (ORM broker) or Redis and shown in the admin, so a task's
arguments must never carry a phone number, a name or note text. This helper accepts ids only
and refuses anything else, so the rule cannot be broken by accident.
"""

from __future__ import annotations

import uuid

from django.db import transaction
from django_q.tasks import async_task

TaskId = int | uuid.UUID


def enqueue(func: str, *ids: TaskId, group: str | None = None) -> str:
    """Queue ``func`` (a dotted path) with database ids as its only arguments."""
    for value in ids:
        if isinstance(value, bool) or not isinstance(value, int | uuid.UUID):
            raise TypeError(
                f"task arguments must be ids (int or UUID), not {type(value).__name__}"
            )
    options = {"group": group} if group else {}
    return async_task(func, *ids, **options)


def enqueue_on_commit(func: str, *ids: TaskId, group: str | None = None) -> None:
    """Queue ``func`` once the current transaction commits (never for rolled-back work)."""
    transaction.on_commit(lambda: enqueue(func, *ids, group=group))
