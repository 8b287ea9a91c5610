"""Marking a turn's best reply in a real browser: the star, the badge, reloading, and the usage page's winners."""

from pathlib import Path

import pytest
from playwright.sync_api import expect

from chat.models import Turn
from chat.router.classify import classify
from chat.winners import set_winner
from tests.browser.site import PHONE
from tests.browser.test_screenshots import PROMPT, screenshot_folder, seed_conversation
from tests.factories import compared_turn, fund

pytestmark = pytest.mark.django_db(transaction=True)

QUESTION = "What is the difference between a latte and a flat white?"


def test_a_winner_marked_on_the_page_stays_marked_and_counts_on_the_usage_page(new_page, user):
    fund(user, 1_000_000)
    mini, haiku = compared_turn(user, QUESTION, ["gpt-4o-mini", "claude-3-5-haiku"])
    page = new_page(user)
    page.goto(f"/chat/{mini.turn.conversation_id}/")
    panels = page.locator(".panel")
    stars = page.get_by_role("button", name="Mark as the best reply")
    expect(stars).to_have_count(2)

    panels.nth(1).get_by_role("button", name="Mark as the best reply").click()

    expect(panels.nth(1).get_by_role("button", name="Best reply (press to clear)")).to_have_attribute(
        "aria-pressed", "true"
    )
    expect(panels.nth(1).get_by_test_id("winner-badge")).to_have_text("Best reply")
    expect(panels.nth(0).get_by_test_id("winner-badge")).to_have_count(0)
    expect(panels.nth(1).get_by_role("button", name="Continue with Claude 3.5 Haiku")).to_be_visible()
    page.reload()
    expect(panels.nth(1).get_by_role("button", name="Best reply (press to clear)")).to_have_attribute(
        "aria-pressed", "true"
    )
    expect(panels.nth(0).get_by_role("button", name="Mark as the best reply")).to_have_attribute(
        "aria-pressed", "false"
    )
    assert Turn.objects.get(pk=mini.turn_id).winner_id == haiku.pk
    panels.nth(1).get_by_role("button", name="Continue with Claude 3.5 Haiku").click()
    expect(page.locator("[data-notices]")).to_contain_text("Next prompts go to Claude 3.5 Haiku only.")

    page.goto("/billing/usage/")
    task = page.locator(f'[data-testid="winners"] tbody[data-task="{classify(QUESTION).task.value}"]')
    expect(task.locator('tr[data-model="claude-3-5-haiku"]')).to_contain_text("1 of 1")
    expect(task.locator('tr[data-model="claude-3-5-haiku"]')).to_contain_text("100%")
    phone = new_page(user, viewport=PHONE)
    phone.goto("/billing/usage/")
    table = phone.get_by_test_id("winners")
    expect(table).to_contain_text("1 of 1")
    assert table.evaluate("table => table.scrollWidth <= table.parentElement.clientWidth"), "scrolls sideways"

    page.goto(f"/chat/{mini.turn.conversation_id}/")
    panels.nth(1).get_by_role("button", name="Best reply (press to clear)").click()
    expect(page.get_by_role("button", name="Mark as the best reply")).to_have_count(2)
    expect(page.get_by_test_id("winner-badge")).to_have_count(0)
    assert page.errors == []
    assert Turn.objects.get(pk=mini.turn_id).winner_id is None


def test_a_single_reply_has_no_star(new_page, user):
    (only,) = compared_turn(user, QUESTION, ["gpt-4o-mini"])
    page = new_page(user)
    page.goto(f"/chat/{only.turn.conversation_id}/")
    expect(page.locator('.panel[data-status="complete"]')).to_have_count(1)

    expect(page.locator('[data-action="best"]')).to_have_count(0)


@pytest.mark.parametrize(("name", "viewport"), [("desktop", None), ("phone", PHONE)])
def test_a_turn_with_a_winner_renders_its_badge_on_desktop_and_phone(new_page, user, name, viewport, tmp_path):
    fund(user, 9_874_512)
    conversation = seed_conversation(user)
    turn = conversation.turns.get()
    set_winner(turn=turn, message=turn.messages.get(panel=2))
    page = new_page(user, **({"viewport": viewport} if viewport else {}))
    page.goto(f"/chat/{conversation.pk}/")
    winner = page.locator(".panel").nth(2)
    expect(winner.get_by_test_id("winner-badge")).to_be_visible()
    expect(winner.get_by_role("button", name="Continue with Claude 3.5 Haiku")).to_be_visible()
    expect(page.locator(".code-block")).to_have_count(3)
    assert turn.content == PROMPT
    if viewport:  # on a phone the panels stack: show the winner
        winner.scroll_into_view_if_needed()
    else:
        page.locator("[data-turns]").evaluate("turns => turns.scrollTo(0, 0)")
    path = Path(screenshot_folder(tmp_path)) / f"winner-{name}-light.png"
    page.screenshot(path=path)
    assert path.stat().st_size > 20_000
    assert page.errors == []
