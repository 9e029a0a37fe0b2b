"""The portal digest (`probe.memo`): what decides whether last night's findings stand."""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import UTC, datetime

from checks.engine import CheckOptions
from checks.ruleset import load_ruleset
from probe.artifacts import FetchFailure, Link, Page, PortalArtifacts
from probe.memo import RunKey, portal_digest
from probe.settings import Settings

NOW = datetime(2026, 11, 26, 2, 0, tzinfo=UTC)
ROOT = "http://stp.quangbinh.gov.vn/"


def _site() -> PortalArtifacts:
    pages = tuple(
        Page(url=f"{ROOT}Pages/{slug}.aspx" if slug else ROOT, final_url="", status=200,
             content_type="text/html", charset="utf-8", depth=0 if not slug else 1 + i % 2,
             content_hash=f"{i:064x}")
        for i, slug in enumerate(("", "gioi-thieu", "van-ban", "thu-tuc-hanh-chinh", "lien-he"))
    )  # fmt: skip
    documents = tuple(
        Link(url=f"{ROOT}Documents/{name}.doc", text=name, is_document=True)
        for name in ("18-2015-qd-ubnd", "to-khai-ly-lich-tu-phap", "bieu-mau-01")
    )
    failures = (
        FetchFailure(f"{ROOT}Pages/hoi-dap.aspx", "http_status", "HTTP 500", 500),
        FetchFailure(f"{ROOT}_layouts/x.aspx", "robots", "disallowed by robots.txt"),
    )
    return PortalArtifacts(
        agency_id="so-tu-phap", agency_level="department", url=ROOT, now=NOW, final_url=ROOT,
        pages=pages, failures=failures, document_links=documents,
    )  # fmt: skip


def _key() -> RunKey:
    return RunKey(load_ruleset("nd43-2011"), CheckOptions.from_settings(Settings()))


def test_the_order_pages_came_back_in_does_not_change_the_digest() -> None:
    """Pages are fetched concurrently, so one portal is listed in another order on
    another night; its findings must still be reused."""
    site, key = _site(), _key()
    expected = portal_digest(site, key)
    for seed in range(10):
        r = random.Random(seed)
        rest, docs, fails = list(site.pages[1:]), list(site.document_links), list(site.failures)
        for items in (rest, docs, fails):
            r.shuffle(items)
        other = replace(
            site, pages=(site.pages[0], *rest), document_links=tuple(docs), failures=tuple(fails)
        )
        assert portal_digest(other, key) == expected


def test_what_the_pages_are_still_changes_the_digest() -> None:
    site, key = _site(), _key()
    expected = portal_digest(site, key)
    home, first, *rest = site.pages
    changed = (
        replace(site, pages=(home, replace(first, content_hash="f" * 64), *rest)),
        replace(site, pages=(home, replace(first, depth=3), *rest)),
        replace(site, pages=(home, *rest)),
        replace(site, failures=site.failures[:1]),
        replace(site, document_links=site.document_links[1:]),
        replace(site, document_links=(replace(site.document_links[0], text="khác"),
                                      *site.document_links[1:])),
    )  # fmt: skip
    digests = [portal_digest(other, key) for other in changed]
    assert expected not in digests and len(set(digests)) == len(digests)
