"""Per-page CPU of `probe.extract.parse_page` and its parts, on the fleet's pages.

The crawl profile shows where a page's milliseconds go; this isolates the extraction part
so a change to `probe/extract.py` or `probe/textparse/` can be judged in seconds, without
a fleet run. Pages are parsed in crawl order (portal by portal) with the extraction
caches emptied first, as a crawl starts; each figure is the median of `--repeat` passes.
`parse_page_bytes_ms` parses the UTF-8 body as `decode_html` hands it over, and
`decode_html_ms` is that decoding (what the crawl spends on a page before parsing).
Usage: micro_extract.py [--fleet DIR] [--pages 200] [--repeat 5]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
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


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--fleet", type=Path, default=Path("bench/out/fleet-200"))
    ap.add_argument("--pages", type=int, default=200)
    ap.add_argument("--repeat", type=int, default=5)
    a = ap.parse_args()
    pages = _pages(a.fleet, a.pages)
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
