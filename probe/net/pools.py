"""One small connection pool per origin, so a request never scans other portals' sockets.

httpcore's `AsyncConnectionPool` walks every connection it holds on each request and on
each response close (and its idle-count test inside that walk is quadratic). With one
pool for the whole run, 32 portals in flight at 4 connections each plus the finished
portals' keep-alive sockets made that walk 29 % of the crawl's CPU. A portal only ever
talks to one or two origins, so a pool per origin holds a handful of connections and the
walk is constant. Pools of origins nobody has used for `idle_after` seconds are closed,
so a run over thousands of portals does not keep thousands of pools.

Every pool is built by the same factory (`client.guarded_transport`), so each one
connects through the same `GuardedBackend` and SSL context: the address guard is applied
at connect time exactly as with a single pool.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field

import httpx


@dataclass(slots=True)
class _Route:
    transport: httpx.AsyncBaseTransport
    in_flight: int = 0
    idle_since: float = field(default_factory=time.monotonic)


class _ReleasingStream(httpx.AsyncByteStream):
    """A response body that tells the router when its request is over (closed once)."""

    def __init__(self, inner: httpx.AsyncByteStream, release: Callable[[], None]) -> None:
        self._inner = inner
        self._release: Callable[[], None] | None = release

    async def __aiter__(self) -> AsyncIterator[bytes]:
        async for chunk in self._inner:
            yield chunk

    async def aclose(self) -> None:
        try:
            await self._inner.aclose()
        finally:
            if self._release is not None:
                release, self._release = self._release, None
                release()


class OriginRouter(httpx.AsyncBaseTransport):
    """Route each request to its origin's own transport, made on first use by `factory`."""

    def __init__(
        self, factory: Callable[[], httpx.AsyncBaseTransport], *, idle_after: float
    ) -> None:
        self._factory = factory
        self._idle_after = max(0.0, idle_after)
        self._routes: dict[tuple[bytes, bytes, int | None], _Route] = {}
        self._next_sweep = time.monotonic() + self._idle_after

    @property
    def origins(self) -> int:
        """How many origin pools are open (for tests and diagnostics)."""
        return len(self._routes)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        url = request.url
        key = (url.raw_scheme, url.raw_host, url.port)
        now = time.monotonic()
        if now >= self._next_sweep:
            await self.close_idle(now)
        route = self._routes.get(key)
        if route is None:
            route = self._routes[key] = _Route(self._factory())
        route.in_flight += 1

        def release() -> None:
            route.in_flight -= 1
            route.idle_since = time.monotonic()

        try:
            response = await route.transport.handle_async_request(request)
        except BaseException:
            release()
            raise
        assert isinstance(response.stream, httpx.AsyncByteStream)
        response.stream = _ReleasingStream(response.stream, release)
        return response

    async def close_idle(self, now: float | None = None) -> int:
        """Close the pools of origins with nothing in flight for `idle_after` seconds."""
        now = time.monotonic() if now is None else now
        self._next_sweep = now + max(1.0, self._idle_after / 2)
        cutoff = now - self._idle_after
        stale = [
            key
            for key, route in self._routes.items()
            if route.in_flight == 0 and route.idle_since <= cutoff
        ]
        # Unlinked before awaiting: a request arriving meanwhile gets a fresh pool.
        closing = [self._routes.pop(key).transport for key in stale]
        for transport in closing:
            await transport.aclose()
        return len(closing)

    async def aclose(self) -> None:
        routes, self._routes = self._routes, {}
        for route in routes.values():
            await route.transport.aclose()
