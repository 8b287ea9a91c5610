"""Serve the local Stripe stand-in, so top-ups can be tried end to end without Stripe or a network."""

from django.conf import settings
from django.core.management.base import BaseCommand

from standins.stripe import StripeStandin


class Command(BaseCommand):
    help = (
        "Serve a local stand-in for Stripe's Checkout API and payment page. Run the app with "
        "STRIPE_API_BASE=http://127.0.0.1:<port> and the same STRIPE_SECRET_KEY and STRIPE_WEBHOOK_SECRET."
    )

    def add_arguments(self, parser):
        parser.add_argument("--port", type=int, default=12111)
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument(
            "--webhook-url",
            default="http://127.0.0.1:8000/billing/stripe/webhook/",
            help="Where the 'Pay (test)' button sends the signed checkout.session.completed event.",
        )

    def handle(self, *args, **options):
        standin = StripeStandin(
            host=options["host"],
            port=options["port"],
            api_key=settings.STRIPE_SECRET_KEY or None,
            webhook_url=options["webhook_url"],
            webhook_secret=settings.STRIPE_WEBHOOK_SECRET or None,
        )
        self.stdout.write(f"Stripe stand-in on {standin.url} (not Stripe: no real payment is ever made).")
        self.stdout.write(f"Run the app with STRIPE_API_BASE={standin.url}")
        if standin.webhook_secret:
            self.stdout.write(f"Paying sends signed webhooks to {standin.webhook_url}")
        else:
            self.stdout.write(
                self.style.WARNING("STRIPE_WEBHOOK_SECRET is not set: no webhooks; the success page credits top-ups.")
            )
        try:
            standin.serve_forever()
        except KeyboardInterrupt:
            pass
        finally:
            standin.stop()
