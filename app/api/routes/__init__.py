"""Routers, one module per feature; `ROUTERS` is what the app mounts."""

from fastapi import APIRouter

from app.api.routes import (
    account_pages,
    api_keys,
    auth,
    billing,
    console,
    health,
    internal_jobs,
    jobs,
    me,
    metrics,
    plans,
    uploads,
    usage,
    webhooks,
    webhooks_internal,
)

ROUTERS: list[APIRouter] = [
    health.router,
    metrics.router,
    auth.router,
    me.router,
    api_keys.router,
    jobs.router,
    uploads.router,
    usage.router,
    plans.router,
    webhooks.router,
    billing.router,
    internal_jobs.dispatcher,
    internal_jobs.container,
    webhooks_internal.router,
    account_pages.router,
    console.router,
]
