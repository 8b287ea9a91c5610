"""The only code that moves money: holds, settlement, grants, top-ups, refunds and disputes.

Every change of a balance is one `LedgerEntry` whose unique idempotency key names its cause, written in
the same transaction as the wallet's cached balance, so a replayed cause changes nothing. Admission of a
hold is one conditional UPDATE (balance - held >= amount), so concurrent calls cannot overdraw; the
database's CHECK constraints are the backstop. Lock order is always hold, then wallet.

Holds and settlements run once per model call, so they are written in as few statements as keep these rules:
a hold is resolved by one conditional UPDATE of its row (only the first resolution matches it), and a wallet
moves by one UPDATE that returns the balance it leaves.
"""

from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

from allauth.account.models import EmailAddress
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from billing.exceptions import (
    InsufficientCredits,
    InvalidTopUp,
    KeySpendLimitReached,
    PriceMissing,
    WalletRestricted,
)
from billing.formatting import usd
from billing.models import (
    ApiKey,
    BillingSettings,
    CreditPack,
    Hold,
    LedgerEntry,
    Price,
    StripeDispute,
    StripeRefund,
    TopUp,
    Wallet,
)
from billing.pricing import cents, cost_of, credits_for_usd
from billing.rates import hold_rate, rate_for
from catalog.models import AIModel


@dataclass(frozen=True)
class HoldRequest:
    """One call to reserve credits for: which model, how much input, and the output budget."""

    reference: str  # names the call, e.g. "message:42"; a repeated reference returns the same hold
    model: AIModel
    estimated_input_tokens: int
    max_output_tokens: int


@dataclass(frozen=True)
class ChargedUsage:
    """What a finished (or stopped, or cut) call used; `estimated` when the provider did not report it."""

    input_tokens: int
    output_tokens: int
    cached_input_tokens: int = 0
    estimated: bool = False


def wallet_for(user) -> Wallet:
    """Return the user's wallet, creating an empty one on first use."""
    wallet, _ = Wallet.objects.get_or_create(user=user)
    return wallet


def post_entry(
    *,
    wallet_id: int,
    kind: str,
    amount: int,
    key: str,
    debt_change: int = 0,
    held_change: int = 0,
    first_of_key: bool = False,
    **details,
) -> LedgerEntry:
    """Apply one ledger entry to a wallet, once per key; return the entry (the earlier one on a replay).

    Must run inside a transaction. `held_change` moves the held credits in the same UPDATE. `first_of_key`:
    the caller has just proved no entry has this key (it resolved the hold the key names), so there is no
    look-up and no savepoint; the unique key still refuses a second entry, by failing the transaction.
    """
    if first_of_key:
        return _append_entry(wallet_id, kind, amount, key, debt_change, held_change, details)
    existing = LedgerEntry.objects.filter(idempotency_key=key).first()
    if existing is not None:
        return existing
    try:
        with transaction.atomic():
            return _append_entry(wallet_id, kind, amount, key, debt_change, held_change, details)
    except IntegrityError:
        existing = LedgerEntry.objects.filter(idempotency_key=key).first()
        if existing is None:
            raise  # a broken invariant (CHECK constraint), not a replay
        return existing


def _append_entry(wallet_id, kind, amount, key, debt_change, held_change, details) -> LedgerEntry:
    """Move the wallet, then write the entry with the balance the move left (the row stays locked till commit)."""
    balance_after = _move_wallet(wallet_id, balance=amount, held=held_change, debt=debt_change)
    return LedgerEntry.objects.create(
        wallet_id=wallet_id,
        kind=kind,
        amount_credits=amount,
        debt_change_credits=debt_change,
        balance_after=balance_after,
        idempotency_key=key,
        **details,
    )


_WALLET = Wallet._meta.db_table


def _move_wallet(wallet_id: int, *, balance: int = 0, held: int = 0, debt: int = 0) -> int:
    """Change a wallet's balance, held and debt credits in one UPDATE; return the balance it leaves.

    The CHECK constraints refuse a move that would leave less balance than is held, or a negative debt.
    """
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {_WALLET} SET balance_credits = balance_credits + %s, held_credits = held_credits + %s, "  # noqa: S608 (our table name)
            "debt_credits = debt_credits + %s, updated_at = %s WHERE id = %s RETURNING balance_credits",
            [balance, held, debt, timezone.now(), wallet_id],
        )
        return cursor.fetchone()[0]


def _admit(*, user, credits: int) -> int | None:
    """Hold `credits` in the user's wallet if it is active and covers them; return its id, or None if refused.

    One conditional UPDATE: concurrent admissions on one wallet wait for each other's row lock and each
    re-checks the balance it finds, so together they never hold more than the balance.
    """
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {_WALLET} SET held_credits = held_credits + %s, updated_at = %s "  # noqa: S608 (our table name)
            "WHERE user_id = %s AND restriction = '' AND balance_credits >= held_credits + %s RETURNING id",
            [credits, timezone.now(), user.pk, credits],
        )
        row = cursor.fetchone()
    return row[0] if row else None


_API_KEY = ApiKey._meta.db_table
_SPENT_TODAY = "CASE WHEN spent_on = %s THEN spent_today_credits ELSE 0 END"  # the day's charges, 0 on a new day


def _admit_on_key(key_id: int, *, credits: int) -> bool:
    """Add `credits` to what the key holds if its limits cover them (spent + held + credits); return whether.

    One conditional UPDATE, like the wallet's: concurrent calls of one key wait for each other's row lock and
    each re-checks what it finds, so together they never pass a limit.
    """
    today = timezone.now().date()
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {_API_KEY} SET held_credits = held_credits + %s "  # noqa: S608 (our table name)
            "WHERE id = %s AND revoked_at IS NULL "
            "AND (total_limit_credits IS NULL OR spent_credits + held_credits + %s <= total_limit_credits) "
            f"AND (daily_limit_credits IS NULL OR {_SPENT_TODAY} + held_credits + %s <= daily_limit_credits) "
            "RETURNING id",
            [credits, key_id, credits, today, credits],
        )
        return cursor.fetchone() is not None


def _move_key(key_id: int, *, held: int, spent: int = 0) -> None:
    """Change what a key holds and, by a charge, what it spent (ever and on today's UTC day) in one UPDATE."""
    today = timezone.now().date()
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {_API_KEY} SET held_credits = held_credits + %s, spent_credits = spent_credits + %s, "  # noqa: S608
            f"spent_today_credits = {_SPENT_TODAY} + %s, spent_on = %s WHERE id = %s",
            [held, spent, today, spent, today, key_id],
        )


def _key_refusal(key: ApiKey, *, credits: int) -> Exception:
    """Return why `key` refused to hold `credits`: the limit it would pass, what is left of it, and when it resets."""
    key.refresh_from_db()
    if key.revoked_at is not None:
        return KeySpendLimitReached(f"This API key ({key.prefix}…) was revoked.")
    today = timezone.now().date()
    used_today = (key.spent_today_credits if key.spent_on == today else 0) + key.held_credits
    used_ever = key.spent_credits + key.held_credits
    if key.total_limit_credits is not None and used_ever + credits > key.total_limit_credits:
        left = max(key.total_limit_credits - used_ever, 0)
        return KeySpendLimitReached(
            f"This request needs up to {credits:,} credits, but the key {key.name!r} has {left:,} left of its "
            f"{key.total_limit_credits:,}-credit limit. Raise the limit on the API keys page, or ask for fewer "
            "max_tokens."
        )
    left = max((key.daily_limit_credits or 0) - used_today, 0)
    return KeySpendLimitReached(
        f"This request needs up to {credits:,} credits, but the key {key.name!r} has {left:,} left of its "
        f"{key.daily_limit_credits or 0:,}-credit daily limit (it resets at 00:00 UTC). Raise the limit on "
        "the API keys page, or ask for fewer max_tokens."
    )


# What a person on hold is told when a request is refused: why, and what lifts the hold (a top-up lifts only debt).
RESTRICTED_BECAUSE = {
    Wallet.Restriction.DISPUTE: (
        "Your wallet is on hold because a payment is disputed; new requests resume when the dispute is decided. "
        "A top-up does not lift this hold."
    ),
    Wallet.Restriction.DEBT: "Your wallet is on hold because credits are owed; your next top-up pays them first.",
    Wallet.Restriction.ADMIN: "Your wallet has been suspended by an administrator; please contact support.",
}


def _refusal(*, user, credits: int) -> Exception:
    """Return why the user's wallet refused to hold `credits`: it is restricted, or it does not cover them."""
    wallet = wallet_for(user)
    if wallet.restriction:
        return WalletRestricted(RESTRICTED_BECAUSE[wallet.restriction])
    return InsufficientCredits(needed=credits, available=wallet.available_credits)


@transaction.atomic
def add_price(*, price: Price, by) -> Price:
    """Record a new price for a model, stamped with the admin who set it; a price on record is never edited.

    Charges already made keep the price they were made at (holds capture it), so re-pricing is always a new row.
    """
    if price.pk is not None:
        raise ValueError("A price on record is never edited; add a new one.")
    price.created_by = by
    price.save()
    return price


def change_billing_settings(*, billing: BillingSettings, by) -> BillingSettings:
    """Save the money settings (exchange rate, markup, grant, top-up limits, hold time), stamped with who changed them.

    They apply to calls admitted from now on: a hold keeps the rate it was placed at.
    """
    billing.updated_by = by
    billing.save()
    return billing


def set_auto_ceiling(*, user, credits: int | None) -> Wallet:
    """Set the most one Auto reply may cost the user, in credits (None: no ceiling); the router keeps to it."""
    if credits is not None and credits < 1:
        raise ValueError("A ceiling is at least 1 credit; None means no ceiling.")
    wallet = wallet_for(user)
    wallet.auto_ceiling_credits = credits
    wallet.save(update_fields=["auto_ceiling_credits", "updated_at"])  # never the balance: holds move it
    return wallet


# --- Holds: reserve before a call, settle or release once after it ------------------------------------


def place_holds(
    *,
    user,
    requests: list[HoldRequest],
    references_are_new: bool = False,
    billing: BillingSettings | None = None,
    api_key: ApiKey | None = None,
) -> list[Hold]:
    """Reserve the worst-case cost of several calls at once: all of them, or none (InsufficientCredits).

    Calls made with an `api_key` are also held against its spend limits (KeySpendLimitReached), and their
    charges name it.

    Repeated references return their existing holds without reserving again. A caller that has just made
    the references (e.g. from messages written in its transaction) passes `references_are_new=True` to skip
    looking for them; a reference that exists after all then fails the transaction (the unique key). A
    caller that has read the billing settings in its transaction passes them as `billing`.
    """
    references = [request.reference for request in requests]
    existing = {}
    if not references_are_new:
        existing = {hold.reference: hold for hold in Hold.objects.filter(reference__in=references)}
    wanted = [request for request in requests if request.reference not in existing]
    billing = billing or BillingSettings.load()
    now = timezone.now()
    prices = _current_prices([request.model for request in wanted], at=now)
    new_holds = []
    for request in wanted:
        price = prices.get(request.model.pk)
        if price is None:
            raise PriceMissing(f"{request.model.name} has no price yet, so it cannot be used.")
        rate = rate_for(price, billing)
        amount = cost_of(
            input_tokens=request.estimated_input_tokens, output_tokens=request.max_output_tokens, rate=rate
        ).credits
        new_holds.append(
            Hold(
                reference=request.reference,
                api_key=api_key,
                model=request.model,
                price=price,
                markup_percent=rate.markup_percent,
                credits_per_usd=rate.credits_per_usd,
                estimated_input_tokens=request.estimated_input_tokens,
                max_output_tokens=request.max_output_tokens,
                amount_credits=max(amount, 1),
                expires_at=now + timedelta(minutes=billing.hold_minutes),
            )
        )
    total = sum(hold.amount_credits for hold in new_holds)
    if new_holds:
        # Only the admission and the holds it pays for must commit together; a refusal writes nothing, so it
        # is raised after the block and a caller that catches it may go on in its own transaction.
        with transaction.atomic(savepoint=False):
            # The key first: a refusal there has moved nothing yet, so it writes nothing either.
            key_admitted = api_key is None or _admit_on_key(api_key.pk, credits=total)
            wallet_id = _admit(user=user, credits=total) if key_admitted else None
            if wallet_id is not None:
                for hold in new_holds:
                    hold.wallet_id = wallet_id
                Hold.objects.bulk_create(new_holds)
            elif key_admitted and api_key is not None:
                _move_key(api_key.pk, held=-total)  # the wallet refused: the key holds nothing for it
        if not key_admitted:
            raise _key_refusal(api_key, credits=total)
        if wallet_id is None:
            raise _refusal(user=user, credits=total)
    by_reference = {**existing, **{hold.reference: hold for hold in new_holds}}
    return [by_reference[request.reference] for request in requests]


def _current_prices(models: list[AIModel], *, at) -> dict[int, Price]:
    """Return the price in effect at `at` of each model that has one, by model id, in at most one query."""
    prices = {}
    unread = set()
    for model in models:
        if "prices" in getattr(model, "_prefetched_objects_cache", {}):
            price = model.current_price(at)
            if price is not None:
                prices[model.pk] = price
        else:
            unread.add(model.pk)
    if unread:
        for price in Price.objects.filter(model_id__in=unread, effective_from__lte=at).order_by("effective_from"):
            prices[price.model_id] = price  # the latest one in effect wins
    return prices


@transaction.atomic(savepoint=False)  # nothing in it is caught to go on: an error fails the whole transaction
def settle(*, hold: Hold, usage: ChargedUsage) -> LedgerEntry | None:
    """Charge a call's usage (never above its hold) at the hold's captured rate, and release the rest.

    Idempotent: a hold is resolved once; later calls return what the first one did. Usage of zero
    tokens charges nothing (the hold is simply released). Reads the price and model from `hold` (they
    never change once it is placed; `hold_named` loads them with it, and the API key if any).
    """
    cost = cost_of(
        input_tokens=usage.input_tokens,
        output_tokens=usage.output_tokens,
        cached_input_tokens=usage.cached_input_tokens,
        rate=hold_rate(hold),
    )
    charge = min(cost.credits, hold.amount_credits)
    if not _resolve(hold, Hold.Status.SETTLED if charge else Hold.Status.RELEASED, charge):
        return LedgerEntry.objects.filter(hold_id=hold.pk).first()  # resolved before: what that did
    if hold.api_key_id is not None:
        _move_key(hold.api_key_id, held=-hold.amount_credits, spent=charge)
    if not charge:
        _move_wallet(hold.wallet_id, held=-hold.amount_credits)
        return None
    return post_entry(
        wallet_id=hold.wallet_id,
        kind=LedgerEntry.Kind.USAGE,
        amount=-charge,
        held_change=-hold.amount_credits,
        key=f"usage:{hold.reference}",
        first_of_key=True,  # this call resolved the hold, so it is the first charge for it
        memo=(
            f"{hold.model.name}: {usage.input_tokens:,} in, {usage.output_tokens:,} out"
            + (" (estimated)" if usage.estimated else "")
            + (f", API key {hold.api_key.name} ({hold.api_key.prefix}…)" if hold.api_key_id is not None else "")
        )[:255],
        hold=hold,
        api_key_id=hold.api_key_id,
        price_id=hold.price_id,
        input_tokens=usage.input_tokens,
        cached_input_tokens=usage.cached_input_tokens,
        output_tokens=usage.output_tokens,
        usage_estimated=usage.estimated,
        exact_credits=cost.exact_credits,
    )


@transaction.atomic(savepoint=False)  # nothing in it is caught to go on: an error fails the whole transaction
def release(*, hold: Hold) -> None:
    """Give a hold's credits back without charging (the call failed before any output). Idempotent."""
    if _resolve(hold, Hold.Status.RELEASED, 0):
        _give_back(hold)


def _give_back(hold: Hold) -> None:
    """Return a resolved hold's credits to its key (if any) and its wallet, charging nothing."""
    if hold.api_key_id is not None:
        _move_key(hold.api_key_id, held=-hold.amount_credits)
    _move_wallet(hold.wallet_id, held=-hold.amount_credits)


def _resolve(hold: Hold, status: str, charged: int, **still) -> bool:
    """Mark a hold resolved if it is still pending (and matches `still`); return whether this call did.

    The conditional UPDATE locks the row, so of concurrent resolutions exactly one matches; the others wait
    for it and then find the hold resolved. The caller then moves the wallet (lock order: hold, wallet).
    """
    return bool(
        Hold.objects.filter(pk=hold.pk, status=Hold.Status.PENDING, **still).update(
            status=status, charged_credits=charged, resolved_at=timezone.now()
        )
    )


def release_expired_holds(*, now=None) -> int:
    """Release holds whose call never resolved them (a crashed worker); return how many."""
    now = now or timezone.now()
    released = 0
    expired = Hold.objects.filter(status=Hold.Status.PENDING, expires_at__lt=now)
    for hold in expired.only("pk", "wallet_id", "api_key_id", "amount_credits").iterator():
        with transaction.atomic():
            if _resolve(hold, Hold.Status.RELEASED, 0, expires_at__lt=now):
                _give_back(hold)
                released += 1
    return released


# --- Grants ------------------------------------------------------------------------------------------


@transaction.atomic
def grant_signup_credits(*, user) -> LedgerEntry | None:
    """Give an account the admin-set free credits once it has a verified email address; once per account.

    Only a verified address earns them, so an address that cannot receive mail earns nothing; the key names
    the account, so a second confirmation or a second address never grants again. 0 credits: no entry.
    """
    credits = BillingSettings.load().signup_grant_credits
    if not credits or not EmailAddress.objects.filter(user=user, verified=True).exists():
        return None
    wallet = wallet_for(user)
    return post_entry(
        wallet_id=wallet.pk,
        kind=LedgerEntry.Kind.SIGNUP_GRANT,
        amount=credits,
        key=f"signup:{user.pk}",
        memo="Welcome credits",
    )


@transaction.atomic
def grant_credits(*, user, credits: int, reason: str, granted_by=None, key: str | None = None) -> LedgerEntry:
    """Add (or with a negative amount, remove) credits by an admin's decision, with the reason recorded."""
    if credits == 0:
        raise ValueError("A grant must change the balance.")
    if not reason.strip():
        raise ValueError("A grant needs a reason.")
    wallet = wallet_for(user)
    return post_entry(
        wallet_id=wallet.pk,
        kind=LedgerEntry.Kind.ADMIN_GRANT,
        amount=credits,
        key=key or f"admin:{timezone.now().isoformat()}:{wallet.pk}:{credits}",
        memo=reason.strip()[:255],
        created_by=granted_by,
    )


# --- Top-ups -----------------------------------------------------------------------------------------


@transaction.atomic
def create_topup(*, user, amount_usd: Decimal | None = None, pack: CreditPack | None = None) -> TopUp:
    """Record a top-up about to be paid: a pack or a custom amount within the admin's bounds.

    The credits are fixed now, at the current exchange rate, so what the person saw is what they get.
    """
    if (amount_usd is None) == (pack is None):
        raise InvalidTopUp("Choose a credit pack or enter an amount.")
    billing = BillingSettings.load()
    if pack is not None:
        if not pack.active:
            raise InvalidTopUp("That credit pack is no longer offered.")
        amount_usd = pack.amount_usd
    elif not billing.min_topup_usd <= amount_usd <= billing.max_topup_usd:
        raise InvalidTopUp(f"Top up between {usd(billing.min_topup_usd)} and {usd(billing.max_topup_usd)}.")
    try:
        amount_cents = cents(amount_usd)
    except ValueError:
        raise InvalidTopUp("Enter an amount in dollars and cents, like 12.50.") from None
    return TopUp.objects.create(
        wallet=wallet_for(user),
        pack=pack,
        amount_cents=amount_cents,
        credits=credits_for_usd(amount_usd, credits_per_usd=billing.credits_per_usd),
    )


@transaction.atomic
def record_checkout_session(*, topup: TopUp, checkout_session_id: str) -> None:
    """Remember which Checkout Session pays for a top-up."""
    TopUp.objects.filter(pk=topup.pk, checkout_session_id__isnull=True).update(
        checkout_session_id=checkout_session_id, status=TopUp.Status.AWAITING_PAYMENT
    )


@transaction.atomic
def fail_topup(*, topup: TopUp, status: str) -> None:
    """Mark an unpaid top-up failed or expired (a paid one is never changed back)."""
    TopUp.objects.filter(pk=topup.pk).exclude(status=TopUp.Status.PAID).update(status=status)


@transaction.atomic
def credit_topup(*, topup: TopUp, checkout_session_id: str, payment_intent_id: str | None) -> LedgerEntry:
    """Credit a paid top-up once (webhook and success page may both call this), paying any debt first."""
    topup = TopUp.objects.select_for_update(no_key=True).get(pk=topup.pk)
    wallet = Wallet.objects.select_for_update(no_key=True).get(pk=topup.wallet_id)
    repay = min(wallet.debt_credits, topup.credits)
    entry = post_entry(
        wallet_id=wallet.pk,
        kind=LedgerEntry.Kind.TOPUP,
        amount=topup.credits - repay,
        debt_change=-repay,
        key=f"topup:{checkout_session_id}",
        memo=f"Top-up of {usd(topup.amount_usd)}" + (f", {repay:,} credits paid what was owed" if repay else ""),
        topup=topup,
    )
    if topup.status != TopUp.Status.PAID:
        topup.status = TopUp.Status.PAID
        topup.checkout_session_id = checkout_session_id
        topup.payment_intent_id = payment_intent_id or topup.payment_intent_id
        topup.paid_at = timezone.now()
        topup.save(update_fields=["status", "checkout_session_id", "payment_intent_id", "paid_at"])
    refresh_restriction(wallet_id=wallet.pk)
    return entry


def claw_back(*, wallet_id: int, credits: int, kind: str, key: str, memo: str, topup: TopUp | None) -> LedgerEntry:
    """Take back credits for a refund or dispute: from what is available, the rest recorded as debt.

    Held credits are never taken (calls in flight keep what they reserved). Must run in a transaction.
    """
    existing = LedgerEntry.objects.filter(idempotency_key=key).first()
    if existing is not None:
        return existing
    wallet = Wallet.objects.select_for_update(no_key=True).get(pk=wallet_id)
    from_balance = min(credits, wallet.available_credits)
    debt = credits - from_balance
    entry = post_entry(
        wallet_id=wallet_id, kind=kind, amount=-from_balance, debt_change=debt, key=key, memo=memo, topup=topup
    )
    refresh_restriction(wallet_id=wallet_id)
    return entry


def refresh_restriction(*, wallet_id: int) -> None:
    """Set why the wallet may not start calls: an open dispute, else a debt, else nothing (admin holds stay)."""
    wallet = Wallet.objects.select_for_update(no_key=True).get(pk=wallet_id)
    if wallet.restriction == Wallet.Restriction.ADMIN:
        return
    if StripeDispute.objects.filter(topup__wallet_id=wallet_id, status=StripeDispute.Status.OPEN).exists():
        wanted = Wallet.Restriction.DISPUTE
    elif wallet.debt_credits > 0:
        wanted = Wallet.Restriction.DEBT
    else:
        wanted = Wallet.Restriction.NONE
    if wallet.restriction != wanted:
        wallet.restriction = wanted
        wallet.save(update_fields=["restriction", "updated_at"])


# --- Refunds and disputes ------------------------------------------------------------------------------


def _credits_for_cents(topup: TopUp, cents_total: int) -> int:
    """Return the credits that `cents_total` of this top-up bought (exact integer share, rounded down)."""
    return topup.credits * cents_total // topup.amount_cents


@transaction.atomic
def apply_refund(*, topup: TopUp, refund_id: str, amount_cents: int) -> LedgerEntry | None:
    """Take back the credits a refund paid for, once per refund id; partial refunds add up without drift.

    Refunds count against the top-up up to its amount; the cents each one counted are recorded (a
    `StripeRefund`), also when they are worth no credits, so a replay or a later failure knows them.
    """
    key = f"refund:{refund_id}"
    topup = TopUp.objects.select_for_update(no_key=True).get(pk=topup.pk)  # serialises replays of this refund
    existing = LedgerEntry.objects.filter(idempotency_key=key).first()
    if existing is not None or StripeRefund.objects.filter(refund_id=refund_id).exists():
        return existing
    refunded_after = min(topup.refunded_cents + amount_cents, topup.amount_cents)
    credits = _credits_for_cents(topup, refunded_after) - _credits_for_cents(topup, topup.refunded_cents)
    StripeRefund.objects.create(
        refund_id=refund_id,
        topup=topup,
        amount_cents=amount_cents,
        applied_cents=refunded_after - topup.refunded_cents,
    )
    topup.refunded_cents = refunded_after
    topup.save(update_fields=["refunded_cents"])
    if credits <= 0:
        return None
    return claw_back(
        wallet_id=topup.wallet_id,
        credits=credits,
        kind=LedgerEntry.Kind.REFUND,
        key=key,
        memo=f"Refund of {usd(Decimal(amount_cents).scaleb(-2))} of a top-up",
        topup=topup,
    )


@transaction.atomic
def reverse_refund(*, topup: TopUp, refund_id: str, amount_cents: int) -> LedgerEntry | None:
    """Give back what a refund took when the refund failed, once per refund id: its cents, credits and debt.

    Returns the reversal entry, or None when the refund took no credits (or was never taken).
    """
    topup = TopUp.objects.select_for_update(no_key=True).get(pk=topup.pk)  # serialises replays of this refund
    refund = StripeRefund.objects.filter(refund_id=refund_id).first()
    original = LedgerEntry.objects.filter(idempotency_key=f"refund:{refund_id}").first()
    key = f"refund_failed:{refund_id}"
    if refund is not None:
        if refund.status == StripeRefund.Status.REVERSED:
            return None
        given_back_cents = refund.applied_cents
        refund.status = StripeRefund.Status.REVERSED
        refund.save(update_fields=["status"])
    elif original is None or LedgerEntry.objects.filter(idempotency_key=key).exists():
        return None
    else:  # taken before refunds were recorded (migration 0005): the cents it counted are not known exactly
        given_back_cents = min(amount_cents, topup.refunded_cents)
    topup.refunded_cents -= given_back_cents
    topup.save(update_fields=["refunded_cents"])
    if original is None:
        return None  # it was worth no credits: nothing to give back but its cents
    entry = _reverse(original, key=key, memo="Refund failed: credits restored")
    refresh_restriction(wallet_id=topup.wallet_id)  # the debt it recorded may be forgiven now
    return entry


@transaction.atomic
def open_dispute(*, topup: TopUp, dispute_id: str, amount_cents: int) -> LedgerEntry | None:
    """Restrict the wallet and take back the disputed credits (never more than is still unrefunded)."""
    topup = TopUp.objects.select_for_update(no_key=True).get(pk=topup.pk)
    StripeDispute.objects.get_or_create(dispute_id=dispute_id, defaults={"topup": topup, "amount_cents": amount_cents})
    disputable = min(amount_cents, topup.amount_cents - topup.refunded_cents)
    credits = _credits_for_cents(topup, disputable)
    entry = None
    if credits > 0:
        entry = claw_back(
            wallet_id=topup.wallet_id,
            credits=credits,
            kind=LedgerEntry.Kind.DISPUTE,
            key=f"dispute:{dispute_id}:opened",
            memo=f"Payment of {usd(Decimal(amount_cents).scaleb(-2))} disputed",
            topup=topup,
        )
    refresh_restriction(wallet_id=topup.wallet_id)
    return entry


@transaction.atomic
def close_dispute(*, dispute_id: str, won: bool) -> LedgerEntry | None:
    """Resolve a dispute: won gives the credits back, lost keeps them taken; either way lift the restriction."""
    dispute = (
        StripeDispute.objects.select_for_update(of=("self",), no_key=True)
        .select_related("topup")
        .get(dispute_id=dispute_id)
    )
    if dispute.status != StripeDispute.Status.OPEN:
        return None
    dispute.status = StripeDispute.Status.WON if won else StripeDispute.Status.LOST
    dispute.save(update_fields=["status"])
    entry = None
    opened = LedgerEntry.objects.filter(idempotency_key=f"dispute:{dispute_id}:opened").first()
    if won and opened is not None:
        entry = _reverse(opened, key=f"dispute:{dispute_id}:won", memo="Dispute won: credits restored")
    refresh_restriction(wallet_id=dispute.topup.wallet_id)
    return entry


def _reverse(original: LedgerEntry, *, key: str, memo: str) -> LedgerEntry:
    """Give back all a clawback took (debt first: what is still owed is forgiven before credits return).

    The debt it recorded may have been paid since (a top-up pays debt first); forgiving that again would
    make the debt negative, so what was already paid comes back as credits.
    """
    wallet = Wallet.objects.select_for_update(no_key=True).get(pk=original.wallet_id)
    taken = original.debt_change_credits - original.amount_credits  # from the balance, plus recorded as owed
    forgiven = min(original.debt_change_credits, wallet.debt_credits)
    return post_entry(
        wallet_id=original.wallet_id,
        kind=LedgerEntry.Kind.REVERSAL,
        amount=taken - forgiven,
        debt_change=-forgiven,
        key=key,
        memo=memo,
        topup=original.topup,
        reverses=original,
    )
