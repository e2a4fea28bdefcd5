"""Drives jobs the way the SPA, the dispatcher Lambda and the Batch container do: over HTTP,
with the presigned URLs going straight to the S3 of moto server."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from typing import Any

import httpx
from fastapi import FastAPI
from sqlalchemy import func, select

from app.config import Settings
from app.db.models import OutboxMessage
from app.outbox.messages import Destination
from devstack.provision import LocalAws
from tests.support.users import TestUser

VIDEO_BYTES = b"\x00\x00\x00\x18ftypmp42" + bytes(range(256)) * 4


def job_body(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "filename": "talk.mp4",
        "content_type": "video/mp4",
        "size_bytes": len(VIDEO_BYTES),
        "options": {"aspect_ratio": "9:16", "resolution": "720p"},
    }
    body.update(overrides)
    return body


@dataclass
class Dispatched:
    job_id: str
    spec: dict[str, Any]

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.spec['callback_token']}"}


class JobDriver:
    def __init__(
        self, client: httpx.AsyncClient, app: FastAPI, aws: LocalAws, settings: Settings
    ) -> None:
        self.client = client
        self.app = app
        self.aws = aws
        self.settings = settings

    @property
    def service_headers(self) -> dict[str, str]:
        """The job_dispatcher Lambda's credential."""
        return {"Authorization": f"Bearer {self.settings.service_token}"}

    @property
    def webhook_service_headers(self) -> dict[str, str]:
        """The webhook_delivery Lambda's credential."""
        return {"Authorization": f"Bearer {self.settings.webhook_service_token}"}

    # The customer's side.
    async def create(self, user: TestUser, **overrides: Any) -> dict[str, Any]:
        response = await self.client.post(
            "/api/jobs", json=job_body(**overrides), headers=user.headers
        )
        assert response.status_code == 201, response.text
        created: dict[str, Any] = response.json()
        return created

    async def upload(
        self, created: dict[str, Any], content: bytes = VIDEO_BYTES, **header_overrides: str
    ) -> None:
        upload = created["upload"]
        headers = {**upload["headers"], **header_overrides}
        headers.pop("Content-Length", None)  # httpx sends the body's own length
        async with httpx.AsyncClient() as s3:
            response = await s3.request(
                upload["method"], upload["url"], content=content, headers=headers
            )
        assert response.status_code == 200, response.text

    async def confirm(self, user: TestUser, job_id: str) -> httpx.Response:
        return await self.client.post(f"/api/jobs/{job_id}/confirm", headers=user.headers)

    async def queued(self, user: TestUser, **overrides: Any) -> str:
        created = await self.create(user, **overrides)
        await self.upload(created)
        response = await self.confirm(user, created["job"]["id"])
        assert response.status_code == 202, response.text
        job_id: str = created["job"]["id"]
        return job_id

    async def get(self, user: TestUser, job_id: str) -> dict[str, Any]:
        response = await self.client.get(f"/api/jobs/{job_id}", headers=user.headers)
        assert response.status_code == 200, response.text
        job: dict[str, Any] = response.json()
        return job

    # The dispatcher's side.
    async def dispatch(self, job_id: str) -> httpx.Response:
        return await self.client.post(
            f"/internal/jobs/{job_id}/dispatch", headers=self.service_headers
        )

    async def submitted(self, job_id: str, batch_job_id: str) -> httpx.Response:
        return await self.client.post(
            f"/internal/jobs/{job_id}/submitted",
            json={"batch_job_id": batch_job_id},
            headers=self.service_headers,
        )

    async def dispatched(self, user: TestUser, **overrides: Any) -> Dispatched:
        job_id = await self.queued(user, **overrides)
        response = await self.dispatch(job_id)
        assert response.status_code == 200, response.text
        return Dispatched(job_id=job_id, spec=response.json())

    # The container's side.
    async def callback(
        self, dispatched: Dispatched, action: str, body: dict[str, Any] | None = None
    ) -> httpx.Response:
        return await self.client.post(
            f"/internal/jobs/{dispatched.job_id}/{action}",
            json=body or {},
            headers=dispatched.headers,
        )

    async def running(self, user: TestUser, batch_job_id: str = "batch-1") -> Dispatched:
        dispatched = await self.dispatched(user)
        assert (await self.submitted(dispatched.job_id, batch_job_id)).status_code == 200
        started = await self.callback(dispatched, "start", {"batch_job_id": batch_job_id})
        assert started.status_code == 200, started.text
        return dispatched

    async def write_outputs(self, dispatched: Dispatched) -> dict[str, bytes]:
        """What the pipeline uploads under the job's output prefix."""
        prefix = dispatched.spec["output_prefix"].removeprefix(f"s3://{self.aws.bucket}/")
        files = {
            "video.mp4": VIDEO_BYTES[::-1],
            "thumbnail.jpg": b"\xff\xd8\xff\xe0 thumbnail",
            "manifest.json": json.dumps({"job_id": dispatched.job_id}).encode(),
        }
        for name, data in files.items():
            await self.app.state.aws.s3.put_object(
                Bucket=self.aws.bucket, Key=prefix + name, Body=data
            )
        return files

    def outputs_of(self, dispatched: Dispatched) -> dict[str, str]:
        prefix = dispatched.spec["output_prefix"]
        return {
            "video": prefix + "video.mp4",
            "thumbnail": prefix + "thumbnail.jpg",
            "manifest": prefix + "manifest.json",
        }

    # The queue.
    async def relay(self) -> int:
        """Publishes what is due (emails too); returns how many job messages went out."""
        before = await self._sent_job_messages()
        _, failed = await self.app.state.outbox_relay.relay_once()
        assert failed == 0
        return await self._sent_job_messages() - before

    async def _sent_job_messages(self) -> int:
        async with self.app.state.sessionmaker() as session:
            count = await session.scalar(
                select(func.count())
                .select_from(OutboxMessage)
                .where(
                    OutboxMessage.destination == Destination.JOBS.value,
                    OutboxMessage.sent_at.is_not(None),
                )
            )
        return int(count or 0)

    async def job_messages(self) -> list[dict[str, Any]]:
        """Everything on the jobs FIFO queue right now (received, then deleted)."""
        sqs = self.app.state.aws.sqs
        messages: list[dict[str, Any]] = []
        while True:
            response = await sqs.receive_message(
                QueueUrl=self.aws.jobs_queue_url,
                MaxNumberOfMessages=10,
                AttributeNames=["All"],
                WaitTimeSeconds=0,
            )
            batch = response.get("Messages", [])
            if not batch:
                return messages
            for message in batch:
                messages.append(message)
                await sqs.delete_message(
                    QueueUrl=self.aws.jobs_queue_url, ReceiptHandle=message["ReceiptHandle"]
                )


def new_job_id() -> str:
    return str(uuid.uuid4())
