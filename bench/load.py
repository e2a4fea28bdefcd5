"""Load benchmark: the API under uvicorn (uvloop, httptools) on PostgreSQL, with one worker
and with two, against a bare FastAPI + SQLAlchemy app served the same way in the same run.

wrk at 64 connections on loopback measures `POST /api/jobs`, `GET /api/jobs/{id}`,
`GET /api/jobs?limit=50` and login; the bare app's `INSERT ... RETURNING` and primary-key
`session.get` endpoints are measured in turns with the app's (a few short rounds each,
alternating), so each ratio compares figures taken side by side on a machine whose second
core comes and goes: a neighbour's burst lands on both sides instead of on one row. The
ratios' spread over the rounds is printed with them.

Goals: `POST /api/jobs` >= 0.50x the bare INSERT, `GET /api/jobs/{id}` >= 0.60x the bare
get, and `GET /health/live` p99 < 50 ms while a login storm (bcrypt) runs.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import time
import uuid
from dataclasses import dataclass

from sqlalchemy import insert
from sqlalchemy.ext.asyncio import create_async_engine

from app.domain.clock import utcnow
from bench import loadgen
from bench.bare_app import Item, create_schema
from bench.loadgen import Request, Result
from bench.seed import JOB_BODY_JSON, BenchAccount, seed_account
from bench.servers import Served, uvicorn_server
from bench.stack import BenchStack, bench_stack

CONNECTIONS = 64
ROUNDS = 3  # alternating turns per compared pair
PROBE_CONNECTIONS = 2  # the health probe during the login storm: a load balancer's pace
SEEDED_JOBS = 300
CREATE_GOAL = 0.50
GET_GOAL = 0.60
LIVE_P99_GOAL_MS = 50.0


@dataclass(frozen=True)
class Measured:
    name: str
    result: Result
    cpu_ms: float  # server CPU per request (all workers), the noise-resistant figure


@dataclass(frozen=True)
class Ratio:
    name: str
    value: float  # by requests/s
    by_cpu: float  # the bare endpoint's CPU per request / the app's
    goal: float
    rounds: list[float]  # by requests/s, in each alternating round


@dataclass(frozen=True)
class Turn:
    result: Result
    cpu_seconds: float


@dataclass(frozen=True)
class WorkerReport:
    workers: int
    rows: list[Measured]
    ratios: list[Ratio]
    live_quiet: Result
    live_storm: Result


async def _seed_bare_item(database_url: str) -> str:
    engine = create_async_engine(database_url)
    await create_schema(engine)
    item_id = uuid.uuid4()
    async with engine.begin() as conn:
        await conn.execute(insert(Item).values(id=item_id, name="seed", created_at=utcnow()))
    await engine.dispose()
    return str(item_id)


def measure_workers(
    stack: BenchStack,
    account: BenchAccount,
    bare_item: str,
    workers: int,
    seconds: int,
    warmup: int,
) -> WorkerReport:
    env = stack.environment()
    log = stack.scratch / f"servers-{workers}w.log"
    auth = account.authorization
    with (
        uvicorn_server("app.main:create_app", env, workers=workers, log=log) as api,
        uvicorn_server("bench.bare_app:create_app", env, workers=workers, log=log) as bare,
    ):

        def turn(server: Served, request: Request, seconds: float) -> Turn:
            cpu_before = server.cpu_seconds()
            result = loadgen.run(server.url, request, seconds=seconds, connections=CONNECTIONS)
            return Turn(result, server.cpu_seconds() - cpu_before)

        def load(name: str, server: Served, request: Request) -> Measured:
            loadgen.run(server.url, request, seconds=warmup, connections=CONNECTIONS)
            return _measured(name, [turn(server, request, seconds)])

        def compare(
            name: str, goal: float, bare_side: tuple[str, Request], app_side: tuple[str, Request]
        ) -> tuple[Measured, Measured, Ratio]:
            """Bare and app in alternating rounds, about `seconds` each in all (wrk takes
            whole seconds)."""
            turn_seconds = max(1, round(seconds / ROUNDS))
            for server, (_, request) in ((bare, bare_side), (api, app_side)):
                loadgen.run(server.url, request, seconds=warmup, connections=CONNECTIONS)
            bare_turns: list[Turn] = []
            app_turns: list[Turn] = []
            for _ in range(ROUNDS):
                bare_turns.append(turn(bare, bare_side[1], turn_seconds))
                app_turns.append(turn(api, app_side[1], turn_seconds))
            bare_row = _measured(bare_side[0], bare_turns)
            app_row = _measured(app_side[0], app_turns)
            rounds = [
                a.result.per_second / b.result.per_second
                for a, b in zip(app_turns, bare_turns, strict=True)
            ]
            return bare_row, app_row, _ratio(name, app_row, bare_row, goal, rounds)

        bare_insert, create, create_ratio = compare(
            "POST /api/jobs / bare INSERT",
            CREATE_GOAL,
            ("bare INSERT ... RETURNING", Request("POST", "/items", json.dumps({"name": "a.mp4"}))),
            ("POST /api/jobs", Request("POST", "/api/jobs", JOB_BODY_JSON, auth)),
        )
        bare_get, get, get_ratio = compare(
            "GET /api/jobs/{id} / bare get",
            GET_GOAL,
            ("bare session.get", Request("GET", f"/items/{bare_item}")),
            (
                "GET /api/jobs/{id}",
                Request("GET", f"/api/jobs/{account.job_id}", authorization=auth),
            ),
        )
        listing = load(
            "GET /api/jobs?limit=50",
            api,
            Request("GET", "/api/jobs?limit=50", authorization=auth),
        )

        live = Request("GET", "/health/live")
        live_quiet = loadgen.run(
            api.url, live, seconds=seconds, connections=PROBE_CONNECTIONS, threads=1
        )
        # The storm starts first; the probe joins once every connection waits on bcrypt.
        login = Request("POST", "/api/auth/login", account.login_body)
        cpu_before = api.cpu_seconds()
        storm = loadgen.start(api.url, login, seconds=seconds + warmup, connections=CONNECTIONS)
        time.sleep(warmup)
        probe = loadgen.start(
            api.url, live, seconds=seconds, connections=PROBE_CONNECTIONS, threads=1
        )
        live_storm, logins = loadgen.finish(probe), loadgen.finish(storm)
        # The probe's share of that CPU is negligible next to bcrypt's.
        login_cpu = 1000 * (api.cpu_seconds() - cpu_before) / max(logins.requests, 1)

    return WorkerReport(
        workers=workers,
        rows=[
            bare_insert,
            create,
            bare_get,
            get,
            listing,
            Measured("POST /api/auth/login (storm)", logins, login_cpu),
        ],
        ratios=[create_ratio, get_ratio],
        live_quiet=live_quiet,
        live_storm=live_storm,
    )


def _measured(name: str, turns: list[Turn]) -> Measured:
    """One row of the table from its turns: rates and CPU over all of them, latencies the
    median turn's."""
    results = [t.result for t in turns]
    requests = sum(r.requests for r in results)
    middle = sorted(results, key=lambda r: r.per_second)[len(results) // 2]
    result = Result(
        requests=requests,
        seconds=sum(r.seconds for r in results),
        p50_ms=middle.p50_ms,
        p99_ms=middle.p99_ms,
        non_2xx=sum(r.non_2xx for r in results),
        socket_errors=sum(r.socket_errors for r in results),
    )
    return Measured(name, result, 1000 * sum(t.cpu_seconds for t in turns) / max(requests, 1))


def _ratio(name: str, app: Measured, bare: Measured, goal: float, rounds: list[float]) -> Ratio:
    return Ratio(
        name,
        value=app.result.per_second / bare.result.per_second,
        by_cpu=bare.cpu_ms / app.cpu_ms,
        goal=goal,
        rounds=rounds,
    )


def _verdict(met: bool) -> str:
    return "met" if met else "UNMET"


def format_report(reports: list[WorkerReport], seconds: int, load_before: float) -> str:
    lines = [
        f"load: wrk {CONNECTIONS} connections on loopback, {seconds} s per row after a warm-up "
        f"(compared pairs in {ROUNDS} alternating rounds); "
        f"uvicorn --loop uvloop --http httptools; load average at start {load_before:.2f}",
        f"{'workers':>7}  {'endpoint':<28} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} "
        f"{'errors':>7} {'cpu ms/req':>10}",
    ]
    for report in reports:
        for row in report.rows:
            r = row.result
            lines.append(
                f"{report.workers:>7}  {row.name:<28} {r.per_second:>8.0f} {r.p50_ms:>8.1f} "
                f"{r.p99_ms:>8.1f} {r.non_2xx + r.socket_errors:>7} {row.cpu_ms:>10.2f}"
            )
        for ratio in report.ratios:
            lines.append(
                f"{report.workers:>7}  ratio {ratio.name:<30} {ratio.value:5.2f} by req/s, "
                f"{ratio.by_cpu:5.2f} by CPU per request "
                f"(goal >= {ratio.goal:.2f}: {_verdict(ratio.value >= ratio.goal)}; "
                f"rounds {min(ratio.rounds):.2f}-{max(ratio.rounds):.2f})"
            )
        quiet, storm = report.live_quiet, report.live_storm
        lines.append(
            f"{report.workers:>7}  GET /health/live ({PROBE_CONNECTIONS} conns) quiet p50/p99 "
            f"{quiet.p50_ms:.1f}/{quiet.p99_ms:.1f} ms; during the login storm p50/p99 "
            f"{storm.p50_ms:.1f}/{storm.p99_ms:.1f} ms "
            f"(goal p99 < {LIVE_P99_GOAL_MS:.0f} ms: {_verdict(storm.p99_ms < LIVE_P99_GOAL_MS)})"
        )
    return "\n".join(lines)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench load")
    parser.add_argument("--seconds", type=int, default=9, help="per measurement")
    parser.add_argument("--warmup", type=int, default=2, help="seconds before each measurement")
    parser.add_argument("--workers", default="1,2", help="uvicorn worker counts, comma-separated")
    args = parser.parse_args(argv)
    worker_counts = [int(n) for n in args.workers.split(",")]
    load_before = os.getloadavg()[0]
    with bench_stack() as stack:
        account = asyncio.run(seed_account(stack, SEEDED_JOBS))
        bare_item = asyncio.run(_seed_bare_item(stack.database_url))
        reports = [
            measure_workers(stack, account, bare_item, workers, args.seconds, args.warmup)
            for workers in worker_counts
        ]
    print(format_report(reports, args.seconds, load_before))
    return 0
