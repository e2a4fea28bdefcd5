"""Each refusal's HTTP status is the API's business (app.api.errors), by the error's family.
The table is the public contract: a client reads `code` and `status` together."""

from __future__ import annotations

from collections.abc import Iterator

from app.api.errors import status_of
from app.domain.errors import DomainError

STATUS_BY_CODE = {
    "bad_request": 400, "invalid_email_token": 400, "invalid_signature": 400,
    "invalid_payload": 400,
    "unauthenticated": 401, "invalid_credentials": 401, "invalid_token": 401,
    "forbidden": 403, "tier_limit": 403, "quota_exceeded": 403, "email_unverified": 403,
    "session_required": 403, "insufficient_scope": 403,
    "not_found": 404,
    "conflict": 409, "email_taken": 409, "email_already_verified": 409,
    "invalid_transition": 409, "already_dispatched": 409, "batch_job_conflict": 409,
    "upload_missing": 409, "not_multipart": 409, "multipart_upload_closed": 409,
    "idempotency_key_reused": 409, "outputs_not_ready": 409, "webhook_endpoint_limit": 409,
    "webhook_endpoint_disabled": 409, "webhook_delivery_in_progress": 409,
    "stale_webhook_attempt": 409, "subscription_exists": 409, "no_billing_account": 409,
    "api_key_limit": 409,
    "validation_error": 422, "upload_size_mismatch": 422, "upload_content_type_mismatch": 422,
    "upload_too_large": 422, "upload_parts_mismatch": 422, "output_outside_prefix": 422,
    "source_too_long": 422, "invalid_webhook_url": 422,
    "rate_limited": 429,
    "payment_provider_error": 502,
    "service_unavailable": 503, "rate_limiter_unavailable": 503,
    "billing_not_configured": 503, "payment_provider_unavailable": 503,
}  # fmt: skip


def every_error() -> Iterator[type[DomainError]]:
    yield DomainError
    pending = list(DomainError.__subclasses__())
    while pending:
        kind = pending.pop()
        yield kind
        pending.extend(kind.__subclasses__())


def test_every_refusal_answers_with_its_documented_status() -> None:
    answered = {kind.code: status_of(kind.__new__(kind)) for kind in every_error()}
    assert answered == STATUS_BY_CODE
