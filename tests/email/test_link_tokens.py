"""Emailed tokens travel in the URL fragment, which browsers never send: the pages read it
there, and no access log records a token (an old-style link's query is redacted)."""

from __future__ import annotations

import asyncio
import logging
from urllib.parse import urlsplit

import httpx
import pytest
from fastapi import FastAPI
from playwright.sync_api import expect

from tests.email.conftest import PUBLIC_URL
from tests.support.browser import chromium
from tests.support.live_server import serve
from tests.support.mailbox import Mailbox, link_of, token_of
from tests.support.users import UserFactory

NEW_PASSWORD = "a brand new passphrase"
OLD_STYLE_TOKEN = "old-style-link-token-0123456789"


async def test_emailed_links_carry_their_token_in_the_fragment(
    client: httpx.AsyncClient, users: UserFactory, mailbox: Mailbox
) -> None:
    user = await users.create(verified=False)
    verify = await mailbox.deliver_one("verify_email")
    assert await client.post("/api/auth/forgot-password", json={"email": user.email})
    reset = await mailbox.deliver_one("password_reset")
    for email, path in ((verify, "/verify-email"), (reset, "/reset-password")):
        parts = urlsplit(link_of(email))
        assert f"{parts.scheme}://{parts.netloc}" == PUBLIC_URL
        assert parts.path == path
        assert parts.query == ""  # nothing a server would log
        assert parts.fragment == f"token={token_of(email)}"


def _reset_in_the_browser(link: str) -> str:
    with chromium() as browser:
        page = browser.new_page()
        page.goto(link)
        page.get_by_label("New password").fill(NEW_PASSWORD)
        page.get_by_label("The same again").fill(NEW_PASSWORD)
        page.get_by_role("button", name="Set the new password").click()
        expect(page.locator("#result")).to_contain_text("Your password is changed")
        return page.url


async def test_the_reset_page_reads_the_fragment_and_no_access_log_holds_a_token(
    app: FastAPI,
    client: httpx.AsyncClient,
    users: UserFactory,
    mailbox: Mailbox,
    caplog: pytest.LogCaptureFixture,
) -> None:
    user = await users.create()
    await mailbox.deliver()
    assert await client.post("/api/auth/forgot-password", json={"email": user.email})
    email = await mailbox.deliver_one("password_reset")
    token = token_of(email)

    caplog.set_level(logging.INFO, logger="uvicorn.access")
    async with serve(app) as base:
        link = link_of(email).replace(PUBLIC_URL, base)
        address_bar = await asyncio.to_thread(_reset_in_the_browser, link)
        # A link sent before tokens moved to the fragment still reaches the server's log.
        async with httpx.AsyncClient(base_url=base) as http:
            old_style = await http.get("/verify-email", params={"token": OLD_STYLE_TOKEN})
            assert old_style.status_code == 200

    assert token not in address_bar  # the page took it off the address bar and history
    login = await client.post(
        "/api/auth/login", json={"email": user.email, "password": NEW_PASSWORD}
    )
    assert login.status_code == 200

    access = [r.getMessage() for r in caplog.records if r.name == "uvicorn.access"]
    assert any("/reset-password" in line for line in access), access
    assert any("/verify-email?token=[redacted]" in line for line in access), access
    # Nor any other line the server logged (the local SMTP sink logs each email it stores,
    # link and all: it stands in for the recipient's mailbox, not for the server).
    served = "\n".join(
        r.getMessage()
        for r in caplog.records
        if r.name.startswith(("uvicorn", "app")) and not r.name.startswith("devstack")
    )
    assert token not in served
    assert OLD_STYLE_TOKEN not in served


def _verify_in_the_browser(link: str) -> str:
    with chromium() as browser:
        page = browser.new_page()
        page.goto(link)
        page.get_by_role("button", name="Confirm my address").click()
        expect(page.locator("#result")).to_contain_text("is confirmed")
        return page.url


async def test_the_verify_page_reads_the_fragment_with_the_shared_script(
    app: FastAPI, client: httpx.AsyncClient, users: UserFactory, mailbox: Mailbox
) -> None:
    user = await users.create(verified=False)
    email = await mailbox.deliver_one("verify_email")
    async with serve(app) as base:
        link = link_of(email).replace(PUBLIC_URL, base)
        address_bar = await asyncio.to_thread(_verify_in_the_browser, link)
    assert token_of(email) not in address_bar
    me = await client.post("/api/auth/login", json={"email": user.email, "password": user.password})
    account = await client.get(
        "/api/me", headers={"Authorization": f"Bearer {me.json()['access_token']}"}
    )
    assert account.json()["email_verified"] is True


async def test_the_pages_scripts_come_from_an_allow_list(client: httpx.AsyncClient) -> None:
    for page, script in (
        ("/verify-email", "verify_email.js"),
        ("/reset-password", "reset_password.js"),
    ):
        html = (await client.get(page)).text
        assert f'src="/pages/{script}"' in html
        assert "<script>" not in html  # no inline script: the CSP allows only our own files
        served = await client.get(f"/pages/{script}")
        assert served.status_code == 200
        assert served.headers["content-type"].startswith("text/javascript")
        assert "/pages/link_token.js" in served.text
    assert "linkToken" in (await client.get("/pages/link_token.js")).text
    for name in ("verify_email.html", "..%2Fdeps.py", "nothing.js"):
        assert (await client.get(f"/pages/{name}")).status_code == 404
