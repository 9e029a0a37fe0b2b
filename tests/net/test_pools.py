"""The per-origin pools behind `build_client`: routing, idle closing, the guard on each."""

from __future__ import annotations

import asyncio
import ssl

import httpx
import pytest

from probe.net.client import ENGINES, build_client, guarded_transport, ssl_context
from probe.net.guard import RefusedAddress
from probe.net.pools import OriginRouter
from probe.settings import ConnectTo, Settings
from tests.net.net_faults import FaultServer


def _router(settings: Settings, idle_after: float) -> OriginRouter:
    context: ssl.SSLContext = ssl_context(settings)
    limits = httpx.Limits(max_connections=4, max_keepalive_connections=2)
    return OriginRouter(lambda: guarded_transport(settings, context, limits), idle_after=idle_after)


def test_each_origin_gets_its_own_pool_and_idle_pools_are_closed(
    settings: Settings, server: FaultServer
) -> None:
    async def go() -> tuple[list[int], int, int, int]:
        router = _router(settings, idle_after=0.0)
        async with httpx.AsyncClient(transport=router) as client:
            statuses = [
                (await client.get(url)).status_code
                for url in ("http://site.test/", "http://site.test/tin-tuc", "http://e500.test/")
            ]
            opened = router.origins
            async with client.stream("GET", "http://site.test/gioi-thieu") as response:
                # A body still being read keeps its pool open.
                busy = await router.close_idle()
                await response.aread()
            after = await router.close_idle()
        return statuses, opened, busy, after

    statuses, opened, busy, after = asyncio.run(go())
    assert statuses == [200, 200, 500]
    assert opened == 2  # site.test and e500.test, the two site.test pages share one
    assert busy == 1  # e500.test closed; site.test had a body in flight
    assert after == 1
    assert server.hits  # the requests really reached the server


def test_a_failed_request_releases_its_origin(settings: Settings) -> None:
    async def go() -> tuple[type[BaseException], int, int]:
        router = _router(settings.with_(connect_to=(ConnectTo("", None, "127.0.0.1", 1),)), 0.0)
        async with httpx.AsyncClient(transport=router) as client:
            with pytest.raises(httpx.ConnectError) as failed:
                await client.get("http://nowhere.test/")
            return failed.type, router.origins, await router.close_idle()

    kind, opened, closed = asyncio.run(go())
    assert kind is httpx.ConnectError
    assert (opened, closed) == (1, 1)


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("host", ["site.test", "other.test"])
def test_every_origin_pool_keeps_the_address_guard(
    settings: Settings, server: FaultServer, host: str, engine: str
) -> None:
    """Without --allow-private, a name aimed at loopback is refused on every origin."""
    guarded = settings.with_(allow_private=False)

    async def go() -> str:
        async with build_client(guarded, engine=engine) as client:
            with pytest.raises(RefusedAddress) as refused:
                await client.get(f"http://{host}/")
            return str(refused.value)

    message = asyncio.run(go())
    assert "loopback" in message
    assert not server.hits


def test_httpx_engine_routes_through_an_origin_router(settings: Settings) -> None:
    async def go() -> tuple[int, int]:
        async with build_client(settings, engine="httpx") as client:
            router = client._transport
            assert isinstance(router, OriginRouter)
            await client.get("http://site.test/")
            await client.get("http://site.test/gioi-thieu")
            await client.get("http://e500.test/")
            return router.origins, await router.close_idle()

    origins, closed = asyncio.run(go())
    assert origins == 2
    assert closed == 0  # the run's idle limit (15 s) has not passed
