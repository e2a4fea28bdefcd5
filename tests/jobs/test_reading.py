"""Reading jobs: one account never sees another's; the list pages newest first without counting."""

from __future__ import annotations

import httpx

from tests.support.jobs import JobDriver
from tests.support.users import UserFactory


async def test_another_accounts_job_is_404_everywhere(
    client: httpx.AsyncClient, users: UserFactory, jobs: JobDriver
) -> None:
    owner = await users.create()
    running = await jobs.running(owner)
    await jobs.write_outputs(running)
    await jobs.callback(running, "complete", {"outputs": jobs.outputs_of(running)})
    pending = await jobs.create(owner)
    await jobs.upload(pending)
    intruder = await users.create()
    for job_id in (running.job_id, pending["job"]["id"]):
        for method, path in (
            ("GET", ""),
            ("GET", "/events"),
            ("GET", "/outputs"),
            ("POST", "/confirm"),
            ("POST", "/cancel"),
        ):
            response = await client.request(
                method, f"/api/jobs/{job_id}{path}", headers=intruder.headers
            )
            assert response.status_code == 404, (method, path)
            assert response.json()["code"] == "not_found"
    assert (await client.get("/api/jobs", headers=intruder.headers)).json()["data"] == []
    assert (await jobs.get(owner, pending["job"]["id"]))["status"] == "pending_upload"
    assert (await jobs.get(owner, running.job_id))["status"] == "succeeded"
    assert await jobs.relay() == 1  # the owner's one confirm


async def test_the_list_pages_newest_first_and_filters_by_status(
    client: httpx.AsyncClient, users: UserFactory, jobs: JobDriver
) -> None:
    user = await users.create()
    created = [(await jobs.create(user))["job"]["id"] for _ in range(5)]
    await client.post(f"/api/jobs/{created[1]}/cancel", headers=user.headers)
    newest_first = created[::-1]

    # Nothing succeeded, so no job has a still to show.
    listed = (await client.get("/api/jobs", headers=user.headers)).json()["data"]
    assert [job["thumbnail_url"] for job in listed] == [None] * 5

    seen: list[str] = []
    cursor: str | None = None
    while True:
        params: dict[str, str | int] = {"limit": 2}
        if cursor:
            params["starting_after"] = cursor
        page = (await client.get("/api/jobs", params=params, headers=user.headers)).json()
        seen += [j["id"] for j in page["data"]]
        if not page["has_more"]:
            break
        cursor = page["data"][-1]["id"]
    assert seen == newest_first

    pending = await client.get(
        "/api/jobs", params={"status": "pending_upload", "limit": 3}, headers=user.headers
    )
    assert [j["id"] for j in pending.json()["data"]] == newest_first[:3]
    assert pending.json()["has_more"] is True
    canceled = await client.get("/api/jobs", params={"status": "canceled"}, headers=user.headers)
    assert [j["id"] for j in canceled.json()["data"]] == [created[1]]
    for bad in ({"limit": 0}, {"limit": 101}, {"status": "lost"}, {"starting_after": "nope"}):
        assert (await client.get("/api/jobs", params=bad, headers=user.headers)).status_code == 422
