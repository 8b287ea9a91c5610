"""The JSON error envelope of every endpoint: `{"error": code, "detail": sentence}`."""

from django.http import JsonResponse

from errors import PanelsError


def error_response(error: PanelsError | str, detail: str | None = None, *, status: int) -> JsonResponse:
    """Return the envelope for `error`, or for a code and its `detail` where no error class names it."""
    if isinstance(error, PanelsError):
        code, detail = error.code, error.detail
    elif detail is None:
        raise TypeError(f"the code {error!r} needs a detail")
    else:
        code = error
    return JsonResponse({"error": code, "detail": detail}, status=status)
