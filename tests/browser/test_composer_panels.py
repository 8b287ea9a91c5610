"""What the composer says before a turn goes out, and what a reply's footer says after: in a real browser.

Per-panel too-long warnings (the turn goes to the models that fit, nothing held for the others), Auto's
estimate at the model Auto picks, and a reply's speed measured from its first token to its last.
"""

import re

import pytest
from playwright.sync_api import expect

from billing.models import Hold
from catalog.models import AIModel
from chat.models import Message
from standins.providers import count_tokens
from tests.browser.test_chat_page import choose_models, last_turn_panels, message_of, open_chat, send
from tests.factories import fund

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_prompt_too_long_for_one_model_is_flagged_on_it_and_sent_to_the_other(new_page, user):
    fund(user, 2_000_000)
    # 1,500 tokens, 800 kept for the reply: a prompt of ~1,000 estimated tokens does not fit Mistral Small.
    AIModel.objects.filter(slug="mistral-small").update(context_window=1_500, max_output_tokens=800)
    page = open_chat(new_page, user)
    choose_models(page, ["gpt-4o-mini", "mistral-small"])

    page.locator("#prompt").fill("word " * 600)
    warning = page.locator("[data-too-long]")
    expect(warning).to_have_text(
        "This prompt is too long for Mistral Small: it will be skipped. Send goes to GPT-4o mini."
    )
    chips = page.locator("[data-picker-summary] .chip")
    expect(chips.filter(has_text="Mistral Small")).to_have_class(re.compile(r"\btoo-long\b"))
    expect(chips.filter(has_text="GPT-4o mini")).not_to_have_class(re.compile(r"\btoo-long\b"))
    page.locator("#prompt").press("Enter")

    panels = last_turn_panels(page)
    expect(panels).to_have_count(1)
    expect(panels.first).to_have_attribute("data-status", "complete")
    assert [m.model.slug for m in Message.objects.filter(turn__user=user)] == ["gpt-4o-mini"]
    assert [h.model.slug for h in Hold.objects.filter(wallet__user=user)] == ["gpt-4o-mini"]  # none for the skipped
    expect(page.locator(".composer-alert")).to_be_hidden()

    page.locator("#prompt").fill("A short one")  # fits both again: the warning goes, the chip is plain
    expect(warning).to_be_hidden()
    expect(chips.filter(has_text="Mistral Small")).not_to_have_class(re.compile(r"\btoo-long\b"))


def test_auto_s_estimate_is_what_the_model_auto_picks_will_hold(new_page, user):
    fund(user, 2_000_000)
    page = open_chat(new_page, user)
    choose_models(page, ["auto"])

    page.locator("#prompt").fill("Hi, how are you today?")
    estimate = page.locator("[data-estimate]")
    expect(estimate).to_have_attribute("data-auto-models", "gpt-4o-mini")  # general chat, by the routing table
    expect(estimate).to_have_attribute("data-worst-credits", re.compile(r"^\d+$"))
    shown = int(estimate.get_attribute("data-worst-credits"))
    page.locator("#prompt").press("Enter")

    expect(last_turn_panels(page).first).to_have_attribute("data-status", "complete")
    hold = Hold.objects.get(wallet__user=user)
    assert hold.model.slug == "gpt-4o-mini"
    assert shown == hold.amount_credits


def footer_speed(panel) -> float:
    speed = panel.get_by_test_id("speed")
    expect(speed).to_have_text(re.compile(r"^~?[\d.]+ tok/s$"))
    return float(speed.inner_text().lstrip("~").split()[0])


def test_a_stopped_reply_s_speed_is_measured_like_a_complete_one_s_and_marked_estimated(new_page, user):
    fund(user, 2_000_000)
    page = open_chat(new_page, user)
    choose_models(page, ["gpt-4o-mini"])
    send(page, "A full answer [[sim:tokens=150]]")
    complete = last_turn_panels(page).first
    expect(complete).to_have_attribute("data-status", "complete")
    complete_speed = footer_speed(complete)
    expect(complete.get_by_test_id("speed")).not_to_contain_text("~")

    send(page, "A long answer [[sim:tokens=4000]]")
    stopped = last_turn_panels(page).first
    expect(stopped.locator(".panel-body")).to_contain_text("lorem")
    page.wait_for_timeout(700)
    stopped.get_by_role("button", name="Stop this reply").click()
    expect(stopped).to_have_attribute("data-status", "stopped")

    message = message_of(stopped)
    assert message.usage_estimated
    counts = stopped.get_by_test_id("token-counts")
    expect(counts).to_contain_text(f"~{message.output_tokens:,} out")
    expect(counts).to_have_attribute("title", re.compile("estimated"))
    expect(stopped.get_by_test_id("speed")).to_have_attribute("title", re.compile("leans high"))
    shown = footer_speed(stopped)
    assert shown == pytest.approx((message.output_tokens - 1) / (message.streaming_ms / 1000), abs=0.5)  # as shown
    # The same clock with the tokens the simulator really sent gives the complete reply's rate: what is left
    # of the difference is the estimated count, which the footer marks.
    sent = count_tokens(message.text)
    assert (sent - 1) / (message.streaming_ms / 1000) == pytest.approx(complete_speed, rel=0.25)


def test_the_speed_counts_the_gaps_between_tokens_over_the_time_from_first_to_last(new_page, user):
    page = open_chat(new_page, user)
    shown = page.evaluate(
        """async () => {
            const { tokensPerSecond } = await import("panels/chat/speed");
            return [
                tokensPerSecond({ output_tokens: 31, streaming_ms: 1000 }),
                tokensPerSecond({ output_tokens: 301, streaming_ms: 2000 }),
                tokensPerSecond({ output_tokens: 1, streaming_ms: 0 }),
                tokensPerSecond({ output_tokens: 40, streaming_ms: null }),
                tokensPerSecond({ output_tokens: 0, streaming_ms: 500 }),
            ];
        }"""
    )
    assert shown == ["30.0", "150", None, None, None]
