"""Wallet, ledger, holds, prices and credit packs (built by the wallet issue)."""
