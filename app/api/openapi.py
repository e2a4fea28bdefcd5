"""The OpenAPI document, corrected where FastAPI's generator cannot know better.

What the routers cannot say themselves: an error's body is a problem document sent as
`application/problem+json` (FastAPI would file the `Problem` schema under
`application/json`, leaving the media type actually sent without a schema); every operation
that takes a body can be refused before its route runs, 400 for a body that cannot be parsed
as its media type (bytes that are not UTF-8, say), 413 for one over the size limit; every
authenticated /api operation spends from the caller's rate limit (401 without a credential,
429 when the budget is spent); and every /api and /internal operation reads the database, so
it answers 503 (with Retry-After) while the database is unreachable.
"""

from __future__ import annotations

from collections.abc import Callable
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI

from app.api.problems import PROBLEM_MEDIA_TYPE

PROBLEM_SCHEMA_REF = "#/components/schemas/Problem"
REFUSALS_OF_ANY_BODY = (HTTPStatus.BAD_REQUEST, HTTPStatus.REQUEST_ENTITY_TOO_LARGE)
REFUSALS_OF_A_CALLER = (HTTPStatus.UNAUTHORIZED, HTTPStatus.TOO_MANY_REQUESTS)
# /internal and /health are never rate limited.
RATE_LIMITED_PREFIX = "/api/"
DATABASE_BACKED_PREFIXES = ("/api/", "/internal/")


def _problem_response(status: HTTPStatus) -> dict[str, Any]:
    return {
        "description": status.phrase,
        "content": {PROBLEM_MEDIA_TYPE: {"schema": {"$ref": PROBLEM_SCHEMA_REF}}},
    }


def _file_problems_under_their_media_type(responses: dict[str, Any]) -> None:
    for status, response in responses.items():
        content = response.get("content", {})
        if int(status) < 400 or PROBLEM_MEDIA_TYPE not in content:
            continue
        misfiled = content.pop("application/json", None)
        if misfiled is not None and "schema" in misfiled:
            content[PROBLEM_MEDIA_TYPE] = {"schema": misfiled["schema"]}


def correct_document(document: dict[str, Any]) -> dict[str, Any]:
    """Applies the corrections in place; running it again changes nothing."""
    for path, path_item in document.get("paths", {}).items():
        for operation in path_item.values():
            responses = operation.setdefault("responses", {})
            _file_problems_under_their_media_type(responses)
            refusals: tuple[HTTPStatus, ...] = ()
            if "requestBody" in operation:
                refusals += REFUSALS_OF_ANY_BODY
            if operation.get("security") and path.startswith(RATE_LIMITED_PREFIX):
                refusals += REFUSALS_OF_A_CALLER
            if path.startswith(DATABASE_BACKED_PREFIXES):
                refusals += (HTTPStatus.SERVICE_UNAVAILABLE,)
            for status in refusals:
                responses.setdefault(str(status.value), _problem_response(status))
    return document


def install_openapi(app: FastAPI) -> None:
    """Serves the corrected document at /openapi.json and from `app.openapi()`."""
    generate: Callable[[], dict[str, Any]] = app.openapi

    def openapi() -> dict[str, Any]:
        return correct_document(generate())

    app.openapi = openapi  # type: ignore[method-assign]
