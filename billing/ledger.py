"""Reconciliation: each wallet's cached balance and debt against the sum of its ledger entries."""

from dataclasses import dataclass

from django.db.models import Q, Sum
from django.db.models.functions import Coalesce

from billing.models import Hold, Wallet


@dataclass(frozen=True)
class Mismatch:
    wallet_id: int
    user: str
    what: str
    cached: int
    from_ledger: int


def ledger_mismatches() -> list[Mismatch]:
    """Return every wallet whose balance, debt or held credits disagree with its ledger and holds."""
    wallets = Wallet.objects.select_related("user").annotate(
        ledger_balance=Coalesce(Sum("entries__amount_credits"), 0),
        ledger_debt=Coalesce(Sum("entries__debt_change_credits"), 0),
    )
    held = dict(
        Wallet.objects.annotate(
            pending=Coalesce(Sum("holds__amount_credits", filter=Q(holds__status=Hold.Status.PENDING)), 0)
        ).values_list("pk", "pending")
    )
    mismatches = []
    for wallet in wallets:
        for what, cached, expected in [
            ("balance", wallet.balance_credits, wallet.ledger_balance),
            ("debt", wallet.debt_credits, wallet.ledger_debt),
            ("held", wallet.held_credits, held.get(wallet.pk, 0)),
        ]:
            if cached != expected:
                mismatches.append(Mismatch(wallet.pk, str(wallet.user), what, cached, expected))
    return mismatches
