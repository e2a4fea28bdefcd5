"""The browser console: a few static files served at `/`, with a strict CSP."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

from fastapi import APIRouter
from fastapi.responses import FileResponse

from app.api.deps import SettingsDep
from app.config import Settings
from app.domain.errors import NotFound

router = APIRouter(include_in_schema=False)

CONSOLE_DIR = Path(__file__).resolve().parents[2] / "console"
ASSETS = {
    "console.js": "text/javascript; charset=utf-8",
    "api.js": "text/javascript; charset=utf-8",
    "dom.js": "text/javascript; charset=utf-8",
    "reframe.js": "text/javascript; charset=utf-8",
    "uploads.js": "text/javascript; charset=utf-8",
    "console.css": "text/css; charset=utf-8",
}


def _storage_origins(settings: Settings) -> str:
    """Where the browser PUTs uploads and plays results from (presigned S3 URLs)."""
    if settings.aws_endpoint_url:
        parts = urlsplit(settings.aws_endpoint_url)
        return f"{parts.scheme}://{parts.netloc}"
    region = settings.aws_region
    return (
        f"https://{settings.s3_bucket}.s3.{region}.amazonaws.com https://s3.{region}.amazonaws.com"
    )


def content_security_policy(settings: Settings) -> str:
    storage = _storage_origins(settings)
    return "; ".join(
        [
            "default-src 'self'",
            "script-src 'self'",
            "style-src 'self'",
            f"connect-src 'self' {storage}",
            # blob: lets the new-job page read the chosen file's duration before uploading it.
            f"media-src 'self' blob: {storage}",
            f"img-src 'self' data: {storage}",
            "frame-ancestors 'none'",
            "base-uri 'none'",
            "form-action 'self'",
        ]
    )


@router.get("/")
async def console(settings: SettingsDep) -> FileResponse:
    return FileResponse(
        CONSOLE_DIR / "index.html",
        media_type="text/html; charset=utf-8",
        headers={
            "Content-Security-Policy": content_security_policy(settings),
            "X-Content-Type-Options": "nosniff",
            "Referrer-Policy": "no-referrer",
        },
    )


@router.get("/console/{name}")
async def console_asset(name: str) -> FileResponse:
    if name not in ASSETS:  # an allow-list: no path ever reaches the filesystem
        raise NotFound("No such console file.")
    return FileResponse(
        CONSOLE_DIR / name,
        media_type=ASSETS[name],
        headers={"X-Content-Type-Options": "nosniff", "Cache-Control": "no-cache"},
    )
