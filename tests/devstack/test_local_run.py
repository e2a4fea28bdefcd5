"""`make run` delivers webhooks by itself: its poller feeds the webhooks queue to the Lambda."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

import httpx
from standardwebhooks.webhooks import Webhook

from tests.support.local_stack import LocalStack
from tests.support.webhook_receiver import run_receiver

PASSWORD = "correct horse battery staple"


def _pro_account(local_stack: LocalStack, api: httpx.Client) -> dict[str, str]:
    email = "hooks-local-run@example.com"
    assert api.post("/api/auth/register", json={"email": email, "password": PASSWORD}).is_success
    # The operator's lever, as the harness's `users.set_plan` pulls it.
    with sqlite3.connect(local_stack.workdir / "reframer.db") as db:
        db.execute("UPDATE accounts SET plan = 'pro' WHERE email = ?", (email,))
    token = api.post("/api/auth/login", json={"email": email, "password": PASSWORD}).json()
    return {"Authorization": f"Bearer {token['access_token']}"}


def test_a_test_event_reaches_a_local_receiver_signed(local_stack: LocalStack) -> None:
    with httpx.Client(base_url=local_stack.api_url, timeout=10) as api, run_receiver() as receiver:
        headers = _pro_account(local_stack, api)
        endpoint = api.post(
            "/api/webhooks/endpoints",
            json={"url": receiver.url(), "events": ["job.succeeded"]},
            headers=headers,
        ).json()
        sent = api.post(f"/api/webhooks/endpoints/{endpoint['id']}/test", headers=headers)
        assert sent.status_code == 202
        deadline = time.monotonic() + 30
        while not receiver.requests:
            assert time.monotonic() < deadline, Path(local_stack.log_path).read_text()[-3000:]
            time.sleep(0.2)
        [request] = receiver.requests
        assert Webhook(endpoint["secret"]).verify(request.body, request.headers)["type"] == (
            "webhook.test"
        )
        while True:
            [logged] = api.get("/api/webhooks/deliveries", headers=headers).json()["data"]
            if logged["status"] != "pending" or time.monotonic() > deadline:
                break
            time.sleep(0.2)
        assert logged["status"] == "delivered"
