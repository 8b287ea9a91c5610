"""Provider failures as typed errors with stable codes, and the one mapping from each SDK's exceptions.

A `detail` is written for the person using Panels. It never quotes the provider's own message: some providers
echo the API key in it (OpenAI's 401 does, partly masked).
"""

import email.utils
import math
import re
import time

import anthropic
import anyio
import httpx2
import openai

from chat.exceptions import ChatError, ContextTooLong
from chat.providers.base import Usage

CONTEXT_TOO_LONG = re.compile(
    r"context.length|context.window|maximum context|prompt is too long|too many tokens|exceeds the maximum number of"
    r" tokens",
    re.IGNORECASE,
)


class ProviderError(ChatError):
    """Base of every failure of a provider's API; the subclass's code says which failure."""

    code = "provider_fault"


class BadKey(ProviderError):
    """The provider rejected the API key (HTTP 401 or 403): an operator must fix it."""

    code = "bad_key"


class RateLimited(ProviderError):
    """The provider is rate limiting Panels' requests; `retry_after_seconds` is its wait, when it gave one."""

    code = "rate_limited"

    def __init__(self, detail: str, *, retry_after_seconds: int | None = None):
        super().__init__(detail)
        self.retry_after_seconds = retry_after_seconds


class Overloaded(ProviderError):
    """The provider is overloaded or failing on its side (HTTP 5xx)."""

    code = "overloaded"


class ConversationTooLong(ProviderError, ContextTooLong):
    """The provider refused the conversation as longer than the model's context window."""

    code = "conversation_too_long"


class ContentRefused(ProviderError):
    """The provider stopped the reply on its content policy; `usage` is what it billed, if anything."""

    code = "content_refused"

    def __init__(self, detail: str, *, usage: Usage | None = None):
        super().__init__(detail)
        self.usage = usage  # a refusal after some text is still billed by the provider


class ProviderTimeout(ProviderError):
    """The provider went silent for longer than the timeout, or the reply ran for as long as a reply may."""

    code = "timeout"


class ConnectionDropped(ProviderError):
    """The stream ended before the provider finished the reply."""

    code = "connection_dropped"


class ProviderFailed(ProviderError):
    """The provider could not answer for a reason none of the others names (no quota, an unexpected status)."""

    code = "provider_error"


def too_long(provider: str) -> ConversationTooLong:
    """Return the error for a conversation over the model's context window."""
    return ConversationTooLong(f"This conversation is too long for the model at {provider}. Start a new conversation.")


def timed_out(provider: str) -> ProviderTimeout:
    """Return the error for a provider that went silent for longer than the configured timeout."""
    return ProviderTimeout(f"{provider} took too long to answer. Try again.")


def refused(provider: str, usage: Usage | None = None) -> ContentRefused:
    """Return the error for a reply the provider stopped on its content policy."""
    return ContentRefused(f"{provider} declined to continue this reply under its content policy.", usage=usage)


def dropped(provider: str) -> ConnectionDropped:
    """Return the error for a stream that ended before the provider finished it."""
    return ConnectionDropped(f"The connection to {provider} was lost before the reply finished. Try again.")


def retry_after_seconds(headers: httpx2.Headers) -> int | None:
    """Return the wait a provider asked for, in whole seconds (rounded up), from `retry-after(-ms)`."""
    if (milliseconds := headers.get("retry-after-ms")) is not None:
        try:
            return max(0, math.ceil(float(milliseconds) / 1000))
        except ValueError:
            pass
    value = headers.get("retry-after")
    if value is None:
        return None
    try:
        return max(0, math.ceil(float(value)))
    except ValueError:
        pass
    try:
        return max(0, math.ceil(email.utils.parsedate_to_datetime(value).timestamp() - time.time()))
    except (TypeError, ValueError):
        return None


def from_transport_error(error: Exception, *, provider: str, mid_stream: bool) -> ProviderError:
    """Map a network failure, raised by the SDK or straight from httpx2, to a provider error."""
    if isinstance(error, openai.APITimeoutError | anthropic.APITimeoutError | httpx2.TimeoutException):
        return timed_out(provider)
    if mid_stream:
        return dropped(provider)
    return ProviderFailed(f"Panels could not reach {provider}. Try again in a moment.")


def from_status(status: int, *, provider: str, retry_after: int | None) -> ProviderError:
    """Map an HTTP status that says nothing more specific to a provider error."""
    if status in (401, 403):
        return BadKey(f"{provider} rejected the API key. An operator needs to check the key for {provider}.")
    if status == 429:
        return RateLimited(f"{provider} is rate limiting requests. Try again shortly.", retry_after_seconds=retry_after)
    if status in (408, 504):
        return timed_out(provider)
    if status == 413:
        return too_long(provider)
    if status >= 500:
        return Overloaded(f"{provider} is overloaded or having trouble right now. Try again in a moment.")
    return ProviderFailed(f"{provider} could not answer this request (HTTP {status}).")


def from_openai_error(error: Exception, *, provider: str, mid_stream: bool = False) -> ProviderError:
    """Map an exception from the `openai` SDK (or httpx2 beneath it) to a provider error."""
    if isinstance(error, openai.APIConnectionError | httpx2.TransportError | anyio.EndOfStream):
        return from_transport_error(error, provider=provider, mid_stream=mid_stream)
    if isinstance(error, openai.APIStatusError):
        if error.code == "insufficient_quota":  # a 429 that waiting will not fix
            return ProviderFailed(f"The {provider} account has run out of credit or quota.")
        if isinstance(error, openai.BadRequestError) and (
            error.code == "context_length_exceeded" or CONTEXT_TOO_LONG.search(error.message or "")
        ):
            return too_long(provider)
        return from_status(
            error.status_code, provider=provider, retry_after=retry_after_seconds(error.response.headers)
        )
    if isinstance(error, openai.APIError) and error.type in ("server_error", "overloaded_error"):
        return from_status(503, provider=provider, retry_after=None)  # an error event in the middle of a stream
    return ProviderFailed(f"{provider} could not answer this request.")


def from_anthropic_error(error: Exception, *, provider: str, mid_stream: bool = False) -> ProviderError:
    """Map an exception from the `anthropic` SDK (or httpx2 beneath it) to a provider error."""
    if isinstance(error, anthropic.APIConnectionError | httpx2.TransportError | anyio.EndOfStream):
        return from_transport_error(error, provider=provider, mid_stream=mid_stream)
    if isinstance(error, anthropic.APIStatusError):
        # An error event inside a stream arrives with the stream's 200 status: its type says what happened.
        status = {"overloaded_error": 529, "api_error": 500, "rate_limit_error": 429}.get(
            error.type or "", error.status_code
        )
        if status == 400 and CONTEXT_TOO_LONG.search(error.api_message or ""):
            return too_long(provider)
        return from_status(status, provider=provider, retry_after=retry_after_seconds(error.response.headers))
    return ProviderFailed(f"{provider} could not answer this request.")
