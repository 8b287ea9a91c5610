"""Errors of the accounts app; each carries a stable code and a sentence a person can act on."""

from errors import PanelsError


class UnknownTheme(PanelsError):
    """A theme that is not one of the choices (system, light, dark)."""

    code = "unknown_theme"
