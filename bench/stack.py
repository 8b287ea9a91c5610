"""Run Panels' production topology on loopback for benchmarks: its own database, Redis and server processes.

Pieces, each started, killed and restarted on demand (nothing here imports `tests/`):
- `SoakDatabase`: a PostgreSQL database of its own (`panels_soak_<pid>`), migrated, dropped at the end;
- `RedisServer`: a `redis-server` on a free port without persistence, so a restart loses everything as in
  production without AOF/RDB;
- `Simulator`, `Daphne`, `CeleryWorker`, `CeleryBeat`: `manage.py simulate_providers`, `daphne`, and Celery's
  worker and beat as processes, with the production environment (`server_environment`, from
  standins/servers.py, which starts the tests' servers too);
- `use_database_here`, `funded_users` and `api_key_secrets`: Django in the harness process on the same
  database, to make users with funded wallets, session cookies and API keys.

Every process writes to a log file in the stack's folder (never to a pipe nobody reads), runs in a session of
its own (a Ctrl-C reaches only the harness, which stops them) and, when started from the main thread, is
killed by the kernel if the harness dies without cleaning up.
"""

import contextlib
import ctypes
import os
import resource
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from websockets.asyncio.client import ClientConnection, connect

from standins.servers import (
    ROOT,
    answers,
    daphne_command,
    free_port,
    port_open,
    provider_environment,
    redis_command,
    server_environment,
)

PYTHON = sys.executable
DEFAULT_ADMIN_DATABASE_URL = "postgres://panels:panels@127.0.0.1:5432/panels"
PR_SET_PDEATHSIG = 1


def raise_file_limit() -> None:
    """Raise this process's open-file limit to its hard limit (thousands of sockets need thousands of fds)."""
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


_LIBC = ctypes.CDLL(None, use_errno=True)  # loaded before any fork: a child only calls into it


def _die_with_parent() -> None:
    """Have the kernel SIGKILL this (child) process when the thread that forked it ends."""
    _LIBC.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)


def _tree(root: int) -> list[int]:
    """Return `root` and its descendants' pids (from /proc)."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError, ValueError, IndexError):
            fields = stat.read_text().rsplit(")", 1)[1].split()
            children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    pids, stack = [], [root]
    while stack:
        pid = stack.pop()
        pids.append(pid)
        stack.extend(children.get(pid, []))
    return pids


def _cpu_of(pid: int) -> float:
    """Return the user + system CPU seconds of one process (0 if it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class ManagedProcess:
    """A server process of the stack: spawn, wait until ready, kill (SIGKILL), stop (SIGTERM), restart."""

    name = "process"

    def __init__(self, logs: Path, env: dict[str, str]):
        self.logs, self.env = logs, env
        self.process: subprocess.Popen | None = None
        self.starts = 0
        self.log_path = logs / f"{self.name}.log"

    def command(self) -> list[str]:
        raise NotImplementedError

    def ready(self) -> bool:
        """Return whether the process serves (checked after spawning, until it does)."""
        return True

    @property
    def pid(self) -> int:
        return self.process.pid

    @property
    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def spawn(self) -> None:
        """Start the process without waiting for it to serve (cheap enough for an event loop's thread)."""
        raise_file_limit()  # inherited: a Daphne with a thousand sockets needs thousands of fds
        self.starts += 1
        with open(self.log_path, "a") as log:
            log.write(f"\n===== start {self.starts} at {time.strftime('%H:%M:%S')}: {' '.join(self.command())}\n")
            log.flush()
            self.process = subprocess.Popen(  # noqa: S603 (our own command line)
                self.command(),
                cwd=ROOT,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
                # Only from the main thread: a worker thread's end would kill the child.
                preexec_fn=_die_with_parent if threading.current_thread() is threading.main_thread() else None,
            )

    def wait_ready(self, timeout: float = 60) -> None:
        """Wait until `ready()`, failing early with the log's tail if the process exits."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not self.alive:
                raise RuntimeError(f"{self.name} exited with {self.process.returncode}:\n{self.log_tail()}")
            if self.ready():
                return
            time.sleep(0.1)
        raise RuntimeError(f"{self.name} did not become ready within {timeout} s:\n{self.log_tail()}")

    def start(self, timeout: float = 60) -> None:
        self.spawn()
        self.wait_ready(timeout)

    def kill(self) -> None:
        """SIGKILL the process and everything in its session (a crash: nothing is cleaned up)."""
        if self.alive:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
        if self.process is not None:
            self.process.wait()

    def stop(self, timeout: float = 10) -> None:
        """Stop the process politely (SIGTERM to its session), then by force."""
        if not self.alive:
            return self.kill()  # reap it, and whatever it left in its session
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(timeout)
        self.kill()

    def restart(self, down_seconds: float = 0.0, timeout: float = 60) -> None:
        self.kill()
        time.sleep(down_seconds)
        self.start(timeout)

    def cpu_seconds(self) -> float:
        """Return the CPU time used so far by the process and its children (this life of it only)."""
        if not self.alive:
            return 0.0
        return sum(_cpu_of(pid) for pid in _tree(self.process.pid))

    def log_lines(self, marker: str) -> list[str]:
        """Return the log's lines that contain `marker`."""
        try:
            with open(self.log_path, errors="replace") as log:
                return [line.rstrip() for line in log if marker in line]
        except FileNotFoundError:
            return []

    def log_tail(self, chars: int = 4000) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-chars:]
        except FileNotFoundError:
            return ""


class RedisServer(ManagedProcess):
    """A Redis of the stack's own on a free port, without persistence: a restart empties it."""

    name = "redis"

    def __init__(self, logs: Path, port: int | None = None):
        self.port = port or free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.dir = logs / "redis-data"
        self.dir.mkdir(exist_ok=True)
        super().__init__(logs, dict(os.environ))

    def command(self) -> list[str]:
        return [*redis_command(self.port), "--dir", str(self.dir), "--maxclients", "20000"]

    def ready(self) -> bool:
        return port_open(self.port)


class Simulator(ManagedProcess):
    """`manage.py simulate_providers`: the provider simulator as a process of its own."""

    name = "simulator"

    def __init__(
        self, logs: Path, env: dict[str, str], *, tokens_per_second: float, reply_tokens: int, first_token_ms: int
    ):
        self.port = free_port()
        self.tokens_per_second, self.reply_tokens, self.first_token_ms = tokens_per_second, reply_tokens, first_token_ms
        super().__init__(logs, env)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def base_url_openai(self) -> str:
        return f"{self.base_url}/v1"

    @property
    def base_url_anthropic(self) -> str:
        return self.base_url  # the Anthropic SDK appends /v1/messages itself

    def command(self) -> list[str]:
        return [
            PYTHON,
            "manage.py",
            "simulate_providers",
            "--port",
            str(self.port),
            "--tokens-per-second",
            str(self.tokens_per_second),
            "--reply-tokens",
            str(self.reply_tokens),
            "--first-token-ms",
            str(self.first_token_ms),
        ]

    def ready(self) -> bool:
        return port_open(self.port)


class Daphne(ManagedProcess):
    """One Daphne process serving `panels.asgi:application` on a fixed port (kept across restarts)."""

    def __init__(self, logs: Path, env: dict[str, str], index: int):
        self.name = f"daphne-{index}"
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.ws_url = f"ws://127.0.0.1:{self.port}/ws/chat/"
        super().__init__(logs, env)

    def command(self) -> list[str]:
        return daphne_command(self.port)

    def ready(self) -> bool:
        return answers(f"{self.url}/healthz")


class CeleryWorker(ManagedProcess):
    """`celery -A panels worker` (prefork, two children): a kill takes its whole session down."""

    name = "celery-worker"

    def __init__(self, logs: Path, env: dict[str, str], concurrency: int = 2):
        self.concurrency = concurrency
        super().__init__(logs, env)

    def command(self) -> list[str]:
        return [
            PYTHON,
            "-m",
            "celery",
            "-A",
            "panels",
            "worker",
            "--pool=prefork",
            f"--concurrency={self.concurrency}",
            "-n",
            f"soak-{os.getpid()}@%h",
            "-l",
            "info",
        ]

    def ready(self) -> bool:
        return "ready." in self.log_tail(20_000).rsplit("===== start", 1)[-1]


class CeleryBeat(ManagedProcess):
    """`celery -A panels beat` with its schedule and pid files in the stack's folder."""

    name = "celery-beat"

    def command(self) -> list[str]:
        return [
            PYTHON,
            "-m",
            "celery",
            "-A",
            "panels",
            "beat",
            "-l",
            "info",
            "-s",
            str(self.logs / "celerybeat-schedule"),
            "--pidfile",
            str(self.logs / "celerybeat.pid"),
        ]


class SoakDatabase:
    """A PostgreSQL database of the harness's own, created on the server of `admin_url` and dropped after."""

    def __init__(self, admin_url: str, name: str | None = None):
        self.admin_url = admin_url
        self.name = name or f"panels_soak_{os.getpid()}"
        parts = urlsplit(admin_url)
        self.url = urlunsplit((parts.scheme, parts.netloc, f"/{self.name}", "", ""))
        self.created = False

    def _admin(self, sql: str) -> None:
        import psycopg

        parts = urlsplit(self.admin_url)
        with psycopg.connect(
            host=parts.hostname or "127.0.0.1",
            port=parts.port or 5432,
            user=parts.username,
            password=parts.password,
            dbname=parts.path.lstrip("/") or "postgres",
            autocommit=True,
        ) as connection:
            connection.execute(sql)

    def create(self) -> None:
        self._admin(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')
        self._admin(f'CREATE DATABASE "{self.name}"')
        self.created = True

    def migrate(self, env: dict[str, str], log: Path) -> None:
        """Run `manage.py migrate` against this database (the migrations seed the catalog)."""
        with open(log, "a") as out:
            result = subprocess.run(  # noqa: S603 (our own command line)
                [PYTHON, "manage.py", "migrate", "--noinput"],
                cwd=ROOT,
                env={**env, "DATABASE_URL": self.url},
                stdout=out,
                stderr=subprocess.STDOUT,
                check=False,
                timeout=300,
            )
        if result.returncode:
            raise RuntimeError(f"migrate failed ({result.returncode}); see {log}")

    def drop(self) -> None:
        if self.created:
            self._admin(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')
            self.created = False


@dataclass
class StackOptions:
    daphnes: int = 2
    celery: bool = True
    tokens_per_second: float = 30
    reply_tokens: int = 60
    first_token_ms: int = 300
    max_streams_per_process: int = 1000
    database_pool_size: int = 10
    server_env: dict[str, str] = field(default_factory=dict)  # more settings for the servers (Daphne, Celery)


class Stack:
    """PostgreSQL database, Redis, simulator, Daphne processes and Celery, started together and stopped together.

    `with Stack(options) as stack:` starts everything; leaving the block (normally, on an error or on Ctrl-C)
    stops every process it started and drops its database. Logs stay in `stack.logs` when `keep_logs`.
    """

    def __init__(self, options: StackOptions, *, admin_database_url: str | None = None, keep_logs: bool = False):
        self.options = options
        self.keep_logs = keep_logs
        self.logs = Path(tempfile.mkdtemp(prefix="panels-soak-"))
        self.secret_key = secrets.token_urlsafe(50)
        admin_url = admin_database_url or os.environ.get("DATABASE_URL") or DEFAULT_ADMIN_DATABASE_URL
        self.database = SoakDatabase(admin_url)
        self.redis = RedisServer(self.logs)
        base = server_environment(
            database_url=self.database.url,
            DJANGO_SETTINGS_MODULE="panels.settings",
            SECRET_KEY=self.secret_key,
            REDIS_URL=self.redis.url,
        )
        self.simulator = Simulator(
            self.logs,
            base,
            tokens_per_second=options.tokens_per_second,
            reply_tokens=options.reply_tokens,
            first_token_ms=options.first_token_ms,
        )
        self.env = {
            **base,
            **provider_environment(self.simulator),
            "CHAT_MAX_STREAMS_PER_PROCESS": str(options.max_streams_per_process),
            "DATABASE_POOL_SIZE": str(options.database_pool_size),
            "MEDIA_ROOT": str(self.logs / "media"),  # attachments: web and Celery share it, removed with the logs
            **options.server_env,
        }
        self.daphnes = [Daphne(self.logs, self.env, index) for index in range(options.daphnes)]
        self.worker = CeleryWorker(self.logs, self.env) if options.celery else None
        self.beat = CeleryBeat(self.logs, self.env) if options.celery else None

    @property
    def processes(self) -> list[ManagedProcess]:
        return [p for p in (self.redis, self.simulator, *self.daphnes, self.worker, self.beat) if p is not None]

    def start(self) -> None:
        self.database.create()
        self.database.migrate(self.env, self.logs / "migrate.log")
        self.redis.start()
        self.simulator.start()
        for process in [*self.daphnes, self.worker, self.beat]:
            if process is not None:
                process.spawn()  # start together, then wait: Django's start-up takes seconds each
        for process in [*self.daphnes, self.worker, self.beat]:
            if process is not None:
                process.wait_ready()

    def close(self) -> None:
        """Stop every process (servers first, Redis last) and drop the database; keep going past failures."""
        for process in reversed(self.processes):
            try:
                process.stop()
            except Exception as error:  # one stubborn process must not leave the others running
                print(f"stack: could not stop {process.name}: {error}", file=sys.stderr)
        try:
            self.database.drop()
        except Exception as error:
            print(f"stack: could not drop database {self.database.name}: {error}", file=sys.stderr)
        if not self.keep_logs:
            shutil.rmtree(self.logs, ignore_errors=True)

    def __enter__(self) -> "Stack":
        try:
            self.start()
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def use_database_here(env: dict[str, str]) -> None:
    """Set up Django in this process on the stack's database and Redis (before any model is imported)."""
    for name in ("DJANGO_SETTINGS_MODULE", "DEBUG", "SECRET_KEY", "DATABASE_URL", "REDIS_URL", "ALLOWED_HOSTS"):
        os.environ[name] = env[name]
    for name, value in env.items():
        if name.endswith(("_API_KEY", "_BASE_URL")) or name.startswith(("SECURE_", "STATIC_", "CHAT_")):
            os.environ[name] = value
    os.environ["LOG_LEVEL"] = "WARNING"
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    import django

    django.setup()


@dataclass(frozen=True)
class Account:
    """A user the harness plays: its id, email and the session cookie a browser would send."""

    user_id: int
    email: str
    session_id: str

    @property
    def cookie(self) -> str:
        return f"sessionid={self.session_id}"


def funded_users(count: int, *, credits: int, prefix: str = "soak") -> list[Account]:
    """Create `count` users, grant each `credits`, and log each in; return their accounts.

    Passwords are unusable (nobody logs in by password; hashing hundreds would take minutes).
    """
    from django.contrib.auth import get_user_model
    from django.test import Client

    from billing.services import grant_credits

    accounts = []
    for index in range(count):
        email = f"{prefix}{index}@soak.example"
        user = get_user_model().objects.create_user(email=email, password=None)
        grant_credits(user=user, credits=credits, reason="soak funding", key=f"soak-fund:{user.pk}")
        client = Client()
        client.force_login(user)
        accounts.append(Account(user.pk, email, client.cookies["sessionid"].value))
    return accounts


def api_key_secrets(accounts: list[Account], *, name: str) -> list[str]:
    """Create an API key named `name` for each account's user; return their secrets, in the accounts' order."""
    from django.contrib.auth import get_user_model

    from billing.keys import create_api_key

    users = get_user_model().objects.in_bulk([account.user_id for account in accounts])
    return [create_api_key(user=users[account.user_id], name=name).secret for account in accounts]


class CountingConnection(ClientConnection):
    """A client socket that counts the bytes it reads off TCP: websocket frames as sent, compressed or not."""

    bytes_received = 0

    def data_received(self, data: bytes) -> None:
        self.bytes_received += len(data)
        super().data_received(data)


async def open_socket(daphne, account, **options) -> CountingConnection:
    """Open a logged-in socket to `daphne` as a browser tab of this site would.

    Its Origin, permessage-deflate offered (browsers offer it), no ping of its own; `bytes_received` counts
    what crossed the connection.
    """
    return await connect(
        daphne.ws_url,
        origin=daphne.url,
        additional_headers={"Cookie": account.cookie},
        proxy=None,
        open_timeout=60,
        ping_interval=None,  # a browser does not ping either; the server's pings are answered
        create_connection=CountingConnection,
        **options,
    )
