"""A large source through the browser console (headless Chromium, the real local stack with
a 16 MiB multipart threshold): it goes up in parts, several at once, under one progress bar
with speed and time left; cut short, a reload and the same file again pick it up where it
stopped, sending only the parts storage does not hold."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from playwright.sync_api import Page, Request, Route, expect

from devstack.sample_clip import make_sample_clip
from devstack.smtp_sink import verification_link
from tests.support.accessibility import ARTIFACTS
from tests.support.browser import chromium
from tests.support.local_stack import MULTIPART_THRESHOLD_BYTES, LocalStack

PASSWORD = "browser password 1"
MIB = 1024**2
SOURCE_SIZE = 17 * MIB + 7  # three parts: 8 MiB, 8 MiB and 1 MiB + 7


@pytest.fixture
def page(local_stack: LocalStack, request: pytest.FixtureRequest) -> Iterator[Page]:
    with chromium() as browser:
        context = browser.new_context(viewport={"width": 1280, "height": 900})
        page = context.new_page()
        page.set_default_timeout(30_000)
        yield page
        if getattr(request.node, "failed_call", False):
            ARTIFACTS.mkdir(exist_ok=True)
            page.screenshot(path=str(ARTIFACTS / f"failed-{request.node.name}.png"), full_page=True)
        context.close()


def _large_clip(tmp_path: Path) -> Path:
    """A real clip, padded past the threshold (players and ffmpeg ignore the tail)."""
    clip = make_sample_clip(tmp_path / "conference.mp4", width=640, height=360, seconds=4)
    with clip.open("ab") as file:
        file.write(b"\0" * (SOURCE_SIZE - clip.stat().st_size))
    assert clip.stat().st_size > MULTIPART_THRESHOLD_BYTES
    return clip


def _signed_up_and_verified(page: Page, local_stack: LocalStack, email: str) -> None:
    page.goto(local_stack.api_url + "/#/signup")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Create account").click()
    expect(page.get_by_role("heading", name="Check your email")).to_be_visible()
    link = verification_link(local_stack.workdir / "mail", email, timeout=30.0)
    assert link is not None
    page.goto(link)
    page.get_by_role("button", name="Confirm my address").click()
    expect(page.locator("#result")).to_contain_text("is confirmed")


def _part_number(request: Request) -> int | None:
    query = parse_qs(urlsplit(request.url).query)
    return (
        int(query["partNumber"][0]) if request.method == "PUT" and "partNumber" in query else None
    )


def test_a_large_upload_goes_in_parts_and_resumes_after_a_reload(
    page: Page, local_stack: LocalStack, tmp_path: Path
) -> None:
    clip = _large_clip(tmp_path)
    _signed_up_and_verified(page, local_stack, f"parts-{tmp_path.name[-8:].lower()}@example.com")

    parts_sent: list[int] = []
    page.on("request", lambda r: parts_sent.append(n) if (n := _part_number(r)) else None)

    # Storage drops every attempt at the last part: the first two arrive, then the upload
    # stops after its retries.
    def drop(route: Route) -> None:
        route.abort("connectionreset")

    page.route(re.compile(r".*[?&]partNumber=3(&|$).*"), drop)
    page.goto(local_stack.api_url + "/#/new")
    expect(page.get_by_role("heading", name="New job")).to_be_visible()
    page.get_by_label("Video file").set_input_files(str(clip))
    page.get_by_role("button", name="Upload and reframe").click()
    expect(page.locator("#flash")).to_contain_text("The upload stopped", timeout=60_000)
    assert sorted(set(parts_sent)) == [1, 2, 3]
    assert parts_sent.count(3) == 4  # retried, with fresh URLs
    rate = page.get_by_test_id("upload-rate").text_content() or ""
    assert re.match(r"^9\d% · [\d.]+ [KM]B/s", rate), rate  # 16 of 17 MiB, and a speed

    # A reload: the page remembers the upload and asks for the file again.
    page.unroute(re.compile(r".*[?&]partNumber=3(&|$).*"), drop)
    page.reload()
    notice = page.get_by_test_id("unfinished-upload")
    expect(notice).to_contain_text("conference.mp4")
    parts_sent.clear()
    page.get_by_label("Video file").set_input_files(str(clip))
    page.get_by_role("button", name="Upload and reframe").click()
    expect(page.get_by_role("heading", name="conference.mp4")).to_be_visible(timeout=60_000)
    assert parts_sent == [3]  # only what storage did not hold
    expect(page.get_by_test_id("job-status")).not_to_have_text("Waiting for upload")

    # Finished: nothing is left to resume.
    page.goto(local_stack.api_url + "/#/new")
    expect(page.get_by_role("heading", name="New job")).to_be_visible()
    expect(page.get_by_test_id("unfinished-upload")).to_have_count(0)
