"""A proxy between the desks and the sandbox that corrupts answers, and the chaos suite's kill switch.

Every request is passed on to the sandbox unchanged. Of the API's successful answers (Xero's
``/api.xro/``, QuickBooks' ``/v3/``), a share ``corrupt_rate`` reaches the desk corrupted, after the sandbox
has applied the request: cut short, replaced by a proxy's HTML error page with status 200, or an empty JSON
object. Sign-in traffic is never touched.

``kill_at(n, victim)`` SIGKILLs ``victim`` as the n-th API answer arrives from the sandbox, before the proxy
relays it: the package has done the work, the desk never hears of it (the crash point issue 15 reproduced).
"""

from __future__ import annotations

import contextlib
import http.client
import os
import random
import signal
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

API_PREFIXES = ("/api.xro/", "/v3/")
HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "content-length", "content-encoding",
              "proxy-connection", "te", "trailer", "upgrade"}


class CorruptingProxy:
    def __init__(self, upstream: str, seed: int = 0) -> None:
        parts = urlsplit(upstream)
        self.upstream_host, self.upstream_port = parts.hostname or "127.0.0.1", parts.port or 80
        self.corrupt_rate = 0.0
        self.corrupted = 0
        self.answers = 0                    # API answers received from the sandbox
        self._rng = random.Random(seed)
        self._lock = threading.Lock()
        self._kill: tuple[int, int] | None = None   # (answer number, pid)
        self.killed_at: int | None = None
        self.killed_on = ""                 # the request whose answer the desk never got
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True

            def log_message(self, format: str, *args: object) -> None:
                pass

            def _relay(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else None
                headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP}
                conn = http.client.HTTPConnection(proxy.upstream_host, proxy.upstream_port, timeout=120)
                try:
                    conn.request(self.command, self.path, body=body, headers=headers)
                    resp = conn.getresponse()
                    status, reason, data = resp.status, resp.reason, resp.read()
                    out_headers = [(k, v) for k, v in resp.getheaders() if k.lower() not in HOP_BY_HOP]
                finally:
                    conn.close()
                if self.path.startswith(API_PREFIXES):
                    proxy._answered(f"{self.command} {self.path.split('?')[0]}")
                    if 200 <= status < 300:
                        status, out_headers, data = proxy._maybe_corrupt(status, out_headers, data)
                self.send_response(status, reason)
                for k, v in out_headers:
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_PUT = do_DELETE = _relay

        class Server(ThreadingHTTPServer):
            def handle_error(self, request: object, client_address: object) -> None:
                pass   # a desk killed mid-request resets its connection: expected here

        self.httpd = Server(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.root = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self._thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05},
                                        name="chaos-proxy", daemon=True)
        self._thread.start()

    def kill_at(self, answer: int, pid: int) -> None:
        with self._lock:
            self.answers, self.killed_at = 0, None
            self._kill = (answer, pid)

    def disarm(self) -> None:
        with self._lock:
            self._kill = None

    def _answered(self, what: str) -> None:
        with self._lock:
            self.answers += 1
            if self._kill is not None and self.answers >= self._kill[0]:
                pid = self._kill[1]
                self._kill, self.killed_at, self.killed_on = None, self.answers, what
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)

    def _maybe_corrupt(self, status: int, headers: list[tuple[str, str]],
                       data: bytes) -> tuple[int, list[tuple[str, str]], bytes]:
        with self._lock:
            if not self.corrupt_rate or self._rng.random() >= self.corrupt_rate:
                return status, headers, data
            self.corrupted += 1
            kind = self._rng.choice(["cut", "html", "empty"])
            cut = self._rng.randint(0, max(0, len(data) - 1))
        if kind == "cut":
            return status, headers, data[:cut]
        if kind == "empty":
            return status, headers, b"{}"
        page = b"<html><body><h1>502 Bad Gateway</h1>The proxy server received an invalid response.</body></html>"
        return 200, [(k, v) for k, v in headers if k.lower() != "content-type"] + [("Content-Type", "text/html")], page

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
