"""The outbox: a message commits with the change that implies it, then goes out at least once.

- `messages`   what services write (`enqueue`, `Destination`), in their own transaction
- `relay`      claims due rows, hands them to publishers, records sent or retry
- `envelope`   the plain message a publisher is handed, and the `Publisher` protocol
- `publishers` destination -> publisher: `sqs` (jobs, webhooks queues), `smtp` (email)
- `backlog`    what is waiting, read by `/metrics`
- `__main__`   `python -m app.outbox`: the relay as its own process

How long sent rows stay is a retention rule (`app.retention.rules`); the relay runs it.
"""
