from __future__ import annotations

import re

import pytest

from app.services.email.rendering import (
    TEMPLATES_DIR,
    EmailKind,
    humanise_duration,
    render,
)


def _placeholders(kind: EmailKind) -> set[str]:
    found: set[str] = set()
    for suffix in ("txt", "html"):
        source = (TEMPLATES_DIR / f"{kind.value}.{suffix}").read_text()
        found |= set(re.findall(r"\$(\w+)", source))
    return found


@pytest.mark.parametrize("kind", list(EmailKind))
def test_every_kind_renders_a_subject_a_text_and_an_html_body(kind: EmailKind) -> None:
    values = {name: f"<{name}>" for name in _placeholders(kind)}
    email = render(kind, **values)
    assert email.kind is kind
    assert email.subject
    assert "\n" not in email.subject
    assert not email.text.startswith("Subject:")
    for name in values:
        # Plain text as given; HTML escaped, never raw markup from a value.
        assert f"<{name}>" in email.text or f"<{name}>" in email.subject
        assert f"<{name}>" not in email.html
    assert email.html.startswith("<!doctype html>")


def test_a_missing_value_is_an_error_not_a_hole_in_the_email() -> None:
    with pytest.raises(KeyError, match="link"):
        render(EmailKind.VERIFY_EMAIL, email="a@example.com", valid_for="1 hour")


def test_a_line_break_in_a_subject_value_cannot_start_a_header() -> None:
    email = render(
        EmailKind.JOB_SUCCEEDED,
        email="a@example.com",
        job_id="j",
        short_job_id="abc\r\nBcc: victim@example.com",
        job_link="https://x",
        settings_link="https://y",
    )
    assert email.subject == "Your Reframer job abc Bcc: victim@example.com is ready"


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(86400, "24 hours"), (3600, "1 hour"), (7200, "2 hours"), (90, "2 minutes"), (60, "1 minute"),
     (1, "1 minute")],
)  # fmt: skip
def test_durations_read_naturally(seconds: int, text: str) -> None:
    assert humanise_duration(seconds) == text
