"""A small Stripe on a loopback port: the API the service calls, and the pages a customer sees.

`make run` starts it when no real Stripe key is configured, so billing works end to end
locally: "Upgrade" opens its Checkout page, "Pay" completes the session and posts the signed
`checkout.session.completed` webhook to the app (which then reads the subscription back from
here), and its billing-portal page switches plans or cancels with the matching signed
`customer.subscription.*` events. Production talks to Stripe itself; nothing here runs there.

The API answers the calls the service makes (customers, checkout sessions, billing-portal sessions,
subscriptions) with Stripe's object shapes, checks the secret key, parses Stripe's bracketed
form encoding, and honours idempotency keys as Stripe does (same key and parameters: the same
answer; same key, other parameters: a 400). The test plays the customer's side with
`complete_checkout`, `update_subscription` and `cancel_subscription`, and turns the resulting
objects into events with `event`. Its clock (`now`) moves only when a test advances it, so
event order is the test's to choose; with `live_clock` (the local run) it follows real time,
and each customer action moves it at least a second, so Stripe's event order is never a tie.
"""

from __future__ import annotations

import copy
import hashlib
import hmac
import json
import logging
import re
import secrets
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from devstack.stripe_pages import checkout_page, done_page, portal_page

logger = logging.getLogger("local.stripe")

API_VERSION = "2026-10-28.endive"
PERIOD_SECONDS = 30 * 24 * 3600


class StripeApiError(Exception):
    def __init__(self, status: int, kind: str, message: str, code: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.body = {"error": {"type": kind, "message": message, "code": code}}


@dataclass(frozen=True)
class RecordedRequest:
    method: str
    path: str
    params: dict[str, Any]
    idempotency_key: str | None


def stripe_signature(payload: bytes, secret: str, timestamp: int | None = None) -> str:
    """`Stripe-Signature: t=<unix time>,v1=<hex HMAC-SHA256 of "<t>.<raw body>">`, written out
    from https://docs.stripe.com/webhooks#verify-manually rather than borrowed from the library,
    so the app's verification is checked against the spec."""
    signed_at = int(time.time()) if timestamp is None else timestamp
    mac = hmac.new(secret.encode(), f"{signed_at}.".encode() + payload, hashlib.sha256)
    return f"t={signed_at},v1={mac.hexdigest()}"


def _new_id(prefix: str) -> str:
    return f"{prefix}_{secrets.token_hex(12)}"


def _unflatten(pairs: list[tuple[str, str]]) -> dict[str, Any]:
    """`line_items[0][price]=p` -> {"line_items": [{"price": "p"}]} (Stripe's form encoding)."""
    root: dict[str, Any] = {}
    for key, value in pairs:
        parts = re.findall(r"[^\[\]]+", key)
        node = root
        for part in parts[:-1]:
            node = node.setdefault(part, {})
        node[parts[-1]] = value

    def listify(node: Any) -> Any:
        if isinstance(node, dict):
            converted = {k: listify(v) for k, v in node.items()}
            if converted and all(k.isdigit() for k in converted):
                return [converted[k] for k in sorted(converted, key=int)]
            return converted
        return node

    result: dict[str, Any] = listify(root)
    return result


@dataclass
class StripeStandIn:
    secret_key: str
    prices: frozenset[str]
    now: int = field(default_factory=lambda: int(time.time()))
    customers: dict[str, dict[str, Any]] = field(default_factory=dict)
    checkout_sessions: dict[str, dict[str, Any]] = field(default_factory=dict)
    portal_sessions: dict[str, dict[str, Any]] = field(default_factory=dict)
    subscriptions: dict[str, dict[str, Any]] = field(default_factory=dict)
    requests: list[RecordedRequest] = field(default_factory=list)
    # When set, every API call answers with this HTTP status (Stripe having a bad day).
    failure_status: int | None = None
    # The local run: where the pages' actions post their signed events, and the plan names
    # the pages show for the prices.
    webhook_url: str | None = None
    webhook_secret: str | None = None
    price_names: dict[str, str] = field(default_factory=dict)
    live_clock: bool = False
    events_sent: list[dict[str, Any]] = field(default_factory=list)
    _idempotent: dict[str, tuple[str, dict[str, Any], int, dict[str, Any]]] = field(
        default_factory=dict
    )
    _checkout_prices: dict[str, str] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _server: ThreadingHTTPServer | None = None
    _thread: threading.Thread | None = None

    # --- lifecycle -----------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        assert self._server is not None, "start() the stand-in first"
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self, port: int = 0) -> None:
        standin = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                return  # quiet: the test reads `requests` instead

            def do_GET(self) -> None:
                standin._handle(self, "GET")

            def do_POST(self) -> None:
                standin._handle(self, "POST")

        self._server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def advance(self, seconds: int) -> int:
        self.now += seconds
        return self.now

    # --- HTTP ----------------------------------------------------------------------------

    def _handle(self, handler: BaseHTTPRequestHandler, method: str) -> None:
        url = urlsplit(handler.path)
        length = int(handler.headers.get("Content-Length") or 0)
        raw = handler.rfile.read(length).decode() if length else url.query
        params = _unflatten(parse_qsl(raw, keep_blank_values=True))
        if not url.path.startswith("/v1/"):
            self._handle_page(handler, method, url.path, params)
            return
        key = handler.headers.get("Idempotency-Key")
        with self._lock:
            self._tick(0)
            self.requests.append(RecordedRequest(method, url.path, params, key))
            try:
                status, body = self._respond(handler, method, url.path, params, key)
            except StripeApiError as exc:
                status, body = exc.status, exc.body
        payload = json.dumps(body).encode()
        handler.send_response(status)
        handler.send_header("Content-Type", "application/json")
        handler.send_header("Content-Length", str(len(payload)))
        handler.send_header("Request-Id", _new_id("req"))
        handler.end_headers()
        handler.wfile.write(payload)

    def _respond(
        self,
        handler: BaseHTTPRequestHandler,
        method: str,
        path: str,
        params: dict[str, Any],
        key: str | None,
    ) -> tuple[int, dict[str, Any]]:
        if handler.headers.get("Authorization") != f"Bearer {self.secret_key}":
            raise StripeApiError(401, "invalid_request_error", "Invalid API Key provided")
        if self.failure_status is not None:
            raise StripeApiError(self.failure_status, "api_error", "Something went wrong")
        if method == "POST" and key is not None and key in self._idempotent:
            seen_path, seen_params, status, body = self._idempotent[key]
            if (seen_path, seen_params) != (path, params):
                raise StripeApiError(
                    400,
                    "idempotency_error",
                    "Keys for idempotent requests can only be used with the same parameters",
                )
            return status, copy.deepcopy(body)
        status, body = 200, self._route(method, path, params)
        if method == "POST" and key is not None:
            self._idempotent[key] = (path, params, status, copy.deepcopy(body))
        return status, body

    def _route(self, method: str, path: str, params: dict[str, Any]) -> dict[str, Any]:
        if method == "POST" and path == "/v1/customers":
            return self._create_customer(params)
        if method == "POST" and path == "/v1/checkout/sessions":
            return self._create_checkout_session(params)
        if method == "POST" and path == "/v1/billing_portal/sessions":
            return self._create_portal_session(params)
        found = re.fullmatch(r"/v1/subscriptions/([^/]+)", path)
        if method == "GET" and found:
            subscription = self.subscriptions.get(found.group(1))
            if subscription is None:
                raise StripeApiError(
                    404,
                    "invalid_request_error",
                    f"No such subscription: '{found.group(1)}'",
                    "resource_missing",
                )
            return copy.deepcopy(subscription)
        raise StripeApiError(404, "invalid_request_error", f"Unrecognized request URL ({path})")

    def _customer(self, customer_id: Any) -> dict[str, Any]:
        if customer_id not in self.customers:
            raise StripeApiError(
                400,
                "invalid_request_error",
                f"No such customer: '{customer_id}'",
                "resource_missing",
            )
        return self.customers[customer_id]

    def _create_customer(self, params: dict[str, Any]) -> dict[str, Any]:
        customer = {
            "id": _new_id("cus"),
            "object": "customer",
            "created": self.now,
            "email": params.get("email"),
            "metadata": params.get("metadata", {}),
            "livemode": False,
        }
        self.customers[customer["id"]] = customer
        return copy.deepcopy(customer)

    def _create_checkout_session(self, params: dict[str, Any]) -> dict[str, Any]:
        if params.get("mode") != "subscription":
            raise StripeApiError(400, "invalid_request_error", "This test supports subscriptions")
        for required in ("success_url", "line_items"):
            if not params.get(required):
                raise StripeApiError(400, "invalid_request_error", f"Missing {required}")
        self._customer(params.get("customer"))
        items = params["line_items"]
        if len(items) != 1 or items[0].get("price") not in self.prices:
            raise StripeApiError(
                400, "invalid_request_error", f"No such price: {items!r}", "resource_missing"
            )
        session_id = _new_id("cs_test")
        session = {
            "id": session_id,
            "object": "checkout.session",
            "mode": "subscription",
            "status": "open",
            "payment_status": "unpaid",
            "customer": params["customer"],
            "client_reference_id": params.get("client_reference_id"),
            "metadata": params.get("metadata", {}),
            "subscription": None,
            "success_url": params["success_url"],
            "cancel_url": params.get("cancel_url"),
            "url": f"{self.base_url}/c/pay/{session_id}",
            "created": self.now,
            "livemode": False,
        }
        self.checkout_sessions[session_id] = session
        self._checkout_prices[session_id] = items[0]["price"]
        # Private to the stand-in: what the subscription will carry when checkout completes.
        session["_subscription_metadata"] = params.get("subscription_data", {}).get("metadata", {})
        return self.public(session)

    def _create_portal_session(self, params: dict[str, Any]) -> dict[str, Any]:
        self._customer(params.get("customer"))
        portal_id = _new_id("bps")
        portal = {
            "id": portal_id,
            "object": "billing_portal.session",
            "customer": params["customer"],
            "return_url": params.get("return_url"),
            "url": f"{self.base_url}/p/session/{portal_id}",
            "created": self.now,
            "livemode": False,
        }
        self.portal_sessions[portal_id] = portal
        return copy.deepcopy(portal)

    # --- the customer's side -------------------------------------------------------------

    def public(self, obj: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in copy.deepcopy(obj).items() if not k.startswith("_")}

    def complete_checkout(
        self, session_id: str, *, status: str = "active"
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        """The customer pays on the checkout page: a subscription starts, the session completes."""
        with self._lock:
            session = self.checkout_sessions[session_id]
            subscription_id = _new_id("sub")
            price = self._checkout_prices[session_id]
            self.subscriptions[subscription_id] = {
                "id": subscription_id,
                "object": "subscription",
                "customer": session["customer"],
                "status": status,
                "created": self.now,
                "start_date": self.now,
                "cancel_at_period_end": False,
                "cancel_at": None,
                "canceled_at": None,
                "ended_at": None,
                "metadata": session["_subscription_metadata"],
                "livemode": False,
                "items": {
                    "object": "list",
                    "data": [
                        {
                            "id": _new_id("si"),
                            "object": "subscription_item",
                            "price": {"id": price, "object": "price"},
                            "quantity": 1,
                            "current_period_start": self.now,
                            "current_period_end": self.now + PERIOD_SECONDS,
                        }
                    ],
                },
            }
            session.update(status="complete", payment_status="paid", subscription=subscription_id)
            return self.public(session), copy.deepcopy(self.subscriptions[subscription_id])

    def update_subscription(self, subscription_id: str, **changes: Any) -> dict[str, Any]:
        """Changes a subscription as the dashboard or portal would; `price` swaps the plan."""
        with self._lock:
            subscription = self.subscriptions[subscription_id]
            price = changes.pop("price", None)
            if price is not None:
                subscription["items"]["data"][0]["price"] = {"id": price, "object": "price"}
            subscription.update(changes)
            return copy.deepcopy(subscription)

    def renew_subscription(self, subscription_id: str) -> dict[str, Any]:
        """A new billing period starts now."""
        with self._lock:
            item = self.subscriptions[subscription_id]["items"]["data"][0]
            item.update(current_period_start=self.now, current_period_end=self.now + PERIOD_SECONDS)
            return copy.deepcopy(self.subscriptions[subscription_id])

    def cancel_subscription(
        self, subscription_id: str, *, at_period_end: bool = False
    ) -> dict[str, Any]:
        if at_period_end:
            return self.update_subscription(
                subscription_id, cancel_at_period_end=True, canceled_at=self.now
            )
        return self.update_subscription(
            subscription_id, status="canceled", canceled_at=self.now, ended_at=self.now
        )

    def invoice(self, subscription_id: str, *, paid: bool) -> dict[str, Any]:
        """An invoice of the subscription, shaped as in the current API (parent details)."""
        subscription = self.subscriptions[subscription_id]
        return {
            "id": _new_id("in"),
            "object": "invoice",
            "customer": subscription["customer"],
            "status": "paid" if paid else "open",
            "attempt_count": 1,
            "parent": {
                "type": "subscription_details",
                "subscription_details": {"subscription": subscription_id, "metadata": {}},
            },
            "created": self.now,
            "livemode": False,
        }

    def event(self, event_type: str, obj: dict[str, Any]) -> dict[str, Any]:
        return {
            "id": _new_id("evt"),
            "object": "event",
            "api_version": API_VERSION,
            "created": self.now,
            "type": event_type,
            "data": {"object": copy.deepcopy(obj)},
            "livemode": False,
            "pending_webhooks": 1,
            "request": {"id": None, "idempotency_key": None},
        }

    def calls(self, path: str) -> list[RecordedRequest]:
        return [r for r in self.requests if r.path == path]

    # --- the pages (the local run) -------------------------------------------------------

    def _tick(self, at_least: int) -> None:
        if self.live_clock:
            self.now = max(self.now + at_least, int(time.time()))

    def _handle_page(
        self, handler: BaseHTTPRequestHandler, method: str, path: str, params: dict[str, Any]
    ) -> None:
        status, location, html = 404, None, done_page("Not found", "There is no such page.", None)
        pay = re.fullmatch(r"/c/pay/([^/]+)", path)
        portal = re.fullmatch(r"/p/session/([^/]+)", path)
        if pay and pay.group(1) in self.checkout_sessions:
            status, location, html = self._checkout_page(method, pay.group(1), params)
        elif portal and portal.group(1) in self.portal_sessions:
            status, location, html = self._portal_page(method, portal.group(1), params)
        body = html.encode()
        handler.send_response(status)
        if location is not None:
            handler.send_header("Location", location)
        handler.send_header("Content-Type", "text/html; charset=utf-8")
        handler.send_header("Content-Length", str(len(body)))
        handler.send_header("Cache-Control", "no-store")
        handler.end_headers()
        handler.wfile.write(body)

    def _plan_name(self, price: str) -> str:
        return self.price_names.get(price, price)

    def _checkout_page(
        self, method: str, session_id: str, params: dict[str, Any]
    ) -> tuple[int, str | None, str]:
        session = self.checkout_sessions[session_id]
        customer = self.customers.get(session["customer"], {})
        plan = self._plan_name(self._checkout_prices[session_id])
        if method == "POST" and session["status"] == "open":
            with self._lock:
                self._tick(1)
            completed, _ = self.complete_checkout(session_id)
            self.send_event("checkout.session.completed", completed)
            return 303, session["success_url"], ""
        if session["status"] != "open":
            return (
                200,
                None,
                done_page("Already paid", "This checkout is complete.", session["success_url"]),
            )
        return 200, None, checkout_page(plan, customer.get("email"), session.get("cancel_url"))

    def _portal_page(
        self, method: str, portal_id: str, params: dict[str, Any]
    ) -> tuple[int, str | None, str]:
        portal = self.portal_sessions[portal_id]
        mine = [s for s in self.subscriptions.values() if s["customer"] == portal["customer"]]
        live = [s for s in mine if s["status"] != "canceled"]
        subscription = live[-1] if live else None
        if method == "POST" and subscription is not None:
            with self._lock:
                self._tick(1)
            if params.get("action") == "cancel":
                changed = self.cancel_subscription(subscription["id"])
                self.send_event("customer.subscription.deleted", changed)
            elif params.get("price") in self.prices:
                changed = self.update_subscription(subscription["id"], price=params["price"])
                self.send_event("customer.subscription.updated", changed)
            return 303, f"/p/session/{portal_id}", ""
        current = None
        if subscription is not None:
            current = self._plan_name(subscription["items"]["data"][0]["price"]["id"])
        others = {
            price: self._plan_name(price)
            for price in sorted(self.prices, key=self._plan_name)
            if current is not None and self._plan_name(price) != current
        }
        return 200, None, portal_page(current, others, portal.get("return_url"))

    def send_event(self, event_type: str, obj: dict[str, Any]) -> None:
        """Posts the event to the app's webhook endpoint, signed as Stripe signs it."""
        event = self.event(event_type, obj)
        self.events_sent.append(event)
        if self.webhook_url is None or self.webhook_secret is None:
            return
        payload = json.dumps(event).encode()
        request = urllib.request.Request(  # noqa: S310 - the configured loopback app
            self.webhook_url,
            data=payload,
            method="POST",
            headers={
                "Content-Type": "application/json",
                "Stripe-Signature": stripe_signature(payload, self.webhook_secret),
            },
        )
        try:
            with urllib.request.urlopen(request, timeout=30) as answer:  # noqa: S310
                logger.info("sent %s: %s", event_type, answer.read().decode())
        except (urllib.error.URLError, OSError) as exc:
            # Stripe would retry; the local run says why the plan did not change.
            logger.warning("could not deliver %s to %s: %s", event_type, self.webhook_url, exc)
