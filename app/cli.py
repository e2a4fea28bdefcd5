"""Operator commands for support staff and local runs: `python -m app.cli --help`.

Same settings (REFRAMER_* variables, .env) and database as the service.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import secrets
import sys
import uuid
from collections.abc import Sequence
from typing import Any, TextIO

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.config import Settings, get_settings
from app.db.models import Account, Job, JobEvent
from app.db.session import create_engine, create_sessionmaker
from app.domain.errors import DomainError, NotFound
from app.domain.plans import PlanName
from app.services.accounts import find_by_email, set_plan
from app.services.auth import AuthService
from app.services.jobs.management import requeue_job
from app.services.webhooks.endpoints import reseal_secrets

EXIT_OK = 0
EXIT_REFUSED = 1


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m app.cli", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    create = commands.add_parser("create-user", help="register an account")
    create.add_argument("email")
    create.add_argument("--plan", choices=[p.value for p in PlanName], default=PlanName.FREE.value)
    create.add_argument(
        "--password-stdin",
        action="store_true",
        help="read the password from standard input (default: generate one and print it)",
    )

    plan = commands.add_parser("set-plan", help="move an account to another plan")
    plan.add_argument("email")
    plan.add_argument("plan", choices=[p.value for p in PlanName])

    show = commands.add_parser("show-job", help="print a job, its account and its history")
    show.add_argument("job_id", type=uuid.UUID)

    requeue = commands.add_parser(
        "requeue", help="send a queued, submitted or running job to the dispatcher again"
    )
    requeue.add_argument("job_id", type=uuid.UUID)
    requeue.add_argument("--reason", default="requeued by an operator")

    commands.add_parser(
        "reseal-secrets",
        help="re-seal webhook signing secrets under the current secret key (a step of "
        "rotating REFRAMER_SECRET_KEY; README)",
    )
    return parser


async def run(
    args: argparse.Namespace,
    settings: Settings,
    out: TextIO,
    err: TextIO = sys.stderr,
    stdin: TextIO = sys.stdin,
) -> int:
    engine = create_engine(settings)
    try:
        async with create_sessionmaker(engine)() as session:
            try:
                if args.command == "create-user":
                    await _create_user(session, settings, args, out, stdin)
                elif args.command == "set-plan":
                    account = await _account(session, args.email)
                    await set_plan(session, account, PlanName(args.plan))
                    out.write(f"{account.email} is now on the {args.plan} plan\n")
                elif args.command == "show-job":
                    out.write(
                        json.dumps(await _job_report(session, args.job_id), indent=2, default=str)
                    )
                    out.write("\n")
                elif args.command == "requeue":
                    job = await requeue_job(session, settings, args.job_id, reason=args.reason)
                    out.write(f"job {job.id} is queued again (requeue #{job.requeue_count})\n")
                elif args.command == "reseal-secrets":
                    changed = await reseal_secrets(session, settings)
                    out.write(f"re-sealed the signing secrets of {changed} webhook endpoint(s)\n")
            except DomainError as exc:
                err.write(f"refused ({exc.code}): {exc.detail}\n")
                return EXIT_REFUSED
    finally:
        await engine.dispose()
    return EXIT_OK


async def _create_user(
    session: AsyncSession, settings: Settings, args: argparse.Namespace, out: TextIO, stdin: TextIO
) -> None:
    generated = not args.password_stdin
    password = secrets.token_urlsafe(18) if generated else stdin.readline().rstrip("\n")
    if len(password) < 8:
        raise DomainError("The password needs at least 8 characters.")
    account = await AuthService(session, settings).register(args.email, password)
    if args.plan != PlanName.FREE.value:
        await set_plan(session, account, PlanName(args.plan))
    out.write(f"created account {account.id} {account.email} on the {account.plan} plan\n")
    if generated:
        out.write(f"password: {password}\n")


async def _account(session: AsyncSession, email: str) -> Account:
    account = await find_by_email(session, email)
    if account is None:
        raise NotFound(f"No account with the email {email!r}.")
    return account


async def _job_report(session: AsyncSession, job_id: uuid.UUID) -> dict[str, Any]:
    row = (
        await session.execute(
            select(Job, Account.email)
            .join(Account, Account.id == Job.account_id)
            .where(Job.id == job_id)
        )
    ).one_or_none()
    if row is None:
        raise NotFound(f"No job {job_id}.")
    job: Job = row[0]
    events = (
        await session.scalars(
            select(JobEvent).where(JobEvent.job_id == job_id).order_by(JobEvent.id)
        )
    ).all()
    columns = {c.key: getattr(job, c.key) for c in Job.__table__.columns}
    columns.pop("callback_token_hash")  # a secret's hash is no operator's business
    return {
        **columns,
        "account_email": row[1],
        "events": [
            {
                "at": e.created_at,
                "from": e.from_status,
                "to": e.to_status,
                "actor": e.actor,
                "reason": e.reason,
            }
            for e in events
        ],
    }


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return asyncio.run(run(args, get_settings(), sys.stdout))


if __name__ == "__main__":
    sys.exit(main())
