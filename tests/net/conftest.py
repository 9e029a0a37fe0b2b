"""Fixtures for the network tests: one fault server per session, settings aimed at it;
the demo portals for the tests of whole runs over several nights."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from probe.demo.server import DemoServer
from probe.settings import ConnectTo, Settings
from tests.net.net_faults import FaultServer


@pytest.fixture(scope="module")
def demo() -> Iterator[DemoServer]:
    """The demo portals on loopback, dated today (their news stays fresh)."""
    with DemoServer(today=datetime.now(UTC).date()) as server:
        yield server


def demo_settings(demo: DemoServer, db: Path, **changes: Any) -> Settings:
    """Settings for a run over the demo portals into the SQLite file `db`."""
    return Settings().with_(
        db_url=f"sqlite:///{db}",
        connect_to=tuple(ConnectTo.parse(c) for c in demo.connect_to),
        allow_private=True,
        min_delay=0.0,
        retry_backoff=0.01,
        **changes,
    )


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
        retry_backoff=0.01,
    )
