"""The OpenAPI document, corrected where FastAPI's generator cannot know better.

What the routers cannot say themselves: an error's body is a problem document sent as
`application/problem+json` (FastAPI would file the `Problem` schema under
`application/json`, leaving the media type actually sent without a schema); every operation
that takes a body can be refused before its route runs, 400 for a body that cannot be parsed
as its media type (bytes that are not UTF-8, say), 413 for one over the size limit; every
authenticated /api operation spends from the caller's rate limit (401 without a credential,
429 when the budget is spent); and every /api and /internal operation reads the database, so
it answers 503 (with Retry-After) while the database is unreachable.

The public document (`/openapi.json`) leaves out the /internal routes: they are the Lambdas'
and the container's (`contracts/`), unreachable from the internet. Operators get the whole
document from `operators_document(app)`, or `python -m app.cli openapi --operators`.
"""

from __future__ import annotations

import copy
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
INTERNAL_PREFIX = "/internal/"
SCHEMA_REF_PREFIX = "#/components/schemas/"


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


def _referenced_schemas(node: Any, schemas: dict[str, Any], found: set[str]) -> set[str]:
    """The names of the component schemas `node` refers to, directly or through others."""
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith(SCHEMA_REF_PREFIX):
            name = ref.removeprefix(SCHEMA_REF_PREFIX)
            if name not in found:
                found.add(name)
                _referenced_schemas(schemas.get(name), schemas, found)
        for value in node.values():
            _referenced_schemas(value, schemas, found)
    elif isinstance(node, list):
        for value in node:
            _referenced_schemas(value, schemas, found)
    return found


def public_document(document: dict[str, Any]) -> dict[str, Any]:
    """The document without the /internal operations and the schemas only they use."""
    public = copy.deepcopy(document)
    public["paths"] = {
        path: item
        for path, item in document.get("paths", {}).items()
        if not path.startswith(INTERNAL_PREFIX)
    }
    components = public.get("components", {})
    schemas = components.get("schemas", {})
    used = _referenced_schemas(public["paths"], schemas, set())
    components["schemas"] = {name: schema for name, schema in schemas.items() if name in used}
    return public


def operators_document(app: FastAPI) -> dict[str, Any]:
    """Every operation, the /internal ones included: for operators, never served publicly."""
    return correct_document(FastAPI.openapi(app))


def install_openapi(app: FastAPI) -> None:
    """Serves the public document at /openapi.json and from `app.openapi()`."""

    def openapi() -> dict[str, Any]:
        return public_document(operators_document(app))

    app.openapi = openapi  # type: ignore[method-assign]
