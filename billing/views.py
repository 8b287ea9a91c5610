"""Billing pages and JSON endpoints: translate between HTTP and the billing selectors and pricing."""

import csv
from datetime import timedelta
from decimal import Decimal

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_GET, require_http_methods

from accounts.decorators import api_login_required
from billing.forms import AutoCeilingForm, EstimateForm
from billing.models import BillingSettings, CreditPack
from billing.pricing import cost_of, usd_for_credits, usd_string
from billing.selectors import (
    ledger_for,
    pending_holds_for,
    signup_credits_awaiting_verification_for,
    spending_by_model_for,
    usage_for,
    wallet_of,
)
from billing.services import current_rate, set_auto_ceiling
from chat.routing.table import TYPICAL_PROMPT_TOKENS, typical_reply_costs
from chat.selectors import auto_spending_for, catalog_models
from chat.services import AUTO
from chat.views import catalog_json


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
        return JsonResponse({"error": "invalid_request", "detail": problems}, status=400)
    query = form.cleaned_data
    models = list(catalog_models())
    if query["models"]:
        known = {model.slug for model in models}
        unknown = [slug for slug in query["models"] if slug not in known]
        if unknown:
            return JsonResponse(
                {"error": "unknown_model", "detail": f"Unknown model: {', '.join(unknown)}."}, status=400
            )
        models = [model for model in models if model.slug in query["models"]]
    billing = BillingSettings.load()
    rows = []
    for model in models:
        rate = current_rate(model, billing)
        if rate is None:
            continue
        one_call = cost_of(input_tokens=query["input_tokens"], output_tokens=query["output_tokens"], rate=rate)
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


@require_GET
def pricing_page(request):
    """Show every model's price per 1M tokens in USD and credits, and a calculator for a whole workload."""
    catalog = catalog_json()
    context = {
        "models": [entry for entry in catalog["models"] if entry["slug"] != AUTO],
        "credits_per_usd": catalog["credits_per_usd"],
        "max_output_tokens": catalog["max_output_tokens"],
        "signup_grant_credits": BillingSettings.load().signup_grant_credits,
    }
    if request.user.is_authenticated:
        context["wallet"] = wallet_of(request.user)
    return render(request, "billing/pricing.html", context)


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
            "balance_usd": usd_string(usd_for_credits(wallet.balance_credits, credits_per_usd=billing.credits_per_usd)),
            "holds": pending_holds_for(request.user),
            "entries": entries,
            "packs": CreditPack.objects.filter(active=True),
            "billing": billing,
            "signup_credits_awaiting_verification": signup_credits_awaiting_verification_for(request.user),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def settings_page(request):
    """Show and change the person's settings: the most one Auto reply may cost."""
    wallet = wallet_of(request.user)
    status = 200
    if request.method == "POST":
        form = AutoCeilingForm(request.POST)
        if form.is_valid():
            ceiling = form.cleaned_data["auto_ceiling_credits"]
            set_auto_ceiling(user=request.user, credits=ceiling)
            messages.success(
                request,
                f"Auto now spends at most {ceiling:,} credits on a reply." if ceiling else "Auto has no price ceiling.",
            )
            return redirect("billing:settings")
        status = 400
    else:
        form = AutoCeilingForm(initial={"auto_ceiling_credits": wallet.auto_ceiling_credits})
    context = {
        "form": form,
        "wallet": wallet,
        "billing": BillingSettings.load(),
        "typical_costs": typical_reply_costs(),
        "typical_prompt_tokens": TYPICAL_PROMPT_TOKENS,
    }
    return render(request, "billing/settings.html", context, status=status)


USAGE_PERIODS = {"7d": ("Last 7 days", 7), "30d": ("Last 30 days", 30), "all": ("All time", None)}
DEFAULT_USAGE_PERIOD = "30d"


@login_required
@require_GET
def usage_page(request):
    """Show what the person spent per model and per Auto task in a period, and what Auto saved them."""
    period = request.GET.get("period", DEFAULT_USAGE_PERIOD)
    if period not in USAGE_PERIODS:
        period = DEFAULT_USAGE_PERIOD
    days = USAGE_PERIODS[period][1]
    since = timezone.now() - timedelta(days=days) if days else None
    billing = BillingSettings.load()
    models = spending_by_model_for(request.user, since=since)
    tasks = auto_spending_for(request.user, since=since)
    saved = sum(task.saved for task in tasks)
    return render(
        request,
        "billing/usage.html",
        {
            "wallet": wallet_of(request.user),
            "billing": billing,
            "periods": [(key, label) for key, (label, _) in USAGE_PERIODS.items()],
            "period": period,
            "period_label": USAGE_PERIODS[period][0],
            "models": models,
            "spent": {
                "replies": sum(row.replies for row in models),
                "input_tokens": sum(row.input_tokens for row in models),
                "output_tokens": sum(row.output_tokens for row in models),
                "credits": sum(row.credits for row in models),
                "usd": sum((row.usd for row in models), Decimal(0)),
            },
            "tasks": tasks,
            "auto": {
                "replies": sum(task.replies for task in tasks),
                "credits": sum(task.credits for task in tasks),
                "saved": saved,
                "saved_usd": usd_for_credits(saved, credits_per_usd=billing.credits_per_usd),
            },
        },
    )


CSV_COLUMNS = [
    "time (UTC)",
    "model",
    "input tokens",
    "cached input tokens",
    "output tokens",
    "usage estimated",
    "credits",
    "USD",
    "input USD per 1M",
    "output USD per 1M",
    "reference",
]


@login_required
@require_GET
def usage_csv(request):
    """Download every usage charge of the user as CSV, with the price each was charged at."""
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="panels-usage.csv"'
    writer = csv.writer(response)
    writer.writerow(CSV_COLUMNS)
    for entry in usage_for(request.user).iterator():
        credits = -entry.amount_credits
        writer.writerow(
            [
                entry.created_at.strftime("%Y-%m-%d %H:%M:%S"),
                entry.hold.model.slug,
                entry.input_tokens,
                entry.cached_input_tokens,
                entry.output_tokens,
                "yes" if entry.usage_estimated else "no",
                credits,
                usd_string(usd_for_credits(credits, credits_per_usd=entry.hold.credits_per_usd)),
                usd_string(entry.price.input_usd_per_m),
                usd_string(entry.price.output_usd_per_m),
                entry.hold.reference,
            ]
        )
    return response
