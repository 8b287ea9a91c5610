"""Read paths of billing, always scoped to one person."""

from django.db.models import QuerySet

from billing.models import Hold, LedgerEntry, Wallet


def wallet_of(user) -> Wallet:
    """Return the user's wallet (an empty, unsaved one if they never had any)."""
    return Wallet.objects.filter(user=user).first() or Wallet(user=user)


def ledger_for(user) -> QuerySet[LedgerEntry]:
    """Return the user's ledger entries, newest first, with what caused them."""
    return (
        LedgerEntry.objects.filter(wallet__user=user)
        .select_related("hold__model", "price", "topup")
        .order_by("-created_at", "-id")
    )


def usage_for(user) -> QuerySet[LedgerEntry]:
    """Return the user's usage charges, oldest first (the order of a statement)."""
    return ledger_for(user).filter(kind=LedgerEntry.Kind.USAGE).order_by("created_at", "id")


def pending_holds_for(user) -> QuerySet[Hold]:
    """Return the credits the user's calls in flight have reserved."""
    return Hold.objects.filter(wallet__user=user, status=Hold.Status.PENDING).select_related("model")
