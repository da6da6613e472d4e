"""What the benchmarks share: a database made for one run and removed after it, and an
environment for Django processes that a developer's shell cannot change."""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from urllib.parse import urlsplit, urlunsplit

BENCH_DATABASE_NAME = re.compile(r"^bench_[a-z0-9_]{1,50}$")

# Settings read from the environment (portal/settings/base.py): cleared from the caller's
# environment so that what is measured is what the benchmark sets.
CLEARED_ENV_PREFIXES = ("DJANGO_", "TWILIO_", "SMS_")
CLEARED_ENV_NAMES = ("DATABASE_URL", "REDIS_URL", "PUBLIC_BASE_URL", "Q_WORKERS")


def clean_environment() -> dict[str, str]:
    return {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(CLEARED_ENV_PREFIXES) and name not in CLEARED_ENV_NAMES
    }


class ThrowawayDatabase:
    """A SQLite file in a temporary folder (``postgres_url`` None), or ``<prefix>_<pid>`` on a
    PostgreSQL server, created and dropped here by name. A name not starting with ``bench_``
    is refused, so nothing real can ever be dropped."""

    def __init__(self, postgres_url: str | None, *, prefix: str, option: str) -> None:
        self.folder = ""
        self.name = ""
        self.kind = "sqlite" if postgres_url is None else "postgres"
        if postgres_url is None:
            self.folder = tempfile.mkdtemp(prefix=f"{prefix}_")
            self.url = f"sqlite:///{self.folder}/bench.sqlite3"
            self.label = "SQLite (temporary file)"
            return
        parts = urlsplit(postgres_url)
        if parts.scheme not in ("postgres", "postgresql"):
            raise SystemExit(f"{option} must be a postgres:// URL")
        self.name = parts.path.strip("/") or f"{prefix}_{os.getpid()}"
        if not BENCH_DATABASE_NAME.match(self.name):
            raise SystemExit(
                f"Refusing database {self.name!r}: the bench creates and drops its own "
                f"database, whose name must start with bench_ (leave it out for {prefix}_<pid>)."
            )
        self.url = urlunsplit(parts._replace(path=f"/{self.name}"))
        self.admin_url = urlunsplit(parts._replace(path="/postgres"))
        self.label = f"PostgreSQL database {self.name} on {parts.hostname}:{parts.port or 5432}"

    def create(self) -> None:
        if not self.name:
            return
        import psycopg
        from psycopg import sql

        with psycopg.connect(self.admin_url, autocommit=True) as admin:
            admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(self.name)))

    def drop(self) -> None:
        if self.folder:
            shutil.rmtree(self.folder, ignore_errors=True)
        if not self.name:
            return
        import psycopg
        from psycopg import sql

        with psycopg.connect(self.admin_url, autocommit=True) as admin:
            admin.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
                    sql.Identifier(self.name)
                )
            )


def service_users_create(
    usernames: list[str], *, service, staff, purpose: str, method: str, now, batch: int
) -> list:
    """Accounts for people the service supports, each with its membership and one consent for
    ``purpose``, written in bulk: fixture data, no per-row validation and no signals. Call it
    inside the caller's transaction, with Django set up."""
    from django.contrib.auth.hashers import UNUSABLE_PASSWORD_PREFIX

    from portal.models import Consent, ConsentWording, Membership, User
    from portal.roles import Role
    from portal.services import consent_wording_ensure

    consent_wording_ensure()
    wording = ConsentWording.objects.filter(purpose=purpose).first()
    if wording is None:
        wording = ConsentWording.objects.create(
            purpose=purpose,
            version=1,
            text="Fictional wording for a benchmark.",
            effective_from=now,
        )
    password = UNUSABLE_PASSWORD_PREFIX + "bench"
    users = User.objects.bulk_create(
        [User(username=name, password=password) for name in usernames], batch_size=batch
    )
    Membership.objects.bulk_create(
        [Membership(user=u, service=service, role=Role.SERVICE_USER) for u in users],
        batch_size=batch,
    )
    Consent.objects.bulk_create(
        [
            Consent(
                subject=u,
                service=service,
                purpose=purpose,
                wording=wording,
                given_at=now,
                given_method=method,
                recorded_by=staff,
            )
            for u in users
        ],
        batch_size=batch,
    )
    return users
