"""All tables; importing this package registers every model on `Base.metadata`."""

from app.db.base import Base
from app.db.models.accounts import Account
from app.db.models.api_keys import ApiKey
from app.db.models.billing import BillingCustomer, StripeEvent
from app.db.models.email_tokens import EmailToken
from app.db.models.idempotency import IdempotencyKey
from app.db.models.jobs import Job, JobEvent
from app.db.models.outbox import OutboxMessage
from app.db.models.refresh_tokens import RefreshToken
from app.db.models.usage import UsageCounter
from app.db.models.webhooks import WebhookAttempt, WebhookDelivery, WebhookEndpoint, WebhookEvent

__all__ = [
    "Account",
    "ApiKey",
    "Base",
    "BillingCustomer",
    "EmailToken",
    "IdempotencyKey",
    "Job",
    "JobEvent",
    "OutboxMessage",
    "RefreshToken",
    "StripeEvent",
    "UsageCounter",
    "WebhookAttempt",
    "WebhookDelivery",
    "WebhookEndpoint",
    "WebhookEvent",
]
