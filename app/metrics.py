"""The service's Prometheus metrics, as named objects features increment.

    from app.metrics import JOB_TRANSITIONS
    JOB_TRANSITIONS.labels(state="queued").inc()

Counters and histograms only: they add up correctly across uvicorn workers in
multiprocess mode (see `app.observability.prometheus`). The outbox backlog is not here:
it is a property of the database, read on each scrape.
"""

from __future__ import annotations

from prometheus_client import Counter, Histogram

HTTP_REQUEST_DURATION = Histogram(
    "reframer_http_request_duration_seconds",
    "Time to answer an HTTP request, by route template (unmatched paths share one label).",
    ["method", "route", "status"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)

JOB_TRANSITIONS = Counter(
    "reframer_job_transitions_total",
    "Jobs that entered a state (a repeated, no-op transition is not counted).",
    ["state"],
)

WEBHOOK_ATTEMPTS = Counter(
    "reframer_webhook_attempts_total",
    "Webhook delivery attempts, by result (e.g. delivered, http_error, timeout, refused).",
    ["result"],
)

OUTBOX_PUBLISHED = Counter(
    "reframer_outbox_messages_published_total",
    "Outbox rows the relay tried to publish, by destination and result (sent or failed).",
    ["destination", "result"],
)

SQS_MESSAGES_SENT = Counter(
    "reframer_sqs_messages_sent_total",
    "Messages SQS accepted, by queue name.",
    ["queue"],
)

SQS_SEND_ERRORS = Counter(
    "reframer_sqs_send_errors_total",
    "Messages SQS did not accept, by queue name and reason (the SQS error code, or the "
    "exception type when the call itself failed).",
    ["queue", "reason"],
)
