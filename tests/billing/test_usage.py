"""The usage page (spending by model and by Auto task, what Auto saved) and the Auto price ceiling setting."""

import csv
import io
import re
from datetime import timedelta
from decimal import Decimal
from types import SimpleNamespace

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from billing.keys import create_api_key, revoke_api_key
from billing.models import BillingSettings, LedgerEntry, Wallet
from billing.selectors import KeySpending, ModelSpending, spending_by_key_for, spending_by_model_for
from billing.services import ChargedUsage, HoldRequest, change_billing_settings, place_holds, settle
from chat import billing_pages
from chat.models import Message
from chat.providers.base import Usage
from chat.selectors import TaskSpending, auto_spending_for
from tests.factories import answer_api_call, answer_turn, fund

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


# --- Spending per API key ------------------------------------------------------------------------------


def charge(user, key, reference: str, model, input_tokens: int, output_tokens: int) -> LedgerEntry:
    """Hold for a call (with `key`, or none as the chat does) and settle it, through the real services."""
    (hold,) = place_holds(user=user, api_key=key, requests=[HoldRequest(reference, model, input_tokens, output_tokens)])
    return settle(hold=hold, usage=ChargedUsage(input_tokens=input_tokens, output_tokens=output_tokens))


@pytest.fixture
def key_spending(user, priced_model, admin_user, django_user_model):
    """Ada's charges on Test Mini ($0.15 / $0.60 per 1M) through two keys and the chat, and Eve's through hers.

    The exchange rate halves before the Support bot's second call, so its USD is not its credits at one rate.
    """
    fund(user, 2_000_000)
    report = create_api_key(user=user, name="Nightly report").key
    bot = create_api_key(user=user, name="Support bot").key
    charge(user, report, "api-test:1", priced_model, 1_000, 500)  # $0.00045: 900 credits
    charge(user, report, "api-test:2", priced_model, 2_000, 1_000)  # $0.0009: 1,800 credits
    charge(user, bot, "api-test:3", priced_model, 100, 50)  # $0.000045: 90 credits
    charge(user, None, "message-test:4", priced_model, 10_000, 0)  # the chat, no key: $0.0015, 3,000 credits
    billing = BillingSettings.load()
    billing.credits_per_usd = 1_000_000
    change_billing_settings(billing=billing, by=admin_user)
    charge(user, bot, "api-test:5", priced_model, 100, 50)  # $0.000045: 45 credits at the new rate
    eve = django_user_model.objects.create_user(email="eve@example.com", password="x-long-passphrase")
    fund(eve, 2_000_000)
    eves = create_api_key(user=eve, name="Eve's scraper").key
    charge(eve, eves, "api-test:6", priced_model, 50_000, 4_000)
    return SimpleNamespace(user=user, report=report, bot=bot, eves=eves)


def test_spending_is_summed_per_api_key_from_the_ledger_exactly(key_spending):
    report, bot = key_spending.report, key_spending.bot

    rows = spending_by_key_for(key_spending.user)

    assert rows == [
        KeySpending(None, "", "", False, 1, 10_000, 0, 3_000, Decimal("0.0015")),
        KeySpending(report.pk, "Nightly report", report.prefix, False, 2, 3_000, 1_500, 2_700, Decimal("0.00135")),
        KeySpending(bot.pk, "Support bot", bot.prefix, False, 2, 200, 100, 135, Decimal("0.00009")),
    ]
    for row in rows:  # each row is what the ledger says that key (or no key) was charged
        entries = LedgerEntry.objects.filter(wallet__user=key_spending.user, kind="usage", api_key_id=row.key_id)
        assert -sum(entries.values_list("amount_credits", flat=True)) == row.credits
    assert spending_by_key_for(key_spending.user, since=timezone.now() + timedelta(seconds=1)) == []


def test_a_revoked_key_s_spending_still_counts(key_spending):
    revoke_api_key(key=key_spending.bot)

    bot_row = spending_by_key_for(key_spending.user)[-1]

    assert (bot_row.key_id, bot_row.revoked, bot_row.credits) == (key_spending.bot.pk, True, 135)


def test_the_usage_page_shows_spending_per_api_key_and_for_the_chat(key_spending, ada):
    report, bot, eves = key_spending.report, key_spending.bot, key_spending.eves
    revoke_api_key(key=bot)

    response = ada.get("/billing/usage/")

    assert [row.key_id for row in response.context["keys"]] == [None, report.pk, bot.pk]
    page = response.content.decode()
    table = page[page.index('data-testid="by-key"') : page.index("</table>", page.index('data-testid="by-key"'))]
    chat = re.search(r'<tr data-key="chat">.*?</tr>', table, flags=re.S).group(0)
    assert "The chat" in chat and "10,000" in chat and "3,000" in chat and "$0.0015" in chat
    report_row = re.search(rf'<tr data-key="{report.pk}">.*?</tr>', table, flags=re.S).group(0)
    assert f"Nightly report <code>{report.prefix}…</code>" in report_row
    assert ">2<" in report_row and "3,000" in report_row and "1,500" in report_row and "2,700" in report_row
    assert "$0.0014" in report_row  # 0.00135 to two digits
    bot_row = re.search(rf'<tr data-key="{bot.pk}">.*?</tr>', table, flags=re.S).group(0)
    assert "(revoked)" in bot_row and "135" in bot_row and "$0.000090" in bot_row
    assert "Eve" not in page and eves.prefix not in page
    assert response.context["spent"]["credits"] == 3_000 + 2_700 + 135  # the keys and the chat are all of it


def test_the_period_selector_leaves_out_older_spending_per_key(key_spending, ada, monkeypatch):
    later = timezone.now() + timedelta(days=10)
    monkeypatch.setattr(billing_pages, "timezone", SimpleNamespace(now=lambda: later))

    assert ada.get("/billing/usage/?period=7d").context["keys"] == []
    assert len(ada.get("/billing/usage/?period=30d").context["keys"]) == 3


# --- Auto's tasks, chat replies and API calls -------------------------------------------------------------


def test_auto_spending_counts_api_calls_that_auto_routed(spending, django_user_model):
    key = create_api_key(user=spending, name="Bot")
    routed = answer_api_call(key.secret, "auto", GENERAL_CHAT, usage=Usage(1_000, 500))
    answer_api_call(key.secret, "gpt-4o-mini", GENERAL_CHAT, usage=Usage(1_000, 500))  # picked, not Auto
    answer_api_call(key.secret, "auto", GENERAL_CHAT, usage=None)  # failed before any output: nothing charged
    eve = django_user_model.objects.get(email="eve@example.com")
    answer_api_call(create_api_key(user=eve, name="Eve's").secret, "auto", CODE_REVIEW, usage=Usage(9_000, 900))

    tasks = auto_spending_for(spending)

    # mini 900; on haiku 5,600: saved 4,700, as for a chat reply
    assert (routed.route_task, routed.model.slug, routed.credits, routed.comparison_credits) == (
        "general_chat",
        "gpt-4o-mini",
        900,
        5_600,
    )
    assert tasks == [
        TaskSpending("code_review", "Code review and explanation", 1, 5_600, 0),
        TaskSpending("general_chat", "General chat", 3, 3_600, 18_800),
    ]


def test_the_usage_page_s_auto_figures_include_api_calls(spending, ada):
    key = create_api_key(user=spending, name="Bot")
    answer_api_call(key.secret, "auto", GENERAL_CHAT, usage=Usage(1_000, 500))

    context = ada.get("/billing/usage/").context

    assert context["auto"] == {"replies": 4, "credits": 9_200, "saved": 18_800, "saved_usd": Decimal("0.0094")}


# --- The usage CSV ---------------------------------------------------------------------------------------


def csv_rows(client) -> list[dict]:
    response = client.get("/billing/usage.csv")
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    return list(csv.DictReader(io.StringIO(response.content.decode())))


@pytest.fixture
def api_calls(spending):
    """Ada's API calls with her key "Bot": one Auto routed (a code review), one to a model she named."""
    key = create_api_key(user=spending, name="Bot")
    routed = answer_api_call(key.secret, "auto", CODE_REVIEW, usage=Usage(1_000, 500))
    picked = answer_api_call(key.secret, "gpt-4o-mini", GENERAL_CHAT, usage=Usage(100, 50))
    return SimpleNamespace(key=key.key, routed=routed, picked=picked)


def test_the_usage_csv_names_each_charge_s_api_key_and_auto_s_task(spending, api_calls, ada):
    rows = csv_rows(ada)

    by_reference = {row["reference"]: row for row in rows}
    assert list(rows[0])[-2:] == ["API key", "Auto task"]
    replies = Message.objects.filter(turn__user=spending, credits__gt=0)
    assert len(rows) == replies.count() + 2 == 6  # Ada's four charged replies and two calls; none of Eve's
    for reply in replies:
        row = by_reference[f"message:{reply.pk}"]
        assert (row["API key"], row["Auto task"]) == ("", reply.route_task)
    assert sorted(reply.route_task for reply in replies) == ["", "code_review", "general_chat", "general_chat"]
    bot = f"Bot ({api_calls.key.prefix}…)"
    assert (
        by_reference[f"api:{api_calls.routed.pk}"]["API key"],
        by_reference[f"api:{api_calls.routed.pk}"]["Auto task"],
    ) == (bot, "code_review")
    assert (
        by_reference[f"api:{api_calls.picked.pk}"]["API key"],
        by_reference[f"api:{api_calls.picked.pk}"]["Auto task"],
    ) == (bot, "")
    assert by_reference[f"api:{api_calls.routed.pk}"]["credits"] == str(api_calls.routed.credits)


def test_the_usage_csv_reads_in_chunks_with_a_fixed_number_of_queries(spending, api_calls, ada, monkeypatch):
    whole = csv_rows(ada)
    monkeypatch.setattr(billing_pages, "CSV_CHUNK", 4)  # six charges: a full chunk, then a part of one

    assert csv_rows(ada) == whole
    monkeypatch.setattr(billing_pages, "CSV_CHUNK", 1_000)
    with CaptureQueriesContext(connection) as six:
        csv_rows(ada)
    answer_turn(spending, ["auto"], GENERAL_CHAT, usage=Usage(10, 5))
    answer_api_call(create_api_key(user=spending, name="More").secret, "auto", GENERAL_CHAT, usage=Usage(10, 5))
    with CaptureQueriesContext(connection) as eight:
        rows = csv_rows(ada)

    assert len(rows) == 8
    assert len(eight.captured_queries) == len(six.captured_queries)  # no query per charge


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
