"""`manage.py verify_ledger`: exit non-zero if any wallet disagrees with its ledger."""

import sys

from django.core.management.base import BaseCommand

from billing.ledger import ledger_mismatches
from billing.models import Wallet


class Command(BaseCommand):
    help = "Check that every wallet's balance, debt and held credits equal the sums of its ledger and holds."

    def handle(self, *args, **options):
        mismatches = ledger_mismatches()
        for m in mismatches:
            self.stderr.write(
                f"wallet {m.wallet_id} ({m.user}): {m.what} is {m.cached:,}, ledger says {m.from_ledger:,}"
            )
        if mismatches:
            self.stderr.write(f"{len(mismatches)} difference(s) found.")
            sys.exit(1)
        self.stdout.write(f"All {Wallet.objects.count():,} wallets agree with their ledgers.")
