"""A real threaded HTTP server that hands each request to a provider (Xero or QuickBooks).

Providers see plain ``Request`` values and return ``Response`` values, so their routing and rules are
testable without sockets, while every client (SDKs, tests, the demo) talks real HTTP on loopback.
"""

from __future__ import annotations

import contextlib
import json
import threading
import time
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from .json_types import JSONValue


class Headers(Mapping[str, str]):
    """A request's headers, looked up case-insensitively (kept under lower-case names)."""

    def __init__(self, items: Mapping[str, str] | Iterable[tuple[str, str]] = ()) -> None:
        pairs = items.items() if isinstance(items, Mapping) else items
        self._items = {k.lower(): v for k, v in pairs}

    def __getitem__(self, key: str) -> str:
        return self._items[key.lower()]

    def __iter__(self) -> Iterator[str]:
        return iter(self._items)

    def __len__(self) -> int:
        return len(self._items)

    def __repr__(self) -> str:
        return f"Headers({self._items!r})"


@dataclass
class Request:
    """One HTTP request as a provider sees it (query values are lists, as ``parse_qs`` gives them)."""

    method: str
    path: str
    query: dict[str, list[str]]
    headers: Headers
    body: bytes = b""
    client: str = "127.0.0.1"

    def arg(self, name: str, default: str | None = None) -> str | None:
        """First value of a query parameter, matched case-insensitively (both APIs are lax here)."""
        for k, v in self.query.items():
            if k.lower() == name.lower() and v:
                return v[0]
        return default

    def json(self) -> JSONValue:
        return json.loads(self.body.decode("utf-8")) if self.body else None

    def text(self) -> str:
        return self.body.decode("utf-8")


@dataclass
class Response:
    """A provider's answer; ``drop_connection`` cuts the connection instead of sending it."""

    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    # Fault injection: the change is committed but the client never hears back.
    drop_connection: bool = False
    # Fault injection: seconds between the bytes of the body (a slow-drip answer; 0 sends it at once).
    drip: float = 0.0


def json_response(status: int, obj: JSONValue, headers: dict[str, str] | None = None) -> Response:
    h = {"Content-Type": "application/json; charset=utf-8"}
    h.update(headers or {})
    return Response(status, h, json.dumps(obj, default=str).encode("utf-8"))


def redirect(location: str) -> Response:
    return Response(302, {"Location": location}, b"")


class Provider:
    """One accounting package. Subclasses route requests and keep their own state under ``lock``."""

    name = "provider"

    def __init__(self) -> None:
        self.lock = threading.RLock()

    def handle(self, request: Request) -> Response:  # pragma: no cover - abstract
        raise NotImplementedError

    def urls(self, root: str) -> dict[str, str]:  # pragma: no cover - abstract
        raise NotImplementedError

    def close(self) -> None:
        """Called once the server has stopped (a provider with a state file writes it here)."""


def _make_handler(provider: Provider) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        # Headers and body go out in two writes; with Nagle on, keep-alive clients wait ~40 ms per call.
        disable_nagle_algorithm = True

        def log_message(self, format: str, *args: Any) -> None:
            pass  # quiet: tests and the demo read /_sandbox/stats instead

        def _dispatch(self) -> None:
            parts = urlsplit(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            req = Request(
                method=self.command,
                path=parts.path,
                query=parse_qs(parts.query, keep_blank_values=True),
                headers=Headers(self.headers.items()),
                body=body,
                client=self.client_address[0],
            )
            try:
                resp = provider.handle(req)
            except Exception as exc:  # a sandbox bug must look like a 500, not hang the client
                resp = json_response(500, {"Message": f"sandbox error: {exc!r}"})
            if resp.drop_connection:
                self.close_connection = True
                with contextlib.suppress(OSError):
                    self.connection.shutdown(2)
                return
            try:
                self.send_response(resp.status)
                for k, v in resp.headers.items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(resp.body)))
                self.end_headers()
                if self.command != "HEAD" and resp.drip > 0:
                    self.wfile.flush()
                    for i in range(len(resp.body)):
                        time.sleep(resp.drip)
                        self.wfile.write(resp.body[i:i + 1])
                        self.wfile.flush()
                elif self.command != "HEAD":
                    self.wfile.write(resp.body)
            except (BrokenPipeError, ConnectionResetError):
                # The client gave up (e.g. its timeout fired during an injected delay): nothing to tell it.
                self.close_connection = True

        do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = _dispatch

    return Handler


class SandboxServer:
    """Serves one provider on a loopback port; ``start()`` returns at once, ``stop()`` joins."""

    def __init__(self, provider: Provider, host: str = "127.0.0.1", port: int = 0) -> None:
        self.provider = provider
        self.httpd = ThreadingHTTPServer((host, port), _make_handler(provider))
        self.httpd.daemon_threads = True
        self._thread: threading.Thread | None = None

    @property
    def root(self) -> str:
        host, port = self.httpd.server_address[:2]
        if isinstance(host, bytes):  # only for AF_UNIX addresses, never a loopback TCP server
            host = host.decode()
        return f"http://{host}:{port}"

    def urls(self) -> dict[str, str]:
        return self.provider.urls(self.root)

    def start(self) -> SandboxServer:
        if self._thread is not None:
            return self  # already serving (e.g. ``with start_sandbox(...) as server``)
        # A short poll interval keeps stop() quick (tests start and stop a server each).
        self._thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05},
                                        name=f"sandbox-{self.provider.name}", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._thread is not None:   # shutdown() waits for serve_forever to end: forever, if it never began
            self.httpd.shutdown()
        self.httpd.server_close()
        if self._thread:
            self._thread.join(timeout=5)
        self.provider.close()  # e.g. flush a pending state file

    def __enter__(self) -> SandboxServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

