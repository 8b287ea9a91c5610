"""The theme in a real browser: a chosen theme wins on every page and after a reload; System follows the system.

Colours are read as the browser computed them (the page's background), so a theme that only changed an
attribute would fail. `PANELS_UPDATE_SCREENSHOTS=1` also saves the header with its toggle to docs/screenshots/.
"""

import pytest
from django.contrib.sessions.models import Session
from playwright.sync_api import expect

from tests.browser.test_screenshots import screenshot_folder
from tests.factories import fund

pytestmark = pytest.mark.django_db(transaction=True)

LIGHT_BG = "rgb(246, 246, 247)"  # --bg in app.css
DARK_BG = "rgb(17, 18, 21)"


def background(page) -> str:
    return page.evaluate("getComputedStyle(document.body).backgroundColor")


def choose(page, theme: str) -> None:
    """Click the header's toggle until `theme` is on, each save answered before the next click."""
    toggle = page.locator("[data-theme-toggle]")
    for _ in range(3):
        if page.locator("html").get_attribute("data-theme") == theme:
            return
        with page.expect_response(lambda response: response.url.endswith("/accounts/theme")) as saved:
            toggle.click()
        assert saved.value.status == 200
    expect(page.locator("html")).to_have_attribute("data-theme", theme)


def test_choosing_dark_applies_at_once_and_stays_after_a_reload_and_on_other_pages(new_page, user):
    fund(user, 1_000)
    page = new_page(user, color_scheme="light")
    page.goto("/billing/usage/")
    toggle = page.locator("[data-theme-toggle]")
    expect(page.locator("html")).to_have_attribute("data-theme", "system")
    expect(toggle).to_have_accessible_name("Theme: Follow the system")
    assert background(page) == LIGHT_BG

    choose(page, "dark")

    assert background(page) == DARK_BG  # no reload needed
    expect(toggle).to_have_accessible_name("Theme: Dark")
    expect(page.locator("[data-theme-status]")).to_have_text("Theme: Dark")
    expect(page.locator('meta[name="color-scheme"]')).to_have_attribute("content", "dark")
    user.refresh_from_db()
    assert user.theme == "dark"

    page.reload()
    expect(page.locator("html")).to_have_attribute("data-theme", "dark")
    assert background(page) == DARK_BG
    for path in ("/billing/", "/pricing/", "/billing/keys/", "/chat/"):
        page.goto(path)
        expect(page.locator("html")).to_have_attribute("data-theme", "dark")
        assert background(page) == DARK_BG, path
    assert page.errors == []


def test_choosing_light_wins_over_a_dark_system(new_page, user):
    page = new_page(user, color_scheme="dark")
    page.goto("/billing/")
    assert background(page) == DARK_BG
    choose(page, "light")
    assert background(page) == LIGHT_BG
    page.reload()
    assert background(page) == LIGHT_BG
    assert page.evaluate("getComputedStyle(document.documentElement).colorScheme") == "light"


@pytest.mark.parametrize(("color_scheme", "expected"), [("dark", DARK_BG), ("light", LIGHT_BG)])
def test_the_system_theme_follows_the_system_s_colour_scheme(new_page, user, color_scheme, expected):
    page = new_page(user, color_scheme=color_scheme)
    page.goto("/chat/")
    expect(page.locator("html")).to_have_attribute("data-theme", "system")
    assert background(page) == expected
    page.emulate_media(color_scheme="light" if color_scheme == "dark" else "dark")  # the system changes its mind
    assert background(page) == (LIGHT_BG if color_scheme == "dark" else DARK_BG)


def test_a_visitor_s_pages_follow_the_system(new_page):
    page = new_page(color_scheme="dark")
    page.goto("/pricing/")
    expect(page.locator("html")).to_have_attribute("data-theme", "system")
    expect(page.locator("[data-theme-toggle]")).to_have_count(0)
    assert background(page) == DARK_BG


def test_a_theme_that_cannot_be_saved_goes_back_and_says_why(new_page, user):
    page = new_page(user, color_scheme="light")
    page.goto("/pricing/")
    Session.objects.all().delete()  # logged out elsewhere: the save is refused
    with page.expect_response(lambda response: response.url.endswith("/accounts/theme")) as refused:
        page.locator("[data-theme-toggle]").click()
    assert refused.value.status in (401, 403)
    expect(page.locator("[data-theme-status]")).to_contain_text("The theme could not be saved")
    expect(page.locator("html")).to_have_attribute("data-theme", "system")
    assert background(page) == LIGHT_BG
    user.refresh_from_db()
    assert user.theme == "system"


def test_the_toggle_is_reached_and_used_with_the_keyboard(new_page, user):
    page = new_page(user, color_scheme="light")
    page.goto("/pricing/")
    toggle = page.locator("[data-theme-toggle]")
    toggle.focus()
    with page.expect_response(lambda response: response.url.endswith("/accounts/theme")):
        page.keyboard.press("Enter")
    expect(page.locator("html")).to_have_attribute("data-theme", "light")
    expect(toggle).to_be_focused()


def test_screenshot_of_the_theme_toggle(new_page, user, tmp_path):
    fund(user, 9_874_512)
    page = new_page(user, color_scheme="light")
    page.goto("/billing/")
    choose(page, "dark")
    page.locator("[data-theme-toggle]").focus()
    path = screenshot_folder(tmp_path) / "theme-toggle-dark.png"
    page.screenshot(path=path, clip={"x": 0, "y": 0, "width": 1440, "height": 320})
    assert path.stat().st_size > 10_000
    assert page.errors == []
