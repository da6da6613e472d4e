"""GET /healthz/: 200 when database, cache and queue answer; 503 naming what failed."""

import json

import pytest
from django.test import override_settings
from django_q.conf import Conf

from tests.conftest import run_python

CLOSED_PORT = 1  # nothing listens on port 1 on loopback


@pytest.mark.django_db
def test_health_is_ok_when_everything_answers(client):
    response = client.get("/healthz/")
    assert response.status_code == 200
    assert response.json() == {"database": "ok", "cache": "ok", "queue": "ok"}
    assert "no-store" in response["Cache-Control"]


@pytest.mark.django_db
def test_health_names_a_broken_cache(client):
    broken = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": f"redis://127.0.0.1:{CLOSED_PORT}/0",
        }
    }
    with override_settings(CACHES=broken):
        response = client.get("/healthz/")
    assert response.status_code == 503
    assert response.json() == {
        "database": "ok",
        "cache": "failed",
        "queue": "ok",
        "failed": ["cache"],
    }


@pytest.mark.django_db
def test_health_names_a_broken_queue(client, monkeypatch):
    # Point django-q2 at a Redis broker that is not there.
    monkeypatch.setattr(Conf, "ORM", None)
    monkeypatch.setattr(Conf, "REDIS", f"redis://127.0.0.1:{CLOSED_PORT}/0")
    response = client.get("/healthz/")
    assert response.status_code == 503
    assert response.json()["queue"] == "failed"
    assert response.json()["failed"] == ["queue"]


def test_health_names_a_broken_database():
    """A real process whose database server does not answer."""
    code = (
        "import django, json; django.setup();"
        "from django.test import Client;"
        "r = Client().get('/healthz/');"
        "print(json.dumps({'status': r.status_code, 'body': r.json()}))"
    )
    result = run_python(
        code,
        DJANGO_SETTINGS_MODULE="tests.settings",
        DATABASE_URL=f"postgres://postgres@127.0.0.1:{CLOSED_PORT}/nothing",
    )
    assert result.returncode == 0, result.stderr
    outcome = json.loads(result.stdout.strip().splitlines()[-1])
    assert outcome["status"] == 503
    assert outcome["body"]["database"] == "failed"
    assert "database" in outcome["body"]["failed"]
    assert outcome["body"]["cache"] == "ok"


@pytest.mark.django_db
def test_health_only_answers_reads(client):
    assert client.post("/healthz/").status_code == 405
