"""Per-page CPU of `find_dates` and `find_emails`, a git revision against the working tree.

`micro_extract` times the working tree alone, and two runs on a loaded machine differ by
more than a change to `probe/textparse/` saves; so both versions run in one process,
their passes interleaved, and each figure is the median of `--repeat` passes over the
text of fleet pages as `parse_page` gives it (is_nfc=True, as extraction calls them).
The old modules are loaded from `git show REV:path`, and both must give the same results
on every page timed, or the figures mean nothing.
Usage: micro_textparse.py [--fleet DIR] [--pages 1000] [--repeat 9] [--rev HEAD]
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

from fleet import REPO
from micro_extract import _pages

from probe.extract import parse_page
from probe.textparse import dates, emails


def _module_at(rev: str, path: str, name: str, tmp: Path) -> ModuleType:
    """The module `path` as it is at git revision `rev`, loaded as `name` from `tmp`."""
    source = subprocess.run(
        ["git", "show", f"{rev}:{path}"], check=True, capture_output=True, text=True, cwd=REPO
    ).stdout
    file = tmp / f"{name}.py"
    file.write_text(source, encoding="utf-8")
    spec = importlib.util.spec_from_file_location(name, file)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _pass_ms(fn: Callable[[str], object], texts: list[str]) -> float:
    start = time.process_time()
    for text in texts:
        fn(text)
    return (time.process_time() - start) * 1000 / len(texts)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--fleet", type=Path, default=Path("bench/out/fleet-200"))
    ap.add_argument("--pages", type=int, default=1000)
    ap.add_argument("--repeat", type=int, default=9)
    ap.add_argument("--rev", default="HEAD")
    a = ap.parse_args()
    texts = [
        parse_page(html, url=url, final_url=url, status=200).text
        for url, html in _pages(a.fleet, a.pages)
    ]
    with tempfile.TemporaryDirectory() as tmp:
        old_dates = _module_at(a.rev, "probe/textparse/dates.py", "old_dates", Path(tmp))
        old_emails = _module_at(a.rev, "probe/textparse/emails.py", "old_emails", Path(tmp))
    fns: dict[str, Callable[[str], object]] = {
        "find_dates_old": lambda t: old_dates.find_dates(t, is_nfc=True),
        "find_dates_new": lambda t: dates.find_dates(t, is_nfc=True),
        "find_emails_old": lambda t: old_emails.find_emails(t, (), is_nfc=True),
        "find_emails_new": lambda t: emails.find_emails(t, (), is_nfc=True),
    }
    for name in ("find_dates", "find_emails"):
        old, new = fns[f"{name}_old"], fns[f"{name}_new"]
        if any(old(t) != new(t) for t in texts):
            sys.exit(f"{name}: {a.rev} and the working tree differ on a fleet page")
    runs: dict[str, list[float]] = {key: [] for key in fns}
    for _ in range(a.repeat):
        for key, fn in fns.items():
            runs[key].append(_pass_ms(fn, texts))
    figures: dict[str, object] = {"pages": len(texts), "rev": a.rev}
    figures.update({f"{k}_ms": round(statistics.median(v), 4) for k, v in runs.items()})
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
