"""A prompt as each model is sent it: the person's text, the text of the files attached, and the images.

PDFs and text files go in the prompt's text, each fenced under its name; images go as image parts to a model
with vision, and as a line saying one was attached to a model without (only earlier turns can hold one: a
new prompt with images is refused for such a model before anything is held).
"""

import re
from dataclasses import dataclass
from pathlib import PurePath

from catalog.models import AIModel
from chat.attachments.tokens import image_tokens
from chat.models import Attachment
from chat.providers.base import ChatMessage, ImageInput
from chat.tokens import estimate_message_tokens, estimate_tokens

SEPARATOR = "\n\n"  # between the prompt and each file's text
FENCE_LANGUAGES = {".md": "markdown", ".py": "python", ".js": "javascript", ".ts": "typescript", ".yml": "yaml"}


@dataclass(frozen=True)
class Prompt:
    """What a person sent in one turn: their words and the files attached."""

    content: str
    attachments: tuple[Attachment, ...] = ()

    @property
    def images(self) -> tuple[Attachment, ...]:
        return tuple(a for a in self.attachments if a.kind == Attachment.Kind.IMAGE)

    def text_for(self, model: AIModel) -> str:
        """Return the prompt's text for `model`: the person's words, then each file's text fenced under its name."""
        files = "".join(self._text_part(a, model) for a in self.attachments)
        return self.content + files if self.content else files.removeprefix(SEPARATOR)

    def message_for(self, model: AIModel) -> ChatMessage:
        images = self.images if model.supports_vision else ()
        return ChatMessage(
            "user",
            self.text_for(model),
            images=tuple(ImageInput(image.content_type, image.file_bytes()) for image in images),
        )

    def tokens_for(self, model: AIModel) -> int:
        """Return the estimated input tokens of this prompt for `model`, its files' text and images included."""
        return estimate_message_tokens([self.content]) + self.attachment_tokens_for(model)

    def attachment_tokens_for(self, model: AIModel) -> int:
        """Return what the files add to the prompt for `model`: each image's tokens and each file's text.

        Estimated file by file and added up, which never counts less than estimating the whole text at once,
        so the composer can show each file's share and the hold is their sum.
        """
        return sum(
            image_tokens(model, a.width or 0, a.height or 0)
            if a.kind == Attachment.Kind.IMAGE and model.supports_vision
            else estimate_tokens(self._text_part(a, model))
            for a in self.attachments
        )

    @staticmethod
    def _text_part(attachment: Attachment, model: AIModel) -> str:
        """Return what a file adds to the prompt's text for `model` (nothing for an image it sees)."""
        if attachment.kind != Attachment.Kind.IMAGE:
            return SEPARATOR + file_block(attachment)
        if model.supports_vision:
            return ""
        return f"{SEPARATOR}[An image, {attachment.name}, was attached here; {model.name} cannot see images.]"


def as_prompt(prompt: "Prompt | str") -> Prompt:
    """Return `prompt` as a Prompt (a plain string is a prompt with no files)."""
    return prompt if isinstance(prompt, Prompt) else Prompt(prompt)


def file_block(attachment: Attachment) -> str:
    """Return a file's text fenced under its name, with a fence no line of the text can close."""
    longest = max((len(run) for run in re.findall(r"`{3,}", attachment.text)), default=2)
    fence = "`" * (longest + 1)
    language = FENCE_LANGUAGES.get(PurePath(attachment.name).suffix.lower(), PurePath(attachment.name).suffix[1:])
    pages = f", {attachment.pages} pages" if attachment.pages else ""
    return f"File: {attachment.name}{pages}\n{fence}{language.lower()}\n{attachment.text}\n{fence}"


def files_text_tokens(attachments: tuple[Attachment, ...]) -> int:
    """Return the estimated tokens of the files' text alone (what Auto counts before it knows the model)."""
    return sum(estimate_tokens(SEPARATOR + file_block(a)) for a in attachments if a.kind != Attachment.Kind.IMAGE)
