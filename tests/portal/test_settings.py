"""Settings come from the environment, and production refuses development defaults."""

import re

import pytest
from django.conf import settings

from tests.conftest import PRODUCTION_ENV, ROOT, SETTINGS_ENV, load_settings, run_manage


def test_embedded_default_is_sqlite_locmem_and_orm_broker():
    values = load_settings("DATABASES", "CACHES", "Q_CLUSTER", DJANGO_DEBUG="1")
    assert values["DATABASES"]["default"]["ENGINE"] == "django.db.backends.sqlite3"
    assert values["CACHES"]["default"]["BACKEND"].endswith("LocMemCache")
    assert values["Q_CLUSTER"]["orm"] == "default"
    assert "redis" not in values["Q_CLUSTER"]


def test_database_url_switches_to_postgresql():
    values = load_settings(
        "DATABASES", DJANGO_DEBUG="1", DATABASE_URL="postgres://someone@db.internal:5433/portal"
    )
    database = values["DATABASES"]["default"]
    assert database["ENGINE"] == "django.db.backends.postgresql"
    assert (database["HOST"], database["PORT"], database["NAME"]) == (
        "db.internal",
        5433,
        "portal",
    )


def test_redis_url_switches_cache_and_queue_broker():
    url = "redis://cache.internal:6380/2"
    values = load_settings("CACHES", "Q_CLUSTER", DJANGO_DEBUG="1", REDIS_URL=url)
    assert values["CACHES"]["default"]["BACKEND"] == "django.core.cache.backends.redis.RedisCache"
    assert values["CACHES"]["default"]["LOCATION"] == url
    assert values["Q_CLUSTER"]["redis"] == url
    assert "orm" not in values["Q_CLUSTER"]


def test_time_zone_is_london_and_aware():
    values = load_settings("TIME_ZONE", "USE_TZ", DJANGO_DEBUG="1")
    assert values == {"TIME_ZONE": "Europe/London", "USE_TZ": True}


def test_queue_is_configured_deliberately():
    q = settings.Q_CLUSTER
    assert q["timeout"] < q["retry"], "a slow task must be killed before it is handed out again"
    assert q["max_attempts"] > 0, "failing tasks must stop, not loop for ever"
    assert q["catch_up"] is False, "missed schedules must not fire as a backlog"
    assert q["ack_failures"] is True
    default = load_settings("Q_CLUSTER", DJANGO_DEBUG="1")["Q_CLUSTER"]
    assert default["orm"] == "default"
    assert {k: default[k] for k in ("timeout", "retry", "max_attempts", "catch_up")} == {
        "timeout": 60,
        "retry": 120,
        "max_attempts": 3,
        "catch_up": False,
    }


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"DJANGO_SECRET_KEY": ""}, "DJANGO_SECRET_KEY"),
        (
            {
                "DJANGO_SECRET_KEY": "django-insecure-development-only-never-use-this-key-in-production"
            },
            "DJANGO_SECRET_KEY",
        ),
        ({"DJANGO_SECRET_KEY": "short-but-not-empty"}, "DJANGO_SECRET_KEY"),
        ({"DJANGO_SECRET_KEY": "a" * 60}, "DJANGO_SECRET_KEY"),
        ({"DJANGO_ALLOWED_HOSTS": ""}, "DJANGO_ALLOWED_HOSTS"),
        ({"SMS_BACKEND": "twilio"}, "TWILIO_ACCOUNT_SID"),
        (
            {"SMS_BACKEND": "twilio", "TWILIO_ACCOUNT_SID": "AC" + "0" * 32},
            "TWILIO_AUTH_TOKEN",
        ),
        (
            {
                "SMS_BACKEND": "twilio",
                "TWILIO_ACCOUNT_SID": "AC" + "0" * 32,
                "TWILIO_AUTH_TOKEN": "t" * 32,
            },
            "TWILIO_MESSAGING_SERVICE_SID or TWILIO_FROM_NUMBER",
        ),
        ({"SMS_BACKEND": "carrier-pigeon"}, "SMS_BACKEND"),
    ],
)
def test_production_start_up_refuses_unsafe_configuration(change, message):
    result = run_manage("check", **{**PRODUCTION_ENV, **change})
    assert result.returncode != 0
    assert "Refusing to start" in result.stderr
    assert message in result.stderr


def test_missing_debug_variable_means_production():
    result = run_manage("check")
    assert result.returncode != 0
    assert "Refusing to start" in result.stderr


def test_makemigrations_check_runs_without_any_environment():
    result = run_manage("makemigrations", "--check", "--dry-run")
    assert result.returncode == 0, result.stderr
    assert "No changes detected" in result.stdout


def test_explicit_production_still_refuses_makemigrations():
    result = run_manage("makemigrations", "--check", "--dry-run", DJANGO_DEBUG="0")
    assert result.returncode != 0
    assert "Refusing to start" in result.stderr


def test_debug_mode_starts_with_development_defaults():
    result = run_manage("check", DJANGO_DEBUG="1")
    assert result.returncode == 0, result.stderr


def test_deploy_check_is_clean_with_production_values(tmp_path):
    env = {**PRODUCTION_ENV, "DATABASE_URL": f"sqlite:///{tmp_path / 'deploy.sqlite3'}"}
    result = run_manage("check", "--deploy", "--fail-level", "WARNING", **env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_production_with_https_turns_on_transport_security():
    values = load_settings(
        "SECURE_SSL_REDIRECT",
        "SECURE_HSTS_SECONDS",
        "SESSION_COOKIE_SECURE",
        "CSRF_COOKIE_SECURE",
        "DEBUG",
        **PRODUCTION_ENV,
    )
    assert values["DEBUG"] is False
    assert values["SECURE_SSL_REDIRECT"] is True
    assert values["SECURE_HSTS_SECONDS"] >= 31536000
    assert values["SESSION_COOKIE_SECURE"] is True
    assert values["CSRF_COOKIE_SECURE"] is True


def test_twilio_with_credentials_is_accepted():
    env = {
        **PRODUCTION_ENV,
        "SMS_BACKEND": "twilio",
        "TWILIO_ACCOUNT_SID": "AC" + "0" * 32,
        "TWILIO_AUTH_TOKEN": "t" * 32,
        "TWILIO_FROM_NUMBER": "+441134960000",
    }
    assert load_settings("SMS_BACKEND", **env) == {"SMS_BACKEND": "twilio"}


def test_every_setting_variable_is_in_env_example():
    example = (ROOT / ".env.example").read_text()
    documented = {
        line.split("=", 1)[0].lstrip("# ").strip() for line in example.splitlines() if "=" in line
    }
    read_by_settings = set(SETTINGS_ENV) - {"DJANGO_SETTINGS_MODULE", "DJANGO_ALLOW_ASYNC_UNSAFE"}
    assert read_by_settings <= documented
    source = (ROOT / "portal" / "settings" / "base.py").read_text()
    used = set(re.findall(r'(?:environ\.get|env_bool|env_list)\(\s*"([A-Z_]+)"', source))
    assert used <= documented, used - documented
