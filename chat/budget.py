"""The token budget of a turn: how much of a model's window the history may take beside a full reply.

Estimates only (chat/tokens.py); the provider's own count is what gets charged. The same budget decides what a
turn sends and whether Auto may route a prompt to a model, so a model is never chosen for a turn it cannot take.
"""

from django.conf import settings

from catalog.models import AIModel
from chat.attachments.prompt import Prompt, as_prompt, files_text_tokens
from chat.exceptions import ContextTooLong
from chat.models import Conversation
from chat.providers.base import ChatMessage
from chat.selectors import branch_turns
from chat.tokens import estimate_message_tokens


def max_output_tokens_for(model: AIModel, *, asked: int | None = None) -> int:
    """Return the output budget of one reply: the model's limit, capped by the site's and by what was `asked`."""
    budget = min(model.max_output_tokens, settings.CHAT_MAX_OUTPUT_TOKENS)
    return budget if asked is None else min(budget, asked)


def history_tokens(conversation: Conversation, parent_id: int | None) -> int:
    """Return an estimate of the history a panel would send after `parent_id`: each prompt and its longest reply.

    A prompt's files count by their text; images, priced per model, are left to each model's own budget.
    """
    if conversation.pk is None:
        return 0
    total = 0
    for turn in branch_turns(conversation, parent_id):
        replies = [estimate_message_tokens([m.text]) for m in turn.shown if m.text]
        files = files_text_tokens(tuple(turn.attachments.all()))
        total += estimate_message_tokens([turn.content]) + files + max(replies, default=0)
    return total


def fit_history(
    *,
    system_prompt: str,
    pairs: list[tuple[Prompt | str, str]],
    content: Prompt | str,
    model: AIModel,
    max_output_tokens: int | None = None,
) -> tuple[list[ChatMessage], int, int]:
    """Return the messages that fit the model's context, how many old turns were dropped, and the input estimate.

    The system prompt and the new prompt (with its files) always stay; the oldest turns go first. The reply's
    output limit (`max_output_tokens`, else the model's) is kept free of the history.
    """
    prompt = as_prompt(content)
    budget = model.context_window - max_output_tokens_for(model, asked=max_output_tokens)
    fixed = (estimate_message_tokens([system_prompt]) if system_prompt else 0) + prompt.tokens_for(model)
    if fixed > budget:
        raise ContextTooLong(
            f"This prompt is too long for {model.name}: about {fixed:,} tokens, "
            f"and the model takes {budget:,} besides its reply."
        )
    turns = [(as_prompt(asked), reply) for asked, reply in pairs]
    pair_tokens = [asked.tokens_for(model) + estimate_message_tokens([reply]) for asked, reply in turns]
    total, dropped = fixed + sum(pair_tokens), 0
    while total > budget:
        total -= pair_tokens[dropped]
        dropped += 1
    messages = [ChatMessage("system", system_prompt)] if system_prompt else []
    for asked, reply in turns[dropped:]:
        messages += [asked.message_for(model), ChatMessage("assistant", reply)]
    messages.append(prompt.message_for(model))
    return messages, dropped, total
