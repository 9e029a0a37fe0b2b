"""Retention with coarse touches: `last_seen_at` of bodies and parses is rewritten only when
older than `TOUCH_SLACK`, and pruning allows for it. A page seen every night is never
pruned, one no longer seen goes within retention + slack, and a touch within the slack
rewrites nothing (the point: most nights write no body or parse row)."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

import pytest
import sqlalchemy as sa

from probe.artifacts import PortalArtifacts
from probe.store import Store
from probe.store.blobs import TOUCH_SLACK
from probe.store.models import Blob, ParsedPage
from probe.store.pagecodec import parsed_key
from tests.store.conftest import Clock, body_of, make_site, sha

URL = "http://lethuy.test/"
NIGHTS = 60
# Days: shorter and longer than the slack (a naive cutoff would prune a page seen nightly
# under the first), and short enough that a test covers several retentions.
RETENTIONS = [1, 10]
HOME, ABOUT = body_of("Trang chủ " * 40), body_of("Giới thiệu")


def _seen(store: Store) -> dict[str, tuple[datetime, bool]]:
    """`{body hash or parse key: (last_seen_at, kept)}` over both tables."""
    with store.session() as s:
        blobs = s.execute(sa.select(Blob.sha256, Blob.last_seen_at, Blob.data.is_not(None)))
        parses = s.execute(sa.select(ParsedPage.key, ParsedPage.last_seen_at))
        return {k: (t, bool(kept)) for k, t, kept in blobs} | {k: (t, True) for k, t in parses}


def _night(store: Store, site: PortalArtifacts, *, not_modified: bool) -> None:
    """One night's save of `site`: 200s with the bodies, or 304s served from the cache."""
    keys = {parsed_key(p.url, p.content_hash) for p in site.pages}
    if not_modified:
        pages = tuple(replace(p, not_modified=True) for p in site.pages)
        site = replace(site, pages=pages, bodies={})
    run = store.start_run("scheduled", "nd43-2011", 1, {}, 1)
    store.save_portal(run, site, [], 1.0, cached_parses=keys if not_modified else set())


def _names(site: PortalArtifacts) -> set[str]:
    return {sha(HOME), sha(ABOUT)} | {parsed_key(p.url, p.content_hash) for p in site.pages}


@pytest.mark.parametrize("retention", RETENTIONS)
def test_a_page_seen_every_night_is_never_pruned(
    store: Store, clock: Clock, retention: int
) -> None:
    site = make_site(URL, bodies={"": HOME, "gt": ABOUT}, etag='"v1"')
    _night(store, site, not_modified=False)
    rewrites = 0
    last = _seen(store)
    for night in range(1, NIGHTS):
        # Nightly, at a time that wanders by hours; 304s most nights, 200s every fifth.
        clock.advance(timedelta(days=1, hours=(-3, 4, -1, 2)[night % 4]))
        _night(store, site, not_modified=night % 5 != 0)
        assert store.prune_bodies(retention) == 0
        now = _seen(store)
        assert set(now) == _names(site) and all(kept for _t, kept in now.values())
        assert all(clock.now - t < TOUCH_SLACK + timedelta(days=1) for t, _ in now.values())
        rewrites += sum(now[k][0] != last[k][0] for k in now)
        last = now
    nights_per_rewrite = (NIGHTS - 1) * len(last) / rewrites
    assert nights_per_rewrite >= TOUCH_SLACK.days  # not every night: once a slack at most


@pytest.mark.parametrize("retention", RETENTIONS)
def test_a_page_no_longer_seen_is_pruned_within_retention_and_slack(
    store: Store, clock: Clock, retention: int
) -> None:
    site = make_site(URL, bodies={"": HOME, "gt": ABOUT}, etag='"v1"')
    _night(store, site, not_modified=False)
    for _ in range(TOUCH_SLACK.days - 1):  # seen on nights that touch nothing
        clock.advance(timedelta(days=1))
        _night(store, site, not_modified=True)
    last_sighting = clock.now
    assert _seen(store)[sha(HOME)][0] < last_sighting  # it lags the last sighting
    other = make_site("http://khac.test/", bodies={"": body_of("khác")}, etag='"k"')
    while True:  # nightly runs that no longer see it, each followed by retention
        clock.advance(timedelta(days=1))
        _night(store, other, not_modified=False)
        pruned = store.prune_bodies(retention)
        gone = {k for k, (_t, kept) in _seen(store).items() if not kept} | (
            _names(site) - set(_seen(store))
        )
        if pruned:
            break
        assert not gone
    assert gone == _names(site)  # bodies cleared and parses deleted together
    assert clock.now - last_sighting > timedelta(days=retention)  # never early
    assert clock.now - last_sighting <= timedelta(days=retention) + TOUCH_SLACK
    assert store.load_body(sha(HOME)) is None
    assert store.load_body(sha(body_of("khác"))) is not None


@pytest.mark.parametrize("not_modified", [True, False], ids=["304s", "200s"])
def test_a_sighting_within_the_slack_rewrites_nothing(
    store: Store, clock: Clock, not_modified: bool
) -> None:
    site = make_site(URL, bodies={"": HOME, "gt": ABOUT}, etag='"v1"')
    _night(store, site, not_modified=False)
    before = _seen(store)
    statements: list[str] = []
    sa.event.listen(
        store.engine,
        "before_cursor_execute",
        lambda _c, _cur, sql, *_a: statements.append(sql),
    )
    clock.advance(TOUCH_SLACK - timedelta(minutes=1))
    _night(store, site, not_modified=not_modified)
    assert _seen(store) == before  # last_seen_at unchanged in both tables
    if not not_modified:  # with bodies, found by a SELECT and not updated at all
        touched = [s for s in statements if s.lstrip().upper().startswith("UPDATE")]
        assert not [s for s in touched if "blob" in s or "parsed_page" in s]
    clock.advance(timedelta(minutes=2))  # past the slack: the next sighting touches
    _night(store, site, not_modified=not_modified)
    assert all(t == clock.now for t, _kept in _seen(store).values())


def test_a_retention_of_zero_days_keeps_nothing(store: Store, clock: Clock) -> None:
    site = make_site(URL, bodies={"": HOME, "gt": ABOUT}, etag='"v1"')
    _night(store, site, not_modified=False)
    clock.advance(timedelta(seconds=1))
    assert store.prune_bodies(0) == 2
    assert set(_seen(store)) == {sha(HOME), sha(ABOUT)}  # parses deleted, bodies cleared
    assert store.validators_with_parses(URL) == {}
