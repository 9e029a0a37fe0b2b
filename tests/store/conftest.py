"""Store fixtures: a real database per test and hand-built artifacts and findings."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import pytest

from checks.base import Evidence, Finding, Status
from probe.artifacts import FetchFailure, Page, PortalArtifacts, Reason
from probe.store import Store, open_store, repo

NOW = datetime(2026, 11, 25, 2, 0, tzinfo=UTC)


@pytest.fixture
def db_url(any_db_url: str) -> str:
    """SQLite in tmp_path always; PostgreSQL (fresh schema) when configured."""
    return any_db_url


@pytest.fixture
def store(db_url: str) -> Iterator[Store]:
    """A migrated store, closed after the test."""
    with open_store(db_url) as s:
        yield s


@dataclass
class Clock:
    """The store's clock in a test: `NOW` until moved."""

    now: datetime = NOW

    def __call__(self) -> datetime:
        return self.now

    def advance(self, by: timedelta) -> datetime:
        self.now += by
        return self.now


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    """The store's clock (`repo.utcnow`: saves, touches and default prunes), injected."""
    c = Clock()
    monkeypatch.setattr(repo, "utcnow", c)
    return c


@dataclass
class FakeAgency:
    """A registry agency as `sync_registry` reads it (the real one needs a TOML file)."""

    id: str
    name: str
    level: str = "district"
    name_en: str = ""
    province: str = "Quảng Bình"
    active: bool = True
    portals: list[str] = field(default_factory=list)


def body_of(text: str) -> bytes:
    """An HTML body as bytes."""
    return f"<html><body><p>{text}</p></body></html>".encode()


def sha(body: bytes) -> str:
    """sha256 hex of a body."""
    return hashlib.sha256(body).hexdigest()


def make_page(url: str, body: bytes, *, etag: str = "", depth: int = 0) -> Page:
    """A fetched 200 page whose content hash is its body's."""
    return Page(
        url=url,
        final_url=url,
        status=200,
        content_type="text/html; charset=utf-8",
        fetched_at=NOW,
        elapsed_ms=12.5,
        depth=depth,
        etag=etag,
        last_modified="Tue, 24 Nov 2026 10:00:00 GMT" if etag else "",
        content_hash=sha(body),
        size=len(body),
        title="Cổng thông tin",
        text=body.decode(),
    )


def make_site(
    url: str,
    agency_id: str = "huyen-le-thuy",
    *,
    bodies: dict[str, bytes] | None = None,
    outcome: str = "checked",
    failures: tuple[FetchFailure, ...] = (),
    etag: str = "",
) -> PortalArtifacts:
    """A crawled portal: one page per body (first is home), or a failed crawl."""
    bodies = bodies or {}
    if outcome != "checked":
        return PortalArtifacts(
            agency_id=agency_id,
            agency_level="district",
            url=url,
            now=NOW,
            outcome=outcome,
            reason=Reason("connect_error", "Không kết nối được / could not connect"),
            failures=failures or (FetchFailure(url, "unreachable", "connection refused"),),
        )
    pages = tuple(
        make_page(f"{url}{path}", body, etag=etag, depth=0 if i == 0 else 1)
        for i, (path, body) in enumerate(bodies.items())
    )
    return PortalArtifacts(
        agency_id=agency_id,
        agency_level="district",
        url=url,
        now=NOW,
        final_url=url,
        pages=pages,
        failures=failures,
        bodies={sha(b): b for b in bodies.values()},
    )


def make_finding(check: str, status: Status, url: str, text: str = "") -> Finding:
    """A finding with one piece of evidence and some details."""
    return Finding(
        check=check,
        status=status,
        message={"vi": f"Mục {check}", "en": f"Item {check}"},
        evidence=(Evidence(url, text or f"bằng chứng {check}"),),
        details={"newest": NOW.date(), "count": 3},
        weight=2.0,
    )
