"""Errors of the catalog; each carries a stable code and a sentence a person can act on."""

from errors import PanelsError


class CatalogError(PanelsError):
    """Base of every catalog error."""

    code = "catalog_error"


class KeyNotConfirmed(CatalogError):
    """A change would send a provider's key somewhere new, and the admin did not type its setting's name again.

    Raised by catalog.services.change_provider; the admin shows it on the form.
    """

    code = "key_not_confirmed"
