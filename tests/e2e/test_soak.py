"""The quick soak (bench/soak.py --quick) passes: Panels as deployed loses nothing under load and faults.

It starts its own PostgreSQL database, Redis, simulator, two Daphne processes and Celery, never the test
database or the shared Redis, so it needs no Django fixture; it is marked `services` because it needs
PostgreSQL and `redis-server`, as CI has.
"""

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
TIMEOUT_SECONDS = 240


@pytest.mark.services
@pytest.mark.timeout(TIMEOUT_SECONDS + 90)
def test_quick_soak_loses_nothing():
    soak = subprocess.Popen(
        [sys.executable, "bench/soak.py", "--quick"],
        cwd=ROOT,
        env=os.environ.copy(),  # its DATABASE_URL names only the server the soak creates its own database on
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        output, _ = soak.communicate(timeout=TIMEOUT_SECONDS)
    except subprocess.TimeoutExpired:
        soak.send_signal(signal.SIGINT)  # the soak stops its processes and drops its database
        try:
            output, _ = soak.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            soak.kill()
            output, _ = soak.communicate()
        pytest.fail(f"the quick soak took over {TIMEOUT_SECONDS} s:\n{output}")
    assert soak.returncode == 0, f"the quick soak failed (exit {soak.returncode}):\n{output}"
