"""What both Lambda functions share: configuration, the internal API client, SQS events."""
