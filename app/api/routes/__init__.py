"""Routers, one module per feature; `ROUTERS` is what the app mounts."""

from fastapi import APIRouter

from app.api.routes import (
    account_pages,
    api_keys,
    auth,
    console,
    health,
    internal_jobs,
    jobs,
    me,
    metrics,
    usage,
)

ROUTERS: list[APIRouter] = [
    health.router,
    metrics.router,
    auth.router,
    me.router,
    api_keys.router,
    jobs.router,
    usage.router,
    internal_jobs.dispatcher,
    internal_jobs.container,
    account_pages.router,
    console.router,
]
