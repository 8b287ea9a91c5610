"""Every page, the admin's included, works under the site-wide Content-Security-Policy: nothing it needs is refused.

A policy that refuses a page's own script or style would break it silently for everyone; Chromium reports each
refusal as a `securitypolicyviolation` event, which these tests collect and expect to be none.
"""

import pytest
from playwright.sync_api import expect

from catalog.models import AIModel

COLLECT_VIOLATIONS = """
window.__violations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  const what = event.blockedURI || "inline";
  window.__violations.push(`${event.violatedDirective} refused ${what} at line ${event.lineNumber}`);
});
"""

pytestmark = pytest.mark.django_db(transaction=True)


def violations_on(page, path: str) -> list[str]:
    page.goto(path)
    page.wait_for_load_state("networkidle")
    return page.evaluate("window.__violations")


@pytest.fixture
def staff(django_user_model):
    return django_user_model.objects.create_superuser(email="admin@example.com", password="correct-horse-battery")


@pytest.mark.parametrize(
    "path",
    [
        "/",
        "/chat/",
        "/pricing/",
        "/billing/",
        "/billing/usage/",
        "/billing/settings/",
        "/billing/keys/",
        "/accounts/email/",
    ],
)
def test_a_person_s_pages_run_without_a_policy_violation(new_page, user, path):
    page = new_page(user)
    page.add_init_script(COLLECT_VIOLATIONS)

    assert violations_on(page, path) == []
    assert page.errors == []


@pytest.mark.parametrize("path", ["/accounts/login/", "/accounts/signup/", "/accounts/password/reset/"])
def test_the_account_pages_run_without_a_policy_violation(new_page, path):
    page = new_page()
    page.add_init_script(COLLECT_VIOLATIONS)

    assert violations_on(page, path) == []


def test_the_admin_runs_under_the_policy_without_a_violation(new_page, staff):
    page = new_page(staff)
    page.add_init_script(COLLECT_VIOLATIONS)
    model = AIModel.objects.get(slug="gpt-4o-mini")
    paths = [
        "/admin/",
        "/admin/catalog/aimodel/",
        f"/admin/catalog/aimodel/{model.pk}/change/",  # fieldsets, the price inline, the related-object widgets
        "/admin/catalog/provider/add/",  # the slug prepopulated from the name, by the admin's own script
        "/admin/billing/billingsettings/pricing/",
        "/admin/billing/billingsettings/",
        "/admin/billing/ledgerentry/",
        "/admin/billing/apikey/",
    ]
    for path in paths:
        assert violations_on(page, path) == [], path
        assert "Page not found" not in page.content(), path

    page.goto("/admin/catalog/provider/add/")  # the admin's scripts run: typing a name fills in the slug
    page.get_by_label("Name").press_sequentially("Local Llama")  # keystrokes: the script listens for keyup
    expect(page.get_by_label("Slug")).to_have_value("local-llama")
    assert page.errors == []

    # The collector does see a refusal: an image from another site is one.
    page.evaluate("document.body.append(Object.assign(new Image(), {src: 'https://images.example/x.png'}))")
    page.wait_for_function("window.__violations.length > 0")
    assert page.evaluate("window.__violations")[0].startswith("img-src refused https://images.example/x.png")
