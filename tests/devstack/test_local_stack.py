"""`make run`'s process comes up on its defaults, serves console and docs, stops on Ctrl-C."""

from __future__ import annotations

import httpx

from tests.support.local_stack import LocalStack


def test_the_local_stack_serves_docs_console_and_readiness(local_stack: LocalStack) -> None:
    ready = httpx.get(f"{local_stack.api_url}/health/ready")
    assert ready.json()["checks"] == {"database": "ok", "queues": "ok"}
    assert httpx.get(f"{local_stack.api_url}/docs").status_code == 200
    console = httpx.get(f"{local_stack.api_url}/")
    assert console.status_code == 200
    assert "Reframer console" in console.text
    assert "script-src 'self'" in console.headers["content-security-policy"]
    assert httpx.get(f"{local_stack.api_url}/console/console.js").status_code == 200
    assert httpx.get(f"{local_stack.api_url}/console/../config.py").status_code == 404
