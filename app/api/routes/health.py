from __future__ import annotations

import asyncio
from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from sqlalchemy import text

from app.api.deps import AwsDep, EngineDep
from app.observability.tracing import suppressed

router = APIRouter(prefix="/health", tags=["health"])

CHECK_TIMEOUT_SECONDS = 2.0


@router.get("/live", summary="The process is up")
async def live() -> dict[str, str]:
    return {"status": "ok"}


@router.get(
    "/ready",
    summary="The database answers (queues are reported, not required)",
    responses={503: {"description": "the database is unreachable"}},
)
async def ready(engine: EngineDep, aws: AwsDep) -> JSONResponse:
    checks: dict[str, Any] = {}
    # Probes arrive every few seconds; a trace of each would drown the useful ones.
    with suppressed():
        try:
            async with (
                asyncio.timeout(CHECK_TIMEOUT_SECONDS),
                engine.connect() as conn,
            ):
                await conn.execute(text("SELECT 1"))
            checks["database"] = "ok"
        except Exception:
            checks["database"] = "unreachable"
        # The outbox holds messages while SQS is away, so queues do not decide readiness.
        reachable = await aws.queues_reachable()
        checks["queues"] = "ok" if reachable else "unreachable"
    healthy = checks["database"] == "ok"
    return JSONResponse(
        {"status": "ok" if healthy else "unavailable", "checks": checks},
        status_code=200 if healthy else 503,
    )
