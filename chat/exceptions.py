"""Errors of the chat app; each carries a stable code and a sentence a person can act on."""


class ChatError(Exception):
    """Base of every chat error; `code` is stable (it goes on the wire), `detail` is for people."""

    code = "chat_error"

    def __init__(self, detail: str):
        super().__init__(detail)
        self.detail = detail
