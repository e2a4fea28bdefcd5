"""Routers, one module per feature; `ROUTERS` is what the app mounts."""

from fastapi import APIRouter

from app.api.routes import api_keys, auth, billing, console, health, me

ROUTERS: list[APIRouter] = [
    health.router,
    auth.router,
    me.router,
    api_keys.router,
    billing.router,
    console.router,
]
