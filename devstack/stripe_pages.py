"""The local Stripe stand-in's Checkout and billing-portal pages: plain HTML forms, no script."""

from __future__ import annotations

from html import escape

_STYLE = """
body { font-family: system-ui, sans-serif; background: #f6f9fc; color: #1a1f36; margin: 0; }
main { max-width: 26rem; margin: 3rem auto; padding: 2rem; background: #fff;
  border: 1px solid #e3e8ee; border-radius: .75rem; }
h1 { font-size: 1.4rem; margin: 0 0 .5rem; }
.badge { display: inline-block; background: #ffe8cc; color: #7a3e00; border-radius: .3rem;
  padding: .1rem .45rem; font-size: .85rem; font-weight: 600; }
p { line-height: 1.5; }
form { margin: 1rem 0; }
button { width: 100%; font: inherit; font-weight: 600; padding: .75rem; border: 0;
  border-radius: .4rem; background: #4b3fd1; color: #fff; cursor: pointer; }
button.secondary { background: #fff; color: #4b3fd1; border: 1px solid #4b3fd1; }
a { color: #4b3fd1; }
:focus-visible { outline: 3px solid #1a1f36; outline-offset: 2px; }
@media (max-width: 30rem) { main { margin: 0; border-radius: 0; border: 0; } }
"""


def _page(title: str, *body: str) -> str:
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(title)} - Stripe stand-in</title><style>{_STYLE}</style></head>"
        f'<body><main><p><span class="badge">Test mode: local Stripe stand-in</span></p>'
        f"{''.join(body)}</main></body></html>"
    )


def checkout_page(plan: str, email: str | None, cancel_url: str | None) -> str:
    who = f"<p>Billed to {escape(email)}.</p>" if email else ""
    back = f'<p><a href="{escape(cancel_url)}">Cancel and go back</a></p>' if cancel_url else ""
    return _page(
        "Checkout",
        f"<h1>Subscribe to {escape(plan.title())}</h1>",
        who,
        "<p>No card is charged: paying here sends the signed webhook Stripe would send.</p>",
        '<form method="post"><button type="submit">Pay and subscribe</button></form>',
        back,
    )


def portal_page(current: str | None, others: dict[str, str], return_url: str | None) -> str:
    back = f'<p><a href="{escape(return_url)}">Return to Reframer</a></p>' if return_url else ""
    if current is None:
        return _page(
            "Billing", "<h1>Your subscription</h1>", "<p>No active subscription.</p>", back
        )
    switches = "".join(
        f'<form method="post"><input type="hidden" name="price" value="{escape(price)}">'
        f'<button type="submit" class="secondary">Switch to {escape(name.title())}</button></form>'
        for price, name in others.items()
    )
    return _page(
        "Billing",
        "<h1>Your subscription</h1>",
        f"<p>Current plan: <strong>{escape(current.title())}</strong></p>",
        switches,
        '<form method="post"><input type="hidden" name="action" value="cancel">'
        '<button type="submit" class="secondary">Cancel subscription</button></form>',
        back,
    )


def done_page(title: str, message: str, link: str | None) -> str:
    back = f'<p><a href="{escape(link)}">Return to Reframer</a></p>' if link else ""
    return _page(title, f"<h1>{escape(title)}</h1>", f"<p>{escape(message)}</p>", back)
