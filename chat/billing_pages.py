"""The pages about money that read the chat's catalog, routing and replies: pricing, settings, usage and its CSV.

They live in chat because they depend on it (billing never imports chat); panels/urls.py mounts them at
/pricing/ and under /billing/ with the billing names (`billing:settings`, `billing:usage`, `billing:usage_csv`).
"""

import csv
from collections.abc import Iterator
from datetime import timedelta
from decimal import Decimal
from itertools import islice

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from billing.forms import AutoCeilingForm
from billing.models import BillingSettings
from billing.pricing import usd_for_credits, usd_string
from billing.selectors import spending_by_key_for, spending_by_model_for, usage_for, wallet_of
from billing.services import set_auto_ceiling
from chat.auto import typical_reply_costs
from chat.router.preferences import MIN_SHARE, MIN_WINS
from chat.router.table import TYPICAL_PROMPT_TOKENS
from chat.selectors import auto_spending_for, auto_tasks_by_reference, wins_for
from chat.services import AUTO
from chat.views import catalog_json
from chat.winners import set_my_routing


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
        "my_routing": {"min_wins": MIN_WINS, "min_share_percent": round(MIN_SHARE * 100)},
    }
    return render(request, "billing/settings.html", context, status=status)


class MyRoutingForm(forms.Form):
    routes_by_my_winners = forms.BooleanField(label="Let Auto learn from the replies I mark best", required=False)


@login_required
@require_POST
def my_routing_setting(request):
    """Turn my routing on or off (the checkbox on the settings page), and go back to the settings."""
    form = MyRoutingForm(request.POST)
    enabled = form.is_valid() and form.cleaned_data["routes_by_my_winners"]  # a box unticked is simply absent
    set_my_routing(user=request.user, enabled=enabled)
    messages.success(
        request,
        "Auto now prefers the model you mark best for a task, once you have picked it often enough."
        if enabled
        else "Auto now follows its own table only.",
    )
    return redirect("billing:settings")


USAGE_PERIODS = {"7d": ("Last 7 days", 7), "30d": ("Last 30 days", 30), "all": ("All time", None)}
DEFAULT_USAGE_PERIOD = "30d"


@login_required
@require_GET
def usage_page(request):
    """Show what the person spent per model, per API key and per Auto task in a period, and what Auto saved them."""
    period = request.GET.get("period", DEFAULT_USAGE_PERIOD)
    if period not in USAGE_PERIODS:
        period = DEFAULT_USAGE_PERIOD
    days = USAGE_PERIODS[period][1]
    since = timezone.now() - timedelta(days=days) if days else None
    billing = BillingSettings.load()
    models = spending_by_model_for(request.user, since=since)
    keys = spending_by_key_for(request.user, since=since)
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
            "keys": keys,
            "tasks": tasks,
            "wins": wins_for(request.user),  # every turn marked, whatever the period: what my routing learns from
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
    "API key",
    "Auto task",
]
CSV_CHUNK = 2_000  # charges read at a time, with their Auto tasks in two more reads


@login_required
@require_GET
def usage_csv(request):
    """Download every usage charge of the user as CSV: its price, the API key that spent it, Auto's task."""
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="panels-usage.csv"'
    writer = csv.writer(response)
    writer.writerow(CSV_COLUMNS)
    writer.writerows(usage_rows(request.user))
    return response


def usage_rows(user) -> Iterator[list]:
    """Yield a CSV row per usage charge of the user, oldest first, reading the ledger a chunk at a time."""
    entries = usage_for(user).select_related("api_key").iterator(chunk_size=CSV_CHUNK)
    while chunk := list(islice(entries, CSV_CHUNK)):
        tasks = auto_tasks_by_reference(user, [entry.hold.reference for entry in chunk])
        for entry in chunk:
            credits = -entry.amount_credits
            yield [
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
                str(entry.api_key) if entry.api_key_id is not None else "",
                tasks.get(entry.hold.reference, ""),
            ]


# Mounted under /billing/ in the billing namespace, next to billing's own pages (see panels/urls.py).
billing_urlpatterns = [
    path("usage/", usage_page, name="usage"),
    path("usage.csv", usage_csv, name="usage_csv"),
    path("settings/", settings_page, name="settings"),
    path("settings/my-routing", my_routing_setting, name="my_routing"),
]
