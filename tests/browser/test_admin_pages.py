"""The admin as a new admin meets it, in a real browser: the pricing overview, model errors, the price history."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from billing.models import Price
from catalog.models import AIModel
from tests.browser.site import DESKTOP

pytestmark = pytest.mark.django_db(transaction=True)

PASSWORD = "correct-horse-battery"
LONG_NOTE = (
    "Provider list price change, announced at "
    "https://platform.openai.com/docs/pricing?utm_source=changelog&utm_medium=email&utm_campaign=price-update#gpt-4o-mini"
)


@pytest.fixture
def superuser(django_user_model):
    return django_user_model.objects.create_superuser(email="admin@example.com", password=PASSWORD)


@pytest.fixture
def gpt_4o_mini():
    return AIModel.objects.get(slug="gpt-4o-mini")


def page_width(page) -> int:
    return page.evaluate("document.documentElement.scrollWidth")


def test_the_admin_index_links_the_pricing_overview(new_page, superuser):
    page = new_page()
    page.goto("/admin/")
    page.get_by_label("Email").fill(superuser.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()

    page.get_by_role("link", name="Pricing overview").click()

    expect(page).to_have_url("/admin/billing/billingsettings/pricing/")
    expect(page.get_by_role("heading", name="Pricing overview")).to_be_visible()
    expect(page.get_by_role("link", name="gpt-4o-mini", exact=True)).to_be_visible()


@pytest.mark.parametrize("page_of", ["model list", "model page", "price list", "price page"])
def test_the_model_and_price_pages_link_the_pricing_overview(new_page, superuser, gpt_4o_mini, page_of):
    path = {
        "model list": "/admin/catalog/aimodel/",
        "model page": f"/admin/catalog/aimodel/{gpt_4o_mini.pk}/change/",
        "price list": "/admin/billing/price/",
        "price page": f"/admin/billing/price/{gpt_4o_mini.current_price().pk}/change/",
    }[page_of]
    page = new_page(superuser)
    page.goto(path)

    page.get_by_role("link", name="Pricing overview").click()

    expect(page).to_have_url("/admin/billing/billingsettings/pricing/")


def test_a_context_window_below_the_max_output_is_worded_on_the_max_output_field(new_page, superuser, gpt_4o_mini):
    page = new_page(superuser)
    page.goto(f"/admin/catalog/aimodel/{gpt_4o_mini.pk}/change/")

    page.get_by_label("Context window").fill("4096")  # the max output is 16,384
    page.get_by_role("button", name="Save", exact=True).click()

    field = page.locator(".form-row.field-max_output_tokens")
    expect(field.locator(".errorlist")).to_have_text(
        "The max output cannot be larger than the context window, which counts the prompt and the reply together."
    )
    expect(page.locator("form .errornote")).to_be_visible()
    expect(page.get_by_text("is violated")).to_have_count(0)
    gpt_4o_mini.refresh_from_db()
    assert gpt_4o_mini.context_window == 128_000


def add_a_long_price_history(model, by, *, rows: int = 12) -> None:
    """Give `model` a year of monthly price changes, each with a long linked note, entered by `by`."""
    start = timezone.now() - timedelta(days=400)
    for month in range(rows):
        Price.objects.create(
            model=model,
            input_usd_per_m=Decimal("1234.567891"),
            output_usd_per_m=Decimal("98765.432198"),
            cached_input_usd_per_m=Decimal("0.075000"),
            markup_percent=Decimal("12.50"),
            effective_from=start + timedelta(days=30 * month),
            created_by=by,
            note=LONG_NOTE,
        )


def test_a_long_price_history_fits_a_1440_px_screen(new_page, django_user_model, gpt_4o_mini):
    pricing_admin = django_user_model.objects.create_superuser(
        email="pricing.administrator@example.com", password=PASSWORD
    )
    add_a_long_price_history(gpt_4o_mini, pricing_admin)
    page = new_page(pricing_admin, viewport=DESKTOP)

    page.goto(f"/admin/catalog/aimodel/{gpt_4o_mini.pk}/change/")

    history = page.locator("#prices-group fieldset")
    expect(history.get_by_text("superseded")).to_have_count(12)
    assert DESKTOP["width"] == 1440
    assert page_width(page) <= 1440
    # The table itself fits its box there, so no column hides behind a scroll bar.
    assert history.evaluate("box => box.scrollWidth <= box.clientWidth")


def test_on_a_narrower_screen_the_price_history_scrolls_and_the_page_does_not(new_page, superuser, gpt_4o_mini):
    add_a_long_price_history(gpt_4o_mini, superuser)
    page = new_page(superuser, viewport={"width": 1100, "height": 800})

    page.goto(f"/admin/catalog/aimodel/{gpt_4o_mini.pk}/change/")

    assert page_width(page) <= 1100
    history = page.locator("#prices-group fieldset")
    assert history.evaluate("box => box.scrollWidth > box.clientWidth && getComputedStyle(box).overflowX === 'auto'")
