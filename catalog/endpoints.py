"""Where a provider's requests go: a base URL read from a setting the provider names, or else from its row.

A provider names settings rather than holding values: `base_url_setting` and `api_key_setting` are read as a
Django setting when the settings define that name, else as an environment variable. A base URL read from the
environment is the operator's choice and is trusted with the key; a stored one gets the key only at the origin
an admin confirmed (catalog/services.py).
"""

import os
from typing import NamedTuple

from django.conf import settings

from catalog.models import Provider


def setting_value(name: str) -> str:
    """Return the value of the Django setting `name`, or of the environment variable when no setting has it."""
    value = getattr(settings, name, None)
    if value is None:
        value = os.environ.get(name, "")
    return str(value).strip()


class BaseUrl(NamedTuple):
    url: str
    from_environment: bool  # read from `base_url_setting`: the operator's choice, trusted with the key


def base_url_for(provider: Provider) -> BaseUrl:
    """Return the base URL requests to `provider` go to ("" when none is set) and whether the environment set it."""
    configured = setting_value(provider.base_url_setting) if provider.base_url_setting else ""
    return BaseUrl(configured, True) if configured else BaseUrl(provider.base_url, False)
