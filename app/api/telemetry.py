"""FastAPI's native OpenTelemetry, set from our tracing: server spans only, or nothing.

FastAPI ships its own request spans (route-named, W3C `traceparent` extracted, so a
callback carrying one joins its trace); the contrib FastAPI instrumentation would
duplicate them. Its metrics and logs stay off: Prometheus and our JSON logs cover those.
"""

from __future__ import annotations

from collections.abc import MutableMapping
from typing import Any

from fastapi.telemetry import TelemetryConfig

from app.observability.tracing import Tracing

# Scrapes and probes arrive every few seconds and would bury the traces worth reading.
UNTRACED_PATHS = frozenset({"/metrics", "/health/live", "/health/ready"})

TELEMETRY_OFF: TelemetryConfig = {
    "tracing": False,
    "metrics": False,
    "logs": False,
    "operation_spans": False,
    # We configure exporters ourselves; FASTAPI_OTEL_AUTO_CONFIGURE must not add more.
    "auto_configure": False,
}


def _untraced(scope: MutableMapping[str, Any]) -> bool:
    return scope.get("path") in UNTRACED_PATHS


def fastapi_telemetry(tracing: Tracing | None) -> TelemetryConfig:
    if tracing is None:
        return TELEMETRY_OFF
    return {
        **TELEMETRY_OFF,
        "tracing": True,
        "operation_spans": True,
        "tracer_provider": tracing.provider,
        "exclude": _untraced,
    }
