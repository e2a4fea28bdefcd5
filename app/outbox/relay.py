"""The outbox relay: publishes committed outbox rows, at least once, in the background.

Runs inside the API (started by the lifespan) and on its own: `python -m app.outbox`.
On PostgreSQL, rows are claimed with FOR UPDATE SKIP LOCKED, so replicas share the work.
Every so often a pass also runs the outbox's retention rule (`app.retention`).
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections import defaultdict
from collections.abc import Mapping
from datetime import datetime, timedelta

from sqlalchemy import Select, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import aliased

from app.config import Settings
from app.db.models import OutboxMessage
from app.domain.clock import utcnow
from app.metrics import OUTBOX_PUBLISHED
from app.observability import tracing
from app.observability.tracing import split_trace_context
from app.outbox.envelope import Envelope, Publisher, PublishResults
from app.outbox.messages import kept_after_sending
from app.retention.batched_delete import round_was_full
from app.retention.rules import prune_sent_outbox

logger = logging.getLogger("app.outbox")

PRUNE_EVERY_SECONDS = 3600.0
MAX_MESSAGE_BACKOFF_SECONDS = 300.0


def envelope_of(message: OutboxMessage) -> Envelope:
    """The plain copy of a row a publisher is handed."""
    return Envelope(
        id=message.id,
        destination=message.destination,
        payload=message.payload,
        group_id=message.group_id,
        dedup_id=message.dedup_id,
    )


def message_backoff(attempts: int) -> timedelta:
    return timedelta(seconds=min(MAX_MESSAGE_BACKOFF_SECONDS, 0.5 * 2 ** min(attempts, 12)))


class OutboxRelay:
    def __init__(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        publishers: Mapping[str, Publisher],
        settings: Settings,
    ) -> None:
        self.sessionmaker = sessionmaker
        self.publishers = publishers
        self.settings = settings
        self._wake = asyncio.Event()
        self._last_prune = float("-inf")  # the first pass prunes, however young the clock

    def wake(self) -> None:
        """Lets a request that just committed a message skip the polling delay."""
        self._wake.set()

    async def relay_once(self) -> tuple[int, int]:
        """Publishes one batch of due rows; returns (sent, failed)."""
        now = utcnow()
        sent = failed = 0
        async with self.sessionmaker() as session, session.begin():
            # Polling twice a second would fill a trace store with empty SELECTs.
            with tracing.suppressed():
                claim = self._claim(
                    now,
                    self.settings.outbox_batch_size,
                    lock_groups=session.get_bind().dialect.name == "postgresql",
                )
                rows = (await session.execute(claim)).scalars().all()
            by_destination: dict[str, list[OutboxMessage]] = defaultdict(list)
            for row in rows:
                by_destination[row.destination].append(row)
            for destination, messages in by_destination.items():
                with tracing.span(
                    f"outbox publish {destination}",
                    linked=[split_trace_context(m.payload)[1] for m in messages]
                    if tracing.tracing_active()
                    else (),
                    **{"messaging.batch.message_count": len(messages)},
                ):
                    outcome = await self._publish(session, destination, messages)
                    await session.flush()  # the rows' UPDATEs belong to this span
                sent += outcome[0]
                failed += outcome[1]
        if failed:
            logger.warning("outbox publish failed", extra={"sent": sent, "failed": failed})
        return sent, failed

    @staticmethod
    def _claim(now: datetime, limit: int, *, lock_groups: bool) -> Select[OutboxMessage]:
        """Due rows, oldest first, locked for this pass (other relays skip them).

        A message of a group (a FIFO MessageGroupId) is not due while an earlier message of
        its group still waits out a retry backoff: however often that one failed and however
        the later ones were held or enqueued since, the group goes out in the order it was
        written. Oldest first (ids are UUIDv7) also hands a publisher each group in order.

        With `lock_groups` (PostgreSQL), a pass also holds each of its groups until it commits,
        with a transaction-scoped advisory lock: a relay on another replica skips a group
        this one is sending, instead of claiming the group's later messages (the rows this
        pass locked are invisible to its SKIP LOCKED) and sending them first. SQLite has one
        writer and so one relay at a time.
        """
        earlier = aliased(OutboxMessage)
        earlier_waiting = (
            select(earlier.id)
            .where(
                earlier.destination == OutboxMessage.destination,
                earlier.group_id == OutboxMessage.group_id,
                earlier.id < OutboxMessage.id,
                earlier.sent_at.is_(None),
                earlier.available_at > now,
            )
            .exists()
        )
        # Two groups whose keys hash alike only wait for each other: never out of order.
        group_key = func.hashtextextended(
            OutboxMessage.destination + ":" + OutboxMessage.group_id, 0
        )
        group_free = or_(
            OutboxMessage.group_id.is_(None), func.pg_try_advisory_xact_lock(group_key)
        )
        return (
            select(OutboxMessage)
            .where(
                OutboxMessage.sent_at.is_(None),
                OutboxMessage.available_at <= now,
                ~earlier_waiting,
                *([group_free] if lock_groups else []),
            )
            .order_by(OutboxMessage.id)
            .limit(limit)
            .with_for_update(skip_locked=True, of=OutboxMessage)
        )

    async def _publish(
        self, session: AsyncSession, destination: str, messages: list[OutboxMessage]
    ) -> tuple[int, int]:
        publisher = self.publishers.get(destination)
        results: PublishResults
        if publisher is None:
            results = {m.id: f"no publisher for {destination!r}" for m in messages}
        else:
            results = await publisher.publish([envelope_of(m) for m in messages])
        sent_ids: list[uuid.UUID] = []
        failed = 0
        for message in messages:
            error = results.get(message.id, "no result from publisher")
            if error is None:
                sent_ids.append(message.id)
                kept = kept_after_sending(destination, message.payload)
                if kept is not message.payload:
                    message.payload = kept
            else:
                message.attempts += 1
                message.last_error = error
                message.available_at = utcnow() + message_backoff(message.attempts)
                failed += 1
        if sent_ids:
            # One statement for the batch, not an UPDATE per row: the relay's own database
            # time is a pass's overhead over the sends themselves (bench/scale.py).
            await session.execute(
                update(OutboxMessage)
                .where(OutboxMessage.id.in_(sent_ids))
                .values(sent_at=utcnow())
                .execution_options(synchronize_session=False)
            )
        sent = len(sent_ids)
        if sent:
            OUTBOX_PUBLISHED.labels(destination, "sent").inc(sent)
        if failed:
            OUTBOX_PUBLISHED.labels(destination, "failed").inc(failed)
        return sent, failed

    async def prune_sent(self, now: datetime | None = None) -> int:
        """One round of the outbox's retention rule (`prune_sent_outbox`); counts the rows."""
        return await prune_sent_outbox(self.sessionmaker, self.settings, now or utcnow())

    async def run(self, stop: asyncio.Event | None = None) -> None:
        stop = stop or asyncio.Event()
        backoff = self.settings.outbox_poll_interval_seconds
        loop = asyncio.get_running_loop()
        while not stop.is_set():
            try:
                sent, failed = await self.relay_once()
                if loop.time() - self._last_prune > PRUNE_EVERY_SECONDS:
                    pruned = await self.prune_sent()
                    # A backlog larger than a round is worked off pass by pass, not hourly.
                    if not round_was_full(pruned, self.settings.retention_batch_size):
                        self._last_prune = loop.time()
            except Exception:  # the database is away: hold, retry, never die
                logger.exception("outbox relay iteration failed")
                sent, failed = 0, 1
            if failed and not sent:
                backoff = min(backoff * 2, self.settings.outbox_max_backoff_seconds)
            else:
                backoff = self.settings.outbox_poll_interval_seconds
            if sent == self.settings.outbox_batch_size:
                continue  # more may be waiting
            self._wake.clear()
            waiters = [asyncio.ensure_future(stop.wait()), asyncio.ensure_future(self._wake.wait())]
            await asyncio.wait(waiters, timeout=backoff, return_when=asyncio.FIRST_COMPLETED)
            for waiter in waiters:
                waiter.cancel()
