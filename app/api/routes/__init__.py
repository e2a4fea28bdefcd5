"""Routers, one module per feature; `ROUTERS` is what the app mounts."""

from fastapi import APIRouter

from app.api.routes import api_keys, auth, console, health, me, webhooks, webhooks_internal

ROUTERS: list[APIRouter] = [
    health.router,
    auth.router,
    me.router,
    api_keys.router,
    webhooks.router,
    webhooks_internal.router,
    console.router,
]
