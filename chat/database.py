"""Reach the database from async code on a pool of threads, not on the one thread a process shares.

Channels' `database_sync_to_async` runs every call of a process on a single thread (its thread-sensitive
mode), so under a crowd every socket's handshake (its session lookup), every turn and every reply's
settlement wait in one queue: replies start late and handshakes time out. The calls here are each a
transaction or a read of their own and keep nothing per thread, so they run on a pool of their own.

The pool has as many threads as the process has PostgreSQL connections (DATABASE_POOL_SIZE): a call spends
most of its time waiting for the database, so asyncio's default pool (CPU count + 4 threads: 6 on two
cores) left connections idle while turns queued behind one another.
"""

from concurrent.futures import ThreadPoolExecutor

from channels.db import database_sync_to_async
from django.conf import settings

_executor: ThreadPoolExecutor | None = None


def database_threads() -> ThreadPoolExecutor:
    """Return this process's database threads (made on first use, sized from the settings)."""
    global _executor
    if _executor is None:
        _executor = ThreadPoolExecutor(max_workers=settings.DATABASE_THREADS, thread_name_prefix="database")
    return _executor


def in_thread_pool(function):
    """Return an awaitable version of `function` that runs on a database thread (with fresh connections)."""
    return database_sync_to_async(function, thread_sensitive=False, executor=database_threads())
