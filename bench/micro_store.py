"""CPU of the store's per-portal work on the fleet's pages: night 1 save, night 2 read,
decode and save, optionally against another commit's `probe/store` in the same process.

A fleet run mixes storage with fetch, parse and checks on two shared cores; this isolates
`Store.save_portal` (the runner's writer thread), the runner's read of a portal before
its crawl (`validators_with_parses` and `previous_findings`, or `Store.earlier` doing both)
and `decode_page` so a change to `probe/store` can be judged in seconds. Night 1's bodies
are packed (hashed and compressed) beforehand, as the crawl does, and timed apart
(`night1_pack_ms`: the crawl's share, not the store's). With `--baseline REV`
the `probe/store` package of REV (or only `--baseline-files` of it, the rest from the
working tree) is unpacked under another name and both are measured alternately in each
repeat (medians reported), so machine noise hits both alike; `--check-same` first runs
both on a frozen clock and fails unless their databases hold the same rows (but for
`--ignore-columns`), naming the tables and columns that differ.

    .venv/bin/python bench/micro_store.py [--fleet DIR] [--portals 20] [--repeat 5]
                                          [--baseline REV [--baseline-files a.py,b.py]]
                                          [--check-same [--ignore-columns a,b]]
"""

from __future__ import annotations

import argparse
import hashlib
import importlib
import itertools
import json
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import ModuleType
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from checks.base import Finding  # noqa: E402
from checks.engine import CheckOptions, run_portal_checks  # noqa: E402
from checks.ruleset import load_ruleset  # noqa: E402
from probe.artifacts import Page, PortalArtifacts  # noqa: E402
from probe.extract import parse_page  # noqa: E402
from probe.registry import Agency, PortalEntry  # noqa: E402

NOW = datetime(2026, 11, 26, 2, 0, tzinfo=UTC)
CTYPE = "text/html; charset=utf-8"


@dataclass(frozen=True)
class Portal:
    """One fleet portal as night 1 saw it: the crawl's artifacts and the checks' findings."""

    agency: Agency
    site: PortalArtifacts
    findings: list[Finding]


def load_fleet(fleet: Path, n: int) -> list[Portal]:
    """Parse the first `n` portals' pages as the crawl would and run the checks on them."""
    manifest = json.loads((fleet / "manifest.json").read_text(encoding="utf-8"))
    ruleset = load_ruleset("nd43-2011")
    options = CheckOptions()
    out = []
    for entry in manifest["portals"][:n]:
        root = fleet / "portals" / entry["id"]
        pages: list[Page] = []
        bodies: dict[str, bytes] = {}
        for depth, url in enumerate(entry["pages"]):
            path = url[len(entry["origin"]) :]
            file = root / (path.lstrip("/") + ("index.html" if path.endswith("/") else ""))
            body = file.read_bytes()
            digest = hashlib.sha256(body).hexdigest()
            bodies[digest] = body
            pages.append(
                parse_page(
                    body.decode("utf-8"),
                    url=url,
                    final_url=url,
                    status=200,
                    content_type=CTYPE,
                    charset="utf-8",
                    fetched_at=NOW,
                    elapsed_ms=3.0,
                    depth=min(depth, 1),
                    etag=f'"{digest[:8]}-{len(body):x}"',
                    last_modified="Tue, 24 Nov 2026 10:00:00 GMT",
                    content_hash=digest,
                    size=len(body),
                )
            )
        aid = f"bench-{entry['id']}"
        agency = Agency(
            aid, entry["name"], "province", (PortalEntry(entry["pages"][0]),), province="Bench"
        )
        site = PortalArtifacts(
            aid,
            "province",
            entry["pages"][0],
            NOW,
            final_url=entry["pages"][0],
            pages=tuple(pages),
            bodies=bodies,
        )
        out.append(Portal(agency, site, run_portal_checks(site, ruleset, options)))
    return out


def baseline_package(rev: str, into: Path, files: list[str] | None = None) -> str:
    """Unpack `probe/store` of `rev` as package `probe_store_base`; return its name.

    With `files` (names inside probe/store), only those come from `rev` and the rest from
    the working tree, so one engineer's change is measured apart from others' edits to
    the same package in the same checkout.
    """
    pkg = into / "probe_store_base"
    if files:
        shutil.copytree(
            ROOT / "probe/store", pkg, ignore=shutil.ignore_patterns("__pycache__", "*.pyc")
        )
        for name in files:
            show = ["git", "-C", str(ROOT), "show", f"{rev}:probe/store/{name}"]
            (pkg / name).write_bytes(subprocess.run(show, check=True, capture_output=True).stdout)
    else:
        raw = subprocess.run(
            ["git", "-C", str(ROOT), "archive", rev, "probe/store"], check=True, capture_output=True
        ).stdout
        subprocess.run(["tar", "-x", "-C", str(into)], input=raw, check=True)
        (into / "probe" / "store").rename(pkg)
    for file in pkg.rglob("*.py"):
        code = file.read_text(encoding="utf-8")
        file.write_text(code.replace("probe.store", "probe_store_base"), encoding="utf-8")
    sys.path.insert(0, str(into))
    return "probe_store_base"


@dataclass
class Impl:
    """One `probe/store` implementation under test."""

    name: str
    db: ModuleType
    codec: ModuleType
    blobs: ModuleType

    @classmethod
    def load(cls, name: str, package: str) -> Impl:
        db = importlib.import_module(f"{package}.db")
        codec = importlib.import_module(f"{package}.pagecodec")
        return cls(name, db, codec, importlib.import_module(f"{package}.blobs"))

    def packed(self, site: PortalArtifacts) -> PortalArtifacts:
        """`site` with its bodies hashed and compressed as the crawl does (`pack_body`,
        outside the store's time), so night 1 measures what the runner's writer does."""
        bodies = dict(self.blobs.pack_body(raw) for raw in site.bodies.values())
        return replace(site, bodies=bodies)


def _cpu(fn: Callable[[], Any]) -> tuple[float, Any]:
    start = time.process_time()
    out = fn()
    return time.process_time() - start, out


def earlier(store: Any, url: str) -> dict[str, Any]:
    """What the runner reads of a portal before crawling it: its validators with parses
    and its previous findings (`Store.earlier` where the store has it); the validators."""
    if hasattr(store, "earlier"):
        return store.earlier(url)[0]
    rows = store.validators_with_parses(url)
    store.previous_findings(url)
    return rows


def one_pass(impl: Impl, portals: list[Portal], workdir: Path, tag: str) -> dict[str, float]:
    """Night 1 then night 2 over `portals` into a fresh SQLite file; ms per page each."""
    path = workdir / f"{impl.name}-{tag}.sqlite"
    store = impl.db.open_store(str(path))
    codec = impl.codec
    pages = sum(len(p.site.pages) for p in portals)
    try:
        store.sync_registry([p.agency for p in portals])
        run1 = store.start_run("manual", "nd43-2011", 1, {}, len(portals))
        pack1 = save1 = 0.0
        for p in portals:
            cpu, site = _cpu(lambda p=p: impl.packed(p.site))
            pack1 += cpu
            cpu, _ = _cpu(
                lambda p=p, site=site: store.save_portal(
                    run1, site, p.findings, 0.5, cached_parses=frozenset()
                )
            )
            save1 += cpu
        store.finish_run(run1, "finished")
        run2 = store.start_run("manual", "nd43-2011", 1, {}, len(portals))
        read2 = decode2 = save2 = 0.0
        for p in portals:
            cpu, rows = _cpu(lambda p=p: earlier(store, p.site.url))
            read2 += cpu
            assert len(rows) == len(p.site.pages), (len(rows), len(p.site.pages))
            decoded = []
            start = time.process_time()
            for page in p.site.pages:
                etag, modified, ctype, _body, digest, parse = rows[page.url]
                back = codec.decode_page(
                    parse,
                    base=page.url,
                    url=page.url,
                    final_url=page.url,
                    status=200,
                    content_type=ctype,
                    fetched_at=NOW,
                    elapsed_ms=1.0,
                    depth=page.depth,
                    redirects=(),
                    etag=etag,
                    last_modified=modified,
                    content_hash=digest,
                    not_modified=True,
                )
                decoded.append(back)
            decode2 += time.process_time() - start
            assert all(
                d is not None and d == replace(o, fetched_at=NOW, elapsed_ms=1.0, not_modified=True)
                for d, o in zip(decoded, p.site.pages, strict=True)
            ), "decoded pages differ from the parse"
            site2 = replace(p.site, pages=tuple(decoded), bodies={})
            cached = {codec.parsed_key(d.url, d.content_hash) for d in decoded}
            cpu, _ = _cpu(
                lambda p=p, site2=site2, cached=cached: store.save_portal(
                    run2, site2, p.findings, 0.5, cached_parses=cached
                )
            )
            save2 += cpu
        store.finish_run(run2, "finished")
    finally:
        store.close()
    size = path.stat().st_size + sum(
        f.stat().st_size for f in workdir.glob(f"{path.name}-*") if f.is_file()
    )
    ms = 1000 / pages
    return {
        "night1_pack_ms": pack1 * ms,
        "night1_save_ms": save1 * ms,
        "night2_read_ms": read2 * ms,
        "night2_decode_ms": decode2 * ms,
        "night2_save_ms": save2 * ms,
        "db_kb_per_page": size / 1024 / pages,
    }


def db_sizes(path: Path) -> dict[str, float]:
    """Stored bytes of bodies and parses per row (what a codec choice costs on disk)."""
    con = sqlite3.connect(path)
    try:
        blob = con.execute("select count(*), sum(length(data)), sum(size) from blob").fetchone()
        parsed = con.execute("select count(*), sum(length(data)) from parsed_page").fetchone()
    finally:
        con.close()
    return {
        "blob_kb": blob[1] / blob[0] / 1024,
        "body_kb": blob[2] / blob[0] / 1024,
        "parsed_kb": parsed[1] / parsed[0] / 1024,
    }


def stored_tables(path: Path, ignore: frozenset[str] = frozenset()) -> dict[str, list[Any]]:
    """Every row of every table, in rowid order, as `{column: value}` without `ignore`."""
    con = sqlite3.connect(path)
    try:
        names = [r[0] for r in con.execute("select name from sqlite_master where type='table'")]
        out: dict[str, list[Any]] = {}
        for t in names:
            cur = con.execute(f"select * from {t} order by rowid")
            cols = [d[0] for d in cur.description]
            out[t] = [
                {k: v for k, v in zip(cols, row, strict=True) if k not in ignore} for row in cur
            ]
        return out
    finally:
        con.close()


def differing_columns(a: list[dict[str, Any]], b: list[dict[str, Any]]) -> set[str]:
    """The columns whose values differ between two tables' rows ("rows" if their counts do)."""
    if len(a) != len(b):
        return {"rows"}
    return {
        k for x, y in zip(a, b, strict=True) for k in x.keys() | y.keys() if x.get(k) != y.get(k)
    }


def same_data(
    impls: list[Impl], portals: list[Portal], workdir: Path, ignore: frozenset[str] = frozenset()
) -> None:
    """Both nights through every implementation on a frozen clock; the files must hold
    the same rows (what "same stored data" means for a store change), but for the columns
    in `ignore` (e.g. `last_seen_at`, which coarse touches leave older on purpose)."""
    for impl in impls:
        repo = importlib.import_module(impl.db.__name__.rsplit(".", 1)[0] + ".repo")
        ticks = itertools.count()
        repo.utcnow = lambda ticks=ticks: NOW + timedelta(seconds=next(ticks))
        repo.this_host = lambda: "bench:1"
        one_pass(impl, portals, workdir, "same")
    first, *others = (stored_tables(workdir / f"{i.name}-same.sqlite", ignore) for i in impls)
    for other in others:
        differ = {
            t: sorted(differing_columns(first.get(t, []), other.get(t, [])))
            for t in sorted(first.keys() | other.keys())
            if first.get(t) != other.get(t)
        }
        if differ:
            raise SystemExit(f"stored data differs: {json.dumps(differ)}")
    rows = sum(map(len, first.values()))
    print(
        json.dumps(
            {
                "same_stored_data": True,
                "tables": len(first),
                "rows": rows,
                "ignored": sorted(ignore),
            }
        )
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--fleet", type=Path, default=ROOT / "bench/out/fleet-200")
    ap.add_argument("--portals", type=int, default=20)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--baseline", help="a git revision whose probe/store to compare against")
    ap.add_argument(
        "--baseline-files",
        help="comma-separated probe/store files taken from --baseline (the rest: working tree)",
    )
    ap.add_argument(
        "--check-same", action="store_true", help="first check both store the same rows"
    )
    ap.add_argument(
        "--ignore-columns",
        default="",
        help="comma-separated columns --check-same leaves out (e.g. last_seen_at)",
    )
    a = ap.parse_args()
    portals = load_fleet(a.fleet, a.portals)
    with tempfile.TemporaryDirectory(prefix="micro-store-") as tmp:
        work = Path(tmp)
        impls = [Impl.load("work", "probe.store")]
        if a.baseline:
            (work / "src").mkdir()
            files = a.baseline_files.split(",") if a.baseline_files else None
            package = baseline_package(a.baseline, work / "src", files)
            impls.insert(0, Impl.load(a.baseline, package))
        if a.check_same:
            ignore = frozenset(filter(None, a.ignore_columns.split(",")))
            same_data(impls, portals, work, ignore)
        results: dict[str, list[dict[str, float]]] = {i.name: [] for i in impls}
        for r in range(a.repeat):
            for impl in impls if r % 2 == 0 else impls[::-1]:
                results[impl.name].append(one_pass(impl, portals, work, str(r)))
        for impl in impls:
            med = {
                k: statistics.median(x[k] for x in results[impl.name])
                for k in results[impl.name][0]
            }
            med.update(db_sizes(work / f"{impl.name}-0.sqlite"))
            figures = {k: round(v, 3) for k, v in med.items()}
            print(json.dumps({"impl": impl.name, "portals": len(portals), **figures}))


if __name__ == "__main__":
    main()
