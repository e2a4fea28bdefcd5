"""The OpenAPI document: /docs works, operation ids are stable, bearer auth is declared."""

from __future__ import annotations

import httpx


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
