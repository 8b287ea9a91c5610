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
        parts = [self.content]
        for attachment in self.attachments:
            if attachment.kind != Attachment.Kind.IMAGE:
                parts.append(file_block(attachment))
            elif not model.supports_vision:
                parts.append(f"[An image, {attachment.name}, was attached here; {model.name} cannot see images.]")
        return "\n\n".join(part for part in parts if part)

    def message_for(self, model: AIModel) -> ChatMessage:
        images = self.images if model.supports_vision else ()
        return ChatMessage(
            "user",
            self.text_for(model),
            images=tuple(ImageInput(image.content_type, image.file_bytes()) for image in images),
        )

    def tokens_for(self, model: AIModel) -> int:
        """Return the estimated input tokens of this prompt for `model`, its files' text and images included."""
        return estimate_message_tokens([self.text_for(model)]) + self.image_tokens_for(model)

    def image_tokens_for(self, model: AIModel) -> int:
        return sum(image_tokens(model, image.width or 0, image.height or 0) for image in self.images)

    def attachment_tokens_for(self, model: AIModel) -> int:
        """Return the part of `tokens_for` that the files add (the reply's footer shows it)."""
        if not self.attachments:
            return 0
        return max(0, self.tokens_for(model) - estimate_message_tokens([self.content]))


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
    return sum(estimate_tokens(file_block(a)) for a in attachments if a.kind != Attachment.Kind.IMAGE)
