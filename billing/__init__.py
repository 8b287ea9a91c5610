"""Money: prices, the credit wallet and its ledger, credit packs, Stripe."""
