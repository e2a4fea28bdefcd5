"""All tables; importing this package registers every model on `Base.metadata`."""

from app.db.base import Base
from app.db.models.accounts import Account
from app.db.models.api_keys import ApiKey
from app.db.models.billing import BillingCustomer, StripeEvent
from app.db.models.outbox import OutboxMessage
from app.db.models.refresh_tokens import RefreshToken

__all__ = [
    "Account",
    "ApiKey",
    "Base",
    "BillingCustomer",
    "OutboxMessage",
    "RefreshToken",
    "StripeEvent",
]
