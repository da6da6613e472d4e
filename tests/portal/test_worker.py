"""The real django-q2 cluster (as `make run` starts it) takes a queued task and runs it.

Runs in subprocesses on a throw-away SQLite file; with REDIS_URL set (the PostgreSQL + Redis
CI run) the broker is Redis, otherwise the ORM broker.
"""

import os
import signal
import subprocess
import sys

from tests.conftest import ROOT, clean_env, run_manage

ENQUEUE_AND_WAIT = """
import time
import django
django.setup()
from django_q.models import Task
from portal.queue import enqueue
task_id = enqueue("portal.tasks.sessions_clear_expired")
deadline = time.monotonic() + 60
while time.monotonic() < deadline:
    task = Task.objects.filter(id=task_id).first()
    if task is not None:
        print("RESULT", task.success)
        break
    time.sleep(0.2)
else:
    print("RESULT timeout")
"""


def test_worker_cluster_runs_a_queued_task(tmp_path):
    env = {"DJANGO_DEBUG": "1", "DATABASE_URL": f"sqlite:///{tmp_path / 'worker.sqlite3'}"}
    if os.environ.get("REDIS_URL"):
        env["REDIS_URL"] = os.environ["REDIS_URL"]
    migrate = run_manage("migrate", "--no-input", **env)
    assert migrate.returncode == 0, migrate.stderr

    cluster = subprocess.Popen(
        [sys.executable, "manage.py", "qcluster"],
        cwd=ROOT,
        env=clean_env(**env),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        producer = subprocess.run(
            [sys.executable, "-c", ENQUEUE_AND_WAIT],
            cwd=ROOT,
            env=clean_env(DJANGO_SETTINGS_MODULE="portal.settings", **env),
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert producer.returncode == 0, producer.stderr
        assert "RESULT True" in producer.stdout, producer.stdout
    finally:
        cluster.send_signal(signal.SIGTERM)
        try:
            output, _ = cluster.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            cluster.kill()
            output, _ = cluster.communicate()
    assert "Q Cluster" in output
    assert cluster.returncode is not None, "the cluster must stop when asked"
