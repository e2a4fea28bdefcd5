"""Request latency by route template, method and status, for Prometheus."""

from __future__ import annotations

import time

from starlette.routing import Match, Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.metrics import HTTP_REQUEST_DURATION

# Anything else a client invents collapses to one label value.
KNOWN_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
UNMATCHED_ROUTE = "<unmatched>"
OTHER_METHOD = "<other>"


def _route_template(scope: Scope, status: int) -> str:
    """The matched route's template (`/api/jobs/{job_id}`), never the raw path."""
    route = scope.get("route")
    template = getattr(route, "path_format", None)
    if isinstance(template, str):
        return template
    if status in (404, 405) or status >= 500:
        return UNMATCHED_ROUTE
    # Plain Starlette routes (/docs, /openapi.json) leave no `route` in the scope.
    app = scope.get("app")
    for candidate in getattr(getattr(app, "router", None), "routes", ()):
        if isinstance(candidate, Route) and candidate.matches(scope)[0] is Match.FULL:
            return candidate.path_format
    return UNMATCHED_ROUTE


class HttpMetricsMiddleware:
    """Outermost: times everything the app does for a request, refusals included."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500  # what the client gets if the app raises before answering

        async def send_with_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_with_status)
        finally:
            method = scope["method"] if scope["method"] in KNOWN_METHODS else OTHER_METHOD
            HTTP_REQUEST_DURATION.labels(
                method, _route_template(scope, status), str(status)
            ).observe(time.perf_counter() - started)
