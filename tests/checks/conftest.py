"""Builders of `PortalArtifacts` from small HTML snippets, through the real extractor.

Check tests describe a portal the way an inspector sees it (a home page, a few linked
pages, some URLs that failed) and get artifacts built by `probe.extract.parse_page`, the
same code the crawler uses, so a check is never tested against a shape extraction would
not produce.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import Any

import pytest

from probe.artifacts import FetchFailure, Page, PortalArtifacts, Reason, RobotsInfo
from probe.extract import parse_page

HOME = "http://portal.test/"
NOW = datetime(2024, 11, 25, 2, 0, tzinfo=UTC)

PageSpec = tuple[str, str] | tuple[str, str, int] | Page


def build_page(html: str, url: str = HOME, status: int = 200, **fetch_fields: Any) -> Page:
    """One page as the crawler would store it: parsed once by `parse_page`."""
    return parse_page(html, url=url, final_url=url, status=status, **fetch_fields)


def build_site(
    pages: Iterable[PageSpec],
    *,
    level: str = "district",
    failures: Iterable[FetchFailure | tuple[str, str] | tuple[str, str, int]] = (),
    outcome: str = "checked",
    reason: Reason | None = None,
    now: datetime = NOW,
    robots: RobotsInfo | None = None,
    **fields: Any,
) -> PortalArtifacts:
    """A crawled portal: `pages` are ``(url, html[, status])`` or `Page`, home page first.

    `failures` are `FetchFailure` or ``(url, code[, status])``: what the crawler tried and
    could not get (``robots``, ``timeout``, ``http_status`` …).
    """
    built: list[Page] = []
    for spec in pages:
        if isinstance(spec, Page):
            built.append(spec)
        elif len(spec) == 3:
            built.append(build_page(spec[1], spec[0], spec[2]))
        else:
            built.append(build_page(spec[1], spec[0]))
    fails: list[FetchFailure] = []
    for f in failures:
        if isinstance(f, FetchFailure):
            fails.append(f)
        else:
            status = f[2] if len(f) == 3 else 0
            fails.append(FetchFailure(url=f[0], code=f[1], message=f[1], status=status))
    url = built[0].url if built else HOME
    return PortalArtifacts(
        agency_id=fields.pop("agency_id", "test-agency"),
        agency_level=level,
        url=url,
        now=now,
        outcome=outcome,
        reason=reason,
        final_url=url,
        pages=tuple(built),
        failures=tuple(fails),
        robots=robots,
        **fields,
    )


@pytest.fixture
def make_page() -> Callable[..., Page]:
    """`build_page` as a fixture."""
    return build_page


@pytest.fixture
def make_site() -> Callable[..., PortalArtifacts]:
    """`build_site` as a fixture."""
    return build_site


def content_page(title: str, body: str = "") -> str:
    """A plain content page with some real text, as a section target should be."""
    text = body or f"{title}. Nội dung chi tiết của chuyên mục được cập nhật thường xuyên."
    return f"<html><head><title>{title}</title></head><body><h1>{title}</h1><p>{text}</p></body></html>"


@pytest.fixture
def make_content_page() -> Callable[..., str]:
    """`content_page` as a fixture."""
    return content_page
