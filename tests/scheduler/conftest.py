"""Scheduler fixtures: tiny portals on 127.0.0.1 (real HTTP), real stores."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sched_helpers import PortalServer, serve_portals


@pytest.fixture
def portals() -> Iterator[PortalServer]:
    """Fast portals."""
    yield from serve_portals(0.0)


@pytest.fixture
def slow_portals() -> Iterator[PortalServer]:
    """Every page takes 0.4 s, so a run lasts long enough to overlap or be interrupted."""
    yield from serve_portals(0.4)
