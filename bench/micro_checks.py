"""Per-page CPU of the compliance checks (`checks.engine.run_portal_checks`), per family.

The fleet profile puts most of a page's milliseconds in the checks; this isolates them so
a change under `checks/` can be judged in seconds, without crawling. Artifacts are built
once, outside the timed region: fleet portals by parsing the generated files directly
with `probe.extract.parse_page` (no network), demo portals by one loopback crawl of
`probe.demo` whose result is pickled, so that every later run (and `--dump`) judges the
very same artifacts. `--dump FILE` writes every finding as JSON: compare two dumps to
prove a speed change changed no result.

`--real DIR` adds the saved real portal pages (`/work/shared/corpus/real-portals/`, read
in place) as three portals judged at every level: the fleet is generated, and only real
markup shows whether a faster matcher still finds what real footers and menus say.

`--baseline ID=FILE` times check ID as FILE defines it (say `git show
HEAD:checks/services.py > /tmp/old.py`) against the working tree's, alternating in this
process: timings from separate runs on a shared machine differ by more than most changes.

Usage: micro_checks.py [--fleet DIR] [--portals 4] [--repeat 5] [--ruleset nd43-2011]
                       [--fleet-cache FILE] [--demo-cache FILE] [--no-demo]
                       [--real DIR] [--real-cache FILE] [--dump FILE] [--profile N]
                       [--baseline ID=FILE]
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import importlib.util
import json
import pickle
import pstats
import statistics
import sys
import time
from collections import defaultdict
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import checks.base
from checks import load_families
from checks.base import REGISTRY, Check, CheckContext
from checks.engine import CheckOptions, finding_ids, run_portal_checks
from checks.ruleset import Ruleset, load_ruleset
from probe.artifacts import Page, PortalArtifacts, main_text_as_held
from probe.extract import parse_page

LEVELS = ("province", "department", "district", "commune")
NOW = datetime(2025, 3, 1, 3, 0, tzinfo=UTC)
DEMO_DAY = date(2025, 3, 1)


def _dump_sites(sites: list[PortalArtifacts]) -> bytes:
    """`sites` pickled with each page's main text as the page holds it.

    A pickled `Page` keeps `main_text` as the string its runs stand for, and a check
    reading that string then costs nothing, where a crawled page (`TextRuns`) copies
    ~46,000 characters at each read: timings must see the pages a crawl gives.
    """
    held = [[main_text_as_held(page) for page in site.pages] for site in sites]
    return pickle.dumps(("sites+held", sites, held))


def _load_sites(data: bytes) -> list[PortalArtifacts]:
    loaded = pickle.loads(data)  # our own cache file
    if not (isinstance(loaded, tuple) and loaded[0] == "sites+held"):
        return loaded  # type: ignore[no-any-return]  # written before main texts were kept
    _, sites, held = loaded
    slot = Page.__dict__["main_text"]
    for site, texts in zip(sites, held, strict=True):
        for page, text in zip(site.pages, texts, strict=True):
            slot.__set__(page, text)
    return sites  # type: ignore[no-any-return]


def fleet_sites(fleet: Path, count: int, cache: Path | None = None) -> list[PortalArtifacts]:
    """The first `count` generated portals as artifacts, levels in rotation.

    With `cache`, the parsed artifacts are pickled on first use and reused: the parser
    changes under other hands, and a before/after dump must judge the very same pages.
    """
    if cache is not None and cache.is_file():
        cached = _load_sites(cache.read_bytes())
        if len(cached) == count:
            return cached
    manifest = json.loads((fleet / "manifest.json").read_text(encoding="utf-8"))
    out: list[PortalArtifacts] = []
    for n, portal in enumerate(manifest["portals"][:count]):
        root = fleet / "portals" / portal["id"]
        pages = []
        for url in portal["pages"]:
            path = url[len(portal["origin"]) :]
            file = root / (path.lstrip("/") + ("index.html" if path.endswith("/") else ""))
            html = file.read_text(encoding="utf-8")
            pages.append(
                parse_page(html, url=url, final_url=url, status=200, fetched_at=NOW, depth=1)
            )
        out.append(
            PortalArtifacts(
                agency_id=portal["id"],
                agency_level=LEVELS[n % len(LEVELS)],
                url=portal["origin"] + "/",
                now=NOW,
                final_url=portal["origin"] + "/",
                pages=tuple(pages),
                licence_required=True,
                province_domain="quangbinh.gov.vn",
            )
        )
    if cache is not None:
        cache.parent.mkdir(parents=True, exist_ok=True)
        cache.write_bytes(_dump_sites(out))
    return out


def demo_sites(cache: Path) -> list[PortalArtifacts]:
    """The demo portals as one real loopback crawl produced them (pickled on first use)."""
    if cache.is_file():
        return _load_sites(cache.read_bytes())
    from probe.cli import registry_targets
    from probe.demo.server import DemoServer
    from probe.net.client import build_client
    from probe.net.crawl import crawl_portal
    from probe.registry import load_registry
    from probe.settings import CONFIG_DIR, ConnectTo, Settings

    async def crawl_all(settings: Settings) -> list[PortalArtifacts]:
        sites = []
        async with build_client(settings) as client:
            for target in registry_targets(load_registry(CONFIG_DIR / "portals.toml")):
                for url in target.urls:
                    sites.append(
                        await crawl_portal(
                            client,
                            url,
                            agency_id=target.agency.id,
                            agency_level=target.agency.level,
                            settings=settings,
                            now=datetime.combine(DEMO_DAY, NOW.timetz()),
                            licence_required=target.agency.licence_required,
                            province_domain=target.agency.province_domain,
                            agency_domains=target.agency.official_domains,
                        )
                    )
        return sites

    with DemoServer(today=DEMO_DAY) as server:
        settings = Settings().with_(
            connect_to=tuple(ConnectTo.parse(c) for c in server.connect_to),
            allow_private=True,
            min_delay=0.0,
            retry_backoff=0.01,
        )
        sites = asyncio.run(crawl_all(settings))
    sites = [s.__class__(**{**s.__dict__, "bodies": {}}) for s in sites]
    cache.parent.mkdir(parents=True, exist_ok=True)
    cache.write_bytes(_dump_sites(sites))
    return sites


# The saved real pages as portals: (portal URL, [(file, URL the page is linked as)]).
REAL_PORTALS = (
    (
        "https://sotttt.hanoi.gov.vn/en",
        [
            ("01-hanoi-sotttt-home.html", "https://sotttt.hanoi.gov.vn/en"),
            ("02-hanoi-sotttt-co-cau-to-chuc.html", "https://sotttt.hanoi.gov.vn/en/co-cau-to-chuc.html"),
            ("03-hanoi-sotttt-chi-dao-dieu-hanh.html", "https://sotttt.hanoi.gov.vn/chi-dao-dieu-hanh.html"),
            ("04-hanoi-sotttt-tthc-linh-vuc-noi-vu.html", "https://sotttt.hanoi.gov.vn/linh-vuc-noi-vu.html"),
            ("05-hanoi-sotttt-danh-ba.html", "https://sotttt.hanoi.gov.vn/danh-ba.html"),
        ],
    ),
    ("https://vpcp.chinhphu.vn/", [("06-vpcp-chinhphu-home.html", "https://vpcp.chinhphu.vn/")]),
    (
        "https://dvc.bacninh.gov.vn/",
        [("07-bacninh-dichvucong-form-hkd.html", "https://dvc.bacninh.gov.vn/")],
    ),
)  # fmt: skip


def real_sites(corpus: Path, cache: Path | None = None) -> list[PortalArtifacts]:
    """The saved real pages as portals, each judged at every level (read in place)."""
    if cache is not None and cache.is_file():
        return _load_sites(cache.read_bytes())
    from probe.net.decode import decode_body

    out: list[PortalArtifacts] = []
    for origin, files in REAL_PORTALS:
        pages = []
        for name, url in files:
            text, _ = decode_body((corpus / name).read_bytes(), "text/html")
            pages.append(
                parse_page(text, url=url, final_url=url, status=200, fetched_at=NOW, depth=1)
            )
        for level in LEVELS:
            out.append(
                PortalArtifacts(
                    agency_id=f"real-{level}",
                    agency_level=level,
                    url=origin,
                    now=NOW,
                    final_url=origin,
                    pages=tuple(pages),
                    licence_required=level != "commune",
                    province_domain="hanoi.gov.vn",
                )
            )
    if cache is not None:
        cache.parent.mkdir(parents=True, exist_ok=True)
        cache.write_bytes(_dump_sites(out))
    return out


def per_family(
    sites: list[PortalArtifacts], ruleset: Ruleset, repeat: int
) -> tuple[dict[str, float], float]:
    """CPU ms per page of each family inside the engine call, and of the whole call.

    Families are timed where they run, in `run_portal_checks` with its shared run memo
    (the first footer check of a portal pays for the footer regions, the others reuse
    them), by wrapping each registered function for the measurement only. Each figure is
    the median of `repeat` runs: the machine is shared and timings are noisy.
    """
    load_families()
    options = CheckOptions()
    pages = sum(len(s.pages) for s in sites) or 1
    runs: dict[str, list[float]] = defaultdict(list)
    totals: list[float] = []
    for _ in range(repeat):
        start = time.process_time()
        for site in sites:
            run_portal_checks(site, ruleset, options)
        totals.append((time.process_time() - start) * 1000 / pages)
    spent: dict[str, float] = defaultdict(float)
    saved = dict(REGISTRY)

    def timed(check_id: str, func: Any) -> Any:
        def run(subject: Any, ctx: CheckContext) -> Any:
            start = time.process_time()
            try:
                return func(subject, ctx)
            finally:
                spent[check_id] += time.process_time() - start

        return run

    try:
        for check_id, check in saved.items():
            REGISTRY[check_id] = Check(check.meta, timed(check_id, check.func))
        for _ in range(repeat):
            spent.clear()
            for site in sites:
                run_portal_checks(site, ruleset, options)
            for check_id in saved:
                runs[check_id].append(spent[check_id] * 1000 / pages)
    finally:
        REGISTRY.clear()
        REGISTRY.update(saved)
    fam = {k: statistics.median(v) for k, v in runs.items() if finding_ids(saved[k], ruleset)}
    return fam, statistics.median(totals)


def baseline_check(spec: str) -> tuple[str, Check]:
    """`ID=FILE`: check ID as FILE defines it, loaded without registering it again."""
    check_id, _, path = spec.partition("=")
    load_families()
    current = REGISTRY[check_id]
    module_spec = importlib.util.spec_from_file_location(f"baseline_{abs(hash(path))}", path)
    assert module_spec is not None and module_spec.loader is not None
    module = importlib.util.module_from_spec(module_spec)
    sys.modules[module_spec.name] = module  # dataclasses look their module up
    register = checks.base.check
    checks.base.check = lambda **_: lambda func: func  # type: ignore[assignment]
    try:
        module_spec.loader.exec_module(module)
    finally:
        checks.base.check = register
    return check_id, Check(current.meta, getattr(module, current.func.__name__))


def compare(
    sites: list[PortalArtifacts], ruleset: Ruleset, repeat: int, check_id: str, old: Check
) -> dict[str, Any]:
    """`per_family` with the baseline and the current check in turn, `repeat` rounds each."""
    current = REGISTRY[check_id]
    runs: dict[str, list[tuple[float, float]]] = {"baseline": [], "current": []}
    try:
        for _ in range(repeat):
            for name, chosen in (("baseline", old), ("current", current)):
                REGISTRY[check_id] = chosen
                fam, total = per_family(sites, ruleset, 1)
                runs[name].append((total, fam.get(check_id, 0.0)))
    finally:
        REGISTRY[check_id] = current
    return {
        f"{name}_{what}": round(statistics.median(r[i] for r in rows), 3)
        for name, rows in runs.items()
        for i, what in enumerate(("engine_ms_per_page", check_id))
    }


def dump(sites: list[PortalArtifacts], ruleset: Ruleset) -> dict[str, Any]:
    """Every finding of every site, as JSON with weights, for before/after comparison."""
    out: dict[str, Any] = {}
    for site in sites:
        findings = run_portal_checks(site, ruleset, CheckOptions())
        key = f"{site.url} {site.agency_level}"
        out[key] = [{**f.to_json("vi"), "en": f.message.get("en"), "weight": f.weight}
                    for f in findings]  # fmt: skip
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--fleet", type=Path, default=Path("/tmp/bench-fleet"))
    ap.add_argument("--portals", type=int, default=4)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--ruleset", default="nd43-2011")
    ap.add_argument("--fleet-cache", type=Path, help="pickle of the parsed fleet pages")
    ap.add_argument("--demo-cache", type=Path, default=Path("/tmp/probe-demo-artifacts.pickle"))
    ap.add_argument("--no-demo", action="store_true")
    ap.add_argument("--real", type=Path, help="directory of saved real portal pages")
    ap.add_argument("--real-cache", type=Path, help="pickle of the parsed real pages")
    ap.add_argument("--dump", type=Path, help="write every finding (both rulesets) as JSON")
    ap.add_argument("--profile", type=int, default=0, help="print the N hottest functions")
    ap.add_argument("--baseline", help="ID=FILE: time check ID from FILE against the current")
    a = ap.parse_args()
    groups = {"fleet": fleet_sites(a.fleet, a.portals, a.fleet_cache)}
    if not a.no_demo:
        groups["demo"] = demo_sites(a.demo_cache)
    if a.real:
        groups["real"] = real_sites(a.real, a.real_cache)
    if a.dump:
        result = {
            rid: {name: dump(sites, load_ruleset(rid)) for name, sites in groups.items()}
            for rid in ("nd43-2011", "nd42-2022")
        }
        a.dump.write_text(json.dumps(result, ensure_ascii=False, indent=1, sort_keys=True))
        print(f"wrote {a.dump}")
        return
    ruleset = load_ruleset(a.ruleset)
    if a.baseline:
        check_id, old = baseline_check(a.baseline)
        for name, sites in groups.items():
            pages = sum(len(s.pages) for s in sites)
            figures = compare(sites, ruleset, a.repeat, check_id, old)
            print(json.dumps({"group": name, "pages": pages, "ruleset": a.ruleset, **figures}))
        return
    for name, sites in groups.items():
        pages = sum(len(s.pages) for s in sites)
        fam, total = per_family(sites, ruleset, a.repeat)
        shown = {k: round(v, 3) for k, v in sorted(fam.items(), key=lambda kv: -kv[1])}
        print(json.dumps({"group": name, "portals": len(sites), "pages": pages,
                          "engine_ms_per_page": round(total, 3), "families": shown}))  # fmt: skip
    if a.profile:
        prof = cProfile.Profile()
        prof.enable()
        for sites in groups.values():
            for site in sites:
                run_portal_checks(site, ruleset, CheckOptions())
        prof.disable()
        pstats.Stats(prof).sort_stats("tottime").print_stats(a.profile)


if __name__ == "__main__":
    main()
