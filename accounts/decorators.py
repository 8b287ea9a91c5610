"""Access rules for views."""

from functools import wraps

from errors.responses import error_response


def api_login_required(view):
    """Answer 401 JSON instead of redirecting to the login page, for scripts and the UI."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not request.user.is_authenticated:
            return error_response("not_authenticated", "Log in first.", status=401)
        return view(request, *args, **kwargs)

    return wrapper
