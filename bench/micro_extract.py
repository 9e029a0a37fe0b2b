"""Per-page CPU of `probe.extract.parse_page` and its parts, on the fleet's pages.

The crawl profile shows where a page's milliseconds go; this isolates the extraction part
so a change to `probe/extract.py` or `probe/textparse/` can be judged in seconds, without
a fleet run. Pages are parsed in crawl order (portal by portal) with the extraction
caches emptied first, as a crawl starts; each figure is the median of `--repeat` passes.
`parse_page_bytes_ms` parses the UTF-8 body as `decode_html` hands it over, and
`decode_html_ms` is that decoding (what the crawl spends on a page before parsing).
With `--baseline REV`, it times instead what the crawl does with a page, `decode_html`
then `parse_page`, for REV's `probe/net/decode.py`, `probe/extract.py`,
`probe/textparse/` and `probe/net/canon.py` against the working tree's, in one process,
rounds interleaved (machine noise hits both alike), and prints both medians and the
median of the per-round differences; both must give the same `Page` for every page.
Usage: micro_extract.py [--fleet DIR] [--pages 200] [--repeat 5] [--baseline REV]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
import types
from collections.abc import Callable
from pathlib import Path
from typing import Any

from probe.extract import parse_page
from probe.net.decode import decode_html
from probe.textparse import find_dates, find_emails


def _pages(fleet: Path, limit: int) -> list[tuple[str, str]]:
    manifest = json.loads((fleet / "manifest.json").read_text(encoding="utf-8"))
    out: list[tuple[str, str]] = []
    for portal in manifest["portals"]:
        root = fleet / "portals" / portal["id"]
        for url in portal["pages"]:
            path = url[len(portal["origin"]) :]
            file = root / (path.lstrip("/") + ("index.html" if path.endswith("/") else ""))
            out.append((url, file.read_text(encoding="utf-8")))
            if len(out) >= limit:
                return out
    return out


def _clear_caches() -> None:
    """Empty the `functools` caches of the extraction modules (links, URL origins)."""
    for name, module in list(sys.modules.items()):
        if name.startswith(("probe.extract", "probe.textparse", "probe.net.canon")):
            for value in vars(module).values():
                clear = getattr(value, "cache_clear", None)
                if callable(clear):
                    clear()


def _per_page_ms(fn: Callable[[Any], object], items: list[Any], repeat: int) -> float:
    runs = []
    for _ in range(repeat):
        _clear_caches()
        start = time.process_time()
        for item in items:
            fn(item)
        runs.append((time.process_time() - start) * 1000 / len(items))
    return statistics.median(runs)


def _baseline(rev: str, pages: list[tuple[str, str]], repeat: int) -> dict[str, Any]:
    """`decode_html` + `parse_page` of `rev` against the working tree (see the top)."""
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from compare_extract import ROOT, _clear_caches, load_old

    old_parse = load_old(rev, Path(tempfile.mkdtemp())).parse_page
    source = subprocess.run(
        ["git", "show", f"{rev}:probe/net/decode.py"],
        cwd=ROOT, check=True, capture_output=True, text=True,
    ).stdout  # fmt: skip
    old_decode = types.ModuleType("old_decode")
    exec(compile(source, f"{rev}:probe/net/decode.py", "exec"), old_decode.__dict__)
    bodies = [(url, html.encode()) for url, html in pages]
    content_type = "text/html; charset=utf-8"  # what the fleet's nginx sends

    def crawl(decode: Any, parse: Any, package: str) -> tuple[float, list[Any]]:
        _clear_caches(package)
        out = []
        start = time.process_time()
        for url, body in bodies:
            markup, charset = decode(body, content_type)
            out.append(parse(markup, url=url, final_url=url, status=200, charset=charset))
        return (time.process_time() - start) * 1000 / len(bodies), out

    olds, news, diffs = [], [], []
    for _ in range(repeat):
        old_ms, old_pages = crawl(old_decode.decode_html, old_parse, "oldprobe")
        new_ms, new_pages = crawl(decode_html, parse_page, "probe")
        if old_pages != new_pages:
            sys.exit("the two versions give different pages: bench/compare_extract.py says where")
        olds.append(old_ms)
        news.append(new_ms)
        diffs.append(new_ms - old_ms)
    return {
        "pages": len(pages),
        "rounds": repeat,
        "baseline": rev,
        "decode_parse_ms_baseline": statistics.median(olds),
        "decode_parse_ms": statistics.median(news),
        "median_difference_ms": statistics.median(diffs),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--fleet", type=Path, default=Path("bench/out/fleet-200"))
    ap.add_argument("--pages", type=int, default=200)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--baseline", metavar="REV", help="time REV against the working tree")
    a = ap.parse_args()
    pages = _pages(a.fleet, a.pages)
    if a.baseline:
        figures = _baseline(a.baseline, pages, a.repeat)
        print(
            json.dumps({k: round(v, 4) if isinstance(v, float) else v for k, v in figures.items()})
        )
        return
    parsed = [parse_page(html, url=url, final_url=url, status=200) for url, html in pages]
    texts = [p.text for p in parsed]
    bodies = [(url, html.encode()) for url, html in pages]
    figures = {
        "pages": len(pages),
        "parse_page_ms": _per_page_ms(
            lambda p: parse_page(p[1], url=p[0], final_url=p[0], status=200), pages, a.repeat
        ),
        "parse_page_bytes_ms": _per_page_ms(
            lambda p: parse_page(p[1], url=p[0], final_url=p[0], status=200), bodies, a.repeat
        ),
        "decode_html_ms": _per_page_ms(
            lambda p: decode_html(p[1], "text/html; charset=utf-8"), bodies, a.repeat
        ),
        "find_dates_ms": _per_page_ms(find_dates, texts, a.repeat),
        "find_emails_ms": _per_page_ms(lambda t: find_emails(t, ()), texts, a.repeat),
        "avg_text_chars": sum(map(len, texts)) / len(texts),
        "links_per_page": sum(len(p.links) for p in parsed) / len(parsed),
    }
    print(json.dumps({k: round(v, 3) if isinstance(v, float) else v for k, v in figures.items()}))


if __name__ == "__main__":
    main()
