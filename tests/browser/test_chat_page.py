"""The chat page in a real browser: what a person sees and does, checked against the database and the ledger."""

import re
import uuid

import pytest
from playwright.sync_api import expect

from billing.models import Hold, LedgerEntry, TopUp, Wallet
from chat.models import Conversation, Message
from standins.servers import output_of
from tests.browser.site import start_server
from tests.factories import SIGNUP_PASSWORD as PASSWORD
from tests.factories import fund

pytestmark = pytest.mark.django_db(transaction=True)

HOSTILE = (
    "Check these: <img src=x onerror=\"alert('img')\"> <script>alert('script')</script> "
    '<img src=x onerror="window.pwned = true"> [a link](javascript:alert(1)) '
    '<a href="javascript:alert(2)">raw link</a> <div id="injected" onclick="alert(3)">raw html</div> '
    '<iframe src="javascript:alert(4)"></iframe> ![image](javascript:alert(5)) [[sim:echo]]'
)


def plain(text: str) -> str:
    """Return text with runs of whitespace as single spaces (what the eye compares)."""
    return " ".join(text.split())


def choose_models(page, slugs: list[str]) -> None:
    page.locator("[data-open-picker]").click()
    picker = page.locator("#model-picker")
    expect(picker).to_be_visible()
    boxes = picker.locator('input[name="models"]:not([data-unavailable])')
    for index in range(boxes.count()):  # uncheck first: at most four may be checked at once
        boxes.nth(index).set_checked(False)
    for slug in slugs:
        picker.locator(f'input[value="{slug}"]').check()
    picker.get_by_role("button", name="Done").click()
    expect(picker).to_be_hidden()


def send(page, text: str) -> None:
    page.locator("#prompt").fill(text)
    page.locator("#prompt").press("Enter")


def last_turn_panels(page):
    return page.locator(".turn").last.locator(".panel")


def message_of(panel) -> Message:
    expect(panel).to_have_attribute("data-message-id", re.compile(r"^\d+$"))
    return Message.objects.get(pk=int(panel.get_attribute("data-message-id")))


def open_chat(new_page, user, **options):
    page = new_page(user, **options)
    page.goto("/chat/")
    expect(page.locator("#chat")).to_have_attribute("data-ready", "true")
    return page


def test_signing_up_then_following_the_emailed_link_shows_the_signup_grant_in_the_header(new_page, server):
    # An address no other test signs up with: allauth sends one confirmation per address per 3 minutes,
    # counted in the cache, which the test process and this server share on Redis.
    email = f"grace-{uuid.uuid4().hex[:8]}@example.com"
    page = new_page()
    page.goto("/accounts/signup/")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_label("Password (again)").fill(PASSWORD)
    page.get_by_role("button", name="Create account").click()

    expect(page).to_have_url(re.compile(r"/chat/$"))
    expect(page.get_by_test_id("header-balance")).to_have_text("0")  # nothing before the email is verified
    # With no SMTP host the email is printed in the server's console, as in the keyless demo.
    page.goto(re.findall(r"http://\S+/accounts/confirm-email/\S+/", output_of(server.process))[-1])
    page.get_by_role("button", name="Confirm").click()
    page.goto("/chat/")

    expect(page.get_by_test_id("header-balance")).to_have_text("200,000")
    assert Wallet.objects.get(user__email=email).balance_credits == 200_000


def test_two_models_stream_side_by_side_and_finish_with_their_footers(new_page, user):
    fund(user, 2_000_000)
    page = open_chat(new_page, user)
    choose_models(page, ["gpt-4o-mini", "claude-3-5-haiku"])

    send(page, "Compare tea and coffee. [[sim:tokens=200]]")

    panels = last_turn_panels(page)
    expect(panels).to_have_count(2)
    expect(panels.nth(0).locator(".panel-model")).to_have_text("GPT-4o mini")
    expect(panels.nth(1).locator(".panel-model")).to_have_text("Claude 3.5 Haiku")
    expect(page.locator('.panel[data-status="streaming"]').first).to_be_visible()  # seen mid-stream
    expect(page.locator('.panel[data-status="complete"]')).to_have_count(2)
    for index in range(2):
        panel = panels.nth(index)
        message = message_of(panel)
        assert message.status == "complete"
        assert plain(panel.locator(".panel-body").inner_text()) == plain(message.text)
        footer = panel.locator(".panel-foot")
        expect(footer).to_contain_text(f"{message.input_tokens:,} in · {message.output_tokens:,} out")
        expect(footer).to_contain_text(f"{message.credits:,} credits ($")
        expect(footer).to_contain_text("to first token")
        expect(footer).to_contain_text("tok/s")
        expect(footer).not_to_contain_text("estimated")
    conversation = Conversation.objects.get(user=user)
    assert conversation.chosen_models == ["gpt-4o-mini", "claude-3-5-haiku"]
    expect(page).to_have_url(re.compile(rf"/chat/{conversation.pk}/$"))
    balance = Wallet.objects.get(user=user).balance_credits
    assert balance < 2_000_000
    expect(page.get_by_test_id("header-balance")).to_have_text(f"{balance:,}")  # from `wallet` frames
    assert page.dialogs == [] and page.errors == []


def test_a_panel_stops_alone_and_esc_stops_a_whole_turn(new_page, user):
    fund(user, 2_000_000)
    page = open_chat(new_page, user)
    choose_models(page, ["gpt-4o-mini", "gemini-2.0-flash"])

    send(page, "Keep going [[sim:tokens=400]]")
    first, second = last_turn_panels(page).nth(0), last_turn_panels(page).nth(1)
    expect(first).to_have_attribute("data-status", "streaming")
    first.get_by_role("button", name="Stop this reply").click()
    expect(first).to_have_attribute("data-status", "stopped")
    expect(first.locator(".panel-foot .badge")).to_have_text("estimated")
    expect(second).to_have_attribute("data-status", "complete")  # its neighbour carried on

    send(page, "A very long answer please [[sim:tokens=3000]]")
    panels = last_turn_panels(page)
    expect(panels.nth(1)).to_have_attribute("data-status", "streaming")
    page.keyboard.press("Escape")
    expect(page.locator('.turn:last-child .panel[data-status="stopped"]')).to_have_count(2)
    for index in range(2):
        message = message_of(panels.nth(index))
        assert message.status == "stopped" and message.usage_estimated
        assert 0 < message.output_tokens < 3000
    assert Wallet.objects.get(user=user).held_credits == 0


def test_a_conversation_is_found_again_after_a_reload_renamed_and_deleted(new_page, user):
    fund(user, 2_000_000)
    page = open_chat(new_page, user)
    choose_models(page, ["gpt-4o-mini"])
    send(page, "Tell me about oolong tea")
    expect(page.locator('.panel[data-status="complete"]')).to_have_count(1)
    conversation = Conversation.objects.get(user=user)
    reply = Message.objects.get(turn__conversation=conversation)

    page.reload()
    expect(page.locator(".prompt-text")).to_have_text("Tell me about oolong tea")
    body = page.locator(".panel-body")
    expect(body).to_have_text(re.compile(re.escape(plain(reply.text)[:40])))
    expect(page.locator(".panel-foot")).to_contain_text(f"{reply.credits:,} credits")

    page.goto("/chat/")
    search = page.get_by_label("Search conversations")
    search.fill("oolong")  # text of the prompt, not only titles
    sidebar = page.locator("[data-conversation-list]")
    expect(sidebar.locator("li")).to_have_count(1)
    search.fill("no such words anywhere")
    expect(sidebar.locator("li")).to_have_count(0)
    expect(page.locator("[data-empty]")).to_have_text("No conversation matches.")
    search.fill("")
    row = sidebar.locator("li").first
    row.get_by_role("button", name="Conversation actions").click()
    row.get_by_role("menuitem", name="Rename").click()
    row.get_by_label("New title").fill("Oolong notes")
    row.get_by_label("New title").press("Enter")
    expect(row.locator(".conversation-title")).to_have_text("Oolong notes")
    conversation.refresh_from_db()
    assert conversation.title == "Oolong notes"

    row.locator("a").click()
    expect(page).to_have_url(re.compile(rf"/chat/{conversation.pk}/$"))
    expect(page.locator("[data-conversation-title]")).to_have_text("Oolong notes")
    row = page.locator("[data-conversation-list] li").first
    row.get_by_role("button", name="Conversation actions").click()
    row.get_by_role("menuitem", name="Delete").click()
    row.get_by_role("button", name="Delete", exact=True).last.click()
    expect(page).to_have_url(re.compile(r"/chat/$"))  # the open conversation is gone
    assert not Conversation.objects.filter(pk=conversation.pk).exists()


def test_a_hostile_reply_is_shown_as_text_and_runs_nothing(new_page, user):
    fund(user, 2_000_000)
    page = open_chat(new_page, user)
    choose_models(page, ["gpt-4o-mini"])

    send(page, HOSTILE)

    panel = last_turn_panels(page).first
    expect(panel).to_have_attribute("data-status", "complete")
    body = panel.locator(".panel-body")
    expect(body).to_contain_text("<img src=x onerror=\"alert('img')\">")  # shown, as text
    expect(body).to_contain_text('<div id="injected" onclick="alert(3)">raw html</div>')
    page.wait_for_timeout(300)  # give an injected handler time to fire, if there were one
    assert page.dialogs == []
    assert page.evaluate("() => window.pwned") is None
    assert page.locator("#injected").count() == 0
    for tag in ("img", "script", "iframe", "div#injected", "[onclick]", "[onerror]"):
        assert body.locator(tag).count() == 0, tag
    assert page.locator('a[href^="javascript:"]').count() == 0
    assert message_of(panel).text.endswith("![image](javascript:alert(5))")  # the model did send it all


def test_a_prompt_over_the_protocol_s_limits_is_not_sent_and_the_composer_says_why(new_page, user):
    fund(user, 20_000_000)
    page = open_chat(new_page, user)
    choose_models(page, ["gemini-2.0-flash"])
    page.locator("#prompt").fill("\U0001f600" * 399_999 + "\u4e2d\u4e2d")  # an emoji is one character, as counted

    page.locator("#prompt").press("Enter")

    alert = page.locator("[data-composer-alert]")
    expect(alert).to_be_visible()
    expect(alert).to_contain_text("This prompt is too long to send (400,001 characters): a prompt may have 400,000.")
    expect(page.locator(".turn")).to_have_count(0)
    assert not Conversation.objects.filter(user=user).exists()
    expect(page.locator("#prompt")).not_to_have_value("")  # the prompt is kept, to be shortened


def test_the_composer_shows_the_turn_s_worst_case_and_warns_when_the_wallet_cannot_cover_it(new_page, user):
    fund(user, 2_000_000)
    page = open_chat(new_page, user)
    choose_models(page, ["gpt-4o-mini", "claude-3-5-haiku"])
    prompt = "Estimate me first, please."
    page.locator("#prompt").fill(prompt)
    estimate = page.locator("[data-estimate]")
    expect(estimate).to_contain_text("Up to")
    expect(estimate).to_contain_text("2,000,000 available")
    shown = int(estimate.get_attribute("data-worst-credits"))
    expect(page.locator("[data-estimate-warning]")).to_be_hidden()

    page.locator("#prompt").press("Enter")
    expect(page.locator('.panel[data-status="complete"]')).to_have_count(2)
    held = sum(Hold.objects.filter(wallet__user=user).values_list("amount_credits", flat=True))
    assert shown == held  # "up to" is exactly what the server held for the turn

    fund(user, 5_000)
    page.reload()
    expect(page.locator("#chat")).to_have_attribute("data-ready", "true")
    page.locator("#prompt").fill("Now I am short of credits")
    warning = page.locator("[data-estimate-warning]")
    expect(warning).to_be_visible()
    expect(warning).to_contain_text("5,000 are available")
    warning.get_by_role("link", name="Top up").click()
    expect(page).to_have_url(re.compile(r"/billing/$"))


def test_topping_up_goes_through_checkout_and_credits_the_wallet(new_page, user, stripe_standin):
    page = new_page(user)
    page.goto("/billing/")
    expect(page.get_by_test_id("header-balance")).to_have_text("0")
    page.locator(".packs button").first.click()

    expect(page).to_have_url(re.compile(re.escape(stripe_standin.url) + r"/pay/cs_test_\w+$"))
    expect(page.get_by_text("Stripe stand-in")).to_be_visible()
    page.get_by_role("button", name=re.compile(r"Pay \$[\d.,]+ \(test\)")).click()

    expect(page).to_have_url(re.compile(r"/billing/topup/success/"))
    expect(page.get_by_role("heading", name=re.compile("credits added"))).to_be_visible()
    topup = TopUp.objects.get(wallet__user=user)
    assert topup.status == "paid"
    expect(page.get_by_test_id("header-balance")).to_have_text(f"{topup.credits:,}")


def test_a_dropped_socket_reconnects_and_resumes_without_gap_or_duplicate(new_page, user):
    fund(user, 2_000_000)
    page = new_page(user)
    sockets = []

    def through_proxy(route):  # every websocket passes through the test, which can cut it
        route.connect_to_server()
        sockets.append(route)

    page.route_web_socket(re.compile(r"/ws/chat/$"), through_proxy)
    page.goto("/chat/")
    expect(page.locator("#chat")).to_have_attribute("data-connection", "open")
    choose_models(page, ["gpt-4o-mini"])
    send(page, "Tell me a long story [[sim:tokens=500]]")
    panel = last_turn_panels(page).first
    expect(panel).to_have_attribute("data-status", "streaming")
    expect(panel.locator(".panel-body")).to_contain_text("Simulated reply")

    sockets[-1].close()

    expect(page.locator("[data-connection-banner]")).to_be_visible()
    expect(page.locator("#chat")).to_have_attribute("data-connection", "open")
    expect(page.locator("[data-connection-banner]")).to_be_hidden()
    assert len(sockets) == 2
    expect(panel).to_have_attribute("data-status", "complete")
    message = message_of(panel)
    assert plain(panel.locator(".panel-body").inner_text()) == plain(message.text)
    assert LedgerEntry.objects.filter(kind="usage", wallet__user=user).count() == 1


def test_a_failing_panel_says_why_and_offers_a_retry_while_the_other_finishes(
    new_page, user, simulator, stripe_standin, django_db_blocker
):
    fund(user, 2_000_000)
    with django_db_blocker.unblock():
        failing_site = start_server(simulator, stripe_standin, ANTHROPIC_API_KEY="sim-bad-key")
    try:
        page = new_page(user, site=failing_site)
        page.goto("/chat/")
        choose_models(page, ["gpt-4o-mini", "claude-3-5-haiku"])
        send(page, "One of you will fail")

        healthy, failing = last_turn_panels(page).nth(0), last_turn_panels(page).nth(1)
        expect(failing).to_have_attribute("data-status", "error")
        error = failing.locator(".panel-error")
        expect(error).to_be_visible()
        expect(error).not_to_contain_text("sim-bad-key")  # a readable reason, never the key
        expect(healthy).to_have_attribute("data-status", "complete")
        error.get_by_role("button", name="Retry").click()
        expect(page.locator(".turn")).to_have_count(1)  # a retry is a new version of the reply, in place
        retry = last_turn_panels(page).nth(1)
        expect(retry.locator(".panel-model")).to_have_text("Claude 3.5 Haiku")
        expect(retry.locator(".version-nav")).to_have_text("2 / 2")
        expect(retry).to_have_attribute("data-status", "error")
        expect(healthy).to_have_attribute("data-status", "complete")
    finally:
        failing_site.stop()


def test_a_turn_the_server_is_too_busy_for_goes_out_again_by_itself(
    new_page, user, simulator, stripe_standin, django_db_blocker
):
    fund(user, 2_000_000)
    with django_db_blocker.unblock():
        busy_site = start_server(simulator, stripe_standin, CHAT_MAX_STREAMS_PER_PROCESS="1")
    try:
        page = new_page(user, site=busy_site)
        page.goto("/chat/")
        choose_models(page, ["gpt-4o-mini"])
        send(page, "Take the only slot [[sim:tokens=450]]")  # about three seconds at 150 tokens a second
        expect(last_turn_panels(page).first).to_have_attribute("data-status", "streaming")
        send(page, "Then me")

        expect(page.locator("[data-notices]")).to_contain_text("busy")  # said, not shown as a failure
        expect(page.locator(".turn")).to_have_count(2)
        second = last_turn_panels(page).first
        expect(second).to_have_attribute("data-status", "complete", timeout=30_000)
        assert plain(second.locator(".panel-body").inner_text()) == plain(message_of(second).text)
        assert Conversation.objects.get(user=user).turns.count() == 2  # each turn started once
        assert page.errors == []
    finally:
        busy_site.stop()


def test_auto_names_the_model_it_chose_and_says_why(new_page, user):
    fund(user, 2_000_000)
    page = open_chat(new_page, user)
    choose_models(page, ["auto"])

    send(page, "Please review this code:\n```python\ndef double(x):\n    return x * 2\n```")

    panel = last_turn_panels(page).first
    expect(panel).to_have_attribute("data-status", "complete")
    message = message_of(panel)
    assert message.requested_model == "auto" and message.route_task
    expect(panel.locator(".panel-model")).to_have_text(f"Auto → {message.model.name}")
    expect(panel.locator(".panel-provider")).to_contain_text(message.route_task.replace("_", " "))
    why = panel.get_by_role("button", name=f"Why {message.model.name}?")
    expect(why).to_have_attribute("title", message.route_reason)  # on hover
    why.click()  # and on tap
    expect(panel.locator(".panel-route")).to_have_text(message.route_reason)


def test_an_auto_reply_s_footer_says_what_the_other_candidate_would_have_cost(new_page, user):
    fund(user, 2_000_000)
    page = open_chat(new_page, user)
    choose_models(page, ["auto"])

    send(page, "what's the difference between a latte and a flat white")

    panel = last_turn_panels(page).first
    expect(panel).to_have_attribute("data-status", "complete")
    message = message_of(panel)
    assert (message.model.slug, message.comparison_model.slug) == ("gpt-4o-mini", "claude-3-5-haiku")
    saved = message.comparison_credits - message.credits
    assert saved > 0
    shown = re.compile(
        rf"^on Claude 3\.5 Haiku: {message.comparison_credits:,} credits \(\$0\.\d+\) — saved {saved:,}$"
    )
    expect(panel.get_by_test_id("comparison")).to_have_text(shown)  # from `message.done`
    page.reload()
    expect(last_turn_panels(page).first.get_by_test_id("comparison")).to_have_text(shown)  # from the saved reply


def test_copy_a_reply_and_continue_with_its_model(new_page, user):
    fund(user, 2_000_000)
    page = open_chat(new_page, user)
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    choose_models(page, ["gpt-4o-mini", "claude-3-haiku"])
    send(page, "Which tea goes with breakfast?")
    expect(page.locator('.panel[data-status="complete"]')).to_have_count(2)
    preferred = last_turn_panels(page).nth(1)

    preferred.get_by_role("button", name="Copy reply").click()
    assert page.evaluate("() => navigator.clipboard.readText()") == message_of(preferred).text
    preferred.get_by_role("button", name="Continue the conversation with this model").click()
    expect(page.locator("[data-picker-summary] .chip")).to_have_text(["Claude 3 Haiku"])
    expect(page.locator("#prompt")).to_be_focused()
    page.keyboard.type("And with dinner?")
    page.locator("#prompt").press("Enter")

    expect(page.locator(".turn")).to_have_count(2)
    expect(last_turn_panels(page)).to_have_count(1)
    expect(last_turn_panels(page).first).to_have_attribute("data-status", "complete")
    assert message_of(last_turn_panels(page).first).turn.content == "And with dinner?"
    assert Conversation.objects.get(user=user).chosen_models == ["claude-3-haiku"]


MARKDOWN = """## Tea, briefly

Green tea is **unoxidised**; black tea is *fully* oxidised.

1. Warm the pot.
2. Steep for three minutes.

```python
def steep(minutes: int) -> str:
    return "ready" if minutes >= 3 else "wait"
```

| Tea | Water |
|---|---|
| Green | 80 °C |
| Black | 100 °C |

A stray <img src=x onerror="window.pwned = true"> stays text, even when it arrives in pieces.
"""


def test_streamed_markdown_is_parsed_block_by_block_and_ends_as_the_whole_text_would(new_page, user):
    page = open_chat(new_page, user)

    result = page.evaluate(
        """async (source) => {
            const { LiveMarkdown } = await import("panels/chat/live-markdown");
            const live = new LiveMarkdown(document.createElement("div"));
            const kept = [];
            for (let i = 0; i < source.length; i += 5) {  // deltas of five characters, drawn one by one
                live.append(source.slice(i, i + 5));
                live.draw();
                kept.push(live.kept.childElementCount);
            }
            const streamed = live.element.cloneNode(true);
            live.finish();
            const shape = (node) => [...node.querySelectorAll("h2, p, li, pre, tr, strong, em, .hljs-keyword")]
                .map((element) => element.tagName + ":" + element.textContent.trim()).join("|");
            return {
                keptGrew: kept.some((count, i) => i > 0 && count > kept[i - 1]),
                keptBeforeEnd: kept[kept.length - 1],
                sameShape: shape(streamed) === shape(live.element),
                shape: shape(live.element),
                images: streamed.querySelectorAll("img").length + live.element.querySelectorAll("img").length,
                copyButtons: live.element.querySelectorAll(".code-block [data-copy-code]").length,
            };
        }""",
        MARKDOWN,
    )

    assert result["keptGrew"] and result["keptBeforeEnd"] >= 4  # finished blocks were kept, not re-parsed
    assert result["sameShape"], result["shape"]
    assert "H2:Tea, briefly" in result["shape"] and "LI:Steep for three minutes." in result["shape"]
    assert "SPAN:def" in result["shape"] and "TR:Black\n100 °C" in result["shape"], result["shape"]
    assert result["images"] == 0 and result["copyButtons"] == 1
    assert page.evaluate("() => window.pwned") is None


def test_a_reload_mid_stream_picks_the_reply_up_from_the_start(new_page, user):
    fund(user, 2_000_000)
    page = open_chat(new_page, user)
    choose_models(page, ["gpt-4o-mini"])
    send(page, "A story that outlives the page [[sim:tokens=450]]")
    expect(last_turn_panels(page).first).to_have_attribute("data-status", "streaming")

    page.reload()  # the reply keeps streaming on the server meanwhile

    panel = last_turn_panels(page).first
    expect(panel).to_have_attribute("data-status", "complete")
    message = message_of(panel)
    assert plain(panel.locator(".panel-body").inner_text()) == plain(message.text)
    assert message.output_tokens == 450


def test_a_panel_says_when_old_turns_were_left_out_to_fit_the_context_window(new_page, user):
    from catalog.models import AIModel

    fund(user, 2_000_000)
    # A small window: 1,500 tokens, 800 of them kept for the reply, so ~700 tokens of history fit.
    AIModel.objects.filter(slug="gpt-4o-mini").update(context_window=1_500, max_output_tokens=800)
    page = open_chat(new_page, user)
    choose_models(page, ["gpt-4o-mini"])
    send(page, "word " * 300)
    expect(page.locator('.panel[data-status="complete"]')).to_have_count(1)
    expect(last_turn_panels(page).locator(".panel-note")).to_be_hidden()

    send(page, "another " * 100)
    panel = last_turn_panels(page).first
    expect(panel).to_have_attribute("data-status", "complete")
    note = "The oldest turn was left out to fit GPT-4o mini's context window."
    expect(panel.locator(".panel-note")).to_have_text(note)
    assert message_of(panel).dropped_turns == 1

    page.reload()
    expect(page.locator(".turn").last.locator(".panel-note")).to_have_text(note)  # also when read over HTTP


@pytest.mark.parametrize("path", ["/", "/pricing/", "/billing/", "/billing/usage/", "/billing/keys/", "/chat/"])
def test_every_page_fits_a_phone_with_its_links_reachable(new_page, user, path):
    page = new_page(user, viewport={"width": 390, "height": 844})
    page.goto(path)
    assert page.evaluate("document.documentElement.scrollWidth") <= 390  # nothing to scroll sideways to
    links = page.locator(".site-nav")
    if path == "/chat/":  # the chat keeps its links in the sidebar, behind the menu button
        page.get_by_role("button", name="Show conversations").click()
        links = page.locator(".sidebar-links")
    for name in ("Wallet", "Pricing"):
        expect(links.get_by_role("link", name=name, exact=True)).to_be_in_viewport()
    expect(page.locator("form[action='/accounts/logout/'] button:visible")).to_be_in_viewport()


def test_a_reply_that_ends_before_the_next_frame_is_drawn_shows_its_text_once(new_page, user):
    """A delta scheduled for drawing, then the end of the reply: the whole text appears exactly once."""
    page = open_chat(new_page, user)
    text = page.evaluate(
        """async () => {
            const { LiveMarkdown } = await import("panels/chat/live-markdown");
            const element = document.createElement("div");
            const live = new LiveMarkdown(element);
            live.append("First paragraph.\\n\\nSecond ");  // a draw is now scheduled for the next frame
            live.finish("First paragraph.\\n\\nSecond paragraph.");  // the reply ends first
            await new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(done)));
            return element.textContent;
        }"""
    )
    assert plain(text) == "First paragraph. Second paragraph."
