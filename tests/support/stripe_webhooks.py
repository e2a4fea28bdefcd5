"""Posts webhook payloads to the service, signed the way Stripe documents it
(`devstack.stripe_standin.stripe_signature`, written out from the spec, not the library)."""

from __future__ import annotations

import json
from typing import Any

import httpx

from devstack.stripe_standin import stripe_signature

WEBHOOK_PATH = "/api/billing/stripe-webhook"


__all__ = ["WEBHOOK_PATH", "WebhookSender", "stripe_signature"]


class WebhookSender:
    def __init__(self, client: httpx.AsyncClient, secret: str) -> None:
        self.client = client
        self.secret = secret

    async def post(self, payload: bytes, signature: str | None) -> httpx.Response:
        headers = {"Content-Type": "application/json"}
        if signature is not None:
            headers["Stripe-Signature"] = signature
        return await self.client.post(WEBHOOK_PATH, content=payload, headers=headers)

    async def send(
        self, event: dict[str, Any], *, secret: str | None = None, timestamp: int | None = None
    ) -> httpx.Response:
        payload = json.dumps(event).encode()
        return await self.post(payload, stripe_signature(payload, secret or self.secret, timestamp))
