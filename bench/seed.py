"""The bench account: registered, verified and on the business plan through the app itself
(in this process, over ASGI), with some hundreds of jobs made through `POST /api/jobs`."""

from __future__ import annotations

import json
from dataclasses import dataclass

from app.domain.plans import PlanName
from bench.stack import BenchStack
from tests.support.replicas import client_of, running_app
from tests.support.users import UserFactory

# A valid creation body: business allows every aspect ratio and resolution; no duration.
JOB_BODY = {
    "filename": "keynote.mp4",
    "content_type": "video/mp4",
    "size_bytes": 48_000_000,
    "options": {"aspect_ratio": "9:16", "resolution": "1080p"},
}
JOB_BODY_JSON = json.dumps(JOB_BODY)


@dataclass(frozen=True)
class BenchAccount:
    email: str
    password: str
    access_token: str
    job_id: str  # an existing job, for GET /api/jobs/{id}

    @property
    def authorization(self) -> str:
        return f"Bearer {self.access_token}"

    @property
    def login_body(self) -> str:
        return json.dumps({"email": self.email, "password": self.password})


async def seed_account(stack: BenchStack, jobs: int) -> BenchAccount:
    settings = stack.settings(outbox_relay_enabled=False, job_sweeper_enabled=False)
    async with running_app(settings) as application, client_of(application) as client:
        user = await UserFactory(client, application).create(plan=PlanName.BUSINESS)
        job_id = ""
        for _ in range(jobs):
            response = await client.post("/api/jobs", json=JOB_BODY, headers=user.headers)
            if response.status_code != 201:
                raise SystemExit(f"seeding a job failed: {response.status_code} {response.text}")
            job_id = response.json()["job"]["id"]
    return BenchAccount(user.email, user.password, user.access_token, job_id)
