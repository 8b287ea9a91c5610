"""Presets, the system prompt and each panel's settings in a real browser, checked against what the provider got."""

import re
from decimal import Decimal

import pytest
from playwright.sync_api import expect

from billing.models import Hold
from chat.models import Conversation, Message, Preset
from chat.presets import BUILTIN_PRESETS
from tests.browser.site import DESKTOP, PHONE
from tests.browser.test_chat_page import choose_models, message_of, open_chat, send
from tests.browser.test_screenshots import screenshot_folder
from tests.factories import fund

pytestmark = pytest.mark.django_db(transaction=True)

CODE_REVIEWER = next(preset for preset in BUILTIN_PRESETS if preset.key == "code-reviewer")


def preset_link(page, name: str):
    return page.locator("[data-preset-list] a", has_text=name)


def chips(page):
    return page.locator("[data-picker-summary] .chip")


def estimate_shown(page, *, not_=None) -> int:
    estimate = page.locator("[data-estimate]")
    expect(estimate).to_have_attribute("data-worst-credits", re.compile(r"^\d+$"))
    if not_ is not None:
        expect(estimate).not_to_have_attribute("data-worst-credits", str(not_))
    return int(estimate.get_attribute("data-worst-credits"))


def set_panel(page, slug: str, *, temperature: str | None = None, max_output_tokens: str | None = None) -> None:
    page.locator("[data-open-panel-settings]").click()
    dialog = page.locator("#panel-settings")
    expect(dialog).to_be_visible()
    fieldset = dialog.locator(f'fieldset[data-model="{slug}"]')
    if temperature is not None:
        fieldset.get_by_label("Temperature").fill(temperature)
    if max_output_tokens is not None:
        fieldset.get_by_label("Max output tokens").fill(max_output_tokens)
    dialog.get_by_role("button", name="Save", exact=True).click()
    expect(dialog).to_be_hidden()


def test_a_built_in_preset_starts_a_new_chat_and_its_turn_reaches_the_provider_with_its_prompt_and_settings(
    new_page, user, simulator
):
    fund(user, 2_000_000)
    page = open_chat(new_page, user)
    preset_link(page, "Code reviewer").click()
    expect(page).to_have_url(re.compile(r"/chat/\?preset=code-reviewer$"))
    expect(page.locator("#chat")).to_have_attribute("data-ready", "true")
    expect(chips(page)).to_have_text(["GPT-4o mini T 0.2 · 2,000 max"])
    expect(page.locator("[data-system-prompt-summary]")).to_have_text(CODE_REVIEWER.system_prompt)
    page.locator("[data-open-panel-settings]").click()
    expect(page.get_by_label("Temperature")).to_have_value("0.2")
    expect(page.get_by_label("Max output tokens")).to_have_value("2000")
    page.locator("#panel-settings").get_by_role("button", name="Cancel").click()

    send(page, "Review this: def add(a, b): return a - b")
    panel = page.locator(".panel").first
    expect(panel).to_have_attribute("data-status", "complete")
    message = message_of(panel)
    assert (message.temperature, message.max_output_tokens) == (Decimal("0.20"), 2000)
    conversation = message.turn.conversation
    assert conversation.system_prompt == CODE_REVIEWER.system_prompt
    (record,) = [r for r in simulator.records if r.messages and "def add(a, b)" in r.messages[-1][1]]
    assert record.messages[0] == ("system", CODE_REVIEWER.system_prompt)
    assert record.options["temperature"] == 0.2

    # The conversation remembers its settings; its system prompt is changed in place.
    page.reload()
    expect(page.locator("#chat")).to_have_attribute("data-ready", "true")
    expect(chips(page)).to_have_text(["GPT-4o mini T 0.2 · 2,000 max"])
    page.locator("[data-system-prompt] summary").click()
    page.locator("#system-prompt-text").fill("Review briefly.\nOnly the worst bug.")
    page.locator("[data-system-prompt]").get_by_role("button", name="Save").click()
    expect(page.locator("[data-system-prompt-summary]")).to_have_text("Review briefly.")
    expect(page.locator("#system-prompt-text")).to_be_hidden()
    conversation.refresh_from_db()
    assert conversation.system_prompt == "Review briefly.\nOnly the worst bug."
    assert page.errors == []


def test_a_system_prompt_typed_as_soon_as_its_editor_opens_is_kept(new_page, user):
    """The editor's toggle event comes a task after it opens; it once refilled the box, wiping what was typed."""
    page = open_chat(new_page, user)

    typed_then = page.evaluate(
        """async () => {
            const editor = document.querySelector("[data-system-prompt]");
            editor.open = true;  // as a click on its summary does; the toggle event is queued, not yet run
            editor.querySelector("textarea").value = "Answer like a ship's captain.";
            await new Promise((resolve) => setTimeout(resolve, 50));  // the toggle event has run
            return editor.querySelector("textarea").value;
        }"""
    )

    assert typed_then == "Answer like a ship's captain."
    page.locator("[data-system-prompt]").get_by_role("button", name="Save").click()
    expect(page.locator("[data-system-prompt-summary]")).to_have_text("Answer like a ship's captain.")
    page.locator("[data-system-prompt] summary").click()  # reopened: the saved text, and a draft closed unsaved
    page.locator("#system-prompt-text").fill("A draft never saved.")  # is dropped when the editor closes
    page.locator("[data-system-prompt] summary").click()
    page.locator("[data-system-prompt] summary").click()
    expect(page.locator("#system-prompt-text")).to_have_value("Answer like a ship's captain.")
    assert page.errors == []


def test_a_lower_max_output_tokens_lowers_the_estimate_to_what_the_server_holds(new_page, user):
    fund(user, 2_000_000)
    page = open_chat(new_page, user)
    choose_models(page, ["gpt-4o-mini", "claude-3-5-haiku"])
    page.locator("#prompt").fill("Estimate me with a short reply.")
    before = estimate_shown(page)

    set_panel(page, "claude-3-5-haiku", max_output_tokens="100")
    expect(chips(page)).to_have_text(["GPT-4o mini", "Claude 3.5 Haiku 100 max"])
    after = estimate_shown(page, not_=before)
    assert after < before

    page.locator("#prompt").press("Enter")
    expect(page.locator('.panel[data-status="complete"]')).to_have_count(2)
    held = sum(Hold.objects.filter(wallet__user=user).values_list("amount_credits", flat=True))
    assert after == held  # "up to" is what the server held, with the lower limit
    assert list(Message.objects.order_by("panel").values_list("max_output_tokens", flat=True)) == [None, 100]
    assert page.errors == []


def test_a_preset_saved_from_the_current_choice_is_listed_after_a_reload_starts_a_chat_and_is_renamed_and_deleted(
    new_page, user
):
    page = open_chat(new_page, user)
    choose_models(page, ["gpt-4o-mini", "gemini-2.0-flash"])
    page.locator("[data-system-prompt] summary").click()
    page.locator("#system-prompt-text").fill("Answer like a ship's captain.")
    page.locator("[data-system-prompt]").get_by_role("button", name="Save").click()
    set_panel(page, "gemini-2.0-flash", temperature="1.5", max_output_tokens="800")

    page.locator("[data-save-preset]").click()
    dialog = page.locator("#save-preset")
    expect(dialog).to_contain_text(
        "Saves GPT-4o mini, Gemini 2.0 Flash, each with its settings, and the system prompt."
    )
    dialog.get_by_label("Name").fill("Captains")
    dialog.get_by_role("button", name="Save preset").click()
    expect(dialog).to_be_hidden()
    preset = Preset.objects.get(user=user)
    assert (preset.name, preset.system_prompt, preset.model_slugs, preset.panel_settings) == (
        "Captains",
        "Answer like a ship's captain.",
        ["gpt-4o-mini", "gemini-2.0-flash"],
        [{"temperature": None, "max_output_tokens": None}, {"temperature": 1.5, "max_output_tokens": 800}],
    )

    page.goto("/chat/")  # a fresh page: nothing of the choice above is kept but the preset
    page.evaluate("() => localStorage.clear()")
    page.reload()
    expect(page.locator("#chat")).to_have_attribute("data-ready", "true")
    expect(page.locator("[data-system-prompt-summary]")).to_have_text("None")
    preset_link(page, "Captains").click()
    expect(page.locator("#chat")).to_have_attribute("data-ready", "true")
    expect(chips(page)).to_have_text(["GPT-4o mini", "Gemini 2.0 Flash T 1.5 · 800 max"])
    expect(page.locator("[data-system-prompt-summary]")).to_have_text("Answer like a ship's captain.")

    # A built-in preset can be neither renamed nor deleted; one's own can be both.
    expect(page.locator('[data-preset-list] [data-id="code-reviewer"] button')).to_have_count(0)
    page.get_by_role("button", name="Rename preset Captains").click()
    page.get_by_label("New preset name").fill("Pirates")
    page.get_by_label("New preset name").press("Enter")
    expect(preset_link(page, "Pirates")).to_be_visible()
    preset.refresh_from_db()
    assert preset.name == "Pirates"
    page.get_by_role("button", name="Delete preset Pirates").click()
    page.get_by_role("group", name="Delete preset Pirates?").get_by_role("button", name="Delete").click()
    expect(preset_link(page, "Pirates")).to_have_count(0)
    assert not Preset.objects.exists()
    page.reload()
    expect(page.locator("#chat")).to_have_attribute("data-ready", "true")
    expect(page.locator("[data-preset-list] li")).to_have_count(len(BUILTIN_PRESETS))
    assert not Conversation.objects.exists()  # nothing was sent
    assert page.errors == []


@pytest.mark.parametrize("color_scheme", ["light", "dark"])
def test_screenshots_of_the_presets_the_system_prompt_and_the_panel_settings(new_page, user, color_scheme, tmp_path):
    fund(user, 9_874_512)
    page = new_page(user, viewport=DESKTOP, color_scheme=color_scheme)
    page.goto("/chat/?preset=concise-answers")
    expect(page.locator("#chat")).to_have_attribute("data-ready", "true")
    expect(chips(page)).to_have_text(["GPT-4o mini 300 max", "Gemini 2.0 Flash 300 max"])
    page.locator("[data-system-prompt] summary").click()
    page.locator("#prompt").fill("What is the capital of Australia?")
    estimate_shown(page)
    page.locator("#prompt").blur()
    save_to = screenshot_folder(tmp_path)
    page.screenshot(path=save_to / f"presets-desktop-{color_scheme}.png")
    page.locator("[data-open-panel-settings]").click()
    expect(page.locator("#panel-settings")).to_be_visible()
    page.screenshot(path=save_to / f"panel-settings-desktop-{color_scheme}.png")

    phone = new_page(user, viewport=PHONE, color_scheme=color_scheme)
    phone.goto("/chat/?preset=code-reviewer")
    expect(phone.locator("#chat")).to_have_attribute("data-ready", "true")
    expect(chips(phone)).to_have_text(["GPT-4o mini T 0.2 · 2,000 max"])
    phone.get_by_role("button", name="Show conversations").click()
    expect(phone.locator("[data-preset-list] li")).to_have_count(len(BUILTIN_PRESETS))
    expect(phone.locator("#sidebar")).to_have_css("transform", "none")
    phone.screenshot(path=save_to / f"presets-phone-{color_scheme}.png")
    for name in ("presets-desktop", "panel-settings-desktop", "presets-phone"):
        assert (save_to / f"{name}-{color_scheme}.png").stat().st_size > 20_000
    assert page.errors == phone.errors == []
