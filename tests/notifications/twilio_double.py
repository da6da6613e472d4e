"""A loopback stand-in for Twilio's Messages API, for tests and the SMS benchmark.

The real Twilio SDK talks to it over HTTP/1.1 with keep-alive (``TWILIO_API_BASE_URL``), so
what is tested is our code and the SDK together, down to the socket: request shape, Basic
auth, error bodies, paging, and the failures that matter for sending exactly once (a reset
or a hang after the message was recorded).

In-process::

    double = TwilioDouble(account_sid="AC...", auth_token="...")
    double.start()  # double.base_url is http://127.0.0.1:<free port>
    ...
    double.stop()

As a separate process (prints ``READY <base_url>`` once listening)::

    python tests/notifications/twilio_double.py --port 8765 --account-sid AC... --auth-token ...

and controlled over HTTP: ``GET /_double/messages``, ``GET /_double/stats`` (counts, and how
many bodies were recorded more than once), ``POST /_double/faults`` (a JSON list, applied in
order to the next create requests), ``POST /_double/number_errors`` (a JSON object of
number -> error code), ``POST /_double/reset``.

Faults: ``status_429``, ``status_500``, ``status_503``, ``reset_before`` (close the socket
without recording), ``reset_after`` (record, then close without answering), ``hang_before``
(wait past the client's timeout, do not record, close), ``hang_after`` (record, wait past the
client's timeout, then answer), ``error_code:<code>`` (400 with that Twilio code).

Twilio documents ``date_sent`` as the moment it handed the message on. Nothing is handed on
here, so it stays null and a ``DateSent`` filter matches nothing: what we assume Twilio does
for a message still in its queue. Twilio's error texts repeat the number; so do these, so
that tests notice if one is ever logged.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import hmac
import json
import re
import signal
import socket
import struct
import sys
import threading
import time
import uuid
from collections import Counter, deque
from collections.abc import Callable
from datetime import UTC, datetime
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlencode, urlsplit

API = "/2010-04-01"
E164 = re.compile(r"^\+[1-9]\d{6,14}$")
SIMPLE_FAULTS = frozenset(
    {
        "status_429",
        "status_500",
        "status_503",
        "reset_before",
        "reset_after",
        "hang_before",
        "hang_after",
    }
)
MESSAGES_PATH = re.compile(r"^/2010-04-01/Accounts/(?P<account>[^/]+)/Messages\.json$")
MESSAGE_PATH = re.compile(
    r"^/2010-04-01/Accounts/(?P<account>[^/]+)/Messages/(?P<sid>[^/]+)\.json$"
)


def check_fault(fault: str) -> str:
    if fault in SIMPLE_FAULTS:
        return fault
    name, _, code = fault.partition(":")
    if name == "error_code" and code.isdigit():
        return fault
    raise ValueError(f"unknown fault {fault!r}")


def twilio_error(code: int, message: str, status: int) -> dict:
    return {
        "code": code,
        "message": message,
        "more_info": f"https://www.twilio.com/docs/errors/{code}",
        "status": status,
    }


class TwilioDouble:
    """Thread-safe: the server answers each connection on its own thread."""

    def __init__(
        self,
        *,
        account_sid: str,
        auth_token: str,
        host: str = "127.0.0.1",
        port: int = 0,
        hang_seconds: float = 3.0,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self.account_sid = account_sid
        self.auth_token = auth_token
        self.host = host
        self.port = port
        self.hang_seconds = hang_seconds
        # Tests may set this to stamp messages at a chosen time.
        self.clock: Callable[[], datetime] = clock or (lambda: datetime.now(UTC))
        self._expected_auth = "Basic " + base64.b64encode(
            f"{account_sid}:{auth_token}".encode()
        ).decode("ascii")
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._messages: list[dict] = []
        self._created: list[datetime] = []
        # time.monotonic() when each message was recorded: immune to time_machine, for tests
        # of how fast messages arrive (the rate cap).
        self._arrivals: list[float] = []
        self._by_sid: dict[str, dict] = {}
        self._faults: deque[str] = deque()
        self._number_errors: dict[str, int] = {}
        self.create_requests = 0
        self.connections = 0  # TCP connections accepted: keep-alive keeps this low
        self._open: set[socket.socket] = set()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # --- Running ---------------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        if self._server is None:
            raise RuntimeError("the double is not running")
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def bind(self) -> None:
        handler = type("BoundHandler", (_Handler,), {"double": self})
        server = ThreadingHTTPServer((self.host, self.port), handler, bind_and_activate=False)
        server.daemon_threads = True
        server.request_queue_size = 256
        server.server_bind()
        server.server_activate()
        self._server = server

    def start(self) -> TwilioDouble:
        self._stopping.clear()
        self.bind()
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="twilio-double",
            daemon=True,
        )
        self._thread.start()
        return self

    def serve_forever(self) -> None:
        self._stopping.clear()
        if self._server is None:
            self.bind()
        self._server.serve_forever(poll_interval=0.2)

    def stop(self) -> None:
        self._stopping.set()  # wakes any hanging handler
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        # Kept-alive connections have threads of their own that would go on answering.
        with self._lock:
            still_open, self._open = list(self._open), set()
        for connection in still_open:
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server = None
        self._thread = None

    def __enter__(self) -> TwilioDouble:
        return self.start()

    def __exit__(self, *exc_info) -> None:
        self.stop()

    # --- Scripting and inspecting ---------------------------------------------------------

    def add_faults(self, *faults: str) -> None:
        checked = [check_fault(f) for f in faults]
        with self._lock:
            self._faults.extend(checked)

    def set_number_error(self, number: str, code: int) -> None:
        """Every message to ``number`` is refused with this Twilio code (e.g. 21610)."""
        with self._lock:
            self._number_errors[number] = int(code)

    def reset(self) -> None:
        with self._lock:
            self._messages.clear()
            self._created.clear()
            self._arrivals.clear()
            self._by_sid.clear()
            self._faults.clear()
            self._number_errors.clear()
            self.create_requests = 0
            self.connections = 0

    @property
    def messages(self) -> list[dict]:
        """Every message recorded, oldest first."""
        with self._lock:
            return list(self._messages)

    def arrivals(self) -> list[float]:
        """``time.monotonic()`` at which each message was recorded, in the order of
        :attr:`messages`."""
        with self._lock:
            return list(self._arrivals)

    def count_by_body(self) -> Counter:
        with self._lock:
            return Counter(m["body"] for m in self._messages)

    def stats(self) -> dict[str, int]:
        """Counts without shipping every message (a benchmark records 100,000).
        ``duplicated_bodies``: how many bodies were recorded more than once."""
        counts = self.count_by_body()
        with self._lock:
            return {
                "messages": len(self._messages),
                "create_requests": self.create_requests,
                "connections": self.connections,
                "duplicated_bodies": sum(1 for n in counts.values() if n > 1),
            }

    # --- Behaviour (called from handler threads) ------------------------------------------

    def _next_fault(self) -> str | None:
        with self._lock:
            self.create_requests += 1
            return self._faults.popleft() if self._faults else None

    def _number_error(self, number: str) -> int | None:
        with self._lock:
            return self._number_errors.get(number)

    def _record(self, form: dict[str, str]) -> dict:
        now = self.clock().astimezone(UTC).replace(microsecond=0)
        stamp = format_datetime(now)
        sid = "SM" + uuid.uuid4().hex
        uri = f"{API}/Accounts/{self.account_sid}/Messages/{sid}.json"
        message = {
            "account_sid": self.account_sid,
            "api_version": "2010-04-01",
            "body": form["Body"],
            "date_created": stamp,
            "date_sent": None,
            "date_updated": stamp,
            "direction": "outbound-api",
            "error_code": None,
            "error_message": None,
            "from": form.get("From") or None,
            "messaging_service_sid": form.get("MessagingServiceSid") or None,
            "num_media": "0",
            "num_segments": "1",
            "price": None,
            "price_unit": "USD",
            "sid": sid,
            "status": "queued",
            "status_callback": form.get("StatusCallback") or None,
            "subresource_uris": {"media": uri.replace(".json", "/Media.json")},
            "to": form["To"],
            "uri": uri,
        }
        with self._lock:
            self._messages.append(message)
            self._created.append(now)
            self._arrivals.append(time.monotonic())
            self._by_sid[sid] = message
        return message

    def _fetch(self, sid: str) -> dict | None:
        with self._lock:
            return self._by_sid.get(sid)

    def _list(self, query: dict[str, str]) -> list[dict]:
        """Newest first, as Twilio lists them."""
        with self._lock:
            rows = list(
                zip(self._created, range(len(self._messages)), self._messages, strict=True)
            )
        to, from_ = query.get("To"), query.get("From")
        date_filters = [(k, query.get(k, "")[:10]) for k in ("DateSent", "DateSent>", "DateSent<")]
        date_filters = [(key, day) for key, day in date_filters if day]
        picked = []
        for created, seq, message in rows:
            if to and message["to"] != to:
                continue
            if from_ and message["from"] != from_:
                continue
            if date_filters and not _sent_matches(message, date_filters):
                continue
            picked.append((created, seq, message))
        picked.sort(key=lambda row: (row[0], row[1]), reverse=True)
        return [message for _, _, message in picked]


def _sent_matches(message: dict, date_filters: list[tuple[str, str]]) -> bool:
    if not message["date_sent"]:
        return False
    day = datetime.strptime(message["date_sent"], "%a, %d %b %Y %H:%M:%S %z").date().isoformat()
    for key, wanted in date_filters:
        if key == "DateSent" and day != wanted:
            return False
        if key == "DateSent>" and day < wanted:
            return False
        if key == "DateSent<" and day > wanted:
            return False
    return True


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive: the SDK's session reuses connections
    disable_nagle_algorithm = True
    server_version = "TwilioDouble/1"
    double: TwilioDouble

    def log_message(self, format, *args) -> None:  # noqa: A002 - the base class's name
        return None  # the request line carries numbers; and 500/s of lines helps nobody

    # --- Plumbing -------------------------------------------------------------------------

    def setup(self) -> None:
        super().setup()
        with self.double._lock:
            self.double.connections += 1
            self.double._open.add(self.connection)

    def finish(self) -> None:
        with self.double._lock:
            self.double._open.discard(self.connection)
        super().finish()

    def _body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _send_json(self, status: int, payload, headers: dict[str, str] | None = None) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        try:
            self.wfile.write(data)
        except OSError:
            self.close_connection = True  # the client left (it timed out)

    def _error(self, status: int, code: int, message: str) -> None:
        self._send_json(status, twilio_error(code, message, status))

    def _reset(self) -> None:
        """Drop the connection with a TCP reset, answering nothing."""
        self.close_connection = True
        try:
            self.connection.setsockopt(
                socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0)
            )
            self.connection.close()
        except OSError:
            pass

    def _authorised(self) -> bool:
        given = self.headers.get("Authorization", "")
        return hmac.compare_digest(given.encode(), self.double._expected_auth.encode())

    # --- Routing --------------------------------------------------------------------------

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        url = urlsplit(self.path)
        self._body()
        if url.path == "/_double/messages":
            self._send_json(200, self.double.messages)
            return
        if url.path == "/_double/stats":
            self._send_json(200, self.double.stats())
            return
        if not self._twilio_route_allowed(url.path):
            return
        query = {key: values[-1] for key, values in parse_qs(url.query).items()}
        if match := MESSAGES_PATH.match(url.path):
            self._list_page(url.path, query, match["account"])
            return
        if match := MESSAGE_PATH.match(url.path):
            message = self.double._fetch(match["sid"])
            if message is None:
                self._error(404, 20404, f"The requested resource {url.path} was not found")
            else:
                self._send_json(200, message)
            return
        self._error(404, 20404, f"The requested resource {url.path} was not found")

    def do_POST(self) -> None:  # noqa: N802 - http.server's naming
        url = urlsplit(self.path)
        raw = self._body()
        if url.path.startswith("/_double/"):
            self._control(url.path, raw)
            return
        if not self._twilio_route_allowed(url.path):
            return
        if MESSAGES_PATH.match(url.path):
            self._create(raw)
            return
        self._error(404, 20404, f"The requested resource {url.path} was not found")

    def _twilio_route_allowed(self, path: str) -> bool:
        if not self._authorised():
            self._send_json(
                401,
                {**twilio_error(20003, "Authenticate", 401), "detail": "Bad credentials"},
                headers={"WWW-Authenticate": 'Basic realm="Twilio API"'},
            )
            return False
        match = MESSAGES_PATH.match(path) or MESSAGE_PATH.match(path)
        if match and match["account"] != self.double.account_sid:
            self._error(404, 20404, f"The requested resource {path} was not found")
            return False
        return True

    # --- Messages ---------------------------------------------------------------------------

    def _create(self, raw: bytes) -> None:
        double = self.double
        fault = double._next_fault()
        if fault == "status_429":
            self._error(429, 20429, "Too Many Requests")
            return
        if fault in ("status_500", "status_503"):
            status = int(fault[-3:])
            self._error(status, 20000 + status, "Service unavailable, try again later")
            return
        if fault == "reset_before":
            self._reset()
            return
        if fault == "hang_before":
            double._stopping.wait(double.hang_seconds)
            self._reset()
            return
        if fault and fault.startswith("error_code:"):
            self._error(400, int(fault.partition(":")[2]), "Refused by a scripted fault")
            return

        form = {key: values[-1] for key, values in parse_qs(raw.decode()).items()}
        to = form.get("To", "")
        if not to:
            self._error(400, 21604, "A 'To' phone number is required.")
            return
        if not E164.match(to):
            self._error(400, 21211, f"The 'To' number {to} is not a valid phone number.")
            return
        if not form.get("Body"):
            self._error(400, 21602, "Message body is required.")
            return
        if not (form.get("From") or form.get("MessagingServiceSid")):
            self._error(400, 21603, "A 'From' phone number is required.")
            return
        code = double._number_error(to)
        if code is not None:
            self._error(400, code, f"Message cannot be sent to {to} (error {code}).")
            return

        message = double._record(form)
        if fault == "reset_after":
            self._reset()
            return
        if fault == "hang_after":
            double._stopping.wait(double.hang_seconds)
        self._send_json(201, message)

    def _list_page(self, path: str, query: dict[str, str], account: str) -> None:
        size = max(1, min(int(query.get("PageSize") or 50), 1000))
        page = max(0, int(query.get("Page") or 0))
        found = self.double._list(query)
        start = page * size
        rows = found[start : start + size]
        filters = {k: v for k, v in query.items() if k not in ("Page", "PageSize", "PageToken")}

        def page_uri(number: int) -> str:
            params = {**filters, "PageSize": size, "Page": number}
            if number:
                params["PageToken"] = f"PA{number}"
            return f"{path}?{urlencode(params)}"

        self._send_json(
            200,
            {
                "messages": rows,
                "end": start + len(rows) - 1 if rows else start,
                "first_page_uri": page_uri(0),
                "next_page_uri": page_uri(page + 1) if start + size < len(found) else None,
                "previous_page_uri": page_uri(page - 1) if page else None,
                "page": page,
                "page_size": size,
                "start": start,
                "uri": page_uri(page),
            },
        )

    # --- Control --------------------------------------------------------------------------

    def _control(self, path: str, raw: bytes) -> None:
        try:
            payload = json.loads(raw or b"null")
            if path == "/_double/faults":
                if not isinstance(payload, list):
                    raise ValueError("a JSON list of faults is expected")
                self.double.add_faults(*[str(f) for f in payload])
            elif path == "/_double/number_errors":
                if not isinstance(payload, dict):
                    raise ValueError("a JSON object of number -> code is expected")
                for number, code in payload.items():
                    self.double.set_number_error(number, int(code))
            elif path == "/_double/reset":
                self.double.reset()
            else:
                self._send_json(404, {"error": "no such control"})
                return
        except ValueError as error:
            self._send_json(400, {"error": str(error)})
            return
        self._send_json(200, {"ok": True})


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    parser.add_argument("--account-sid", required=True)
    parser.add_argument("--auth-token", required=True)
    parser.add_argument("--hang-seconds", type=float, default=3.0)
    args = parser.parse_args(argv)
    double = TwilioDouble(
        account_sid=args.account_sid,
        auth_token=args.auth_token,
        host=args.host,
        port=args.port,
        hang_seconds=args.hang_seconds,
    )
    double.bind()

    def stop(signum, frame) -> None:
        threading.Thread(target=double.stop, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    print(f"READY {double.base_url}", flush=True)
    double.serve_forever()


if __name__ == "__main__":
    main(sys.argv[1:])
