"""Stream replies over the Chat Completions wire format: OpenAI and every compatible API (Gemini, Mistral, ...).

Nothing here is specific to OpenAI beyond the wire format, so one adapter serves every compatible provider.
"""

import asyncio
import base64
from collections.abc import AsyncIterator

import anyio
import httpx2
import openai

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
from chat.providers.errors import dropped, from_openai_error, refused


def new_client(provider: ProviderConfig) -> openai.AsyncOpenAI:
    """Return a client for `provider`; chat/providers/clients.py keeps it for the calls that follow."""
    return openai.AsyncOpenAI(
        api_key=provider.api_key,
        base_url=provider.base_url,
        max_retries=provider.max_retries,
        timeout=provider.timeout_seconds,
    )


def openai_message(message: ChatMessage) -> dict:
    """Return a message in Chat Completions' shape: its text, then any images as data-URL parts at high detail.

    High detail, not "auto": the provider then counts an image's tokens by a formula known before sending,
    which the hold is sized on (chat/attachments/tokens.py).
    """
    if not message.images:
        return {"role": message.role, "content": message.content}
    parts: list[dict] = [{"type": "text", "text": message.content}]
    for image in message.images:
        url = f"data:{image.media_type};base64,{base64.b64encode(image.data).decode('ascii')}"
        parts.append({"type": "image_url", "image_url": {"url": url, "detail": "high"}})
    return {"role": message.role, "content": parts}


def openai_options(options: CallOptions) -> dict:
    """Return the options that are set, as Chat Completions parameters."""
    named = {
        "temperature": options.temperature,
        "top_p": options.top_p,
        "seed": options.seed,
        "presence_penalty": options.presence_penalty,
        "frequency_penalty": options.frequency_penalty,
        "response_format": options.response_format,
        "stop": list(options.stop) or None,
    }
    return {name: value for name, value in named.items() if value is not None}


class OpenAIAdapter:
    """Call `/chat/completions` with `stream=True` and report the usage of the final chunk."""

    async def stream(self, request: CallRequest, cancel: asyncio.Event) -> AsyncIterator[StreamEvent]:
        """Yield the reply's text as it arrives, then its usage; raise a `ProviderError` on failure."""
        provider = request.provider
        mid_stream = False
        try:
            async with client_for(provider, new_client) as client:
                stream = await unless_cancelled(
                    client.chat.completions.create(
                        model=request.api_model_id,
                        messages=[openai_message(m) for m in request.messages],
                        # `max_tokens`, not `max_completion_tokens`: the compatible APIs all accept it.
                        max_tokens=request.max_output_tokens,
                        stream=True,
                        stream_options={"include_usage": True},
                        **openai_options(request.options),
                    ),
                    cancel,
                )
                if stream is None:
                    return
                mid_stream = True
                async with stream:
                    request_id = stream.response.headers.get("x-request-id")
                    finish_reason, usage = None, None
                    while (chunk := await unless_cancelled(anext(stream, None), cancel)) is not None:
                        request_id = request_id or chunk.id
                        for choice in chunk.choices:
                            if choice.delta and choice.delta.content:
                                yield Delta(choice.delta.content)
                            finish_reason = choice.finish_reason or finish_reason
                        usage = chunk.usage or usage  # OpenAI sends it last; Gemini with the final text
                    if cancel.is_set():
                        return
        except (openai.OpenAIError, httpx2.HTTPError, anyio.EndOfStream) as error:
            # `from None`: the SDK's message may echo the key, and the mapped error says what matters.
            raise from_openai_error(error, provider=provider.name, mid_stream=mid_stream) from None

        if usage is None:  # the stream ended without its final chunk: it was cut short
            raise dropped(provider.name)
        details = usage.prompt_tokens_details
        result = Usage(
            input_tokens=usage.prompt_tokens,
            output_tokens=usage.completion_tokens,
            cached_input_tokens=(details.cached_tokens or 0) if details else 0,
            finish_reason=finish_reason,
            provider_request_id=request_id,
        )
        if finish_reason == "content_filter":
            raise refused(provider.name, result)
        yield Finished(result)
