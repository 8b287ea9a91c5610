"""Benchmark the wallet: hold latency under load, throughput across many wallets, and the race a naive hold loses.

Run against PostgreSQL (the figures mean little on SQLite):
    DATABASE_URL=postgres://panels:panels@127.0.0.1:5432/panels .venv/bin/python bench/wallet_holds.py

It creates a throwaway database (`<name>_bench`), prints a table, and drops it. Goals (docs/benchmarks.md):
hold p99 <= 10 ms at 8 concurrent holds on one wallet; at least 1,000 settled calls per second across many
wallets; no overdraft ever.
"""

import os
import statistics
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "panels.settings")
os.environ.setdefault("SECRET_KEY", "bench-only")

import django

django.setup()

from django.conf import settings  # noqa: E402
from django.db import connection, connections  # noqa: E402
from django.test.utils import setup_databases, teardown_databases  # noqa: E402

from standins.races import run_at_once  # noqa: E402

CALLERS = 50
COVERED = 20
ROUNDS = 200
WALLETS = 1_000
WORKERS = 16  # threads sharing the wallets, each on its own connection (as many request threads would)


def percentile(values, fraction):
    """Return the value below which `fraction` of `values` fall."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def main():
    """Print the race and latency figures."""
    from decimal import Decimal

    from django.contrib.auth import get_user_model

    from billing.exceptions import InsufficientCredits
    from billing.models import Price, Wallet
    from billing.services import ChargedUsage, HoldRequest, grant_credits, place_holds, settle
    from catalog.models import AIModel, Provider

    provider = Provider.objects.create(slug="bench", name="Bench", wire_format="openai", base_url="http://127.0.0.1:9")
    model = AIModel.objects.create(
        slug="bench-mini",
        name="Bench",
        provider=provider,
        api_model_id="m",
        context_window=128_000,
        max_output_tokens=16_384,
    )
    Price.objects.create(model=model, input_usd_per_m=Decimal("0.15"), output_usd_per_m=Decimal("0.60"))
    hold_cost = 1_500  # 1,000 in + 1,000 out

    def person(name, credits):
        user = get_user_model().objects.create_user(email=f"{name}@bench.example", password="bench-passphrase")  # noqa: S106
        wallet = Wallet.objects.get(user=user)
        grant_credits(user=user, credits=credits - wallet.balance_credits, reason="bench", key=f"bench:{name}")
        return user

    # 1. The race: 50 callers at once against a balance for 20.
    racer = person("racer", COVERED * hold_cost)
    results = run_at_once(
        CALLERS,
        lambda i: place_holds(user=racer, requests=[HoldRequest(f"race:{i}", model, 1_000, 1_000)]),
    )
    admitted = sum(isinstance(r, list) for r in results)
    refused = sum(isinstance(r, InsufficientCredits) for r in results)
    wallet = Wallet.objects.get(user=racer)

    naive = person("naive", COVERED * hold_cost)

    def naive_hold(_):
        from django.db import transaction

        with transaction.atomic():
            w = Wallet.objects.get(user=naive)
            if w.balance_credits - w.held_credits < hold_cost:
                return False
            time.sleep(0.005)
            w.held_credits += hold_cost
            w.save(update_fields=["held_credits"])
        return True

    naive_results = run_at_once(CALLERS, naive_hold)
    naive_admitted = sum(r is True for r in naive_results)
    naive_wallet = Wallet.objects.get(user=naive)

    # 2. Latency: 8 panels at once on one wallet, each on its own open connection, hold then settle.
    busy = person("busy", 10**12)
    hold_ms, settle_ms = [], []
    rounds = ROUNDS // 8
    barrier = threading.Barrier(8)

    def panel(i):
        connection.ensure_connection()  # connect before timing: a web process keeps its connections
        for round_number in range(rounds):
            barrier.wait()
            started = time.perf_counter()
            (hold,) = place_holds(user=busy, requests=[HoldRequest(f"lat:{round_number}:{i}", model, 1_000, 1_000)])
            held = time.perf_counter()
            settle(hold=hold, usage=ChargedUsage(input_tokens=500, output_tokens=300))
            hold_ms.append((held - started) * 1000)
            settle_ms.append((time.perf_counter() - held) * 1000)

    began = time.perf_counter()
    failures = [r for r in run_at_once(8, panel) if r is not None]
    elapsed = time.perf_counter() - began
    if failures:
        print(f"{len(failures)} panels failed, e.g. {failures[0]!r}")

    # 3. Latency without contention: one caller, one call at a time (the usual case: one panel per wallet).
    solo_hold, solo_settle = [], []
    for round_number in range(ROUNDS):
        started = time.perf_counter()
        (hold,) = place_holds(user=busy, requests=[HoldRequest(f"solo:{round_number}", model, 1_000, 1_000)])
        held = time.perf_counter()
        settle(hold=hold, usage=ChargedUsage(input_tokens=500, output_tokens=300))
        solo_hold.append((held - started) * 1000)
        solo_settle.append((time.perf_counter() - held) * 1000)

    # 4. One turn of 8 panels, as chat places it: one call holding all eight (the models come with their prices).
    turn_hold = []
    for round_number in range(ROUNDS):
        priced = AIModel.objects.prefetch_related("prices").get(pk=model.pk)
        requests = [HoldRequest(f"turn:{round_number}:{panel}", priced, 1_000, 1_000) for panel in range(8)]
        started = time.perf_counter()
        place_holds(user=busy, requests=requests)
        turn_hold.append((time.perf_counter() - started) * 1000)

    # 5. Throughput: many wallets, one call each at a time; holds placed by all workers, then settled by all.
    many = []
    for n in range(WALLETS):
        user = get_user_model().objects.create_user(email=f"many{n}@bench.example", password=None)
        grant_credits(user=user, credits=10**9, reason="bench", key=f"bench:many:{n}")
        many.append(user)
    placed: list = [None] * WALLETS

    def place_share(worker):
        connection.ensure_connection()
        for n in range(worker, WALLETS, WORKERS):
            (placed[n],) = place_holds(user=many[n], requests=[HoldRequest(f"many:{n}", model, 1_000, 1_000)])

    def settle_share(worker):
        connection.ensure_connection()
        for n in range(worker, WALLETS, WORKERS):
            settle(hold=placed[n], usage=ChargedUsage(input_tokens=500, output_tokens=300))

    began = time.perf_counter()
    failures = [r for r in run_at_once(WORKERS, place_share) if r is not None]
    holds_per_second = WALLETS / (time.perf_counter() - began)
    began = time.perf_counter()
    failures += [r for r in run_at_once(WORKERS, settle_share) if r is not None]
    settles_per_second = WALLETS / (time.perf_counter() - began)
    if failures:
        print(f"{len(failures)} workers failed, e.g. {failures[0]!r}")
    calls_per_second = 1 / (1 / holds_per_second + 1 / settles_per_second)  # a call is one hold and one settle

    print(f"database: {connection.vendor}")
    print()
    print("race: 50 concurrent holds of 1,500 credits against a balance of 30,000 (covers 20)")
    print(
        f"  atomic conditional UPDATE : admitted {admitted:>2}, refused {refused:>2}, "
        f"held {wallet.held_credits:,} of {wallet.balance_credits:,}"
    )
    print(
        f"  naive read-modify-write   : admitted {naive_admitted:>2}, "
        f"held {naive_wallet.held_credits:,} (should be {naive_admitted * hold_cost:,})"
    )
    print()
    print(f"latency: {len(hold_ms)} hold+settle pairs, 8 at once on one wallet, {len(hold_ms) / elapsed:,.0f} pairs/s")
    for name, values in (
        ("hold", hold_ms),
        ("settle", settle_ms),
        ("hold, one caller", solo_hold),
        ("settle, one caller", solo_settle),
        ("8 holds, one turn", turn_hold),
    ):
        print(
            f"  {name:<18} p50 {statistics.median(values):6.2f} ms   p99 {percentile(values, 0.99):6.2f} ms   "
            f"p99 / 10 ms goal = {percentile(values, 0.99) / 10:.2f}"
        )
    print()
    print(f"throughput: {WALLETS:,} wallets, {WORKERS} threads, one hold then one settle per wallet")
    print(f"  holds   {holds_per_second:7,.0f} /s")
    print(f"  settles {settles_per_second:7,.0f} /s   settles / 1,000 goal = {settles_per_second / 1_000:.2f}")
    calls_goal = calls_per_second / 1_000
    print(f"  calls   {calls_per_second:7,.0f} /s   calls / 1,000 goal = {calls_goal:.2f} (hold + settle)")


if __name__ == "__main__":
    settings.DEBUG = False
    old = setup_databases(verbosity=0, interactive=False, keepdb=False)
    try:
        main()
    finally:
        connections.close_all()
        teardown_databases(old, verbosity=0)
