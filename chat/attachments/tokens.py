"""What attached files cost in input tokens, per model, by the formula its provider documents.

The formula is the catalog's (`AIModel.image_token_formula`):
- `tiles` (GPT-4o family): fit in 2048 x 2048, short side at most 768, then base + per tile of 512 px.
- `patches` (GPT-4.1 mini and nano, o4-mini): 32-px patches covering the image, shrunk to at most 1,536,
  times the model's multiplier.
- `pixels` (Anthropic): fit a long edge of 1568, then width x height / 750.
- `gemini` (Gemini 2.x): 258 for an image within 384 x 384, else 258 per tile of 768 px.
Text read from files is estimated like any prompt text (chat/tokens.py). These estimates size holds; the
charge is the provider's own count.
"""

import math
from decimal import Decimal

from catalog.models import AIModel
from chat.models import Attachment
from chat.tokens import estimate_tokens

PATCH = 32
MAX_PATCHES = 1536
GEMINI_SMALL = 384
GEMINI_TILE = 768
GEMINI_TILE_TOKENS = 258
OPENAI_FIT = 2048
OPENAI_SHORT_SIDE = 768
OPENAI_TILE = 512
ANTHROPIC_LONG_EDGE = 1568
ANTHROPIC_PIXELS_PER_TOKEN = 750


def image_tokens(model: AIModel, width: int, height: int) -> int:
    """Return the input tokens `model` counts for a `width` x `height` image (0 for a model with no vision)."""
    if not model.supports_vision:
        return 0
    formula = model.image_token_formula
    if formula == "pixels":
        return anthropic_image_tokens(width, height)
    if formula == "patches":
        return patch_image_tokens(width, height, multiplier=model.image_patch_multiplier)
    if formula == "gemini":
        return gemini_image_tokens(width, height)
    return openai_image_tokens(width, height, base=model.image_base_tokens, per_tile=model.image_tile_tokens)


def openai_image_tokens(width: int, height: int, *, base: int, per_tile: int) -> int:
    """Return the tokens of an image at high detail over the Chat Completions format."""
    scale = min(1, OPENAI_FIT / max(width, height))
    width, height = width * scale, height * scale
    scale = min(1, OPENAI_SHORT_SIDE / min(width, height))
    width, height = math.floor(width * scale), math.floor(height * scale)
    return base + per_tile * math.ceil(width / OPENAI_TILE) * math.ceil(height / OPENAI_TILE)


def patch_image_tokens(width: int, height: int, *, multiplier: Decimal) -> int:
    """Return the tokens of an image counted in 32-px patches (at most 1,536), times the model's multiplier."""
    patches = math.ceil(width / PATCH) * math.ceil(height / PATCH)
    if patches > MAX_PATCHES:  # shrink so that whole patches along each side fit the limit
        shrink = math.sqrt(PATCH * PATCH * MAX_PATCHES / (width * height))
        shrink *= min(
            math.floor(width * shrink / PATCH) / (width * shrink / PATCH),
            math.floor(height * shrink / PATCH) / (height * shrink / PATCH),
        )
        patches = math.ceil(int(width * shrink) / PATCH) * math.ceil(int(height * shrink) / PATCH)
    return math.ceil(min(patches, MAX_PATCHES) * multiplier)


def gemini_image_tokens(width: int, height: int) -> int:
    """Return Gemini's tokens for an image: 258 when small, else 258 per 768-px tile."""
    if width <= GEMINI_SMALL and height <= GEMINI_SMALL:
        return GEMINI_TILE_TOKENS
    return GEMINI_TILE_TOKENS * math.ceil(width / GEMINI_TILE) * math.ceil(height / GEMINI_TILE)


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
