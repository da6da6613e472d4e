"""Senders killed with SIGKILL at the worst moments, a whole django-q2 cluster killed while it
sends, and PostgreSQL restarted under a running cluster. Real processes throughout: a
throw-away database (an SQLite file, or a PostgreSQL database of our own when DATABASE_URL
points at PostgreSQL), the Twilio double as a process of its own, senders forked from
tests/notifications/fault_child.py, and ``manage.py qcluster`` as `make run` starts it.

The claim to test: whatever dies when, every reminder is sent, and the provider holds exactly
one message for each (none lost, none twice). A sender that dies without knowing what the
provider did leaves its row ``sending``; the sweep asks the provider and settles it.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest
import requests
from django.db import connections

from tests.conftest import ROOT, clean_env, in_ci, run_manage

from .conftest import DOUBLE_ACCOUNT_SID, DOUBLE_AUTH_TOKEN, DOUBLE_MESSAGING_SERVICE_SID

# Runs in `make test`'s second, serial pytest run: its cluster shares the Redis queue with
# tests/portal/test_worker.py, and one test restarts the shared PostgreSQL server.
pytestmark = pytest.mark.serial

DOUBLE_SCRIPT = Path(__file__).with_name("twilio_double.py")
# How long the double holds a request it was told to hang on: long enough to kill a sender in
# the middle, far shorter than the sender's own timeout (10 s), so that "hang_after" with no
# kill is an answer that arrives late, not a timeout.
HANG_SECONDS = 0.5
ROWS_PER_KILL_POINT = 10

DATABASE_URL = os.environ.get("DATABASE_URL", "")
ON_POSTGRESQL = DATABASE_URL.startswith(("postgres://", "postgresql://"))
TABLE = "notifications_outboundmessage"


def wait_until(condition: Callable[[], object], *, timeout: float, what: str) -> object:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.01)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


# --- The pieces: database, double, fork server, cluster ----------------------------------------


class ThrowawayDatabase:
    """The database the child processes use, read and locked directly by the test (raw SQL:
    the test process's own Django is connected to pytest-django's database)."""

    def __init__(self, tmp_path: Path) -> None:
        if ON_POSTGRESQL:
            url = urlsplit(DATABASE_URL)
            self.name = f"faults_kill_{os.getpid()}"
            self.admin_url = urlunsplit(url._replace(path="/postgres"))
            self.url = urlunsplit(url._replace(path=f"/{self.name}"))
            with self._admin() as admin:
                admin.execute(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')
                admin.execute(f'CREATE DATABASE "{self.name}"')
        else:
            self.path = tmp_path / "kill.sqlite3"
            self.url = f"sqlite:///{self.path}"

    def _admin(self):
        import psycopg

        return psycopg.connect(self.admin_url, autocommit=True)

    def drop(self) -> None:
        if ON_POSTGRESQL:
            with self._admin() as admin:
                admin.execute(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')

    def connect(self):
        if ON_POSTGRESQL:
            import psycopg

            return psycopg.connect(self.url, autocommit=True)
        return sqlite3.connect(self.path, timeout=30, isolation_level=None)

    def rows(self, ids: list[int]) -> dict[int, tuple[str, str, str, str]]:
        """id -> (status, to, body, provider_sid)."""
        marks = ",".join(["%s" if ON_POSTGRESQL else "?"] * len(ids))
        columns = 'id, status, "to", body, provider_sid'
        query = f"SELECT {columns} FROM {TABLE} WHERE id IN ({marks})"  # noqa: S608 - no input
        with contextlib.closing(self.connect()) as db:
            return {row[0]: tuple(row[1:]) for row in db.execute(query, ids).fetchall()}

    @contextlib.contextmanager
    def write_lock(self, message_id: int) -> Iterator[None]:
        """Hold a lock that makes the row's next UPDATE wait: the whole file on SQLite, the
        row on PostgreSQL."""
        with contextlib.closing(self.connect()) as db:
            if ON_POSTGRESQL:
                db.autocommit = False
                lock = f"SELECT id FROM {TABLE} WHERE id = %s FOR UPDATE"  # noqa: S608 - no input
                db.execute(lock, [message_id])
            else:
                db.execute("BEGIN IMMEDIATE")
            try:
                yield
            finally:
                db.rollback() if ON_POSTGRESQL else db.execute("ROLLBACK")

    def end_sessions_waiting_for_a_lock(self) -> None:
        """PostgreSQL runs a statement to the end even when the client that sent it has died
        (it notices only when it next writes to it): a killed sender's UPDATE, blocked on our
        lock, would still commit once we let go. End those sessions, as a lost connection
        would, so that the answer is really never stored."""
        with contextlib.closing(self.connect()) as db:
            db.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = %s AND wait_event_type = 'Lock'",
                [self.name],
            )
        wait_until(lambda: not self.someone_waits_for_a_lock(), timeout=10, what="the session")

    def someone_waits_for_a_lock(self) -> bool:
        """PostgreSQL only: a session of this database is blocked on a lock."""
        with contextlib.closing(self.connect()) as db:
            (waiting,) = db.execute(
                "SELECT count(*) FROM pg_stat_activity "
                "WHERE datname = %s AND wait_event_type = 'Lock'",
                [self.name],
            ).fetchone()
        return waiting > 0


class DoubleProcess:
    """tests/notifications/twilio_double.py as a process of its own, driven over HTTP."""

    def __init__(self, log: Path) -> None:
        self.log = log.open("w")
        self.process = subprocess.Popen(
            [
                sys.executable,
                str(DOUBLE_SCRIPT),
                "--port=0",
                f"--account-sid={DOUBLE_ACCOUNT_SID}",
                f"--auth-token={DOUBLE_AUTH_TOKEN}",
                f"--hang-seconds={HANG_SECONDS}",
            ],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=self.log,
            text=True,
        )
        ready = self.process.stdout.readline().split()
        assert ready[:1] == ["READY"], ready
        self.base_url = ready[1]
        self.http = requests.Session()

    def _post(self, path: str, payload) -> None:
        self.http.post(
            f"{self.base_url}/_double/{path}", json=payload, timeout=10
        ).raise_for_status()

    def faults(self, *faults: str) -> None:
        self._post("faults", list(faults))

    def reset(self) -> None:
        self._post("reset", None)

    def stats(self) -> dict[str, int]:
        return self.http.get(f"{self.base_url}/_double/stats", timeout=10).json()

    def messages(self) -> list[dict]:
        return self.http.get(f"{self.base_url}/_double/messages", timeout=30).json()

    def stop(self) -> None:
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.log.close()


class ForkServer:
    """tests/notifications/fault_child.py: Django set up once, a fork per command."""

    def __init__(self, env: dict[str, str], log: Path) -> None:
        self.log = log.open("w")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "tests.notifications.fault_child"],
            cwd=ROOT,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self.log,
            text=True,
            bufsize=1,
        )
        self._answers: dict[str, list[dict]] = {}
        self._changed = threading.Condition()
        self._tags = itertools.count()
        self._write = threading.Lock()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        for line in self.process.stdout:
            try:
                answer = json.loads(line)
            except ValueError:
                continue  # not ours
            with self._changed:
                self._answers.setdefault(str(answer.get("tag")), []).append(answer)
                self._changed.notify_all()

    def _wait(self, tag: str, key: str, timeout: float) -> dict:
        def found():
            return next((a for a in self._answers.get(tag, []) if key in a or "error" in a), None)

        with self._changed:
            if not self._changed.wait_for(found, timeout=timeout):
                raise AssertionError(
                    f"no {key} for command {tag} in {timeout} s; see {self.log.name}"
                )
            answer = found()
        assert "error" not in answer, answer["error"]
        return answer

    def ready(self, timeout: float = 120) -> None:
        self._wait("ready", "pid", timeout)

    def start(self, cmd: str, **args) -> tuple[str, int]:
        """Fork a child for ``cmd``; returns its tag and process id at once."""
        tag = str(next(self._tags))
        with self._write:
            self.process.stdin.write(json.dumps({"tag": tag, "cmd": cmd, "args": args}) + "\n")
            self.process.stdin.flush()
        return tag, self._wait(tag, "pid", 30)["pid"]

    def result(self, tag: str, timeout: float = 120):
        return self._wait(tag, "result", timeout)["result"]

    def done(self, tag: str) -> bool:
        with self._changed:
            return any("result" in a or "error" in a for a in self._answers.get(tag, []))

    def run(self, cmd: str, timeout: float = 120, **args):
        tag, _ = self.start(cmd, **args)
        return self.result(tag, timeout)

    def stop(self) -> None:
        self.process.stdin.close()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.log.close()


def kill(pid: int) -> None:
    """SIGKILL and wait until the process is gone (the fork server's children are reaped by
    the kernel, so it vanishes from /proc)."""
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)
    wait_until(lambda: not Path(f"/proc/{pid}").exists(), timeout=10, what=f"process {pid}")


@dataclass
class World:
    db: ThrowawayDatabase
    double: DoubleProcess
    forks: ForkServer
    env: dict[str, str]
    tmp: Path

    def due_reminders(self, count: int) -> list[int]:
        return self.forks.run("setup", count=count, timeout=300)

    def assert_each_sent_exactly_once(self, ids: list[int]) -> Counter:
        rows = self.db.rows(ids)
        statuses = Counter(status for status, _, _, _ in rows.values())
        assert statuses == {"sent": len(ids)}, statuses
        at_double = Counter((m["to"], m["body"]) for m in self.double.messages())
        wanted = Counter((to, body) for _, to, body, _ in rows.values())
        assert len(wanted) == len(ids), "each row has a text of its own"
        lost = wanted - at_double
        duplicated = {key: n for key, n in at_double.items() if n > 1}
        assert not lost and not duplicated and at_double == wanted, (len(lost), len(duplicated))
        sids = {m["sid"] for m in self.double.messages()}
        assert {sid for _, _, _, sid in rows.values()} <= sids
        return statuses


@pytest.fixture(scope="module")
def world(tmp_path_factory) -> Iterator[World]:
    tmp = tmp_path_factory.mktemp("kill")
    db = ThrowawayDatabase(tmp)
    double = DoubleProcess(tmp / "double.log")
    env = {
        "DJANGO_DEBUG": "1",
        "DATABASE_URL": db.url,
        "PUBLIC_BASE_URL": "http://portal.test",
        "SMS_BACKEND": "twilio",
        "TWILIO_ACCOUNT_SID": DOUBLE_ACCOUNT_SID,
        "TWILIO_AUTH_TOKEN": DOUBLE_AUTH_TOKEN,
        "TWILIO_MESSAGING_SERVICE_SID": DOUBLE_MESSAGING_SERVICE_SID,
        "TWILIO_API_BASE_URL": double.base_url,
        "DJANGO_SETTINGS_MODULE": "portal.settings",
    }
    if os.environ.get("REDIS_URL"):
        env["REDIS_URL"] = os.environ["REDIS_URL"]
    forks = ForkServer(clean_env(**env), tmp / "forks.log")  # starts while migrate runs
    try:
        migrate = run_manage("migrate", "--no-input", **env)
        assert migrate.returncode == 0, migrate.stderr
        forks.ready()
        yield World(db=db, double=double, forks=forks, env=env, tmp=tmp)
    finally:
        forks.stop()
        double.stop()
        db.drop()


# --- Kill points ------------------------------------------------------------------------------


def kill_after_the_claim_before_the_call(world: World, message_id: int) -> None:
    """Claimed and text stored (both committed), then SIGKILL just before the HTTP request:
    the sender's client kills its own process when asked to send (fault_child.py), so the
    provider never hears of it."""
    before = world.double.stats()["create_requests"]
    _, pid = world.forks.start("send", message_id=message_id, die_before_the_call=True)
    wait_until(lambda: not Path(f"/proc/{pid}").exists(), timeout=30, what="the sender to die")
    assert world.double.stats()["create_requests"] == before, "no request was sent"


def kill_before_the_provider_records(world: World, message_id: int) -> None:
    """Claimed, text stored, request sent; the provider holds it without recording it."""
    before = world.double.stats()["create_requests"]
    world.double.faults("hang_before")
    _, pid = world.forks.start("send", message_id=message_id)
    wait_until(
        lambda: world.double.stats()["create_requests"] > before, timeout=30, what="the request"
    )
    kill(pid)


def kill_while_the_provider_answers(world: World, message_id: int) -> None:
    """The provider recorded the message; the sender is waiting for the answer."""
    before = world.double.stats()["messages"]
    world.double.faults("hang_after")
    _, pid = world.forks.start("send", message_id=message_id)
    wait_until(lambda: world.double.stats()["messages"] > before, timeout=30, what="the message")
    kill(pid)


def kill_before_the_answer_is_stored(world: World, message_id: int) -> None:
    """The provider answered (late, within the sender's timeout), but the sender cannot
    write the answer down: the test holds the row's lock, then kills the waiting sender."""
    before = world.double.stats()["messages"]
    world.double.faults("hang_after")
    _, pid = world.forks.start("send", message_id=message_id)
    wait_until(lambda: world.double.stats()["messages"] > before, timeout=30, what="the message")
    with world.db.write_lock(message_id):
        if ON_POSTGRESQL:
            wait_until(world.db.someone_waits_for_a_lock, timeout=30, what="a blocked sender")
        else:
            time.sleep(HANG_SECONDS + 0.4)  # SQLite shows no waiters; the answer came by then
        assert Path(f"/proc/{pid}").exists(), "the sender finished instead of waiting"
        kill(pid)
        if ON_POSTGRESQL:
            world.db.end_sessions_waiting_for_a_lock()


def kill_at_a_random_moment(world: World, message_id: int) -> None:
    """Anywhere from fork to done: before the claim, between the claim and storing the
    text, during the call, or after."""
    _, pid = world.forks.start("send", message_id=message_id)
    time.sleep(random.Random(message_id).uniform(0, 0.1))
    kill(pid)


# name: (how to kill, the row's status right after, the provider's messages for it)
KILL_POINTS = {
    "after_the_claim_before_the_call": (kill_after_the_claim_before_the_call, {"sending"}, 0),
    "before_the_provider_records": (kill_before_the_provider_records, {"sending"}, 0),
    "while_the_provider_answers": (kill_while_the_provider_answers, {"sending"}, 1),
    "before_the_answer_is_stored": (kill_before_the_answer_is_stored, {"sending"}, 1),
    "at_a_random_moment": (kill_at_a_random_moment, None, None),
}


@pytest.mark.parametrize("point", list(KILL_POINTS))
def test_a_sender_killed_at_any_point_still_sends_each_reminder_exactly_once(world, point):
    how, status_after, recorded = KILL_POINTS[point]
    ids = world.due_reminders(ROWS_PER_KILL_POINT)
    world.double.reset()

    for message_id in ids:
        how(world, message_id)
    rows = world.db.rows(ids)
    at_double = Counter(m["body"] for m in world.double.messages())
    if status_after is not None:
        assert {status for status, _, _, _ in rows.values()} == status_after
        assert all(body for _, _, body, _ in rows.values()), "the text is stored before the call"
        assert [at_double[body] for _, _, body, _ in rows.values()] == [recorded] * len(ids)
    left = Counter(status for status, _, _, _ in rows.values())

    settled = world.forks.run("finish", ids=ids)
    assert settled == {"sent": len(ids)}, settled
    world.assert_each_sent_exactly_once(ids)
    print(f"\nkill point {point}: {len(ids)} kills, left {dict(left)}, all {len(ids)} sent once")


# --- The whole cluster ------------------------------------------------------------------------


class Cluster:
    """``manage.py qcluster`` in a process group of its own, so SIGKILL takes every worker."""

    def __init__(self, world: World, name: str) -> None:
        self.log = (world.tmp / f"{name}.log").open("w")
        self.process = subprocess.Popen(
            [sys.executable, "manage.py", "qcluster"],
            cwd=ROOT,
            env=clean_env(**world.env),
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def kill(self) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=30)
        self.log.close()

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.process.wait(timeout=30)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)  # workers left behind, if any
        self.process.wait(timeout=30)
        self.log.close()


def drive_until_sent(
    world: World, ids: list[int], *, timeout: float, watch: Callable[[int], None] | None = None
) -> None:
    """Stand in for the every-minute schedule: run the dispatch task about once a second,
    with grace periods of seconds rather than minutes (a claim older than 5 s is stale, a
    queued row older than 1 s is queued again), until every row is sent. Between runs,
    ``watch`` gets the number of messages at the double every few milliseconds."""
    deadline = time.monotonic() + timeout
    nudges: list[str] = []
    next_nudge = time.monotonic()
    while True:
        if watch is not None:
            watch(world.double.stats()["messages"])
        if time.monotonic() >= next_nudge and (not nudges or world.forks.done(nudges[-1])):
            statuses = Counter(status for status, _, _, _ in world.db.rows(ids).values())
            if statuses == {"sent": len(ids)}:
                break
            assert time.monotonic() < deadline, f"not all sent in {timeout} s: {statuses}"
            nudges.append(world.forks.start("dispatch", claim_stale=5, queued_stale=1)[0])
            next_nudge = time.monotonic() + 1
        time.sleep(0.02)
    for tag in nudges:
        world.forks.result(tag)  # each run of the task succeeded


CLUSTER_ROWS = 200
KILL_CLUSTER_AT = (40, 110)  # messages at the double when the cluster is killed


def test_killing_the_whole_cluster_while_it_sends_loses_and_repeats_nothing(world):
    ids = world.due_reminders(CLUSTER_ROWS)
    world.double.reset()
    clusters = [Cluster(world, "cluster-0")]
    killed_at: list[int] = []

    def kill_and_restart(sent: int) -> None:
        if len(killed_at) < len(KILL_CLUSTER_AT) and sent >= KILL_CLUSTER_AT[len(killed_at)]:
            clusters[-1].kill()
            killed_at.append(world.double.stats()["messages"])
            clusters.append(Cluster(world, f"cluster-{len(clusters)}"))

    try:
        world.forks.run("dispatch")
        drive_until_sent(world, ids, timeout=120, watch=kill_and_restart)
    finally:
        clusters[-1].stop()

    assert len(killed_at) == len(KILL_CLUSTER_AT), killed_at
    assert killed_at[-1] < CLUSTER_ROWS, "the kills came while it was still sending"
    world.assert_each_sent_exactly_once(ids)
    print(f"\ncluster: killed at {killed_at} of {CLUSTER_ROWS}; all {CLUSTER_ROWS} sent once")


# --- PostgreSQL restart -----------------------------------------------------------------------


def other_busy_databases(world: World) -> list[str]:
    with contextlib.closing(world.db.connect()) as db:
        rows = db.execute(
            "SELECT DISTINCT datname FROM pg_stat_activity WHERE backend_type = 'client backend' "
            "AND datname IS NOT NULL AND datname NOT IN (%s, 'postgres') "
            "AND datname NOT LIKE 'test_scratch_faults%%' AND pid <> pg_backend_pid()",
            [world.db.name],
        ).fetchall()
    return sorted(name for (name,) in rows)


def postgresql_cluster(port: int) -> tuple[str, str] | None:
    """(version, name) of the local cluster serving ``port``, as pg_ctlcluster wants them:
    from pg_lsclusters, or without it the one version under /etc/postgresql (the one .ci/run
    starts)."""
    try:
        listing = subprocess.run(
            ["pg_lsclusters", "--no-header"], capture_output=True, text=True, timeout=30
        )
    except (OSError, subprocess.TimeoutExpired):
        listing = None
    if listing is not None and listing.returncode == 0:
        for fields in (line.split() for line in listing.stdout.splitlines()):
            if len(fields) >= 3 and fields[2] == str(port):
                return fields[0], fields[1]
        return None  # the server on that port is not one of this machine's clusters
    versions = sorted(path.parent.name for path in Path("/etc/postgresql").glob("*/main"))
    return (versions[0], "main") if len(versions) == 1 else None


def cannot_run_here(reason: str) -> None:
    """Skip on a developer's machine; in CI (CI=true) this test must run, so fail instead."""
    if in_ci():
        pytest.fail(f"{reason}. CI=true: this test must run in CI, not be skipped.", pytrace=False)
    pytest.skip(reason)


PG_RESTART_ROWS = 150


@pytest.mark.skipif(not ON_POSTGRESQL, reason="restarts the PostgreSQL server: PostgreSQL only")
def test_the_cluster_rides_out_a_postgresql_restart_by_itself(world):
    port = urlsplit(DATABASE_URL).port or 5432
    cluster_id = postgresql_cluster(port)
    if cluster_id is None:
        cannot_run_here(f"no local PostgreSQL cluster on port {port} to restart (pg_lsclusters)")
    # This process's own connections (earlier tests' database) would be cut off too: close
    # them, so that only somebody else's count as busy. Django reconnects when next needed.
    connections.close_all()
    busy = other_busy_databases(world)
    if busy:
        cannot_run_here(f"restarting PostgreSQL would cut off others using it: {busy}")
    ids = world.due_reminders(PG_RESTART_ROWS)
    world.double.reset()
    cluster = Cluster(world, "cluster-pg")
    try:
        world.forks.run("dispatch")
        wait_until(
            lambda: world.double.stats()["messages"] >= 20, timeout=60, what="the cluster to send"
        )
        restart = subprocess.run(
            ["pg_ctlcluster", "--skip-systemctl-redirect", *cluster_id, "restart"],
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert restart.returncode == 0, restart.stderr
        at_restart = world.double.stats()["messages"]
        drive_until_sent(world, ids, timeout=120)
        assert cluster.process.poll() is None, "the cluster is the one that was started"
    finally:
        cluster.stop()

    assert at_restart < PG_RESTART_ROWS, "the restart came while it was still sending"
    world.assert_each_sent_exactly_once(ids)
    print(f"\npg restart at {at_restart} of {PG_RESTART_ROWS}; all sent once by the same cluster")
