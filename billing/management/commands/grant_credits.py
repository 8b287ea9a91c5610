"""`manage.py grant_credits EMAIL AMOUNT --reason TEXT`: an admin grant, written as a ledger entry."""

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from billing.services import grant_credits


class Command(BaseCommand):
    help = "Grant credits to an account (a negative amount removes them); the reason goes on the ledger."

    def add_arguments(self, parser):
        parser.add_argument("email")
        parser.add_argument("amount", type=int, help="Whole credits; negative to remove.")
        parser.add_argument("--reason", required=True, help="Why, in words the account holder may read.")

    def handle(self, *args, email, amount, reason, **options):
        user = get_user_model().objects.filter(email__iexact=email.strip()).first()
        if user is None:
            raise CommandError(f"No account with the email {email}.")
        try:
            entry = grant_credits(user=user, credits=amount, reason=reason)
        except ValueError as error:
            raise CommandError(str(error)) from None
        self.stdout.write(f"{entry.amount_credits:+,} credits for {user.email}; balance {entry.balance_after:,}.")
