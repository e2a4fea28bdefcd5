"""The shared harness: a real PostgreSQL cluster and moto server for the whole session,
a fresh database per test (PostgreSQL and SQLite both), and an httpx client on the app."""

from __future__ import annotations

import shutil
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from app.config import Settings
from app.main import create_app
from devstack.moto_server import MotoServer, free_port, start_moto
from devstack.provision import LocalAws, provision_aws
from devstack.smtp_sink import SmtpSink, start_smtp_sink
from tests.support import live_server, migrations
from tests.support.jobs import JobDriver
from tests.support.local_stack import LocalStack, start_local_stack
from tests.support.mailbox import Mailbox
from tests.support.postgres import PostgresCluster
from tests.support.users import UserFactory

PG_TEMPLATE = "reframer_template"


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresCluster]:
    cluster = PostgresCluster()
    cluster.start()
    yield cluster
    cluster.destroy()


@pytest.fixture(scope="session")
def moto_server() -> Iterator[MotoServer]:
    server = start_moto()
    yield server
    server.stop()


# Templates are sync fixtures: per-test fixtures reach them lazily with getfixturevalue,
# which cannot set up an async fixture from inside the running loop.
@pytest.fixture(scope="session")
def pg_template(postgres: PostgresCluster) -> str:
    postgres.execute_admin(f"CREATE DATABASE {PG_TEMPLATE}")
    migrations.upgrade_sync(postgres.url(PG_TEMPLATE))
    return PG_TEMPLATE


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("sqlite") / "template.db"
    migrations.upgrade_sync(f"sqlite+aiosqlite:///{path}")
    return path


@pytest.fixture(params=["postgresql", "sqlite"])
async def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    """A migrated, empty database of its own for each test."""
    if request.param == "sqlite":
        template: Path = request.getfixturevalue("sqlite_template")
        path = tmp_path / "reframer.db"
        shutil.copyfile(template, path)
        yield f"sqlite+aiosqlite:///{path}"
        return
    postgres: PostgresCluster = request.getfixturevalue("postgres")
    async with postgres.copy_of(request.getfixturevalue("pg_template")) as url:
        yield url


@pytest.fixture
async def aws(moto_server: MotoServer) -> LocalAws:
    """A bucket and queues of this test's own on the shared moto server."""
    return await provision_aws(moto_server.endpoint_url, prefix=f"t{uuid.uuid4().hex[:10]}-")


@pytest.fixture
def smtp_sink(tmp_path: Path) -> Iterator[SmtpSink]:
    """A real SMTP server per test: registering alone already queues an email."""
    sink = start_smtp_sink(tmp_path / "mail")
    yield sink
    sink.stop()


@pytest.fixture
def settings(
    database_url: str, aws: LocalAws, moto_server: MotoServer, smtp_sink: SmtpSink
) -> Settings:
    return Settings(
        _env_file=None,  # type: ignore[call-arg]
        environment="test",
        database_url=database_url,
        aws_endpoint_url=moto_server.endpoint_url,
        s3_bucket=aws.bucket,
        jobs_queue_url=aws.jobs_queue_url,
        webhooks_queue_url=aws.webhooks_queue_url,
        smtp_host=smtp_sink.host,
        smtp_port=smtp_sink.port,
        bcrypt_rounds=4,
        outbox_relay_enabled=False,  # tests drive the relay themselves
        job_sweeper_enabled=False,  # and the sweeper
        log_json=False,
        # Generous budgets: every test calls from one address; rate-limit tests lower them.
        rate_limit_auth_per_minute=100_000,
        rate_limit_plan_scale=1_000.0,
    )


@pytest.fixture
async def app(settings: Settings) -> AsyncIterator[FastAPI]:
    application = create_app(settings)
    async with application.router.lifespan_context(application):
        yield application


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    # Unhandled errors come back as the 500 problem document, as a real client would see them.
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        yield http


@pytest.fixture
def users(client: httpx.AsyncClient, app: FastAPI) -> UserFactory:
    return UserFactory(client, app)


@pytest.fixture
def jobs(client: httpx.AsyncClient, app: FastAPI, aws: LocalAws, settings: Settings) -> JobDriver:
    """Drives jobs through their life: create, upload, confirm, relay, callbacks."""
    return JobDriver(client, app, aws, settings)


@pytest.fixture
def api_port() -> int:
    """A free loopback port for a test that serves the app over real HTTP (api_url)."""
    return free_port()


@pytest.fixture
async def api_url(app: FastAPI, api_port: int) -> AsyncIterator[str]:
    """The app served by uvicorn on api_port, for callers outside the process (a container)."""
    async with live_server.serve(app, api_port) as url:
        yield url


@pytest.fixture
def mailbox(app: FastAPI, smtp_sink: SmtpSink) -> Mailbox:
    return Mailbox(app, smtp_sink)


@pytest.fixture(scope="session")
def local_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStack]:
    """`make run`'s system as a child process, shared by the end-to-end tests."""
    stack = start_local_stack(tmp_path_factory.mktemp("stack"))
    yield stack
    stack.stop()
