"""The few Stripe calls the service makes, through Stripe's async client.

One `StripeClient` per process, on httpx (no thread, no `requests` inside `async def`), with
its API base from settings, so tests point it at a stand-in on loopback without touching the
library's globals. Every create carries an idempotency key; Stripe's own retries reuse it.
Stripe's exceptions become domain errors here, so services never see the library's types.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, TypeVar

import stripe

from app.config import DEV_STRIPE_SECRET_KEY, Settings
from app.domain.errors import (
    BillingNotConfigured,
    DomainError,
    InvalidWebhookPayload,
    InvalidWebhookSignature,
    PaymentProviderError,
    PaymentProviderUnavailable,
)

logger = logging.getLogger("app.stripe")

T = TypeVar("T")


class StripeGateway:
    def __init__(self, settings: Settings) -> None:
        self.configured = settings.stripe_secret_key != DEV_STRIPE_SECRET_KEY
        self._http = stripe.HTTPXClient(timeout=settings.stripe_timeout_seconds)
        self._client = stripe.StripeClient(
            settings.stripe_secret_key,
            base_addresses={"api": settings.stripe_api_base},
            http_client=self._http,
            max_network_retries=settings.stripe_max_network_retries,
        )

    async def aclose(self) -> None:
        await self._http.close_async()  # type: ignore[no-untyped-call]

    def _ensure_configured(self) -> None:
        if not self.configured:
            raise BillingNotConfigured("Set REFRAMER_STRIPE_SECRET_KEY to enable billing.")

    @staticmethod
    def _translate(what: str, exc: stripe.StripeError) -> DomainError:
        if isinstance(exc, stripe.APIConnectionError | stripe.RateLimitError):
            logger.warning("stripe unreachable", extra={"call": what, "error": str(exc)})
            return PaymentProviderUnavailable("The payment provider did not answer.")
        if isinstance(exc, stripe.APIError):  # Stripe's own 5xx, after the library's retries
            logger.warning("stripe failed", extra={"call": what, "error": str(exc)})
            return PaymentProviderUnavailable("The payment provider failed.")
        # A refusal: our configuration or our request is wrong; someone must look.
        logger.error(
            "stripe refused a request",
            extra={"call": what, "status": exc.http_status, "stripe_code": exc.code},
        )
        return PaymentProviderError(
            "The payment provider refused the request.", provider_code=exc.code
        )

    async def _call(self, what: str, call: Callable[[], Awaitable[T]]) -> T:
        self._ensure_configured()
        try:
            return await call()
        except stripe.StripeError as exc:
            raise self._translate(what, exc) from exc

    async def create_customer(self, *, account_id: str, email: str, idempotency_key: str) -> str:
        customer = await self._call(
            "customers.create",
            lambda: self._client.v1.customers.create_async(
                {"email": email, "metadata": {"account_id": account_id}},
                {"idempotency_key": idempotency_key},
            ),
        )
        return customer.id

    async def create_checkout_session(
        self,
        *,
        customer_id: str,
        price_id: str,
        account_id: str,
        success_url: str,
        cancel_url: str,
        idempotency_key: str,
    ) -> str:
        session = await self._call(
            "checkout.sessions.create",
            lambda: self._client.v1.checkout.sessions.create_async(
                {
                    "mode": "subscription",
                    "customer": customer_id,
                    "line_items": [{"price": price_id, "quantity": 1}],
                    "client_reference_id": account_id,
                    "metadata": {"account_id": account_id},
                    "subscription_data": {"metadata": {"account_id": account_id}},
                    "success_url": success_url,
                    "cancel_url": cancel_url,
                },
                {"idempotency_key": idempotency_key},
            ),
        )
        if not session.url:
            raise PaymentProviderError("The payment provider returned no checkout page.")
        return session.url

    async def create_portal_session(
        self, *, customer_id: str, return_url: str, idempotency_key: str
    ) -> str:
        portal = await self._call(
            "billing_portal.sessions.create",
            lambda: self._client.v1.billing_portal.sessions.create_async(
                {"customer": customer_id, "return_url": return_url},
                {"idempotency_key": idempotency_key},
            ),
        )
        return portal.url

    async def retrieve_subscription(self, subscription_id: str) -> Mapping[str, Any] | None:
        """The subscription as Stripe has it now, as plain JSON; None when it does not exist."""
        self._ensure_configured()
        try:
            subscription = await self._client.v1.subscriptions.retrieve_async(subscription_id)
        except stripe.InvalidRequestError as exc:
            if exc.code == "resource_missing":
                return None
            raise self._translate("subscriptions.retrieve", exc) from exc
        except stripe.StripeError as exc:
            raise self._translate("subscriptions.retrieve", exc) from exc
        return subscription.to_dict()


def verify_webhook(payload: bytes, signature: str | None, secret: str, tolerance: int) -> Any:
    """The JSON of a webhook whose `Stripe-Signature` the library verified, or a 400."""
    try:
        stripe.WebhookSignature.verify_header(payload, signature, secret, tolerance)
    except stripe.SignatureVerificationError as exc:
        raise InvalidWebhookSignature(str(exc).split(". ")[0] + ".") from exc
    except UnicodeDecodeError as exc:  # the library decodes the body before it checks it
        raise InvalidWebhookPayload("The body is not UTF-8.") from exc
    try:
        return json.loads(payload)
    except ValueError as exc:
        raise InvalidWebhookPayload("The body is not JSON.") from exc
