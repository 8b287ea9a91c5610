"""Reach the database from async code on a pool of threads, not on the one thread a process shares.

Channels' `database_sync_to_async` runs every call of a process on a single thread (its thread-sensitive
mode), so under a crowd every socket's handshake (its session lookup), every turn and every reply's
settlement wait in one queue: replies start late and handshakes time out. The calls here are each a
transaction or a read of their own and keep nothing per thread, so they run on the event loop's pool.
"""

from channels.db import database_sync_to_async


def in_thread_pool(function):
    """Return an awaitable version of `function` that runs on a pool thread (with fresh connections)."""
    return database_sync_to_async(function, thread_sensitive=False)
