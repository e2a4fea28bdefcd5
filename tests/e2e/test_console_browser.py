"""The browser console, clicked through in headless Chromium against the real local stack:
sign up, open the emailed verification link, upload a video with the progress bar, watch
the job, and meet the plan's limits as a readable message. A screenshot is kept on failure."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from app.local.sample_clip import make_sample_clip
from app.local.smtp_sink import verification_link
from tests.support.browser import chromium
from tests.support.local_stack import LocalStack

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
PASSWORD = "browser password 1"


@pytest.fixture
def page(local_stack: LocalStack, request: pytest.FixtureRequest) -> Iterator[Page]:
    with chromium() as browser:
        context = browser.new_context(viewport={"width": 390, "height": 844})  # a phone
        page = context.new_page()
        page.set_default_timeout(20_000)
        yield page
        if getattr(request.node, "failed_call", False):
            ARTIFACTS.mkdir(exist_ok=True)
            page.screenshot(path=str(ARTIFACTS / f"{request.node.name}.png"), full_page=True)
        context.close()


def test_a_new_customer_signs_up_verifies_and_uploads_a_video(
    page: Page, local_stack: LocalStack, tmp_path: Path
) -> None:
    email = f"browser-{tmp_path.name[-8:].lower()}@example.com"
    page.goto(local_stack.api_url + "/")
    expect(page.get_by_role("heading", name="Log in")).to_be_visible()
    page.get_by_role("link", name="Create an account").click()
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Create account").click()
    expect(page.get_by_role("heading", name="Jobs")).to_be_visible()
    expect(page.get_by_text("No jobs yet")).to_be_visible()

    # A free plan meets its limits as a readable message with the way up.
    page.get_by_role("link", name="API keys").click()
    page.get_by_label("Key name").fill("ci server")
    page.get_by_role("button", name="Create key").click()
    expect(page.locator("#flash")).to_contain_text("upgrade to pro")
    expect(page.locator("#flash").get_by_role("link", name="Upgrade to pro")).to_be_visible()

    # The emailed link, opened in the browser as the customer would.
    link = verification_link(local_stack.workdir / "mail", email, timeout=30.0)
    assert link is not None
    page.goto(link)
    page.get_by_role("button", name="Confirm my address").click()
    expect(page.locator("#result")).not_to_be_empty()

    clip = tmp_path / "holiday.mp4"
    make_sample_clip(clip, width=640, height=360, seconds=2)
    page.goto(local_stack.api_url + "/#/new")
    page.get_by_label("Video file").set_input_files(str(clip))
    page.get_by_label("Aspect ratio").select_option("9:16")
    page.get_by_role("button", name="Upload and reframe").click()
    expect(page.get_by_role("heading", name="holiday.mp4")).to_be_visible()
    # The page follows the job live, through the pipeline, to a playable result.
    expect(page.get_by_test_id("job-status")).to_have_text("succeeded", timeout=120_000)
    video = page.get_by_test_id("result-video")
    expect(video).to_be_visible()
    duration = video.evaluate(
        "v => new Promise(done => v.readyState >= 1 ? done(v.duration)"
        " : v.addEventListener('loadedmetadata', () => done(v.duration)))"
    )
    assert duration > 1.5
    expect(page.get_by_role("link", name="Download video")).to_be_visible()

    page.get_by_role("link", name="Plan & usage").click()
    expect(page.get_by_test_id("plan")).to_have_text("free")
    expect(page.get_by_text("Jobs this period: 1")).to_be_visible()
