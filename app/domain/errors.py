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


class InvalidWebhookUrl(ValidationFailed):
    """Carries `errors` like any validation problem, with the reason the URL was refused."""

    code, title = "invalid_webhook_url", "This URL cannot receive webhooks"


class WebhookEndpointLimit(Conflict):
    """Carries `limit`."""

    code, title = "webhook_endpoint_limit", "The account has the most webhook endpoints it may"


class WebhookEndpointDisabled(Conflict):
    code, title = "webhook_endpoint_disabled", "The webhook endpoint is disabled"


class WebhookDeliveryInProgress(Conflict):
    code, title = "webhook_delivery_in_progress", "The delivery is still being attempted"


class StaleWebhookAttempt(Conflict):
    """An attempt report that lost a race: already reported, or the delivery has finished."""

    code, title = "stale_webhook_attempt", "This attempt no longer counts"
