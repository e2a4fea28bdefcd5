"""OpenTelemetry: real OTLP/HTTP export to a receiver on loopback when an endpoint is set;
nothing of the SDK loaded, and no span made, when it is not."""

from __future__ import annotations

import json
import logging
import os
import secrets
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from fastapi import APIRouter

from app.api.deps import SessionDep
from app.aws.clients import shared_session
from app.config import Settings
from app.logging import JsonFormatter
from app.observability.tracing import tracing_active
from app.outbox.messages import Destination, enqueue
from devstack.provision import LocalAws
from tests.support.apps import running_app
from tests.support.otlp_receiver import OtlpReceiver, ReceivedSpan

SERVER, CLIENT, PRODUCER = 2, 3, 4  # OTLP SpanKind values
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def receiver() -> Iterator[OtlpReceiver]:
    server = OtlpReceiver()
    server.start()
    yield server
    server.stop()


def _probe_router(ping_url: str) -> APIRouter:
    """A stand-in for a feature route that enqueues work and calls out over HTTP."""
    router = APIRouter()

    @router.post("/probe/jobs/{job_id}/queue")
    async def queue_a_job(job_id: str, session: SessionDep) -> dict[str, str]:
        enqueue(session, Destination.JOBS, {"job_id": job_id}, group_id="acct", dedup_id=job_id)
        await session.commit()
        async with httpx.AsyncClient() as http:
            (await http.get(ping_url)).raise_for_status()
        logging.getLogger("tests.probe").info("queued")
        return {"job_id": job_id}

    return router


def _only(spans: list[ReceivedSpan], **where: object) -> ReceivedSpan:
    found = [s for s in spans if all(getattr(s, k) == v for k, v in where.items())]
    assert len(found) == 1, (where, [(s.name, s.scope) for s in spans])
    return found[0]


async def test_a_request_is_traced_from_the_api_through_the_outbox_into_sqs(
    settings: Settings, aws: LocalAws, receiver: OtlpReceiver
) -> None:
    traced = settings.model_copy(update={"otel_exporter_otlp_endpoint": receiver.endpoint})
    trace_id, caller_span = secrets.token_hex(16), secrets.token_hex(8)
    job_id = str(uuid.uuid4())
    log_lines: list[dict[str, object]] = []

    class Lines(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            log_lines.append(json.loads(JsonFormatter().format(record)))

    handler = Lines(logging.INFO)
    logging.getLogger("tests.probe").addHandler(handler)
    try:
        async with running_app(traced) as (app, client):
            assert tracing_active()
            app.include_router(_probe_router(receiver.endpoint + "/ping"))
            # A callback from a Lambda carries the trace it was handed in `traceparent`.
            response = await client.post(
                f"/probe/jobs/{job_id}/queue",
                headers={"traceparent": f"00-{trace_id}-{caller_span}-01"},
            )
            assert response.status_code == 200, response.text
            assert (await client.get("/health/live")).status_code == 200
            assert (await client.get("/metrics")).status_code == 200
            assert await app.state.outbox_relay.relay_once() == (1, 0)
            assert app.state.tracing.force_flush()
    finally:
        logging.getLogger("tests.probe").removeHandler(handler)
    assert not tracing_active()

    # The message carries the request's trace to whoever consumes it.
    async with shared_session().client(
        "sqs", endpoint_url=settings.aws_endpoint_url, region_name=settings.aws_region
    ) as sqs:
        received = await sqs.receive_message(
            QueueUrl=aws.jobs_queue_url, MessageAttributeNames=["All"], WaitTimeSeconds=1
        )
    (message,) = received["Messages"]
    assert json.loads(message["Body"]) == {"job_id": job_id}
    traceparent = message["MessageAttributes"]["traceparent"]["StringValue"]
    assert traceparent.split("-")[1] == trace_id

    spans = receiver.wait_for(lambda got: any(s.name.startswith("outbox publish") for s in got))
    server = _only(spans, kind=SERVER, scope="fastapi")
    assert server.name == "POST /probe/jobs/{job_id}/queue"
    assert (server.trace_id, server.parent_span_id) == (trace_id, caller_span)
    assert server.resource["service.name"] == "reframer-api"
    in_request = [s for s in spans if s.trace_id == trace_id]
    assert any(
        s.scope == "opentelemetry.instrumentation.sqlalchemy" and "INSERT" in s.name
        for s in in_request
    ), [s.name for s in in_request]
    outbound = _only(in_request, scope="opentelemetry.instrumentation.httpx")
    assert outbound.kind == CLIENT
    # The relay's publish span is its own trace, linked to the request that enqueued.
    publish = _only(spans, name="outbox publish jobs")
    assert publish.kind == PRODUCER
    assert publish.linked_trace_ids == (trace_id,)
    send = _only(spans, name="SQS.SendMessageBatch", trace_id=publish.trace_id)
    assert send.scope.startswith("opentelemetry.instrumentation.botocore")
    assert send.attributes["rpc.method"] == "SendMessageBatch"
    assert send.parent_span_id == publish.span_id
    # The relay's idle polling, probes and scrapes make no spans at all.
    assert not [s.name for s in spans if s.name.startswith("SELECT")]
    paths = {s.attributes.get("url.path") for s in spans}
    assert "/health/live" not in paths
    assert "/metrics" not in paths
    # The log line of the request names its trace.
    (line,) = log_lines
    assert line["trace_id"] == trace_id


# Run in a fresh interpreter: this test process has loaded the SDK for the test above.
CHILD = """
import asyncio, json, sys
import httpx
from app.main import create_app

ACCOUNT = {"email": "a@example.com", "password": "pw-long-enough-1"}
# The SDK's tracing, exporters and instrumentation; redis-py imports a few SDK config
# modules of its own whenever the SDK is installed, which starts nothing.
TRACING_PARTS = (
    "opentelemetry.sdk.trace",
    "opentelemetry.exporter",
    "opentelemetry.instrumentation",
)

async def main():
    app = create_app()
    statuses = []
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            for method, path, body in [
                ("POST", "/api/auth/register", ACCOUNT),
                ("POST", "/api/auth/login", ACCOUNT),
                ("GET", "/health/ready", None),
                ("GET", "/metrics", None),
                ("GET", "/no/such/path", None),
            ]:
                statuses.append((await client.request(method, path, json=body)).status_code)
        await app.state.outbox_relay.relay_once()
    from opentelemetry import trace
    loaded = sorted(name for name in sys.modules if name.startswith(TRACING_PARTS))
    print(json.dumps({"statuses": statuses, "loaded": loaded,
                      "provider": type(trace.get_tracer_provider()).__name__}))

asyncio.run(main())
"""


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_without_an_endpoint_nothing_of_the_sdk_is_loaded(settings: Settings) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OTEL_", "REFRAMER_"))}
    env.update(
        {
            "REFRAMER_ENVIRONMENT": "test",
            "REFRAMER_DATABASE_URL": settings.database_url,
            "REFRAMER_AWS_ENDPOINT_URL": str(settings.aws_endpoint_url),
            "REFRAMER_JOBS_QUEUE_URL": settings.jobs_queue_url,
            "REFRAMER_WEBHOOKS_QUEUE_URL": settings.webhooks_queue_url,
            "REFRAMER_S3_BUCKET": settings.s3_bucket,
            "REFRAMER_BCRYPT_ROUNDS": "4",
            "REFRAMER_OUTBOX_RELAY_ENABLED": "false",
            "REFRAMER_LOG_LEVEL": "WARNING",
        }
    )
    done = subprocess.run(
        [sys.executable, "-c", CHILD],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert report["statuses"] == [201, 200, 200, 200, 404]
    # FastAPI itself imports the OpenTelemetry API; nothing that records or exports spans.
    assert report["loaded"] == []
    assert report["provider"] == "ProxyTracerProvider"
