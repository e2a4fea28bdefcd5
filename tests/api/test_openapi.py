"""The OpenAPI document: /docs works, operation ids are stable, bearer auth is declared."""

from __future__ import annotations

import json
import subprocess
import sys

import httpx
from fastapi import FastAPI

from app.api.openapi import operators_document


async def test_docs_and_schema_are_served(client: httpx.AsyncClient) -> None:
    assert (await client.get("/docs")).status_code == 200
    schema = (await client.get("/openapi.json")).json()
    schemes = schema["components"]["securitySchemes"]
    assert schemes["HTTPBearer"]["scheme"] == "bearer"
    operations = [op for path in schema["paths"].values() for op in path.values()]
    ids = [op["operationId"] for op in operations]
    assert len(ids) == len(set(ids))
    assert "register" in ids
    assert "login" in ids
    register = schema["paths"]["/api/auth/register"]["post"]
    assert "409" in register["responses"]


async def test_errors_are_documented_as_problem_documents_and_bodies_may_be_refused(
    client: httpx.AsyncClient,
) -> None:
    """What the fuzz test holds the API to: each error response names the media type it is
    sent with and the Problem schema, every operation with a body lists 400 and 413, and
    every authenticated /api operation 401 and 429 (the caller's rate limit), and every
    database-backed operation 503 (the database away)."""
    schema = (await client.get("/openapi.json")).json()
    problem = {"schema": {"$ref": "#/components/schemas/Problem"}}
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            responses = operation["responses"]
            for status, response in responses.items():
                if int(status) >= 400 and "content" in response:
                    assert response["content"] == {"application/problem+json": problem}, (
                        method,
                        path,
                        status,
                    )
            if "requestBody" in operation:
                assert {"400", "413"} <= set(responses), (method, path)
            if operation.get("security") and path.startswith("/api/"):
                assert {"401", "429"} <= set(responses), (method, path)
            if path.startswith(("/api/", "/internal/")):
                assert "503" in responses, (method, path)


async def test_the_public_document_leaves_out_the_internal_routes_and_their_models(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    public = (await client.get("/openapi.json")).json()
    assert public["paths"], "the public document lists no operation"
    assert not [path for path in public["paths"] if path.startswith("/internal")]
    internal_models = {"DispatchSpec", "JobState", "AttemptReport", "AttemptOutcome"}
    assert not internal_models & set(public["components"]["schemas"])

    operators = operators_document(app)
    internal = {path for path in operators["paths"] if path.startswith("/internal/")}
    assert "/internal/jobs/{job_id}/dispatch" in internal
    assert "/internal/webhooks/deliveries/{delivery_id}/attempts" in internal
    assert internal_models <= set(operators["components"]["schemas"])
    assert set(public["paths"]) == set(operators["paths"]) - internal


def test_operators_print_the_whole_document_from_the_command_line() -> None:
    """`python -m app.cli openapi`: the public document by default, /internal with --operators."""

    def printed(*flags: str) -> dict[str, object]:
        command = [sys.executable, "-m", "app.cli", "openapi", *flags]
        done = subprocess.run(command, capture_output=True, text=True, check=True, timeout=120)
        return json.loads(done.stdout)["paths"]  # type: ignore[no-any-return]

    public, operators = printed(), printed("--operators")
    assert "/api/jobs" in public
    assert not any(path.startswith("/internal") for path in public)
    assert any(path.startswith("/internal") for path in operators)
