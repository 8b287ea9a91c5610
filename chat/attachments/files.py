"""Check an uploaded file and make what is kept of it: its kind from its bytes, images re-encoded clean.

A file's type is read from its first bytes (its signature), never from its name or the browser's content type;
a name whose extension says another kind is refused, so a file lying about its type never gets in. Images are
decoded and drawn again by Pillow, so no metadata (GPS position, camera, comments) and nothing appended to or
hidden in the file passes through, and they are scaled to what providers read at full detail (1568 px on the
long edge, Anthropic's limit; OpenAI scales to 768 px on the short edge anyway).
"""

import io
from dataclasses import dataclass
from pathlib import PurePath

from django.conf import settings
from PIL import Image, UnidentifiedImageError

from chat.exceptions import AttachmentRefused, AttachmentTooLarge
from chat.models import Attachment

IMAGE_SIGNATURES = {  # first bytes -> content type (WebP's signature has a gap: see `kind_of`)
    b"\x89PNG\r\n\x1a\n": "image/png",
    b"\xff\xd8\xff": "image/jpeg",
    b"GIF87a": "image/gif",
    b"GIF89a": "image/gif",
}
IMAGE_EXTENSIONS = {".png", ".jpg", ".jpeg", ".webp", ".gif"}
TEXT_EXTENSIONS = {
    *(".txt", ".md", ".markdown", ".csv", ".tsv", ".json", ".jsonl", ".xml", ".yaml", ".yml", ".toml", ".ini"),
    *(".log", ".html", ".css", ".sql", ".sh", ".py", ".js", ".mjs", ".ts", ".tsx", ".jsx", ".java", ".kt"),
    *(".go", ".rs", ".rb", ".php", ".c", ".h", ".cc", ".cpp", ".hpp", ".cs", ".swift", ".scala", ".r", ".lua"),
}
MAX_LONG_EDGE = 1568  # Anthropic reads at most this; a larger image would be scaled down there (and priced so)
MAX_PIXELS = 40_000_000  # refuse larger images before decoding them (a small file can inflate to gigabytes)
MAX_NAME_CHARS = Attachment._meta.get_field("name").max_length


@dataclass(frozen=True)
class CheckedFile:
    """What is kept of an upload: its bytes (an image's re-encoded), kind and content type, and an image's size."""

    name: str
    kind: str
    content_type: str
    data: bytes
    width: int | None = None
    height: int | None = None
    text: str = ""


def check_upload(name: str, data: bytes) -> CheckedFile:
    """Return what to keep of the file `name` holding `data`; AttachmentRefused says why one cannot be attached."""
    name = clean_name(name)
    if len(data) > settings.ATTACHMENT_MAX_BYTES:
        raise AttachmentTooLarge(
            f"“{name}” is {megabytes(len(data))}; a file can be at most {megabytes(settings.ATTACHMENT_MAX_BYTES)}."
        )
    if not data:
        raise AttachmentRefused(f"“{name}” is empty.")
    extension = PurePath(name).suffix.lower()
    kind, content_type = kind_of(data)
    expected = "image" if extension in IMAGE_EXTENSIONS else "pdf" if extension == ".pdf" else "text"
    if kind is None and expected != Attachment.Kind.TEXT:
        raise AttachmentRefused(
            f"“{name}” is named as {describe(expected, extension)} but its contents are not. "
            "Attach the file it claims to be."
        )
    if kind is None:
        if extension not in TEXT_EXTENSIONS:
            raise AttachmentRefused(
                f"“{name}” is not a file Panels can attach. Attach images (PNG, JPEG, WebP, GIF), PDFs, "
                "or text files (such as .txt, .md, .csv, .json or source code)."
            )
        return CheckedFile(name, Attachment.Kind.TEXT, "text/plain", data, text=text_of(name, data))
    if kind != expected:
        raise AttachmentRefused(
            f"“{name}” is named as {describe(expected, extension)} but its contents are {describe(kind, '')}. "
            "Rename it, or attach the file it claims to be."
        )
    if kind == Attachment.Kind.IMAGE:
        return clean_image(name, data, content_type)
    return CheckedFile(name, Attachment.Kind.PDF, "application/pdf", data)


def kind_of(data: bytes) -> tuple[str | None, str]:
    """Return the kind and content type that `data`'s signature shows, or (None, "") for no known signature."""
    for signature, content_type in IMAGE_SIGNATURES.items():
        if data.startswith(signature):
            return Attachment.Kind.IMAGE, content_type
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return Attachment.Kind.IMAGE, "image/webp"
    if data.lstrip()[:5] == b"%PDF-":
        return Attachment.Kind.PDF, "application/pdf"
    return None, ""


def text_of(name: str, data: bytes) -> str:
    """Return a text file's text; refuse binary contents (a NUL byte, or not UTF-8) under a text name."""
    if b"\x00" in data:
        raise AttachmentRefused(f"“{name}” is named as a text file but holds binary data.")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise AttachmentRefused(f"“{name}” is not UTF-8 text. Save it as UTF-8 and attach it again.") from None
    if len(text) > settings.ATTACHMENT_MAX_TEXT_CHARS:
        raise AttachmentTooLarge(
            f"“{name}” has {len(text):,} characters; a file can add at most "
            f"{settings.ATTACHMENT_MAX_TEXT_CHARS:,} to a prompt."
        )
    return text


def clean_image(name: str, data: bytes, content_type: str) -> CheckedFile:
    """Decode the image and draw it again, scaled to `MAX_LONG_EDGE`: nothing but its pixels is kept."""
    try:
        with Image.open(io.BytesIO(data)) as image:
            if image.width * image.height > MAX_PIXELS:
                raise AttachmentRefused(
                    f"“{name}” is {image.width:,} x {image.height:,} pixels; images can have at most "
                    f"{MAX_PIXELS // 1_000_000} million pixels."
                )
            image.seek(0)  # an animated GIF or WebP: its first frame
            image.load()
            pixels = image.convert("RGBA" if has_transparency(image) else "RGB")
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError):
        raise AttachmentRefused(f"“{name}” could not be read as an image; it may be damaged.") from None
    pixels.thumbnail((MAX_LONG_EDGE, MAX_LONG_EDGE), Image.Resampling.LANCZOS)  # only ever shrinks
    out = io.BytesIO()
    if content_type == "image/jpeg":
        pixels.save(out, format="JPEG", quality=90)
    else:  # PNG, and GIF or WebP kept as PNG: every provider reads PNG, and it loses nothing
        pixels.save(out, format="PNG", optimize=True)
        content_type = "image/png"
    return CheckedFile(
        name, Attachment.Kind.IMAGE, content_type, out.getvalue(), width=pixels.width, height=pixels.height
    )


def has_transparency(image: Image.Image) -> bool:
    """Return whether the image has an alpha channel or a transparent colour (kept: a logo's background)."""
    return image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info)


def clean_name(name: str) -> str:
    """Return the file's own name, without any folder a browser sent, control characters, or excess length."""
    name = PurePath(name.replace("\\", "/")).name
    name = "".join(char for char in name if char.isprintable()).strip() or "file"
    if len(name) > MAX_NAME_CHARS:
        suffix = PurePath(name).suffix[:20]
        name = name[: MAX_NAME_CHARS - len(suffix)] + suffix
    return name


def describe(kind: str, extension: str) -> str:
    """Return a kind of file as a person says it ("an image", "a PDF", "a .csv file")."""
    if kind == Attachment.Kind.IMAGE:
        return "an image"
    if kind == Attachment.Kind.PDF:
        return "a PDF"
    return f"a {extension} file" if extension else "text"


def megabytes(size: int) -> str:
    """Return a size in MB, one decimal, for messages."""
    return f"{size / (1024 * 1024):.1f} MB"
