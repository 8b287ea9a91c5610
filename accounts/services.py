"""A person's preferences: the only code that writes them."""

from accounts.models import User
from errors import InvalidRequest


def choose_theme(*, user: User, theme: str) -> User:
    """Remember `theme` as the one `user` sees on every page; refuse anything but system, light or dark."""
    if theme not in User.Theme.values:
        choices = ", ".join(User.Theme.values)
        raise InvalidRequest(f"Unknown theme {theme!r}: choose one of {choices}.")
    user.theme = theme
    user.save(update_fields=["theme"])
    return user
