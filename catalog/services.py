"""Write paths of the catalog: where a provider's requests and key go, moved only with an admin's confirmation.

A provider's key is bound to an origin (`Provider.key_bound_origin`, checked by the registry before every
call). Giving a provider that sends a key another key setting, another base URL setting, or a base URL on
another origin moves the key, so it needs the key setting's name typed again; then the binding follows the
base URL. Every change of the fields that decide where a key goes, and of the binding, is a `ProviderChange`
written in the transaction that saves the provider.
"""

from collections.abc import Mapping
from typing import NamedTuple

from django.db import transaction

from catalog.endpoints import base_url_for
from catalog.exceptions import KeyNotConfirmed
from catalog.models import Provider, ProviderChange, origin_of

ROUTE_FIELDS = ("base_url", "base_url_setting", "api_key_setting")
RECORDED_FIELDS = (*ROUTE_FIELDS, "key_bound_origin")


class KeyMove(NamedTuple):
    """A key about to go somewhere it was not confirmed for."""

    setting: str  # the API key setting's name, which the admin types again to confirm
    destination: str  # where the key would go, as people read it

    @property
    def prompt(self) -> str:
        return f"Type {self.setting} again to send this key to {self.destination}."


def destination_of(provider: Provider) -> str:
    """Return where `provider`'s requests go, as an origin when it has one."""
    url, _ = base_url_for(provider)
    if not url:
        return f"the address in {provider.base_url_setting}"
    return origin_of(url) or url


def key_move(*, before: Provider | None, after: Provider) -> KeyMove | None:
    """Return the key move that saving `after` over `before` (None: a new provider) makes, or None if none.

    A new provider moves a key only when it names a key setting another provider already sends (a new key
    name is confirmed by creating the provider with it).
    """
    if not after.api_key_setting:
        return None
    if before is None:
        moved = Provider.objects.filter(api_key_setting=after.api_key_setting).exists()
    else:
        origin = origin_of(after.base_url)
        moved = (
            after.api_key_setting != before.api_key_setting
            or after.base_url_setting != before.base_url_setting
            or (after.base_url != before.base_url and (not origin or origin != origin_of(before.base_url)))
        )
    return KeyMove(after.api_key_setting, destination_of(after)) if moved else None


@transaction.atomic
def change_provider(
    *, provider: Provider, changes: Mapping[str, object], by, confirmation: str = ""
) -> list[ProviderChange]:
    """Save `changes` to `provider` (created when new) and return the recorded changes, stamped with `by`.

    Raise `KeyNotConfirmed`, saving nothing, when the changes move the key and `confirmation` is not the
    key setting's name; with it, bind the key to the new base URL's origin.
    """
    if "key_bound_origin" in changes:
        raise ValueError("The key's binding moves only by confirming a change of where the key goes.")
    before = Provider.objects.select_for_update().get(pk=provider.pk) if provider.pk else None
    for field, value in changes.items():
        setattr(provider, field, value)
    move = key_move(before=before, after=provider)
    if move and confirmation.strip() != move.setting:
        raise KeyNotConfirmed(move.prompt)
    if before is None or move:
        provider.key_bound_origin = origin_of(provider.base_url)
    else:
        provider.key_bound_origin = before.key_bound_origin
    provider.save()
    old = {field: getattr(before, field) if before else "" for field in RECORDED_FIELDS}
    return ProviderChange.objects.bulk_create(
        ProviderChange(
            provider=provider, changed_by=by, field=field, old_value=old[field], new_value=getattr(provider, field)
        )
        for field in RECORDED_FIELDS
        if getattr(provider, field) != old[field]
    )
