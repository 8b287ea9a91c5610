"""The API keys pages: list a person's keys, create one (its secret shown once), change its limits, revoke it.

A new key's secret appears only in the response to the request that created it: never in a redirect, the
session, a message or a log, and the response is marked not to be stored, so going back does not show it.
"""

from decimal import Decimal

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from billing.forms import ApiKeyForm
from billing.keys import api_key_for, api_keys_for, change_api_key, create_api_key, revoke_api_key
from billing.models import ApiKey, BillingSettings
from billing.pricing import usd_for_credits
from billing.selectors import wallet_of
from catalog.selectors import catalog_models
from errors import InvalidRequest

API_PATH = "/v1"  # the API's base URL on this site, as OpenAI's SDKs take it (`base_url`)


@login_required
@require_http_methods(["GET", "POST"])
@never_cache
def api_keys_page(request):
    """List the person's keys and, on POST, create one and show its secret on this response only."""
    names = model_names()
    form = ApiKeyForm(request.POST if request.method == "POST" else None, models=model_choices(names))
    if request.method == "POST":
        if form.is_valid():
            try:
                new = create_api_key(user=request.user, **form.cleaned_data)
            except InvalidRequest as error:
                form.add_error(None, error.detail)
            else:
                context = {
                    "key": new.key,
                    "secret": new.secret,
                    "base_url": request.build_absolute_uri(API_PATH),
                    "wallet": wallet_of(request.user),
                }
                return render(request, "billing/api_key_created.html", context, status=201)
        return _list_page(request, form, names, status=400)
    return _list_page(request, form, names)


@login_required
@require_http_methods(["GET", "POST"])
def api_key_page(request, key_id: int):
    """Show and change one of the person's keys: its name, spend limits and models."""
    key = _key_or_404(request, key_id)
    if key.revoked_at is not None:
        # A revoked key is refused whatever its limits; its name and limits stay as they were when it was used.
        status = 400 if request.method == "POST" else 200
        context = {"key": key, "form": None, "wallet": wallet_of(request.user)}
        return render(request, "billing/api_key.html", context, status=status)
    initial = {
        "name": key.name,
        "daily_limit_credits": _typed(key.daily_limit_credits),
        "total_limit_credits": _typed(key.total_limit_credits),
        "allowed_models": key.allowed_models,
    }
    form = ApiKeyForm(
        request.POST if request.method == "POST" else None,
        initial=initial,
        models=model_choices(model_names(), keep=key.allowed_models),
    )
    if request.method == "POST":
        if form.is_valid():
            try:
                change_api_key(key=key, **form.cleaned_data)
            except InvalidRequest as error:
                form.add_error(None, error.detail)
            else:
                messages.success(request, f"Saved the key “{key.name}”.")
                return redirect("billing:api_keys")
        return render(request, "billing/api_key.html", _key_context(request, key, form), status=400)
    return render(request, "billing/api_key.html", _key_context(request, key, form))


@login_required
@require_http_methods(["GET", "POST"])
def revoke_api_key_page(request, key_id: int):
    """Ask to confirm revoking one of the person's keys (GET), and revoke it (POST)."""
    key = _key_or_404(request, key_id)
    if request.method == "POST":
        if key.revoked_at is None:
            revoke_api_key(key=key)
            messages.success(
                request, f"Revoked the key “{key.name}” ({key.prefix}…): requests that send it are refused."
            )
        else:
            messages.info(request, f"The key “{key.name}” was already revoked.")
        return redirect("billing:api_keys")
    return render(request, "billing/api_key_revoke.html", {"key": key, "wallet": wallet_of(request.user)})


def model_names() -> dict[str, tuple[str, bool]]:
    """Return every model of the catalog by slug: its name, and whether people can use it now."""
    return {
        model.slug: (model.name, model.enabled and model.provider.enabled)
        for model in catalog_models(include_disabled=True)
    }


def model_choices(names: dict[str, tuple[str, bool]], *, keep: list[str] = ()) -> list[tuple[str, str]]:
    """Return the models a key may be given: the enabled ones, and those in `keep` (a key's own) even if off."""
    return [
        (slug, name if enabled else f"{name} (turned off)")
        for slug, (name, enabled) in names.items()
        if enabled or slug in keep
    ]


def _key_or_404(request, key_id: int) -> ApiKey:
    try:
        return api_key_for(request.user, key_id)
    except ApiKey.DoesNotExist:
        raise Http404("There is no such API key.") from None


def _list_page(request, form: ApiKeyForm, names: dict[str, tuple[str, bool]], *, status: int = 200):
    rate = BillingSettings.load().credits_per_usd
    keys = [
        {
            "key": key,
            "models": [names.get(slug, (slug, False))[0] for slug in key.allowed_models],
            "daily_limit_usd": _usd(key.daily_limit_credits, rate),
            "total_limit_usd": _usd(key.total_limit_credits, rate),
        }
        for key in api_keys_for(request.user)
    ]
    context = {
        "keys": keys,
        "form": form,
        "credits_per_usd": rate,
        "base_url": request.build_absolute_uri(API_PATH),
        "wallet": wallet_of(request.user),
    }
    return render(request, "billing/api_keys.html", context, status=status)


def _key_context(request, key: ApiKey, form: ApiKeyForm) -> dict:
    return {
        "key": key,
        "form": form,
        "credits_per_usd": BillingSettings.load().credits_per_usd,
        "wallet": wallet_of(request.user),
    }


def _typed(credits: int | None) -> str | None:
    """Return a limit as a person would type it, with separators ("5,000"); the form reads it back."""
    return None if credits is None else f"{credits:,}"


def _usd(credits: int | None, rate: int) -> Decimal | None:
    return None if credits is None else usd_for_credits(credits, credits_per_usd=rate)
