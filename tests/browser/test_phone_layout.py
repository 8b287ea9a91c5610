"""A 390 px phone: the pricing page as one card per model, and every chosen model's chip in view on the chat page.

Boxes are measured in the browser: a card or chip counts as visible only if it lies wholly inside the page's width
and inside the box that holds it, so clipping and sideways scrolling fail the tests rather than pass them unseen.
"""

import pytest
from playwright.sync_api import expect

from chat.selectors import catalog_models
from tests.browser.site import DESKTOP, PHONE
from tests.browser.test_chat_page import choose_models, open_chat

pytestmark = pytest.mark.django_db(transaction=True)

# Each card's lines, measured: how far it reaches, how many are blank, and any height beyond its lines, their
# margins and gaps and the card's own padding and border (a tall empty row shows up there).
CARD_BOXES = """cards => cards.map(card => {
    const box = card.getBoundingClientRect(), style = getComputedStyle(card);
    const lines = [...card.children];
    const px = (style, ...names) => names.reduce((sum, name) => sum + (parseFloat(style[name]) || 0), 0);
    const frame = px(style, "paddingTop", "paddingBottom", "borderTopWidth", "borderBottomWidth");
    const outer = line => line.getBoundingClientRect().height + px(getComputedStyle(line), "marginTop", "marginBottom");
    const used = lines.reduce((sum, line) => sum + outer(line), frame + px(style, "rowGap") * (lines.length - 1));
    return {
        left: box.left, right: box.right, unused: box.height - used,
        widest: Math.max(...lines.map(line => line.getBoundingClientRect().right)),
        blank: lines.filter(line => !line.textContent.trim()).length,
    };
})"""


def open_pricing(new_page, user, viewport):
    page = new_page(user, viewport=viewport)
    page.goto("/pricing/")
    expect(page.locator("[data-calc-results] tr").first).to_be_visible()  # the calculator has answered
    return page


def test_the_pricing_page_on_a_phone_shows_each_model_as_a_card_without_sideways_scrolling(new_page, user):
    page = open_pricing(new_page, user, PHONE)
    width = PHONE["width"]

    assert page.evaluate("document.documentElement.scrollWidth") <= width
    for scroll_width, client_width in page.locator(".table-wrap").evaluate_all(
        "wraps => wraps.map(wrap => [wrap.scrollWidth, wrap.clientWidth])"
    ):
        assert scroll_width <= client_width  # nor does anything scroll sideways inside the page
    models = page.locator("table.pricing tbody tr")
    expect(models).to_have_count(len(catalog_models()))
    for table in ("table.pricing", "table.calc-results"):
        for card in page.locator(f"{table} tbody tr").evaluate_all(CARD_BOXES):
            assert card["left"] >= 0 and card["right"] <= width
            assert card["widest"] <= card["right"]
            assert card["blank"] == 0
            assert card["unused"] < 1
    for chip, card in page.locator("table.pricing .chip").evaluate_all(
        "chips => chips.map(chip => [chip, chip.closest('tr')].map(box => box.getBoundingClientRect().right))"
    ):
        assert chip <= card <= width
    assert page.locator("table.pricing .chip").count() > 0
    # Still a table to assistive technology: the column headers name what each card's lines are.
    pricing = page.get_by_role("table").first
    expect(pricing.get_by_role("columnheader")).to_have_count(5)
    expect(pricing.get_by_role("rowheader")).to_have_count(len(catalog_models()))
    assert page.locator("table.pricing thead").bounding_box()["height"] <= 1  # there for them, not drawn
    expect(models.first.locator("td").first).to_contain_text("$")
    assert page.errors == []


def test_the_pricing_page_on_a_desktop_is_one_table_with_a_line_per_model(new_page, user):
    page = open_pricing(new_page, user, DESKTOP)

    table = page.locator("table.pricing")
    assert table.evaluate("table => getComputedStyle(table).display") == "table"
    expect(table.get_by_role("columnheader", name="Input per 1M tokens")).to_be_visible()
    wrap_scroll, wrap_width = page.locator(".table-wrap").first.evaluate("wrap => [wrap.scrollWidth, wrap.clientWidth]")
    assert wrap_scroll <= wrap_width
    tops = table.locator("tbody tr").evaluate_all("rows => rows.map(row => row.getBoundingClientRect().top)")
    assert tops == sorted(set(tops))  # one row under another, not cards side by side


def test_every_chosen_model_chip_on_a_phone_is_in_view(new_page, user):
    page = open_chat(new_page, user, viewport=PHONE)
    longest_names = ["claude-sonnet", "claude-3-5-haiku", "gemini-2.0-flash", "gemini-2.5-flash"]
    choose_models(page, longest_names)

    chips = page.locator("[data-picker-summary] .chip")
    expect(chips).to_have_count(4)
    boxes = page.locator("[data-picker-summary]").evaluate(
        """summary => {
            const holder = summary.getBoundingClientRect(), button = summary.closest('button').getBoundingClientRect();
            return [...summary.children].map(chip => {
                const box = chip.getBoundingClientRect();
                return {chip: [box.left, box.right], holder: [holder.left, holder.right], button: button.right,
                        clipped: chip.scrollWidth > chip.clientWidth};
            });
        }"""
    )
    for box in boxes:
        assert box["holder"][0] <= box["chip"][0] and box["chip"][1] <= box["holder"][1] <= box["button"]
        assert box["chip"][1] <= PHONE["width"]
        assert not box["clipped"]
    assert page.locator("[data-picker-summary]").evaluate("summary => getComputedStyle(summary).maskImage") == "none"
    send, chosen = page.locator("[data-send]").bounding_box(), page.locator("[data-open-picker]").bounding_box()
    # The chips leave the Send button clear: beside it, or on a row of their own above it.
    assert chosen["x"] + chosen["width"] <= send["x"] or chosen["y"] + chosen["height"] <= send["y"]
