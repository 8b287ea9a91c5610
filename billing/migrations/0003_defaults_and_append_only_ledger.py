"""Seed the billing settings and the default credit packs; make the ledger append-only in PostgreSQL."""

from decimal import Decimal

from django.db import migrations

PACKS = [("Starter", Decimal("1.00"), 10), ("Regular", Decimal("5.00"), 20), ("Plus", Decimal("20.00"), 30),
         ("Pro", Decimal("50.00"), 40)]

APPEND_ONLY = """
CREATE OR REPLACE FUNCTION billing_ledger_is_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'billing_ledgerentry is append-only: post a reversal instead of %', TG_OP;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER billing_ledgerentry_append_only
    BEFORE UPDATE OR DELETE ON billing_ledgerentry
    FOR EACH ROW EXECUTE FUNCTION billing_ledger_is_append_only();
"""
DROP_APPEND_ONLY = """
DROP TRIGGER IF EXISTS billing_ledgerentry_append_only ON billing_ledgerentry;
DROP FUNCTION IF EXISTS billing_ledger_is_append_only();
"""


def seed(apps, schema_editor):
    apps.get_model("billing", "BillingSettings").objects.get_or_create(pk=1)
    CreditPack = apps.get_model("billing", "CreditPack")
    if not CreditPack.objects.exists():
        for name, amount, order in PACKS:
            CreditPack.objects.create(name=name, amount_usd=amount, sort_order=order)


def forbid_ledger_changes(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(APPEND_ONLY, params=None)


def allow_ledger_changes(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP_APPEND_ONLY, params=None)


class Migration(migrations.Migration):
    dependencies = [("billing", "0002_wallet_ledger_topups")]

    operations = [
        migrations.RunPython(seed, migrations.RunPython.noop),
        migrations.RunPython(forbid_ledger_changes, allow_ledger_changes),
    ]
