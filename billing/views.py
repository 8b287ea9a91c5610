"""Billing pages and JSON endpoints: translate between HTTP and the billing selectors and pricing."""

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import JsonResponse
from django.shortcuts import render
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_GET

from accounts.decorators import api_login_required
from billing.forms import EstimateForm
from billing.models import BillingSettings
from billing.pricing import usd_for_credits, usd_string
from billing.rates import current_cost
from billing.selectors import (
    credit_packs_offered,
    ledger_for,
    pending_holds_for,
    signup_credits_awaiting_verification_for,
    wallet_of,
)
from catalog.selectors import catalog_models
from errors import InvalidRequest
from errors.responses import error_response


@require_GET
@api_login_required
def api_wallet(request):
    """Return the balance, the credits held by calls in flight, and the balance in USD."""
    wallet = wallet_of(request.user)
    rate = BillingSettings.load().credits_per_usd
    return JsonResponse(
        {
            "balance_credits": wallet.balance_credits,
            "held_credits": wallet.held_credits,
            "available_credits": wallet.available_credits,
            "debt_credits": wallet.debt_credits,
            "restricted": bool(wallet.restriction),
            "balance_usd": usd_string(usd_for_credits(wallet.balance_credits, credits_per_usd=rate)),
        }
    )


@require_GET
@cache_control(public=True, max_age=60)
def api_estimate(request):
    """Return what N requests of I input and O output tokens cost on each enabled model (or those named)."""
    form = EstimateForm(request.GET)
    if not form.is_valid():
        problems = "; ".join(f"{field}: {' '.join(errors)}" for field, errors in form.errors.items())
        return error_response(InvalidRequest(problems), status=400)
    query = form.cleaned_data
    models = list(catalog_models())
    if query["models"]:
        known = {model.slug for model in models}
        unknown = [slug for slug in query["models"] if slug not in known]
        if unknown:
            return error_response("unknown_model", f"Unknown model: {', '.join(unknown)}.", status=400)
        models = [model for model in models if model.slug in query["models"]]
    billing = BillingSettings.load()
    rows = []
    for model in models:
        one_call = current_cost(
            model, input_tokens=query["input_tokens"], output_tokens=query["output_tokens"], billing=billing
        )
        if one_call is None:
            continue
        rows.append(
            {
                "slug": model.slug,
                "name": model.name,
                "provider": model.provider.name,
                "usd": usd_string(one_call.exact_usd * query["requests"]),
                "credits": one_call.credits * query["requests"],
                "usd_per_request": usd_string(one_call.exact_usd),
                "credits_per_request": one_call.credits,
            }
        )
    return JsonResponse(
        {
            "requests": query["requests"],
            "input_tokens": query["input_tokens"],
            "output_tokens": query["output_tokens"],
            "credits_per_usd": billing.credits_per_usd,
            "models": rows,
        }
    )


@login_required
@require_GET
def wallet_page(request):
    """Show the balance, holds in flight, every ledger entry with its cause, and the ways to top up."""
    wallet = wallet_of(request.user)
    billing = BillingSettings.load()
    entries = Paginator(ledger_for(request.user), 50).get_page(request.GET.get("page"))
    return render(
        request,
        "billing/wallet.html",
        {
            "wallet": wallet,
            "balance_usd": usd_for_credits(wallet.balance_credits, credits_per_usd=billing.credits_per_usd),
            "holds": pending_holds_for(request.user),
            "entries": entries,
            "packs": credit_packs_offered(),
            "billing": billing,
            "signup_credits_awaiting_verification": signup_credits_awaiting_verification_for(request.user),
        },
    )
