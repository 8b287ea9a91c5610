"""The frames that tell a socket about saved records: `turn.started` for a turn, `message.done` for a reply.

Built at the edge from what the services return, so the services know nothing of the wire. Reading nothing
that is not already loaded, they are safe to call on the event loop.
"""

from chat.attachments.json import attachment_json
from chat.models import Attachment, Message, Turn
from chat.protocol import AttachmentInfo, Comparison, ErrorInfo, MessageDone, Route, TurnMessage, TurnStarted


def turn_started_frame(
    turn: Turn, *, messages: list[Message], held_credits: int, attachments: tuple[Attachment, ...] = ()
) -> TurnStarted:
    """Return the `turn.started` frame of a turn, from its replies (models loaded) and what they hold.

    For a regenerated reply, `messages` is the new version alone, in the turn it belongs to, and the request
    named is the regenerate's (kept on the version), not the turn's.
    """
    return TurnStarted(
        request_id=messages[0].request_id if messages and messages[0].request_id else turn.request_id,
        conversation_id=turn.conversation_id,
        turn_id=turn.pk,
        parent_turn_id=turn.parent_id,
        content=turn.content,
        attachments=[AttachmentInfo(**attachment_json(a)) for a in attachments],
        messages=[
            TurnMessage(
                message_id=m.pk,
                model=m.model.slug,
                panel=m.panel,
                requested_model=m.requested_model,
                route=Route(task=m.route_task, reason=m.route_reason) if m.route_task else None,
                dropped_turns=m.dropped_turns,
                version=m.version,
                temperature=None if m.temperature is None else float(m.temperature),
                max_output_tokens=m.max_output_tokens,
                attachment_tokens=m.attachment_tokens,
            )
            for m in messages
        ],
        held_credits=held_credits,
    )


def message_done_frame(message: Message) -> MessageDone:
    """Return the `message.done` frame of a finished reply (its comparison model loaded, when it has one)."""
    comparison = None
    if message.comparison_credits is not None:
        comparison = Comparison(model=message.comparison_model.slug, credits=message.comparison_credits)
    return MessageDone(
        message_id=message.pk,
        status=message.status,
        input_tokens=message.input_tokens,
        output_tokens=message.output_tokens,
        usage_estimated=message.usage_estimated,
        credits=message.credits,
        ttft_ms=message.ttft_ms,
        duration_ms=message.duration_ms,
        streaming_ms=message.streaming_ms,
        error=ErrorInfo(code=message.error_code, detail=message.error_detail) if message.error_code else None,
        comparison=comparison,
    )
