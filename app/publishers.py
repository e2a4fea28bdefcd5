"""Which outbox destination goes where; one entry per kind of message."""

from __future__ import annotations

from app.aws.clients import AwsClients
from app.aws.sqs import SqsPublisher
from app.config import Settings
from app.mail.smtp import SmtpPublisher
from app.outbox import Publisher
from app.services.outbox import Destination


def build_publishers(settings: Settings, aws: AwsClients) -> dict[str, Publisher]:
    lanes = settings.outbox_sqs_concurrent_batches
    return {
        Destination.JOBS: SqsPublisher(aws.sqs, settings.jobs_queue_url, concurrent_batches=lanes),
        Destination.WEBHOOKS: SqsPublisher(
            aws.sqs, settings.webhooks_queue_url, concurrent_batches=lanes
        ),
        Destination.EMAIL: SmtpPublisher(settings),
    }
