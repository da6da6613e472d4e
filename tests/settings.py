"""Settings for the test suite (outside portal.settings so the variables below are set
before portal.settings is first imported): production-like (DEBUG off), fast, and self-contained.

``DATABASE_URL`` and ``REDIS_URL`` still apply, so CI runs the same suite on SQLite and on
PostgreSQL + Redis.
"""

import os
from urllib.parse import urlsplit, urlunsplit

# A throwaway key and hosts, so the production refusal in base.py is exercised, not bypassed.
os.environ.setdefault(
    "DJANGO_SECRET_KEY", "test-only-key-3f9a7c1e5b2d8f4a6c0e9b7d5a3f1c8e6b4d2a0f9e7c5b3a1"
)
os.environ.setdefault("DJANGO_ALLOWED_HOSTS", "testserver,localhost,127.0.0.1")
os.environ.setdefault("PUBLIC_BASE_URL", "http://testserver")
os.environ.setdefault("SMS_BACKEND", "memory")

from portal.settings import *  # noqa: E402,F403
from portal.settings import CACHES, Q_CLUSTER, REDIS_URL  # noqa: E402

PHONE_ALLOW_FICTIONAL_NUMBERS = True

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

# Tasks run in-process at once; the queue tests switch this off where they need the broker.
Q_CLUSTER = {**Q_CLUSTER, "sync": True}

if REDIS_URL:
    # Keep test keys apart from anything else using the same Redis database.
    CACHES["default"]["KEY_PREFIX"] = f"portal-test-{os.getpid()}"
    CACHES["pages"]["KEY_PREFIX"] = f"portal-test-pages-{os.getpid()}"
    # Tests call cache.clear(), which empties a whole Redis database: under pytest-xdist each
    # worker gets a database of its own (gw0 -> 1, gw1 -> 2, ...), so one worker's clear never
    # wipes another's rate-limit counters or cached pages.
    _worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    if _worker.startswith("gw") and _worker[2:].isdigit():
        _url = urlsplit(REDIS_URL)
        _redis = urlunsplit(_url._replace(path=f"/{int(_worker[2:]) % 15 + 1}"))
        CACHES["default"]["LOCATION"] = _redis
        CACHES["pages"]["LOCATION"] = _redis
else:
    # One process: the page cache can live in memory (production shares a folder instead).
    CACHES["pages"] = {
        "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
        "LOCATION": "pages",
    }

STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.InMemoryStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
# Serve static files straight from the apps' folders, as collectstatic would have them.
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True

# Wagtail's own background tasks run immediately.
TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}

# demo_seed() without the peer support population (seconds per call); the tests of that
# population turn it on (tests/peer_support/test_demo.py, tests/portal/test_seed_demo.py).
DEMO_PEER_SUPPORT = False
