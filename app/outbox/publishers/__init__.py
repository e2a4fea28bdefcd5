"""Which outbox destination goes where; one entry per kind of message.

`sqs` (the jobs and webhooks queues) and `smtp` (email) take `Envelope`s, never the
database rows: what is written back (sent, retry, what a sent row keeps) is the relay's.
"""

from __future__ import annotations

from app.aws.clients import AwsClients
from app.config import Settings
from app.outbox.envelope import Publisher
from app.outbox.messages import Destination
from app.outbox.publishers.smtp import SmtpPublisher
from app.outbox.publishers.sqs import SqsPublisher


def build_publishers(settings: Settings, aws: AwsClients) -> dict[str, Publisher]:
    lanes = settings.outbox_sqs_concurrent_batches
    return {
        Destination.JOBS: SqsPublisher(aws.sqs, settings.jobs_queue_url, concurrent_batches=lanes),
        Destination.WEBHOOKS: SqsPublisher(
            aws.sqs, settings.webhooks_queue_url, concurrent_batches=lanes
        ),
        Destination.EMAIL: SmtpPublisher(settings),
    }
