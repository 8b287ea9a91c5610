"""The usage page (spending by model and by Auto task, what Auto saved) and the Auto price ceiling setting."""

from datetime import timedelta
from decimal import Decimal
from types import SimpleNamespace

import pytest
from django.test import Client
from django.utils import timezone

from billing.models import LedgerEntry, Wallet
from billing.selectors import ModelSpending, spending_by_model_for
from chat import billing_pages
from chat.providers.base import Usage
from chat.selectors import TaskSpending, auto_spending_for
from tests.factories import answer_turn, fund

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("openai_and_anthropic")]

CODE_REVIEW = "Please review this code:\n```python\ndef double(x):\n    return x * 2\n```"
GENERAL_CHAT = "what's the difference between a latte and a flat white"


@pytest.fixture
def ada(client, user):
    client.force_login(user)
    return client


@pytest.fixture
def spending(user, django_user_model):
    """Ada's replies, at the seeded prices (2,000,000 credits per USD), and Eve's, which Ada must never see.

    gpt-4o-mini is $0.15 / $0.60 and claude-3-5-haiku $0.80 / $4.00 per 1M tokens.
    """
    fund(user, 2_000_000)
    answer_turn(user, ["auto"], CODE_REVIEW, usage=Usage(1_000, 500))  # haiku 5,600; on mini 900: saved 0
    answer_turn(user, ["auto"], GENERAL_CHAT, usage=Usage(1_000, 500))  # mini 900; on haiku 5,600: saved 4,700
    answer_turn(user, ["auto"], GENERAL_CHAT, usage=Usage(2_000, 1_000))  # mini 1,800; on haiku 11,200: saved 9,400
    answer_turn(user, ["gpt-4o-mini"], GENERAL_CHAT, usage=Usage(100, 50))  # picked: 90, not Auto
    answer_turn(user, ["auto"], GENERAL_CHAT, usage=None)  # failed before any output: nothing charged
    eve = django_user_model.objects.create_user(email="eve@example.com", password="x-long-passphrase")
    fund(eve, 2_000_000)
    answer_turn(eve, ["auto"], GENERAL_CHAT, usage=Usage(50_000, 4_000))
    answer_turn(eve, ["claude-3-haiku"], GENERAL_CHAT, usage=Usage(7_000, 300))
    return user


def test_spending_is_summed_per_model_from_the_ledger_exactly(spending):
    assert spending_by_model_for(spending) == [
        ModelSpending("claude-3-5-haiku", "Claude 3.5 Haiku", 1, 1_000, 500, 5_600, Decimal("0.0028")),
        ModelSpending("gpt-4o-mini", "GPT-4o mini", 3, 3_100, 1_550, 2_790, Decimal("0.001395")),
    ]


def test_auto_spending_and_savings_are_summed_per_task(spending):
    assert auto_spending_for(spending) == [
        TaskSpending("code_review", "Code review and explanation", 1, 5_600, 0),
        TaskSpending("general_chat", "General chat", 2, 2_700, 14_100),
    ]


def test_the_usage_page_shows_the_period_s_figures_and_what_auto_saved(spending, ada):
    response = ada.get("/billing/usage/")

    assert response.status_code == 200
    context = response.context
    assert context["period"] == "30d"
    assert context["spent"] == {
        "replies": 4,
        "input_tokens": 4_100,
        "output_tokens": 2_050,
        "credits": 8_390,
        "usd": Decimal("0.004195"),
    }
    assert context["auto"] == {"replies": 3, "credits": 8_300, "saved": 14_100, "saved_usd": Decimal("0.00705")}
    page = response.content.decode()
    assert 'data-testid="spent-credits">8,390<' in page and "$0.0042" in page  # 0.004195 to two digits
    assert 'data-testid="saved-credits">14,100<' in page and "$0.0071" in page
    assert "Claude 3.5 Haiku" in page and "General chat" in page and "14,100" in page
    assert "minus what you were charged" in page  # the one-line explanation
    # Everything on the page is Ada's: her ledger agrees, and Eve's models and amounts appear nowhere.
    charged = -sum(
        LedgerEntry.objects.filter(wallet__user=spending, kind="usage").values_list("amount_credits", flat=True)
    )
    assert charged == 8_390
    assert "Claude 3 Haiku" not in page
    assert Wallet.objects.get(user=spending).balance_credits == 2_000_000 - 8_390


def test_the_period_selector_leaves_out_older_spending(spending, ada, monkeypatch):
    later = timezone.now() + timedelta(days=10)  # as if ten days had passed since the replies
    monkeypatch.setattr(billing_pages, "timezone", SimpleNamespace(now=lambda: later))

    week = ada.get("/billing/usage/?period=7d").context
    month = ada.get("/billing/usage/?period=30d").context
    ever = ada.get("/billing/usage/?period=all").context
    unknown = ada.get("/billing/usage/?period=forever").context

    assert (week["spent"]["credits"], week["auto"]["saved"], week["models"], week["tasks"]) == (0, 0, [], [])
    assert (month["spent"]["credits"], month["auto"]["saved"]) == (8_390, 14_100)
    assert (ever["spent"]["credits"], ever["auto"]["saved"]) == (8_390, 14_100)
    assert unknown["period"] == "30d"


def test_another_person_s_usage_page_shows_only_their_own_spending(spending, client, django_user_model):
    eve = django_user_model.objects.get(email="eve@example.com")
    client.force_login(eve)

    context = client.get("/billing/usage/?period=all").context

    assert [row.slug for row in context["models"]] == ["gpt-4o-mini", "claude-3-haiku"]
    assert [row.task for row in context["tasks"]] == ["general_chat"]
    assert context["auto"]["replies"] == 1 and context["spent"]["replies"] == 2


def test_a_person_with_no_spending_sees_an_empty_page(ada):
    page = ada.get("/billing/usage/").content.decode()

    assert "Nothing spent in this period." in page and "No Auto replies in this period." in page


def test_the_usage_page_needs_a_login_and_is_linked_from_the_wallet_and_the_header(client, ada):
    assert "/accounts/login/" in Client().get("/billing/usage/").url

    wallet = ada.get("/billing/").content.decode()

    assert wallet.count('href="/billing/usage/"') == 2  # the header's nav and the wallet's summary
    assert 'href="/billing/usage/" aria-current="page"' in ada.get("/billing/usage/").content.decode()


# --- The Auto price ceiling setting ------------------------------------------------------------------------


def ceiling(user) -> int | None:
    return Wallet.objects.get(user=user).auto_ceiling_credits


@pytest.mark.parametrize(("typed", "saved"), [("5000", 5_000), ("12,500", 12_500), (" 7 500 ", 7_500), ("1", 1)])
def test_a_ceiling_is_saved_as_a_whole_number_of_credits(ada, user, typed, saved):
    response = ada.post("/billing/settings/", {"auto_ceiling_credits": typed})

    assert response.status_code == 302 and response.url == "/billing/settings/"
    assert ceiling(user) == saved
    page = ada.get(response.url).content.decode()
    assert f"Auto now spends at most {saved:,} credits on a reply." in page
    assert f"at most <strong>{saved:,} credits</strong>" in page


def test_a_blank_ceiling_removes_it(ada, user):
    ada.post("/billing/settings/", {"auto_ceiling_credits": "5000"})

    ada.post("/billing/settings/", {"auto_ceiling_credits": ""})

    assert ceiling(user) is None
    assert "Auto price ceiling: none" in ada.get("/billing/").content.decode()


@pytest.mark.parametrize(
    ("typed", "says"),
    [
        ("abc", "Enter a whole number of credits, such as 5000, or leave it blank for no ceiling."),
        ("1.5", "Enter a whole number of credits"),
        ("0", "Enter at least 1 credit, or leave it blank for no ceiling."),
        ("-20", "Enter at least 1 credit"),
        ("1000000000001", "Enter at most 1,000,000,000,000 credits"),
    ],
)
def test_a_ceiling_that_is_not_a_whole_positive_number_is_refused_and_changes_nothing(ada, user, typed, says):
    ada.post("/billing/settings/", {"auto_ceiling_credits": "5000"})

    response = ada.post("/billing/settings/", {"auto_ceiling_credits": typed})

    assert response.status_code == 400
    assert says in response.content.decode()
    assert 'aria-invalid="true"' in response.content.decode()
    assert ceiling(user) == 5_000


def test_the_settings_page_needs_a_login_and_a_csrf_token(user):
    assert "/accounts/login/" in Client().get("/billing/settings/").url
    anonymous = Client().post("/billing/settings/", {"auto_ceiling_credits": "1"})
    assert anonymous.status_code == 302 and "/accounts/login/" in anonymous.url

    forged = Client(enforce_csrf_checks=True)
    forged.force_login(user)
    assert forged.post("/billing/settings/", {"auto_ceiling_credits": "1"}).status_code == 403
    assert not Wallet.objects.filter(user=user, auto_ceiling_credits__isnull=False).exists()


def test_the_settings_page_shows_what_auto_estimates_for_typical_replies(ada):
    response = ada.get("/billing/settings/")

    assert response.status_code == 200
    rows = {route.task: (model.slug, estimate) for route, model, estimate in response.context["typical_costs"]}
    # A 200-token prompt and a 1,200-token review on Claude 3.5 Haiku: 200 x 0.80 + 1,200 x 4.00 = $0.00496.
    assert rows["code_review"] == ("claude-3-5-haiku", 9_920)
    # and a 500-token chat reply on GPT-4o mini: 200 x 0.15 + 500 x 0.60 = $0.00033.
    assert rows["general_chat"] == ("gpt-4o-mini", 660)
    assert "9,920 credits" in response.content.decode()
