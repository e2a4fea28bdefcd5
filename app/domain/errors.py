"""Every refusal the service can give, as one exception family.

Services raise these; `app.api.errors` maps them to RFC 9457 problem details.
Each class carries its HTTP status and a stable machine `code`.
"""

from __future__ import annotations

from typing import Any, ClassVar


class DomainError(Exception):
    status: ClassVar[int] = 400
    code: ClassVar[str] = "bad_request"
    title: ClassVar[str] = "Bad request"

    def __init__(self, detail: str | None = None, **extra: Any) -> None:
        super().__init__(detail or self.title)
        self.detail = detail or self.title
        # Extra members land at the top level of the problem document.
        self.extra = extra


class ValidationFailed(DomainError):
    status, code, title = 422, "validation_error", "The request is not valid"


class Unauthenticated(DomainError):
    status, code, title = 401, "unauthenticated", "Authentication required"


class InvalidCredentials(Unauthenticated):
    code, title = "invalid_credentials", "Email or password is wrong"


class InvalidToken(Unauthenticated):
    code, title = "invalid_token", "The token is not valid"


class Forbidden(DomainError):
    status, code, title = 403, "forbidden", "Not allowed"


class NotFound(DomainError):
    status, code, title = 404, "not_found", "Not found"


class Conflict(DomainError):
    status, code, title = 409, "conflict", "Conflict"


class EmailTaken(Conflict):
    code, title = "email_taken", "An account with this email already exists"


class PayloadTooLarge(DomainError):
    status, code, title = 413, "payload_too_large", "The request body is too large"


class ServiceUnavailable(DomainError):
    status, code, title = 503, "service_unavailable", "A dependency is unavailable"


class TierLimit(Forbidden):
    """The account's plan lacks a feature; carries `feature`, `required_plan`, `upgrade_url`."""

    code, title = "tier_limit", "Your plan does not include this"


class QuotaExceeded(Forbidden):
    """A counted limit is used up; carries `limit`, `usage`, `resets_at`."""

    code, title = "quota_exceeded", "Your plan's quota is used up"


class RateLimited(DomainError):
    """A request budget is spent; carries `limit` and `retry_after` (seconds)."""

    status, code, title = 429, "rate_limited", "Too many requests"


class InvalidWebhookSignature(DomainError):
    status, code, title = 400, "invalid_signature", "The webhook signature is not valid"


class InvalidWebhookPayload(DomainError):
    status, code, title = 400, "invalid_payload", "The webhook payload is not understood"


class SubscriptionExists(Conflict):
    code, title = "subscription_exists", "The account already has a subscription"


class NoBillingAccount(Conflict):
    code, title = "no_billing_account", "The account has never subscribed"


class BillingNotConfigured(ServiceUnavailable):
    code, title = "billing_not_configured", "Billing is not configured on this server"


class PaymentProviderUnavailable(ServiceUnavailable):
    code, title = "payment_provider_unavailable", "The payment provider is unavailable"


class PaymentProviderError(DomainError):
    status, code, title = 502, "payment_provider_error", "The payment provider refused the request"
