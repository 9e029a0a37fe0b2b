"""Same dates and e-mails from two versions of `probe/textparse/`, on every text we can find.

`micro_textparse.py` checks identity on the fleet pages it times; a faster `find_dates` or
`find_emails` must also agree where the fleet has nothing to say (long-form dates, other
scripts' digits, odd whitespace, obfuscated addresses). This loads the modules of a git
revision from `git show REV:path` and compares both versions' results on:

- the page text (`parse_page`) and the raw markup of every fleet page, demo portal page
  (rendered by the demo server's `respond`) and real portal page (`--real`),
- every string constant in `tests/` (the examples people thought of),
- `--generated N` texts made of the pieces the patterns care about (seeded, repeatable),

each as given (`is_nfc=False`), decomposed (NFD, `is_nfc=False`) and, for NFC text, with
`is_nfc=True` as extraction calls them. Prints the counts per source and every difference;
exits non-zero if there is one.
Usage: compare_textparse.py [--rev HEAD] [--fleet DIR] [--real DIR] [--generated 200000]
"""

from __future__ import annotations

import argparse
import ast
import random
import sys
import tempfile
import unicodedata
from collections.abc import Callable, Iterator
from pathlib import Path

from compare_extract import ROOT, demo_pages, fleet_pages, real_pages
from micro_textparse import _module_at

from probe.extract import parse_page
from probe.textparse import dates, emails


def _page_texts(items: Iterator[tuple[str, str, str, str, int]]) -> Iterator[tuple[str, str]]:
    for source, html, url, final_url, status in items:
        yield source, parse_page(html, url=url, final_url=final_url, status=status).text
        yield f"{source}-markup", html


def _test_strings() -> Iterator[tuple[str, str]]:
    for file in sorted((ROOT / "tests").rglob("*.py")):
        for node in ast.walk(ast.parse(file.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                yield "tests", node.value


_PIECES = [
    # dates: digits (ASCII, full-width, Arabic-Indic), separators, the long form's words in
    # any case and spelling, whitespace of every kind, and what glues a date to a number
    "1", "2", "12", "31", "02", "2015", "2024", "1944", "2100", "0", "00", "123", "20155",
    "１２", "２０２４", "٣", "١٢", "٢٠١٥", "/", "-", ".", ",", " ", "  ", "\n", "\t", "\xa0",
    "\u3000", "\u2009", "ngày", "Ngay", "NGÀY", "ngay", "tháng", "THANG", "Tháng", "tHáNg",
    "thang", "th", "t", "T", "háng", "năm", "nam", "NĂM", "Nam", "nAM", "m", "M", "ăm",
    "ngày 1 tháng 2 năm 2020", " tháng 10, năm 2015", "ngày 31 tháng 12.", "12 thang",
    "THÁNG 1 NĂM", "năm 2024", "2015-10-12", "3.4.2019", "/2020/", "12/10/2015", "31/02",
    "QĐ-UBND", "Đ", "a", "ư", "\u0301", "\u0306",
    # e-mails: locals, the "@" and "." tokens, domains and glued words
    "vanthu", "x.y", "Ab", "_", "@", " @ ", "[at]", "( a )", "{at}", "[@]", "(", "[", "{",
    "gov", "vn", ".vn", "[.]", "(dot)", "(chấm)", "ı", "K", "Điện", "ex@ample.com", "Tel",
    ":", "gmail.com", "a@b.gov.vn",
]  # fmt: skip


def _generated(count: int, seed: int = 11) -> Iterator[tuple[str, str]]:
    rng = random.Random(seed)
    for _ in range(count):
        yield "generated", "".join(rng.choices(_PIECES, k=rng.randint(1, 60)))


def _calls(text: str) -> Iterator[tuple[str, str, bool]]:
    """(label, text, is_nfc) for each way a text is given."""
    yield "as given", text, False
    nfd = unicodedata.normalize("NFD", text)
    if nfd != text:
        yield "NFD", nfd, False
    if unicodedata.is_normalized("NFC", text):
        yield "is_nfc", text, True


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--rev", default="HEAD")
    ap.add_argument("--fleet", type=Path, default=ROOT / "bench/out/fleet-200")
    ap.add_argument("--real", type=Path, default=None)
    ap.add_argument("--generated", type=int, default=200_000)
    a = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        old_dates = _module_at(a.rev, "probe/textparse/dates.py", "old_dates", Path(tmp))
        old_emails = _module_at(a.rev, "probe/textparse/emails.py", "old_emails", Path(tmp))
    pairs: list[tuple[str, Callable[[str, bool], object], Callable[[str, bool], object]]] = [
        (
            "find_dates",
            lambda t, nfc: old_dates.find_dates(t, is_nfc=nfc),
            lambda t, nfc: dates.find_dates(t, is_nfc=nfc),
        ),
        (
            "find_emails",
            lambda t, nfc: old_emails.find_emails(t, (), is_nfc=nfc),
            lambda t, nfc: emails.find_emails(t, (), is_nfc=nfc),
        ),
    ]
    sources: list[Iterator[tuple[str, str]]] = []
    if a.fleet.exists():
        sources.append(_page_texts(fleet_pages(a.fleet)))
    sources.append(_page_texts(demo_pages()))
    if a.real is not None:
        sources.append(_page_texts(real_pages(a.real)))
    sources.append(_test_strings())
    sources.append(_generated(a.generated))
    counts: dict[str, int] = {}
    found: dict[str, int] = {}
    differences = 0
    for source in sources:
        for label, text in source:
            counts[label] = counts.get(label, 0) + 1
            for how, given, nfc in _calls(text):
                for name, old, new in pairs:
                    before, after = old(given, nfc), new(given, nfc)
                    found[name] = found.get(name, 0) + len(before)  # type: ignore[arg-type]
                    if before != after:
                        differences += 1
                        print(f"DIFF {name} {label} {how}: {given[:200]!r}")
                        print(f"  old {before!r}\n  new {after!r}")
    print(f"texts per source: {counts}")
    print(f"results compared (old's count, every way a text is given): {found}")
    print(f"differences: {differences}")
    sys.exit(1 if differences else 0)


if __name__ == "__main__":
    main()
