"""The browser console, clicked through in headless Chromium against the real local stack
(`make run`'s process, with its Stripe stand-in): a new customer signs up, is told to check
their email, asks for the link again, verifies, uploads, watches the job live, sees the
reframe side by side with the crop window, compares plans and upgrades to Pro locally.

Every page is captured at 1280 and 390 px into test-artifacts/ and checked with axe-core (no
serious or critical violation) and for horizontal overflow; a failed test keeps a screenshot.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Page, expect

from devstack.sample_clip import make_sample_clip
from devstack.smtp_sink import verification_link
from tests.support.accessibility import ARTIFACTS, capture, install_axe
from tests.support.browser import chromium
from tests.support.local_stack import LocalStack

PASSWORD = "browser password 1"
JOB_TIMEOUT_MS = 180_000
COOLDOWN_MS = 4_500  # the local stack's resend cooldown (tests/support/local_stack.py), and a bit


@pytest.fixture
def page(local_stack: LocalStack, request: pytest.FixtureRequest) -> Iterator[Page]:
    with chromium() as browser:
        context = browser.new_context(viewport={"width": 1280, "height": 900})
        install_axe(context)
        page = context.new_page()
        page.set_default_timeout(20_000)
        yield page
        if getattr(request.node, "failed_call", False):
            ARTIFACTS.mkdir(exist_ok=True)
            page.screenshot(path=str(ARTIFACTS / f"failed-{request.node.name}.png"), full_page=True)
        context.close()


def _email(tmp_path: Path, kind: str) -> str:
    return f"{kind}-{tmp_path.name[-8:].lower()}@example.com"


def _sign_up(page: Page, local_stack: LocalStack, email: str) -> None:
    page.goto(local_stack.api_url + "/#/signup")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Create account").click()
    expect(page.get_by_role("heading", name="Check your email")).to_be_visible()


def _verify(page: Page, local_stack: LocalStack, email: str) -> None:
    link = verification_link(local_stack.workdir / "mail", email, timeout=30.0)
    assert link is not None
    page.goto(link)
    page.get_by_role("button", name="Confirm my address").click()
    expect(page.locator("#result")).to_contain_text("is confirmed")


def test_a_new_customer_signs_up_reframes_a_video_and_upgrades(
    page: Page, local_stack: LocalStack, tmp_path: Path
) -> None:
    email = _email(tmp_path, "walk")
    # Signed out: no app navigation, only the way in.
    page.goto(local_stack.api_url + "/")
    expect(page.get_by_role("heading", name="Log in")).to_be_visible()
    expect(page.get_by_role("navigation", name="Main")).to_be_hidden()
    expect(page.get_by_role("link", name="Jobs")).to_have_count(0)
    capture(page, "01-log-in")
    page.get_by_role("link", name="Create an account").click()
    expect(page.get_by_role("heading", name="Create your account")).to_be_visible()
    capture(page, "02-sign-up")

    _sign_up(page, local_stack, email)
    expect(page.get_by_test_id("email")).to_have_text(email)
    expect(page.get_by_role("navigation", name="Main")).to_be_visible()
    capture(page, "03-check-email")

    # The sign-up link went out a moment ago: the cooldown is shown, then a new link goes out.
    resend = page.get_by_role("button", name=re.compile("Send the link again"))
    resend.click()
    expect(page.get_by_test_id("resend-status")).to_contain_text("You can ask again in")
    expect(resend).to_be_disabled()
    expect(resend).to_have_text(re.compile(r"Send the link again \(in \d+ s\)"))
    capture(page, "04-resend-cooldown")
    expect(resend).to_be_enabled(timeout=15_000)
    resend.click()
    expect(page.get_by_test_id("resend-status")).to_contain_text(f"on its way to {email}")

    # A mistyped address is corrected here (after the same cooldown); the link goes there.
    page.wait_for_timeout(COOLDOWN_MS)
    email = _email(tmp_path, "walk-fixed")
    page.get_by_text("Wrong address? Change it").click()
    page.get_by_label("New email address").fill(email)
    page.get_by_role("button", name="Use this address").click()
    expect(page.get_by_test_id("email")).to_have_text(email)
    expect(page.locator("#flash")).to_contain_text(f"We sent a new link to {email}")

    # Before any upload, the new-job page says the address is not confirmed yet.
    page.get_by_role("link", name="New job").click()
    expect(page.get_by_test_id("unverified")).to_contain_text(email)
    expect(page.get_by_role("button", name="Upload and reframe")).to_be_disabled()
    capture(page, "05-new-job-unverified")

    # A free plan meets its limits as an offer, not an error.
    page.get_by_role("link", name="API keys").click()
    expect(page.get_by_text("API keys come with the Pro plan.")).to_be_visible()

    _verify(page, local_stack, email)
    capture(page, "06-email-confirmed")

    clip = tmp_path / "holiday.mp4"
    make_sample_clip(clip, width=960, height=540, seconds=8)
    page.get_by_role("link", name="Upload your first video").click()
    expect(page.get_by_role("heading", name="New job")).to_be_visible()
    expect(page.get_by_test_id("unverified")).to_have_count(0)
    capture(page, "07-new-job")
    page.get_by_label("Video file").set_input_files(str(clip))
    page.get_by_label("Aspect ratio").select_option("9:16")
    page.get_by_role("button", name="Upload and reframe").click()
    expect(page.get_by_role("heading", name="holiday.mp4")).to_be_visible()

    # Live: the stage in words and the percentage move while the pipeline runs.
    stage = page.get_by_test_id("job-stage")
    expect(stage).to_have_text(
        re.compile(
            r"^(Reading|Decoding|Finding|Looking|Following|Planning|Rendering|Saving).* — \d+%$"
        ),
        timeout=JOB_TIMEOUT_MS,
    )
    capture(page, "08-job-running")
    seen = {stage.text_content()}
    expect(page.get_by_test_id("job-status")).to_have_text("Ready", timeout=JOB_TIMEOUT_MS)
    assert seen

    # The reframe as pictures: both videos, in sync, the crop window over the source.
    source = page.get_by_test_id("source-video")
    result = page.get_by_test_id("result-video")
    for video in (source, result):
        duration = video.evaluate(
            "v => new Promise(done => v.readyState >= 1 ? done(v.duration)"
            " : v.addEventListener('loadedmetadata', () => done(v.duration)))"
        )
        assert duration > 7
    # The shared slider moves both videos and the crop window with them.
    page.get_by_role("slider", name="Position in both videos").fill("4")
    expect(source).to_have_js_property("currentTime", 4)
    expect(result).to_have_js_property("currentTime", 4)
    for video in (source, result):
        expect(video).to_have_js_property("seeking", False)
    crop = page.get_by_test_id("crop-window")
    frame = source.bounding_box()
    box = crop.bounding_box()
    assert frame is not None
    assert box is not None
    # A 9:16 window over a 16:9 source: full height, about a third of the width, inside it.
    assert box["height"] == pytest.approx(frame["height"], abs=3)
    assert box["width"] == pytest.approx(frame["height"] * 9 / 16, rel=0.05)
    assert frame["x"] - 1 <= box["x"]
    assert box["x"] + box["width"] <= frame["x"] + frame["width"] + 1
    expect(
        page.get_by_role("group", name="Shots, in order").get_by_role("button")
    ).not_to_have_count(0)
    expect(page.get_by_test_id("quality")).to_contain_text("Picture")
    # The sample clip has no face and nothing moving: the result says so in words.
    expect(page.get_by_test_id("subject-in-frame")).to_have_text(
        "No face or moving subject was found, so the camera held the centre of the picture."
    )
    expect(page.get_by_test_id("quality-warning")).to_have_count(0)
    capture(page, "09-job-result")

    page.get_by_role("link", name="Jobs").click()
    card = page.get_by_role("listitem").filter(has_text="holiday.mp4")
    expect(card).to_contain_text("Ready")
    expect(card).to_contain_text("0:08")
    expect(card).to_contain_text("9:16")
    thumbnail = card.locator("img.thumb")
    expect(thumbnail).to_have_js_property("complete", True)
    assert thumbnail.evaluate("img => img.naturalWidth") > 0
    capture(page, "10-jobs")

    # Plans compared, then the local Stripe stand-in's checkout, and the plan is Pro.
    page.get_by_role("link", name="Plan & usage").click()
    table = page.get_by_test_id("plans")
    for row in ("Upload size", "Video length", "Jobs a month", "Jobs at once", "Resolutions",
                "Aspect ratios", "API keys", "Webhooks", "Priority queue"):  # fmt: skip
        expect(table.get_by_role("rowheader", name=row)).to_be_visible()
    expect(table.get_by_role("columnheader", name="Free Your plan")).to_be_visible()
    expect(page.get_by_test_id("plan")).to_have_text("free")
    capture(page, "11-plans")
    table.get_by_role("button", name="Upgrade to Pro").click()
    expect(page.get_by_role("heading", name="Subscribe to Pro")).to_be_visible()
    capture(page, "12-checkout")
    page.get_by_role("button", name="Pay and subscribe").click()
    expect(page.get_by_test_id("plan")).to_have_text("pro")
    expect(page.locator("#flash")).to_contain_text("Payment received")
    expect(table.get_by_role("columnheader", name="Pro Your plan")).to_be_visible()
    capture(page, "13-plan-pro")

    # Pro includes API keys and webhooks.
    # A key gets jobs and usage by default; managing webhooks only when chosen.
    page.get_by_role("link", name="API keys").click()
    scopes = page.get_by_role("group", name="What the key may do")
    for default in ("Read jobs", "Create and cancel jobs", "Read usage"):
        expect(scopes.get_by_role("checkbox", name=default)).to_be_checked()
    for opt_in in ("Read webhooks", "Manage webhooks"):
        expect(scopes.get_by_role("checkbox", name=opt_in)).not_to_be_checked()
    capture(page, "14-api-keys-new")
    page.get_by_label("Key name").fill("ci server")
    page.get_by_role("button", name="Create key").click()
    expect(page.get_by_test_id("new-secret")).to_be_visible()
    ci = page.get_by_role("listitem").filter(has_text="ci server")
    expect(ci).to_contain_text("jobs:read, jobs:write, usage:read)")
    expect(ci).to_contain_text("never")
    page.get_by_label("Key name").fill("hooks bot")
    scopes.get_by_role("checkbox", name="Manage webhooks").check()
    page.get_by_role("button", name="Create key").click()
    expect(page.get_by_test_id("new-secret")).to_be_visible()
    bot = page.get_by_role("listitem").filter(has_text="hooks bot")
    expect(bot).to_contain_text("Manage webhooks")
    expect(bot).to_contain_text("(jobs:read, jobs:write, usage:read, webhooks:write)")
    expect(bot).to_contain_text("never")
    # Its first use shows in words.
    secret = page.get_by_test_id("new-secret").text_content()
    assert secret
    used = httpx.get(
        local_stack.api_url + "/api/webhooks/endpoints",
        headers={"Authorization": f"Bearer {secret}"},
    )
    assert used.status_code == 200, used.text
    page.reload()
    expect(bot.locator("time")).to_have_text("just now")
    capture(page, "14-api-keys")

    page.get_by_role("link", name="Webhooks").click()
    page.get_by_label("Endpoint URL").fill("http://127.0.0.1:9/hooks")
    page.get_by_role("button", name="Add endpoint").click()
    expect(page.get_by_test_id("new-secret")).to_be_visible()
    page.get_by_role("button", name="Send test").click()
    expect(page.locator("#flash")).to_contain_text("Test event sent")
    # The log updates itself: the endpoint refuses connections, so the attempt is logged.
    delivery = page.get_by_role("list", name="Deliveries, newest first").get_by_role("listitem")
    expect(delivery.first).to_contain_text("1 attempt", timeout=60_000)
    delivery.first.locator("summary").click()
    expect(delivery.first.get_by_role("table")).to_contain_text("network error")
    capture(page, "15-webhooks")
    page.get_by_role("button", name="Rotate secret").click()
    expect(page.get_by_text("New signing secret")).to_be_visible()

    page.get_by_role("link", name="Plan & usage").click()
    page.get_by_role("button", name="Manage subscription").click()
    expect(page.get_by_text("Current plan: Pro")).to_be_visible()
    capture(page, "16-billing-portal")
    page.get_by_role("link", name="Return to Reframer").click()
    expect(page.get_by_test_id("plan")).to_have_text("pro")


def test_keyboard_reaches_every_control_with_a_visible_focus_ring(
    page: Page, local_stack: LocalStack, tmp_path: Path
) -> None:
    _sign_up(page, local_stack, _email(tmp_path, "keys"))
    page.goto(local_stack.api_url + "/#/plan")
    expect(page.get_by_role("heading", name="Plan & usage")).to_be_visible()
    # A view change focuses its heading (for screen readers) without a frame around the page.
    focused = page.evaluate(
        "() => { const e = document.activeElement;"
        " return [e.tagName, getComputedStyle(e).outlineStyle]; }"
    )
    assert focused == ["H1", "none"]
    reached = []
    for _ in range(20):
        page.keyboard.press("Tab")
        reached.append(
            page.evaluate(
                "() => { const e = document.activeElement; const s = getComputedStyle(e);"
                " if (e === document.body || e === document.documentElement) return null;"
                " const name = e.getAttribute('aria-label') || e.textContent.trim();"
                " return [name, s.outlineStyle, s.outlineWidth]; }"
            )
        )
    # Past the last control the focus leaves the page (the body), then starts over.
    reached = [control for control in reached if control is not None]
    names = [name for name, _, _ in reached]
    for expected in (
        "Jobs",
        "New job",
        "API keys",
        "Webhooks",
        "Plan & usage",
        "Log out",
        "Upgrade to Pro",
    ):
        assert expected in names, names
    assert all(style == "solid" and width == "3px" for _, style, width in reached), reached
    # Enter on a focused link follows it.
    page.get_by_role("link", name="New job").focus()
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="New job")).to_be_visible()


def test_the_jobs_list_shows_older_jobs_a_page_at_a_time(
    page: Page, local_stack: LocalStack, tmp_path: Path
) -> None:
    email = _email(tmp_path, "pages")
    _sign_up(page, local_stack, email)
    token = page.evaluate("() => sessionStorage.getItem('access_token')")
    _verify(page, local_stack, email)
    with httpx.Client(
        base_url=local_stack.api_url, headers={"Authorization": f"Bearer {token}"}
    ) as api:
        for number in range(15):
            created = api.post(
                "/api/jobs",
                json={"filename": f"clip-{number:02}.mp4", "content_type": "video/mp4",
                      "size_bytes": 1000, "duration_seconds": 75},
            )  # fmt: skip
            assert created.status_code == 201, created.text
            # The free plan lets a few jobs wait for their upload; the older ones are canceled.
            if number < 11:
                job_id = created.json()["job"]["id"]
                assert api.post(f"/api/jobs/{job_id}/cancel").status_code == 200
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(local_stack.api_url + "/#/jobs")
    cards = page.get_by_role("list", name="Jobs, newest first").get_by_role("listitem")
    expect(cards).to_have_count(12)
    expect(cards.first).to_contain_text("clip-14.mp4")
    expect(cards.first).to_contain_text("Waiting for upload")
    expect(cards.first).to_contain_text("1:15")
    older = page.get_by_role("button", name="Show older jobs")
    older.click()
    expect(cards).to_have_count(15)
    expect(cards.last).to_contain_text("clip-00.mp4")
    expect(older).to_be_hidden()
    capture(page, "17-jobs-paged")
