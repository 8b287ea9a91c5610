"""The chat page's keyboard shortcuts in a real browser, and the dialog that lists them.

`PANELS_UPDATE_SCREENSHOTS=1` also saves the dialog to docs/screenshots/.
"""

import pytest
from playwright.sync_api import expect

from chat.models import Conversation
from tests.browser.site import PHONE
from tests.browser.test_screenshots import screenshot_folder
from tests.factories import fund

pytestmark = pytest.mark.django_db(transaction=True)

SHORTCUTS = [
    ("Ctrl K", "Search conversations"),
    ("Ctrl Shift O", "New chat"),
    ("/", "Write a message"),
    ("Enter", "Send"),
    ("Shift Enter", "New line in the message"),
    ("Esc", "Stop the replies; close a dialog or the conversation list"),
    ("?", "Show these shortcuts"),
]
# A Mac as the page sees one, in Chromium's words and the older ones (the modifier shortcuts use Cmd there).
ON_A_MAC = """
Object.defineProperty(Navigator.prototype, "userAgentData", {get: () => ({platform: "macOS"})});
Object.defineProperty(Navigator.prototype, "platform", {get: () => "MacIntel"});
"""


def open_chat(new_page, user, path="/chat/", **options):
    page = new_page(user, **options)
    page.goto(path)
    expect(page.locator("#chat")).to_have_attribute("data-ready", "true")
    return page


def listed_shortcuts(page) -> list[tuple[str, str]]:
    rows = page.locator("#shortcuts .shortcut-list > div")
    return [
        (" ".join(rows.nth(i).locator("kbd").all_inner_texts()), rows.nth(i).locator("dd").inner_text())
        for i in range(rows.count())
    ]


def test_ctrl_k_focuses_the_conversation_search_even_while_typing(new_page, user):
    page = open_chat(new_page, user)
    page.locator("#prompt").focus()
    page.keyboard.press("Control+k")
    expect(page.locator("#conversation-search")).to_be_focused()
    expect(page.locator("#prompt")).to_have_value("")
    assert page.errors == []


def test_ctrl_k_on_a_phone_slides_the_conversations_in_and_focuses_the_search(new_page, user):
    page = open_chat(new_page, user, viewport=PHONE)
    expect(page.locator("#sidebar")).not_to_be_in_viewport()
    page.keyboard.press("Control+k")
    expect(page.locator("#chat")).to_have_class("chat sidebar-open")
    expect(page.locator("#conversation-search")).to_be_focused()
    expect(page.locator("#sidebar")).to_be_in_viewport()


def test_slash_focuses_the_composer_and_is_typed_where_text_is_being_written(new_page, user):
    page = open_chat(new_page, user)
    page.keyboard.press("/")
    expect(page.locator("#prompt")).to_be_focused()
    expect(page.locator("#prompt")).to_have_value("")  # the slash only moved the focus
    page.keyboard.press("/")  # now it is text
    expect(page.locator("#prompt")).to_have_value("/")
    page.locator("#conversation-search").focus()
    page.keyboard.press("/")
    expect(page.locator("#conversation-search")).to_have_value("/")
    expect(page.locator("#conversation-search")).to_be_focused()


def test_question_mark_opens_the_list_of_every_shortcut_and_escape_closes_it(new_page, user):
    page = open_chat(new_page, user)
    dialog = page.get_by_role("dialog", name="Keyboard shortcuts")
    page.keyboard.press("?")
    expect(dialog).to_be_visible()
    assert listed_shortcuts(page) == SHORTCUTS
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()

    page.locator("#prompt").fill("Is it")
    page.keyboard.press("?")  # typed, not a shortcut
    expect(page.locator("#prompt")).to_have_value("Is it?")
    expect(dialog).to_be_hidden()

    page.get_by_role("button", name="Keyboard shortcuts").click()  # the composer's hint opens it too
    expect(dialog).to_be_visible()
    dialog.get_by_role("button", name="Close").click()
    expect(dialog).to_be_hidden()
    assert page.errors == []


def test_ctrl_shift_o_starts_a_new_chat(new_page, user):
    conversation = Conversation.objects.create(user=user, title="Tea", chosen_models=["gpt-4o-mini"])
    page = open_chat(new_page, user, path=f"/chat/{conversation.pk}/")
    page.locator("#prompt").focus()
    with page.expect_navigation():
        page.keyboard.press("Control+Shift+O")
    assert page.url.endswith("/chat/")
    expect(page.locator("[data-conversation-title]")).to_have_text("New conversation")


def test_on_a_mac_the_shortcuts_use_cmd(new_page, user):
    page = new_page(user)
    page.add_init_script(ON_A_MAC)
    page.goto("/chat/")
    expect(page.locator("#chat")).to_have_attribute("data-ready", "true")
    page.keyboard.press("Meta+k")
    expect(page.locator("#conversation-search")).to_be_focused()
    page.locator("#prompt").focus()
    page.keyboard.press("Control+k")  # not the shortcut on a Mac
    expect(page.locator("#prompt")).to_be_focused()
    page.keyboard.press("Escape")
    page.locator("body").click(position={"x": 5, "y": 300})
    page.keyboard.press("?")
    assert [keys for keys, _ in listed_shortcuts(page)][:2] == ["Cmd K", "Cmd Shift O"]


def test_screenshot_of_the_shortcuts_dialog(new_page, user, tmp_path):
    fund(user, 9_874_512)
    page = open_chat(new_page, user)
    page.keyboard.press("?")
    expect(page.get_by_role("dialog", name="Keyboard shortcuts")).to_be_visible()
    path = screenshot_folder(tmp_path) / "shortcuts-dialog.png"
    page.screenshot(path=path)
    assert path.stat().st_size > 20_000
    assert page.errors == []
