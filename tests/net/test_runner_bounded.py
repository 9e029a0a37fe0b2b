"""A run over many portals holds only the portals in flight, not a task per portal.

Forty agencies whose portals refuse connections (port 1 on loopback, answered at once by
the kernel) run at two portals in flight: at any moment the run has a handful of tasks,
and every portal still gets its stored outcome and its agency's findings.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from checks.ruleset import load_ruleset
from probe.registry import Agency, PortalEntry, Target
from probe.runner import execute_run
from probe.settings import Settings
from probe.store.db import open_store

PORTALS = 40


def test_only_portals_in_flight_exist_as_tasks(tmp_path: Path) -> None:
    settings = Settings().with_(
        db_url=f"sqlite:///{tmp_path / 'bounded.sqlite'}",
        allow_private=True,
        portal_concurrency=2,
        retries=1,
        min_delay=0.0,
    )
    store = open_store(settings.db_url)
    targets = [
        Target(
            Agency(
                f"a{i:02d}",
                f"Cơ quan {i}",
                "department",
                (PortalEntry(f"http://127.0.0.{i + 1}:1/"),),
            ),
            (f"http://127.0.0.{i + 1}:1/",),
        )
        for i in range(PORTALS)
    ]
    seen: list[int] = []

    async def main() -> object:
        return await execute_run(
            targets,
            settings=settings,
            store=store,
            ruleset=load_ruleset("nd43-2011"),
            trigger="manual",
            on_portal=lambda _report: seen.append(len(asyncio.all_tasks())),
            keep_reports=False,
        )

    summary = asyncio.run(main())
    assert len(seen) == PORTALS and summary.failed == PORTALS  # type: ignore[attr-defined]
    # A few run-wide tasks (main, the feeder, the stop watcher, the heartbeat, the HTTP
    # client's own) and at most two portals: never one per portal of the registry.
    assert max(seen) <= 8 < PORTALS, seen
    assert len(summary.agencies) == PORTALS  # type: ignore[attr-defined]
