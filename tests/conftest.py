import json
import logging
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

# Playwright's sync API runs an event loop in the test thread; Django's ORM calls made from
# that same thread (fixtures, assertions) are still synchronous and safe.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

# Variables the settings read; a subprocess starts from none of them unless a test sets it.
SETTINGS_ENV = [
    "DJANGO_DEBUG",
    "DJANGO_SECRET_KEY",
    "DJANGO_ALLOWED_HOSTS",
    "DATABASE_URL",
    "REDIS_URL",
    "PUBLIC_BASE_URL",
    "SMS_BACKEND",
    "TWILIO_ACCOUNT_SID",
    "TWILIO_AUTH_TOKEN",
    "TWILIO_MESSAGING_SERVICE_SID",
    "TWILIO_FROM_NUMBER",
    "TWILIO_API_BASE_URL",
    "DJANGO_SETTINGS_MODULE",
    "DJANGO_ALLOW_ASYNC_UNSAFE",
]

PRODUCTION_ENV = {
    "DJANGO_DEBUG": "0",
    "DJANGO_SECRET_KEY": "p7Qk2vX9mR4tL8wZ1nB6cY3hJ5fD0sA-gE7uI2oP9qW4xK1zN6bV3mC8lT5rH0yF",
    "DJANGO_ALLOWED_HOSTS": "portal.example.org",
    "PUBLIC_BASE_URL": "https://portal.example.org",
}


def in_ci() -> bool:
    """CI=true (.ci/run sets it): a test that cannot run there must fail, not skip."""
    return os.environ.get("CI", "").strip().lower() in {"1", "true", "yes"}


def clean_env(**overrides: str) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if key not in SETTINGS_ENV}
    env.update(overrides)
    return env


def run_python(code: str, **env: str) -> subprocess.CompletedProcess:
    """Run Python code in a fresh interpreter with only the given settings variables."""
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env=clean_env(**env),
        capture_output=True,
        text=True,
        timeout=120,
    )


def run_manage(*args: str, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=clean_env(**env),
        capture_output=True,
        text=True,
        timeout=300,
    )


def load_settings(*names: str, **env: str) -> dict:
    """Import portal.settings in a fresh process with ``env`` and return chosen values."""
    code = (
        "import json, portal.settings as s; "
        f"print(json.dumps({{n: getattr(s, n) for n in {list(names)!r}}}, default=str))"
    )
    result = run_python(code, **env)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


@pytest.fixture
def production_env() -> dict[str, str]:
    return dict(PRODUCTION_ENV)


# --- No personal data in logs ----------------------------------------------------------------

# Demo and test phone numbers (Ofcom's drama range) in any common shape, example.org email
# addresses, and the fictional names the tests give service users.
PERSONAL_DATA_PATTERNS = [
    re.compile(r"(?:\+44\s?|0)7700\s?900\s?\d{3}"),
    re.compile(r"\b7700900\d{3}\b"),
    re.compile(r"[\w.+-]+@example\.org", re.IGNORECASE),
    re.compile(r"\b(?:Avery|Robin)\b"),
]


class _CaptureAll(logging.Handler):
    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self.lines.append(f"{record.name}: {record.getMessage()}")
        except Exception:  # a record that cannot be formatted is not personal data
            self.lines.append(f"{record.name}: <unformattable>")


@pytest.fixture(scope="session", autouse=True)
def no_personal_data_in_logs():
    """Every log line written during the whole suite is scanned at the end."""
    handler = _CaptureAll()
    root = logging.getLogger()
    previous_level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    yield handler
    root.removeHandler(handler)
    root.setLevel(previous_level)
    leaks = [line for line in handler.lines if any(p.search(line) for p in PERSONAL_DATA_PATTERNS)]
    assert not leaks, "personal data in logs:\n" + "\n".join(leaks[:20])
