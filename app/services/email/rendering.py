"""Emails from the files in `templates/`: a plain-text and an HTML body per kind.

`<kind>.txt` starts with a `Subject:` line and a blank line; `<kind>.html` is a fragment
placed in `_layout.html`. Values are `string.Template` placeholders (`$link`); in HTML
every value is escaped, so an address or a URL cannot inject markup.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from enum import StrEnum
from functools import lru_cache
from pathlib import Path
from string import Template

TEMPLATES_DIR = Path(__file__).parent / "templates"
_SUBJECT_PREFIX = "Subject: "
_WHITESPACE_RUN = re.compile(r"\s+")


class EmailKind(StrEnum):
    VERIFY_EMAIL = "verify_email"
    PASSWORD_RESET = "password_reset"  # noqa: S105 - a kind of email, not a secret
    PASSWORD_CHANGED = "password_changed"  # noqa: S105
    JOB_SUCCEEDED = "job_succeeded"
    JOB_FAILED = "job_failed"
    WEBHOOK_DISABLED = "webhook_disabled"
    API_KEY_CREATED = "api_key_created"


@dataclass(frozen=True)
class RenderedEmail:
    kind: EmailKind
    subject: str
    text: str
    html: str


@lru_cache(maxsize=32)
def _template(name: str) -> Template:
    return Template((TEMPLATES_DIR / name).read_text(encoding="utf-8"))


def _split_subject(kind: EmailKind) -> tuple[Template, Template]:
    source = _template(f"{kind.value}.txt").template
    first_line, _, body = source.partition("\n\n")
    if not first_line.startswith(_SUBJECT_PREFIX):
        raise ValueError(f"template {kind.value}.txt must start with a {_SUBJECT_PREFIX!r} line")
    return Template(first_line.removeprefix(_SUBJECT_PREFIX)), Template(body)


def render(kind: EmailKind, **values: str) -> RenderedEmail:
    """Raises KeyError when the template needs a value that was not given."""
    subject_template, text_template = _split_subject(kind)
    # A header is one line: a value with a line break must not start a new header.
    subject = _WHITESPACE_RUN.sub(" ", subject_template.substitute(values)).strip()
    escaped = {name: html.escape(value) for name, value in values.items()}
    content = _template(f"{kind.value}.html").substitute(escaped)
    page = _template("_layout.html").substitute(subject=html.escape(subject), content=content)
    return RenderedEmail(
        kind=kind, subject=subject, text=text_template.substitute(values), html=page
    )


def humanise_duration(seconds: int) -> str:
    """`86400` -> "24 hours", `3600` -> "1 hour", `90` -> "2 minutes" (rounded up)."""
    if seconds % 3600 == 0:
        hours = seconds // 3600
        return f"{hours} hour{'s' if hours != 1 else ''}"
    minutes = max(1, -(-seconds // 60))
    return f"{minutes} minute{'s' if minutes != 1 else ''}"
