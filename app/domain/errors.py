"""Every refusal the service can give, as one exception family.

Services raise these; `app.api.errors` maps them to RFC 9457 problem details, with the HTTP
status of their family (`Conflict`, `NotFound`, ...). Each class carries a stable machine
`code` and a title.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any, ClassVar

# Members every problem document has; extras may not take these names (the job's status
# travels as `job_status`, since `status` is the HTTP status).
RESERVED_MEMBERS = frozenset({"type", "title", "status", "detail", "code", "request_id"})


class NextStep(StrEnum):
    """What the caller can do about a refusal. The API names the route that does it
    (`app.api.errors`): services and the domain know no routes."""

    RESEND_VERIFICATION = "resend_verification"
    FORGOT_PASSWORD = "forgot_password"  # noqa: S105 - a step, not a secret
    BILLING_CHECKOUT = "billing_checkout"
    BILLING_PORTAL = "billing_portal"


class DomainError(Exception):
    code: ClassVar[str] = "bad_request"
    title: ClassVar[str] = "Bad request"

    def __init__(
        self, detail: str | None = None, *, next_step: NextStep | None = None, **extra: Any
    ) -> None:
        super().__init__(detail or self.title)
        self.detail = detail or self.title
        self.next_step = next_step
        # Extra members land at the top level of the problem document.
        clashes = RESERVED_MEMBERS & extra.keys()
        if clashes:
            raise TypeError(f"problem members {sorted(clashes)} are reserved")
        self.extra = extra


class ValidationFailed(DomainError):
    code, title = "validation_error", "The request is not valid"


class Unauthenticated(DomainError):
    code, title = "unauthenticated", "Authentication required"


class InvalidCredentials(Unauthenticated):
    code, title = "invalid_credentials", "Email or password is wrong"


class InvalidToken(Unauthenticated):
    code, title = "invalid_token", "The token is not valid"


class TokenAccountGone(InvalidToken):
    """A token that verifies, naming an account that no longer exists."""

    def __init__(self) -> None:
        super().__init__("The account behind this token no longer exists.")


class SessionEnded(InvalidToken):
    """An access token issued before the account ended every session."""

    def __init__(self) -> None:
        super().__init__(
            "This session was ended (password changed or reset, or logged out everywhere); "
            "log in again."
        )


class Forbidden(DomainError):
    code, title = "forbidden", "Not allowed"


class NotFound(DomainError):
    code, title = "not_found", "Not found"


class Conflict(DomainError):
    code, title = "conflict", "Conflict"


class EmailTaken(Conflict):
    code, title = "email_taken", "An account with this email already exists"


class ServiceUnavailable(DomainError):
    code, title = "service_unavailable", "A dependency is unavailable"


class TierLimit(Forbidden):
    """The account's plan lacks a feature; carries `feature`, `required_plan`, `upgrade_url`."""

    code, title = "tier_limit", "Your plan does not include this"


class QuotaExceeded(Forbidden):
    """A counted limit is used up; carries `limit`, `usage`, `resets_at`."""

    code, title = "quota_exceeded", "Your plan's quota is used up"


class RateLimited(DomainError):
    """A request budget is spent; carries `limit` and `retry_after` (seconds)."""

    code, title = "rate_limited", "Too many requests"


class RateLimiterUnavailable(ServiceUnavailable):
    """The sign-in routes fail closed: unchecked, a guesser would be unlimited."""

    code, title = "rate_limiter_unavailable", "Sign-in is briefly unavailable"


class EmailUnverified(Forbidden):
    """The account has not proved its address yet (next step: resend the verification)."""

    code, title = "email_unverified", "Verify your email address first"


class EmailAlreadyVerified(Conflict):
    code, title = "email_already_verified", "The email address is already verified"


class InvalidEmailToken(DomainError):
    """A verification or password-reset link that is unknown, used or expired."""

    code, title = "invalid_email_token", "The link is not valid"


class InvalidTransition(Conflict):
    """The job's state machine forbids the change; carries the current `job_status`."""

    code, title = "invalid_transition", "The job cannot make this change"


class AlreadyDispatched(Conflict):
    """The job left `queued` already (`job_status` says where it is); the dispatcher
    acknowledges its message without a new Batch job."""

    code, title = "already_dispatched", "The job was dispatched already"


class BatchJobConflict(Conflict):
    """The job belongs to another Batch job; a duplicate container exits without work."""

    code, title = "batch_job_conflict", "The job runs under another Batch job"


class UploadMissing(Conflict):
    code, title = "upload_missing", "The upload has not arrived"


class UploadSizeMismatch(ValidationFailed):
    """Carries `declared_bytes` and `actual_bytes`."""

    code, title = "upload_size_mismatch", "The upload's size differs from the declared size"


class UploadContentTypeMismatch(ValidationFailed):
    code, title = "upload_content_type_mismatch", "The upload's type differs from the declared type"


class UploadTooLarge(ValidationFailed):
    """Carries `size_bytes` and `limit_bytes`."""

    code, title = "upload_too_large", "The upload is larger than allowed"


class UploadPartsMismatch(ValidationFailed):
    """The parts do not make up the declared file; carries `missing_parts`,
    `wrong_size_parts` and `etag_mismatch_parts` (part numbers), and `part_size_bytes`."""

    code, title = "upload_parts_mismatch", "The uploaded parts do not make up the declared file"


class NotMultipart(Conflict):
    code, title = "not_multipart", "This job's upload is a single PUT, not in parts"


class MultipartUploadClosed(Conflict):
    """The upload was completed or aborted already; carries `job_status`."""

    code, title = "multipart_upload_closed", "The multipart upload is no longer open"


class IdempotencyKeyReused(Conflict):
    code, title = "idempotency_key_reused", "This Idempotency-Key was used for another request"


class OutputsNotReady(Conflict):
    code, title = "outputs_not_ready", "The job has no outputs yet"


class OutputOutsidePrefix(ValidationFailed):
    code, title = "output_outside_prefix", "An output lies outside the job's output prefix"


class SourceTooLong(ValidationFailed):
    """Carries `duration_seconds` and `limit_seconds`."""

    code, title = "source_too_long", "The source video is longer than allowed"


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


class InvalidWebhookSignature(DomainError):
    code, title = "invalid_signature", "The webhook signature is not valid"


class InvalidWebhookPayload(DomainError):
    code, title = "invalid_payload", "The webhook payload is not understood"


class SubscriptionExists(Conflict):
    code, title = "subscription_exists", "The account already has a subscription"


class NoBillingAccount(Conflict):
    code, title = "no_billing_account", "The account has never subscribed"


class BillingNotConfigured(ServiceUnavailable):
    code, title = "billing_not_configured", "Billing is not configured on this server"


class PaymentProviderUnavailable(ServiceUnavailable):
    code, title = "payment_provider_unavailable", "The payment provider is unavailable"


class PaymentProviderError(DomainError):
    code, title = "payment_provider_error", "The payment provider refused the request"


class SessionRequired(Forbidden):
    """Only a user's session may do this (minting keys, billing, account changes)."""

    code, title = "session_required", "Sign in as the account's user to do this"


class InsufficientScope(Forbidden):
    """The API key lacks the scope the route needs; carries `required_scope`."""

    code, title = "insufficient_scope", "This API key's scopes do not allow this"


class ApiKeyLimit(Conflict):
    """Carries `limit`."""

    code, title = "api_key_limit", "The account has the most API keys it may"
