"""The counting behind every rate limit: a window that slides, so no boundary lets a client through twice."""

import uuid

import pytest

from accounts import rate_limits
from accounts.rate_limits import retry_after

MINUTE = 60


class Clock:
    """The time the limits read, moved by the test."""

    def __init__(self, now: float):
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch):
    clock = Clock((1_900_000_000 // MINUTE) * MINUTE + 59.5)  # half a second before a minute ends
    monkeypatch.setattr(rate_limits.time, "time", clock)
    return clock


def ask(key: str, amount: int = 40) -> int | None:
    return retry_after(action="test", key=key, amount=amount, seconds=MINUTE)


def test_a_burst_across_a_minute_boundary_is_held_to_one_limit(clock):
    key = f"key:{uuid.uuid4().hex}"
    assert [ask(key) for _ in range(40)] == [None] * 40

    clock.now += 1  # the next clock minute
    waits = [ask(key) for _ in range(40)]

    assert all(wait is not None for wait in waits), "a new clock minute must not grant a second 40"
    assert all(1 <= wait <= MINUTE for wait in waits)


def test_a_refused_client_is_admitted_once_retry_after_has_passed_and_not_long_before(clock):
    key = f"key:{uuid.uuid4().hex}"
    clock.now += 1  # the first second of a clock minute
    for _ in range(40):
        ask(key)
    clock.now += 30
    wait = ask(key)
    assert wait is not None
    for _ in range(20):  # asking again while refused does not lengthen the wait
        assert ask(key) == wait

    clock.now += wait - 5
    assert ask(key) is not None
    clock.now += 5
    assert ask(key) is None


def test_a_client_under_the_limit_is_never_refused_across_windows(clock):
    key = f"key:{uuid.uuid4().hex}"
    refused = []
    for _ in range(5 * MINUTE // 2):  # five minutes, one request every 2 s: 30 a minute against 40
        refused.append(ask(key))
        clock.now += 2
    assert refused == [None] * len(refused)


def test_forget_clears_the_previous_window_too(clock):
    ip = "192.0.2.77"
    for _ in range(3):
        rate_limits.retry_after(action="test", key=f"address:{ip}", amount=3, seconds=MINUTE)
    clock.now += 1
    rate_limits.forget(ip, action="test", seconds=MINUTE)
    assert rate_limits.retry_after(action="test", key=f"address:{ip}", amount=3, seconds=MINUTE) is None
