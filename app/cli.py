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
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.api.openapi import operators_document
from app.aws.clients import AwsClients
from app.config import Settings, get_settings
from app.db.models import Account, Job, JobEvent
from app.db.session import create_engine, create_sessionmaker
from app.domain.clock import utcnow
from app.domain.errors import DomainError, NotFound
from app.domain.plans import PlanName
from app.services.accounts import find_by_email, set_plan
from app.services.auth.sessions import AuthService
from app.services.dead_letters import DeadLetterQueues, DeadLetterSource
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

    dlq = commands.add_parser("dlq", help="look at, redrive or purge a dead-letter queue")
    dlq_commands = dlq.add_subparsers(dest="dlq_command", required=True, metavar="ACTION")
    queue_help = "the source queue whose dead-letter queue to work on"
    sources = [s.value for s in DeadLetterSource]
    for name, help_text in (
        ("list", "count the messages and give each one's id, age and receive count"),
        ("redrive", "send the messages back to their queue, each message group in order"),
        ("purge", "delete every message (a webhook delivery still pending becomes failed)"),
    ):
        action = dlq_commands.add_parser(name, help=help_text)
        action.add_argument("--queue", choices=sources, required=True, help=queue_help)
    show_letter = dlq_commands.add_parser("show", help="print one message's body and counts")
    show_letter.add_argument("--queue", choices=sources, required=True, help=queue_help)
    show_letter.add_argument("message_id")
    commands.add_parser(
        "reseal-secrets",
        help="re-seal webhook signing secrets under the current secret key (a step of "
        "rotating REFRAMER_SECRET_KEY; docs/security.md)",
    )
    openapi = commands.add_parser("openapi", help="print the API's OpenAPI document")
    openapi.add_argument(
        "--operators", action="store_true", help="the whole document, /internal routes included"
    )
    return parser


def _print_openapi(operators: bool, out: TextIO) -> None:
    # Builds the app without serving it: no database is opened.
    from app.main import create_app

    app = create_app()
    document = operators_document(app) if operators else app.openapi()
    out.write(json.dumps(document, indent=2) + "\n")


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
                elif args.command == "dlq":
                    await _dead_letters(args, settings, create_sessionmaker(engine), out)
                elif args.command == "reseal-secrets":
                    changed = await reseal_secrets(session, settings)
                    out.write(f"re-sealed the signing secrets of {changed} webhook endpoint(s)\n")
            except DomainError as exc:
                err.write(f"refused ({exc.code}): {exc.detail}\n")
                return EXIT_REFUSED
    finally:
        await engine.dispose()
    return EXIT_OK


async def _dead_letters(
    args: argparse.Namespace,
    settings: Settings,
    sessionmaker: async_sessionmaker[AsyncSession],
    out: TextIO,
) -> None:
    source = DeadLetterSource(args.queue)
    async with AwsClients(settings) as aws:
        queues = DeadLetterQueues(aws.sqs, settings, sessionmaker)
        if args.dlq_command == "list":
            summary = await queues.summary(source)
            oldest = summary.oldest_age_seconds
            out.write(
                f"{source.value} dead-letter queue {summary.queue_url}: "
                f"{summary.visible} messages, {summary.in_flight} in flight, oldest "
                f"{'-' if oldest is None else f'{oldest:.0f} s'}\n"
            )
            now = utcnow()
            for letter in summary.letters:
                out.write(
                    f"  {letter.message_id}  age {letter.age_seconds(now):.0f} s  "
                    f"received {letter.receive_count}x  {letter.body[:120]}\n"
                )
        elif args.dlq_command == "show":
            letter = await queues.show(source, args.message_id)
            report = {
                "message_id": letter.message_id,
                "sent_at": letter.sent_at,
                "age_seconds": round(letter.age_seconds(utcnow()), 1),
                "receive_count": letter.receive_count,
                "group_id": letter.group_id,
                "attributes": letter.attributes,
                "body": _json_or_text(letter.body),
            }
            out.write(json.dumps(report, indent=2, default=str) + "\n")
        elif args.dlq_command == "redrive":
            result = await queues.redrive(source)
            out.write(
                f"redrove the {source.value} dead-letter queue: {result.sent_back} sent back, "
                f"{result.redelivered} redelivered as new deliveries, "
                f"{result.skipped} skipped (work already over), "
                f"{result.kept} kept (not a message of ours; see show, purge)\n"
            )
        else:
            purged = await queues.purge(source)
            out.write(f"purged {purged} messages from the {source.value} dead-letter queue\n")


def _json_or_text(body: str) -> Any:
    try:
        return json.loads(body)
    except ValueError:
        return body


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
    if args.command == "openapi":
        _print_openapi(args.operators, sys.stdout)
        return EXIT_OK
    return asyncio.run(run(args, get_settings(), sys.stdout))


if __name__ == "__main__":
    sys.exit(main())
