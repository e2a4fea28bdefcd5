"""Every error is a problem document with a stable code, whatever went wrong and where."""

from __future__ import annotations

import httpx
import pytest
from fastapi import FastAPI

from app.api.errors import NEXT_STEPS
from app.api.openapi import operators_document
from app.domain.errors import NextStep
from tests.support.users import UserFactory

PROBLEM = "application/problem+json"


def assert_problem(response: httpx.Response, status: int, code: str) -> dict[str, object]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM
    body: dict[str, object] = response.json()
    assert body["status"] == status
    assert body["code"] == code
    assert {"type", "title", "detail"} <= body.keys()
    return body


async def test_malformed_json_is_a_422_naming_the_body(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/api/auth/register",
        content=b'{"email": "a@example.com", "password": ',
        headers={"Content-Type": "application/json"},
    )
    assert_problem(response, 422, "validation_error")


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"email": 12, "password": ["x"]},
        {"email": "a@example.com"},
        [],
        "just a string",
    ],
)
async def test_wrong_types_and_missing_fields_are_422(
    client: httpx.AsyncClient, body: object
) -> None:
    response = await client.post("/api/auth/register", json=body)
    problem = assert_problem(response, 422, "validation_error")
    assert problem["errors"]


async def test_an_oversized_body_is_413_before_it_is_read(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/api/auth/register",
        content=b"x" * (2 * 1024 * 1024),
        headers={"Content-Type": "application/json"},
    )
    body = assert_problem(response, 413, "payload_too_large")
    assert body["limit_bytes"] == 1024 * 1024


async def test_an_oversized_chunked_body_is_413_too(client: httpx.AsyncClient) -> None:
    async def chunks():  # type: ignore[no-untyped-def]
        for _ in range(40):
            yield b"x" * 65536

    response = await client.post(
        "/api/auth/register", content=chunks(), headers={"Content-Type": "application/json"}
    )
    assert_problem(response, 413, "payload_too_large")


async def test_unknown_routes_and_methods_are_problems(client: httpx.AsyncClient) -> None:
    assert_problem(await client.get("/api/nothing-here"), 404, "not_found")
    assert_problem(await client.delete("/api/auth/login"), 405, "method_not_allowed")


async def test_an_unhandled_error_is_a_500_with_the_request_id_and_no_internals(
    app: FastAPI, client: httpx.AsyncClient, users: UserFactory
) -> None:
    user = await users.create()

    async def broken_session():  # type: ignore[no-untyped-def]
        raise RuntimeError("secret internals: password=hunter2")
        yield

    from app.api.deps import get_session

    app.dependency_overrides[get_session] = broken_session
    try:
        response = await client.get(
            "/api/api-keys", headers={**user.headers, "X-Request-ID": "req-42"}
        )
    finally:
        app.dependency_overrides.clear()
    body = assert_problem(response, 500, "internal_error")
    assert body["request_id"] == "req-42"
    assert response.headers["x-request-id"] == "req-42"
    assert "hunter2" not in response.text
    assert "RuntimeError" not in response.text


async def test_request_ids_are_echoed_or_made(client: httpx.AsyncClient) -> None:
    echoed = await client.get("/health/live", headers={"X-Request-ID": "abc-123"})
    assert echoed.headers["x-request-id"] == "abc-123"
    made = await client.get("/health/live", headers={"X-Request-ID": "bad id\twith spaces"})
    assert made.headers["x-request-id"] != "bad id\twith spaces"
    assert len(made.headers["x-request-id"]) == 32


async def test_cors_allows_the_configured_spa_origin_only(client: httpx.AsyncClient) -> None:
    preflight = {
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "Authorization, Content-Type",
    }
    allowed = await client.options(
        "/api/jobs", headers={"Origin": "http://localhost:8000", **preflight}
    )
    assert allowed.status_code == 200
    assert allowed.headers["access-control-allow-origin"] == "http://localhost:8000"
    refused = await client.options(
        "/api/jobs", headers={"Origin": "https://evil.example", **preflight}
    )
    assert "access-control-allow-origin" not in refused.headers


def test_every_next_step_a_refusal_names_is_a_route_of_the_api(app: FastAPI) -> None:
    """Services say what to do next (`NextStep`); the API names the route, which must exist."""
    paths = operators_document(app)["paths"]
    posts = {path for path, operations in paths.items() if "post" in operations}
    assert set(NEXT_STEPS) == set(NextStep)
    for _sentence, path in NEXT_STEPS.values():
        assert path in posts, path


async def test_a_refusal_names_its_next_step_in_the_detail_and_as_a_member(
    client: httpx.AsyncClient, users: UserFactory
) -> None:
    user = await users.create()
    response = await client.post("/api/billing/portal", headers=user.headers)
    body = assert_problem(response, 409, "no_billing_account")
    assert body["billing_checkout"] == "/api/billing/checkout"
    assert str(body["detail"]).endswith("Subscribe first with POST /api/billing/checkout.")
