"""Release many threads at once on the same work, to race a rule against itself (tests and benchmarks)."""

import threading

from django.db import connections


def run_at_once(count: int, work) -> list:
    """Run `work(i)` in `count` threads released together; return each result or the exception it raised.

    Each thread closes its database connections when done, as a request thread would.
    """
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
