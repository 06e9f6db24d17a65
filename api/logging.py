"""structlog set-up: JSON lines in production, readable in a terminal, secrets redacted.

Every line carries the request id bound by ``RequestContextMiddleware``.
"""

from __future__ import annotations

import logging
import re
import sys
import time
import uuid
from collections.abc import MutableMapping
from typing import Any

import structlog
from litestar.datastructures import MutableScopeHeaders
from litestar.enums import ScopeType
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from api.settings import Settings

REQUEST_ID_HEADER = "x-request-id"
REDACTED = "[redacted]"
# Field names whose values never reach a log line, whatever module logs them.
SENSITIVE_KEYS = frozenset(
    {
        "password",
        "secret",
        "client_secret",
        "access_token",
        "refresh_token",
        "token",
        "authorization",
        "secret_value",
        "api_key",
        "card",
    }
)

# Addresses whose last segment is itself a credential (a bearer token for a calendar feed): logged
# with that segment blanked, wherever a path or URL is logged.
CREDENTIAL_IN_PATH = (re.compile(r"(/v1/calendar-feeds/)(?!\[redacted\])[^/?#\s]+"),)
URL_FIELDS = frozenset({"path", "url", "raw_path", "target", "event"})

log = structlog.get_logger(__name__)
_access_log = logging.getLogger(__name__)  # the stdlib logger behind ``log``: its level decides


def redact_path(path: str) -> str:
    """The path or URL with any credential segment replaced by ``[redacted]``."""
    for pattern in CREDENTIAL_IN_PATH:
        path = pattern.sub(lambda m: m.group(1) + REDACTED, path)
    return path


def redact_secrets(
    _logger: Any, _method: str, event_dict: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    """structlog processor: blank out every field whose name says it holds a secret."""

    def scrub(value: Any) -> Any:
        if isinstance(value, dict):
            return {k: REDACTED if _is_sensitive(k) else scrub(v) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return [scrub(v) for v in value]
        return value

    for key in list(event_dict):
        value = event_dict[key]
        if _is_sensitive(key):
            event_dict[key] = REDACTED
        elif key in URL_FIELDS and isinstance(value, str):
            event_dict[key] = redact_path(value)
        else:
            event_dict[key] = scrub(value)
    return event_dict


def _is_sensitive(key: object) -> bool:
    return isinstance(key, str) and (key.lower() in SENSITIVE_KEYS or key.lower().endswith("_secret"))


def configure_logging(settings: Settings) -> None:
    """Configure structlog and route stdlib logging (uvicorn, sqlalchemy) through it."""
    use_json = settings.log_format == "json" or (settings.log_format == "auto" and not sys.stderr.isatty())
    shared: list[Any] = [  # Any: structlog processors are heterogeneous callables
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        redact_secrets,
    ]
    renderer: Any = structlog.processors.JSONRenderer() if use_json else structlog.dev.ConsoleRenderer()
    structlog.configure(
        # Drop lines below the configured level before any processor runs.
        processors=[
            structlog.stdlib.filter_by_level,
            *shared,
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=shared,
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            structlog.processors.format_exc_info if use_json else _identity,
            renderer,
        ],
    )
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(formatter)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(settings.log_level)
    for noisy in ("uvicorn.access",):
        logging.getLogger(noisy).handlers[:] = []
        logging.getLogger(noisy).propagate = False
    # httpx logs every outgoing URL at INFO; calendar and webhook URLs may carry credentials. Alembic
    # announces each of its plugins at INFO whenever it is imported, which says nothing to an operator.
    for chatty in ("httpx", "httpcore", "alembic.runtime.plugins"):
        logging.getLogger(chatty).setLevel(max(logging.WARNING, root.level))


def _identity(_logger: Any, _method: str, event_dict: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    return event_dict


class RequestContextMiddleware:
    """Bind a request id to every log line, echo it back, and write one access line per request."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP:
            await self.app(scope, receive, send)
            return
        request_id = _incoming_request_id(scope) or uuid.uuid4().hex
        started = time.perf_counter()
        status = 500
        structlog.contextvars.clear_contextvars()
        structlog.contextvars.bind_contextvars(request_id=request_id)

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                MutableScopeHeaders.from_message(message)[REQUEST_ID_HEADER] = request_id
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            # Built only when written: below the configured level the line costs nothing (the level is
            # read from the logger each time, so a changed level takes effect at once).
            if _access_log.isEnabledFor(logging.INFO):
                _log_request(scope, status, started)
            structlog.contextvars.clear_contextvars()


def _log_request(scope: Scope, status: int, started: float) -> None:
    log.info(
        "request_handled",
        method=scope.get("method"),
        path=redact_path(str(scope.get("path", ""))),
        status=status,
        duration_ms=round((time.perf_counter() - started) * 1000, 2),
    )


def _incoming_request_id(scope: Scope) -> str | None:
    for name, value in scope.get("headers", []):
        if name == REQUEST_ID_HEADER.encode():
            candidate = value.decode("latin-1").strip()
            # Accept a caller's id only if it is short and printable: it goes into logs and headers.
            if 0 < len(candidate) <= 128 and candidate.isprintable():
                return candidate
    return None
