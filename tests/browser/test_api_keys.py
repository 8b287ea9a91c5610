"""The API keys page in a browser: a key is created, its secret copied with the button, and it works as shown."""

import hashlib
import re

import pytest
from openai import OpenAI
from playwright.sync_api import expect

from billing.models import ApiKey
from tests.factories import fund

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_key_made_in_the_browser_is_copied_and_works_with_the_openai_sdk_as_the_page_shows(new_page, user):
    fund(user, 2_000_000)
    page = new_page(user)
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    page.goto("/billing/keys/")

    page.get_by_label("Name").fill("Notebook")
    page.get_by_label("Daily limit (credits)").fill("2,000,000")
    expect(page.locator('output[data-usd-of="id_daily_limit_credits"]')).to_have_text("= $1.00 at today's rate")
    page.get_by_label("Total limit (credits)").fill("1.5")
    expect(page.locator('output[data-usd-of="id_total_limit_credits"]')).to_have_text("")  # not whole credits
    page.get_by_label("Total limit (credits)").fill("")
    page.get_by_label("GPT-4o mini").check()
    page.get_by_role("button", name="Create key").click()

    expect(page.get_by_test_id("shown-once")).to_contain_text("It will not be shown again")
    secret = page.get_by_label("Your new API key").input_value()
    page.get_by_role("button", name="Copy").click()
    expect(page.get_by_role("button", name="Copied")).to_be_visible()
    assert page.evaluate("navigator.clipboard.readText()") == secret
    key = ApiKey.objects.get(user=user)
    assert key.digest == hashlib.sha256(secret.encode()).hexdigest()
    assert (key.daily_limit_credits, key.allowed_models) == (2_000_000, ["gpt-4o-mini"])
    assert page.errors == []

    # The page's example, with the copied key: a completion through the OpenAI SDK, charged to the key.
    example = page.locator(".code-example code").inner_text()
    base_url = re.search(r'base_url="([^"]+)"', example).group(1)
    client = OpenAI(base_url=base_url, api_key=secret, max_retries=0)
    reply = client.chat.completions.create(model="auto", messages=[{"role": "user", "content": "Say hello."}])
    assert reply.choices[0].message.content and reply.model == "gpt-4o-mini"  # Auto, within the key's models

    page.goto("/billing/keys/")
    row = page.locator(f'tr[data-key="{key.pk}"]')
    expect(row).to_contain_text("Notebook")
    expect(row).not_to_contain_text("Never")  # last used: just now
    assert secret not in page.content()
    page.goto("/billing/usage/")
    expect(page.get_by_test_id("by-key").locator(f'tr[data-key="{key.pk}"]')).to_contain_text("Notebook")
