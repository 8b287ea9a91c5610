"""A Content-Security-Policy for the pages that run our scripts: model output there must never run code.

Markdown from models is sanitized before it reaches the page; this policy is the second wall. Scripts load
only from this site, plus the one inline import map that carries the request's nonce. Styles, images, fonts
and connections (the chat websocket included: CSP's 'self' covers ws:// and wss:// on the same host) stay
on this site as well.
"""

import secrets
from functools import wraps

POLICY = (
    "default-src 'self'; script-src 'self' 'nonce-{nonce}'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; "
    "frame-ancestors 'none'"
)


def content_security_policy(view):
    """Give the request a fresh `csp_nonce` for its inline import map and send the policy with the response."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        request.csp_nonce = secrets.token_urlsafe(16)
        response = view(request, *args, **kwargs)
        response.headers.setdefault("Content-Security-Policy", POLICY.format(nonce=request.csp_nonce))
        return response

    return wrapper
