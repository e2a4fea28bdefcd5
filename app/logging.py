"""JSON logs, each line tagged with the request id and whatever else is known: the account,
the job, the trace. Any layer adds fields with `log_context(...)` or `bind_log_context(...)`;
neither needs FastAPI."""

from __future__ import annotations

import json
import logging
import re
import sys
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime
from types import MappingProxyType
from typing import Any

request_id_var: ContextVar[str | None] = ContextVar("request_id", default=None)

_EMPTY: Mapping[str, Any] = MappingProxyType({})
# Replaced, never mutated: a task started mid-request keeps the fields it was born with.
_context_fields: ContextVar[Mapping[str, Any]] = ContextVar("log_context", default=_EMPTY)

# Extra sources of fields (the trace id while tracing is on), asked on every line.
_field_providers: list[Callable[[], Mapping[str, Any]]] = []

_STANDARD_ATTRS = set(logging.makeLogRecord({}).__dict__) | {"message", "asctime"}


def bind_log_context(**fields: Any) -> None:
    """Tags every later line of the current request (or task) with these fields.

    None values are left out, so `bind_log_context(job_id=maybe)` is safe.
    """
    added = {key: value for key, value in fields.items() if value is not None}
    if added:
        _context_fields.set(MappingProxyType({**_context_fields.get(), **added}))


@contextmanager
def log_context(**fields: Any) -> Iterator[None]:
    """Tags the lines logged inside the block; the previous fields come back after it."""
    token = _context_fields.set(
        MappingProxyType(
            {**_context_fields.get(), **{k: v for k, v in fields.items() if v is not None}}
        )
    )
    try:
        yield
    finally:
        _context_fields.reset(token)


def start_request_log_context(request_id: str) -> None:
    """A new request starts clean: nothing of the previous one in the same task carries over."""
    request_id_var.set(request_id)
    _context_fields.set(_EMPTY)


def current_log_context() -> Mapping[str, Any]:
    fields = dict(_context_fields.get())
    request_id = request_id_var.get()
    if request_id:
        fields["request_id"] = request_id
    return fields


def add_log_field_provider(provider: Callable[[], Mapping[str, Any]]) -> None:
    if provider not in _field_providers:
        _field_providers.append(provider)


def remove_log_field_provider(provider: Callable[[], Mapping[str, Any]]) -> None:
    if provider in _field_providers:
        _field_providers.remove(provider)


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        entry.update(current_log_context())
        for provider in _field_providers:
            entry.update(provider())
        # What the call site passed in `extra` wins over the ambient context.
        for key, value in record.__dict__.items():
            if key not in _STANDARD_ATTRS and not key.startswith("_"):
                entry[key] = value
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str)


# Query parameters whose values are credentials. Emailed links carry their token in the
# fragment, which never reaches a server; an old or hand-made link may still send it here.
_SECRET_QUERY_VALUE = re.compile(
    r"(?i)([?&](?:token|key|api_key|access_token|refresh_token|secret|password)=)[^&\s\"']*"
)
REDACTED = "[redacted]"
ACCESS_LOGGER = "uvicorn.access"


def redact_query_secrets(text: str) -> str:
    return _SECRET_QUERY_VALUE.sub(rf"\1{REDACTED}", text)


class RedactQuerySecrets(logging.Filter):
    """Rewrites an access-log line's request target so it holds no credential."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = redact_query_secrets(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(
                redact_query_secrets(arg) if isinstance(arg, str) else arg for arg in record.args
            )
        return True


class _ReframerHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Marks our handler, so configuring twice replaces it and leaves others (pytest's) alone."""


def configure_logging(level: str = "INFO", json_output: bool = True) -> None:
    handler = _ReframerHandler(sys.stderr)
    if json_output:
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    for old in [h for h in root.handlers if isinstance(h, _ReframerHandler)]:
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level.upper())
    access = logging.getLogger(ACCESS_LOGGER)
    if not any(isinstance(f, RedactQuerySecrets) for f in access.filters):
        access.addFilter(RedactQuerySecrets())
    for chatty in ("botocore", "aiobotocore", "boto3", "aioboto3", "werkzeug", "alembic.runtime"):
        logging.getLogger(chatty).setLevel(logging.WARNING)
