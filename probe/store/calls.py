"""Where a run's store calls execute: in the event loop for SQLite, in a thread otherwise.

A run's database work was handed to one writer thread so the crawl never waits for it.
On SQLite that work is CPU in this process (encoding rows, SQLite's own pages), not a
wait on a server, and two threads both running Python pay for the GIL going back and
forth: every statement releases it and every hand-over is a futex and a context switch.
On the 200-portal fleet the writer thread cost about 25,000 context switches and 14 % of
the run's CPU (20.2 → 17.3 s in alternated runs, the same rows stored), for no wall-time
gain, since the crawl was CPU-bound anyway. So with SQLite each call runs right where it
is awaited.

What the thread still buys on SQLite is not waiting on another process: an operator's
`probe check`, an import or a prune may hold the write lock, and the busy handler would
then stop every crawl of the run for as long as it waits (up to
`probe.store.db.SQLITE_BUSY_TIMEOUT_MS`, and timers firing late would read as portals
timing out). So a call in the loop waits for the lock only `INLINE_LOCK_WAIT_MS`; if the
database is still locked, the call is handed to the thread, which waits the full time
while the crawl goes on. A store call that failed on the lock did nothing: its write
transaction begins with the lock (BEGIN IMMEDIATE) and is rolled back as a whole.

PostgreSQL (a server, perhaps on another machine) keeps the thread for every call: there
a statement is mostly a round trip, which the loop must not sit through.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from contextvars import ContextVar
from typing import Any, TypeVar

import sqlalchemy.exc

T = TypeVar("T")

# How long a call run in the event loop waits for another connection's lock before it is
# handed to the thread: a commit elsewhere takes a few milliseconds, a prune far longer.
INLINE_LOCK_WAIT_MS = 20
# The busy timeout of this context's SQLite transactions; None: the connection's own
# (`SQLITE_BUSY_TIMEOUT_MS`). Read by the engine's "begin" hook (`probe.store.db`).
lock_wait_ms: ContextVar[int | None] = ContextVar("probe_lock_wait_ms", default=None)


def is_locked(exc: sqlalchemy.exc.OperationalError) -> bool:
    """Whether SQLite refused for another connection's lock ("database is locked")."""
    return "database is locked" in str(exc.orig)


class StoreCalls:
    """Awaitable store calls for one run; `close()` when the run is done."""

    def __init__(self, store: Any) -> None:
        self.inline: bool = store.embedded
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="probe-store")
        self.handed_over = 0  # calls that found the database locked and went to the thread

    async def __call__(self, fn: Callable[..., T], *args: Any) -> T:
        """`fn(*args)`, here (SQLite, unless locked) or in the store thread."""
        if self.inline:
            token = lock_wait_ms.set(INLINE_LOCK_WAIT_MS)
            try:
                return fn(*args)
            except sqlalchemy.exc.OperationalError as exc:
                if not is_locked(exc):
                    raise
                self.handed_over += 1
            finally:
                lock_wait_ms.reset(token)
        return await asyncio.get_running_loop().run_in_executor(self._thread, fn, *args)

    def close(self) -> None:
        """Wait for a call still in the thread, then stop it."""
        self._thread.shutdown(wait=True)
