"""The pages the emailed links open: a button or a form that calls the JSON API.

Opening a page never uses the token (mail scanners follow links); only the person's click
POSTs it. The SPA can take these paths over later; the links stay the same.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import FileResponse, HTMLResponse

from app.domain.errors import NotFound

router = APIRouter(tags=["pages"], include_in_schema=False)

PAGES_DIR = Path(__file__).resolve().parents[1] / "pages"
PAGE_HEADERS = {
    "Cache-Control": "no-store",
    # The token sits in the page's URL: never hand it to another site.
    "Referrer-Policy": "no-referrer",
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'self'; style-src 'unsafe-inline'; "
        "connect-src 'self'; form-action 'none'; frame-ancestors 'none'; base-uri 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
}
# The pages' scripts (ES modules); link_token.js reads the emailed token for both pages.
SCRIPTS = frozenset({"link_token.js", "verify_email.js", "reset_password.js"})


@lru_cache(maxsize=4)
def _page(name: str) -> str:
    return (PAGES_DIR / name).read_text(encoding="utf-8")


@router.get("/verify-email", response_class=HTMLResponse)
async def verify_email_page() -> HTMLResponse:
    return HTMLResponse(_page("verify_email.html"), headers=PAGE_HEADERS)


@router.get("/reset-password", response_class=HTMLResponse)
async def reset_password_page() -> HTMLResponse:
    return HTMLResponse(_page("reset_password.html"), headers=PAGE_HEADERS)


@router.get("/pages/{name}")
async def page_script(name: str) -> FileResponse:
    if name not in SCRIPTS:  # an allow-list: no path ever reaches the filesystem
        raise NotFound("No such page file.")
    return FileResponse(
        PAGES_DIR / name,
        media_type="text/javascript; charset=utf-8",
        headers={"X-Content-Type-Options": "nosniff", "Cache-Control": "no-cache"},
    )
