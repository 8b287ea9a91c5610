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
