"""A Content-Security-Policy on every response: model output must never run code, on any page.

Markdown from models is sanitized before it reaches the page; this policy is the second wall. Scripts load
only from this site, plus the one inline import map that carries the request's nonce. Styles, images, fonts
and connections (the chat websocket included: CSP's 'self' covers ws:// and wss:// on the same host) stay
on this site as well. The admin and the account pages run under the same policy: neither has an inline
script or style.
"""

import secrets
from urllib.parse import urlsplit

from django.conf import settings

STRIPE_API = "https://api.stripe.com"
STRIPE_CHECKOUT = "https://checkout.stripe.com"
POLICY = (
    "default-src 'self'; script-src 'self' 'nonce-{nonce}'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self' {checkout}; "
    "frame-ancestors 'none'"
)


def checkout_origin() -> str:
    """Return the origin of Stripe Checkout's pages, where the top-up form's redirect goes.

    form-action governs where a form's redirects may lead as well. A local stand-in for Stripe
    (STRIPE_API_BASE) serves its own Checkout pages.
    """
    if settings.STRIPE_API_BASE.rstrip("/") == STRIPE_API:
        return STRIPE_CHECKOUT
    parts = urlsplit(settings.STRIPE_API_BASE)
    return f"{parts.scheme}://{parts.netloc}"


class ContentSecurityPolicyMiddleware:
    """Give each request a fresh `csp_nonce` for its inline import map and send the policy with its response."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.csp_nonce = secrets.token_urlsafe(16)
        response = self.get_response(request)
        policy = POLICY.format(nonce=request.csp_nonce, checkout=checkout_origin())
        response.headers.setdefault("Content-Security-Policy", policy)
        return response
