"""A second night over unchanged portals: conditional requests, stored bodies, same result.

Real parts only: the demo portals on loopback, the crawler, the checks and a SQLite file.
The second run must send If-None-Match / If-Modified-Since for every page it kept, get
304s, rebuild each page from the stored body (read in one query per portal) and reach the
same findings as the first night.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from sqlalchemy import func, select

from checks.ruleset import load_ruleset
from probe.demo.server import DemoServer
from probe.extract import parse_page
from probe.net.decode import decode_body
from probe.registry import Target, load_registry
from probe.runner import RunSummary, execute_run, stored_validators
from probe.settings import CONFIG_DIR, Settings
from probe.store.db import open_store
from probe.store.models import ParsedPage
from probe.store.pagecodec import decode_page
from tests.net.conftest import demo_settings

AGENCIES = ("thi-xa-ba-don", "so-tu-phap")


def _targets() -> list[Target]:
    registry = load_registry(CONFIG_DIR / "portals.toml")
    chosen = [a for a in registry.agencies if a.id in AGENCIES]
    assert chosen, f"none of {AGENCIES} in the registry"
    return [Target(a, tuple(a.portals)) for a in chosen]


def _run(settings: Settings, store: object) -> RunSummary:
    return asyncio.run(
        execute_run(
            _targets(),
            settings=settings,
            store=store,
            ruleset=load_ruleset("nd43-2011"),
            trigger="manual",
        )
    )


def test_second_night_uses_stored_bodies(demo: DemoServer, tmp_path: Path) -> None:
    settings = demo_settings(demo, tmp_path / "nights.sqlite")
    store = open_store(settings.db_url)
    first = _run(settings, store)
    assert {p.outcome for p in first.portals} == {"checked"}

    url = first.portals[0].url
    bulk = stored_validators(store, url)
    kept = store.validators_for(url)
    assert bulk and set(bulk) == set(kept)
    for page_url, validator in bulk.items():
        etag, last_modified, content_hash = kept[page_url]
        assert (validator.etag, validator.last_modified) == (etag, last_modified)
        # a 304 stands for the cached parse, or for the body when there is no parse
        assert validator.parsed or validator.body == store.load_body(content_hash)
        assert validator.content_hash == content_hash
        assert "html" in validator.content_type

    second = _run(settings, store)
    results = {r.portal_url: r for r in store.run_results(second.run_id)}
    for report in second.portals:
        stored = results[report.url]
        assert stored.pages, report.url
        assert all(
            p.not_modified for p in stored.pages if p.url in stored_validators(store, report.url)
        )
        assert sum(p.not_modified for p in stored.pages) >= len(stored.pages) - 1
        assert stored.bytes_received < sum(p.size for p in stored.pages) / 4
    before = {p.url: [(f.check, f.status) for f in p.findings] for p in first.portals}
    after = {p.url: [(f.check, f.status) for f in p.findings] for p in second.portals}
    assert after == before


def test_unchanged_pages_are_parsed_once(demo: DemoServer, tmp_path: Path) -> None:
    """Night 1 caches every page's parse; night 2 rebuilds 304 pages from it, the same
    pages and findings as a parse of the stored body would give."""
    settings = demo_settings(demo, tmp_path / "parsed.sqlite")
    store = open_store(settings.db_url)
    first = _run(settings, store)
    url = first.portals[0].url
    validators = stored_validators(store, url)
    assert validators and all(v.parsed and v.content_hash for v in validators.values())
    for page_url, v in validators.items():
        assert not v.body  # the parse stands for it: not read, not decompressed
        body = store.load_body(v.content_hash)
        assert body is not None
        text, charset = decode_body(body, v.content_type)
        fields = {"content_type": v.content_type, "content_hash": v.content_hash}
        parsed = parse_page(
            text, url=page_url, final_url=page_url, status=200, charset=charset,
            size=len(body), **fields,
        )  # fmt: skip
        cached = decode_page(v.parsed, base=page_url, url=page_url, final_url=page_url,
                             status=200, **fields)  # fmt: skip
        assert cached == parsed, page_url

    second = _run(settings, store)
    third = _run(settings, store)  # night 2 wrote nothing new: night 3 reads the same cache
    with store.session() as s:
        assert s.execute(select(func.count()).select_from(ParsedPage)).scalar() == len(
            {(p.url, p.content_hash) for r in store.run_results(first.run_id) for p in r.pages
             if p.content_hash}
        )  # fmt: skip

    def judged(summary: RunSummary) -> dict[str, list[tuple[object, ...]]]:
        # availability's message carries tonight's response time; the rest must match
        return {
            p.url: [(f.check, f.status, f.evidence if f.check != "availability" else ())
                    for f in p.findings]
            for p in summary.portals
        }  # fmt: skip

    assert judged(second) == judged(first)
    assert judged(third) == judged(first)
