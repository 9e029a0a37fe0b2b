"""Fixtures for the network tests: one fault server per session, settings aimed at it."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

from probe.artifacts import PortalArtifacts
from probe.net.client import build_client
from probe.net.crawl import crawl_portal
from probe.net.fetch import FetchResult, fetch
from probe.settings import ConnectTo, Settings
from tests.net.faultserver import FaultServer

NOW = datetime(2026, 11, 25, 2, 0, tzinfo=UTC)


@pytest.fixture(scope="session")
def fault_server() -> Iterator[FaultServer]:
    server = FaultServer().start()
    yield server
    server.stop()


@pytest.fixture
def server(fault_server: FaultServer) -> FaultServer:
    fault_server.hits.clear()
    fault_server.seen_headers.clear()
    return fault_server


@pytest.fixture
def settings(server: FaultServer) -> Settings:
    """Every host goes to the fault server; small timeouts so faults end quickly."""
    return Settings().with_(
        allow_private=True,
        connect_to=(ConnectTo("", None, "127.0.0.1", server.port),),
        min_delay=0.0,
        max_crawl_delay=0.05,
        connect_timeout=1.0,
        read_timeout=0.5,
        portal_deadline=10.0,
        max_body_bytes=1024 * 1024,
        extra={"retry_backoff": "0.01"},
    )


def run_fetch(settings: Settings, url: str, **kwargs: Any) -> FetchResult:
    async def go() -> FetchResult:
        async with build_client(settings) as client:
            kwargs.setdefault("backoff", 0.01)
            return await fetch(client, url, settings=settings, **kwargs)

    return asyncio.run(go())


def run_crawl(settings: Settings, url: str, **kwargs: Any) -> PortalArtifacts:
    async def go() -> PortalArtifacts:
        async with build_client(settings) as client:
            return await crawl_portal(
                client, url, agency_id="a", agency_level="district", settings=settings,
                now=NOW, **kwargs,
            )  # fmt: skip

    return asyncio.run(go())
