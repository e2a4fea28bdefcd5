"""/internal/jobs: who may call what, and callbacks that repeat, cross or arrive late."""

from __future__ import annotations

import asyncio
import json

import httpx

from app.domain.plans import PlanName
from tests.support.jobs import Dispatched, JobDriver
from tests.support.users import UserFactory


async def test_dispatcher_routes_take_only_the_dispatchers_token(
    client: httpx.AsyncClient, users: UserFactory, jobs: JobDriver
) -> None:
    user = await users.create(plan=PlanName.PRO)
    job_id = await jobs.queued(user)
    key = (
        await client.post("/api/api-keys", json={"name": "server"}, headers=user.headers)
    ).json()["key"]
    for headers, status in (
        ({}, 401),
        (user.headers, 403),
        ({"Authorization": f"Bearer {key}"}, 403),
        # The webhook Lambda's token: the function that talks to customers' servers
        # cannot dispatch jobs.
        (jobs.webhook_service_headers, 403),
    ):
        for action in ("dispatch", "submitted"):
            response = await client.post(
                f"/internal/jobs/{job_id}/{action}", json={"batch_job_id": "b"}, headers=headers
            )
            assert response.status_code == status, (action, headers)
    assert (await jobs.get(user, job_id))["status"] == "queued"


async def test_container_routes_take_only_that_jobs_callback_token(
    client: httpx.AsyncClient, users: UserFactory, jobs: JobDriver
) -> None:
    user = await users.create(plan=PlanName.PRO)
    job_a = await jobs.dispatched(user)
    job_b = await jobs.dispatched(user)
    assert (await jobs.submitted(job_b.job_id, "batch-b")).status_code == 200
    strangers = [
        ({}, 401),
        (user.headers, 403),
        (jobs.service_headers, 403),
        (jobs.webhook_service_headers, 403),
        (job_a.headers, 403),  # job A's token on job B
        ({"Authorization": "Bearer not-a-token"}, 403),
    ]
    for headers, status in strangers:
        for action, body in (
            ("start", {"batch_job_id": "batch-b"}),
            ("progress", {"stage": "probe", "percent": 1}),
            ("fail", {"code": "pipeline_error", "message": "x"}),
        ):
            response = await client.post(
                f"/internal/jobs/{job_b.job_id}/{action}", json=body, headers=headers
            )
            assert response.status_code == status, (action, headers)
    assert (await jobs.get(user, job_b.job_id))["status"] == "submitted"


async def test_dispatch_is_for_queued_jobs_and_a_redispatch_replaces_the_token(
    users: UserFactory, jobs: JobDriver
) -> None:
    user = await users.create()
    pending = (await jobs.create(user))["job"]["id"]
    never_confirmed = await jobs.dispatch(pending)
    assert never_confirmed.status_code == 409
    assert never_confirmed.json()["job_status"] == "pending_upload"

    first = await jobs.dispatched(user)
    # The dispatcher crashed before SubmitJob; the message comes back and dispatches again.
    again = await jobs.dispatch(first.job_id)
    assert again.status_code == 200
    second = Dispatched(job_id=first.job_id, spec=again.json())
    assert second.spec["callback_token"] != first.spec["callback_token"]
    assert (await jobs.submitted(first.job_id, "batch-2")).status_code == 200
    old = await jobs.callback(first, "start", {"batch_job_id": "batch-1"})
    assert old.status_code == 403
    assert (await jobs.callback(second, "start", {"batch_job_id": "batch-2"})).status_code == 200

    late = await jobs.dispatch(first.job_id)
    assert late.status_code == 409
    assert late.json()["code"] == "already_dispatched"
    assert late.json()["job_status"] == "running"


async def test_submitted_and_start_repeat_safely_and_refuse_another_batch_job(
    users: UserFactory, jobs: JobDriver
) -> None:
    user = await users.create()
    job = await jobs.dispatched(user)
    assert (await jobs.submitted(job.job_id, "batch-1")).json()["status"] == "submitted"
    repeat = await jobs.submitted(job.job_id, "batch-1")
    assert (repeat.status_code, repeat.json()["status"]) == (200, "submitted")
    other = await jobs.submitted(job.job_id, "batch-2")
    assert (other.status_code, other.json()["code"]) == (409, "batch_job_conflict")

    assert (await jobs.callback(job, "start", {"batch_job_id": "batch-1"})).status_code == 200
    retry = await jobs.callback(job, "start", {"batch_job_id": "batch-1"})  # Batch's own retry
    assert (retry.status_code, retry.json()["status"]) == (200, "running")
    duplicate = await jobs.callback(job, "start", {"batch_job_id": "batch-9"})
    assert duplicate.status_code == 409
    assert duplicate.json()["code"] == "batch_job_conflict"
    events = (await jobs.client.get(f"/api/jobs/{job.job_id}/events", headers=user.headers)).json()
    assert [e["to_status"] for e in events] == ["pending_upload", "queued", "submitted", "running"]


async def test_a_start_before_the_submitted_report_leaves_a_consistent_history(
    users: UserFactory, jobs: JobDriver
) -> None:
    user = await users.create()
    job = await jobs.dispatched(user)
    started = await jobs.callback(job, "start", {"batch_job_id": "batch-7"})
    assert started.json()["status"] == "running"
    late = await jobs.submitted(job.job_id, "batch-7")
    assert (late.status_code, late.json()["status"]) == (200, "running")
    events = (await jobs.client.get(f"/api/jobs/{job.job_id}/events", headers=user.headers)).json()
    assert [(e["from_status"], e["to_status"]) for e in events][2:] == [
        ("queued", "submitted"),
        ("submitted", "running"),
    ]


async def test_progress_never_goes_backwards(users: UserFactory, jobs: JobDriver) -> None:
    user = await users.create()
    job = await jobs.running(user)
    for stage, percent in (("faces", 40), ("tracking", 60), ("shots", 30), ("tracking", 55)):
        assert (
            await jobs.callback(job, "progress", {"stage": stage, "percent": percent})
        ).status_code == 200
    assert (await jobs.get(user, job.job_id))["progress"] == {"stage": "tracking", "percent": 60}
    for bad in ({"stage": "dance", "percent": 5}, {"stage": "render", "percent": 101}):
        assert (await jobs.callback(job, "progress", bad)).status_code == 422


async def test_a_repeated_complete_is_a_no_op_and_late_callbacks_change_nothing(
    client: httpx.AsyncClient, users: UserFactory, jobs: JobDriver
) -> None:
    user = await users.create()
    job = await jobs.running(user)
    await jobs.write_outputs(job)
    body = {"outputs": jobs.outputs_of(job), "metrics": {"fps": 30}}
    assert (await jobs.callback(job, "complete", body)).status_code == 200
    before = await jobs.get(user, job.job_id)
    assert (await jobs.callback(job, "complete", body)).json()["status"] == "succeeded"
    late_fail = await jobs.callback(job, "fail", {"code": "timeout", "message": "late"})
    late_progress = await jobs.callback(job, "progress", {"stage": "render", "percent": 80})
    late_start = await jobs.callback(job, "start", {"batch_job_id": "batch-1"})
    for late in (late_fail, late_progress, late_start):
        assert late.status_code == 409
        assert late.json()["code"] == "invalid_transition"
        assert late.json()["job_status"] == "succeeded"
    assert await jobs.get(user, job.job_id) == before
    events = (await client.get(f"/api/jobs/{job.job_id}/events", headers=user.headers)).json()
    assert [e["to_status"] for e in events].count("succeeded") == 1


async def test_complete_and_fail_racing_end_in_exactly_one_final_state(
    client: httpx.AsyncClient, users: UserFactory, jobs: JobDriver
) -> None:
    user = await users.create()
    job = await jobs.running(user)
    complete, fail = await asyncio.gather(
        jobs.callback(job, "complete", {"outputs": jobs.outputs_of(job)}),
        jobs.callback(job, "fail", {"code": "pipeline_error", "message": "boom"}),
    )
    assert sorted([complete.status_code, fail.status_code]) == [200, 409]
    final = (await jobs.get(user, job.job_id))["status"]
    assert final == ("succeeded" if complete.status_code == 200 else "failed")
    events = (await client.get(f"/api/jobs/{job.job_id}/events", headers=user.headers)).json()
    assert [e["to_status"] for e in events][-2:] == ["running", final]


async def test_outputs_must_lie_under_the_jobs_own_prefix(
    users: UserFactory, jobs: JobDriver
) -> None:
    user = await users.create()
    job = await jobs.running(user)
    other = await jobs.dispatched(await users.create())
    bucket = jobs.aws.bucket
    for name, uri in (
        ("video", f"s3://{bucket}/outputs/{other.job_id}/video.mp4"),
        ("manifest", f"s3://another-bucket/outputs/{job.job_id}/manifest.json"),
        ("thumbnail", f"s3://{bucket}/outputs/{job.job_id}/../{other.job_id}/thumbnail.jpg"),
        ("video", f"s3://{bucket}/uploads/{job.job_id}/source"),
    ):
        outputs = {**jobs.outputs_of(job), name: uri}
        response = await jobs.callback(job, "complete", {"outputs": outputs})
        assert response.status_code == 422, uri
        assert response.json()["code"] == "output_outside_prefix"
    assert (await jobs.get(user, job.job_id))["status"] == "running"


async def test_a_failed_job_shows_why_and_has_no_outputs(
    client: httpx.AsyncClient, users: UserFactory, jobs: JobDriver
) -> None:
    user = await users.create()
    job = await jobs.running(user)
    message = "no video stream in the upload"
    failed = await jobs.callback(job, "fail", {"code": "invalid_media", "message": message})
    assert failed.json()["status"] == "failed"
    shown = await jobs.get(user, job.job_id)
    assert shown["error"] == {"code": "invalid_media", "message": message, "retryable": False}
    outputs = await client.get(f"/api/jobs/{job.job_id}/outputs", headers=user.headers)
    assert outputs.status_code == 409
    assert outputs.json()["code"] == "outputs_not_ready"
    too_long = await jobs.callback(job, "fail", {"code": "timeout", "message": "x" * 4001})
    assert too_long.status_code == 422


async def test_a_canceled_job_stops_its_container(
    client: httpx.AsyncClient, users: UserFactory, jobs: JobDriver
) -> None:
    user = await users.create()
    running = await jobs.running(user)
    canceled = await client.post(f"/api/jobs/{running.job_id}/cancel", headers=user.headers)
    assert canceled.json()["status"] == "canceled"
    progress = await jobs.callback(running, "progress", {"stage": "render", "percent": 90})
    assert progress.status_code == 409
    assert progress.json()["job_status"] == "canceled"

    queued = await jobs.dispatched(await users.create())
    owner_cancel = await client.post(
        f"/api/jobs/{queued.job_id}/cancel", headers=(await users.create()).headers
    )
    assert owner_cancel.status_code == 404
    await jobs.client.post(
        f"/internal/jobs/{queued.job_id}/submitted",
        json={"batch_job_id": "b"},
        headers=jobs.service_headers,
    )
    assert (await jobs.dispatch(running.job_id)).json()["code"] == "already_dispatched"
    again = await client.post(f"/api/jobs/{running.job_id}/cancel", headers=user.headers)
    assert (again.status_code, again.json()["status"]) == (200, "canceled")


async def test_what_a_database_cannot_store_is_refused_with_422_not_a_500(
    users: UserFactory, jobs: JobDriver
) -> None:
    user = await users.create()
    job = await jobs.running(user)
    outputs = jobs.outputs_of(job)
    hostile = [
        ("complete", b'{"outputs": %s, "metrics": {"psnr": NaN}}' % json.dumps(outputs).encode()),
        ("complete", json.dumps({"outputs": outputs, "metrics": {"note": "a\x00b"}}).encode()),
        (
            "complete",
            json.dumps({"outputs": {**outputs, "video": outputs["video"] + "\x00"}}).encode(),
        ),
        ("fail", json.dumps({"code": "pipeline_error", "message": "bad\x00byte"}).encode()),
    ]
    for action, content in hostile:
        response = await jobs.client.post(
            f"/internal/jobs/{job.job_id}/{action}",
            content=content,
            headers={**job.headers, "Content-Type": "application/json"},
        )
        assert response.status_code == 422, (action, content)
    assert (await jobs.get(user, job.job_id))["status"] == "running"


async def test_an_internal_route_spelled_another_way_is_not_found(
    client: httpx.AsyncClient, users: UserFactory, jobs: JobDriver
) -> None:
    """The load balancer forwards /internal/* only from the NAT addresses; a percent-encoded
    spelling passes its rule, so the API itself answers 404 to it, token or not."""
    user = await users.create(plan=PlanName.PRO)
    job_id = await jobs.queued(user)
    for path in (f"/%69nternal/jobs/{job_id}/dispatch", f"/%2Finternal/jobs/{job_id}/dispatch"):
        response = await client.post(path, headers=jobs.service_headers)
        assert response.status_code == 404, path
        assert response.json()["code"] == "not_found"
    assert (await jobs.get(user, job_id))["status"] == "queued"
    dispatched = await client.post(
        f"/internal/jobs/{job_id}/dispatch", headers=jobs.service_headers
    )
    assert dispatched.status_code == 200, dispatched.text
