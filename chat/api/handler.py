"""Serve /v1 with Django, without the middleware of the browser's pages.

Sessions, CSRF, messages, allauth and the page headers do nothing for a program that sends a key, and in an
ASGI server each of Django's middleware runs its hooks on the one thread that sync code shares: every API
request would queue there twice per middleware. This handler resolves /v1 against the API's URLs only
(panels/urls.py mounts the same URLs, for the test client and `reverse`).

Of what the middleware did, one thing matters to a program: where the site requires HTTPS
(`SECURE_SSL_REDIRECT`), a request over plain HTTP is refused here rather than redirected, since a program
that followed the redirect would already have sent its key in the clear (OpenAI refuses such requests too).
"""

from django.conf import settings
from django.core.handlers.asgi import ASGIHandler
from django.core.handlers.exception import convert_exception_to_response

from chat.api.responses import error_response
from errors import InvalidRequest

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

    async def get_response_async(self, request):
        if settings.SECURE_SSL_REDIRECT and not request.is_secure():
            refusal = InvalidRequest("This API is served over HTTPS only; use https:// in the base URL.")
            response = error_response(refusal)
            response.status_code = 403
            return response
        return await super().get_response_async(request)
