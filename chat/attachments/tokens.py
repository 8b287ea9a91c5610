"""What attached files cost in input tokens, per model, by each provider's documented formula.

Images: over the Chat Completions format (OpenAI), an image at high detail is scaled to fit 2048 x 2048, then
so its short side is at most 768; it costs the model's base tokens plus its tile tokens per 512-px tile
(`AIModel.image_base_tokens`, `image_tile_tokens`). Over Anthropic's Messages format, an image whose long edge
is over 1568 px is scaled to it, and costs width x height / 750 tokens. Text read from files is estimated like
any prompt text (chat/tokens.py). These estimates size holds; the charge is the provider's own count.
"""

import math

from catalog.models import AIModel
from chat.models import Attachment
from chat.tokens import estimate_tokens

OPENAI_FIT = 2048
OPENAI_SHORT_SIDE = 768
OPENAI_TILE = 512
ANTHROPIC_LONG_EDGE = 1568
ANTHROPIC_PIXELS_PER_TOKEN = 750


def image_tokens(model: AIModel, width: int, height: int) -> int:
    """Return the input tokens `model` counts for a `width` x `height` image (0 for a model with no vision)."""
    if not model.supports_vision:
        return 0
    if model.provider.wire_format == "anthropic":
        return anthropic_image_tokens(width, height)
    return openai_image_tokens(width, height, base=model.image_base_tokens, per_tile=model.image_tile_tokens)


def openai_image_tokens(width: int, height: int, *, base: int, per_tile: int) -> int:
    """Return the tokens of an image at high detail over the Chat Completions format."""
    scale = min(1, OPENAI_FIT / max(width, height))
    width, height = width * scale, height * scale
    scale = min(1, OPENAI_SHORT_SIDE / min(width, height))
    width, height = math.floor(width * scale), math.floor(height * scale)
    return base + per_tile * math.ceil(width / OPENAI_TILE) * math.ceil(height / OPENAI_TILE)


def anthropic_image_tokens(width: int, height: int) -> int:
    """Return the tokens of an image over Anthropic's Messages format."""
    scale = min(1, ANTHROPIC_LONG_EDGE / max(width, height))
    width, height = math.floor(width * scale), math.floor(height * scale)
    return math.ceil(width * height / ANTHROPIC_PIXELS_PER_TOKEN)


def attachment_tokens(model: AIModel, attachment: Attachment) -> int:
    """Return the input tokens `attachment` adds to a prompt for `model`: an image's, or its text's estimate."""
    if attachment.kind == Attachment.Kind.IMAGE:
        return image_tokens(model, attachment.width or 0, attachment.height or 0)
    return estimate_tokens(attachment.text)
