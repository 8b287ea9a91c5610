"""API keys: create one (its secret shown once), find the key a secret belongs to, rename, limit and revoke.

A secret is 43 random URL-safe characters after `pnl-`; only its SHA-256 is stored, so a stolen database
gives no usable key, and a lookup by digest needs no slow hash (the secret has 256 bits of entropy). What a
key may spend is enforced where money is held (billing/services.py `place_holds`), not here.
"""

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from billing.exceptions import InvalidApiKey
from billing.models import ApiKey
from catalog.models import AIModel
from errors import InvalidRequest

SECRET_PREFIX = "pnl-"  # noqa: S105 (a prefix, not a secret)
PREFIX_CHARS = 12  # shown beside the name: "pnl-" and 8 characters of the secret
LAST_USED_PRECISION = timedelta(minutes=1)  # `last_used_at` is written at most this often per key


@dataclass(frozen=True)
class NewKey:
    """A key as created, with the secret that is never shown again."""

    key: ApiKey
    secret: str


def digest_of(secret: str) -> str:
    """Return the stored form of a secret."""
    return hashlib.sha256(secret.encode()).hexdigest()


def clean_allowed_models(slugs) -> list[str]:
    """Return `slugs` as the catalog's model slugs they name, in order and once each; raise InvalidRequest otherwise."""
    wanted = list(dict.fromkeys(slug.strip() for slug in slugs if slug.strip()))
    known = set(AIModel.objects.filter(slug__in=wanted).values_list("slug", flat=True))
    unknown = [slug for slug in wanted if slug not in known]
    if unknown:
        raise InvalidRequest(f"There is no model called {unknown[0]!r}.")
    return wanted


@transaction.atomic
def create_api_key(
    *,
    user,
    name: str,
    daily_limit_credits: int | None = None,
    total_limit_credits: int | None = None,
    allowed_models: list[str] | None = None,
) -> NewKey:
    """Create a key for `user` and return it with its secret (shown to the person once, stored only as a digest)."""
    secret = SECRET_PREFIX + secrets.token_urlsafe(32)
    key = ApiKey.objects.create(
        user=user,
        name=_clean_name(name),
        prefix=secret[:PREFIX_CHARS],
        digest=digest_of(secret),
        daily_limit_credits=daily_limit_credits,
        total_limit_credits=total_limit_credits,
        allowed_models=clean_allowed_models(allowed_models or []),
    )
    return NewKey(key=key, secret=secret)


@transaction.atomic
def change_api_key(
    *,
    key: ApiKey,
    name: str,
    daily_limit_credits: int | None,
    total_limit_credits: int | None,
    allowed_models: list[str],
) -> ApiKey:
    """Rename a key and set its limits and models; calls already admitted keep what they hold."""
    key.name = _clean_name(name)
    key.daily_limit_credits = daily_limit_credits
    key.total_limit_credits = total_limit_credits
    key.allowed_models = clean_allowed_models(allowed_models)
    key.save(update_fields=["name", "daily_limit_credits", "total_limit_credits", "allowed_models"])
    return key


def revoke_api_key(*, key: ApiKey) -> ApiKey:
    """Revoke a key for good: its next request is refused (calls already streaming finish and are charged)."""
    ApiKey.objects.filter(pk=key.pk, revoked_at__isnull=True).update(revoked_at=timezone.now())
    key.refresh_from_db(fields=["revoked_at"])
    return key


def api_keys_for(user) -> QuerySet[ApiKey]:
    """Return the user's keys, newest first, revoked ones included (their charges stay on the ledger)."""
    return ApiKey.objects.filter(user=user).order_by("-created_at", "-id")


def api_key_for(user, key_id) -> ApiKey:
    """Return the user's key `key_id`; raise ApiKey.DoesNotExist for any other id."""
    try:
        return api_keys_for(user).get(pk=key_id)
    except (ValueError, TypeError):
        raise ApiKey.DoesNotExist from None


def key_for_secret(secret: str | None) -> ApiKey:
    """Return the active key a secret belongs to, its owner loaded; raise InvalidApiKey (never echoing it)."""
    if not secret:
        raise InvalidApiKey("No API key was sent: send it as `Authorization: Bearer <key>`.")
    key = ApiKey.objects.select_related("user").filter(digest=digest_of(secret)).first()
    if key is None or not key.user.is_active:
        raise InvalidApiKey("The API key is not a Panels key. Create one on your API keys page.")
    if key.revoked_at is not None:
        raise InvalidApiKey(f"This API key ({key.prefix}…) was revoked on {key.revoked_at:%Y-%m-%d}.")
    return key


def mark_used(key: ApiKey) -> None:
    """Record that the key was just used, at most once a minute (a write per request would cost every call)."""
    now = timezone.now()
    if key.last_used_at is None or now - key.last_used_at >= LAST_USED_PRECISION:
        ApiKey.objects.filter(pk=key.pk).update(last_used_at=now)
        key.last_used_at = now


def _clean_name(name: str) -> str:
    name = " ".join(name.split())
    if not name:
        raise InvalidRequest("Give the key a name, such as the program that uses it.")
    return name[: ApiKey._meta.get_field("name").max_length]
