"""Browser fixtures: Debian's Chromium, driven by Playwright, on a real Daphne with simulated providers.

Daphne runs on the test database, with the provider simulator and the Stripe stand-in; each test gets fresh
browser contexts. `playwright install` cannot download browsers here, so the tests use /usr/bin/chromium.
Without it they fail in CI (PANELS_REQUIRE_SERVICES is set there) and are skipped elsewhere, saying why.
"""

import os
from pathlib import Path

import pytest
from django.db import connections
from django.test import Client

from standins.providers import SimulatorThread
from standins.stripe import StripeStandin
from tests.browser.site import DESKTOP, STRIPE_KEY, WEBHOOK_SECRET, start_server

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
TIMEOUT_MS = 20_000


@pytest.fixture(scope="module")
def simulator():
    """Serve the providers: 40-token replies at 150 tokens a second, so streams can be watched and stopped."""
    with SimulatorThread(reply_tokens=40, tokens_per_second=150, first_token_ms=50) as sim:
        yield sim


@pytest.fixture(scope="module")
def stripe_standin():
    server = StripeStandin(api_key=STRIPE_KEY, webhook_secret=WEBHOOK_SECRET).start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def server(simulator, stripe_standin, django_db_setup, django_db_blocker, tmp_path_factory):
    """Run Panels in a real Daphne process on the test database; the stand-in posts its webhooks to it.

    Files people attach are kept in a temporary folder, not in the checkout.
    """
    with django_db_blocker.unblock():
        daphne = start_server(simulator, stripe_standin, MEDIA_ROOT=str(tmp_path_factory.mktemp("media")))
    stripe_standin.webhook_url = f"{daphne.url}/billing/stripe/webhook/"
    yield daphne
    daphne.stop()


@pytest.fixture
def browser():
    """Launch Debian's Chromium for one test.

    Playwright's sync API runs an event loop on this thread while it is open. Django then keeps database
    connections apart from the ones the test database was set up with (and uses them only when async-unsafe
    calls are allowed), so Playwright is opened after each test's database set-up and closed, with those
    connections, before its teardown: the transactional tests' data restore keeps working.
    """
    if not CHROMIUM.exists():
        message = f"Browser tests need Chromium at {CHROMIUM} (apt-get install chromium)."
        if os.environ.get("PANELS_REQUIRE_SERVICES"):
            pytest.fail(message)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as playwright:
            chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
            try:
                yield chromium
            finally:
                chromium.close()
                connections.close_all()
    finally:
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture
def new_page(browser, server):
    """Return a function that opens a page in a fresh context (viewport, colour scheme, optionally logged in)."""
    contexts = []

    def open_page(user=None, *, viewport=DESKTOP, color_scheme="light", site=server):
        context = browser.new_context(viewport=viewport, color_scheme=color_scheme, base_url=site.url)
        context.set_default_timeout(TIMEOUT_MS)
        contexts.append(context)
        if user is not None:
            client = Client()
            client.force_login(user)
            context.add_cookies([{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": site.url}])
        page = context.new_page()
        page.dialogs = []  # every alert/confirm a page opens, for tests that must see none
        page.on("dialog", lambda dialog: (page.dialogs.append(dialog.message), dialog.dismiss()))
        page.errors = []
        page.on("pageerror", lambda error: page.errors.append(str(error)))
        return page

    yield open_page
    for context in contexts:
        context.close()
