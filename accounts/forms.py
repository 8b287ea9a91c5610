"""Forms of the email-keyed user model: the admin's (Django's stock ones expect a username) and sign-up."""

from allauth.account.forms import SignupForm as AllauthSignupForm
from allauth.core import context
from django.conf import settings
from django.contrib.auth.forms import UserChangeForm as DjangoUserChangeForm
from django.contrib.auth.forms import UserCreationForm as DjangoUserCreationForm
from django.core.exceptions import ValidationError

from accounts.models import User
from accounts.rate_limits import over_limits

ACCOUNTS_CREATED = "accounts_created"  # the rate limit's action: per client address and per network, an hour
TOO_MANY_SIGNUPS = (
    "Too many accounts have been created from your internet connection in the last hour. Please try again later."
)


class UserCreationForm(DjangoUserCreationForm):
    class Meta:
        model = User
        fields = ("email",)


class UserChangeForm(DjangoUserChangeForm):
    class Meta:
        model = User
        fields = "__all__"


class SignupForm(AllauthSignupForm):
    """allauth's sign-up form, refused while the client's address or network is over its hourly account limit."""

    def clean(self):
        cleaned_data = super().clean()
        request = context.request
        # Counted only for a form that creates an account (or seems to, where allauth hides that an address is
        # taken, so a limited client cannot tell), so a mistyped password costs nothing.
        if request is not None and not self.errors:
            wait = over_limits(
                request,
                action=ACCOUNTS_CREATED,
                per_address=settings.SIGNUPS_PER_HOUR_PER_ADDRESS,
                per_network=settings.SIGNUPS_PER_HOUR_PER_NETWORK,
                seconds=3600,
            )
            if wait is not None:
                raise ValidationError(TOO_MANY_SIGNUPS, code="too_many_signups")
        return cleaned_data
