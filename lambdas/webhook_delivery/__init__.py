"""The webhook_delivery Lambda: signs and POSTs one event to one customer endpoint."""
