"""Politeness per host: few connections at once and a pause between request starts.

Provincial portals often run on one small server shared by dozens of agencies; the
probe must never be the reason one of them falls over. The delay is the larger of the
run's `min_delay`, the site's robots Crawl-delay and any Retry-After it sent, the last
two clamped to `max_crawl_delay` so one site cannot stall a run.
"""

from __future__ import annotations

import asyncio
import time
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass

from probe.settings import Settings


@dataclass(slots=True)
class _Host:
    semaphore: asyncio.Semaphore
    delay: float
    next_start: float = 0.0  # monotonic time before which no new request may start


class HostGate:
    """Per-host concurrency and spacing; one per run (or per portal when not shared)."""

    def __init__(self, settings: Settings) -> None:
        self._concurrency = max(1, settings.per_host_concurrency)
        self._min_delay = max(0.0, settings.min_delay)
        self._max_delay = max(self._min_delay, settings.max_crawl_delay)
        self._hosts: dict[str, _Host] = {}

    def _get(self, host: str) -> _Host:
        slot = self._hosts.get(host)
        if slot is None:
            slot = _Host(asyncio.Semaphore(self._concurrency), self._min_delay)
            self._hosts[host] = slot
        return slot

    def clamp(self, seconds: float) -> float:
        """A server-requested wait, bounded to [0, max_crawl_delay]."""
        return min(max(0.0, seconds), self._max_delay)

    def set_crawl_delay(self, host: str, seconds: float | None) -> float:
        """Honour robots Crawl-delay (clamped); returns the delay now in force."""
        slot = self._get(host)
        if seconds is not None:
            slot.delay = max(self._min_delay, self.clamp(seconds))
        return slot.delay

    def back_off(self, host: str, seconds: float) -> None:
        """Retry-After: no new request to `host` before `seconds` (clamped) from now."""
        slot = self._get(host)
        slot.next_start = max(slot.next_start, time.monotonic() + self.clamp(seconds))

    def delay_of(self, host: str) -> float:
        """The spacing currently applied to `host`."""
        return self._get(host).delay

    def slot(self, host: str) -> AbstractAsyncContextManager[None]:
        """Hold one of the host's connections; starts are spaced by its delay."""
        return _Slot(self._get(host))


class _Slot:
    """`HostGate.slot` as a plain class: it is entered once per request, and this costs
    less than half of what a generator-based `asynccontextmanager` does, same effect."""

    __slots__ = ("_entry",)

    def __init__(self, entry: _Host) -> None:
        self._entry = entry

    async def __aenter__(self) -> None:
        entry = self._entry
        await entry.semaphore.acquire()
        try:
            # Reserve a start time synchronously (no await in between), then sleep.
            now = time.monotonic()
            start = max(now, entry.next_start)
            entry.next_start = start + entry.delay
            if start > now:
                await asyncio.sleep(start - now)
        except BaseException:
            entry.semaphore.release()
            raise

    async def __aexit__(self, *exc_info: object) -> None:
        self._entry.semaphore.release()
