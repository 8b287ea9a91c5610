"""Helpers shared by tests of several packages: real requests through the real views, no mocks."""

import re

from allauth.account.models import EmailAddress
from allauth.account.signals import email_confirmed
from allauth.core import ratelimit
from django.test import RequestFactory

from accounts.forms import ACCOUNTS_CREATED
from accounts.rate_limits import forget

SIGNUP_PASSWORD = "correct-horse-battery"


def sign_up(client, email: str, *, address: str = "127.0.0.1", password: str = SIGNUP_PASSWORD, **headers):
    """Sign up through allauth's page as a browser at client `address` would; return the response."""
    form = {"email": email, "password1": password, "password2": password}
    return client.post("/accounts/signup/", form, REMOTE_ADDR=address, **headers)


def confirmation_link(message) -> str:
    """Return the path of the confirmation link in an allauth email `message`."""
    return re.search(r"https?://[^/\s]+(/accounts/confirm-email/\S+/)", message.body).group(1)


def confirm_email(client, message) -> None:
    """Open the confirmation link of an allauth email `message` and press its Confirm button."""
    link = confirmation_link(message)
    assert client.get(link).status_code == 200
    assert client.post(link).status_code == 302


def forget_signups(*addresses: str) -> None:
    """Clear the sign-ups counted for these client addresses: accounts per hour (and per network), attempts.

    The cache outlives a test (and, with Redis, the test run), so tests that sign up clear what they used.
    """
    for address in addresses:
        forget(address, action=ACCOUNTS_CREATED, seconds=3600)
        request = RequestFactory().post("/accounts/signup/", REMOTE_ADDR=address)
        ratelimit.clear(request, action="signup")  # allauth's own limit on attempts per minute


def verify_email(user) -> None:
    """Mark the user's email address verified as allauth does when its link is followed (same signal)."""
    address, _ = EmailAddress.objects.get_or_create(user=user, email=user.email, defaults={"primary": True})
    address.set_verified()
    email_confirmed.send(sender=EmailAddress, request=None, email_address=address)
