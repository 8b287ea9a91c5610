"""Read the images and documents sent to the provider simulator, and count image tokens as each provider documents.

The simulator decodes what it is sent, as a provider does: an image's width and height come from its bytes
(Pillow), a PDF's pages and text from the file (pypdf), and bytes that are no such thing, or that another media
type than the one claimed, are an `AttachmentError` (a 400 in the provider's error shape).

Image token formulas, as OpenAI and Anthropic document them (scaled sizes are rounded down to whole pixels):
- OpenAI, detail "low": the base tokens only. Detail "high" (or "auto"): scale to fit inside 2048x2048 (never up),
  then, if the shortest side is over 768, scale so that it is 768; tokens = base + tile tokens x the 512 px tiles
  covering the image, ceil(w / 512) x ceil(h / 512). Models whose id starts with `gpt-4o-mini` have base 2833
  and tile 5667; every other model 85 and 170.
- OpenAI's patch-counted models (ids starting `gpt-4.1-mini` 1.62, `gpt-4.1-nano` 2.46, `o4-mini` 1.72): the
  32 px patches covering the image; over 1,536, the image is shrunk so whole patches fit 1,536; tokens =
  ceil(patches x multiplier). Detail does not change it.
- Gemini (ids starting `gemini`, over its OpenAI-compatible format): 258 for an image within 384 x 384, else
  258 per 768 px tile.
- Anthropic: if the long edge is over 1568 px, scale it to 1568; tokens = ceil(w x h / 750).
"""

import base64
import binascii
import io
import math
import re
from dataclasses import dataclass

import pypdf
from PIL import Image as PillowImage

IMAGE_MEDIA_TYPES = ("image/jpeg", "image/png", "image/gif", "image/webp")
IMAGE_FORMATS = {"JPEG": "image/jpeg", "PNG": "image/png", "GIF": "image/gif", "WEBP": "image/webp"}
PDF = "application/pdf"
DATA_URL = re.compile(r"data:([\w.+-]+/[\w.+-]+);base64,(.*)", re.DOTALL)

OPENAI_FIT = 2048
OPENAI_SHORT_SIDE = 768
OPENAI_TILE = 512
OPENAI_MINI_PREFIX = "gpt-4o-mini"
OPENAI_MINI_TOKENS = (2833, 5667)  # (base, per tile)
OPENAI_TOKENS = (85, 170)
PATCH_MULTIPLIERS = {"gpt-4.1-mini": 162, "gpt-4.1-nano": 246, "o4-mini": 172}  # hundredths, by id prefix
PATCH, MAX_PATCHES = 32, 1536
GEMINI_PREFIX, GEMINI_SMALL, GEMINI_TILE, GEMINI_TILE_TOKENS = "gemini", 384, 768, 258
ANTHROPIC_LONG_EDGE = 1568
ANTHROPIC_PIXELS_PER_TOKEN = 750


class AttachmentError(ValueError):
    """An image or document the simulator cannot read; `code` is OpenAI's error code for it."""

    def __init__(self, message: str, code: str = "invalid_image_format"):
        super().__init__(message)
        self.message, self.code = message, code


@dataclass(frozen=True)
class Image:
    width: int
    height: int
    media_type: str

    def describe(self) -> str:
        return f"image {self.width}x{self.height} {self.media_type}"


@dataclass(frozen=True)
class Document:
    media_type: str
    text: str
    pages: int | None = None  # a PDF's; a text document has none

    def describe(self) -> str:
        if self.pages is None:
            return f"document {self.media_type} {len(self.text)} characters"
        return f"document {self.media_type} {self.pages} page{'' if self.pages == 1 else 's'}"


def decode_base64(data: str, what: str) -> bytes:
    """Return the bytes of base64 `data`, or raise AttachmentError naming `what` it should have been."""
    try:
        return base64.b64decode(data, validate=True)
    except (binascii.Error, ValueError) as error:
        raise AttachmentError(f"The {what} data is not valid base64.") from error


def read_data_url(url: str, what: str) -> tuple[str, bytes]:
    """Return the media type and bytes of a base64 data URL; a link to fetch is refused, the simulator is offline."""
    match = DATA_URL.fullmatch(url or "")
    if match is None:
        raise AttachmentError(
            f"The simulator only accepts data URLs (data:<media type>;base64,...) for the {what}.", "invalid_image_url"
        )
    return match[1], decode_base64(match[2], what)


def read_image(data: bytes, media_type: str) -> Image:
    """Return the image in `data`, which must be the `media_type` it claims and decode whole."""
    if media_type not in IMAGE_MEDIA_TYPES:
        raise AttachmentError(f"Unsupported image media type {media_type}: use one of {', '.join(IMAGE_MEDIA_TYPES)}.")
    try:
        with PillowImage.open(io.BytesIO(data), formats=list(IMAGE_FORMATS)) as image:
            image.load()  # the header alone would pass a truncated file
            found, size = IMAGE_FORMATS.get(image.format or ""), image.size
    except (OSError, SyntaxError, ValueError, PillowImage.DecompressionBombError) as error:
        raise AttachmentError(f"Could not process image: the data is not a readable {media_type} image.") from error
    if found != media_type:
        raise AttachmentError(f"Image does not match the provided media type {media_type} (the data is {found}).")
    return Image(width=size[0], height=size[1], media_type=media_type)


def read_pdf(data: bytes) -> Document:
    """Return the PDF in `data`, with its page count and the text of its pages."""
    if not data.startswith(b"%PDF-"):
        raise AttachmentError("The PDF specified was not valid: the data does not start with %PDF-.", "invalid_file")
    try:
        reader = pypdf.PdfReader(io.BytesIO(data))
        text = "\n".join(page.extract_text() for page in reader.pages)
    except (pypdf.errors.PyPdfError, ValueError, KeyError, TypeError) as error:
        raise AttachmentError(f"The PDF specified was not valid: {error}", "invalid_file") from error
    return Document(media_type=PDF, text=text, pages=len(reader.pages))


def openai_image_tokens(image: Image, *, model: str, detail: str) -> int:
    """Return OpenAI's input tokens for `image` sent to `model` at `detail` ("low", "high" or "auto")."""
    multiplier = next((m for prefix, m in PATCH_MULTIPLIERS.items() if model.startswith(prefix)), None)
    if multiplier is not None:
        return patch_tokens(image.width, image.height, hundredths=multiplier)
    if model.startswith(GEMINI_PREFIX):
        if image.width <= GEMINI_SMALL and image.height <= GEMINI_SMALL:
            return GEMINI_TILE_TOKENS
        return GEMINI_TILE_TOKENS * math.ceil(image.width / GEMINI_TILE) * math.ceil(image.height / GEMINI_TILE)
    base, per_tile = OPENAI_MINI_TOKENS if model.startswith(OPENAI_MINI_PREFIX) else OPENAI_TOKENS
    if detail == "low":
        return base
    width, height = image.width, image.height
    if max(width, height) > OPENAI_FIT:
        width, height = scaled(width, height, side=max(width, height), to=OPENAI_FIT)
    if min(width, height) > OPENAI_SHORT_SIDE:
        width, height = scaled(width, height, side=min(width, height), to=OPENAI_SHORT_SIDE)
    return base + per_tile * math.ceil(width / OPENAI_TILE) * math.ceil(height / OPENAI_TILE)


def patch_tokens(width: int, height: int, *, hundredths: int) -> int:
    """Return the tokens of an image counted in 32 px patches, shrunk to at most 1,536, times the multiplier."""
    patches = math.ceil(width / PATCH) * math.ceil(height / PATCH)
    if patches > MAX_PATCHES:
        shrink = math.sqrt(PATCH * PATCH * MAX_PATCHES / (width * height))
        shrink *= min(
            math.floor(width * shrink / PATCH) / (width * shrink / PATCH),
            math.floor(height * shrink / PATCH) / (height * shrink / PATCH),
        )
        patches = math.ceil(int(width * shrink) / PATCH) * math.ceil(int(height * shrink) / PATCH)
    return math.ceil(min(patches, MAX_PATCHES) * hundredths / 100)


def anthropic_image_tokens(image: Image) -> int:
    """Return Anthropic's input tokens for `image`."""
    width, height = image.width, image.height
    if max(width, height) > ANTHROPIC_LONG_EDGE:
        width, height = scaled(width, height, side=max(width, height), to=ANTHROPIC_LONG_EDGE)
    return math.ceil(width * height / ANTHROPIC_PIXELS_PER_TOKEN)


def scaled(width: int, height: int, *, side: int, to: int) -> tuple[int, int]:
    """Return the size scaled so that its side of length `side` is `to`, in whole pixels (exact, no float)."""
    return max(1, width * to // side), max(1, height * to // side)
