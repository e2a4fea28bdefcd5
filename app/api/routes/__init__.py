"""Routers, one module per feature; `ROUTERS` is what the app mounts."""

from fastapi import APIRouter

from app.api.routes import api_keys, auth, health, internal_jobs, jobs, me, usage

ROUTERS: list[APIRouter] = [
    health.router,
    auth.router,
    me.router,
    api_keys.router,
    jobs.router,
    usage.router,
    internal_jobs.dispatcher,
    internal_jobs.container,
]
