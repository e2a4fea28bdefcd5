"""The whole path over HTTP: create, upload with the presigned URL, confirm, the FIFO message,
dispatch, submitted, start, progress, complete, and the outputs downloaded."""

from __future__ import annotations

import json

import httpx

from devstack.provision import LocalAws
from tests.support.jobs import VIDEO_BYTES, Dispatched, JobDriver
from tests.support.users import UserFactory


async def test_a_job_goes_from_upload_to_downloadable_outputs(
    client: httpx.AsyncClient, users: UserFactory, jobs: JobDriver, aws: LocalAws
) -> None:
    user = await users.create()
    created = await jobs.create(user, duration_seconds=90)
    job_id = created["job"]["id"]
    assert created["job"]["status"] == "pending_upload"
    assert created["upload"]["method"] == "PUT"
    await jobs.upload(created)

    confirmed = await jobs.confirm(user, job_id)
    assert confirmed.status_code == 202
    assert confirmed.json()["status"] == "queued"
    assert await jobs.relay() == 1
    [message] = await jobs.job_messages()
    assert json.loads(message["Body"]) == {"job_id": job_id, "account_id": str(user.id)}
    assert message["Attributes"]["MessageGroupId"] == str(user.id)
    assert message["Attributes"]["MessageDeduplicationId"] == job_id

    dispatch = await jobs.dispatch(job_id)
    assert dispatch.status_code == 200
    spec = dispatch.json()
    assert spec["job_id"] == job_id
    assert spec["account_id"] == str(user.id)
    assert spec["plan"] == "free"
    assert spec["input_uri"].startswith(f"s3://{aws.bucket}/uploads/{job_id}/")
    assert spec["output_prefix"] == f"s3://{aws.bucket}/outputs/{job_id}/"
    assert spec["options"] == {"aspect_ratio": "9:16", "resolution": "720p"}
    assert spec["batch_queue"] == "standard"
    assert spec["callback_url"] == f"{jobs.settings.callback_base_url}/internal/jobs/{job_id}"
    # The dispatcher hands the container exactly the bytes the customer uploaded.
    input_key = spec["input_uri"].removeprefix(f"s3://{aws.bucket}/")
    source = await jobs.app.state.aws.s3.get_object(Bucket=aws.bucket, Key=input_key)
    assert await source["Body"].read() == VIDEO_BYTES
    assert (await jobs.get(user, job_id))["status"] == "queued"

    submitted = await jobs.submitted(job_id, "batch-42")
    assert submitted.status_code == 200
    assert submitted.json()["status"] == "submitted"

    container = Dispatched(job_id=job_id, spec=spec)
    started = await jobs.callback(container, "start", {"batch_job_id": "batch-42"})
    assert started.status_code == 200
    assert started.json()["status"] == "running"

    progress = await jobs.callback(container, "progress", {"stage": "faces", "percent": 40})
    assert progress.status_code == 200
    running = await jobs.get(user, job_id)
    assert running["status"] == "running"
    assert running["progress"] == {"stage": "faces", "percent": 40}

    files = await jobs.write_outputs(container)
    completed = await jobs.callback(
        container,
        "complete",
        {"outputs": jobs.outputs_of(container), "metrics": {"duration_seconds": 120.0}},
    )
    assert completed.status_code == 200
    assert completed.json()["status"] == "succeeded"

    done = await jobs.get(user, job_id)
    assert done["status"] == "succeeded"
    assert done["progress"] == {"stage": "outputs", "percent": 100}
    assert done["finished_at"] is not None

    outputs = await client.get(f"/api/jobs/{job_id}/outputs", headers=user.headers)
    assert outputs.status_code == 200
    links = outputs.json()
    async with httpx.AsyncClient() as s3:
        for name, filename in (
            ("video", "video.mp4"),
            ("thumbnail", "thumbnail.jpg"),
            ("manifest", "manifest.json"),
        ):
            download = await s3.get(links[name]["url"])
            assert download.status_code == 200
            assert download.content == files[filename]
        # The upload itself, to play beside the result.
        source = await s3.get(links["source"]["url"])
        assert source.status_code == 200
        assert source.content == VIDEO_BYTES
        # The list shows the result's still.
        listed = (await client.get("/api/jobs", headers=user.headers)).json()["data"]
        assert [job["id"] for job in listed] == [job_id]
        thumbnail = await s3.get(listed[0]["thumbnail_url"])
        assert thumbnail.content == files["thumbnail.jpg"]
        assert listed[0]["duration_seconds"] == 90  # the customer's hint
        assert listed[0]["measured_duration_seconds"] == 120.0

    events = await client.get(f"/api/jobs/{job_id}/events", headers=user.headers)
    assert [(e["from_status"], e["to_status"]) for e in events.json()] == [
        (None, "pending_upload"),
        ("pending_upload", "queued"),
        ("queued", "submitted"),
        ("submitted", "running"),
        ("running", "succeeded"),
    ]
    usage = (await client.get("/api/usage", headers=user.headers)).json()
    assert usage["jobs"] == 1
    # The 90 s hint counted at confirm; the measured 120 s replaced it.
    assert usage["source_minutes"] == 2.0
    assert await jobs.relay() == 0
    assert await jobs.job_messages() == []
