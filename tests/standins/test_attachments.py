"""Images and documents sent to the provider simulator through the real SDKs, counted as each provider documents.

Each is decoded, priced in input tokens and acknowledged in the reply; the expected tokens are worked out by hand
from the formulas, not from the simulator's code.
"""

import base64
import math

import anthropic
import openai
import pytest

from standins.files import pdf, png
from standins.providers import count_tokens, input_tokens_for, reply_pieces

QUESTION = "What is in this?"
PDF_PAGES = ["Alpha beta.", "Gamma, delta!", "Epsilon"]
PDF_TEXT_TOKENS = 3 + 4 + 1  # Alpha beta . / Gamma , delta ! / Epsilon


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def openai_image(data: bytes, media_type: str = "image/png", detail: str | None = None) -> dict:
    image_url = {"url": f"data:{media_type};base64,{b64(data)}"} | ({"detail": detail} if detail else {})
    return {"type": "image_url", "image_url": image_url}


def openai_pdf(data: bytes) -> dict:
    return {"type": "file", "file": {"filename": "notes.pdf", "file_data": f"data:application/pdf;base64,{b64(data)}"}}


def anthropic_image(data: bytes, media_type: str = "image/png") -> dict:
    return {"type": "image", "source": {"type": "base64", "media_type": media_type, "data": b64(data)}}


def anthropic_pdf(data: bytes) -> dict:
    return {"type": "document", "source": {"type": "base64", "media_type": "application/pdf", "data": b64(data)}}


def text(words: str) -> dict:
    return {"type": "text", "text": words}


@pytest.fixture
def openai_client(simulator):
    return openai.AsyncOpenAI(base_url=simulator.base_url_openai, api_key="any-key", max_retries=0)


@pytest.fixture
def anthropic_client(simulator):
    return anthropic.AsyncAnthropic(base_url=simulator.base_url_anthropic, api_key="any-key", max_retries=0)


async def ask_openai(client: openai.AsyncOpenAI, parts: list[dict], model: str = "gpt-4o") -> tuple[str, int]:
    """Send one user message of `parts`; return the reply text and the prompt tokens reported."""
    completion = await client.chat.completions.create(model=model, messages=[{"role": "user", "content": parts}])
    return completion.choices[0].message.content, completion.usage.prompt_tokens


async def ask_anthropic(client: anthropic.AsyncAnthropic, blocks: list[dict]) -> tuple[str, int]:
    """Stream one user message of `blocks`; return the reply text and the input tokens reported."""
    async with client.messages.stream(
        model="claude-sim", max_tokens=200, messages=[{"role": "user", "content": blocks}]
    ) as stream:
        message = await stream.get_final_message()
    return message.content[0].text, message.usage.input_tokens


@pytest.mark.parametrize(
    ("model", "size", "detail", "image_tokens"),
    [
        # Fits 2048; shortest side 800 > 768, so 960x768; 2 x 2 tiles of 512.
        ("gpt-4o-mini", (1000, 800), "high", 2833 + 5667 * 2 * 2),
        # 2048x1365 to fit; shortest side 1365 > 768, so 1152x768; 3 x 2 tiles. "auto" reads as "high".
        ("gpt-4o-mini-2024-07-18", (3000, 2000), "auto", 2833 + 5667 * 3 * 2),
        ("gpt-4o", (1000, 800), None, 85 + 170 * 2 * 2),
        ("gpt-4o", (3000, 2000), "high", 85 + 170 * 3 * 2),
        # Shortest side 1000 > 768, so 998x768; 2 x 2 tiles.
        ("gpt-4o", (1300, 1000), "high", 85 + 170 * 2 * 2),
        # 2048x512 to fit; shortest side 512 <= 768 stays; 4 x 1 tiles.
        ("gpt-4o", (4096, 1024), "high", 85 + 170 * 4 * 1),
        ("gpt-4o", (300, 200), "high", 85 + 170 * 1 * 1),  # never scaled up
        ("gpt-4o-mini", (3000, 2000), "low", 2833),
        ("gpt-4o", (1000, 800), "low", 85),
        # Patch-counted models: 32-px patches (1000x800: 32 x 25 = 800) times the model's multiplier; over
        # 1,536 patches (2000x2000: 63 x 63) the image shrinks to whole patches within it (39 x 39 = 1,521).
        ("gpt-4.1-mini", (1000, 800), "high", math.ceil(800 * 162 / 100)),
        ("gpt-4.1-nano", (2000, 2000), "low", math.ceil(1521 * 246 / 100)),
        ("o4-mini", (64, 64), "high", math.ceil(4 * 172 / 100)),
        # Gemini over its OpenAI-compatible API: 258 within 384 x 384, else 258 per 768-px tile.
        ("gemini-2.0-flash", (384, 300), "high", 258),
        ("gemini-2.0-flash", (1000, 800), "high", 258 * 2 * 2),
    ],
)
async def test_openai_image_costs_base_plus_tiles_by_model_and_detail(
    simulator, openai_client, model, size, detail, image_tokens
):
    reply, prompt_tokens = await ask_openai(
        openai_client, [text(QUESTION), openai_image(png(*size), detail=detail)], model
    )

    assert prompt_tokens == input_tokens_for([QUESTION]) + image_tokens
    record = simulator.records[-1]
    assert (record.images, record.image_tokens, record.input_tokens) == (
        [(*size, "image/png")],
        image_tokens,
        prompt_tokens,
    )
    assert reply.startswith(f"[Simulated reply from {model}]\nSeen: image {size[0]}x{size[1]} image/png\n")


@pytest.mark.parametrize(
    ("size", "image_tokens"),
    [
        ((1000, 800), math.ceil(1000 * 800 / 750)),
        ((3000, 2000), math.ceil(1568 * 1045 / 750)),  # long edge brought to 1568: 2000 * 1568 / 3000 = 1045.3
        ((900, 2400), math.ceil(588 * 1568 / 750)),
    ],
)
async def test_anthropic_image_costs_its_pixels_over_750_after_fitting_1568(
    simulator, anthropic_client, size, image_tokens
):
    reply, input_tokens = await ask_anthropic(anthropic_client, [anthropic_image(png(*size)), text(QUESTION)])

    assert input_tokens == input_tokens_for([QUESTION]) + image_tokens
    record = simulator.records[-1]
    assert (record.images, record.image_tokens, record.input_tokens) == (
        [(*size, "image/png")],
        image_tokens,
        input_tokens,
    )
    assert reply.startswith(f"[Simulated reply from claude-sim]\nSeen: image {size[0]}x{size[1]} image/png\n")


async def test_openai_pdf_costs_its_text_and_nothing_per_page(simulator, openai_client):
    reply, prompt_tokens = await ask_openai(openai_client, [text(QUESTION), openai_pdf(pdf(*PDF_PAGES))])

    assert prompt_tokens == input_tokens_for([QUESTION]) + PDF_TEXT_TOKENS
    record = simulator.records[-1]
    assert (record.documents, record.document_tokens, record.image_tokens) == (
        [("application/pdf", 3)],
        PDF_TEXT_TOKENS,
        0,
    )
    assert reply.startswith("[Simulated reply from gpt-4o]\nSeen: document application/pdf 3 pages\n")


async def test_anthropic_pdf_costs_its_text_and_1600_per_page_and_a_text_document_its_text(simulator, anthropic_client):
    notes = {"type": "document", "source": {"type": "text", "media_type": "text/plain", "data": "Plain words, here."}}
    blocks = [anthropic_pdf(pdf(*PDF_PAGES)), {**notes, "title": "Notes"}, text(QUESTION)]

    reply, input_tokens = await ask_anthropic(anthropic_client, blocks)

    document_tokens = (PDF_TEXT_TOKENS + 1600 * 3) + 5  # Plain words , here .
    assert input_tokens == input_tokens_for([QUESTION]) + document_tokens
    record = simulator.records[-1]
    assert (record.documents, record.document_tokens) == (
        [("application/pdf", 3), ("text/plain", None)],
        document_tokens,
    )
    seen = "Seen: document application/pdf 3 pages\nSeen: document text/plain 18 characters\n"
    assert reply.startswith(f"[Simulated reply from claude-sim]\n{seen}")


async def test_seen_lines_come_in_message_order_and_the_whole_reply_is_counted(simulator, openai_client):
    completion = await openai_client.chat.completions.create(
        model="gpt-4o",
        messages=[
            {"role": "user", "content": [text("First"), openai_pdf(pdf("One page"))]},
            {"role": "assistant", "content": "Noted."},
            {"role": "user", "content": [openai_image(png(64, 48), detail="low"), text(QUESTION)]},
        ],
    )

    reply = completion.choices[0].message.content
    lines = reply.split("\n")
    assert lines[:3] == [
        "[Simulated reply from gpt-4o]",
        "Seen: document application/pdf 1 page",
        "Seen: image 64x48 image/png",
    ]
    assert lines[3] and not lines[3].startswith(" ")  # then the words, on a line of their own
    assert completion.usage.completion_tokens == count_tokens(reply) == 40
    assert completion.usage.prompt_tokens == input_tokens_for(["First", "Noted.", QUESTION]) + 2 + 85  # "One page"


async def test_openai_stream_and_whole_reply_say_the_same_about_what_was_seen(simulator, openai_client):
    parts = [text(QUESTION), openai_image(png(640, 480))]
    whole, _ = await ask_openai(openai_client, parts)
    stream = await openai_client.chat.completions.create(
        model="gpt-4o", messages=[{"role": "user", "content": parts}], stream=True
    )

    streamed = "".join([chunk.choices[0].delta.content or "" async for chunk in stream if chunk.choices])
    assert streamed == whole
    assert "\nSeen: image 640x480 image/png\n" in streamed


async def test_echo_and_directives_are_read_from_the_text_parts(simulator, openai_client, anthropic_client):
    echoed, _ = await ask_openai(openai_client, [text("Describe "), openai_image(png(10, 10)), text("it [[sim:echo]]")])
    with pytest.raises(anthropic.RateLimitError):
        await ask_anthropic(anthropic_client, [anthropic_image(png(10, 10)), text("Hi [[sim:status=429]]")])

    assert echoed == "[Simulated reply from gpt-4o]\nSeen: image 10x10 image/png\n\nDescribe it"


async def test_text_parts_alone_are_answered_as_the_same_text_as_a_string(simulator, openai_client, anthropic_client):
    as_parts, parts_tokens = await ask_openai(openai_client, [text("Hello, "), text("world!")])
    as_string = await openai_client.chat.completions.create(
        model="gpt-4o", messages=[{"role": "user", "content": "Hello, world!"}]
    )
    anthropic_reply, anthropic_tokens = await ask_anthropic(anthropic_client, [text("Hello, world!")])

    assert as_parts == as_string.choices[0].message.content == "".join(reply_pieces("gpt-4o", "Hello, world!", 40))
    assert parts_tokens == as_string.usage.prompt_tokens == anthropic_tokens == input_tokens_for(["Hello, world!"])
    assert anthropic_reply == "".join(reply_pieces("claude-sim", "Hello, world!", 40))
    assert all((record.images, record.documents, record.image_tokens) == ([], [], 0) for record in simulator.records)


NOT_AN_IMAGE = b"these bytes are not a picture"


@pytest.mark.parametrize(
    ("part", "message"),
    [
        (openai_image(png(20, 20), media_type="image/jpeg"), "Image does not match the provided media type image/jpeg"),
        (openai_image(NOT_AN_IMAGE), "Could not process image"),
        (openai_image(png(20, 20), media_type="image/bmp"), "Unsupported image media type image/bmp"),
        ({"type": "image_url", "image_url": {"url": "https://example.com/cat.png"}}, "only accepts data URLs"),
        (openai_pdf(png(20, 20)), "The PDF specified was not valid"),
    ],
)
async def test_openai_refuses_what_it_cannot_read_with_a_400(simulator, openai_client, part, message):
    with pytest.raises(openai.BadRequestError) as refused:
        await ask_openai(openai_client, [text(QUESTION), part])

    assert message in refused.value.message
    record = simulator.records[-1]
    assert (record.status, record.input_tokens, record.text_sent, record.images) == (400, None, "", [])


@pytest.mark.parametrize(
    ("block", "message"),
    [
        (
            anthropic_image(png(20, 20), media_type="image/jpeg"),
            "Image does not match the provided media type image/jpeg",
        ),
        (anthropic_image(pdf("Hi"), media_type="image/png"), "Could not process image"),
        (
            {"type": "document", "source": {"type": "base64", "media_type": "application/pdf", "data": b64(png(9, 9))}},
            "The PDF specified was not valid",
        ),
    ],
)
async def test_anthropic_refuses_what_it_cannot_read_with_a_400(simulator, anthropic_client, block, message):
    with pytest.raises(anthropic.BadRequestError) as refused:
        await ask_anthropic(anthropic_client, [block, text(QUESTION)])

    assert message in refused.value.message
    assert refused.value.body["error"]["type"] == "invalid_request_error"
    record = simulator.records[-1]
    assert (record.status, record.input_tokens, record.text_sent, record.images) == (400, None, "", [])
