"""How the API fills the contract's webhook models (`contracts/`) from its services' answers."""

from __future__ import annotations

from app.services.webhooks import deliveries
from contracts.webhooks import AttemptOutcome, DeliveryToSend


def delivery_to_send(found: deliveries.DeliveryToSend) -> DeliveryToSend:
    return DeliveryToSend.model_validate(found)


def attempt_outcome(result: deliveries.AttemptResult) -> AttemptOutcome:
    return AttemptOutcome.model_validate(result)
