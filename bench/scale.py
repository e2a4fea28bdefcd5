"""Scale benchmark: listing stays flat as an account's jobs grow, and the outbox relay keeps
up with a burst.

1. `GET /api/jobs?limit=50` (first page, and a deep page through the cursor) with the
   account holding 1 thousand and then 1 million jobs, bulk-inserted with `generate_series`
   (UUIDv7 ids and distinct `created_at`, 30 s apart), served by uvicorn as in the load
   benchmark; p50/p99 at both sizes, their ratio (goal <= 1.5x), and the plan PostgreSQL
   chose for the app's own list query (EXPLAIN of the statement it sent).
2. The real outbox relay (`app/outbox/relay.py`) draining 5 000 JOBS messages, written with the
   real `enqueue` across 50 message groups (accounts), to moto SQS FIFO; messages/s
   (goal >= 500/s) and CPU per message (this process and moto) next to raw
   `send_message_batch` calls of ten to the same queue in the same run, at the same
   concurrency: the relay with 1 lane (one batch call at a time) against one raw caller,
   and with production's 4 lanes against four raw callers.

moto, not the relay, sets the ceiling here. It answers from one process whose Python code
holds the GIL for nearly all of a SendMessageBatch (its queue attributes are rebuilt several
times per message), so calls in parallel only contend. On CPython that is ~2.7 ms of moto CPU
per message, ~330 messages/s from one caller and fewer from four; `make bench` therefore
serves moto from PyPy where it can (`bench/stack.py`), whose JIT, once warm, takes it to
~1.4-1.7 ms per message from one caller and ~1.9-2.2 ms from four. The JIT warms for the
first ~45 s of calls, so raw calls warm moto before anything is measured (`--moto-warmup`,
the rounds printed), once for the relay and the baseline alike. Real SQS is the opposite of
moto (a call waits on the network), hence production's 4 lanes
(`REFRAMER_OUTBOX_SQS_CONCURRENT_BATCHES`); the 1-lane row shows how close the relay gets to
moto's own limit. When even raw calls stay under the goal (CPython's moto), the goal is read
as relay / raw.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import time
import uuid
from collections.abc import AsyncIterator, Awaitable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, func, select, text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from app.aws.clients import AwsClients
from app.db.models import OutboxMessage
from app.db.session import create_engine, create_sessionmaker
from app.domain.clock import utcnow
from app.outbox.messages import Destination, enqueue
from app.outbox.publishers import build_publishers
from app.outbox.relay import OutboxRelay
from app.services.jobs import queries
from bench import loadgen
from bench.loadgen import Request, Result
from bench.seed import seed_account
from bench.servers import Served, uvicorn_server
from bench.stack import BenchStack, bench_stack

SMALL, LARGE = 1_000, 1_000_000
INSERT_CHUNK = 100_000
CONNECTIONS = 8
FLAT_GOAL = 1.5
RELAY_MESSAGES = 5_000
RELAY_GROUPS = 50
RELAY_GOAL_PER_SECOND = 500.0
# Where moto itself cannot take RELAY_GOAL_PER_SECOND: the relay's share of what it can take.
RELAY_RATIO_GOAL = 0.9
# SendMessageBatch calls in flight: moto's best (1) and production's default (4).
RELAY_LANES = (1, 4)
SQS_BATCH = 10
# moto's SendMessageBatch counts every message in the queue (its queue attributes: visible,
# delayed, in flight) several times per message it adds, so its cost grows with the queue's
# depth. In production the dispatcher Lambda's event source mapping drains the queue as it
# fills; here a purge loop keeps it near empty, for the relay and the baseline alike.
# Measured on moto's CPU per message sent: a purge every 0.25 s lets ~100 messages pile up
# (7 ms/msg); purges back to back steal moto's CPU from the sends (3.7 ms); every 10 ms
# keeps under ~10 queued at 3.2 ms; receive + delete, a real consumer's calls, cost more
# than they save (10 ms).
PURGE_EVERY_SECONDS = 0.01
# moto on PyPy (bench/stack.py) gets cheaper per message as its JIT compiles: from ~2.8 ms of
# CPU per message cold to ~1.4 ms after ~45 s of SendMessageBatch calls, then flat. Before
# anything is measured, raw calls warm it in rounds (printed), one warm-up for the relay
# and the raw baseline alike; CPython's moto has nothing to warm, but gets one round too.
WARMUP_ROUND_MESSAGES = 2_000
PYPY_WARMUP_SECONDS = 60

# Job n (0 = newest) was created n * 30 s before the newest; its id is a UUIDv7 of that
# instant (48-bit milliseconds, version 7, random bits, variant 10) like `new_id()` makes.
BULK_INSERT_JOBS = text("""
INSERT INTO jobs (id, account_id, status, plan, filename, content_type, size_bytes,
                  aspect_ratio, resolution, upload_key, upload_expires_at, requeue_count,
                  counted_source_seconds, created_at, updated_at)
SELECT (lpad(to_hex((extract(epoch FROM t.at) * 1000)::bigint), 12, '0') || '7'
        || substr(t.h, 1, 3) || '8' || substr(t.h, 4, 15))::uuid,
       CAST(:account_id AS uuid),
       (ARRAY['succeeded', 'succeeded', 'succeeded', 'failed', 'canceled', 'expired'])[1 + n % 6],
       'business', 'clip-' || n || '.mp4', 'video/mp4', 10000000 + n, '9:16', '1080p',
       'uploads/bench-' || n || '/' || t.h || '/source', t.at + interval '1 hour', 0, 0,
       t.at, t.at
FROM generate_series(CAST(:first AS bigint), CAST(:last AS bigint)) AS n
CROSS JOIN LATERAL (
    SELECT CAST(:newest AS timestamptz) - n * interval '30 seconds' AS at,
           md5(n::text || random()::text) AS h
) AS t
""")


@dataclass(frozen=True)
class ListingAt:
    jobs: int
    first_page: Result
    deep_page: Result
    plans: dict[str, str]


@dataclass(frozen=True)
class Drain:
    """One way of getting the messages into the queue: wall time and CPU spent."""

    messages: int
    seconds: float
    cpu_seconds: float  # this process: the relay (or raw calls), the purge loop
    moto_cpu_seconds: float

    @property
    def per_second(self) -> float:
        return self.messages / self.seconds

    def cpu_ms(self, seconds: float) -> float:
        return 1000 * seconds / self.messages


@dataclass(frozen=True)
class RelayRun:
    lanes: int
    relay: Drain
    raw: Drain


async def insert_jobs(engine: AsyncEngine, account_id: uuid.UUID, first: int, last: int) -> None:
    newest = utcnow()
    for start in range(first, last, INSERT_CHUNK):
        async with engine.begin() as conn:
            await conn.execute(
                BULK_INSERT_JOBS,
                {"account_id": account_id, "first": start,
                 "last": min(start + INSERT_CHUNK, last) - 1, "newest": newest},
            )  # fmt: skip
    async with engine.connect() as conn:
        await conn.execute(text("COMMIT"))
        await conn.execute(text("ANALYZE jobs"))


async def cursor_at(engine: AsyncEngine, account_id: uuid.UUID, offset: int) -> uuid.UUID:
    async with engine.connect() as conn:
        found = await conn.scalar(
            text("SELECT id FROM jobs WHERE account_id = :a ORDER BY id DESC OFFSET :k LIMIT 1"),
            {"a": account_id, "k": offset},
        )
    assert isinstance(found, uuid.UUID)
    return found


def _describe(node: dict[str, Any]) -> str:
    """The plan's top nodes down the first-child line, e.g. `Limit > Index Scan Backward ...`."""
    parts = []
    while True:
        label = node["Node Type"]
        if node.get("Scan Direction") == "Backward":
            label += " Backward"
        if "Index Name" in node:
            label += f" using {node['Index Name']}"
        parts.append(label)
        children = node.get("Plans") or []
        if not children:
            return " > ".join(parts)
        node = children[0]


async def explain_list_query(
    engine: AsyncEngine, account_id: uuid.UUID, starting_after: uuid.UUID | None
) -> str:
    """EXPLAIN of the statement `queries.list_jobs` sends, captured as it goes out."""
    sent: list[tuple[str, Any]] = []

    def capture(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        if statement.lstrip().upper().startswith("SELECT") and "FROM jobs" in statement:
            sent.append((statement, parameters))

    from sqlalchemy import event

    event.listen(engine.sync_engine, "before_cursor_execute", capture)
    try:
        async with AsyncSession(engine) as session:
            await queries.list_jobs(session, account_id, limit=50, starting_after=starting_after)
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", capture)
    statement, parameters = sent[-1]
    async with engine.connect() as conn:
        result = await conn.exec_driver_sql("EXPLAIN (FORMAT JSON) " + statement, parameters)
        document = result.scalar_one()
    plan = json.loads(document) if isinstance(document, str) else document
    return _describe(plan[0]["Plan"])


def measure_listing(
    api: str, authorization: str, deep_cursor: uuid.UUID, seconds: int, warmup: int
) -> tuple[Result, Result]:
    def load(path: str) -> Result:
        request = Request("GET", path, authorization=authorization)
        return loadgen.run(
            api, request, seconds=seconds, connections=CONNECTIONS, warmup_seconds=warmup
        )

    first = load("/api/jobs?limit=50")
    deep = load(f"/api/jobs?limit=50&starting_after={deep_cursor}")
    return first, deep


async def _listing_at(
    engine: AsyncEngine, account_id: uuid.UUID, api: str, authorization: str, args: Any, size: int
) -> ListingAt:
    deep_cursor = await cursor_at(engine, account_id, size // 2)
    plans = {
        "first page": await explain_list_query(engine, account_id, None),
        "deep page": await explain_list_query(engine, account_id, deep_cursor),
    }
    first, deep = await asyncio.to_thread(
        measure_listing, api, authorization, deep_cursor, args.seconds, args.warmup
    )
    return ListingAt(size, first, deep, plans)


def listing_benchmark(stack: BenchStack, args: Any) -> list[ListingAt]:
    account = asyncio.run(seed_account(stack, jobs=0))
    env = stack.environment()

    async def account_id() -> uuid.UUID:
        engine = create_engine(stack.settings())
        async with engine.connect() as conn:
            found = await conn.scalar(
                text("SELECT id FROM accounts WHERE email = :e"), {"e": account.email}
            )
        await engine.dispose()
        assert isinstance(found, uuid.UUID)
        return found

    owner = asyncio.run(account_id())
    results = []
    with uvicorn_server(
        "app.main:create_app", env, workers=1, log=stack.scratch / "scale-server.log"
    ) as server:
        api = server.url

        async def grow_and_measure(first: int, size: int) -> ListingAt:
            engine = create_engine(stack.settings())
            try:
                started = time.perf_counter()
                await insert_jobs(engine, owner, first, size)
                print(
                    f"  {size - first} jobs inserted in {time.perf_counter() - started:.1f} s",
                    flush=True,
                )
                return await _listing_at(engine, owner, api, account.authorization, args, size)
            finally:
                await engine.dispose()

        results.append(asyncio.run(grow_and_measure(0, SMALL)))
        results.append(asyncio.run(grow_and_measure(SMALL, args.large)))
    return results


async def _enqueue_burst(sessionmaker: async_sessionmaker[AsyncSession], count: int) -> None:
    groups = [str(uuid.uuid4()) for _ in range(RELAY_GROUPS)]
    async with sessionmaker() as session:
        # Only the burst: nothing else (e.g. the seed's verification email) in the way.
        await session.execute(delete(OutboxMessage))
        for index in range(count):
            account_id = groups[index % RELAY_GROUPS]
            job_id = str(uuid.uuid4())
            enqueue(
                session,
                Destination.JOBS,
                {"job_id": job_id, "account_id": account_id},
                group_id=account_id,
                dedup_id=job_id,
            )
        await session.commit()


async def _raw_sends(sqs: Any, queue_url: str, count: int, callers: int) -> None:
    """The floor: `send_message_batch` calls of ten, no database; each caller sends its
    calls one after another, `callers` of them at once (as the relay's lanes)."""
    groups = [str(uuid.uuid4()) for _ in range(RELAY_GROUPS)]
    batch_starts = iter(range(0, count, SQS_BATCH))

    async def caller() -> None:
        for start in batch_starts:  # shared: each batch goes to whichever caller is free
            entries = []
            for index in range(start, min(start + SQS_BATCH, count)):
                job_id = str(uuid.uuid4())
                body = {"job_id": job_id, "account_id": groups[index % RELAY_GROUPS]}
                entries.append(
                    {"Id": str(index - start),
                     "MessageBody": json.dumps(body, separators=(",", ":")),
                     "MessageGroupId": body["account_id"], "MessageDeduplicationId": job_id}
                )  # fmt: skip
            response = await sqs.send_message_batch(QueueUrl=queue_url, Entries=entries)
            if response.get("Failed"):
                raise SystemExit(f"raw send failed: {response['Failed'][:1]}")

    await asyncio.gather(*(caller() for _ in range(callers)))


async def _relay_drain(relay: OutboxRelay, count: int) -> None:
    sent_total = 0
    while sent_total < count:
        sent, failed = await relay.relay_once()
        if failed or not sent:
            raise SystemExit(f"relay stalled after {sent_total}: {failed} failed")
        sent_total += sent


async def _drain(
    stack: BenchStack, sqs: Any, queue_url: str, count: int, send: Awaitable[None]
) -> Drain:
    """Runs `send` with the queue kept short; its wall time and the CPU it took."""
    moto = Served(stack.moto.endpoint_url, stack.moto.process.pid)
    async with _queue_kept_short(sqs, queue_url):
        moto_before, cpu_before = moto.cpu_seconds(), time.process_time()
        started = time.perf_counter()
        await send
        seconds = time.perf_counter() - started
        cpu, moto_cpu = time.process_time() - cpu_before, moto.cpu_seconds() - moto_before
    return Drain(count, seconds, cpu, moto_cpu)


@contextlib.asynccontextmanager
async def _queue_kept_short(sqs: Any, queue_url: str) -> AsyncIterator[None]:
    async def purge() -> None:
        while True:
            await sqs.purge_queue(QueueUrl=queue_url)
            await asyncio.sleep(PURGE_EVERY_SECONDS)

    task = asyncio.create_task(purge())
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def warm_moto(stack: BenchStack, seconds: float) -> None:
    """Raw calls at every lane count measured, in rounds, until `seconds` have passed."""
    settings = stack.settings()
    async with AwsClients(settings) as aws:
        sqs, queue = aws.sqs, settings.jobs_queue_url
        started = time.perf_counter()
        rounds = 0
        while rounds == 0 or time.perf_counter() - started < seconds:
            callers = RELAY_LANES[rounds % len(RELAY_LANES)]
            sends = _raw_sends(sqs, queue, WARMUP_ROUND_MESSAGES, callers)
            drain = await _drain(stack, sqs, queue, WARMUP_ROUND_MESSAGES, sends)
            rounds += 1
            print(
                f"  moto warm-up round {rounds} ({callers} caller{'s' if callers > 1 else ''}): "
                f"{drain.per_second:.0f} msg/s, moto CPU "
                f"{drain.cpu_ms(drain.moto_cpu_seconds):.2f} ms/msg",
                flush=True,
            )


async def relay_benchmark(stack: BenchStack, count: int, warmup_seconds: float) -> list[RelayRun]:
    await warm_moto(stack, warmup_seconds if stack.moto.pypy else 0.0)
    runs = []
    for lanes in RELAY_LANES:
        settings = stack.settings(
            outbox_relay_enabled=False,
            job_sweeper_enabled=False,
            outbox_sqs_concurrent_batches=lanes,
        )
        engine = create_engine(settings)
        sessionmaker = create_sessionmaker(engine)
        try:
            async with AwsClients(settings) as aws:
                sqs, queue = aws.sqs, settings.jobs_queue_url
                raw = await _drain(stack, sqs, queue, count, _raw_sends(sqs, queue, count, lanes))
                await _enqueue_burst(sessionmaker, count)
                relay = OutboxRelay(sessionmaker, build_publishers(settings, aws), settings)
                relayed = await _drain(stack, sqs, queue, count, _relay_drain(relay, count))
            async with sessionmaker() as session:
                pending = await session.scalar(
                    select(func.count())
                    .select_from(OutboxMessage)
                    .where(OutboxMessage.sent_at.is_(None))
                )
            if pending:
                raise SystemExit(f"{pending} messages still pending after the drain")
        finally:
            await engine.dispose()
        runs.append(RelayRun(lanes, relayed, raw))
    return runs


def format_report(
    listings: list[ListingAt], relay: list[RelayRun], seconds: int, moto_runtime: str
) -> str:
    lines = []
    if listings:  # --skip-listing: the relay's table alone
        lines += [
            f"scale: GET /api/jobs?limit=50, wrk {CONNECTIONS} connections, {seconds} s per row, "
            "uvicorn 1 worker (uvloop, httptools)",
            f"{'jobs':>9}  {'page':<11} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8}  plan",
        ]
    for at in listings:
        for page, result in (("first page", at.first_page), ("deep page", at.deep_page)):
            lines.append(
                f"{at.jobs:>9}  {page:<11} {result.per_second:>8.0f} {result.p50_ms:>8.1f} "
                f"{result.p99_ms:>8.1f}  {at.plans[page]}"
            )
    if len(listings) == 2:
        small, large = listings
        for page, pick in (("first", "first_page"), ("deep", "deep_page")):
            ratio = getattr(large, pick).p99_ms / getattr(small, pick).p99_ms
            p50_ratio = getattr(large, pick).p50_ms / getattr(small, pick).p50_ms
            verdict = "met" if ratio <= FLAT_GOAL else "UNMET"
            lines.append(
                f"  p99 {large.jobs} / {small.jobs} jobs, {page} page: {ratio:4.2f}x "
                f"(p50 {p50_ratio:4.2f}x; goal <= {FLAT_GOAL}x: {verdict})"
            )
    if relay:
        lines += _relay_report(relay, moto_runtime)
    return "\n".join(lines)


def _relay_report(runs: list[RelayRun], moto_runtime: str) -> list[str]:
    lines = [
        f"outbox relay -> moto SQS FIFO, {runs[0].relay.messages} messages in {RELAY_GROUPS} "
        f"groups, queue purged every {PURGE_EVERY_SECONDS * 1000:.0f} ms; raw = "
        "send_message_batch calls of ten, as many callers as the relay has lanes",
        f"  moto served by {moto_runtime}",
        f"  {'lanes':>5} {'relay msg/s':>11} {'raw msg/s':>10} {'relay/raw':>9}   "
        "CPU ms/msg: relay (moto)   raw (moto)",
    ]
    for run in runs:
        relay, raw = run.relay, run.raw
        lines.append(
            f"  {run.lanes:>5} {relay.per_second:>11.0f} {raw.per_second:>10.0f} "
            f"{relay.per_second / raw.per_second:>9.2f}   "
            f"{relay.cpu_ms(relay.cpu_seconds):>16.2f} ({relay.cpu_ms(relay.moto_cpu_seconds):.2f})"
            f" {raw.cpu_ms(raw.cpu_seconds):>6.2f} ({raw.cpu_ms(raw.moto_cpu_seconds):.2f})"
        )
    best_relay = max(run.relay.per_second for run in runs)
    best_raw = max(run.raw.per_second for run in runs)
    if best_relay >= RELAY_GOAL_PER_SECOND:
        lines.append(f"  goal >= {RELAY_GOAL_PER_SECOND:.0f} msg/s: met ({best_relay:.0f})")
    elif best_raw < RELAY_GOAL_PER_SECOND:
        verdicts = ", ".join(
            f"{run.lanes} lane{'s' if run.lanes > 1 else ''} "
            f"{'met' if run.relay.per_second / run.raw.per_second >= RELAY_RATIO_GOAL else 'UNMET'}"
            for run in runs
        )
        lines.append(
            f"  goal >= {RELAY_GOAL_PER_SECOND:.0f} msg/s: out of moto's reach here (raw calls "
            f"peak at {best_raw:.0f} msg/s); read as relay/raw >= {RELAY_RATIO_GOAL}: {verdicts}"
        )
    else:
        lines.append(
            f"  goal >= {RELAY_GOAL_PER_SECOND:.0f} msg/s: UNMET ({best_relay:.0f}; raw calls "
            f"reach {best_raw:.0f})"
        )
    return lines


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench scale")
    parser.add_argument("--seconds", type=int, default=8, help="per measurement")
    parser.add_argument("--warmup", type=int, default=2, help="seconds before each measurement")
    parser.add_argument("--large", type=int, default=LARGE, help="jobs in the large account")
    parser.add_argument("--messages", type=int, default=RELAY_MESSAGES, help="0 skips the relay")
    parser.add_argument(
        "--moto-warmup", type=int, default=PYPY_WARMUP_SECONDS,
        help="seconds of raw calls warming PyPy's moto before the relay measurements",
    )  # fmt: skip
    parser.add_argument("--skip-listing", action="store_true")
    args = parser.parse_args(argv)
    with bench_stack(moto_on_pypy=True) as stack:
        relay = (
            asyncio.run(relay_benchmark(stack, args.messages, args.moto_warmup))
            if args.messages
            else []
        )
        listings = [] if args.skip_listing else listing_benchmark(stack, args)
    print(format_report(listings, relay, args.seconds, stack.moto.runtime))
    return 0
