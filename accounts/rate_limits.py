"""Rate limits per client address and per network, counted in the cache (Redis in production: every process shares it).

Used where one client could take too much: accounts created (accounts/forms.py) and the public /api/route.
The client's address is allauth's (`ALLAUTH_TRUSTED_PROXY_COUNT` says how many proxies' X-Forwarded-For hops
to trust), so sign-up, login and our endpoints agree on who is asking. An IPv6 address counts as its /64 (a
single host is handed a whole /64); a network is a /24 of IPv4 or a /64 of IPv6.

Windows slide: up to `amount` requests in any `seconds`. The count is estimated from two fixed windows, this
one and the previous one weighted by how much of it still lies within the last `seconds`. Fixed windows alone
let a client send twice the limit across a boundary (all of one window's share in its last second, the next
window's in its first). A refused request is not counted, so a client that keeps asking while refused is
admitted again as soon as its earlier requests age out, when Retry-After said.
"""

import contextlib
import ipaddress
import logging
import math
import threading
import time

from allauth.account.adapter import get_adapter
from django.conf import settings
from django.core.cache import caches
from django.core.cache.backends.base import BaseCache
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

logger = logging.getLogger(__name__)
CACHE_UNREACHABLE = (RedisConnectionError, RedisTimeoutError)  # the cache (Redis in production) is away
NETWORK_PREFIX = {4: 24, 6: 64}  # a household or an office; the smallest network an ISP hands out


_counting_caches: dict[int, BaseCache] = {}
_counting_lock = threading.Lock()


def counting_cache() -> BaseCache:
    """Return the cache the counts are kept in: one client for the whole process.

    Django keeps a cache client per request context, and under ASGI each counted request ran in a context of
    its own: every API call opened (and closed) a Redis connection of its own to count itself. One client
    per CACHES setting (tests change it) shares one pool across threads, as redis-py's clients allow.
    """
    configured = id(settings.CACHES)
    cache = _counting_caches.get(configured)
    if cache is None:
        with _counting_lock:
            cache = _counting_caches.setdefault(configured, caches.create_connection("default"))
    return cache


def client_ip(request) -> str:
    """Return the address of the client that sent `request`."""
    return get_adapter(request).get_client_ip(request)


def address_of(ip: str) -> str:
    """Return what counts as one client address: an IPv4 address, or an IPv6 address's /64."""
    address = _parse(ip)
    if address is None:
        return ip
    return str(address) if address.version == 4 else _network(address)


def network_of(ip: str) -> str:
    """Return the network an address belongs to (/24 for IPv4, /64 for IPv6); an unparsable one is its own."""
    address = _parse(ip)
    return ip if address is None else _network(address)


def over_limits(request, *, action: str, per_address: int, per_network: int, seconds: int) -> int | None:
    """Count one request of this client for `action`; return the seconds to wait if over a limit, else None.

    A limit of 0 is no limit.
    """
    ip = client_ip(request)
    waits = [
        retry_after(action=action, key=key, amount=amount, seconds=seconds)
        for key, amount in ((f"address:{address_of(ip)}", per_address), (f"network:{network_of(ip)}", per_network))
        if amount > 0
    ]
    return max((wait for wait in waits if wait is not None), default=None)


def retry_after(*, action: str, key: str, amount: int, seconds: int) -> int | None:
    """Count one request of `key` for `action`; return the seconds to wait if it is over the limit, else None.

    While the cache cannot be reached (Redis restarting), the request is let through uncounted, with a warning:
    a limit that fails every request while Redis is away would turn a short outage into errors for everyone.
    """
    try:
        return _count(action=action, key=key, amount=amount, seconds=seconds)
    except CACHE_UNREACHABLE as error:
        logger.warning("%s not counted for %s: the cache is unreachable (%s)", action, key.split(":")[0], error)
        return None


def _count(*, action: str, key: str, amount: int, seconds: int) -> int | None:
    now = time.time()
    counter = _counter(action, key, seconds, now)
    cache = counting_cache()
    lifetime = 2 * seconds + 1  # a window's count is read while it is the previous window too
    if cache.add(counter, 1, timeout=lifetime):
        count = 1
    else:
        try:
            count = cache.incr(counter)
        except ValueError:  # the window's counter expired between the two calls
            cache.add(counter, 1, timeout=lifetime)
            count = 1
    previous = cache.get(_counter(action, key, seconds, now - seconds)) or 0
    elapsed = (now % seconds) / seconds  # the share of this window gone by
    if previous * (1 - elapsed) + count <= amount:
        return None
    with contextlib.suppress(ValueError):  # the counter expired meanwhile: nothing to take back
        cache.decr(counter)  # refused: not counted
    return _wait(previous=previous, count=count, elapsed=elapsed, amount=amount, seconds=seconds)


def _wait(*, previous: int, count: int, elapsed: float, amount: int, seconds: int) -> int:
    """Return the whole seconds until a request like this refused one would fit, at most one window."""
    if count <= amount:  # this window has room once enough of the previous one has aged out
        wait = seconds * (1 - (amount - count) / previous - elapsed)
    else:  # this window alone is full (requests raced in): wait until its share has aged out of the next
        wait = seconds * (1 - elapsed) + seconds * (1 - amount / count)
    return max(1, min(seconds, math.ceil(wait)))


def forget(ip: str, *, action: str, seconds: int) -> None:
    """Forget the counts of `action` for an address and its network (tests start from nothing)."""
    now = time.time()
    counting_cache().delete_many(
        [
            _counter(action, f"{kind}:{key}", seconds, moment)
            for kind, key in (("address", address_of(ip)), ("network", network_of(ip)))
            for moment in (now, now - seconds)
        ]
    )


def _counter(action: str, key: str, seconds: int, now: float) -> str:
    return f"ratelimit:{action}:{seconds}:{key}:{int(now // seconds)}"


def _parse(ip: str):
    try:
        address = ipaddress.ip_address(ip)
    except ValueError:
        return None
    if address.version == 6 and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def _network(address) -> str:
    return str(ipaddress.ip_network(f"{address}/{NETWORK_PREFIX[address.version]}", strict=False))
