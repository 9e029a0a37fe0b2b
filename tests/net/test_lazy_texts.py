"""A night over unchanged portals decompresses no page text, and still judges as night 1.

Real parts only: the demo portals on loopback, the crawler, the checks and a SQLite file.
Night 2 rebuilds every 304 page from the parse cache and, its inputs being unchanged,
reuses the content checks' findings; only the volatile checks run, and none of them, nor
the crawl or the store, reads a text, so no cached page's text part should be opened.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from checks.ruleset import load_ruleset
from probe.demo.server import DemoServer
from probe.registry import Target, load_registry
from probe.runner import RunSummary, execute_run
from probe.settings import CONFIG_DIR
from probe.store import pagecodec
from probe.store.db import open_store
from tests.net.conftest import demo_settings

AGENCIES = ("thi-xa-ba-don", "so-tu-phap")


def _run(store: Any, settings: Any) -> RunSummary:
    registry = load_registry(CONFIG_DIR / "portals.toml")
    targets = [Target(a, tuple(a.portals)) for a in registry.agencies if a.id in AGENCIES]
    assert len(targets) == len(AGENCIES)
    run = execute_run(
        targets, settings=settings, store=store, ruleset=load_ruleset("nd43-2011"),
        trigger="manual",
    )  # fmt: skip
    return asyncio.run(run)


def _judged(summary: RunSummary) -> dict[str, list[tuple[object, ...]]]:
    # availability's message and evidence carry tonight's response time
    return {
        p.url: [(f.check, f.status, f.evidence if f.check != "availability" else ())
                for f in p.findings]
        for p in summary.portals
    }  # fmt: skip


def test_unchanged_night_opens_no_text(
    demo: DemoServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = demo_settings(demo, tmp_path / "lazy.sqlite")
    store = open_store(settings.db_url)
    first = _run(store, settings)
    assert {p.outcome for p in first.portals} == {"checked"}

    decoded: list[str] = []
    opened: list[str] = []
    real_decode, real_fill = pagecodec.decode_page, pagecodec._fill

    def counting_decode(data: bytes, **kwargs: Any) -> Any:
        page = real_decode(data, **kwargs)
        decoded.append(page.url if page is not None else "")
        return page

    def counting_fill(page: Any) -> None:
        opened.append(page.url)
        real_fill(page)

    monkeypatch.setattr("probe.net.crawl.decode_page", counting_decode)
    monkeypatch.setattr(pagecodec, "_fill", counting_fill)
    second = _run(store, settings)
    assert decoded and "" not in decoded  # every 304 page came from the cache
    assert opened == []
    assert _judged(second) == _judged(first)
