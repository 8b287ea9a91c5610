"""Money in the browser reads as on the server: one rule (billing/formatting.py, static/js/format.js)."""

import re

import pytest
from playwright.sync_api import expect

from billing.formatting import usd
from billing.models import BillingSettings
from billing.pricing import usd_for_credits
from tests.billing.test_formatting import SHOWN_AMOUNTS
from tests.billing.test_money_pages import SHOWN_DOLLARS, misformatted_dollars
from tests.browser.test_chat_page import choose_models, last_turn_panels, message_of, open_chat, send
from tests.factories import fund

pytestmark = pytest.mark.django_db(transaction=True)

CREDITS_TO_DOLLARS = [0, 1, 97, 181, 1_604, 123_072, 2_000_000, 1_234_567_891, -5_600]


def test_the_browser_formats_dollars_exactly_as_the_server_does(new_page, user):
    page = open_chat(new_page, user)
    per_usd = BillingSettings.load().credits_per_usd

    shown = page.evaluate(
        """async ([amounts, credits, perUsd]) => {
            const format = await import("panels/format");
            return [amounts.map((amount) => format.usd(amount)), credits.map((c) => format.usdOfCredits(c, perUsd))];
        }""",
        [[amount for amount, _ in SHOWN_AMOUNTS], CREDITS_TO_DOLLARS, per_usd],
    )

    assert shown[0] == [text for _, text in SHOWN_AMOUNTS]
    assert shown[1] == [usd(usd_for_credits(credits, credits_per_usd=per_usd)) for credits in CREDITS_TO_DOLLARS]


def test_a_finished_reply_s_footer_and_the_estimate_show_dollars_by_the_rule(new_page, user):
    fund(user, 2_000_000)
    per_usd = BillingSettings.load().credits_per_usd
    page = open_chat(new_page, user)
    choose_models(page, ["gpt-4o-mini"])

    page.locator("#prompt").fill("Compare tea and coffee.")
    estimate = page.locator("#estimate")
    expect(estimate).to_have_attribute("data-worst-credits", re.compile(r"^\d+$"))
    worst = int(estimate.get_attribute("data-worst-credits"))
    expect(estimate).to_contain_text(f"{worst:,} credits ({usd(usd_for_credits(worst, credits_per_usd=per_usd))})")
    send(page, "Compare tea and coffee. [[sim:tokens=120]]")

    panel = last_turn_panels(page).first
    expect(panel).to_have_attribute("data-status", "complete")
    message = message_of(panel)
    cost = usd(usd_for_credits(message.credits, credits_per_usd=per_usd))
    assert re.fullmatch(r"\$0\.0000\d\d", cost)  # a short reply costs a fraction of a cent: two digits
    footer = panel.locator(".panel-foot")
    expect(footer).to_contain_text(f"{message.credits:,} credits ({cost})")
    assert misformatted_dollars(footer.inner_text()) == []
    page.reload()  # the same reply read back over HTTP
    expect(last_turn_panels(page).first.locator(".panel-foot")).to_contain_text(f"{message.credits:,} credits ({cost})")


def test_the_pricing_page_and_its_calculator_show_dollars_by_the_rule(new_page, user):
    page = new_page(user)
    page.goto("/pricing/")
    mini = page.locator("[data-calc-results] tr[data-slug='gpt-4o-mini']")

    # 1,000 requests of 500 in and 300 out on gpt-4o-mini: $0.000255 each, $0.255 in all.
    expect(mini.locator("td").nth(0)).to_contain_text("$0.00026")
    expect(mini.locator("td").nth(1)).to_contain_text("$0.26")
    price_row = page.locator("table tr[data-slug='gpt-4o-mini']").first
    expect(price_row).to_contain_text("$0.15")
    expect(price_row).to_contain_text("$0.60")
    text = page.locator("main").inner_text()
    assert len(SHOWN_DOLLARS.findall(text)) > 20
    assert misformatted_dollars(text) == []
    page.get_by_label("Output tokens per request").fill("3")  # 500 in, 3 out: $0.0000768 each
    expect(mini.locator("td").nth(0)).to_contain_text("$0.000077")
    assert misformatted_dollars(page.locator("main").inner_text()) == []
