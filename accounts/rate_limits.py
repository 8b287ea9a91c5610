"""Rate limits per client address and network, counted in the cache (Redis in production: every process shares it).

The client's address is allauth's (`ALLAUTH_TRUSTED_PROXY_COUNT` says how many proxies' X-Forwarded-For hops to
trust), so sign-up, login and our public endpoints agree on who is asking. Windows are fixed: a client may
send up to `amount` requests in each `seconds`-long window.
"""

import ipaddress
import time

from allauth.account.adapter import get_adapter
from django.core.cache import cache

IPV4_NETWORK_PREFIX = 24  # a household or an office, as one network
IPV6_NETWORK_PREFIX = 64  # the smallest network an ISP hands out


def client_ip(request) -> str:
    """Return the address of the client that sent `request`."""
    return get_adapter(request).get_client_ip(request)


def network_of(ip: str) -> str:
    """Return the network an address belongs to (/24 for IPv4, /64 for IPv6); an unparsable one is its own."""
    try:
        address = ipaddress.ip_address(ip)
    except ValueError:
        return ip
    prefix = IPV4_NETWORK_PREFIX if address.version == 4 else IPV6_NETWORK_PREFIX
    return str(ipaddress.ip_network(f"{address}/{prefix}", strict=False))


def retry_after(*, action: str, key: str, amount: int, seconds: int) -> int | None:
    """Count one request of `key` for `action`; return the seconds to wait if it is over the limit, else None."""
    now = time.time()
    window = int(now // seconds)
    counter = f"ratelimit:{action}:{key}:{window}"
    if cache.add(counter, 1, timeout=seconds + 1):
        count = 1
    else:
        try:
            count = cache.incr(counter)
        except ValueError:  # the window's counter expired between the two calls
            cache.add(counter, 1, timeout=seconds + 1)
            count = 1
    if count <= amount:
        return None
    return max(1, int((window + 1) * seconds - now))
