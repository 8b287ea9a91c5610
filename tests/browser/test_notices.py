"""The chat page's notices and alerts in a real browser: no cover, no overstay, words a person can act on."""

import re
import uuid

import pytest
from playwright.sync_api import expect

from billing.models import TopUp
from billing.services import credit_topup, open_dispute, wallet_for
from tests.browser.site import DESKTOP, PHONE
from tests.browser.test_chat_page import choose_models, last_turn_panels, open_chat, send
from tests.factories import SIGNUP_PASSWORD as PASSWORD
from tests.factories import fund

pytestmark = pytest.mark.django_db(transaction=True)

# What a notice must never cover: the page's and the conversation's titles and every control of the composer.
UNCOVERED = [
    ".site-header",
    "#conversation-title",
    "[data-toggle-sidebar]",
    "#prompt",
    "[data-open-picker]",
    "[data-send]",
    "[data-estimate]",
]
VIEWPORTS = [
    pytest.param(DESKTOP, "no-preference", id="desktop"),
    pytest.param(PHONE, "reduce", id="phone-reduced-motion"),  # no animation may keep a notice on screen
]


def overlap(a: dict, b: dict) -> bool:
    return (
        a["x"] < b["x"] + b["width"]
        and b["x"] < a["x"] + a["width"]
        and (a["y"] < b["y"] + b["height"] and b["y"] < a["y"] + a["height"])
    )


def assert_covers_nothing(page, notices) -> None:
    """Check every notice is on screen and overlaps none of the things a person reads or uses, once it has settled.

    A notice slides in (unless motion is reduced); measured mid-slide on a loaded machine it overlapped by a few px.
    """
    page.wait_for_function("() => document.getAnimations().every((animation) => animation.playState !== 'running')")
    viewport = page.viewport_size
    for index in range(notices.count()):
        box = notices.nth(index).bounding_box()
        assert box and box["x"] >= 0 and box["y"] >= 0, "a notice is off screen"
        assert box["x"] + box["width"] <= viewport["width"] and box["y"] + box["height"] <= viewport["height"]
        for selector in UNCOVERED:
            other = page.locator(selector).bounding_box()  # None when not displayed at this width
            assert other is None or not overlap(box, other), f"a notice covers {selector}"


@pytest.mark.parametrize(("viewport", "reduced_motion"), VIEWPORTS)
def test_the_messages_after_signing_up_cover_nothing_and_leave_by_themselves(
    new_page, server, viewport, reduced_motion
):
    email = f"lin-{uuid.uuid4().hex[:8]}@example.com"  # allauth sends one confirmation per address per 3 min
    page = new_page(viewport=viewport)
    page.emulate_media(reduced_motion=reduced_motion)
    page.goto("/accounts/signup/")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_label("Password (again)").fill(PASSWORD)
    page.get_by_role("button", name="Create account").click()

    expect(page).to_have_url(re.compile(r"/chat/$"))
    notices = page.locator("[data-notices] .notice")
    expect(page.locator("[data-notices]")).to_contain_text(f"Confirmation email sent to {email}")
    expect(page.locator("[data-notices]")).to_contain_text(f"Successfully signed in as {email}")
    expect(page.locator(".messages")).to_have_count(0)  # nothing floats over the page
    assert_covers_nothing(page, notices)

    expect(notices).to_have_count(0, timeout=10_000)  # gone after a few seconds, untouched
    assert page.errors == []


def test_a_notice_closes_from_its_button_and_focus_returns_to_the_prompt(new_page, user):
    fund(user, 2_000_000)
    page = open_chat(new_page, user)
    choose_models(page, ["gpt-4o-mini", "claude-3-haiku"])
    send(page, "Which tea goes with breakfast?")
    expect(page.locator('.panel[data-status="complete"]')).to_have_count(2)

    last_turn_panels(page).nth(0).get_by_role("button", name="Continue the conversation with this model").click()
    notice = page.locator("[data-notices] .notice")
    expect(notice).to_have_text("Next prompts go to GPT-4o mini only.")
    notice.get_by_role("button", name="Dismiss").click()

    expect(notice).to_have_count(0)
    expect(page.locator("#prompt")).to_be_focused()


@pytest.mark.parametrize(("viewport", "reduced_motion"), VIEWPORTS)
def test_the_model_notice_leaves_the_estimate_and_the_composer_uncovered(new_page, user, viewport, reduced_motion):
    fund(user, 2_000_000)
    page = open_chat(new_page, user, viewport=viewport)
    page.emulate_media(reduced_motion=reduced_motion)
    choose_models(page, ["gpt-4o-mini", "claude-3-haiku"])
    send(page, "Which tea goes with breakfast?")
    expect(page.locator('.panel[data-status="complete"]')).to_have_count(2)

    last_turn_panels(page).nth(1).get_by_role("button", name="Continue the conversation with this model").click()
    page.locator("#prompt").fill("And with dinner?")  # the estimate now prices a prompt

    notices = page.locator("[data-notices] .notice")
    expect(notices).to_have_text(["Next prompts go to Claude 3 Haiku only."])
    expect(page.locator("[data-estimate]")).to_contain_text("credits")
    assert_covers_nothing(page, notices)
    expect(notices).to_have_count(0, timeout=10_000)


def test_a_wallet_on_hold_for_a_dispute_says_what_to_do_and_offers_no_top_up(new_page, user):
    fund(user, 2_000_000)
    topup = TopUp.objects.create(wallet=wallet_for(user), amount_cents=1_000, credits=1_000_000)
    credit_topup(topup=topup, checkout_session_id="cs_disputed", payment_intent_id="pi_disputed")
    open_dispute(topup=topup, dispute_id="dp_browser", amount_cents=1_000)
    page = open_chat(new_page, user)
    choose_models(page, ["gpt-4o-mini"])

    send(page, "Are you there?")

    alert = page.locator("[data-composer-alert]")
    expect(alert).to_contain_text("a payment is disputed")
    expect(alert.get_by_role("link")).to_have_text("See on your wallet page what you can do")
    expect(alert).not_to_contain_text("Top up")
    expect(page.locator("#prompt")).to_have_value("Are you there?")  # nothing typed is lost
    alert.get_by_role("link").click()

    expect(page).to_have_url(re.compile(r"/billing/$"))
    hold = page.get_by_test_id("wallet-restriction")
    expect(hold).to_contain_text("disputed with your card issuer")
    expect(hold).to_contain_text("lifts by itself when the dispute is decided")
    expect(hold).to_contain_text("a top-up does not lift it")
    expect(hold).to_contain_text("ask your card issuer to withdraw the dispute")
