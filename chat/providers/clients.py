"""Own the SDK clients: one per provider and event loop, so calls reuse its connections instead of dialling anew.

A client (an httpx2 pool and a TLS context) costs a TCP and TLS handshake per connection and CPU to build, so
calls to a provider share one. It is built for the provider's address, key, timeout and retries; when any of
them changes the provider gets a new client, and the old one is closed once the calls using it end.

An httpx2 pool belongs to the event loop it was made on, so each loop has clients of its own, never lent to
another loop, and closed as the loop shuts down: asyncio.run, asyncio.Runner (pytest's loops) and asgiref
close every async generator a loop has started before they close the loop, so a parked generator hears it.
"""

import asyncio
import threading
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Protocol, TypeVar

from chat.providers.base import ProviderConfig


class Client(Protocol):
    async def close(self) -> None: ...


C = TypeVar("C", bound=Client)


@dataclass(eq=False)
class Lent:
    """A client, the settings it was built for, and how many calls are using it."""

    client: Client
    settings: tuple[str, str, float, int]
    calls: int = 0


class LoopClients:
    """The clients of one event loop, one per provider (by wire format and name)."""

    def __init__(self) -> None:
        self.current: dict[tuple[str, str], Lent] = {}
        self.shutdown: AsyncIterator[None] | None = None  # parked until the loop shuts down

    def lend(self, provider: ProviderConfig, build: Callable[[ProviderConfig], Client]) -> tuple[Lent, Lent | None]:
        """Return the provider's client, counted as in use, and the one it replaced if nobody uses that (to close).

        The client is built anew when the provider has none or its settings changed.
        """
        slot = (provider.wire_format, provider.name)
        settings = (provider.base_url, provider.api_key, provider.timeout_seconds, provider.max_retries)
        lent, idle = self.current.get(slot), None
        if lent is None or lent.settings != settings:
            replaced, lent = lent, Lent(build(provider), settings)
            self.current[slot] = lent
            idle = replaced if replaced is not None and replaced.calls == 0 else None
        lent.calls += 1  # before any await, so nothing replacing it meanwhile can close it under this call
        return lent, idle

    async def give_back(self, lent: Lent) -> None:
        """Count one call fewer on `lent`; close it if it was replaced and this was its last call."""
        lent.calls -= 1
        if lent.calls == 0 and lent not in self.current.values():
            await lent.client.close()

    async def close(self) -> None:
        """Close every current client (a replaced one closes with its last call)."""
        current, self.current = list(self.current.values()), {}
        for lent in current:
            await lent.client.close()


_loops: dict[asyncio.AbstractEventLoop, LoopClients] = {}
_loops_lock = threading.Lock()  # each thread runs loops of its own, and they share this table


async def _clients_of_this_loop() -> LoopClients:
    loop = asyncio.get_running_loop()
    clients = _loops.get(loop)
    if clients is None:
        clients = LoopClients()
        with _loops_lock:
            # A loop closed without shutting down its async generators could not close its clients: drop them.
            for closed in [other for other in _loops if other.is_closed()]:
                del _loops[closed]
            _loops[loop] = clients
        clients.shutdown = _close_at_shutdown(loop, clients)
        await anext(clients.shutdown)
    return clients


async def _close_at_shutdown(loop: asyncio.AbstractEventLoop, clients: LoopClients) -> AsyncIterator[None]:
    """Wait, parked, until the loop shuts down its async generators; then close its clients while it still runs."""
    try:
        yield
    finally:
        with _loops_lock:
            _loops.pop(loop, None)
        await clients.close()


@asynccontextmanager
async def client_for(provider: ProviderConfig, build: Callable[[ProviderConfig], C]) -> AsyncIterator[C]:
    """Lend this loop's client for `provider` for one call, made by `build` the first time or after a change.

    The client stays open after the call: a call closes its own response, never the client.
    """
    clients = await _clients_of_this_loop()
    lent, idle = clients.lend(provider, build)
    try:
        if idle is not None:
            await idle.client.close()
        yield lent.client
    finally:
        await clients.give_back(lent)
