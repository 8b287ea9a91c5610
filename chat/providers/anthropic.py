"""Stream replies over the Anthropic Messages wire format.

`Usage.input_tokens` counts every input token, cached ones included, as OpenAI reports it; Anthropic reports
cache reads and writes apart from `input_tokens`, so they are added back here and one price formula fits both.
"""

import asyncio
import base64
from collections.abc import AsyncIterator, Iterable

import anthropic
import anyio
import httpx2

from chat.providers.base import (
    CallOptions,
    CallRequest,
    ChatMessage,
    Delta,
    Finished,
    ProviderConfig,
    StreamEvent,
    Usage,
    unless_cancelled,
)
from chat.providers.clients import client_for
from chat.providers.errors import dropped, from_anthropic_error, refused


def system_prompt(messages: Iterable[ChatMessage]) -> str:
    """Return the system messages as one prompt (Anthropic takes it apart from the turns)."""
    return "\n\n".join(m.content for m in messages if m.role == "system" and m.content.strip())


def alternating_turns(messages: Iterable[ChatMessage]) -> list[dict]:
    """Return the user and assistant turns, merging consecutive same-role ones as Anthropic requires.

    Empty turns (a reply stopped before its first word) are left out: Anthropic rejects empty text. A turn
    with images is a list of blocks, the images first (Anthropic reads an image best before the question).
    """
    turns: list[dict] = []
    for message in messages:
        if message.role == "system" or not (message.content.strip() or message.images):
            continue
        content = content_blocks(message)
        if turns and turns[-1]["role"] == message.role:
            turns[-1]["content"] = merged(turns[-1]["content"], content)
        else:
            turns.append({"role": message.role, "content": content})
    return turns


def content_blocks(message: ChatMessage) -> str | list[dict]:
    """Return a message's content: its text alone, or its images as base64 blocks followed by its text."""
    if not message.images:
        return message.content
    blocks: list[dict] = [
        {
            "type": "image",
            "source": {
                "type": "base64",
                "media_type": image.media_type,
                "data": base64.b64encode(image.data).decode("ascii"),
            },
        }
        for image in message.images
    ]
    if message.content.strip():
        blocks.append({"type": "text", "text": message.content})
    return blocks


def merged(first: str | list[dict], second: str | list[dict]) -> str | list[dict]:
    """Return two same-role contents as one: strings joined, else one list of blocks."""
    if isinstance(first, str) and isinstance(second, str):
        return first + "\n\n" + second
    as_blocks = [[{"type": "text", "text": part}] if isinstance(part, str) else part for part in (first, second)]
    return as_blocks[0] + as_blocks[1]


def anthropic_options(options: CallOptions) -> dict:
    """Return the options Messages takes, under its names (it has no seed, penalties or JSON switch).

    The SDK (1.0 on) dropped `temperature` and `top_p` from its signature while the API still takes them on
    the models that sample, so they travel in `extra_body`, and only when a program set them.
    """
    sampling = {"temperature": options.temperature, "top_p": options.top_p}
    sampling = {name: value for name, value in sampling.items() if value is not None}
    return {
        **({"stop_sequences": list(options.stop)} if options.stop else {}),
        **({"extra_body": sampling} if sampling else {}),
    }


def new_client(provider: ProviderConfig) -> anthropic.AsyncAnthropic:
    """Return a client for `provider`; chat/providers/clients.py keeps it for the calls that follow."""
    return anthropic.AsyncAnthropic(
        api_key=provider.api_key,
        base_url=provider.base_url,
        max_retries=provider.max_retries,
        timeout=provider.timeout_seconds,
    )


class AnthropicAdapter:
    """Call `/v1/messages` with `stream=True` and report usage from `message_start` and `message_delta`."""

    async def stream(self, request: CallRequest, cancel: asyncio.Event) -> AsyncIterator[StreamEvent]:
        """Yield the reply's text as it arrives, then its usage; raise a `ProviderError` on failure."""
        provider = request.provider
        system = system_prompt(request.messages)
        mid_stream = False
        try:
            async with client_for(provider, new_client) as client:
                stream = await unless_cancelled(
                    client.messages.create(
                        model=request.api_model_id,
                        messages=alternating_turns(request.messages),
                        max_tokens=request.max_output_tokens,
                        stream=True,
                        **({"system": system} if system else {}),
                        **anthropic_options(request.options),
                    ),
                    cancel,
                )
                if stream is None:
                    return
                mid_stream = True
                async with stream:
                    request_id = stream.response.headers.get("request-id")
                    input_tokens = cached_tokens = output_tokens = 0
                    stop_reason, stopped = None, False
                    while (event := await unless_cancelled(anext(stream, None), cancel)) is not None:
                        if event.type == "message_start":
                            usage = event.message.usage
                            cached_tokens = usage.cache_read_input_tokens or 0
                            input_tokens = usage.input_tokens + cached_tokens + (usage.cache_creation_input_tokens or 0)
                            output_tokens = usage.output_tokens
                            request_id = request_id or event.message.id
                        elif event.type == "content_block_delta" and event.delta.type == "text_delta":
                            if event.delta.text:
                                yield Delta(event.delta.text)
                        elif event.type == "message_delta":
                            stop_reason = event.delta.stop_reason
                            output_tokens = event.usage.output_tokens  # cumulative: the last one is the total
                        elif event.type == "message_stop":
                            stopped = True
                    if cancel.is_set():
                        return
        except (anthropic.AnthropicError, httpx2.HTTPError, anyio.EndOfStream) as error:
            # `from None`: the SDK's message may echo the key, and the mapped error says what matters.
            raise from_anthropic_error(error, provider=provider.name, mid_stream=mid_stream) from None

        if not stopped:  # the stream ended without `message_stop`: it was cut short
            raise dropped(provider.name)
        result = Usage(
            input_tokens=input_tokens,
            output_tokens=output_tokens,
            cached_input_tokens=cached_tokens,
            finish_reason=stop_reason,
            provider_request_id=request_id,
        )
        if stop_reason == "refusal":
            raise refused(provider.name, result)
        yield Finished(result)
