"""Maps every exception the app can raise to a problem document; nothing leaks as a bare 500."""

from __future__ import annotations

import logging
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from app.api.problems import problem_response
from app.db.availability import DATABASE_ERROR_TYPES, is_database_unavailable
from app.domain.errors import (
    Conflict,
    DomainError,
    Forbidden,
    NextStep,
    NotFound,
    PaymentProviderError,
    RateLimited,
    ServiceUnavailable,
    Unauthenticated,
    ValidationFailed,
)

logger = logging.getLogger("app.errors")

CODES_BY_STATUS = {
    400: "bad_request",
    401: "unauthenticated",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "validation_error",
    429: "rate_limited",
    500: "internal_error",
    503: "service_unavailable",
}

# The HTTP status of each family of refusals: an error answers with the status of its nearest
# ancestor listed here (a plain DomainError, or an unlisted family, is a 400).
STATUS_OF_ERROR: dict[type[DomainError], int] = {
    DomainError: 400,
    Unauthenticated: 401,
    Forbidden: 403,
    NotFound: 404,
    Conflict: 409,
    ValidationFailed: 422,
    RateLimited: 429,
    PaymentProviderError: 502,
    ServiceUnavailable: 503,
}


# The route that takes each next step a refusal names, and how the problem's detail says it.
NEXT_STEPS: dict[NextStep, tuple[str, str]] = {
    NextStep.RESEND_VERIFICATION: ("Ask for a new link", "/api/auth/resend-verification"),
    NextStep.FORGOT_PASSWORD: ("Ask for a new link", "/api/auth/forgot-password"),
    NextStep.BILLING_CHECKOUT: ("Subscribe first", "/api/billing/checkout"),
    NextStep.BILLING_PORTAL: ("Change or cancel it in the billing portal", "/api/billing/portal"),
}


def detail_and_members(error: DomainError) -> tuple[str, dict[str, Any]]:
    """The problem's detail and extra members: the error's own, and the route of its next
    step (as a sentence, and as a member named after the step)."""
    if error.next_step is None:
        return error.detail, error.extra
    sentence, path = NEXT_STEPS[error.next_step]
    detail = f"{error.detail} {sentence} with POST {path}."
    return detail, {**error.extra, error.next_step.value: path}


def status_of(error: DomainError) -> int:
    return next(STATUS_OF_ERROR[kind] for kind in type(error).__mro__ if kind in STATUS_OF_ERROR)


# How long a client should wait before retrying while the database is away: PostgreSQL
# restarts and RDS fail-overs take seconds to a minute.
DATABASE_RETRY_AFTER_SECONDS = 5


def _request_id(request: Request) -> str | None:
    return getattr(request.state, "request_id", None)


def _field_path(loc: tuple[int | str, ...]) -> str:
    # ("body", "options", "aspect_ratio") -> "options.aspect_ratio"; keep "query"/"header" visible.
    parts = [str(p) for p in loc]
    if parts and parts[0] == "body":
        parts = parts[1:]
    return ".".join(parts) or "body"


async def domain_error_handler(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, DomainError)
    retry_after = exc.extra.get("retry_after")
    detail, members = detail_and_members(exc)
    return problem_response(
        status_of(exc),
        exc.code,
        exc.title,
        detail,
        headers={"Retry-After": str(retry_after)} if retry_after is not None else None,
        request_id=_request_id(request),
        **members,
    )


async def validation_error_handler(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors: list[dict[str, Any]] = [
        {"field": _field_path(tuple(err["loc"])), "message": err["msg"], "type": err["type"]}
        for err in exc.errors()
    ]
    fields = ", ".join(sorted({e["field"] for e in errors}))
    return problem_response(
        422,
        "validation_error",
        "The request is not valid",
        f"Check these fields: {fields}",
        errors=errors,
        request_id=_request_id(request),
    )


async def http_error_handler(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    status = exc.status_code
    phrase = HTTPStatus(status).phrase if status in HTTPStatus._value2member_map_ else "Error"
    detail = exc.detail if isinstance(exc.detail, str) else phrase
    return problem_response(
        status,
        CODES_BY_STATUS.get(status, "http_error"),
        phrase,
        detail,
        headers=dict(exc.headers) if exc.headers else None,
        request_id=_request_id(request),
    )


async def unhandled_error_handler(request: Request, exc: Exception) -> JSONResponse:
    request_id = _request_id(request)
    logger.exception("unhandled error", extra={"request_id": request_id})
    # ServerErrorMiddleware sits outside the request-id middleware: echo the id here.
    return problem_response(
        500,
        "internal_error",
        "Internal server error",
        "Something went wrong on our side; quote the request id when reporting it.",
        headers={"X-Request-ID": request_id} if request_id else None,
        request_id=request_id,
    )


async def database_error_handler(request: Request, exc: Exception) -> JSONResponse:
    """A lost database connection is 503 with Retry-After; any other error goes on to the
    500 handler, as if this one were not there."""
    if not is_database_unavailable(exc):
        raise exc
    request_id = _request_id(request)
    logger.warning(
        "database unavailable: %s: %s",
        type(exc).__name__,
        exc,
        extra={"request_id": request_id},
    )
    return problem_response(
        503,
        "service_unavailable",
        "The database is unavailable",
        "The service cannot reach its database right now; retry shortly.",
        headers={"Retry-After": str(DATABASE_RETRY_AFTER_SECONDS)},
        request_id=request_id,
        retry_after=DATABASE_RETRY_AFTER_SECONDS,
    )


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(DomainError, domain_error_handler)
    for database_error in DATABASE_ERROR_TYPES:
        app.add_exception_handler(database_error, database_error_handler)
    app.add_exception_handler(RequestValidationError, validation_error_handler)
    app.add_exception_handler(StarletteHTTPException, http_error_handler)
    app.add_exception_handler(Exception, unhandled_error_handler)
