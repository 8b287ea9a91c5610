"""Start Panels' servers, and a Redis of their own, as child processes on loopback, for tests and benchmarks.

A child server runs with the production settings on plain HTTP (`server_environment`), by default on the
database this process uses, so it sees the data a test or a benchmark has just made. Its output goes to a
temporary file (`start_logged`), never to a pipe nobody reads, which can fill and block it.
"""

import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

from django.db import connection

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def port_open(port: int) -> bool:
    """Return whether something accepts TCP connections on 127.0.0.1:`port`."""
    with socket.socket() as probe:
        probe.settimeout(1)
        return probe.connect_ex(("127.0.0.1", port)) == 0


def answers(url: str) -> bool:
    """Return whether `url` answers 200 right now."""
    try:
        with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 (loopback only)
            return response.status == 200
    except (urllib.error.URLError, ConnectionError, TimeoutError):
        return False


def current_database_url() -> str:
    """Return a DATABASE_URL for the database this process uses (in a test, the test database)."""
    db = connection.settings_dict
    if db["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{db['NAME']}"
    credentials = db["USER"] + (f":{db['PASSWORD']}" if db["PASSWORD"] else "")
    return f"postgres://{credentials}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


def server_environment(*, database_url: str | None = None, **overrides: str) -> dict[str, str]:
    """Return a server process's environment: production settings on loopback, plain HTTP.

    The database is `database_url`, by default the one this process uses.
    """
    return {
        **os.environ,
        "DEBUG": "false",
        "DATABASE_URL": database_url or current_database_url(),
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "SECURE_SSL_REDIRECT": "false",
        "SECURE_COOKIES": "false",
        "STATIC_COLLECTED": "false",
        "PYTHONUNBUFFERED": "1",
        **overrides,
    }


def provider_environment(simulator, **overrides: str) -> dict[str, str]:
    """Point all four providers at the provider simulator, with a key it accepts.

    `simulator` is anything with the simulator's `base_url_openai` and `base_url_anthropic`.
    """
    env = {
        "OPENAI_BASE_URL": simulator.base_url_openai,
        "ANTHROPIC_BASE_URL": simulator.base_url_anthropic,
        "GEMINI_BASE_URL": simulator.base_url_openai,
        "MISTRAL_BASE_URL": simulator.base_url_openai,
        "OPENAI_API_KEY": "sim-key",
        "ANTHROPIC_API_KEY": "sim-key",
        "GEMINI_API_KEY": "sim-key",
        "MISTRAL_API_KEY": "sim-key",
    }
    return {**env, **overrides}


def daphne_command(port: int) -> list[str]:
    """Return the command that serves Panels on 127.0.0.1:`port`, as the Dockerfile runs it."""
    return [sys.executable, "-m", "panels.serve", "-b", "127.0.0.1", "-p", str(port)]


def redis_command(port: int) -> list[str]:
    """Return the command of a Redis on 127.0.0.1:`port` without persistence, so a restart empties it."""
    return ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]


def start_logged(command: list[str], env: dict[str, str]) -> subprocess.Popen:
    """Start a server process whose output goes to a temporary file (a pipe nobody reads can fill and block it)."""
    log = tempfile.TemporaryFile(mode="w+")  # noqa: SIM115 (closed by `stop`, with the process)
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, text=True)  # noqa: S603 (our own command line)
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
        if answers(url):
            return
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
    """A real Daphne process serving Panels on a free port, on the database this process uses."""

    def __init__(self, **env: str):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.ws_url = f"ws://127.0.0.1:{self.port}"
        self.process = start_logged(daphne_command(self.port), server_environment(**env))
        wait_for_http(f"{self.url}/healthz", self.process)

    def stop(self):
        stop(self.process)


class RedisServer:
    """A Redis server of the caller's own, on a free port, that it may restart.

    A restart loses everything, as Redis without persistence does. Never the machine's shared Redis.
    """

    def __init__(self):
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process = None
        self.start()

    def start(self):
        self.process = subprocess.Popen(  # noqa: S603 (our own command line)
            redis_command(self.port), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if port_open(self.port):
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
