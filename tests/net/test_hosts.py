"""HostGate: per-host concurrency, spacing between starts, Retry-After, cancellation."""

from __future__ import annotations

import asyncio
import time

from probe.net.hosts import HostGate
from probe.settings import Settings

SLACK = 0.002  # the event loop may fire a timer up to its clock resolution early


def test_concurrency_is_bounded_per_host() -> None:
    gate = HostGate(Settings().with_(per_host_concurrency=2, min_delay=0.0))
    inside: dict[str, int] = {"a": 0, "b": 0}
    peak: dict[str, int] = {"a": 0, "b": 0}

    async def request(host: str) -> None:
        async with gate.slot(host):
            inside[host] += 1
            peak[host] = max(peak[host], inside[host])
            await asyncio.sleep(0.01)
            inside[host] -= 1

    async def go() -> None:
        await asyncio.gather(*(request(h) for h in "aaaaabbb"))

    asyncio.run(go())
    assert peak == {"a": 2, "b": 2}


def test_starts_are_spaced_by_the_delay_and_retry_after() -> None:
    gate = HostGate(Settings().with_(per_host_concurrency=4, min_delay=0.03, max_crawl_delay=1.0))
    starts: list[float] = []

    async def request() -> None:
        async with gate.slot("a"):
            starts.append(time.monotonic())

    async def go() -> tuple[float, float]:
        began = time.monotonic()
        await asyncio.gather(*(request() for _ in range(3)))
        gate.back_off("a", 0.1)
        asked = time.monotonic()
        await request()
        return began, asked

    began, asked = asyncio.run(go())
    assert len(starts) == 4
    # The gate spaces the start times it grants, counted from the first; a loaded loop
    # may resume the first request late, so gaps between resumptions can be shorter.
    since = [t - began for t in starts[:3]]
    assert all(s >= i * 0.03 - SLACK for i, s in enumerate(since)), since
    assert starts[3] - asked >= 0.1 - SLACK


def test_a_cancelled_wait_gives_its_place_back() -> None:
    gate = HostGate(Settings().with_(per_host_concurrency=1, min_delay=5.0, max_crawl_delay=5.0))

    async def go() -> bool:
        async with gate.slot("a"):
            pass  # the next start is now 5 s away
        waiting = asyncio.create_task(gate.slot("a").__aenter__())
        await asyncio.sleep(0.01)
        waiting.cancel()
        await asyncio.gather(waiting, return_exceptions=True)
        # The cancelled wait held the host's only connection; it must have released it.
        return not gate._get("a").semaphore.locked()

    assert asyncio.run(go())
