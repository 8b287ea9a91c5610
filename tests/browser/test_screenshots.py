"""Screenshots of the chat page (desktop and phone) and the pricing page (phone), light and dark, from a real browser.

Every run renders a conversation with three panels through the page's own markdown path and checks it, and the
pricing page as cards; `PANELS_UPDATE_SCREENSHOTS=1` also saves the pictures to docs/screenshots/ for the README.
"""

import os
import uuid
from pathlib import Path

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from billing.models import BillingSettings
from billing.pricing import cost_of
from billing.rates import rate_for
from catalog.models import AIModel
from chat.models import Conversation, Message, Turn
from tests import ROOT
from tests.browser.site import DESKTOP, PHONE
from tests.factories import fund

pytestmark = pytest.mark.django_db(transaction=True)

PROMPT = "Explain recursion with a short Python example"
REPLIES = [
    # (requested, answering model, route, text, input tokens, output tokens, ttft ms, duration ms)
    (
        "gpt-4o-mini",
        "gpt-4o-mini",
        None,
        "**Recursion** is when a function solves a problem by calling itself on a smaller piece of the same "
        "problem, until it reaches a case simple enough to answer directly.\n\n"
        "```python\ndef factorial(n: int) -> int:\n    if n <= 1:  # base case\n        return 1\n"
        "    return n * factorial(n - 1)  # recursive case\n\nprint(factorial(5))  # 120\n```\n\n"
        "Every recursive function needs:\n\n1. A **base case** that stops the calls.\n"
        "2. A **recursive case** that moves toward it.",
        22,
        118,
        412,
        2_310,
    ),
    (
        "gemini-2.0-flash",
        "gemini-2.0-flash",
        None,
        "Recursion means defining something in terms of *itself*. A function keeps calling itself on a "
        "smaller input until it hits a **base case**.\n\n"
        "```python\ndef total(items):\n    if not items:\n        return 0\n"
        "    return items[0] + total(items[1:])\n```\n\n"
        "| Call | Returns |\n|---|---|\n| `total([2, 3])` | `2 + total([3])` |\n"
        "| `total([3])` | `3 + total([])` |\n| `total([])` | `0` |",
        22,
        104,
        298,
        1_420,
    ),
    (
        "auto",
        "claude-3-5-haiku",
        ("code_review", "Code review and explanation: a request to explain code. Claude 3.5 Haiku: nuanced reasoning "
         "about code."),
        "Think of Russian dolls: to open the biggest one you open the one inside it, and so on, until you reach "
        "a doll that does not open.\n\n```python\ndef count_down(n):\n    if n == 0:\n"
        "        print(\"Liftoff!\")\n        return\n    print(n)\n    count_down(n - 1)\n```\n\n"
        "> Python stops at about 1,000 nested calls, so very deep problems are often better as loops.",
        22,
        96,
        365,
        1_880,
    ),
]  # fmt: skip


def seed_conversation(user) -> Conversation:
    """Write a finished three-panel turn, priced as the ledger would price it, plus older conversations."""
    for title in ("Tea vs coffee, in a table", "Regex for UK postcodes", "Summarise the Q3 board memo"):
        Conversation.objects.create(user=user, title=title, chosen_models=["gpt-4o-mini"])
    conversation = Conversation.objects.create(
        user=user, title="Recursion, explained", chosen_models=[reply[0] for reply in REPLIES]
    )
    turn = Turn.objects.create(conversation=conversation, user=user, request_id=str(uuid.uuid4()), content=PROMPT)
    billing = BillingSettings.load()
    for panel, (requested, slug, route, text, tokens_in, tokens_out, ttft, duration) in enumerate(REPLIES):
        model = AIModel.objects.get(slug=slug)
        price = model.current_price()
        cost = cost_of(input_tokens=tokens_in, output_tokens=tokens_out, rate=rate_for(price, billing))
        Message.objects.create(
            turn=turn,
            panel=panel,
            model=model,
            requested_model=requested,
            route_task=route[0] if route else "",
            route_reason=route[1] if route else "",
            text=text,
            status=Message.Status.COMPLETE,
            input_tokens=tokens_in,
            output_tokens=tokens_out,
            credits=cost.credits,
            price=price,
            ttft_ms=ttft,
            duration_ms=duration,
            streaming_ms=duration - ttft,  # the footer measures speed over it
            finished_at=timezone.now(),
        )
    return conversation


def screenshot_folder(tmp_path) -> Path:
    """Return docs/screenshots/ when the pictures are to be updated, else a throwaway folder."""
    save_to = ROOT / "docs/screenshots" if os.environ.get("PANELS_UPDATE_SCREENSHOTS") else tmp_path
    save_to.mkdir(parents=True, exist_ok=True)
    return save_to


@pytest.mark.parametrize("color_scheme", ["light", "dark"])
def test_the_chat_page_renders_three_panels_on_desktop_and_phone(new_page, user, color_scheme, tmp_path):
    fund(user, 9_874_512)
    conversation = seed_conversation(user)
    save_to = screenshot_folder(tmp_path)
    for name, viewport in (("desktop", DESKTOP), ("phone", PHONE)):
        page = new_page(user, viewport=viewport, color_scheme=color_scheme)
        page.goto(f"/chat/{conversation.pk}/")
        expect(page.locator('.panel[data-status="complete"]')).to_have_count(3)
        expect(page.locator(".code-block")).to_have_count(3)
        expect(page.locator(".panel").nth(2).locator(".panel-model")).to_have_text("Auto → Claude 3.5 Haiku")
        expect(page.locator("[data-conversation-list] li")).to_have_count(4)
        expect(page.get_by_test_id("header-balance")).to_have_text("9,874,512")
        page.locator("#prompt").fill("Now show the same with a loop")
        expect(page.locator("[data-estimate]")).to_contain_text("Up to")
        page.locator("#prompt").blur()
        page.locator("[data-turns]").evaluate("turns => turns.scrollTo(0, 0)")  # the prompt, then the panels
        path = Path(save_to) / f"chat-{name}-{color_scheme}.png"
        page.screenshot(path=path)
        assert path.stat().st_size > 20_000
        assert page.errors == []


@pytest.mark.parametrize("color_scheme", ["light", "dark"])
def test_the_pricing_page_renders_a_card_per_model_on_a_phone(new_page, user, color_scheme, tmp_path):
    fund(user, 9_874_512)
    page = new_page(user, viewport=PHONE, color_scheme=color_scheme)
    page.goto("/pricing/")
    expect(page.locator("table.pricing tbody tr").first).to_have_css("display", "flex")  # a card
    expect(page.locator("[data-calc-results] tr").first).to_be_visible()
    path = screenshot_folder(tmp_path) / f"pricing-phone-{color_scheme}.png"
    page.screenshot(path=path)
    assert path.stat().st_size > 20_000
    assert page.errors == []
