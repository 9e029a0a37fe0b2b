"""Same `Page` from two versions of the extraction code, on every page we can find.

A faster `parse_page` is only acceptable if it returns the same `Page`, field for field
(the checks and the parse cache rely on it). This loads the extraction modules of a git
revision (`probe/extract.py`, `probe/textparse/`, `probe/net/canon.py`) as a separate
package, next to the working tree's, and parses each page with both:

- the benchmark fleet (`--fleet`, every page of the manifest),
- the demo portals, rendered by the demo server's own `respond` and decoded as the crawler
  does (`decode_body`),
- real portal pages (`--real`, a directory of saved `.html` files; read only),
- recorded inputs (`--recorded`, a pickle of `(html, url, final_url, status)` tuples, e.g.
  what the test suite passed to `parse_page`),
- generated pages (`--fuzz N`): random nestings of the things extraction cares about
  (region blocks, links, scripts, noscript, template, entities, odd whitespace, the
  marker characters, base, html/body classes).

Each page is also given to the new version as UTF-8 bytes (what `decode_html` hands the
crawler's parse when the body is UTF-8), which must give the old version's `Page` for
the text too ("bytes" below); a page that is not NFC is given so as well, decomposed
(`decode_html` hands such a body over as sent), and must give the old version's `Page`
for its NFC text, as `decode_body` gives it ("as sent"; `--fuzz` pages are tried
decomposed too). Demo and real pages also check that `decode_html` only hands over
bytes that decode to `decode_body`'s text but for NFC.

Usage: compare_extract.py [--rev HEAD] [--fleet DIR] [--real DIR] [--recorded FILE]
[--fuzz N] [--time] — prints the number of pages compared per source and every
difference; with `--time`, also the median CPU per page of both versions on 200 fleet
pages (8 portals, in crawl order; same process, interleaved; caches emptied first).
"""

from __future__ import annotations

import argparse
import dataclasses
import importlib
import json
import pickle
import random
import statistics
import subprocess
import sys
import tempfile
import time
import unicodedata
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path
from types import ModuleType
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
_FILES = (
    ("probe/extract.py", "extract.py"),
    ("probe/textparse/__init__.py", "textparse/__init__.py"),
    ("probe/textparse/dates.py", "textparse/dates.py"),
    ("probe/textparse/emails.py", "textparse/emails.py"),
    ("probe/net/canon.py", "canon.py"),
)

Item = tuple[str, str | bytes, str, str, int]  # (source, html, url, final_url, status)


def load_old(rev: str, into: Path) -> ModuleType:
    """`probe.extract` of `rev` as package `oldprobe` (its own textparse and canon)."""
    pkg = into / "oldprobe"
    (pkg / "textparse").mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    for src, dst in _FILES:
        text = subprocess.run(
            ["git", "show", f"{rev}:{src}"], cwd=ROOT, check=True, capture_output=True, text=True
        ).stdout
        text = text.replace("probe.textparse", "oldprobe.textparse")
        text = text.replace("probe.net.canon", "oldprobe.canon")
        (pkg / dst).write_text(text, encoding="utf-8")
    sys.path.insert(0, str(into))
    return importlib.import_module("oldprobe.extract")


def fleet_pages(fleet: Path) -> Iterator[Item]:
    manifest = json.loads((fleet / "manifest.json").read_text(encoding="utf-8"))
    for portal in manifest["portals"]:
        root = fleet / "portals" / portal["id"]
        for url in portal["pages"]:
            path = url[len(portal["origin"]) :]
            file = root / (path.lstrip("/") + ("index.html" if path.endswith("/") else ""))
            yield "fleet", file.read_text(encoding="utf-8"), url, url, 200


def demo_pages() -> Iterator[Item]:
    """Every HTML file of every demo portal, as the demo server sends it."""
    from probe.demo.server import load_sites, respond

    for host, site in load_sites().items():
        for file in sorted(site.root.rglob("*.html")):
            rel = file.relative_to(site.root).as_posix()
            if rel.startswith("_") or "/_" in rel:
                continue
            path = "/" + rel.removesuffix("index.html")
            response = respond({host: site}, host, path, {}, date(2026, 11, 26))
            ctype = dict(response.headers).get("Content-Type", "")
            html = _decoded(response.body, ctype)
            url = f"http://{host}{path}"
            yield "demo", html, url, url, response.status


def _decoded(body: bytes, content_type: str) -> str:
    """`decode_body`'s text, after checking that `decode_html` agrees with it."""
    from probe.net.decode import decode_body, decode_html

    text, charset = decode_body(body, content_type)
    markup, html_charset = decode_html(body, content_type)
    as_text = markup if isinstance(markup, str) else markup.decode("utf-8")
    same = unicodedata.normalize("NFC", as_text) == text
    if not same or charset != html_charset:
        raise AssertionError(f"decode_html disagrees with decode_body ({charset})")
    return text


def real_pages(directory: Path) -> Iterator[Item]:
    for file in sorted(directory.glob("*.html")):
        html = _decoded(file.read_bytes(), "text/html")
        url = f"http://real.example.gov.vn/{file.name}"
        yield "real", html, url, url, 200


def recorded_pages(file: Path) -> Iterator[Item]:
    seen: set[tuple[str, str, str, int]] = set()
    for html, url, final_url, status in pickle.loads(file.read_bytes()):
        if (html, url, final_url, status) not in seen:
            seen.add((html, url, final_url, status))
            yield "recorded", html, url, final_url, status


_FUZZ_OPEN = [
    "<div>", "<div class='menu'>", "<div id='footer'>", "<aside>", "<nav>", "<header>",
    "<div class='footer-menu'>", "<p class='bottom'> </p>",
    "<footer>", "<p>", "<span class='nav-item'>", "<ul class='x-bottom'>", "<li>", "<td>",
    "<noscript>", "<template>", "<b>", "<section role='navigation'>", "<form action='f'>",
    "<h2>", "<h3 class='sidebar'>", "<label>", "<table><tr><td>",
]  # fmt: skip
_FUZZ_LEAF = [
    "Trang chủ", "Giới thiệu", " ", "  ", "\n  ", "\t", "&nbsp;", "\xa0", "\u3000", "&#1;", "&#2;",
    "\u2e28", "\u2e29", "&#769;", "a&#x301;", "\u200b", "ngày 12 tháng 10 năm 2015",
    "12/10/2015", "2015-10-12", "vanthu@lethuy.gov.vn", "x[at]y[.]gov[.]vn", "©", "Bản quyền",
    "<a href='/tin/1.html'>Tin 1</a>", "<a href='x.html #top' title=' T '>X</a>",
    "<a href='mailto:a@b.vn'>thư</a>", "<a href='javascript:void(0)'>j</a>",
    "<a href='HTTP://Other.GOV.vn:80/p?sid=1&a=2'>o</a>", "<a href='#x'>f</a>",
    "<a href='../up.pdf'><img alt='Tài liệu'></a>", "<a href=''>e</a>", "<a href>n</a>",
    "<a href='//cdn.vn/x'><span><img title='t'></span><img alt='second'></a>",
    "<script>var a = '<a href=/s>';</script>", "<style>.a{}</style>", "<br>",
    "<img alt='ngoài'>", "<input name='q' placeholder='Tìm'>", "<button>Gửi</button>",
    "<time datetime='2024-02-30'>x</time>", "<time datetime='2024-02-03'>3/2</time>",
    "<meta name='DC.title' content=' Tiêu đề '>", "<title>Tiêu  đề</title>",
    "<base href='/goc/'>", "<a href='/giới-thiệu/tổ-chức' title='Cơ cấu'>Tổ chức</a>",
    "<meta name='Tác giả' content='Sở'>", "<form action='/tìm-kiếm'><input name='từ'></form>",
]  # fmt: skip


def fuzz_pages(count: int, seed: int = 7) -> Iterator[Item]:
    """Random documents built from `_FUZZ_OPEN` blocks and `_FUZZ_LEAF` content."""
    rnd = random.Random(seed)
    for n in range(count):
        parts: list[str] = []
        depth = 0
        for _ in range(rnd.randint(1, 60)):
            roll = rnd.random()
            if roll < 0.3:
                parts.append(rnd.choice(_FUZZ_OPEN))
                depth += 1
            elif roll < 0.45 and depth:
                parts.append(rnd.choice(["</div>", "</p>", "</nav>", "</footer>", "</li>"]))
                depth -= 1
            else:
                parts.append(rnd.choice(_FUZZ_LEAF))
        html_class = rnd.choice(["", " class='nav-open'", " class='x'"])
        body_class = rnd.choice(["", "", " class='bottom'", " class='menu'"])
        html = f"<html{html_class}><head><title>T</title></head><body{body_class}>"
        html += "".join(parts) + "</body></html>"
        url = f"http://fuzz.gov.vn/a/b{n}/page.html?x=1"
        yield "fuzz", html, url, url, 200


def reference_texts(html: str) -> tuple[str, str]:
    """`text` and `main_text` the plain way: whole body text, remove the regions, again.

    What both versions' marker shortcut must equal; used to tell which one is wrong.
    """
    import re
    import unicodedata

    from selectolax.lexbor import LexborHTMLParser

    from probe.extract import _REGIONS

    def clean(text: str) -> str:
        text = re.sub("[\u200b\u200c\u200d\u2060\ufeff\u00ad]+", "", text)
        return " ".join(unicodedata.normalize("NFC", text).split())

    tree = LexborHTMLParser(html)
    for node in tree.css("script, style, noscript, template"):
        node.decompose()
    roots = [r for _, sel in _REGIONS for r in tree.css(sel) if r.tag != "html"]
    body = tree.body
    if body is None:
        return "", ""
    text = clean(body.text(separator=" "))
    for root in roots:
        root.decompose()
    return text, clean(body.text(separator=" ")) if roots else text


def _run(fn: Callable[..., Any], item: Item) -> Any:
    _source, html, url, final_url, status = item
    try:
        return fn(html, url=url, final_url=final_url, status=status)
    except Exception as exc:  # a crash is a result to compare
        return f"raised {type(exc).__name__}: {exc}"


def diff(old: Any, new: Any) -> list[str]:
    """The names (and short values) of the fields where two results differ."""
    if not dataclasses.is_dataclass(old) or not dataclasses.is_dataclass(new):
        return [f"result: {str(old)[:200]!r} != {str(new)[:200]!r}"] if old != new else []
    out = []
    for f in dataclasses.fields(old):
        a, b = getattr(old, f.name), getattr(new, f.name)
        if a == b:
            continue
        if isinstance(a, str) and isinstance(b, str):
            at = next((i for i, (x, y) in enumerate(zip(a, b, strict=False)) if x != y), None)
            at = min(len(a), len(b)) if at is None else at
            out.append(f"{f.name}: at {at}: {a[at - 40 : at + 40]!r} != {b[at - 40 : at + 40]!r}")
        elif isinstance(a, tuple) and isinstance(b, tuple):
            pairs = [(x, y) for x, y in zip(a, b, strict=False) if x != y][:2]
            out.append(f"{f.name}: len {len(a)} vs {len(b)}; first differing {pairs!r}")
        else:
            out.append(f"{f.name}: {a!r} != {b!r}")
    return out


def _as_sent(
    old_parse: Callable[..., Any], new_parse: Callable[..., Any], item: Item, decompose: bool
) -> list[str]:
    """The new parse of a body that is not NFC, as sent, against the old parse of its NFC
    text (what the crawler parsed before `decode_html` handed such bodies over as sent):
    the page itself when it is not NFC, and its decomposed form (for fuzz pages)."""
    html = item[1]
    if not isinstance(html, str):
        return []
    nfc = unicodedata.normalize("NFC", html)
    problems: list[str] = []
    for as_sent in {html, unicodedata.normalize("NFD", html) if decompose else html}:
        if as_sent == nfc:
            continue
        try:
            body = as_sent.encode("utf-8")
        except UnicodeEncodeError:
            continue
        old = _run(old_parse, (item[0], nfc, *item[2:]))
        new = _run(new_parse, (item[0], body, *item[2:]))
        problems += [f"as sent {p}" for p in diff(old, new)]
    return problems


def _clear_caches(package: str) -> None:
    """Empty every `functools` cache of a version's modules: a crawl starts cold, and a
    timing over pages already parsed would find every link in the cache."""
    for name, module in list(sys.modules.items()):
        if name == package or name.startswith(package + "."):
            for value in vars(module).values():
                clear = getattr(value, "cache_clear", None)
                if callable(clear):
                    clear()


def _median_ms(fn: Callable[..., Any], items: list[Item], repeat: int, package: str) -> float:
    runs = []
    for _ in range(repeat):
        _clear_caches(package)
        start = time.process_time()
        for item in items:
            _run(fn, item)
        runs.append((time.process_time() - start) * 1000 / len(items))
    return statistics.median(runs)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--rev", default="HEAD", help="the old version (git revision)")
    ap.add_argument("--fleet", type=Path, default=ROOT / "bench/out/fleet-200")
    ap.add_argument("--real", type=Path, default=None)
    ap.add_argument("--recorded", type=Path, default=None)
    ap.add_argument("--fuzz", type=int, default=0, help="also N generated pages")
    ap.add_argument("--no-demo", action="store_true")
    ap.add_argument("--time", action="store_true", help="median ms/page of both on the fleet")
    a = ap.parse_args()

    from probe.extract import parse_page as new_parse

    with tempfile.TemporaryDirectory() as tmp:
        old_parse = load_old(a.rev, Path(tmp)).parse_page
        sources: list[Iterator[Item]] = []
        if a.fleet.exists():
            sources.append(fleet_pages(a.fleet))
        if not a.no_demo:
            sources.append(demo_pages())
        if a.real is not None:
            sources.append(real_pages(a.real))
        if a.recorded is not None:
            sources.append(recorded_pages(a.recorded))
        if a.fuzz:
            sources.append(fuzz_pages(a.fuzz))
        counts: dict[str, int] = {}
        differing: dict[str, int] = {}
        fields: dict[str, int] = {}
        verdicts: dict[str, int] = {}
        fleet_items: list[Item] = []
        for source in sources:
            for item in source:
                counts[item[0]] = counts.get(item[0], 0) + 1
                if item[0] == "fleet" and len(fleet_items) < 200:
                    fleet_items.append(item)
                old, new = _run(old_parse, item), _run(new_parse, item)
                problems = diff(old, new)
                try:
                    encoded = item[1].encode("utf-8") if isinstance(item[1], str) else None
                except UnicodeEncodeError:  # a lone surrogate: no UTF-8 body holds one
                    encoded = None
                if encoded is not None:
                    as_bytes = _run(new_parse, (item[0], encoded, *item[2:]))
                    problems += [f"bytes {p}" for p in diff(old, as_bytes)]
                    problems += _as_sent(old_parse, new_parse, item, a.fuzz > 0)
                if problems and dataclasses.is_dataclass(new):
                    texts = reference_texts(item[1])
                    verdict = (
                        f"old texts {'right' if (old.text, old.main_text) == texts else 'WRONG'}, "
                        f"new texts {'right' if (new.text, new.main_text) == texts else 'WRONG'}"
                    )
                    verdicts[verdict] = verdicts.get(verdict, 0) + 1
                for problem in problems:
                    name = problem.split(":", 1)[0]
                    fields[name] = fields.get(name, 0) + 1
                if problems:
                    differing[item[0]] = differing.get(item[0], 0) + 1
                    if differing[item[0]] <= 20:
                        print(f"DIFF {item[0]} {item[2]}")
                        for line in problems:
                            print("   ", line)
        for name, count in counts.items():
            print(f"{name}: {count} pages compared, {differing.get(name, 0)} differ")
        if fields:
            print("differing fields:", fields)
            print("against the plain two-pass texts:", verdicts)
        if a.time and fleet_items:
            for _ in range(2):  # interleaved, so drift in machine load hits both alike
                old_ms = _median_ms(old_parse, fleet_items, 3, "oldprobe")
                new_ms = _median_ms(new_parse, fleet_items, 3, "probe")
                pages = len(fleet_items)
                print(f"parse_page, {pages} fleet pages: old {old_ms:.3f}, new {new_ms:.3f} ms")
        sys.exit(1 if differing else 0)


if __name__ == "__main__":
    main()
