"""What an Auto reply is compared with, and the person's price ceiling, from the router to the saved reply."""

import pytest

from billing.models import Hold, LedgerEntry, Wallet
from billing.services import ChargedUsage, set_auto_ceiling
from catalog.models import AIModel
from chat.auto import choose_model
from chat.exceptions import ModelUnavailable
from chat.frames import message_done_frame
from chat.models import Conversation, Message, RouteRule, Turn
from chat.protocol import Comparison
from chat.providers.base import Usage
from chat.services import credits_on, start_turn
from tests.factories import answer_turn, fund

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("openai_and_anthropic")]

CODE_REVIEW = """Can you review this function? I think there's a bug.

```python
def last_n(items, n):
    return items[len(items) - n - 1:]
```"""
GENERAL_CHAT = "what's the difference between a latte and a flat white"


def model(slug: str) -> AIModel:
    return AIModel.objects.get(slug=slug)


# --- The figure: the same tokens on the other candidate, at the seeded prices ------------------------------


@pytest.mark.parametrize(
    ("usage", "on_mini", "on_haiku"),
    [
        # gpt-4o-mini $0.15 / $0.60, claude-3-5-haiku $0.80 / $4.00 per 1M tokens; 2,000,000 credits per USD
        (ChargedUsage(input_tokens=1_000, output_tokens=500), 900, 5_600),
        (ChargedUsage(input_tokens=2_000, output_tokens=1_000), 1_800, 11_200),
        # cached input at the cached price ($0.075 and $0.08): 600 x 0.15 + 400 x 0.075 + 500 x 0.60 = $0.00042
        (ChargedUsage(input_tokens=1_000, output_tokens=500, cached_input_tokens=400), 840, 5_024),
        # $0.00000075 = 1.5 credits and $0.0000048 = 9.6 credits: rounded up once, like a charge
        (ChargedUsage(input_tokens=1, output_tokens=1), 2, 10),
        (ChargedUsage(input_tokens=0, output_tokens=0), 0, 0),
    ],
)
def test_the_same_tokens_are_priced_exactly_on_each_candidate(usage, on_mini, on_haiku):
    assert credits_on(model("gpt-4o-mini"), usage) == on_mini
    assert credits_on(model("claude-3-5-haiku"), usage) == on_haiku


# --- Which candidate -------------------------------------------------------------------------------------


def test_a_reply_sent_to_the_cheaper_model_is_compared_with_the_dearer_one_and_the_other_way_round():
    chat = choose_model(prompt=GENERAL_CHAT)
    review = choose_model(prompt=CODE_REVIEW)

    assert (chat.model.slug, chat.comparison.slug) == ("gpt-4o-mini", "claude-3-5-haiku")
    assert (review.model.slug, review.comparison.slug) == ("claude-3-5-haiku", "gpt-4o-mini")


def test_the_candidates_are_the_models_the_admin_s_table_uses():
    RouteRule.objects.filter(model__slug="claude-3-5-haiku").update(model=model("claude-haiku-4-5"))

    assert choose_model(prompt=GENERAL_CHAT).comparison.slug == "claude-haiku-4-5"

    RouteRule.objects.update(model=model("gpt-4o-mini"))

    assert choose_model(prompt=GENERAL_CHAT).comparison is None  # one model for every task: nothing to compare


def test_a_candidate_that_could_not_have_answered_is_not_compared(openai_and_anthropic):
    openai_and_anthropic.ANTHROPIC_API_KEY = ""  # Claude 3.5 Haiku is unavailable

    chat = choose_model(prompt=GENERAL_CHAT)
    review = choose_model(prompt=CODE_REVIEW)

    assert (chat.model.slug, chat.comparison) == ("gpt-4o-mini", None)
    assert (review.model.slug, review.comparison.slug) == ("gpt-4.1-mini", "gpt-4o-mini")


def test_the_model_the_ceiling_passed_over_is_still_what_the_reply_is_compared_with():
    haiku = choose_model(prompt=CODE_REVIEW).estimated_credits

    review = choose_model(prompt=CODE_REVIEW, ceiling_credits=haiku - 1)

    assert (review.model.slug, review.comparison.slug) == ("gpt-4.1-mini", "claude-3-5-haiku")


# --- Saved with the reply, sent in message.done, returned by the conversation JSON --------------------------


def test_an_auto_reply_saves_and_sends_what_it_would_have_cost_on_the_other_candidate(user, client):
    fund(user, 2_000_000)

    [reply] = answer_turn(user, ["auto"], GENERAL_CHAT, usage=Usage(1_000, 500))

    assert (reply.model.slug, reply.credits) == ("gpt-4o-mini", 900)
    assert (reply.comparison_model.slug, reply.comparison_credits) == ("claude-3-5-haiku", 5_600)
    assert -LedgerEntry.objects.get(idempotency_key=f"usage:message:{reply.pk}").amount_credits == 900
    assert message_done_frame(reply).comparison == Comparison(model="claude-3-5-haiku", credits=5_600)
    assert message_done_frame(reply).model_dump()["comparison"] == {"model": "claude-3-5-haiku", "credits": 5_600}
    client.force_login(user)
    saved = client.get(f"/api/conversations/{reply.turn.conversation_id}/").json()["turns"][0]["messages"][0]
    assert saved["comparison"] == {"model": "claude-3-5-haiku", "credits": 5_600}


def test_a_code_review_on_the_dearer_model_is_compared_with_the_cheaper_one(user):
    fund(user, 2_000_000)

    [reply] = answer_turn(user, ["auto"], CODE_REVIEW, usage=Usage(1_000, 500, cached_input_tokens=400))

    assert (reply.model.slug, reply.credits) == ("claude-3-5-haiku", 5_024)
    assert message_done_frame(reply).comparison == Comparison(model="gpt-4o-mini", credits=840)


def test_a_reply_the_person_picked_or_that_cost_nothing_has_no_comparison(user, client):
    fund(user, 2_000_000)

    picked, routed = answer_turn(user, ["claude-3-5-haiku", "auto"], GENERAL_CHAT, usage=Usage(10, 5))
    [failed] = answer_turn(user, ["auto"], GENERAL_CHAT, usage=None)

    assert message_done_frame(picked).comparison is None and picked.comparison_model is None
    assert message_done_frame(routed).comparison is not None
    assert failed.comparison_model is not None  # chosen with the route...
    assert (failed.credits, failed.comparison_credits) == (0, None)  # ...but nothing was used to price
    assert message_done_frame(failed).comparison is None
    client.force_login(user)
    turn = client.get(f"/api/conversations/{picked.turn.conversation_id}/").json()["turns"][0]
    assert [m["comparison"] is None for m in turn["messages"]] == [True, False]


# --- The price ceiling, end to end through start_turn -------------------------------------------------------


def test_a_ceiling_below_the_dearer_model_sends_a_code_review_to_the_next_in_line(user):
    fund(user, 2_000_000)
    haiku = choose_model(prompt=CODE_REVIEW).estimated_credits
    set_auto_ceiling(user=user, credits=haiku - 1)

    [reply] = answer_turn(user, ["auto"], CODE_REVIEW, usage=Usage(1_000, 500))

    assert reply.model.slug == "gpt-4.1-mini"  # $0.40 / $1.60
    assert f"over the ceiling of {haiku - 1:,} credits" in reply.route_reason
    assert reply.credits == 2_400
    assert (reply.comparison_model.slug, reply.comparison_credits) == ("claude-3-5-haiku", 5_600)


def test_a_ceiling_at_the_estimate_still_allows_the_model(user):
    fund(user, 2_000_000)
    set_auto_ceiling(user=user, credits=choose_model(prompt=CODE_REVIEW).estimated_credits)

    [reply] = answer_turn(user, ["auto"], CODE_REVIEW, usage=Usage(1_000, 500))

    assert reply.model.slug == "claude-3-5-haiku"


def test_a_ceiling_no_model_fits_refuses_the_whole_turn_readably_and_writes_nothing(user):
    fund(user, 2_000_000)
    set_auto_ceiling(user=user, credits=1)
    before = (Conversation.objects.count(), Turn.objects.count(), Message.objects.count(), Hold.objects.count())

    with pytest.raises(ModelUnavailable) as refused:
        start_turn(
            user=user, request_id="r-1", conversation_id=None, model_slugs=["gpt-4o-mini", "auto"], content=CODE_REVIEW
        )

    assert refused.value.code == "model_unavailable"
    assert refused.value.detail == "No available model can answer within the ceiling of 1 credit."
    after = (Conversation.objects.count(), Turn.objects.count(), Message.objects.count(), Hold.objects.count())
    assert after == before
    wallet = Wallet.objects.get(user=user)
    assert (wallet.balance_credits, wallet.held_credits) == (2_000_000, 0)


def test_the_ceiling_is_the_person_s_own_and_leaves_models_they_pick_alone(user, django_user_model):
    fund(user, 2_000_000)
    set_auto_ceiling(user=user, credits=1)
    eve = django_user_model.objects.create_user(email="eve@example.com", password="x-long-passphrase")
    fund(eve, 2_000_000)

    [picked] = answer_turn(user, ["claude-3-5-haiku"], CODE_REVIEW, usage=Usage(1_000, 500))
    [hers] = answer_turn(eve, ["auto"], CODE_REVIEW, usage=Usage(1_000, 500))

    assert picked.model.slug == "claude-3-5-haiku" and picked.credits == 5_600
    assert hers.model.slug == "claude-3-5-haiku"  # Ada's ceiling is not Eve's
