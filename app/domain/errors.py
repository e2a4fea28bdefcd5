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
    """Too many requests; carries `retry_after` (seconds), echoed as the Retry-After header."""

    status, code, title = 429, "rate_limited", "Too many requests"


class EmailUnverified(Forbidden):
    """The account has not proved its address yet; carries `resend_verification`."""

    code, title = "email_unverified", "Verify your email address first"


class EmailAlreadyVerified(Conflict):
    code, title = "email_already_verified", "The email address is already verified"


class InvalidEmailToken(DomainError):
    """A verification or password-reset link that is unknown, used or expired."""

    code, title = "invalid_email_token", "The link is not valid"
