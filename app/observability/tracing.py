"""OpenTelemetry traces, on only when `OTEL_EXPORTER_OTLP_ENDPOINT` is set.

With it unset this module imports nothing of OpenTelemetry, and its helpers
(`trace_carrier`, `suppressed`, `span`) cost a global lookup. With it set, one `Tracing`
per process exports spans over OTLP/HTTP (protobuf) and instruments SQLAlchemy (the
app's engine), httpx and aiobotocore; FastAPI makes the server spans itself (its native
telemetry, handed our tracer provider by `app.main`).

The W3C trace context travels on: a request that enqueues an SQS-bound outbox message
stores its `traceparent` with the row (`TRACE_CONTEXT_MEMBER`), and the publisher sends
it as SQS message attributes, so the Lambda and, through it, the callbacks can join the
trace by sending the same `traceparent` header back.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager, nullcontext
from typing import TYPE_CHECKING, Any

from app.logging import add_log_field_provider, remove_log_field_provider

if TYPE_CHECKING:
    from opentelemetry.sdk.trace import TracerProvider
    from sqlalchemy.ext.asyncio import AsyncEngine

logger = logging.getLogger("app.tracing")

DEFAULT_SERVICE_NAME = "reframer-api"
TRACES_PATH = "/v1/traces"
# The payload member of an outbox row that holds the trace context it was enqueued in;
# publishers move it out of the body into message attributes.
TRACE_CONTEXT_MEMBER = "_trace"
TRACE_CONTEXT_HEADERS = ("traceparent", "tracestate")

_active: Tracing | None = None


class Tracing:
    """The tracer provider of one app, and the instrumentation it switches on and off.

    Instrumentation of httpx and aiobotocore patches their classes: one `Tracing` runs at
    a time in a process (one app per process, as uvicorn runs it).
    """

    def __init__(self, endpoint: str, environment: str) -> None:
        from opentelemetry.sdk.resources import SERVICE_NAME, Resource
        from opentelemetry.sdk.trace import TracerProvider

        self.endpoint = endpoint.rstrip("/")
        resource = Resource.create({"deployment.environment.name": environment})
        if str(resource.attributes.get(SERVICE_NAME, "")).startswith("unknown_service"):
            # OTEL_SERVICE_NAME (or OTEL_RESOURCE_ATTRIBUTES) names the service when set.
            resource = resource.merge(Resource({SERVICE_NAME: DEFAULT_SERVICE_NAME}))
        self.provider: TracerProvider = TracerProvider(resource=resource, shutdown_on_exit=False)
        self._started = False

    @property
    def traces_url(self) -> str:
        return self.endpoint + TRACES_PATH

    def start(self, engine: AsyncEngine) -> None:
        from opentelemetry import trace
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
        from opentelemetry.instrumentation.botocore import AiobotocoreInstrumentor
        from opentelemetry.instrumentation.httpx import HTTPXClientInstrumentor
        from opentelemetry.instrumentation.sqlalchemy import SQLAlchemyInstrumentor
        from opentelemetry.sdk.trace.export import BatchSpanProcessor

        global _active
        if _active is not None:
            raise RuntimeError("tracing is already running in this process")
        self.provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter(self.traces_url)))
        # Its declared range stops below SQLAlchemy 2.1, which it instruments all the same
        # (engine events are unchanged); tests/observability/test_tracing.py proves it.
        SQLAlchemyInstrumentor().instrument(
            engine=engine.sync_engine, tracer_provider=self.provider, skip_dep_check=True
        )
        HTTPXClientInstrumentor().instrument(tracer_provider=self.provider)
        AiobotocoreInstrumentor().instrument(  # type: ignore[no-untyped-call]
            tracer_provider=self.provider
        )
        if type(trace.get_tracer_provider()).__name__ == "ProxyTracerProvider":
            # Code that asks for `trace.get_tracer(...)` gets ours, where nobody set one.
            trace.set_tracer_provider(self.provider)
        _active = self
        self._started = True
        add_log_field_provider(_trace_log_fields)
        logger.info("tracing on", extra={"otlp_traces_url": self.traces_url})

    def stop(self) -> None:
        from opentelemetry.instrumentation.botocore import AiobotocoreInstrumentor
        from opentelemetry.instrumentation.httpx import HTTPXClientInstrumentor
        from opentelemetry.instrumentation.sqlalchemy import SQLAlchemyInstrumentor

        global _active
        if not self._started:
            return
        remove_log_field_provider(_trace_log_fields)
        AiobotocoreInstrumentor().uninstrument()  # type: ignore[no-untyped-call]
        HTTPXClientInstrumentor().uninstrument()
        SQLAlchemyInstrumentor().uninstrument()
        self.provider.shutdown()  # flushes what is left
        _active = None
        self._started = False

    def force_flush(self, timeout_millis: int = 5000) -> bool:
        return bool(self.provider.force_flush(timeout_millis))


def create_tracing(endpoint: str | None, environment: str) -> Tracing | None:
    """None, importing nothing, when no OTLP endpoint is configured."""
    return Tracing(endpoint, environment) if endpoint else None


def tracing_active() -> bool:
    return _active is not None


def trace_carrier() -> dict[str, str]:
    """The current W3C trace context as headers (`traceparent`, maybe `tracestate`)."""
    if _active is None:
        return {}
    from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

    carrier: dict[str, str] = {}
    TraceContextTextMapPropagator().inject(carrier)
    return carrier


def split_trace_context(payload: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
    """An outbox payload without its stored trace context, and that context."""
    body = dict(payload)
    stored = body.pop(TRACE_CONTEXT_MEMBER, None)
    carrier: dict[str, str] = {}
    if isinstance(stored, Mapping):
        carrier = {
            key: value
            for key, value in stored.items()
            if key in TRACE_CONTEXT_HEADERS and isinstance(value, str)
        }
    return body, carrier


def suppressed() -> AbstractContextManager[None]:
    """A block whose database and HTTP calls make no spans (the relay's idle polling)."""
    if _active is None:
        return nullcontext()
    from opentelemetry.instrumentation.utils import suppress_instrumentation

    return suppress_instrumentation()


@contextmanager
def span(
    name: str, *, linked: Sequence[Mapping[str, str]] = (), **attributes: Any
) -> Iterator[None]:
    """A span of our own, linked to the trace contexts in `linked` (e.g. outbox rows')."""
    if _active is None:
        yield
        return
    from opentelemetry import trace
    from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

    propagator = TraceContextTextMapPropagator()
    links = []
    for carrier in linked:
        context = trace.get_current_span(propagator.extract(carrier)).get_span_context()
        if context.is_valid:
            links.append(trace.Link(context))
    tracer = _active.provider.get_tracer("app")
    with tracer.start_as_current_span(
        name, kind=trace.SpanKind.PRODUCER, links=links, attributes=attributes
    ):
        yield


def _trace_log_fields() -> Mapping[str, Any]:
    from opentelemetry import trace

    context = trace.get_current_span().get_span_context()
    if not context.is_valid:
        return {}
    return {
        "trace_id": format(context.trace_id, "032x"),
        "span_id": format(context.span_id, "016x"),
    }
