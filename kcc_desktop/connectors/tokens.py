"""OAuth tokens and client secrets, kept only in the operating system's keyring.

One keyring entry per provider and organisation: service ``kcc-desktop``, username
``"{provider}:{tenant}"``, value a JSON token set. Secrets never go to the database, logs or exception
text: every secret that passes through here is registered with ``redact`` so that a logging filter
(``install_log_redaction``) and our own error messages can scrub it.

``TokenManager`` hands out a valid access token: it refreshes ahead of expiry, one refresh at a time,
and saves a rotated refresh token before the new access token is used (Xero's refresh tokens are
single-use: losing the new one means reconnecting).

A token set is bound to where it was issued (``bind``: the endpoints' ``audience`` and the organisation).
``TokenManager`` hands a token out only for that audience, so a changed root, environment or organisation
needs a new sign-in and a token is never sent to any other host.
"""

from __future__ import annotations

import contextlib
import json
import logging
import re
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any, TypedDict, TypeVar

import keyring
import keyring.errors
from keyring.backend import KeyringBackend

from .base import ConnectionRequired, ConnectorError
from .provider import Provider

log = logging.getLogger(__name__)
T = TypeVar("T")

SERVICE = "kcc-desktop"
REFRESH_MARGIN_SECONDS = 120.0
# Windows Credential Manager holds at most 2,560 bytes (1,280 UTF-16 characters) per secret, and a
# Xero access token alone is a JWT of over a kilobyte: past this size the entry keeps only what is
# needed to get a new one (the next call then refreshes first). Other keyrings have room.
MAX_ENTRY_CHARS = 1200 if sys.platform == "win32" else 64_000


# --- redaction ----------------------------------------------------------------------------------------

_secrets: set[str] = set()
_secrets_lock = threading.Lock()
_PATTERNS = [
    re.compile(r"(?i)(bearer\s+)[A-Za-z0-9\-._~+/=]{8,}"),
    re.compile(r"(?i)((?:access|refresh|id)_token[\"']?\s*[:=]\s*[\"']?)[^\"'&\s,}]+"),
    re.compile(r"(?i)((?:client_secret|code_verifier)[\"']?\s*[:=]\s*[\"']?)[^\"'&\s,}]+"),
]
REDACTED = "[redacted]"


def register_secret(value: str | None) -> None:
    """Remember a secret so ``redact`` scrubs it wherever it shows up."""
    if value and len(value) >= 6:
        with _secrets_lock:
            _secrets.add(value)


def redact(text: object) -> str:
    """``text`` with every registered secret and anything token-shaped replaced by ``[redacted]``."""
    s = str(text)
    with _secrets_lock:
        known = sorted(_secrets, key=len, reverse=True)
    for secret in known:
        if secret in s:
            s = s.replace(secret, REDACTED)
    for pattern in _PATTERNS:
        s = pattern.sub(lambda m: m.group(1) + REDACTED, s)
    return s


class RedactingFilter(logging.Filter):
    """Scrubs secrets from a record's final message (add it to handlers: logger filters miss children)."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a broken format string is not ours to fix here
            return True
        clean = redact(message)
        if clean != message or record.args:
            record.msg, record.args = clean, None
        if record.exc_info and record.exc_info[1] is not None and not record.exc_text:
            record.exc_text = redact(logging.Formatter().formatException(record.exc_info))
        elif record.exc_text:
            record.exc_text = redact(record.exc_text)
        return True


def install_log_redaction(logger: logging.Logger | None = None) -> RedactingFilter:
    """Add one ``RedactingFilter`` to every handler of ``logger`` (the root logger by default)."""
    logger = logger or logging.getLogger()
    filt = RedactingFilter()
    for handler in logger.handlers:
        if not any(isinstance(f, RedactingFilter) for f in handler.filters):
            handler.addFilter(filt)
    return filt


# --- the token set --------------------------------------------------------------------------------------

class TokenResponse(TypedDict, total=False):
    """A token endpoint's JSON (RFC 6749 section 5.1), as far as KCC Desktop reads it."""

    access_token: str
    refresh_token: str
    expires_in: int | float | str | None
    expires_at: float | None
    token_type: str
    scope: str | list[str]
    id_token: str | None
    x_refresh_token_expires_in: int | None    # QuickBooks: the refresh token's own lifetime


@dataclass
class TokenSet:
    access_token: str
    refresh_token: str = ""
    expires_at: float = 0.0              # POSIX seconds (UTC); 0 = unknown
    scope: list[str] = field(default_factory=list)
    token_type: str = "Bearer"
    id_token: str = ""
    extra: dict[str, str] = field(default_factory=dict)   # non-secret extras, e.g. QuickBooks' realm id

    def __post_init__(self) -> None:
        for secret in (self.access_token, self.refresh_token, self.id_token):
            register_secret(secret)

    def __repr__(self) -> str:  # never print the values
        return f"TokenSet(expires_at={self.expires_at!r}, scope={self.scope!r}, extra={self.extra!r})"

    __str__ = __repr__

    @classmethod
    def from_response(cls, data: TokenResponse, now: float | None = None,
                      previous: TokenSet | None = None) -> TokenSet:
        """From a token endpoint's JSON. A missing refresh token keeps the previous one."""
        now = time.time() if now is None else now
        if not isinstance(data, dict) or not data.get("access_token"):
            raise ConnectorError("The sign-in service answered without an access token.",
                                 "Try connecting again.")
        scope = data.get("scope") or (previous.scope if previous else [])
        if isinstance(scope, str):
            scope = scope.split()
        expires_in = float(data.get("expires_in") or 0)
        return cls(
            access_token=str(data["access_token"]),
            refresh_token=str(data.get("refresh_token") or (previous.refresh_token if previous else "")),
            expires_at=now + expires_in if expires_in else float(data.get("expires_at") or 0),
            scope=list(scope),
            token_type=str(data.get("token_type") or "Bearer"),
            id_token=str(data.get("id_token") or ""),
            extra=dict(previous.extra) if previous else {},
        )

    def to_json(self) -> str:
        return json.dumps({"access_token": self.access_token, "refresh_token": self.refresh_token,
                           "expires_at": self.expires_at, "scope": self.scope,
                           "token_type": self.token_type, "id_token": self.id_token, "extra": self.extra})

    @classmethod
    def from_json(cls, text: str) -> TokenSet:
        d = json.loads(text)
        return cls(access_token=d["access_token"], refresh_token=d.get("refresh_token", ""),
                   expires_at=float(d.get("expires_at") or 0), scope=list(d.get("scope") or []),
                   token_type=d.get("token_type") or "Bearer", id_token=d.get("id_token") or "",
                   extra=dict(d.get("extra") or {}))

    def expires_within(self, seconds: float, now: float | None = None) -> bool:
        if not self.expires_at:
            return False
        return self.expires_at - seconds <= (time.time() if now is None else now)

    def sdk_dict(self) -> dict[str, Any]:
        """The token as xero-python wants it: only its allowed keys, scope as a LIST."""
        return {"access_token": self.access_token, "refresh_token": self.refresh_token,
                "token_type": self.token_type, "scope": list(self.scope),
                "expires_in": max(0, int(self.expires_at - time.time())) if self.expires_at else None,
                # None: our TokenManager refreshes; the SDK must never try (it has no secret).
                "expires_at": None, "id_token": self.id_token or None}


def bind(tokens: TokenSet, audience: str, tenant: str) -> TokenSet:
    """Mark ``tokens`` as issued for ``audience`` (``Endpoints.audience``) and organisation ``tenant``."""
    tokens.extra.update(audience=audience, tenant=tenant)
    return tokens


def binding_problem(tokens: TokenSet, audience: str, unbound_ok: bool = True, tenant: str = "") -> str:
    """Why ``tokens`` may not be used for ``audience`` and organisation ``tenant`` ("" when they may).
    Tokens saved before binding existed are trusted only where ``unbound_ok`` (the real services' own hosts)."""
    bound_tenant = tokens.extra.get("tenant", "")
    if tenant and bound_tenant and bound_tenant != tenant:
        return (f"the saved sign-in was made for organisation {bound_tenant}, but the connection now names "
                f"{tenant}")
    bound = tokens.extra.get("audience", "")
    if not audience or bound == audience or (not bound and unbound_ok):
        return ""
    if not bound:
        return "the saved sign-in does not say which address it was made for"
    return (f"the saved sign-in was made for {bound.split()[0]}, but the connection now points at "
            f"{audience.split()[0]}")


# --- the keyring ----------------------------------------------------------------------------------------

class KeyringUnavailable(ConnectorError):
    """No usable keyring: tokens would have nowhere safe to live."""

    hint = ("Install and unlock a Secret Service such as GNOME Keyring or KWallet (on Linux), "
            "or choose a keyring backend with the PYTHON_KEYRING_BACKEND environment variable. "
            "KCC Desktop never stores tokens in plain text.")


def _is_fail_backend(backend: object) -> bool:
    try:
        from keyring.backends import fail
    except ImportError:  # pragma: no cover
        return False
    if isinstance(backend, fail.Keyring):
        return True
    # A chainer with nothing behind it is as good as no keyring.
    backends = getattr(backend, "backends", None)
    return backends is not None and not backends


class TokenStore:
    """Tokens and client secrets in the keyring (``backend`` defaults to keyring's configured one)."""

    def __init__(self, service: str = SERVICE, backend: KeyringBackend | None = None,
                 max_entry_chars: int = MAX_ENTRY_CHARS) -> None:
        self.service = service
        self._backend = backend
        self.max_entry_chars = max_entry_chars

    @property
    def backend(self) -> KeyringBackend:
        backend = self._backend or keyring.get_keyring()
        if _is_fail_backend(backend):
            raise KeyringUnavailable("No system keyring is available to keep the connection's tokens safe.")
        return backend

    def check_available(self) -> None:
        """Raise KeyringUnavailable now (e.g. before opening a browser) if tokens could not be kept."""
        _ = self.backend

    def _call(self, what: str, fn: Callable[[KeyringBackend], T]) -> T:
        backend = self.backend
        try:
            return fn(backend)
        except keyring.errors.NoKeyringError:
            raise KeyringUnavailable("No system keyring is available to keep the connection's tokens safe.") from None
        except keyring.errors.KeyringLocked:
            raise KeyringUnavailable("The system keyring is locked.",
                                     "Unlock it (log in to your desktop session) and try again.") from None
        except keyring.errors.KeyringError as exc:
            # The backend's text could echo the value we tried to store: scrub it.
            raise KeyringUnavailable(f"The system keyring refused to {what}: {redact(exc)}") from None

    @staticmethod
    def username(provider: str, tenant: str) -> str:
        return f"{provider}:{tenant}"

    def load(self, provider: str, tenant: str) -> TokenSet | None:
        user = self.username(provider, tenant)
        text = self._call("read the tokens", lambda b: b.get_password(self.service, user))
        if not text:
            return None
        try:
            return TokenSet.from_json(text)
        except (ValueError, KeyError, TypeError):
            log.warning("The saved %s tokens for %s could not be read; a reconnect is needed.", provider, tenant)
            return None

    def save(self, provider: str, tenant: str, tokens: TokenSet) -> None:
        user, text = self.username(provider, tenant), self._fitting_json(tokens)
        self._call("save the tokens", lambda b: b.set_password(self.service, user, text))

    def _fitting_json(self, tokens: TokenSet) -> str:
        text = tokens.to_json()
        if len(text) > self.max_entry_chars and tokens.id_token:
            tokens = replace(tokens, id_token="")
            text = tokens.to_json()
        if len(text) > self.max_entry_chars:
            # Keep the refresh token (the one thing that cannot be got again); drop the access token.
            text = replace(tokens, access_token="", expires_at=0.0).to_json()
        return text

    def delete(self, provider: str, tenant: str) -> None:
        user = self.username(provider, tenant)

        def _delete(b: KeyringBackend) -> None:
            with contextlib.suppress(keyring.errors.PasswordDeleteError):   # nothing saved: nothing to delete
                b.delete_password(self.service, user)
        self._call("delete the tokens", _delete)

    # QuickBooks needs a client secret (Xero's desktop flow uses PKCE and has none).
    def client_secret(self, provider: str, client_id: str) -> str | None:
        user = f"{provider}-client-secret:{client_id}"
        value = self._call("read the client secret", lambda b: b.get_password(self.service, user))
        register_secret(value)
        return value

    def set_client_secret(self, provider: str, client_id: str, secret: str) -> None:
        register_secret(secret)
        user = f"{provider}-client-secret:{client_id}"
        self._call("save the client secret", lambda b: b.set_password(self.service, user, secret))


# --- handing out valid access tokens ----------------------------------------------------------------

RefreshFn = Callable[[str], TokenResponse]   # refresh token -> the token endpoint's JSON (raises ConnectorError)

_refresh_locks: dict[tuple[str, str], threading.Lock] = {}
_refresh_locks_guard = threading.Lock()


def _refresh_lock(provider: str, tenant: str) -> threading.Lock:
    """One lock per organisation, shared by every TokenManager on it (the UI and a worker may each hold one)."""
    with _refresh_locks_guard:
        return _refresh_locks.setdefault((provider, tenant), threading.Lock())


class TokenManager:
    """A valid access token for one provider and organisation, refreshed ahead of expiry.

    ``refresh`` posts a refresh token to the provider's token endpoint and returns its JSON; it raises
    ``ConnectionRequired`` on ``invalid_grant`` (see ``oauth.refresh_tokens``).
    """

    def __init__(self, store: TokenStore, provider: str, tenant: str, refresh: RefreshFn,
                 margin: float = REFRESH_MARGIN_SECONDS, clock: Callable[[], float] = time.time,
                 audience: str = "", unbound_ok: bool = True) -> None:
        self.store = store
        self.provider = provider
        self.tenant = tenant
        self.audience = audience        # the only place these tokens may go (see ``bind``)
        self.unbound_ok = unbound_ok
        self._refresh = refresh
        self.margin = margin
        self.clock = clock
        self._lock = _refresh_lock(provider, tenant)   # one refresh in flight at a time, process-wide
        self._tokens: TokenSet | None = None
        self.refresh_count = 0

    def _current(self) -> TokenSet:
        if self._tokens is None:
            self._tokens = self.store.load(self.provider, self.tenant)
        if self._tokens is None:
            log.info("No saved %s sign-in for %s: a reconnect is needed.", _label(self.provider), self.tenant)
            raise ConnectionRequired("Valid Connection Required: KCC Desktop is not connected to "
                                     f"{_label(self.provider)} (no saved sign-in).")
        problem = binding_problem(self._tokens, self.audience, self.unbound_ok, self.tenant)
        if problem:
            self._tokens = None
            log.info("The %s sign-in for %s was not used: %s.", _label(self.provider), self.tenant, problem)
            raise ConnectionRequired(f"Valid Connection Required: {problem}. A sign-in is never sent to another "
                                     "address, nor used for another organisation.",
                                     f"Use Connect to sign in to {_label(self.provider)} there.")
        return self._tokens

    def tokens(self) -> TokenSet:
        """The current token set, refreshed first if it expires within ``margin`` seconds."""
        with self._lock:
            tokens = self._current()
            if not tokens.access_token or tokens.expires_within(self.margin, self.clock()):
                tokens = self._do_refresh(tokens)
            return tokens

    def access_token(self) -> str:
        return self.tokens().access_token

    def force_refresh(self, stale_access_token: str | None = None) -> TokenSet:
        """Refresh now (after a 401). If another thread already did, reuse its result."""
        with self._lock:
            tokens = self._current()
            if stale_access_token is not None and tokens.access_token != stale_access_token:
                return tokens
            return self._do_refresh(tokens)

    def _do_refresh(self, tokens: TokenSet) -> TokenSet:
        if not tokens.refresh_token:
            log.info("The %s sign-in for %s has no refresh token: a reconnect is needed.", _label(self.provider),
                     self.tenant)
            raise ConnectionRequired(f"Valid Connection Required: the {_label(self.provider)} sign-in "
                                     "has expired and cannot be renewed.")
        # Reload first: another process (or an earlier run) may have rotated the token already.
        saved = self.store.load(self.provider, self.tenant)
        if saved is not None and saved.refresh_token != tokens.refresh_token:
            tokens = saved
            if tokens.access_token and not tokens.expires_within(self.margin, self.clock()):
                self._tokens = tokens
                return tokens
        try:
            data = self._refresh(tokens.refresh_token)
        except ConnectionRequired:
            # Revoked or expired for good: forget it, so status() says "reconnect" from now on.
            log.info("%s refused to renew the sign-in for %s: it is forgotten, a reconnect is needed.",
                     _label(self.provider), self.tenant)
            self.store.delete(self.provider, self.tenant)
            self._tokens = None
            raise
        new = TokenSet.from_response(data, now=self.clock(), previous=tokens)
        # Save BEFORE anyone uses the new access token: the old refresh token is now spent.
        self.store.save(self.provider, self.tenant, new)
        self._tokens = new
        self.refresh_count += 1
        log.info("Renewed the %s sign-in for %s (renewal %d of this session; expires in %.0f s).",
                 _label(self.provider), self.tenant, self.refresh_count,
                 new.expires_at - self.clock() if new.expires_at else 0)
        return new

    def forget(self) -> None:
        """Drop the cached copy (e.g. after reconnecting elsewhere); the next call reloads."""
        with self._lock:
            self._tokens = None


def _label(provider: str) -> str:
    return Provider.label_of(provider, short=True, unknown=provider)
