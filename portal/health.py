"""The checks behind ``GET /healthz/``: can this process reach what it needs to work?"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable

from django.core.cache import cache
from django.db import connection
from django_q.brokers import get_broker

logger = logging.getLogger(__name__)


def check_database() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        if cursor.fetchone() != (1,):
            raise RuntimeError("database answered SELECT 1 wrongly")


def check_cache() -> None:
    key = f"healthz:{uuid.uuid4().hex}"
    cache.set(key, "ok", timeout=10)
    try:
        if cache.get(key) != "ok":
            raise RuntimeError("cache did not return what was stored")
    finally:
        cache.delete(key)


def check_queue() -> None:
    broker = get_broker()
    if not broker.ping():
        raise RuntimeError("queue broker did not answer")
    # The ORM broker's ping always succeeds; counting its queue really touches its table.
    broker.queue_size()


CHECKS: dict[str, Callable[[], None]] = {
    "database": check_database,
    "cache": check_cache,
    "queue": check_queue,
}


def run_checks() -> dict[str, str]:
    results: dict[str, str] = {}
    for name, check in CHECKS.items():
        try:
            check()
        except Exception as exc:  # any failure means "not ok"; the kind is logged, not shown
            logger.warning("health check %s failed: %s", name, type(exc).__name__)
            results[name] = "failed"
        else:
            results[name] = "ok"
    return results
