"""Metrics exposition, tracing and the event-loop watchdog: how the service is watched."""
