"""A local stand-in for the few Stripe endpoints Panels uses, for tests and for trying top-ups without Stripe.

It is not Stripe and does not pretend to be more than this:
- `POST /v1/checkout/sessions` (form-encoded, as the SDK sends it), `GET /v1/checkout/sessions/<id>` and
  `GET /v1/checkout/sessions?payment_intent=<id>`, with sessions kept in memory;
- the `Authorization: Bearer sk_...` header checked, `Idempotency-Key` honoured (same key and parameters:
  the same answer; same key, other parameters: an `idempotency_error`), errors in Stripe's JSON shape;
- a "pay" page at `/pay/<id>` whose "Pay (test)" button marks the session paid, sends the signed
  `checkout.session.completed` webhook to `webhook_url`, and returns the person to the `success_url`.

Tests run it in a thread (`StripeStandin().start()`) and use `complete()` and `signed_event()`; a person
runs it with `manage.py stripe_standin` and points `STRIPE_API_BASE` at it.
"""

import base64
import contextlib
import hmac
import json
import logging
import re
import secrets
import threading
import time
import urllib.error
import urllib.request
from copy import deepcopy
from dataclasses import dataclass
from hashlib import sha256
from html import escape
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlsplit

logger = logging.getLogger(__name__)

API_VERSION = "2026-10-28.endive"  # the version stripe-python 16.1.0 sends
MINIMUM_CHARGE_CENTS = 50  # Stripe's minimum for USD
_SUBSCRIPT = re.compile(r"\[([^\]]*)\]")


@dataclass(frozen=True)
class ReceivedRequest:
    """One API request as the stand-in saw it, for tests to inspect."""

    method: str
    path: str
    params: dict
    headers: dict


def decode_form(body: str) -> dict:
    """Decode Stripe's form encoding (`line_items[0][price_data][currency]=usd`) into nested dicts and lists."""
    root: dict = {}
    for key, value in parse_qsl(body, keep_blank_values=True):
        head, bracket, rest = key.partition("[")
        parts = [head, *_SUBSCRIPT.findall(bracket + rest)]
        node = root
        for part in parts[:-1]:
            node = node.setdefault(part, {})
        node[parts[-1]] = value
    return _as_lists(root)


def _as_lists(node):
    """Turn dicts keyed "0", "1", ... into lists, recursively."""
    if not isinstance(node, dict):
        return node
    node = {key: _as_lists(value) for key, value in node.items()}
    if node and all(key.isdigit() for key in node):
        return [node[key] for key in sorted(node, key=int)]
    return node


def signature_header(payload: bytes, *, secret: str, timestamp: int | None = None) -> str:
    """Return a `Stripe-Signature` header for a body: `t=<time>,v1=<HMAC-SHA256(secret, "<time>.<body>")>`."""
    timestamp = int(time.time()) if timestamp is None else timestamp
    signed = f"{timestamp}.".encode() + payload
    return f"t={timestamp},v1={hmac.new(secret.encode(), signed, sha256).hexdigest()}"


def signed_event(
    type: str,
    data_object: dict,
    *,
    secret: str,
    timestamp: int | None = None,
    event_id: str | None = None,
    livemode: bool = False,
) -> tuple[bytes, str]:
    """Build a Stripe event around `data_object` and sign it as Stripe does; return (body, signature header)."""
    timestamp = int(time.time()) if timestamp is None else timestamp
    event = {
        "id": event_id or f"evt_{secrets.token_hex(12)}",
        "object": "event",
        "api_version": API_VERSION,
        "created": timestamp,
        "data": {"object": data_object},
        "livemode": livemode,
        "pending_webhooks": 1,
        "request": {"id": None, "idempotency_key": None},
        "type": type,
    }
    payload = json.dumps(event).encode()
    return payload, signature_header(payload, secret=secret, timestamp=timestamp)


class StandinError(Exception):
    """An API request the stand-in answers with a Stripe-shaped error."""

    def __init__(self, status: int, message: str, *, type: str = "invalid_request_error", **fields):
        super().__init__(message)
        self.status = status
        self.body = {"error": {"type": type, "message": message, **fields}}


class StripeStandin:
    """A Stripe API stand-in on 127.0.0.1 (port 0: a free one), holding its sessions in memory."""

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        api_key: str | None = None,
        webhook_url: str | None = None,
        webhook_secret: str | None = None,
    ):
        self.api_key = api_key  # None: any sk_... key is accepted
        self.webhook_url = webhook_url
        self.webhook_secret = webhook_secret
        self.sessions: dict[str, dict] = {}
        self.received: list[ReceivedRequest] = []
        self._products: dict[str, str] = {}  # session id -> what the pay page shows
        self._idempotent: dict[tuple[str, str], tuple[dict, int, dict]] = {}
        self._lock = threading.RLock()
        self._server = ThreadingHTTPServer((host, port), _Handler)
        self._server.daemon_threads = True
        self._server.standin = self
        self._thread: threading.Thread | None = None
        self.url = f"http://{host}:{self._server.server_address[1]}"

    # --- Running ---

    def start(self) -> "StripeStandin":
        """Serve in a background thread; return self."""
        self._thread = threading.Thread(target=self._server.serve_forever, name="stripe-standin", daemon=True)
        self._thread.start()
        return self

    def serve_forever(self) -> None:
        """Serve in this thread until interrupted."""
        self._server.serve_forever()

    def stop(self) -> None:
        """Stop serving and free the port."""
        if self._thread is not None:
            self._server.shutdown()
            self._thread.join()
        self._server.server_close()

    def reset(self) -> None:
        """Forget every session and request (between tests)."""
        with self._lock:
            self.sessions.clear()
            self.received.clear()
            self._products.clear()
            self._idempotent.clear()

    # --- What a payment does (test helpers) ---

    def complete(self, session_id: str, *, paid: bool = True) -> dict:
        """Complete a session as Checkout does: paid, or (`paid=False`) awaiting a delayed payment method.

        Calling it again with `paid=True` is the delayed payment succeeding. Return the session object.
        """
        with self._lock:
            session = self.sessions[session_id]
            session["status"] = "complete"
            session["payment_status"] = "paid" if paid else "unpaid"
            session["payment_intent"] = session["payment_intent"] or f"pi_{secrets.token_hex(12)}"
            return deepcopy(session)

    def session(self, session_id: str) -> dict:
        """Return a copy of a session object."""
        with self._lock:
            return deepcopy(self.sessions[session_id])

    def product(self, session_id: str) -> str:
        """Return the name of what a session sells."""
        return self._products[session_id]

    def pay(self, session_id: str) -> str:
        """Do what the pay page's button does: mark it paid, send the webhook; return where to send the person."""
        session = self.complete(session_id)
        if self.webhook_url and self.webhook_secret:
            payload, header = signed_event("checkout.session.completed", session, secret=self.webhook_secret)
            request = urllib.request.Request(  # noqa: S310 (the webhook URL is the operator's setting)
                self.webhook_url,
                data=payload,
                headers={"Content-Type": "application/json", "Stripe-Signature": header},
                method="POST",
            )
            try:
                with urllib.request.urlopen(request, timeout=10) as answer:  # noqa: S310 (idem)
                    logger.info("Webhook for %s answered %s", session_id, answer.status)
            except (urllib.error.URLError, OSError) as error:
                logger.warning("Webhook for %s failed (%s); the success page credits it anyway.", session_id, error)
        return session["success_url"].replace("{CHECKOUT_SESSION_ID}", session_id)

    # --- The API ---

    def handle_api(self, method: str, path: str, query: str, body: str, headers: dict) -> tuple[int, dict, dict]:
        """Answer one API request: (status, JSON body, extra headers)."""
        params = decode_form(body if method == "POST" else query)
        with self._lock:  # one request at a time: it is a test tool
            self.received.append(ReceivedRequest(method, path, params, headers))
            try:
                api_key = self._authenticate(headers.get("authorization", ""))
                if method == "POST" and headers.get("idempotency-key"):
                    return self._idempotently((api_key, headers["idempotency-key"]), path, params)
                return HTTPStatus.OK, self._route(method, path, params, api_key), {}
            except StandinError as error:
                return error.status, error.body, {}

    def _authenticate(self, authorization: str) -> str:
        """Return the API key of a `Bearer sk_...` (the SDK) or `Basic` (curl -u sk_...:) header."""
        scheme, _, credentials = authorization.partition(" ")
        api_key = credentials if scheme == "Bearer" else ""
        if scheme == "Basic":
            with contextlib.suppress(ValueError):
                api_key = base64.b64decode(credentials).decode().partition(":")[0]
        if not api_key:
            raise StandinError(401, "You did not provide an API key.")
        if (self.api_key and api_key != self.api_key) or not api_key.startswith(("sk_", "rk_")):
            raise StandinError(401, f"Invalid API Key provided: {api_key[:8]}****")
        return api_key

    def _idempotently(self, key: tuple[str, str], path: str, params: dict) -> tuple[int, dict, dict]:
        """Answer a POST once per key; a retry gets the first answer (errors included), as Stripe does."""
        request = {"path": path, **params}
        if key in self._idempotent:
            first_request, status, answer = self._idempotent[key]
            if first_request != request:
                raise StandinError(
                    400,
                    "Keys for idempotent requests can only be used with the same parameters they were first used "
                    f"with. Try using a key other than '{key[1]}' if you meant to execute a different request.",
                    type="idempotency_error",
                )
            return status, answer, {"Idempotent-Replayed": "true"}
        try:
            status, answer = HTTPStatus.OK, self._route("POST", path, params, key[0])
        except StandinError as error:
            status, answer = error.status, error.body
        self._idempotent[key] = (request, status, answer)
        return status, answer, {}

    def _route(self, method: str, path: str, params: dict, api_key: str) -> dict:
        if path == "/v1/checkout/sessions" and method == "POST":
            return self._create_session(params, livemode=api_key.startswith(("sk_live_", "rk_live_")))
        if path == "/v1/checkout/sessions" and method == "GET":
            found = [
                deepcopy(session)
                for session in self.sessions.values()
                if not params.get("payment_intent") or session["payment_intent"] == params["payment_intent"]
            ]
            return {"object": "list", "data": found[: int(params.get("limit", 10))], "has_more": False, "url": path}
        match = re.fullmatch(r"/v1/checkout/sessions/([A-Za-z0-9_]+)", path)
        if match and method == "GET":
            if match[1] not in self.sessions:
                raise StandinError(
                    404, f"No such checkout.session: '{match[1]}'", code="resource_missing", param="session"
                )
            return self.session(match[1])
        raise StandinError(404, f"Unrecognized request URL ({method}: {path}).")

    def _create_session(self, params: dict, *, livemode: bool) -> dict:
        if params.get("mode") != "payment":
            raise StandinError(400, "The stand-in only supports mode=payment.", param="mode")
        if not params.get("success_url"):
            raise StandinError(400, "Missing required param: success_url.", param="success_url")
        items = params.get("line_items")
        if not isinstance(items, list) or not items:
            raise StandinError(400, "Missing required param: line_items.", param="line_items")
        total, currencies = 0, set()
        for index, item in enumerate(items):
            price = item.get("price_data") or {}
            try:
                total += int(price["unit_amount"]) * int(item.get("quantity", 1))
                currencies.add(price["currency"])
            except (KeyError, ValueError):
                raise StandinError(
                    400, "Each line item needs price_data with a currency and an integer unit_amount.",
                    param=f"line_items[{index}][price_data]",
                ) from None  # fmt: skip
        if len(currencies) != 1 or total < MINIMUM_CHARGE_CENTS:
            raise StandinError(400, "The Checkout Session's total amount due must add up to at least $0.50 usd.")
        session_id = f"cs_test_{secrets.token_hex(24)}"
        now = int(time.time())
        session = {
            "id": session_id,
            "object": "checkout.session",
            "mode": "payment",
            "status": "open",
            "payment_status": "unpaid",
            "url": f"{self.url}/pay/{session_id}",
            "client_reference_id": params.get("client_reference_id"),
            "metadata": params.get("metadata") or {},
            "amount_subtotal": total,
            "amount_total": total,
            "currency": currencies.pop(),
            "payment_intent": None,
            "success_url": params["success_url"],
            "cancel_url": params.get("cancel_url"),
            "livemode": livemode,
            "created": now,
            "expires_at": now + 24 * 3600,
        }
        self.sessions[session_id] = session
        self._products[session_id] = (items[0]["price_data"].get("product_data") or {}).get("name", "Payment")
        return deepcopy(session)


class _Handler(BaseHTTPRequestHandler):
    server_version = "StripeStandin/1"

    @property
    def standin(self) -> StripeStandin:
        return self.server.standin

    def log_message(self, format, *args):
        logger.debug("%s " + format, self.address_string(), *args)

    def do_GET(self):
        self._dispatch("GET")

    def do_POST(self):
        self._dispatch("POST")

    def _dispatch(self, method: str) -> None:
        url = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length).decode() if length else ""
        if url.path.startswith("/v1/"):
            headers = {key.lower(): value for key, value in self.headers.items()}
            status, answer, extra = self.standin.handle_api(method, url.path, url.query, body, headers)
            self._send(status, json.dumps(answer).encode(), "application/json", {"Request-Id": "req_standin", **extra})
        elif (match := re.fullmatch(r"/pay/([A-Za-z0-9_]+)", url.path)) and match[1] in self.standin.sessions:
            if method == "POST":
                self._send(303, b"", "text/plain", {"Location": self.standin.pay(match[1])})
            else:
                self._send(200, self._pay_page(match[1]).encode(), "text/html; charset=utf-8")
        else:
            self._send(404, b"Not found", "text/plain")

    def _pay_page(self, session_id: str) -> str:
        session = self.standin.session(session_id)
        amount = f"${session['amount_total'] / 100:,.2f}"
        if session["status"] != "open":
            action = f"<p>This session is {escape(session['status'])}.</p>"
        else:
            action = (
                f'<form method="post"><button type="submit">Pay {amount} (test)</button></form>'
                f'<p><a href="{escape(session["cancel_url"] or "/")}">Cancel and go back</a></p>'
            )
        return (
            "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>Stripe stand-in</title></head>"
            "<body style='font-family: system-ui; max-width: 30rem; margin: 3rem auto'>"
            "<p><strong>Stripe stand-in</strong>: a local test page; no real payment is made.</p>"
            f"<h1>{escape(self.standin.product(session_id))}</h1><p>{amount}</p>{action}</body></html>"
        )

    def _send(self, status: int, body: bytes, content_type: str, headers: dict | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)
