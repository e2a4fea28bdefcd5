"""Customer webhooks: endpoints, events and their fan-out, deliveries and their attempts.

`events.emit_event` is what other features call when something worth a webhook happens.
"""
