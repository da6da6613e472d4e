"""Benchmark: how fast does gunicorn serve the Wagtail home page, next to a static file?

What it measures, on one production-like server (gunicorn, 2 sync workers, DEBUG off,
whitenoise serving hashed static files):

* requests per second for the home page ``/``;
* requests per second for a static file of about the same byte size as the home page, picked
  from what ``collectstatic`` wrote, so the difference is the cost of Django + Wagtail rather
  than of moving bytes;
* how many database queries the home page makes, on a process's first request and once its
  caches are warm (counted in a separate process with Django's test client).

Everything runs against a throw-away site: a temporary directory holds a fresh SQLite database
(migrated and seeded with the fictional demo data) and the collected static files, and is
removed at the end. ``--database-url`` benches PostgreSQL instead (that database is migrated
and seeded with demo data: never point it at a real one); ``--redis-url`` adds a Redis cache.

The load generator is ``wrk`` when it is on ``PATH``, otherwise a closed loop in Python: several
client processes, each with threads that send one request after another for a fixed time. Each
target gets a one-second warm-up first; only 200 responses count towards requests per second.
Gunicorn's sync workers close the connection after every response, so each request opens a
new TCP connection for both targets alike. Client and server share the machine's CPUs, so the
figures are for comparing the two targets (and runs of this script), not capacity planning.

Run from the repository root::

    .venv/bin/python bench/pages.py [--duration 10] [--concurrency 8] \\
        [--database-url postgres://...] [--redis-url redis://...] [--client auto|wrk|python]
"""

from __future__ import annotations

import argparse
import http.client
import json
import multiprocessing
import os
import queue
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from multiprocessing.synchronize import Event
from pathlib import Path
from urllib.parse import urlsplit

from throwaway import clean_environment

REPO_ROOT = Path(__file__).resolve().parent.parent
HOST = "127.0.0.1"
GUNICORN_WORKERS = 2
HEALTH_TIMEOUT_S = 60.0
WARM_UP_S = 1.0
REQUEST_TIMEOUT_S = 30.0
# What collectstatic writes that is not a file whitenoise would serve as such.
SKIPPED_STATIC_SUFFIXES = (".gz", ".br")
STATIC_MANIFEST = "staticfiles.json"


# --- Results --------------------------------------------------------------------------------


@dataclass
class LoadResult:
    """Outcome of one timed run against one URL."""

    ok: int = 0
    errors: int = 0
    statuses: Counter[int] = field(default_factory=Counter)
    duration_s: float = 0.0
    # wrk reports failed responses as one number, without their statuses.
    unclassified_failures: int = 0

    @property
    def non_200(self) -> int:
        known = sum(count for status, count in self.statuses.items() if status != 200)
        return known + self.unclassified_failures

    @property
    def failures(self) -> int:
        return self.errors + self.non_200

    @property
    def rps(self) -> float:
        return self.ok / self.duration_s if self.duration_s else 0.0

    def add(self, other: LoadResult) -> None:
        self.ok += other.ok
        self.errors += other.errors
        self.statuses.update(other.statuses)
        self.unclassified_failures += other.unclassified_failures

    def describe_failures(self) -> str:
        parts = [f"{self.errors} connection errors"] if self.errors else []
        parts += [
            f"{count} x HTTP {status}"
            for status, count in sorted(self.statuses.items())
            if status != 200
        ]
        if self.unclassified_failures:
            parts.append(f"{self.unclassified_failures} non-2xx/3xx responses")
        return ", ".join(parts) or "none"


@dataclass(frozen=True)
class StaticChoice:
    relative_path: str  # under the static root, as collectstatic named it (hashed)
    original_name: str  # the name templates ask for
    size: int
    referenced_by_home: bool


@dataclass(frozen=True)
class QueryCounts:
    first: int
    warm: int
    statuses: tuple[int, int]


# --- Environment and site preparation -------------------------------------------------------


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def redact(url: str) -> str:
    """A URL fit to print: scheme, host and path, never the password."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{host}{port}{parts.path}"


def base_environment(
    *, database_url: str, static_root: Path, media_root: Path, redis_url: str | None
) -> dict[str, str]:
    env = clean_environment()
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "portal.settings",
            "DATABASE_URL": database_url,
            "DJANGO_STATIC_ROOT": str(static_root),
            "DJANGO_MEDIA_ROOT": str(media_root),
            "DJANGO_PAGE_CACHE_DIR": str(media_root.parent / "page-cache"),
            "PYTHONUNBUFFERED": "1",
        }
    )
    if redis_url:
        env["REDIS_URL"] = redis_url
    return env


def production_environment(base: dict[str, str], port: int) -> dict[str, str]:
    return {
        **base,
        "DJANGO_DEBUG": "0",
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
        "PUBLIC_BASE_URL": f"http://{HOST}:{port}",
    }


def manage(env: dict[str, str], *args: str) -> str:
    """Run ``manage.py`` quietly; on failure show its output and stop."""
    command = [sys.executable, "manage.py", *args]
    completed = subprocess.run(
        command, cwd=REPO_ROOT, env=env, capture_output=True, text=True, check=False
    )
    if completed.returncode != 0:
        sys.stderr.write(completed.stdout + completed.stderr)
        raise SystemExit(f"manage.py {' '.join(args)} failed (exit {completed.returncode})")
    return completed.stdout


def prepare_site(base_env: dict[str, str], production_env: dict[str, str]) -> None:
    debug_env = {**base_env, "DJANGO_DEBUG": "1"}  # seed_demo refuses to run without DEBUG
    print("Preparing: migrate, seed_demo, collectstatic ...", flush=True)
    manage(debug_env, "migrate", "--no-input")
    manage(debug_env, "seed_demo")
    output = manage(production_env, "collectstatic", "--no-input")
    summary = output.strip().splitlines()[-1] if output.strip() else "(no output)"
    print(f"  collectstatic: {summary}")


# --- The server -----------------------------------------------------------------------------


def start_gunicorn(env: dict[str, str], port: int, log_path: Path) -> subprocess.Popen[bytes]:
    command = [
        sys.executable,
        "-m",
        "gunicorn",
        "portal.wsgi:application",
        "--workers",
        str(GUNICORN_WORKERS),
        "--bind",
        f"{HOST}:{port}",
    ]
    with log_path.open("wb") as log:
        # Its own session: Ctrl-C reaches only this script, which then shuts gunicorn down.
        return subprocess.Popen(
            command,
            cwd=REPO_ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def stop_gunicorn(server: subprocess.Popen[bytes]) -> None:
    if server.poll() is not None:
        return
    server.terminate()
    try:
        server.wait(timeout=15)
    except subprocess.TimeoutExpired:
        # The master ignored SIGTERM: kill its whole group (it and its workers, nothing else).
        os.killpg(server.pid, signal.SIGKILL)
        server.wait(timeout=5)


def get(port: int, path: str, timeout: float = REQUEST_TIMEOUT_S) -> tuple[int, bytes]:
    connection = http.client.HTTPConnection(HOST, port, timeout=timeout)
    try:
        connection.request("GET", path)
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


def wait_until_healthy(server: subprocess.Popen[bytes], port: int, log_path: Path) -> None:
    deadline = time.monotonic() + HEALTH_TIMEOUT_S
    last = "no answer yet"
    while time.monotonic() < deadline:
        if server.poll() is not None:
            last = f"gunicorn exited with status {server.returncode}"
            break
        try:
            status, body = get(port, "/healthz/", timeout=5)
        except OSError as exc:
            last = f"{type(exc).__name__}: {exc}"
        else:
            if status == 200:
                return
            last = f"HTTP {status}: {body[:200].decode(errors='replace')}"
        time.sleep(0.25)
    sys.stderr.write(f"--- gunicorn output ---\n{server_log(log_path)}\n-----------------------\n")
    raise SystemExit(f"/healthz/ never answered 200 within {HEALTH_TIMEOUT_S:.0f} s ({last})")


def server_log(log_path: Path) -> str:
    try:
        return log_path.read_text(errors="replace")
    except OSError:
        return ""


def unusual_log_lines(log_path: Path) -> list[str]:
    """gunicorn's output without its routine start-up and shut-down [INFO] lines."""
    return [line for line in server_log(log_path).splitlines() if line and "[INFO]" not in line]


# --- Picking the static file ----------------------------------------------------------------


def pick_static_file(static_root: Path, target_size: int, home_html: str) -> StaticChoice:
    """The hashed static file whose size is closest to ``target_size``.

    Only the hashed names in collectstatic's manifest are candidates: they are what pages link
    to and what whitenoise serves with far-future caching headers in production.
    """
    manifest = json.loads((static_root / STATIC_MANIFEST).read_text())
    candidates: list[StaticChoice] = []
    for original, hashed in manifest["paths"].items():
        if hashed.endswith(SKIPPED_STATIC_SUFFIXES) or hashed == STATIC_MANIFEST:
            continue
        path = static_root / hashed
        if not path.is_file():
            continue
        candidates.append(
            StaticChoice(
                relative_path=hashed,
                original_name=original,
                size=path.stat().st_size,
                referenced_by_home=f"/static/{hashed}" in home_html,
            )
        )
    if not candidates:
        raise SystemExit(f"No hashed static files found under {static_root}")
    # Closest size; on a tie prefer a file the home page really loads (e.g. its stylesheet).
    return min(
        candidates,
        key=lambda c: (abs(c.size - target_size), not c.referenced_by_home, c.relative_path),
    )


# --- Load generation: Python closed loop ----------------------------------------------------


def _connection_loop(port: int, path: str, deadline: float) -> LoadResult:
    """One client connection: request after request until the deadline.

    ``HTTPConnection`` keeps the connection open where the server allows and reconnects by
    itself after a server closes it (as gunicorn's sync workers do after every response).
    """
    result = LoadResult()
    connection = http.client.HTTPConnection(HOST, port, timeout=REQUEST_TIMEOUT_S)
    try:
        while time.monotonic() < deadline:
            try:
                connection.request("GET", path)
                response = connection.getresponse()
                response.read()
            except (OSError, http.client.HTTPException):
                result.errors += 1
                connection.close()
                time.sleep(0.01)  # do not spin if the server has gone away
                continue
            result.statuses[response.status] += 1
            if response.status == 200:
                result.ok += 1
    finally:
        connection.close()
    return result


def _client_process(
    port: int,
    path: str,
    connections: int,
    duration_s: float,
    start: Event,
    results: multiprocessing.Queue[LoadResult],
) -> None:
    # Ctrl-C is the parent's to handle (it stops these processes); SIGTERM ends them at once.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    start.wait()
    deadline = time.monotonic() + duration_s
    total = LoadResult()
    with ThreadPoolExecutor(max_workers=connections) as pool:
        futures = [pool.submit(_connection_loop, port, path, deadline) for _ in range(connections)]
        for future in futures:
            total.add(future.result())
    results.put(total)


def client_process_count(concurrency: int) -> int:
    """Enough processes that one Python client process is not the bottleneck."""
    return max(1, min(concurrency, 2 * (os.cpu_count() or 1)))


def python_load(port: int, path: str, duration_s: float, concurrency: int) -> LoadResult:
    processes = client_process_count(concurrency)
    shares = [concurrency // processes + (i < concurrency % processes) for i in range(processes)]
    start = multiprocessing.Event()
    results: multiprocessing.Queue[LoadResult] = multiprocessing.Queue()
    workers = [
        multiprocessing.Process(
            target=_client_process,
            args=(port, path, share, duration_s, start, results),
            daemon=True,
        )
        for share in shares
    ]
    for worker in workers:
        worker.start()
    total = LoadResult(duration_s=duration_s)
    finished = False
    try:
        time.sleep(0.2)  # let every process reach start.wait() before the clock starts
        start.set()
        for _ in workers:
            total.add(results.get(timeout=duration_s + REQUEST_TIMEOUT_S + 10))
        finished = True
    except queue.Empty:
        raise SystemExit("A load-generator process did not report back") from None
    finally:
        for worker in workers:
            worker.join(timeout=5 if finished else 0)
            if worker.is_alive():
                worker.terminate()
                worker.join(timeout=5)
    return total


# --- Load generation: wrk -------------------------------------------------------------------

WRK_UNITS = {"us": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}


def parse_wrk(output: str, duration_s: float) -> LoadResult:
    """Read wrk's summary. wrk counts every response; non-2xx/3xx ones are subtracted."""
    total_match = re.search(r"(\d+) requests in ([\d.]+)(us|ms|s|m|h)", output)
    if not total_match or not re.search(r"Requests/sec:\s+([\d.]+)", output):
        raise SystemExit(f"Could not read wrk's output:\n{output}")
    requests = int(total_match.group(1))
    elapsed = float(total_match.group(2)) * WRK_UNITS[total_match.group(3)]
    non_2xx_match = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", output)
    non_2xx = int(non_2xx_match.group(1)) if non_2xx_match else 0
    socket_match = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output
    )
    errors = sum(int(n) for n in socket_match.groups()) if socket_match else 0
    return LoadResult(
        ok=requests - non_2xx,
        errors=errors,
        duration_s=elapsed or duration_s,
        unclassified_failures=non_2xx,
    )


def wrk_load(wrk: str, port: int, path: str, duration_s: float, concurrency: int) -> LoadResult:
    threads = min(2, concurrency)  # wrk needs at least one connection per thread
    command = [
        wrk,
        f"-t{threads}",
        f"-c{concurrency}",
        f"-d{max(1, round(duration_s))}s",
        f"--timeout={int(REQUEST_TIMEOUT_S)}s",
        f"http://{HOST}:{port}{path}",
    ]
    completed = subprocess.run(command, capture_output=True, text=True, check=False)
    if completed.returncode != 0:
        raise SystemExit(f"wrk failed (exit {completed.returncode}):\n{completed.stderr}")
    return parse_wrk(completed.stdout, duration_s)


# --- Load generation: either ----------------------------------------------------------------


@dataclass(frozen=True)
class LoadGenerator:
    wrk: str | None  # path to wrk, or None for the Python client
    concurrency: int

    @property
    def name(self) -> str:
        return "wrk" if self.wrk else "python"

    def describe(self, duration_s: float) -> str:
        if self.wrk:
            detail = f"{min(2, self.concurrency)} threads"
        else:
            detail = f"{client_process_count(self.concurrency)} processes"
        return f"{self.name} ({self.concurrency} connections, {detail}, {duration_s:g} s)"

    def run(self, port: int, path: str, duration_s: float) -> LoadResult:
        if self.wrk:
            return wrk_load(self.wrk, port, path, duration_s, self.concurrency)
        return python_load(port, path, duration_s, self.concurrency)

    def measure(self, port: int, path: str, duration_s: float) -> LoadResult:
        self.run(port, path, WARM_UP_S)
        return self.run(port, path, duration_s)


def choose_load_generator(preference: str, concurrency: int) -> LoadGenerator:
    wrk = shutil.which("wrk")
    if preference == "wrk" and not wrk:
        raise SystemExit("--client wrk: no wrk on PATH")
    return LoadGenerator(
        wrk=wrk if preference in ("auto", "wrk") else None, concurrency=concurrency
    )


# --- Guidance page: cached throughput, uncached latency, page weight --------------------------

GUIDANCE_PATH = "/guidance/going-to-court/"
LATENCY_REQUESTS = 300
OWN_STATIC_PREFIXES = ("/static/portal/", "/static/content/")
ACCEPT_ENCODING = "br, gzip"


def fetch(port: int, path: str, headers: dict[str, str] | None = None):
    """GET ``path``; return (status, headers, body exactly as transferred)."""
    connection = http.client.HTTPConnection(HOST, port, timeout=REQUEST_TIMEOUT_S)
    try:
        connection.request("GET", path, headers=headers or {})
        response = connection.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        connection.close()


@dataclass(frozen=True)
class PageWeight:
    html: int
    css: int
    js: int
    own_js: int
    files: tuple[tuple[str, int, str], ...]  # (path, bytes transferred, encoding)

    @property
    def total(self) -> int:
        return self.html + self.css + self.js


def page_weight(port: int, path: str) -> PageWeight:
    """Bytes a browser transfers for ``path``: the HTML, its stylesheets and scripts, and the
    modules those scripts import, asking for brotli or gzip as a browser does."""
    status, headers, body = fetch(port, path, {"Accept-Encoding": ACCEPT_ENCODING})
    if status != 200:
        raise SystemExit(f"GET {path} answered HTTP {status}")
    html = body.decode(errors="replace")
    css = re.findall(r'<link[^>]+rel="stylesheet"[^>]+href="([^"]+)"', html)
    scripts = re.findall(r'<script[^>]+src="([^"]+)"', html)
    files: list[tuple[str, int, str]] = []
    sizes = {"css": 0, "js": 0, "own_js": 0}
    seen: set[str] = set()
    queue_ = [("css", url) for url in css] + [("js", url) for url in scripts]
    while queue_:
        kind, url = queue_.pop(0)
        if url in seen:
            continue
        seen.add(url)
        status, file_headers, content = fetch(port, url, {"Accept-Encoding": ACCEPT_ENCODING})
        if status != 200:
            raise SystemExit(f"GET {url} answered HTTP {status}")
        files.append((url, len(content), file_headers.get("Content-Encoding", "identity")))
        sizes[kind] += len(content)
        if kind == "js":
            if url.startswith(OWN_STATIC_PREFIXES):
                sizes["own_js"] += len(content)
            # Follow ES module imports (the shell's init.js imports the NHS.UK frontend).
            _, _, plain = fetch(port, url)
            base = url.rsplit("/", 1)[0]
            for target in re.findall(rb"""import[^'"]*['"]([^'"]+\.js)['"]""", plain):
                target = target.decode()
                while target.startswith("../"):
                    base, target = base.rsplit("/", 1)[0], target[3:]
                queue_.append(
                    ("js", target if target.startswith("/") else f"{base}/{target.lstrip('./')}")
                )
    return PageWeight(
        html=len(body),
        css=sizes["css"],
        js=sizes["js"],
        own_js=sizes["own_js"],
        files=tuple(files),
    )


def guidance_paths(port: int) -> list[str]:
    _, _, body = fetch(port, "/guidance/")
    paths = sorted(
        set(re.findall(r'href="(/guidance/[a-z0-9-]+/(?:easy-read/)?)"', body.decode()))
    )
    if not paths:
        raise SystemExit("No guidance pages found on /guidance/")
    return paths


@dataclass(frozen=True)
class Latency:
    count: int
    p50_ms: float
    p95_ms: float
    max_ms: float
    pages: int


def uncached_latency(port: int, paths: list[str], requests: int) -> Latency:
    """One client, one request at a time, cycling through every guidance and easy-read page
    on a server whose page cache is off: the latency a reader meets on a cache miss."""
    timings = []
    for n in range(requests):
        started = time.perf_counter()
        status, headers, _ = fetch(port, paths[n % len(paths)])
        timings.append((time.perf_counter() - started) * 1000)
        if status != 200 or "X-Page-Cache" in headers:
            raise SystemExit(f"uncached GET {paths[n % len(paths)]}: HTTP {status}, {headers}")
    timings.sort()

    def pick(q: float) -> float:
        return timings[min(len(timings) - 1, int(round(q * (len(timings) - 1))))]

    return Latency(len(timings), pick(0.5), pick(0.95), timings[-1], len(paths))


# --- Query count ----------------------------------------------------------------------------

QUERY_COUNT_FLAG = "--count-home-queries"


def count_home_queries_here() -> None:
    """Runs inside the child process: print the home page's query counts as JSON."""
    sys.path.insert(0, str(REPO_ROOT))
    import django

    django.setup()
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    client = Client()
    counts: list[int] = []
    statuses: list[int] = []
    for _ in range(2):  # first request of a fresh process, then with its caches warm
        with CaptureQueriesContext(connection) as captured:
            response = client.get("/", HTTP_HOST="localhost")
        counts.append(len(captured.captured_queries))
        statuses.append(response.status_code)
    print(json.dumps({"counts": counts, "statuses": statuses}))


def count_home_queries(env: dict[str, str]) -> QueryCounts:
    completed = subprocess.run(
        [sys.executable, str(Path(__file__).resolve()), QUERY_COUNT_FLAG],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if completed.returncode != 0:
        sys.stderr.write(completed.stdout + completed.stderr)
        raise SystemExit("Counting the home page's queries failed")
    if completed.stderr.strip():
        print(f"  (query-count process said: {completed.stderr.strip()})")
    data = json.loads(completed.stdout.strip().splitlines()[-1])
    first, warm = data["counts"]
    return QueryCounts(first=first, warm=warm, statuses=tuple(data["statuses"]))


# --- Report ---------------------------------------------------------------------------------


def print_summary(
    *,
    home: LoadResult,
    static: LoadResult,
    home_bytes: int,
    choice: StaticChoice,
    queries: QueryCounts,
    generator: LoadGenerator,
    duration_s: float,
    database: str,
    cache: str,
) -> None:
    ratio = home.rps / static.rps if static.rps else None
    static_label = f"static/{choice.relative_path}, {choice.size} bytes"
    query_note = "" if queries.statuses == (200, 200) else f"  (HTTP {queries.statuses})"

    def counts(result: LoadResult) -> str:
        return f"{result.rps:8.1f} req/s  ({result.errors} errors, {result.non_200} non-200)"

    print()
    print("=" * 72)
    print(f"home page        : {counts(home)}  [{home_bytes} bytes]")
    print(f"static file      : {counts(static)}  [{static_label}]")
    print(f"ratio page/static: {'n/a' if ratio is None else f'{ratio:.2f}'}")
    print(f"home page queries: first {queries.first}, warm {queries.warm}{query_note}")
    print(f"load generator   : {generator.describe(duration_s)}")
    print(f"server           : gunicorn, {GUNICORN_WORKERS} sync workers, {os.cpu_count()} CPUs")
    print(f"database, cache  : {database}, {cache}")
    for label, result in (("home page", home), ("static file", static)):
        if result.failures:
            print(f"{label} failures : {result.describe_failures()}")
    print("=" * 72)
    summary = {
        "home_rps": round(home.rps, 1),
        "home_errors": home.errors,
        "home_non_200": home.non_200,
        "home_bytes": home_bytes,
        "static_rps": round(static.rps, 1),
        "static_errors": static.errors,
        "static_non_200": static.non_200,
        "static_path": f"static/{choice.relative_path}",
        "static_bytes": choice.size,
        "ratio_page_static": None if ratio is None else round(ratio, 3),
        "home_queries_first": queries.first,
        "home_queries_warm": queries.warm,
        "load_generator": generator.name,
        "concurrency": generator.concurrency,
        "duration_s": duration_s,
        "gunicorn_workers": GUNICORN_WORKERS,
        "cpus": os.cpu_count(),
        "database": database,
        "cache": cache,
    }
    print(json.dumps(summary))


WEIGHT_TARGET_BYTES = 230 * 1024
OWN_JS_TARGET_BYTES = 30 * 1024
CACHED_RATIO_TARGET = 0.85


def print_guidance_summary(
    *, guidance: LoadResult, static: LoadResult, weight: PageWeight, latency: Latency
) -> None:
    ratio = guidance.rps / static.rps if static.rps else None

    def verdict(ok: bool) -> str:
        return "meets target" if ok else "MISSES target"

    print()
    print("=" * 72)
    print(
        f"cached guidance  : {guidance.rps:8.1f} req/s  ({guidance.failures} failures)  [{GUIDANCE_PATH}]"
    )
    print(
        f"ratio to static  : {'n/a' if ratio is None else f'{ratio:.2f}'}  "
        f"(target >= {CACHED_RATIO_TARGET}: {verdict(ratio is not None and ratio >= CACHED_RATIO_TARGET)})"
    )
    print(
        f"uncached latency : p50 {latency.p50_ms:.1f} ms, p95 {latency.p95_ms:.1f} ms, "
        f"max {latency.max_ms:.1f} ms  ({latency.count} requests, one at a time, "
        f"{latency.pages} guidance and easy-read pages, page cache off)"
    )
    print(
        f"page weight      : {weight.total / 1024:.1f} KB = HTML {weight.html / 1024:.1f} + "
        f"CSS {weight.css / 1024:.1f} + JS {weight.js / 1024:.1f} KB as transferred "
        f"({verdict(weight.total <= WEIGHT_TARGET_BYTES)} of 230 KB)"
    )
    print(
        f"own JavaScript   : {weight.own_js / 1024:.2f} KB "
        f"({verdict(weight.own_js <= OWN_JS_TARGET_BYTES)} of 30 KB)"
    )
    for path, size, encoding in weight.files:
        print(f"  {size:>8} B  {encoding:<8} {path}")
    print("=" * 72)
    print(
        json.dumps(
            {
                "guidance_cached_rps": round(guidance.rps, 1),
                "guidance_cached_ratio_static": None if ratio is None else round(ratio, 3),
                "uncached_p50_ms": round(latency.p50_ms, 1),
                "uncached_p95_ms": round(latency.p95_ms, 1),
                "page_weight_bytes": weight.total,
                "page_weight_html_bytes": weight.html,
                "page_weight_css_bytes": weight.css,
                "page_weight_js_bytes": weight.js,
                "own_js_bytes": weight.own_js,
            }
        )
    )


# --- Main -----------------------------------------------------------------------------------


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--duration", type=float, default=10.0, help="seconds per target (default 10)"
    )
    parser.add_argument(
        "--concurrency", type=int, default=8, help="concurrent connections (default 8)"
    )
    parser.add_argument(
        "--database-url",
        help="bench this database (e.g. PostgreSQL) instead of a temporary SQLite file; "
        "it is migrated and seeded with demo data",
    )
    parser.add_argument("--redis-url", help="use this Redis as the cache (default: none)")
    parser.add_argument(
        "--client",
        choices=("auto", "wrk", "python"),
        default="auto",
        help="load generator: wrk if on PATH (auto, the default), or always one of them",
    )
    args = parser.parse_args(argv)
    if args.duration <= 0 or args.concurrency < 1:
        parser.error("--duration must be positive and --concurrency at least 1")
    return args


def run(args: argparse.Namespace, tmp: Path) -> None:
    database_url = args.database_url or f"sqlite:///{tmp / 'bench.sqlite3'}"
    database = redact(database_url) if args.database_url else "sqlite (temporary file)"
    cache = (
        f"redis {redact(args.redis_url)}"
        if args.redis_url
        else "local memory (pages: shared file cache)"
    )
    static_root = tmp / "static"
    port = free_port()
    base_env = base_environment(
        database_url=database_url,
        static_root=static_root,
        media_root=tmp / "media",
        redis_url=args.redis_url,
    )
    production_env = production_environment(base_env, port)
    generator = choose_load_generator(args.client, args.concurrency)
    prepare_site(base_env, production_env)

    log_path = tmp / "gunicorn.log"
    print(f"Starting gunicorn on http://{HOST}:{port} ...", flush=True)
    server = start_gunicorn(production_env, port, log_path)
    try:
        wait_until_healthy(server, port, log_path)
        status, body = get(port, "/")
        if status != 200:
            raise SystemExit(f"GET / answered HTTP {status}, not 200")
        home_bytes = len(body)
        choice = pick_static_file(static_root, home_bytes, body.decode(errors="replace"))
        static_path = f"/static/{choice.relative_path}"
        status, static_body = get(port, static_path)
        if status != 200 or len(static_body) != choice.size:
            raise SystemExit(f"GET {static_path}: HTTP {status}, {len(static_body)} bytes")
        loaded = "loaded by the home page" if choice.referenced_by_home else "not on the home page"
        print(f"Home page: {home_bytes} bytes.")
        print(
            f"Static file: {static_path} ({choice.original_name}, {loaded}): {choice.size} bytes."
        )

        print(f"Load generator: {generator.describe(args.duration)}")
        print(f"Measuring / for {args.duration:g} s ...", flush=True)
        home = generator.measure(port, "/", args.duration)
        print(f"Measuring {static_path} for {args.duration:g} s ...", flush=True)
        static = generator.measure(port, static_path, args.duration)

        fetch(port, GUIDANCE_PATH)  # the first reader fills the cache
        _, cache_headers, _ = fetch(port, GUIDANCE_PATH)
        if cache_headers.get("X-Page-Cache") != "hit":
            raise SystemExit(f"{GUIDANCE_PATH} was not served from the page cache")
        print(f"Measuring cached {GUIDANCE_PATH} for {args.duration:g} s ...", flush=True)
        guidance = generator.measure(port, GUIDANCE_PATH, args.duration)
        weight = page_weight(port, GUIDANCE_PATH)
        paths = guidance_paths(port)
    finally:
        stop_gunicorn(server)

    uncached_port = free_port()
    uncached_env = {
        **production_environment(base_env, uncached_port),
        "DJANGO_PAGE_CACHE_SECONDS": "0",
    }
    print(f"Starting gunicorn with the page cache off on port {uncached_port} ...", flush=True)
    uncached_server = start_gunicorn(uncached_env, uncached_port, tmp / "gunicorn-uncached.log")
    try:
        wait_until_healthy(uncached_server, uncached_port, tmp / "gunicorn-uncached.log")
        for path in paths:  # each worker's first request of a page is not typical
            fetch(uncached_port, path)
            fetch(uncached_port, path)
        print(
            f"Timing {LATENCY_REQUESTS} uncached requests over {len(paths)} pages ...", flush=True
        )
        latency = uncached_latency(uncached_port, paths, LATENCY_REQUESTS)
    finally:
        stop_gunicorn(uncached_server)
    unusual = unusual_log_lines(log_path)
    if unusual:
        print("gunicorn printed (besides routine [INFO] lines):")
        for line in unusual[:20]:
            print(f"  {line}")

    print("Counting the home page's database queries ...", flush=True)
    queries = count_home_queries(production_env)
    print_summary(
        home=home,
        static=static,
        home_bytes=home_bytes,
        choice=choice,
        queries=queries,
        generator=generator,
        duration_s=args.duration,
        database=database,
        cache=cache,
    )
    print_guidance_summary(guidance=guidance, static=static, weight=weight, latency=latency)


def _exit_on_sigterm(signum: int, frame: object) -> None:
    raise SystemExit(f"Stopped by signal {signum}")


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    # A plain `kill` still runs the clean-up below: gunicorn stopped, temporary files removed.
    signal.signal(signal.SIGTERM, _exit_on_sigterm)
    try:
        with tempfile.TemporaryDirectory(prefix="bench-pages-") as tmp:
            run(args, Path(tmp))
    except KeyboardInterrupt:
        print("\nInterrupted; gunicorn stopped and temporary files removed.", file=sys.stderr)
        raise SystemExit(130) from None


if __name__ == "__main__":
    if sys.argv[1:] == [QUERY_COUNT_FLAG]:
        count_home_queries_here()
    else:
        main()
