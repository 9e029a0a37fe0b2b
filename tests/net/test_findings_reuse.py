"""An unchanged portal is not re-judged: last night's findings stand, except volatile ones.

Real parts only (demo portals on loopback, the crawler, the checks, a SQLite file). To see
that a finding was reused rather than recomputed, the test edits the stored message of a
first-night finding: the second night shows the edit only where it reused the finding.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from sqlalchemy import update

from checks.base import REGISTRY, Status
from checks.engine import CheckOptions
from checks.ruleset import load_ruleset
from probe.demo.server import DemoServer
from probe.registry import Target, load_registry
from probe.runner import RunSummary, execute_run
from probe.settings import CONFIG_DIR, Settings
from probe.store.db import open_store
from probe.store.models import FindingRecord
from tests.net.conftest import demo_settings

AGENCY = "so-tu-phap"
MARK = "REUSED FROM LAST NIGHT"


def _run(settings: Settings, store: object) -> RunSummary:
    registry = load_registry(CONFIG_DIR / "portals.toml")
    agency = next(a for a in registry.agencies if a.id == AGENCY)
    return asyncio.run(
        execute_run(
            [Target(agency, tuple(agency.portals))],
            settings=settings,
            store=store,
            ruleset=load_ruleset("nd43-2011"),
            trigger="manual",
        )
    )


def _mark_all(store: object) -> None:
    with store.engine.begin() as conn:  # type: ignore[attr-defined]
        conn.execute(update(FindingRecord).values(message_en=MARK))


def _by_check(summary: RunSummary) -> dict[str, object]:
    (portal,) = summary.portals
    return {f.check: f for f in portal.findings}


def _volatile(check_id: str) -> bool:
    family = next(
        (
            c
            for c in REGISTRY.values()
            if check_id == c.meta.id or check_id.startswith(c.meta.id + ".")
        ),
        None,
    )
    return family is not None and family.meta.volatile


def test_unchanged_portal_reuses_all_but_volatile_findings(
    demo: DemoServer, tmp_path: Path
) -> None:
    settings = demo_settings(demo, tmp_path / "reuse.sqlite")
    store = open_store(settings.db_url)
    first = _run(settings, store)
    assert first.portals[0].outcome == "checked"
    _mark_all(store)

    second = _by_check(_run(settings, store))
    reused = {cid for cid, f in second.items() if f.message["en"] == MARK}
    fresh = set(second) - reused
    assert {"licence", "footer.owner", "services.level"} <= reused
    assert any(cid.startswith("section.") for cid in reused)
    # Clock- and timing-dependent families are judged again every night.
    assert {"freshness", "availability"} <= fresh
    assert all(_volatile(cid) for cid in fresh if second[cid].status is not Status.NA), fresh
    # The same judgements as the first night, whether reused or recomputed.
    assert {c: f.status for c, f in second.items()} == {
        c: f.status for c, f in _by_check(first).items()
    }


def test_changed_options_judge_again(demo: DemoServer, tmp_path: Path) -> None:
    db = tmp_path / "options.sqlite"
    store = open_store(f"sqlite:///{db}")
    _run(demo_settings(demo, db), store)
    _mark_all(store)
    changed = demo_settings(demo, db, freshness_warn_days=5, freshness_fail_days=10)
    assert CheckOptions.from_settings(changed) != CheckOptions.from_settings(
        demo_settings(demo, db)
    )
    second = _by_check(_run(changed, store))
    assert not [cid for cid, f in second.items() if f.message["en"] == MARK]


def test_changed_page_judges_again(demo: DemoServer, tmp_path: Path) -> None:
    db = tmp_path / "changed.sqlite"
    settings = demo_settings(demo, db)
    store = open_store(settings.db_url)
    _run(settings, store)
    _mark_all(store)
    # Fewer pages crawled: the inputs differ, so nothing of last night is taken.
    smaller = settings.with_(max_pages=3)
    second = _by_check(_run(smaller, store))
    assert not [cid for cid, f in second.items() if f.message["en"] == MARK]
