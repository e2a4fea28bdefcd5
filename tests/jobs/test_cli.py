"""The operator command line, on the service's own settings and database."""

from __future__ import annotations

import asyncio
import io
import json
import os
import subprocess
import sys
from pathlib import Path

from app.cli import build_parser, run
from app.config import Settings
from tests.support import migrations
from tests.support.jobs import JobDriver
from tests.support.users import UserFactory


async def cli(settings: Settings, *argv: str, stdin: str = "") -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = await run(build_parser().parse_args(argv), settings, out, err, io.StringIO(stdin))
    return code, out.getvalue(), err.getvalue()


async def test_operators_create_users_and_change_plans(settings: Settings, jobs: JobDriver) -> None:
    code, out, _ = await cli(settings, "create-user", "Support@Example.com", "--plan", "pro")
    assert code == 0
    password = out.split("password: ")[1].strip()
    login = await jobs.client.post(
        "/api/auth/login", json={"email": "support@example.com", "password": password}
    )
    assert login.status_code == 200
    headers = {"Authorization": f"Bearer {login.json()['access_token']}"}
    assert (await jobs.client.get("/api/me", headers=headers)).json()["plan"] == "pro"

    assert (await cli(settings, "set-plan", "support@example.com", "business"))[0] == 0
    assert (await jobs.client.get("/api/me", headers=headers)).json()["plan"] == "business"

    chosen = await cli(
        settings, "create-user", "b@example.com", "--password-stdin", stdin="s3cret-enough\n"
    )
    assert chosen[0] == 0
    assert "password:" not in chosen[1]
    taken = await cli(settings, "create-user", "b@example.com")
    assert taken[0] == 1
    assert "email_taken" in taken[2]
    unknown = await cli(settings, "set-plan", "nobody@example.com", "pro")
    assert (unknown[0], "not_found" in unknown[2]) == (1, True)


async def test_requeue_sends_a_stuck_job_again_and_retires_the_old_container(
    settings: Settings, users: UserFactory, jobs: JobDriver
) -> None:
    user = await users.create()
    stuck = await jobs.running(user)
    assert await jobs.relay() == 1
    await jobs.job_messages()

    code, out, _ = await cli(settings, "requeue", stuck.job_id, "--reason", "Batch job lost")
    assert code == 0, out
    assert (await jobs.get(user, stuck.job_id))["status"] == "queued"
    old_container = await jobs.callback(stuck, "progress", {"stage": "render", "percent": 50})
    assert old_container.status_code == 403
    assert await jobs.relay() == 1
    [message] = await jobs.job_messages()
    assert json.loads(message["Body"])["job_id"] == stuck.job_id
    assert message["Attributes"]["MessageDeduplicationId"] != stuck.job_id  # not deduplicated
    assert (await jobs.dispatch(stuck.job_id)).status_code == 200

    code, out, _ = await cli(settings, "show-job", stuck.job_id)
    shown = json.loads(out)
    assert (shown["status"], shown["account_email"], shown["requeue_count"]) == (
        "queued",
        user.email,
        1,
    )
    assert shown["events"][-1]["reason"] == "Batch job lost"
    assert "callback_token_hash" not in shown

    canceled = (await jobs.create(user))["job"]["id"]
    await jobs.client.post(f"/api/jobs/{canceled}/cancel", headers=user.headers)
    code, _, err = await cli(settings, "requeue", canceled)
    assert code == 1
    assert "invalid_transition" in err


async def test_the_module_runs_as_a_command(tmp_path: Path) -> None:
    # One database is enough to prove the wiring; the commands' behaviour is tested above.
    database_url = f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}"
    await migrations.upgrade(database_url)
    environment = {**os.environ, "REFRAMER_DATABASE_URL": database_url, "REFRAMER_LOG_JSON": "0"}
    missing = await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-m", "app.cli", "show-job", "00000000-0000-7000-8000-000000000000"],
        capture_output=True,
        text=True,
        env=environment,
        timeout=120,
        check=False,
    )
    assert missing.returncode == 1, missing.stderr
    assert "refused (not_found)" in missing.stderr
