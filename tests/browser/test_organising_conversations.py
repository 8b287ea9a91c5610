"""Organising conversations in the sidebar of a real browser: pin, rename, file in folders, filter and search.

`PANELS_UPDATE_SCREENSHOTS=1` also saves a picture of the organised sidebar to docs/screenshots/.
"""

import uuid
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from chat.models import Conversation, Turn
from tests.browser.site import DESKTOP, PHONE
from tests.browser.test_screenshots import screenshot_folder, seed_conversation
from tests.factories import fund

pytestmark = pytest.mark.django_db(transaction=True)

TITLES = ("Tea notes", "Regex for postcodes", "Board memo", "Recursion")  # least recently active first


def seed(user) -> dict[str, Conversation]:
    """Write four conversations active an hour apart, the first with a prompt about oolong."""
    now = timezone.now()
    conversations = {}
    for hours_ago, title in zip((4, 3, 2, 1), TITLES, strict=True):
        conversation = Conversation.objects.create(user=user, title=title)
        Conversation.objects.filter(pk=conversation.pk).update(updated_at=now - timedelta(hours=hours_ago))
        conversations[title] = conversation
    Turn.objects.create(
        conversation=conversations["Tea notes"], user=user, request_id=str(uuid.uuid4()), content="Is oolong green?"
    )
    return conversations


def titles(list_locator) -> list[str]:
    return list_locator.locator(".conversation-title").all_text_contents()


def row(page, title: str):
    return page.locator(".sidebar .conversation-item").filter(has_text=title)


def choose(page, title: str, action: str) -> None:
    row(page, title).get_by_role("button", name="Conversation actions").click()
    row(page, title).get_by_role("menuitem", name=action).click()


def test_pin_rename_file_filter_and_search_without_a_reload(new_page, user):
    conversations = seed(user)
    active_at = {c.pk: Conversation.objects.get(pk=c.pk).updated_at for c in conversations.values()}
    page = new_page(user)
    page.goto("/chat/")
    pinned, recent = page.locator("[data-pinned-list]"), page.locator("[data-conversation-list]")
    expect(recent.locator("li")).to_have_count(4)
    assert titles(recent) == list(reversed(TITLES))
    expect(page.locator("[data-pinned-group]")).to_be_hidden()
    expect(page.get_by_label("Folder", exact=True)).to_be_hidden()  # no folders yet

    choose(page, "Tea notes", "Pin")
    expect(pinned.locator("li")).to_have_count(1)
    expect(page.locator("#pinned-conversations")).to_have_text("Pinned")
    expect(page.locator(".sidebar .conversation-title").first).to_have_text("Tea notes")  # at the top
    expect(recent.locator("li")).to_have_count(3)
    choose(page, "Board memo", "Pin")
    expect(pinned.locator("li")).to_have_count(2)
    assert titles(pinned) == ["Board memo", "Tea notes"]  # the latest pin first

    choose(page, "Regex for postcodes", "Rename")
    page.get_by_label("New title").fill("UK postcode regex")
    page.get_by_label("New title").press("Enter")
    expect(recent.locator(".conversation-title")).to_have_text(["Recursion", "UK postcode regex"])  # same place

    choose(page, "Board memo", "Add to folder")
    page.get_by_label("Folder name").fill("Work")
    page.get_by_label("Folder name").press("Enter")
    expect(row(page, "Board memo").locator(".conversation-folder")).to_have_text("Work")
    # By keyboard: the actions button, down to "Add to folder", and a folder picked from the suggestions.
    row(page, "Recursion").get_by_role("button", name="Conversation actions").focus()
    page.keyboard.press("ArrowDown")
    expect(row(page, "Recursion").get_by_role("menuitem", name="Pin")).to_be_focused()
    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowDown")
    expect(row(page, "Recursion").get_by_role("menuitem", name="Add to folder")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.get_by_label("Folder name")).to_be_focused()
    page.keyboard.type("Work")
    page.keyboard.press("Enter")
    expect(row(page, "Recursion").locator(".conversation-folder")).to_have_text("Work")
    folder = page.get_by_label("Folder", exact=True)
    expect(folder.locator("option")).to_have_text(["All conversations", "Work (2)"])

    folder.select_option("Work")
    expect(page.locator(".sidebar .conversation-title")).to_have_text(["Board memo", "Recursion"])
    search = page.get_by_label("Search conversations")
    search.fill("recur")  # search and the filter together
    expect(page.locator(".sidebar .conversation-title")).to_have_text(["Recursion"])
    search.fill("oolong")  # in the pinned Tea notes, which is in no folder
    expect(page.locator("[data-empty]")).to_have_text("No conversation matches.")
    folder.select_option("")
    expect(page.locator(".sidebar .conversation-title")).to_have_text(["Tea notes"])
    search.fill("WORK")  # the folder's name is searched too
    expect(page.locator(".sidebar .conversation-title")).to_have_text(["Board memo", "Recursion"])
    search.fill("")

    choose(page, "Board memo", "Remove from folder")
    expect(row(page, "Board memo").locator(".conversation-folder")).to_have_count(0)
    expect(folder.locator("option")).to_have_text(["All conversations", "Work (1)"])
    choose(page, "Tea notes", "Unpin")
    expect(recent.locator(".conversation-title")).to_have_text(["Recursion", "UK postcode regex", "Tea notes"])
    expect(pinned.locator(".conversation-title")).to_have_text(["Board memo"])

    saved = {c.pk: c for c in Conversation.objects.filter(user=user)}
    assert saved[conversations["Board memo"].pk].pinned_at is not None
    assert saved[conversations["Tea notes"].pk].pinned_at is None
    assert saved[conversations["Regex for postcodes"].pk].title == "UK postcode regex"
    assert saved[conversations["Recursion"].pk].folder == "Work"
    assert {pk: c.updated_at for pk, c in saved.items()} == active_at  # none of it was activity

    page.reload()  # the server orders them as the page did
    expect(page.locator(".sidebar .conversation-title")).to_have_text(
        ["Board memo", "Recursion", "UK postcode regex", "Tea notes"]
    )
    assert page.errors == []


def test_a_pinned_conversation_from_a_later_page_lists_first_and_show_more_repeats_none_on_a_phone(new_page, user):
    now = timezone.now()
    Conversation.objects.bulk_create(
        Conversation(user=user, title=f"Chat {number:02}", updated_at=now) for number in range(55)
    )
    for offset, conversation in enumerate(Conversation.objects.filter(user=user).order_by("pk")):
        Conversation.objects.filter(pk=conversation.pk).update(updated_at=now - timedelta(minutes=100 - offset))
    oldest = Conversation.objects.filter(user=user).order_by("updated_at").first()
    page = new_page(user, viewport=PHONE)
    page.goto("/chat/")
    page.locator("[data-toggle-sidebar]").click()
    expect(page.locator("[data-conversation-list] li")).to_have_count(50)
    page.get_by_role("button", name="Show more").click()
    expect(page.locator("[data-conversation-list] li")).to_have_count(55)
    expect(page.get_by_role("button", name="Show more")).to_be_hidden()

    choose(page, oldest.title, "Pin")  # on a phone the actions button is always shown
    expect(page.locator(".sidebar .conversation-title").first).to_have_text(oldest.title)
    page.reload()
    page.locator("[data-toggle-sidebar]").click()
    expect(page.locator("[data-pinned-list] .conversation-title")).to_have_text([oldest.title])
    page.get_by_role("button", name="Show more").click()
    expect(page.locator("[data-conversation-list] li")).to_have_count(54)
    assert page.errors == []


@pytest.mark.parametrize("color_scheme", ["light", "dark"])
def test_the_organised_sidebar_screenshot(new_page, user, color_scheme, tmp_path):
    fund(user, 9_874_512)
    conversation = seed_conversation(user)  # three older conversations and the one shown
    Conversation.objects.filter(user=user, title="Summarise the Q3 board memo").update(
        pinned_at=timezone.now(), folder="Work"
    )
    Conversation.objects.filter(user=user, title="Regex for UK postcodes").update(folder="Work")
    Conversation.objects.filter(user=user, title="Tea vs coffee, in a table").update(folder="Home")
    save_to = Path(screenshot_folder(tmp_path))
    for name, viewport in (("desktop", DESKTOP), ("phone", PHONE)):
        page = new_page(user, viewport=viewport, color_scheme=color_scheme)
        page.goto(f"/chat/{conversation.pk}/")
        expect(page.locator('.panel[data-status="complete"]')).to_have_count(3)
        if name == "phone":
            page.locator("[data-toggle-sidebar]").click()
        expect(page.locator("[data-pinned-list] li")).to_have_count(1)
        folders = page.get_by_label("Folder", exact=True).locator("option")
        expect(folders).to_have_text(["All conversations", "Home (1)", "Work (2)"])
        row(page, "Regex for UK postcodes").get_by_role("button", name="Conversation actions").click()
        expect(page.get_by_role("menu")).to_be_visible()
        page.wait_for_timeout(250)  # the phone's sidebar slides in
        path = save_to / f"chat-sidebar-organised-{name}-{color_scheme}.png"
        page.screenshot(path=path)
        assert path.stat().st_size > 20_000
        assert page.errors == []
