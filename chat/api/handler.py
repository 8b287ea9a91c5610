"""Serve /v1 with Django, without the middleware of the browser's pages.

Sessions, CSRF, messages, allauth and the page headers do nothing for a program that sends a key, and in an
ASGI server each of Django's middleware runs its hooks on the one thread that sync code shares: every API
request would queue there twice per middleware. This handler resolves /v1 against the API's URLs only
(panels/urls.py mounts the same URLs, for the test client and `reverse`).
"""

from django.core.handlers.asgi import ASGIHandler
from django.core.handlers.exception import convert_exception_to_response

API_URLCONF = "chat.api.v1_urls"


class ApiHandler(ASGIHandler):
    """Django's ASGI handler with no middleware and the API's URLs."""

    def load_middleware(self, is_async=False):
        self._view_middleware = []
        self._template_response_middleware = []
        self._exception_middleware = []
        get_response = self._get_response_async if is_async else self._get_response
        self._middleware_chain = convert_exception_to_response(get_response)

    def create_request(self, scope, body_file):
        request, error = super().create_request(scope, body_file)
        if request is not None:
            request.urlconf = API_URLCONF
        return request, error
