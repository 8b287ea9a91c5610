"""The one base of every error a person can be shown, and the errors every edge shares.

Each class has a `code` of its own, stable because it goes on the wire (websocket frames, the JSON API,
replies saved with an error), and each error carries a `detail`: a sentence for people. Apps subclass
PanelsError in their own exceptions.py; this package imports none of them.
"""


class PanelsError(Exception):
    """Base of every error a person can be shown; `code` is stable (it goes on the wire), `detail` is for people."""

    code = "panels_error"

    def __init__(self, detail: str):
        super().__init__(detail)
        self.detail = detail

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if "code" not in vars(cls):  # an inherited code would make two errors one to every program that reads it
            raise TypeError(f"{cls.__qualname__} must set a code of its own")


class InvalidRequest(PanelsError):
    """A request (a frame, a JSON body, a query) that is malformed or outside the limits; `detail` says why."""

    code = "invalid_request"
