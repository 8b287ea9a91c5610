"""The models a conversation remembers for its picker: a choice is remembered, a regenerated panel is not one."""

import pytest
from playwright.sync_api import expect

from chat.models import Conversation
from tests.browser.test_chat_page import choose_models, last_turn_panels, open_chat, send
from tests.factories import fund

pytestmark = pytest.mark.django_db(transaction=True)


def test_regenerating_one_panel_leaves_both_models_in_the_picker_when_the_conversation_is_reopened(new_page, user):
    fund(user, 2_000_000)
    page = open_chat(new_page, user)
    choose_models(page, ["gpt-4o-mini", "claude-3-haiku"])
    send(page, "Which tea goes with breakfast?")
    expect(page.locator('.panel[data-status="complete"]')).to_have_count(2)

    last_turn_panels(page).nth(1).get_by_role("button", name="Regenerate this reply").click()
    expect(page.locator(".turn")).to_have_count(1)  # a new version in place, not a new turn
    regenerated = last_turn_panels(page).nth(1)
    expect(regenerated.locator(".version-nav")).to_have_text("2 / 2")
    expect(regenerated).to_have_attribute("data-status", "complete")
    assert regenerated.locator(".panel-model").inner_text() == "Claude 3 Haiku"

    page.evaluate("() => localStorage.clear()")  # the server's memory is what counts, on any device
    page.reload()
    expect(page.locator("#chat")).to_have_attribute("data-ready", "true")
    expect(page.locator("[data-picker-summary] .chip")).to_have_text(["GPT-4o mini", "Claude 3 Haiku"])
    assert Conversation.objects.get(user=user).chosen_models == ["gpt-4o-mini", "claude-3-haiku"]
    assert page.errors == []
