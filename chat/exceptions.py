"""Errors of the chat app; each carries a stable code and a sentence a person can act on."""


class ChatError(Exception):
    """Base of every chat error; `code` is stable (it goes on the wire), `detail` is for people."""

    code = "chat_error"

    def __init__(self, detail: str):
        super().__init__(detail)
        self.detail = detail


class UnknownModel(ChatError):
    """The slug names no model in the catalog, or one that is turned off."""

    code = "unknown_model"


class ModelUnavailable(ChatError):
    """The model exists but cannot be called now; `setting` names what an operator must set, if anything."""

    code = "model_unavailable"

    def __init__(self, detail: str, *, setting: str = ""):
        super().__init__(detail)
        self.setting = setting


class NotFound(ChatError):
    """No such conversation, turn or message for this person (also when it is someone else's)."""

    code = "not_found"


class InvalidRequest(ChatError):
    """A request that breaks a rule of the product (too many models, a duplicate slug, ...)."""

    code = "invalid_request"


class KeyNotConfirmed(InvalidRequest):
    """A change would send a provider's key somewhere new, and the admin did not type its setting's name again.

    A kind of invalid request (same code), raised by chat.providers.changes; the admin shows it on the form.
    """


class TooManyInFlight(ChatError):
    """The person already has as many turns streaming as allowed."""

    code = "rate_limited"


class ContextTooLong(ChatError):
    """The prompt alone, with the system prompt, does not fit the model's context window."""

    code = "context_too_long"


class Busy(ChatError):
    """The server process already streams as many replies as it may; try again in a few seconds."""

    code = "busy"

    def __init__(self, detail: str, *, retry_after_seconds: int):
        super().__init__(detail)
        self.retry_after_seconds = retry_after_seconds


class ServerFault(ChatError):
    """Something failed on the server that the person cannot fix; it was logged."""

    code = "server_error"


class StillStreaming(ChatError):
    """The conversation has replies still streaming (being paid for), so it cannot be deleted yet."""

    code = "conflict"
