"""Where a sign-in's answer comes back to the app: a listener on this computer, or an address pasted.

The redirect URI is fixed and configurable (``ConnectionSettings.redirect_uri_for_sign_in``):

- **An http address on this computer** (``http://localhost:53682/callback``, the default): the listener
  binds exactly what it names, host (``localhost``: 127.0.0.1 and, where there is one, ::1), port and path,
  because Xero and Intuit match redirect URIs exactly. Port 0 takes any free port (for local sandboxes).
- **An https page the user hosts** (Intuit's production keys allow nothing else): the page
  (``resources/oauth/callback.html``) hands ``code``, ``state`` and ``realmId`` on to
  ``http://127.0.0.1:PORT/callback``; the port travels at the front of ``state`` (``PORT.NONCE``). If
  that hand-off cannot happen, the page shows the address to paste into KCC Desktop (``AnswerBox.paste``).

The browser that brought the answer waits for the outcome: its page says "Signed in" only once the code
was exchanged for tokens, and otherwise that the sign-in failed, and why (``SignIn.finish``).
"""

from __future__ import annotations

import html
import logging
import os
import queue
import secrets
import socket
import sys
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from .base import ConnectorError
from .oauth import AuthorizationError
from .settings import ENV_REDIRECT_URI, is_loopback_host

log = logging.getLogger(__name__)

RELAY_PATH = "/callback"
PAGE_WAIT_SECONDS = 120.0   # how long a browser's request waits for the sign-in's outcome
ANSWER_KEYS = ("code", "state", "realmId", "error", "error_description")


class StateMismatch(AuthorizationError):
    pass


class AuthorizationTimeout(AuthorizationError):
    pass


class RedirectUnusable(ConnectorError):
    """The redirect URI cannot be listened on (its port is taken)."""


class InvalidRedirect(RedirectUnusable, ValueError):
    """The redirect URI is not one KCC Desktop can use (a wrong setting, not a failure)."""


def callback_page_path() -> Path:
    """The hand-off page to host for an https redirect URI (beside the package, or in the bundle)."""
    frozen = getattr(sys, "_MEIPASS", None)   # PyInstaller: build.spec copies resources/ into the bundle
    base = Path(frozen) / "resources" if frozen else Path(__file__).resolve().parents[2] / "resources"
    return base / "oauth" / "callback.html"


@dataclass(frozen=True)
class RedirectPlan:
    """How the answer comes back for one redirect URI."""

    redirect_uri: str        # sent to the identity service, exactly as registered
    hosts: tuple[str, ...]   # what the listener binds
    port: int
    path: str
    relay: bool              # an https page hands the answer on: the port goes in ``state``


def plan_redirect(redirect_uri: str) -> RedirectPlan:
    parts = urlsplit(redirect_uri)
    host = (parts.hostname or "").lower()
    try:
        port = parts.port
    except ValueError:
        port = None
    if parts.scheme == "http" and is_loopback_host(host):
        if port is None:
            raise InvalidRedirect(f"The redirect URI {redirect_uri} names no port.",
                                  f"Give one, e.g. http://localhost:53682/callback, in {ENV_REDIRECT_URI} and "
                                  "in the app's registration.")
        hosts = ("127.0.0.1", "::1") if host == "localhost" else (host.strip("[]"),)
        return RedirectPlan(redirect_uri, hosts, port, parts.path or "/", relay=False)
    if parts.scheme == "https" and host:
        return RedirectPlan(redirect_uri, ("127.0.0.1",), 0, RELAY_PATH, relay=True)
    raise InvalidRedirect(f"The redirect URI {redirect_uri!r} is neither an http address on this computer nor "
                          "an https page.", f"Check {ENV_REDIRECT_URI} or the connection settings.")


class AnswerBox:
    """Where the sign-in's answer arrives: from the listener, or pasted by the user. First one wins."""

    def __init__(self) -> None:
        self._answers: queue.Queue[dict[str, str]] = queue.Queue()
        self.answered = threading.Event()

    def put(self, params: dict[str, str]) -> None:
        self._answers.put(params)
        self.answered.set()

    def paste(self, text: str) -> None:
        """The address the browser ended on, as the user copied it. Raises ValueError if it carries no answer."""
        text = text.strip()
        query = urlsplit(text).query if "?" in text else text
        params = {k: v[0] for k, v in parse_qs(query, keep_blank_values=True).items() if k in ANSWER_KEYS}
        if "state" not in params or not ("code" in params or "error" in params):
            raise ValueError("That address carries no sign-in answer: paste the whole address from the browser's "
                             "address bar, starting with https:// or http://.")
        self.put(params)

    def wait(self, timeout: float) -> dict[str, str]:
        try:
            return self._answers.get(timeout=timeout)
        except queue.Empty:
            raise AuthorizationTimeout(
                f"No answer came back from the sign-in page within {timeout:g} seconds.") from None


_PAGE = """<!doctype html><html><head><meta charset="utf-8"><title>KCC Desktop - {title}</title></head>
<body style="font-family:sans-serif;margin:3em"><h2 id="outcome">{title}</h2><p id="detail">{text}</p></body></html>"""


class _Outcome:
    """What the browser waiting on the callback is told, once the app knows."""

    def __init__(self) -> None:
        self.done = threading.Event()
        self.ok = False
        self.text = ""

    def set(self, ok: bool, text: str) -> None:
        if not self.done.is_set():
            self.ok, self.text = ok, text
            self.done.set()


class LoopbackListener:
    """Serves the callback path on this computer; each answer goes to ``box`` and the browser's request
    waits for ``outcome`` before its page is written."""

    def __init__(self, plan: RedirectPlan, box: AnswerBox, outcome: _Outcome) -> None:
        self.plan = plan
        handler = _handler(plan.path, box, outcome)
        self._servers: list[ThreadingHTTPServer] = []
        port = plan.port
        for n, host in enumerate(plan.hosts):
            try:
                server = _server(host, port, handler)
            except OSError as exc:
                if n == 0:
                    for started in self._servers:
                        started.server_close()
                    raise RedirectUnusable(
                        f"KCC Desktop could not listen on {host} port {port} for the sign-in's answer "
                        f"({exc.strerror or type(exc).__name__}): another program may be using it.",
                        f"Close that program, or register another redirect URI with the app and set "
                        f"{ENV_REDIRECT_URI} to it.") from None
                continue   # no IPv6 here: 127.0.0.1 alone will do
            port = server.server_address[1]   # the first bind fixes a free port for the others
            self._servers.append(server)
        self.port = port
        self._threads: list[threading.Thread] = []

    def start(self) -> LoopbackListener:
        for server in self._servers:
            thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                                      name="oauth-loopback", daemon=True)
            thread.start()
            self._threads.append(thread)
        return self

    def stop(self) -> None:
        for server in self._servers:
            server.shutdown()
            server.server_close()
        for thread in self._threads:
            thread.join(timeout=5)


def _server(host: str, port: int, handler: type[BaseHTTPRequestHandler]) -> ThreadingHTTPServer:
    class Server(ThreadingHTTPServer):
        address_family = socket.AF_INET6 if ":" in host else socket.AF_INET
        daemon_threads = True
        # POSIX: rebinding our own port soon after a sign-in must work (TIME_WAIT). On Windows the same
        # option would let us steal a port another program listens on: there it stays off.
        allow_reuse_address = os.name != "nt"
    return Server((host, port), handler)


def _handler(path: str, box: AnswerBox, outcome: _Outcome) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            pass   # quiet: the callback's address carries the code

        def do_GET(self) -> None:
            parts = urlsplit(self.path)
            if parts.path != path:
                self.send_error(404)
                return
            params = {k: v[0] for k, v in parse_qs(parts.query, keep_blank_values=True).items()}
            box.put(params)
            if outcome.done.wait(PAGE_WAIT_SECONDS) and outcome.ok:
                title, text = "Signed in - you can close this window.", outcome.text or "Return to KCC Desktop."
            elif outcome.done.is_set():
                title, text = "Sign-in failed.", outcome.text
            else:
                title, text = "Sign-in did not complete.", "KCC Desktop did not finish in time; look there."
            body = _PAGE.format(title=html.escape(title), text=html.escape(text)).encode("utf-8")
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Cache-Control", "no-store")
            self.send_header("Connection", "close")
            self.end_headers()
            self.wfile.write(body)
    return Handler


@dataclass
class Answer:
    """The sign-in's answer once its state matched: a code (and QuickBooks' realmId), or an error."""

    params: dict[str, str] = field(default_factory=dict)

    @property
    def code(self) -> str:
        return self.params.get("code", "")

    @property
    def realm_id(self) -> str:
        return self.params.get("realmId", "")

    @property
    def error(self) -> str:
        return self.params.get("error", "")

    @property
    def description(self) -> str:
        return self.params.get("error_description", "")

    def __repr__(self) -> str:   # never show the code
        return f"Answer(error={self.error!r}, realm_id={self.realm_id!r})"


class SignIn:
    """One attempt: its ``state``, the listener for its redirect, and the page the browser is shown.

    Use as a context manager; leaving it with an exception tells a waiting browser that the sign-in
    failed, and why.
    """

    def __init__(self, redirect_uri: str, box: AnswerBox | None = None) -> None:
        self.plan = plan_redirect(redirect_uri)
        self.box = box or AnswerBox()
        self._outcome = _Outcome()
        self.listener = LoopbackListener(self.plan, self.box, self._outcome)
        self.redirect_uri = self.plan.redirect_uri
        if not self.plan.relay and self.plan.port == 0:   # "any free port": say which one was taken
            parts = urlsplit(redirect_uri)
            host = parts.netloc.rsplit(":", 1)[0]
            self.redirect_uri = parts._replace(netloc=f"{host}:{self.listener.port}").geturl()
        nonce = secrets.token_urlsafe(24)
        # An https page cannot know where the app listens: the port rides at the front of state.
        self.state = f"{self.listener.port}.{nonce}" if self.plan.relay else nonce

    def __enter__(self) -> SignIn:
        self.listener.start()
        return self

    def __exit__(self, exc_type: object, exc: BaseException | None, tb: object) -> None:
        if exc is not None:
            self.finish(False, str(exc))
        else:
            self.finish(False, "KCC Desktop stopped before the sign-in finished.")
        self.listener.stop()

    def wait(self, timeout: float) -> Answer:
        """The answer for this attempt. Raises AuthorizationTimeout or StateMismatch."""
        params = self.box.wait(timeout)
        if params.get("state") != self.state:
            raise StateMismatch("The sign-in answer did not match this connection attempt (state mismatch); "
                                "it may have come from an old or forged page.")
        return Answer(params)

    def finish(self, ok: bool, text: str) -> None:
        """What the browser that brought the answer is told (only the first call counts)."""
        self._outcome.set(ok, text)

