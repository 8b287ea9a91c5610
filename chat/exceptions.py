"""Errors of the chat app; each carries a stable code and a sentence a person can act on."""

from errors import PanelsError


class ChatError(PanelsError):
    """Base of every chat error."""

    code = "chat_error"


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


class TooManyInFlight(ChatError):
    """The person already has as many turns streaming as allowed."""

    code = "too_many_in_flight"


class TooManyFrames(ChatError):
    """A socket sent more frames a second than it may; the frame was dropped."""

    code = "too_many_frames"


class ContextTooLong(ChatError):
    """The prompt does not fit the model's context window (the provider saying so is ConversationTooLong)."""

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


class Interrupted(ChatError):
    """The reply's server process died mid-reply; another process finished it with what had arrived."""

    code = "interrupted"


class ModelNotAllowed(ChatError):
    """The API key may not call this model (its owner limited the key to other models)."""

    code = "model_not_allowed"


class TooManyRequests(ChatError):
    """An API key sent more requests a minute, or has more calls in flight, than it may; wait and retry."""

    code = "too_many_requests"

    def __init__(self, detail: str, *, retry_after_seconds: int):
        super().__init__(detail)
        self.retry_after_seconds = retry_after_seconds


class AttachmentRefused(ChatError):
    """A file that cannot be attached: of a kind not taken, lying about its type, unreadable, or over a limit."""

    code = "attachment_refused"


class AttachmentTooLarge(AttachmentRefused):
    """A file, or a prompt's files together, over the size limits."""

    code = "attachment_too_large"


class CannotReadImages(ChatError):
    """A prompt with images for a model that has no vision; nothing was held."""

    code = "cannot_read_images"
