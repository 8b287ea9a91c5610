"""Sharing in a real browser: a link made and copied in the dialog, read logged out, then revoked.

A logged-out reader sees the replies as markdown and nothing of the owner's account; a revoked link is gone.

`PANELS_UPDATE_SCREENSHOTS=1` also saves the shared page and the share dialog to docs/screenshots/.
"""

import re

import pytest
from playwright.sync_api import expect

from catalog.models import AIModel
from chat.models import Conversation, Message, SharedLink
from tests.browser.site import DESKTOP, PHONE
from tests.browser.test_content_security_policy import COLLECT_VIOLATIONS
from tests.browser.test_screenshots import screenshot_folder, seed_conversation
from tests.factories import fund, write_turn

pytestmark = pytest.mark.django_db(transaction=True)

COMPLETE = Message.Status.COMPLETE
HOSTILE = (
    'Careful: <script>window.pwned = true</script> <img src=x onerror="window.pwned = true"> '
    "[a link](javascript:window.pwned=true) and **bold** text."
)
MARKDOWN = "Steep it **cooler**:\n\n```python\nsteep(temperature=80)\n```\n\n- green: 80 °C\n- black: 95 °C"


def seed(user) -> Conversation:
    """Write a two-turn conversation: a markdown reply, then a reply with script in it."""
    model = AIModel.objects.get(slug="gpt-4o-mini")
    conversation = Conversation.objects.create(user=user, title="Brewing tea", chosen_models=[model.slug])
    first = write_turn(conversation, "How do I brew green tea?", [(model, MARKDOWN, COMPLETE, 2_345, 678, 12_345)])
    write_turn(conversation, "Anything to avoid?", [(model, HOSTILE, COMPLETE, 30, 40, 50)], parent=first)
    return conversation


def open_conversation(new_page, user, conversation, **options):
    page = new_page(user, **options)
    page.goto(f"/chat/{conversation.pk}/")
    expect(page.locator("#chat")).to_have_attribute("data-ready", "true")
    return page


def test_a_link_made_and_copied_in_the_dialog_reads_logged_out_until_it_is_revoked(new_page, user, server):
    fund(user, 9_874_512)
    conversation = seed(user)
    owner = open_conversation(new_page, user, conversation)
    owner.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=server.url)

    owner.get_by_role("button", name="Share", exact=True).click()
    dialog = owner.locator("#share-dialog")
    expect(dialog).to_be_visible()
    expect(dialog.get_by_role("heading", name="Share this conversation")).to_be_visible()
    expect(dialog.get_by_text("No live links to this conversation.")).to_be_visible()
    dialog.get_by_role("button", name="Create link").click()
    link = dialog.get_by_label("The new link")
    expect(link).to_have_value(re.compile(r"^http://.+/s/[\w-]{40,}/$"))
    url = link.input_value()
    dialog.get_by_role("button", name="Copy link").click()
    expect(dialog.get_by_role("button", name="Copied")).to_be_visible()
    assert owner.evaluate("navigator.clipboard.readText()") == url
    expect(dialog.locator(".share-item")).to_have_count(1)
    owner.evaluate("navigator.clipboard.writeText('')")
    dialog.get_by_role("button", name=re.compile("^Copy the link made")).click()  # a listed link copies too
    expect(dialog.locator(".share-item").get_by_text("Copied")).to_be_visible()
    assert owner.evaluate("navigator.clipboard.readText()") == url
    assert SharedLink.objects.get().last_turn.content == "Anything to avoid?"

    reader = new_page()  # a fresh context: logged out
    reader.add_init_script(COLLECT_VIOLATIONS)
    response = reader.goto(url)
    assert response.status == 200 and response.headers["x-robots-tag"] == "noindex, nofollow"
    expect(reader.get_by_role("heading", name="Brewing tea")).to_be_visible()
    expect(reader.locator(".prompt-text")).to_have_text(["How do I brew green tea?", "Anything to avoid?"])
    first, second = reader.locator(".panel").all()
    expect(first.locator(".panel-model")).to_have_text("GPT-4o mini")
    expect(first.locator(".panel-body strong")).to_have_text("cooler")
    expect(first.locator(".code-block pre")).to_have_text("steep(temperature=80)")
    expect(first.locator(".panel-body li")).to_have_count(2)
    expect(second.locator(".panel-body strong")).to_have_text("bold")
    expect(second.locator(".panel-body")).to_contain_text("<script>window.pwned = true</script>")  # as text
    assert second.locator(".panel-body script, .panel-body img, .panel-body [onerror]").count() == 0
    assert reader.evaluate("window.pwned") is None
    assert second.locator('.panel-body a[href^="javascript"]').count() == 0
    content = reader.content()
    assert user.email not in content and "9,874,512" not in content and "credits" not in content
    expect(reader.get_by_role("link", name="Log in")).to_have_count(0)
    assert reader.evaluate("window.__violations") == [] and reader.errors == []

    dialog.get_by_role("button", name=re.compile("^Revoke")).click()
    expect(dialog.get_by_text("No live links to this conversation.")).to_be_visible()
    expect(dialog.locator(".share-item")).to_have_count(0)
    assert reader.reload().status == 404
    assert SharedLink.objects.get().revoked_at is not None
    assert owner.errors == []


def test_share_this_turn_links_to_that_turn_only_with_its_figures(new_page, user):
    conversation = seed(user)
    owner = open_conversation(new_page, user, conversation)

    first_prompt = owner.locator(".turn").first.locator(".prompt")
    first_prompt.hover()
    first_prompt.get_by_role("button", name="Share this turn").click()
    dialog = owner.locator("#share-dialog")
    expect(dialog.get_by_role("heading", name="Share this turn")).to_be_visible()
    dialog.get_by_label("Show token and cost figures").check()
    dialog.get_by_role("button", name="Create link").click()
    expect(dialog.locator(".share-item")).to_have_count(1)
    expect(dialog.locator(".share-item")).to_contain_text("One turn")
    url = dialog.get_by_label("The new link").input_value()
    link = SharedLink.objects.get()
    assert (link.turn.content, link.show_costs) == ("How do I brew green tea?", True)

    reader = new_page()
    reader.goto(url)
    expect(reader.locator(".prompt-text")).to_have_text(["How do I brew green tea?"])
    expect(reader.get_by_test_id("reply-costs")).to_contain_text("2,345 in · 678 out")
    expect(reader.get_by_test_id("reply-costs")).to_contain_text("12,345 credits")
    assert reader.errors == [] and owner.errors == []


@pytest.mark.parametrize("color_scheme", ["light", "dark"])
def test_screenshots_of_the_share_dialog_and_the_shared_page_logged_out(new_page, user, color_scheme, tmp_path):
    fund(user, 9_874_512)
    conversation = seed_conversation(user)
    save_to = screenshot_folder(tmp_path)
    owner = open_conversation(new_page, user, conversation, color_scheme=color_scheme)
    owner.get_by_role("button", name="Share", exact=True).click()
    dialog = owner.locator("#share-dialog")
    dialog.get_by_label("Show token and cost figures").check()
    dialog.get_by_role("button", name="Create link").click()
    expect(dialog.locator(".share-item")).to_have_count(1)
    url = dialog.get_by_label("The new link").input_value()
    owner.screenshot(path=save_to / f"share-dialog-{color_scheme}.png")

    for name, viewport in (("desktop", DESKTOP), ("phone", PHONE)):
        reader = new_page(viewport=viewport, color_scheme=color_scheme)
        reader.goto(url)
        expect(reader.locator(".code-block")).to_have_count(3)
        expect(reader.get_by_test_id("reply-costs")).to_have_count(3)
        path = save_to / f"shared-{name}-{color_scheme}.png"
        reader.screenshot(path=path)
        assert path.stat().st_size > 20_000
        assert reader.errors == []
