"""Shared fixtures: real servers (Daphne, a Celery worker) started as processes against the test database."""

import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

from standins.providers import ProviderSimulator

ROOT = Path(__file__).resolve().parent.parent


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config, items):
    """Prepare the collected tests before pytest-django orders them.

    - Every transactional test restores the migrated data (catalog, settings, packs) afterwards. Mixing
      tests that do with tests that don't breaks both: a plain flush recreates content types under new
      ids, which the serialized copy then collides with.
    - Tests marked `services` are skipped without REDIS_URL, unless CI demands the services (then they fail).
    """
    for item in items:
        marker = item.get_closest_marker("django_db")
        if marker and marker.kwargs.get("transaction") and not marker.kwargs.get("serialized_rollback"):
            item.add_marker(
                pytest.mark.django_db(*marker.args, **{**marker.kwargs, "serialized_rollback": True}), append=False
            )
    if settings.REDIS_URL or os.environ.get("PANELS_REQUIRE_SERVICES"):
        return
    skip = pytest.mark.skip(reason="needs Redis: set REDIS_URL (CI sets it)")
    for item in items:
        if "services" in item.keywords:
            item.add_marker(skip)


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_database_url() -> str:
    """Return a DATABASE_URL for the test database, so a child process uses the same data as the test."""
    db = connection.settings_dict
    if db["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{db['NAME']}"
    credentials = db["USER"] + (f":{db['PASSWORD']}" if db["PASSWORD"] else "")
    return f"postgres://{credentials}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


test_database_url.__test__ = False  # a helper, not a test


def child_environment(**overrides: str) -> dict[str, str]:
    """Return the environment for a server process: production-like, pointed at the test database."""
    env = {
        **os.environ,
        "DEBUG": "false",
        "DATABASE_URL": test_database_url(),
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "SECURE_SSL_REDIRECT": "false",
        "SECURE_COOKIES": "false",
        "STATIC_COLLECTED": "false",
        "PYTHONUNBUFFERED": "1",
    }
    env.update(overrides)
    return env


def start_logged(command: list[str], env: dict[str, str]) -> subprocess.Popen:
    """Start a server process whose output goes to a temporary file (a pipe nobody reads can fill and block it)."""
    log = tempfile.TemporaryFile(mode="w+")  # noqa: SIM115 (closed by `stop`, with the process)
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, text=True)
    process.log = log
    return process


def output_of(process: subprocess.Popen) -> str:
    """Return what a process started by `start_logged` has printed so far."""
    process.log.seek(0)
    return process.log.read()


def wait_for_http(url: str, process: subprocess.Popen, timeout: float = 30.0) -> None:
    """Wait until `url` answers 200, failing early with the server's output if it exits."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode}: {output_of(process)}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 (loopback only)
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError):
            time.sleep(0.1)
    raise RuntimeError(f"{url} did not answer within {timeout} s")


def stop(process: subprocess.Popen) -> None:
    """Stop a child process, politely first, and close its log."""
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
    process.log.close()


class DaphneServer:
    """A real `daphne panels.asgi:application` process on a free port."""

    def __init__(self, **env: str):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.ws_url = f"ws://127.0.0.1:{self.port}"
        self.process = start_logged(
            [sys.executable, "-m", "panels.serve", "-b", "127.0.0.1", "-p", str(self.port)],  # as deployed
            child_environment(**env),
        )
        wait_for_http(f"{self.url}/healthz", self.process)

    def stop(self):
        stop(self.process)


@pytest.fixture(scope="session")
def daphne_server(django_db_setup, django_db_blocker):
    """Serve the app with a real Daphne process for the whole session, on the test database."""
    with django_db_blocker.unblock():
        server = DaphneServer()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def celery_worker(django_db_setup, django_db_blocker):
    """Run a real Celery worker on Redis, consuming a queue of its own; yield (queue, process)."""
    queue = f"test-{os.getpid()}"
    with django_db_blocker.unblock():
        env = child_environment()
    process = start_logged(
        [sys.executable, "-m", "celery", "-A", "panels", "worker", "--pool=solo", "-Q", queue, "-l", "info"], env
    )
    yield queue, process
    stop(process)


class RedisServer:
    """A Redis server of the test's own, on a free port, that a test may restart.

    A restart loses everything, as Redis without persistence does. Never the machine's shared Redis.
    """

    def __init__(self):
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process = None
        self.start()

    def start(self):
        command = ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
        self.process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with socket.socket() as probe:
                if probe.connect_ex(("127.0.0.1", self.port)) == 0:
                    return
            time.sleep(0.05)
        raise RuntimeError(f"redis-server did not start on port {self.port}")

    def stop(self):
        self.process.kill()
        self.process.wait()

    def restart(self, down_seconds: float = 0.5):
        self.stop()
        time.sleep(down_seconds)
        self.start()


@pytest.fixture
def redis_server():
    """Run a Redis server of this test's own (restartable); needs `redis-server` on the PATH."""
    server = RedisServer()
    yield server
    server.stop()


@pytest.fixture
async def simulator():
    """Serve both provider wire formats on 127.0.0.1, as fast as possible, with 40-token replies."""
    async with ProviderSimulator(reply_tokens=40) as sim:
        yield sim


@pytest.fixture
def user(django_user_model):
    """Return a person with an account (password: correct-horse-battery)."""
    return django_user_model.objects.create_user(email="ada@example.com", password="correct-horse-battery")


@pytest.fixture
def priced_model(db):
    """Return an AI model priced like gpt-4o-mini ($0.15 / $0.60 per 1M), whether or not the seed ran."""
    from decimal import Decimal

    from billing.models import Price
    from chat.models import AIModel, Provider

    provider, _ = Provider.objects.get_or_create(
        slug="test-provider",
        defaults={"name": "Test provider", "wire_format": "openai", "base_url": "http://127.0.0.1:9/v1"},
    )
    model, created = AIModel.objects.get_or_create(
        slug="test-mini",
        defaults={
            "name": "Test Mini",
            "provider": provider,
            "api_model_id": "gpt-4o-mini",
            "context_window": 128_000,
            "max_output_tokens": 16_384,
        },
    )
    if created:
        Price.objects.create(model=model, input_usd_per_m=Decimal("0.15"), output_usd_per_m=Decimal("0.60"))
    return model


def fund(user, credits: int):
    """Set the user's wallet to exactly `credits` through an admin grant; return the wallet."""
    from billing.models import Wallet
    from billing.services import grant_credits, wallet_for

    wallet = wallet_for(user)
    difference = credits - wallet.balance_credits
    if difference:
        grant_credits(user=user, credits=difference, reason="test funding", key=f"test-fund:{user.pk}:{credits}")
    return Wallet.objects.get(pk=wallet.pk)


def run_at_once(count: int, work) -> list:
    """Run `work(i)` in `count` threads released together; return each result or the exception it raised.

    Each thread closes its database connections when done, as a request thread would.
    """
    from django.db import connections

    barrier = threading.Barrier(count)
    results: list = [None] * count

    def runner(i):
        try:
            barrier.wait()
            results[i] = work(i)
        except Exception as error:  # collected for the caller to assert on
            results[i] = error
        finally:
            connections.close_all()

    threads = [threading.Thread(target=runner, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return results


@pytest.fixture
def openai_and_anthropic(settings):
    """Configure OpenAI and Anthropic (the routing table's two models); leave Gemini and Mistral unconfigured."""
    settings.OPENAI_API_KEY = "sk-test"
    settings.ANTHROPIC_API_KEY = "sk-ant-test"
    settings.GEMINI_API_KEY = ""
    settings.MISTRAL_API_KEY = ""
    return settings


def answer_turn(user, models: list[str], content: str, *, usage) -> list:
    """Start a turn through `start_turn` and finish each reply with `usage` (None: failed before any output).

    Return the turn's messages, fresh from the database, in panel order.
    """
    from chat.models import Message
    from chat.services import ReplyOutcome, finish_reply, start_turn

    started = start_turn(
        user=user,
        request_id=str(uuid.uuid4()),
        conversation_id=None,
        model_slugs=models,
        content=content,
    )
    for reply in started.replies:
        outcome = ReplyOutcome(
            text="A reply." if usage else "", usage=usage, stopped=False, error_code="" if usage else "overloaded"
        )
        finish_reply(message_id=reply.message_id, outcome=outcome, estimated_input_tokens=reply.estimated_input_tokens)
    return list(Message.objects.filter(turn_id=started.frame.turn_id).select_related("model").order_by("panel"))
