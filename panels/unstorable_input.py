"""Refuse a request whose query string or cookies carry a NUL character, before any view reads them.

PostgreSQL refuses NUL in text, so `?q=%00` would reach a query as a database error (a 500) wherever a
parameter is used in a lookup: search, the Checkout return page, the admin's search box, a session cookie.
No legitimate client sends one; one check here covers every page, Django's and ours.
"""

from django.http import HttpResponseBadRequest

from errors import InvalidRequest
from errors.responses import error_response

DETAIL = "The request's address or cookies contain a NUL character, which no field here can hold."


class RejectNulCharactersMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if _has_nul(request):
            if request.path.startswith("/api/"):
                return error_response(InvalidRequest(DETAIL), status=400)
            return HttpResponseBadRequest(DETAIL, content_type="text/plain; charset=utf-8")
        return self.get_response(request)


def _has_nul(request) -> bool:
    parts = [request.path, *request.COOKIES.values()]
    for key, values in request.GET.lists():
        parts += [key, *values]
    return any("\x00" in part for part in parts)
