"""The app served over real HTTP on a free loopback port, for callers outside the process's
ASGI transport (a Lambda handler's sync httpx, a container)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import uvicorn
from fastapi import FastAPI

from devstack.moto_server import free_port

START_TIMEOUT_SECONDS = 10.0


@asynccontextmanager
async def serve(app: FastAPI, port: int | None = None) -> AsyncIterator[str]:
    """Serves an app whose lifespan already runs (the `app` fixture's); yields its base URL.
    Pass `port` when the app must know its own URL first (e.g. as its callback base)."""
    port = port or free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, lifespan="off", log_config=None)
    )
    task = asyncio.create_task(server.serve(), name=f"live-api-{port}")
    try:
        async with asyncio.timeout(START_TIMEOUT_SECONDS):
            while not server.started:
                if task.done():
                    task.result()  # re-raises why it could not start
                await asyncio.sleep(0.02)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, timeout=START_TIMEOUT_SECONDS)
