"""Branches, versions and live tabs in a real browser: edit an earlier prompt, step through versions, two tabs."""

import re
import time

import pytest
from playwright.sync_api import expect

from billing.models import LedgerEntry
from chat.models import Conversation, Message, Turn
from tests.browser.site import screenshot
from tests.browser.test_chat_page import choose_models, last_turn_panels, message_of, open_chat, send
from tests.factories import fund

pytestmark = pytest.mark.django_db(transaction=True)


def answered(page, turns: int) -> None:
    """Wait until the page shows `turns` turns and every panel has finished."""
    expect(page.locator(".turn")).to_have_count(turns)
    expect(page.locator('.panel[data-status="streaming"], .panel[data-status="waiting"]')).to_have_count(0)


def eventually(check, seconds: float = 5.0) -> bool:
    """Return whether `check()` becomes true within `seconds` (what the page saves arrives a moment later)."""
    deadline = time.monotonic() + seconds
    while not check():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def prompts(page) -> list[str]:
    return page.locator(".turn .prompt-text").all_inner_texts()


def test_editing_an_earlier_prompt_forks_and_the_arrows_step_between_branches(new_page, user, tmp_path):
    fund(user, 5_000_000)
    page = open_chat(new_page, user)
    choose_models(page, ["gpt-4o-mini"])
    for number, prompt in enumerate(["First?", "Second?", "Third?"], start=1):
        send(page, prompt)
        answered(page, number)

    second = page.locator(".turn").nth(1)
    second.locator(".prompt").hover()
    second.get_by_role("button", name="Edit this prompt (a new branch)").click()
    editor = second.get_by_role("textbox", name="Edit the prompt")
    editor.fill("Second, rephrased?")
    editor.press("Enter")

    answered(page, 2)  # the edited turn replaces the rest of the branch on the page
    assert prompts(page) == ["First?", "Second, rephrased?"]
    edited = Turn.objects.get(content="Second, rephrased?")
    assert edited.parent.content == "First?"  # a sibling of "Second?", whose branch is kept
    assert Turn.objects.filter(parent__content="Second?").get().content == "Third?"
    nav = page.locator(".turn").nth(1).locator(".branch-nav")
    expect(nav).to_contain_text("2 / 2")

    nav.get_by_role("button", name="Previous branch").click()
    expect(page.locator(".turn")).to_have_count(3)
    assert prompts(page) == ["First?", "Second?", "Third?"]
    expect(page.locator(".turn").nth(1).locator(".branch-nav")).to_contain_text("1 / 2")
    page.locator(".turn").nth(1).scroll_into_view_if_needed()
    screenshot(page, "branches-desktop-light.png", tmp_path)

    page.reload()  # the branch last shown is the one the conversation opens on
    answered(page, 3)
    assert prompts(page) == ["First?", "Second?", "Third?"]
    send(page, "Fourth?")  # follows the branch shown, not the newest turn
    answered(page, 4)
    assert Turn.objects.get(content="Fourth?").parent.content == "Third?"
    assert page.errors == []


def test_regenerating_keeps_every_version_behind_arrows_and_on_the_ledger(new_page, user, tmp_path):
    fund(user, 5_000_000)
    page = open_chat(new_page, user)
    choose_models(page, ["gpt-4o-mini", "claude-3-haiku"])
    send(page, "Name a green tea.")
    answered(page, 1)
    panel = last_turn_panels(page).nth(1)
    first = message_of(panel)

    panel.get_by_role("button", name="Regenerate this reply").click()
    expect(panel.locator(".version-nav")).to_have_text("2 / 2")
    expect(panel).to_have_attribute("data-status", "complete")
    second = message_of(panel)
    assert (second.turn_id, second.panel, second.version) == (first.turn_id, 1, 2)
    screenshot(page, "versions-desktop-light.png", tmp_path)

    panel.get_by_role("button", name="Previous version").click()
    expect(panel.locator(".version-nav")).to_have_text("1 / 2")
    expect(panel).to_have_attribute("data-message-id", str(first.pk))
    assert eventually(lambda: Message.objects.get(pk=first.pk).current)  # saved for the next prompt's history

    page.reload()
    expect(page.locator("#chat")).to_have_attribute("data-ready", "true")
    panel = last_turn_panels(page).nth(1)
    expect(panel.locator(".version-nav")).to_have_text("1 / 2")  # the version shown is remembered
    expect(panel).to_have_attribute("data-message-id", str(first.pk))
    usage = LedgerEntry.objects.filter(kind="usage", wallet__user=user)
    assert usage.count() == 3  # two panels, and the regenerated version: every version is paid for
    assert page.errors == []


def test_a_turn_sent_in_one_tab_appears_and_streams_in_another(new_page, user):
    fund(user, 5_000_000)
    sender = open_chat(new_page, user)
    choose_models(sender, ["gpt-4o-mini", "claude-3-haiku"])
    send(sender, "Hello from the first tab")
    answered(sender, 1)
    conversation = Conversation.objects.get(user=user)
    watcher = new_page(user)
    watcher.goto(f"/chat/{conversation.pk}/")
    expect(watcher.locator("#chat")).to_have_attribute("data-connection", "open")
    answered(watcher, 1)

    send(sender, "Write two sentences about oolong.")

    expect(watcher.locator(".turn")).to_have_count(2)  # at once, without a reload
    assert watcher.locator(".turn").last.locator(".prompt-text").inner_text() == "Write two sentences about oolong."
    answered(watcher, 2)
    for index in range(2):
        shown = last_turn_panels(watcher).nth(index)
        expect(shown).to_have_attribute("data-status", "complete")
        saved = message_of(shown)
        text = re.sub(r"\s+", " ", shown.locator(".panel-body").inner_text()).strip()
        assert text and text[:20] in re.sub(r"\s+", " ", saved.text)
    assert watcher.errors == [] and sender.errors == []
