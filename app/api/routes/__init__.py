"""Routers, one module per feature; `ROUTERS` is what the app mounts."""

from fastapi import APIRouter

from app.api.routes import account_pages, api_keys, auth, console, health, me, metrics

ROUTERS: list[APIRouter] = [
    health.router,
    metrics.router,
    auth.router,
    me.router,
    api_keys.router,
    account_pages.router,
    console.router,
]
