"""Benchmark: SMS reminders end to end, from planning to the provider, on a throw-away database.

What it measures, for each database asked for:

* planning: ``notifications.services.reminders_plan_many`` for every appointment at once (up to
  three outbox rows each, one per reminder slot), timed alone (target: 10 s or less for
  100,000 appointments);
* sending: one reminder per appointment made due at once (the other slots are withdrawn, so
  each appointment gets exactly one text), queued by ``messages_dispatch_due`` and sent by a
  real ``manage.py qcluster`` through the real Twilio SDK to the Twilio double
  (``tests/notifications/twilio_double.py``) running as a process of its own. Reported:
  messages per second from the first send to the last (``sent_at`` of the rows), and
  ``sent`` (rows ``sent``), ``lost`` (rows that were due and did not end ``sent``, plus rows
  marked sent whose number and text never reached the double) and ``duplicated`` (number and
  text pairs the double recorded more than once). Targets: SQLite with django-q2's ORM broker
  at least 20 a second (aim: 100); PostgreSQL with Redis and two workers at least 500. Also
  reported: CPU per message of the cluster, the double and (PostgreSQL) the database server,
  which share the machine's CPUs.

The population is fictional: one service, 1,000 people (Ofcom's drama range has exactly 1,000
mobile numbers, 07700 900000 to 07700 900999) with accounts and consent to text reminders,
and 100 daytime appointments each, 5 to 104 days ahead, so that every slot is planned.

Everything is made for the run and removed after it: SQLite is a file in a temporary folder;
PostgreSQL is a database ``bench_reminders_<pid>`` created and dropped on the server named by
``--postgres-url`` (a name not starting with ``bench_`` is refused), with Redis database 13
(``--redis-url``) as cache and queue, emptied before and after. The portal runs with
``DJANGO_DEBUG=1`` (needed for the fictional numbers), ``SMS_BACKEND=twilio``,
``SMS_MAX_PER_SECOND=0`` (no rate limit: the figure is the pipeline's, not the limit's) and
the ``Q_WORKERS`` asked for. Each database runs in a child process of its own (Django is set
up once per process); nothing is printed that could carry a phone number or a message's text.

Run from the repository root::

    .venv/bin/python bench/reminders.py                        # SQLite, 100,000 appointments
    .venv/bin/python bench/reminders.py --database both        # and PostgreSQL + Redis
    .venv/bin/python bench/reminders.py --appointments 2000    # a quick look

``--sqlite-appointments N`` sends only the first N appointments' reminders on SQLite (all are
still planned), for when sending 100,000 there would take too long; the output says so. The
last line printed is one JSON object with every figure. Nothing here is a test: the figures
depend on the machine.
"""

from __future__ import annotations

import argparse
import http.client
import json
import logging
import os
import re
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock
from pathlib import Path
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from throwaway import ThrowawayDatabase, clean_environment, service_users_create

REPO_ROOT = Path(__file__).resolve().parent.parent
DOUBLE_SCRIPT = REPO_ROOT / "tests" / "notifications" / "twilio_double.py"
LONDON = ZoneInfo("Europe/London")

PEOPLE = 1_000  # the whole drama range: +447700900000 to +447700900999
FICTIONAL_PREFIX = "+447700900"
FIRST_NAMES = ("Sam", "Jordan", "Alex", "Charlie", "Casey", "Jamie")
SERVICE_PHONE = "+441134960999"  # Ofcom's drama range for Leeds (0113 496 0xxx)
FROM_NUMBER = "+441134960000"
PLACE_LABEL = "Riverside Centre"
FIRST_DAY_AHEAD = 5  # later than the furthest slot (3 days), so every slot is planned
KEPT_SLOT = "1d"  # the one reminder per appointment that is sent
BATCH = 1_000
REDIS_DB = 13
# Runs of digits long enough to be a phone number, masked in anything echoed from a log.
DIGITS = re.compile(r"\+?\d[\d ]{7,}\d")


CLUSTER_READY_TIMEOUT_S = 60.0
POLL_S = 1.0
PROGRESS_EVERY_S = 30.0
# Give up waiting when nothing has moved for this long: longer than the first retry backoff
# (SMS_RETRY_BASE_SECONDS) so that a retried row is waited for.
STALL_TIMEOUT_S = 180.0

TARGET_PLAN_S = 10.0
TARGET_RATE = {"sqlite": 20.0, "postgres": 500.0}
LABELS = {"sqlite": "SQLite + ORM broker", "postgres": "PostgreSQL + Redis"}


# --- Throw-away database, Redis, processes --------------------------------------------------


def redis_url_checked(url: str) -> str:
    """The bench empties its Redis database: only database 13 is accepted."""
    parts = urlsplit(url)
    if parts.scheme != "redis" or parts.path.strip("/") != str(REDIS_DB):
        raise SystemExit(f"--redis-url must name Redis database {REDIS_DB}, e.g. redis://host/13")
    return url


def redis_flush(url: str) -> None:
    import redis

    client = redis.Redis.from_url(url)
    try:
        client.flushdb()
    finally:
        client.close()


def portal_environment(
    *, database_url: str, redis_url: str | None, double_url: str, workers: int, folder: Path
) -> dict[str, str]:
    """The environment of every Django process here: the child itself, migrate, qcluster."""
    env = clean_environment()
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "portal.settings",
            "DJANGO_DEBUG": "1",  # development defaults: the fictional numbers are allowed
            "DJANGO_PAGE_CACHE_DIR": str(folder / "page-cache"),
            "DATABASE_URL": database_url,
            "SMS_BACKEND": "twilio",
            "TWILIO_ACCOUNT_SID": "AC" + secrets.token_hex(16),
            "TWILIO_AUTH_TOKEN": secrets.token_hex(16),
            "TWILIO_FROM_NUMBER": FROM_NUMBER,
            "TWILIO_API_BASE_URL": double_url,
            "SMS_MAX_PER_SECOND": "0",
            "Q_WORKERS": str(workers),
            "PYTHONUNBUFFERED": "1",
        }
    )
    if redis_url:
        env["REDIS_URL"] = redis_url
    return env


def start_double(folder: Path) -> tuple[subprocess.Popen[str], str, str, str]:
    """The Twilio double as a process of its own; returns it, its URL and its credentials."""
    account_sid, auth_token = "AC" + secrets.token_hex(16), secrets.token_hex(16)
    log = (folder / "double.log").open("w")
    double = subprocess.Popen(
        [
            sys.executable,
            str(DOUBLE_SCRIPT),
            "--port",
            "0",
            "--account-sid",
            account_sid,
            "--auth-token",
            auth_token,
        ],
        cwd=REPO_ROOT,
        stdout=subprocess.PIPE,
        stderr=log,
        stdin=subprocess.DEVNULL,
        text=True,
        start_new_session=True,  # Ctrl-C reaches this script, which stops it
    )
    line = double.stdout.readline().strip() if double.stdout else ""
    if not line.startswith("READY "):
        stop_process(double)
        raise SystemExit(f"The Twilio double did not start: {line or 'no output'}")
    return double, line.removeprefix("READY "), account_sid, auth_token


def start_cluster(env: dict[str, str], log_path: Path) -> subprocess.Popen[bytes]:
    with log_path.open("wb") as log:
        return subprocess.Popen(
            [sys.executable, "manage.py", "qcluster"],
            cwd=REPO_ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def wait_for_cluster(cluster: subprocess.Popen[bytes], log_path: Path) -> None:
    """django-q2 logs "Q Cluster <name> running." once its workers are up."""
    deadline = time.monotonic() + CLUSTER_READY_TIMEOUT_S
    while time.monotonic() < deadline:
        if cluster.poll() is not None:
            break
        if re.search(r"Q Cluster .+ running\.", log_path.read_text(errors="replace")):
            return
        time.sleep(0.2)
    tail = "\n".join(log_path.read_text(errors="replace").splitlines()[-30:])
    raise SystemExit(f"qcluster did not start:\n{tail}")


def stop_process(process: subprocess.Popen, timeout: float = 30.0) -> None:
    """SIGTERM (django-q2 lets its workers finish their task), then SIGKILL to the group."""
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)


def cpu_seconds(
    *, group: int | None = None, pid: int | None = None, command: str | None = None
) -> float:
    """CPU time (user + system) used so far by one process, by every process of a process
    group (the qcluster and its workers), or by every process with this command name (the
    PostgreSQL server on this machine), from /proc (Linux; 0 elsewhere). Children that have
    exited and been reaped count in their parent's figures: django-q2 replaces each worker
    after 500 tasks, and PostgreSQL's postmaster reaps the backends."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0
    entries = [Path(f"/proc/{pid}")] if pid is not None else Path("/proc").glob("[0-9]*")
    for entry in entries:
        try:
            if command is not None and (entry / "comm").read_text().strip() != command:
                continue
            fields = (entry / "stat").read_text().rpartition(")")[2].split()
        except OSError:
            continue
        # After the command: state, ppid, pgrp, ...; utime, stime, cutime, cstime are the
        # 12th to the 15th.
        if group is None or int(fields[2]) == group:
            total += sum(int(value) for value in fields[11:15])
    return total / tick


def machine() -> str:
    load = ", ".join(f"{n:.1f}" for n in os.getloadavg())
    return f"{os.cpu_count()} CPUs, load average {load}"


def manage(env: dict[str, str], *args: str) -> None:
    completed = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if completed.returncode != 0:
        sys.stderr.write(completed.stdout + completed.stderr)
        raise SystemExit(f"manage.py {' '.join(args)} failed (exit {completed.returncode})")


def double_get(base_url: str, path: str):
    parts = urlsplit(base_url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=600)
    try:
        connection.request("GET", path)
        response = connection.getresponse()
        body = response.read()
        if response.status != 200:
            raise SystemExit(f"The Twilio double answered {path} with HTTP {response.status}")
        return json.loads(body)
    finally:
        connection.close()


# --- The population -------------------------------------------------------------------------


def appointment_start(person: int, number: int, today: date) -> datetime:
    """Daytime in UK time, 09:00 to 16:30 by person, one day after another: every slot of
    every appointment falls outside quiet hours or moves earlier, so all three are planned."""
    day = today + timedelta(days=FIRST_DAY_AHEAD + number)
    minutes = 9 * 60 + 30 * (person % 16)
    local = datetime.combine(day, clock(minutes // 60, minutes % 60), tzinfo=LONDON)
    return local.astimezone(UTC)


def populate(appointments_per_person: int) -> dict[str, int]:
    """Write the population in bulk (fixture data: no per-row validation, no signals)."""
    from django.contrib.auth.hashers import UNUSABLE_PASSWORD_PREFIX
    from django.db import transaction
    from django.utils import timezone

    from peer_support.models import Appointment, ServiceUserRecord
    from portal.models import ConsentMethod, ConsentPurpose, Membership, Service, User
    from portal.roles import Role

    now = timezone.now()
    today = timezone.localdate()
    password = UNUSABLE_PASSWORD_PREFIX + "bench"
    with transaction.atomic():
        service = Service.objects.create(
            name="Bench Liaison and Diversion Service",
            slug="bench",
            area="Bench (fictional)",
            phone=SERVICE_PHONE,
            hours="Every day",
        )
        staff = User.objects.create(username="bench-coordinator", password=password)
        Membership.objects.create(user=staff, service=service, role=Role.COORDINATOR)
        users = service_users_create(
            [f"bench-person-{i}" for i in range(PEOPLE)],
            service=service,
            staff=staff,
            purpose=ConsentPurpose.SMS_REMINDERS,
            method=ConsentMethod.VERBAL_PHONE,
            now=now,
            batch=BATCH,
        )
        records = ServiceUserRecord.objects.bulk_create(
            [
                ServiceUserRecord(
                    service=service,
                    user=user,
                    preferred_name=FIRST_NAMES[i % len(FIRST_NAMES)],
                    mobile=f"{FICTIONAL_PREFIX}{i:03d}",
                    age_band="25_plus",
                    status=ServiceUserRecord.Status.MATCHED,
                )
                for i, user in enumerate(users)
            ],
            batch_size=BATCH,
        )
        made = 0
        for number in range(appointments_per_person):
            Appointment.objects.bulk_create(
                [
                    Appointment(
                        service_user=record,
                        kind=Appointment.Kind.OTHER,
                        place_label=PLACE_LABEL,
                        address="1 Example Street (fictional)",
                        starts_at=appointment_start(i, number, today),
                        arranged_by=staff,
                    )
                    for i, record in enumerate(records)
                ],
                batch_size=BATCH,
            )
            made += len(records)
    return {"people": len(records), "appointments": made}


def analyze() -> None:
    """PostgreSQL plans by statistics that autovacuum gathers soon after a bulk load."""
    from django.db import connection

    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")


# --- One database: plan, send, check ------------------------------------------------------


def status_counts(rows) -> dict[str, int]:
    from django.db.models import Count

    return {
        row["status"]: row["n"] for row in rows.values("status").annotate(n=Count("pk")).order_by()
    }


def make_one_reminder_due(send_count: int) -> dict[str, int]:
    """Keep the ``KEPT_SLOT`` reminder of the first ``send_count`` appointments, withdraw every
    other planned row (bulk), and make the kept ones due now."""
    from django.db import transaction
    from django.utils import timezone

    from notifications.models import OutboundMessage

    status = OutboundMessage.Status
    with transaction.atomic():
        scheduled = OutboundMessage.objects.filter(
            kind=OutboundMessage.Kind.REMINDER, status=status.SCHEDULED
        )
        kept_ids = list(
            scheduled.filter(slot=KEPT_SLOT)
            .order_by("appointment_id")
            .values_list("appointment_id", flat=True)[:send_count]
        )
        if len(kept_ids) < send_count:
            raise SystemExit(
                f"Only {len(kept_ids)} appointments have a {KEPT_SLOT} reminder planned; "
                f"{send_count} were to be sent."
            )
        last_kept = kept_ids[-1]
        withdrawn = scheduled.exclude(slot=KEPT_SLOT).update(
            status=status.WITHDRAWN, reason="Benchmark: one reminder each.", reason_code="bench"
        )
        withdrawn += scheduled.filter(appointment_id__gt=last_kept).update(
            status=status.WITHDRAWN, reason="Benchmark: not sent.", reason_code="bench"
        )
        due = scheduled.update(send_at=timezone.now() - timedelta(seconds=1))
    appointments = (
        OutboundMessage.objects.filter(status=status.SCHEDULED)
        .values("appointment_id")
        .distinct()
        .count()
    )
    if due != send_count or appointments != send_count:
        raise SystemExit(
            f"Expected {send_count} due rows for as many appointments, got {due} rows for "
            f"{appointments} appointments."
        )
    return {"withdrawn": withdrawn, "due": due}


def wait_until_sent(due: int) -> dict[str, float | int]:
    """Poll until no row is scheduled, queued or sending. A row a temporary failure put back
    to ``scheduled`` is queued again once due, as the minute schedule would."""
    from notifications import services
    from notifications.models import OutboundMessage

    status = OutboundMessage.Status
    pending_statuses = (status.SCHEDULED, status.QUEUED, status.SENDING)
    started = last_progress_at = last_print = time.monotonic()
    last_pending = due
    redispatched = 0
    while True:
        time.sleep(POLL_S)
        counts = status_counts(OutboundMessage.objects.filter(status__in=pending_statuses))
        pending = sum(counts.values())
        now = time.monotonic()
        if pending == 0:
            return {"wait_s": now - started, "redispatched": redispatched, "stalled": 0}
        if pending != last_pending:
            last_pending, last_progress_at = pending, now
        if counts.get(status.SCHEDULED) and not counts.get(status.QUEUED):
            redispatched += services.messages_dispatch_due()
        if now - last_print >= PROGRESS_EVERY_S:
            last_print = now
            print(
                f"  ... {due - pending} of {due} done after {now - started:.0f} s "
                f"({', '.join(f'{n} {s}' for s, n in sorted(counts.items()))})",
                flush=True,
            )
        if now - last_progress_at > STALL_TIMEOUT_S:
            print(f"  nothing moved for {STALL_TIMEOUT_S:.0f} s: stopped waiting", flush=True)
            return {"wait_s": now - started, "redispatched": redispatched, "stalled": pending}


def check_delivery(double_url: str) -> dict[str, int]:
    """Compare what the outbox says was sent with what reached the double."""
    from notifications.models import OutboundMessage

    at_double = Counter(
        (message["to"], message["body"]) for message in double_get(double_url, "/_double/messages")
    )
    sent_rows = list(
        OutboundMessage.objects.filter(status=OutboundMessage.Status.SENT).values_list(
            "to", "body"
        )
    )
    sent_pairs = set(sent_rows)
    return {
        "at_double": sum(at_double.values()),
        "missing_at_double": sum(1 for pair in sent_rows if pair not in at_double),
        "duplicated": sum(1 for n in at_double.values() if n > 1),
        "duplicate_copies": sum(n - 1 for n in at_double.values() if n > 1),
        "unexpected_at_double": sum(n for pair, n in at_double.items() if pair not in sent_pairs),
    }


def run_phase(args: argparse.Namespace) -> dict:
    """One database, in this process (the parent starts one process per database)."""
    kind = args.phase
    folder = Path(tempfile.mkdtemp(prefix=f"bench_reminders_{kind}_"))
    database = ThrowawayDatabase(
        args.postgres_url if kind == "postgres" else None,
        prefix="bench_reminders",
        option="--postgres-url",
    )
    redis_url = redis_url_checked(args.redis_url) if kind == "postgres" else None
    send_count = args.appointments
    if kind == "sqlite" and args.sqlite_appointments:
        send_count = min(args.sqlite_appointments, args.appointments)
    per_person = args.appointments // PEOPLE
    double = cluster = None
    created_database = False
    print(f"\n== {LABELS[kind]}: {database.label}, {args.workers} workers ==", flush=True)
    try:
        double, double_url, account_sid, auth_token = start_double(folder)
        env = portal_environment(
            database_url=database.url,
            redis_url=redis_url,
            double_url=double_url,
            workers=args.workers,
            folder=folder,
        )
        env["TWILIO_ACCOUNT_SID"], env["TWILIO_AUTH_TOKEN"] = account_sid, auth_token
        if redis_url:
            redis_flush(redis_url)
        database.create()
        created_database = True

        t = time.perf_counter()
        manage(env, "migrate", "--no-input")
        migrate_s = time.perf_counter() - t

        os.environ.clear()
        os.environ.update(env)
        if str(REPO_ROOT) not in sys.path:
            sys.path.insert(0, str(REPO_ROOT))
        import django
        from django.conf import settings

        django.setup()
        settings.DEBUG = False  # DEBUG keeps every query's SQL; the figures are about the work
        logging.getLogger("django-q").setLevel(logging.WARNING)  # a line per task queued
        from django.db import connections
        from django.db.models import Max, Min

        from notifications import services
        from notifications.models import OutboundMessage
        from peer_support.models import Appointment

        t = time.perf_counter()
        made = populate(per_person)
        analyze()
        insert_s = time.perf_counter() - t
        print(
            f"migrated in {migrate_s:.1f} s; inserted 1 service, {made['people']} people "
            f"(accounts, consent to text reminders, mobiles 07700 900000-999) and "
            f"{made['appointments']} appointments in {insert_s:.1f} s",
            flush=True,
        )

        # 1. Planning.
        ids = list(Appointment.objects.order_by("pk").values_list("pk", flat=True))
        t = time.perf_counter()
        planned = services.reminders_plan_many(appointment_ids=ids)
        plan_s = time.perf_counter() - t
        plan_counts = status_counts(OutboundMessage.objects.all())
        rows = sum(plan_counts.values())
        print(
            f"plan: reminders_plan_many for {len(ids)} appointments in {plan_s:.2f} s "
            f"(target {TARGET_PLAN_S:.0f} s or less): {rows} rows created "
            f"({rows / max(len(ids), 1):.2f} per appointment; "
            + ", ".join(f"{n} {s}" for s, n in sorted(plan_counts.items()))
            + f"; {planned} returned)",
            flush=True,
        )

        # 2. One reminder per appointment, due now.
        made_due = make_one_reminder_due(send_count)
        analyze()
        partial = (
            f" (only the first {send_count} of {len(ids)} appointments: --sqlite-appointments)"
            if send_count < len(ids)
            else ""
        )
        print(
            f"send: kept the {KEPT_SLOT} reminder of {send_count} appointments{partial}, "
            f"withdrew {made_due['withdrawn']} other rows; {made_due['due']} rows due now",
            flush=True,
        )
        connections.close_all()

        # 3. A real cluster sends them.
        cluster_log = folder / "qcluster.log"
        cluster = start_cluster(env, cluster_log)
        wait_for_cluster(cluster, cluster_log)
        broker = "Redis db 13" if redis_url else "ORM broker"
        print(f"machine before sending: {machine()}", flush=True)
        cpu_before = (
            cpu_seconds(group=cluster.pid),
            cpu_seconds(pid=double.pid),
            cpu_seconds(command="postgres") if kind == "postgres" else 0.0,
        )
        t0 = time.perf_counter()
        queued = services.messages_dispatch_due()
        dispatch_s = time.perf_counter() - t0
        tasks = -(-queued // settings.SMS_DISPATCH_BATCH)
        print(
            f"dispatch: messages_dispatch_due queued {queued} rows in {tasks} tasks of up to "
            f"{settings.SMS_DISPATCH_BATCH} ids ({broker}) in {dispatch_s:.1f} s; qcluster with "
            f"{args.workers} workers, SMS_BACKEND=twilio at the double, no rate limit",
            flush=True,
        )
        waited = wait_until_sent(made_due["due"])
        wall_s = time.perf_counter() - t0
        cluster_cpu_s = cpu_seconds(group=cluster.pid) - cpu_before[0]
        double_cpu_s = cpu_seconds(pid=double.pid) - cpu_before[1]
        server_cpu_s = (
            cpu_seconds(command="postgres") - cpu_before[2] if kind == "postgres" else 0.0
        )
        load_after = machine()
        stop_process(cluster)
        cluster_errors = [
            line
            for line in cluster_log.read_text(errors="replace").splitlines()
            if "ERROR" in line or "Traceback" in line
        ]

        # 4. What happened.
        due_rows = OutboundMessage.objects.filter(queued_at__isnull=False)
        outcome = status_counts(due_rows)
        never_queued = OutboundMessage.objects.filter(
            status=OutboundMessage.Status.SCHEDULED, queued_at__isnull=True
        ).count()
        sent = outcome.get(OutboundMessage.Status.SENT, 0)
        span = due_rows.filter(status=OutboundMessage.Status.SENT).aggregate(
            first=Min("sent_at"), last=Max("sent_at")
        )
        send_span_s = (
            (span["last"] - span["first"]).total_seconds() if span["first"] is not None else 0.0
        )
        rate = sent / send_span_s if send_span_s > 0 else 0.0
        delivery = check_delivery(double_url)
        double_stats = double_get(double_url, "/_double/stats")
        not_sent = made_due["due"] - sent
        lost = not_sent + delivery["missing_at_double"]
        target = TARGET_RATE[kind]
        aim = ", aim 100/s" if kind == "sqlite" else ""
        print(
            f"sent {sent} messages ({sent} outbox rows, one per appointment; planning made "
            f"{rows}) in {send_span_s:.1f} s from first to last send: {rate:.1f} messages/s "
            f"(target {target:.0f}/s or more{aim}); "
            f"{wall_s:.1f} s from dispatch to the last row settled",
            flush=True,
        )
        print(
            f"lost {lost} ({not_sent} due rows not sent: "
            + (", ".join(f"{n} {s}" for s, n in sorted(outcome.items()) if s != "sent") or "none")
            + (f", {never_queued} never queued" if never_queued else "")
            + f"; {delivery['missing_at_double']} marked sent but missing at the double); "
            f"duplicated {delivery['duplicated']} (number and text pairs the double recorded "
            f"more than once); the double recorded {delivery['at_double']} messages from "
            f"{double_stats['create_requests']} requests over {double_stats['connections']} "
            f"connections"
            + (f"; queued again after a retry: {waited['redispatched']}")
            + (f"; cluster log has {len(cluster_errors)} error lines" if cluster_errors else ""),
            flush=True,
        )
        per = max(sent, 1)
        print(
            f"CPU while sending: qcluster (workers, pusher, monitor) {cluster_cpu_s:.0f} s = "
            f"{1000 * cluster_cpu_s / per:.1f} ms per message; the Twilio double "
            f"{double_cpu_s:.0f} s = {1000 * double_cpu_s / per:.1f} ms per message; "
            + (
                f"the PostgreSQL server (autovacuum included) {server_cpu_s:.0f} s = "
                f"{1000 * server_cpu_s / per:.1f} ms per message; "
                if kind == "postgres"
                else ""
            )
            + f"machine after sending: {load_after}",
            flush=True,
        )
        for line in cluster_errors[:5]:
            print(f"  qcluster: {DIGITS.sub('<digits>', line)[:200]}")
        connections.close_all()
        return {
            "database": kind,
            "label": LABELS[kind],
            "workers": args.workers,
            "appointments": len(ids),
            "people": made["people"],
            "migrate_s": round(migrate_s, 2),
            "insert_s": round(insert_s, 2),
            "plan_s": round(plan_s, 3),
            "plan_rows": rows,
            "plan_statuses": plan_counts,
            "due": made_due["due"],
            "sent_appointments_only_first": send_count if partial else None,
            "dispatch_s": round(dispatch_s, 2),
            "tasks": tasks,
            "sent": sent,
            "send_span_s": round(send_span_s, 2),
            "messages_per_s": round(rate, 1),
            "wall_s": round(wall_s, 1),
            "lost": lost,
            "not_sent": not_sent,
            "outcome": outcome,
            "duplicated": delivery["duplicated"],
            "duplicate_copies": delivery["duplicate_copies"],
            "missing_at_double": delivery["missing_at_double"],
            "unexpected_at_double": delivery["unexpected_at_double"],
            "double": double_stats,
            "redispatched": waited["redispatched"],
            "stalled": waited["stalled"],
            "cluster_error_lines": len(cluster_errors),
            "cluster_cpu_ms_per_message": round(1000 * cluster_cpu_s / per, 2),
            "double_cpu_ms_per_message": round(1000 * double_cpu_s / per, 2),
            "postgres_cpu_ms_per_message": (
                round(1000 * server_cpu_s / per, 2) if kind == "postgres" else None
            ),
            "machine_after": load_after,
            "target_plan_s": TARGET_PLAN_S,
            "target_messages_per_s": target,
        }
    finally:
        if cluster is not None:
            stop_process(cluster)
        if double is not None:
            stop_process(double)
        if "django" in sys.modules:
            from django.db import connections

            connections.close_all()
        if created_database:
            database.drop()
        if redis_url:
            redis_flush(redis_url)
        shutil.rmtree(folder, ignore_errors=True)


# --- The parent: one child per database, then the table ------------------------------------


def run_child(args: argparse.Namespace, kind: str, results: Path) -> dict | None:
    command = [
        sys.executable,
        str(Path(__file__).resolve()),
        "--phase",
        kind,
        "--results-file",
        str(results),
        "--appointments",
        str(args.appointments),
        "--workers",
        str(args.workers),
        "--postgres-url",
        args.postgres_url,
        "--redis-url",
        args.redis_url,
    ]
    if args.sqlite_appointments:
        command += ["--sqlite-appointments", str(args.sqlite_appointments)]
    child = subprocess.Popen(command, cwd=REPO_ROOT)
    try:
        returncode = child.wait()
    except BaseException:
        # Ctrl-C reached the child too; a SIGTERM to this script is passed on, so that the
        # child stops its processes and drops its database either way.
        child.terminate()
        child.wait()
        raise
    if returncode != 0 or not results.exists():
        print(f"{LABELS[kind]}: the run failed (exit {returncode})", file=sys.stderr)
        return None
    return json.loads(results.read_text())


def print_table(figures: list[dict]) -> None:
    def row(label: str, key) -> str:
        cells = "".join(f"{key(f):>24}" for f in figures)
        return f"{label:<34}{cells}"

    print("\nFigures")
    print(row("", lambda f: f["label"]))
    print(row("appointments planned", lambda f: f"{f['appointments']:,}"))
    print(row("plan time (target <= 10 s)", lambda f: f"{f['plan_s']:.2f} s"))
    print(row("outbox rows planned", lambda f: f"{f['plan_rows']:,}"))
    print(row("reminders due (1 per appt.)", lambda f: f"{f['due']:,}"))
    print(row("sent (rows sent)", lambda f: f"{f['sent']:,}"))
    print(row("lost", lambda f: f"{f['lost']:,}"))
    print(row("duplicated", lambda f: f"{f['duplicated']:,}"))
    print(row("first to last send", lambda f: f"{f['send_span_s']:.1f} s"))
    print(
        row(
            "messages/s (target)",
            lambda f: f"{f['messages_per_s']:.1f} (>= {f['target_messages_per_s']:.0f})",
        )
    )
    print(row("qcluster CPU per message", lambda f: f"{f['cluster_cpu_ms_per_message']:.1f} ms"))
    print(
        row(
            "PostgreSQL CPU per message",
            lambda f: (
                "-"
                if f.get("postgres_cpu_ms_per_message") is None
                else f"{f['postgres_cpu_ms_per_message']:.1f} ms"
            ),
        )
    )
    print(row("workers", lambda f: str(f["workers"])))
    for f in figures:
        if f["sent_appointments_only_first"]:
            print(
                f"{f['label']}: sent the reminders of the first "
                f"{f['sent_appointments_only_first']:,} appointments only (--sqlite-appointments)"
            )
    print(json.dumps({f["database"]: f for f in figures}, separators=(",", ":"), sort_keys=True))


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--appointments", type=int, default=100_000)
    parser.add_argument("--database", choices=("sqlite", "postgres", "both"), default="sqlite")
    parser.add_argument("--workers", type=int, default=2, help="qcluster workers (Q_WORKERS)")
    parser.add_argument(
        "--sqlite-appointments",
        type=int,
        metavar="N",
        help="on SQLite, send the reminders of the first N appointments only (all are planned)",
    )
    parser.add_argument(
        "--postgres-url",
        default="postgres://postgres@127.0.0.1:5432/",
        help="the server on which bench_reminders_<pid> is created and dropped",
    )
    parser.add_argument(
        "--redis-url",
        default=f"redis://127.0.0.1:6379/{REDIS_DB}",
        help=f"Redis for PostgreSQL runs; database {REDIS_DB}, emptied before and after",
    )
    parser.add_argument("--phase", choices=("sqlite", "postgres"), help=argparse.SUPPRESS)
    parser.add_argument("--results-file", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.appointments < PEOPLE or args.appointments % PEOPLE:
        parser.error(f"--appointments must be a multiple of {PEOPLE} (one per person each)")
    if args.workers < 1:
        parser.error("--workers must be 1 or more")
    return args


def _exit_on_sigterm(signum, frame) -> None:
    raise SystemExit(143)  # runs the clean-up in ``finally``


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    signal.signal(signal.SIGTERM, _exit_on_sigterm)
    if args.phase:
        figures = run_phase(args)
        Path(args.results_file).write_text(json.dumps(figures))
        return
    kinds = ["sqlite", "postgres"] if args.database == "both" else [args.database]
    print(
        f"Reminder benchmark: {args.appointments:,} appointments for {PEOPLE:,} people, "
        f"{args.workers} workers; databases: {', '.join(LABELS[k] for k in kinds)}",
        flush=True,
    )
    figures = []
    with tempfile.TemporaryDirectory(prefix="bench_reminders_") as tmp:
        for kind in kinds:
            result = run_child(args, kind, Path(tmp) / f"{kind}.json")
            if result is not None:
                figures.append(result)
    if figures:
        print_table(figures)
    if len(figures) != len(kinds):
        raise SystemExit(1)


if __name__ == "__main__":
    main()
