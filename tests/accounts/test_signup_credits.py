"""Sign-up credits: a new account gets its wallet at once and the free credits when its email is verified."""

import uuid

import pytest
from allauth.account.models import EmailAddress
from django.contrib.auth import get_user_model
from django.core import mail

from billing.ledger import ledger_mismatches
from billing.models import BillingSettings, LedgerEntry, Wallet
from tests.factories import confirm_email, confirmation_link, sign_up

pytestmark = pytest.mark.django_db

User = get_user_model()
GRANT = 200_000  # the default of BillingSettings.signup_grant_credits


@pytest.fixture
def email() -> str:
    """Return an address never used before: allauth mails an address at most once in 3 minutes (cache)."""
    return f"grace-{uuid.uuid4().hex[:12]}@example.com"


def grants_of(user) -> list[tuple[str, int]]:
    return list(
        LedgerEntry.objects.filter(wallet__user=user, kind="signup_grant").values_list(
            "idempotency_key", "amount_credits"
        )
    )


def test_a_new_account_gets_an_empty_wallet_and_no_credits_before_its_email_is_verified(client, email):
    response = sign_up(client, email)

    assert response.status_code == 302
    grace = User.objects.get(email=email)
    wallet = Wallet.objects.get(user=grace)
    assert (wallet.balance_credits, wallet.held_credits) == (0, 0)
    assert not LedgerEntry.objects.exists()
    assert not EmailAddress.objects.get(user=grace).verified
    assert len(mail.outbox) == 1  # the confirmation link


def test_confirming_the_email_grants_the_signup_credits_once(client, email):
    sign_up(client, email)
    grace = User.objects.get(email=email)

    confirm_email(client, mail.outbox[0])
    client.post(confirmation_link(mail.outbox[0]))  # the link used a second time

    assert Wallet.objects.get(user=grace).balance_credits == GRANT
    assert grants_of(grace) == [(f"signup:{grace.pk}", GRANT)]
    assert LedgerEntry.objects.get().memo == "Welcome credits"
    assert ledger_mismatches() == []


def test_a_second_verified_address_never_grants_again(client, email):
    sign_up(client, email)
    grace = User.objects.get(email=email)
    confirm_email(client, mail.outbox[0])

    client.post("/accounts/email/", {"email": email.replace("@example.com", "@work.example"), "action_add": ""})
    confirm_email(client, mail.outbox[-1])

    assert EmailAddress.objects.filter(user=grace, verified=True).count() == 2
    assert grants_of(grace) == [(f"signup:{grace.pk}", GRANT)]
    assert Wallet.objects.get(user=grace).balance_credits == GRANT


def test_an_admin_marking_the_address_verified_grants_the_credits(admin_client, client, email):
    sign_up(client, email)
    grace = User.objects.get(email=email)
    address = EmailAddress.objects.get(user=grace)

    admin_client.post("/admin/account/emailaddress/", {"action": "make_verified", "_selected_action": [address.pk]})

    assert grants_of(grace) == [(f"signup:{grace.pk}", GRANT)]


def test_the_wallet_page_says_verifying_adds_the_credits_until_it_is_done(client, email):
    sign_up(client, email)

    before = client.get("/billing/").content.decode()
    confirm_email(client, mail.outbox[0])
    after = client.get("/billing/").content.decode()

    assert "Verify your email address to add 200,000 free credits" in before
    assert 'href="/accounts/email/"' in before
    assert "Verify your email address" not in after
    assert 'data-testid="balance-credits">200,000<' in after


def test_a_grant_of_zero_set_in_the_admin_gives_no_entry_and_promises_nothing(admin_client, client, email):
    form = {
        "credits_per_usd": "2000000",
        "markup_percent": "0",
        "signup_grant_credits": "0",
        "min_topup_usd": "1.00",
        "max_topup_usd": "500.00",
        "hold_minutes": "15",
    }
    saved = admin_client.post("/admin/billing/billingsettings/1/change/", form)
    assert saved.status_code == 302
    assert BillingSettings.load().signup_grant_credits == 0
    sign_up(client, email)
    page = client.get("/billing/").content.decode()

    confirm_email(client, mail.outbox[0])

    grace = User.objects.get(email=email)
    assert "free credits" not in page
    assert Wallet.objects.get(user=grace).balance_credits == 0
    assert not LedgerEntry.objects.filter(wallet__user=grace).exists()


def test_the_admin_shows_the_signup_grant_and_what_it_means(admin_client):
    page = admin_client.get("/admin/billing/billingsettings/1/change/").content.decode()

    assert 'name="signup_grant_credits"' in page and 'value="200000"' in page
    assert "once its email address is verified" in page
