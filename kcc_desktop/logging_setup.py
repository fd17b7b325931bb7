"""One rotating log file in the user's log folder, with tokens and secrets redacted before writing.

Qt-free: the commands use it too. A redacting filter sits on the handler, so nothing that looks like a
bearer token, an OAuth code or secret, or a JWT reaches the file, whichever logger wrote it.
"""

from __future__ import annotations

import logging
import re
from logging.handlers import RotatingFileHandler
from pathlib import Path

from . import paths

LOG_FILE_NAME = "kcc-desktop.log"
_MAX_BYTES = 2_000_000
_BACKUPS = 5

_PATTERNS = [
    # Authorization: Bearer xxx / Basic xxx
    (re.compile(r"(?i)\b(bearer|basic)\s+[A-Za-z0-9._~+/=-]{8,}"), r"\1 [redacted]"),
    # key=value / "key": "value" for the names OAuth uses
    (re.compile(r"(?i)(\"?(?:access_token|refresh_token|id_token|client_secret|code_verifier|"
                r"password|secret|token|authorization)\"?\s*[:=]\s*\"?)([^\s\"'&,;}]{4,})"), r"\1[redacted]"),
    # an OAuth authorisation code in a redirect (long, unlike a nominal "code=4000")
    (re.compile(r"(?i)(\bcode\"?\s*[:=]\s*\"?)([^\s\"'&,;}]{12,})"), r"\1[redacted]"),
    # JWTs (Xero's access tokens are JWTs)
    (re.compile(r"\beyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}"), "[redacted-jwt]"),
    # long opaque strings (refresh tokens are 40-100 chars of hex/base64)
    (re.compile(r"\b[A-Za-z0-9_-]{40,}\b"), "[redacted]"),
]


def redact(text: str) -> str:
    from .connectors.tokens import redact as redact_known  # every token the app has seen, by value

    text = redact_known(text)
    for pattern, repl in _PATTERNS:
        text = pattern.sub(repl, text)
    return text


class RedactingFilter(logging.Filter):
    """Rewrites the formatted message (and any exception text) with secrets removed."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message)
        if cleaned != message or record.args:
            record.msg, record.args = cleaned, None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        return True


def log_file() -> Path:
    return paths.log_dir() / LOG_FILE_NAME


class _KccLogHandler(RotatingFileHandler):
    """The app's own log file handler, so a second ``setup_logging`` can recognise it."""


def setup_logging(level: int = logging.INFO) -> Path:
    """Attach the rotating file handler to the root logger once; returns the log file's path."""
    path = log_file()
    root = logging.getLogger()
    for existing in root.handlers:
        if isinstance(existing, _KccLogHandler) and Path(existing.baseFilename) == path:
            return path
    handler = _KccLogHandler(path, maxBytes=_MAX_BYTES, backupCount=_BACKUPS, encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s [%(threadName)s] %(message)s"))
    handler.addFilter(RedactingFilter())
    root.addHandler(handler)
    if root.level == logging.NOTSET or root.level > level:
        root.setLevel(level)
    logging.captureWarnings(True)
    return path
