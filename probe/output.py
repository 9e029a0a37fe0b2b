"""Terminal output of `check` and `run`: what an inspector reads right after a probe.

Crawled text goes through rich's `Text` (never markup), so a portal cannot inject
terminal markup or escape sequences into the operator's screen.

rich is imported by the functions that draw, not by this module: `probe run --format
json` (the nightly form) writes JSON only, and rich's console, table and text modules
were ~40 ms of CPU of every run's start-up (a fresh process importing them: 61 ms,
Python alone 21 ms).
"""

from __future__ import annotations

import json
import re
import shutil
import tempfile
import unicodedata
from typing import TYPE_CHECKING, TextIO

import orjson

from checks.base import Finding, Status

if TYPE_CHECKING:
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    from probe.runner import PortalReport, RunSummary

SPOOL_IN_MEMORY = 1 << 20  # bytes of agency objects kept in memory before a temp file

SYMBOLS = {
    Status.PASS: ("✓", "green"),
    Status.WARN: ("⚠", "yellow"),
    Status.FAIL: ("✗", "red"),
    Status.NA: ("–", "dim"),
    Status.UNKNOWN: ("?", "magenta"),
}

HEADERS = {
    "vi": {
        "check": "Tiêu chí", "status": "KQ", "message": "Nhận xét", "evidence": "Bằng chứng",
        "agency": "Cơ quan", "url": "Cổng", "outcome": "Kết quả", "score": "Điểm",
        "pages": "Trang", "summary": "Lượt {id}: {n} cổng, {ok} kiểm tra được, {bad} lỗi truy cập",
    },
    "en": {
        "check": "Check", "status": "St", "message": "Message", "evidence": "Evidence",
        "agency": "Agency", "url": "Portal", "outcome": "Outcome", "score": "Score",
        "pages": "Pages", "summary": "Run {id}: {n} portals, {ok} checked, {bad} not reachable",
    },
}  # fmt: skip


def safe_text(value: str, limit: int = 160) -> Text:
    """Crawled text as inert terminal text: control and bidi characters removed, trimmed."""
    from rich.text import Text

    cleaned = "".join(
        ch for ch in value if unicodedata.category(ch) not in ("Cc", "Cf") or ch in "\t"
    )
    if len(cleaned) > limit:
        cleaned = cleaned[: limit - 1] + "…"
    return Text(cleaned)


def status_cell(status: Status) -> Text:
    """A status as its symbol, coloured."""
    from rich.text import Text

    symbol, style = SYMBOLS[status]
    return Text(symbol, style=style)


def _findings_table(report: PortalReport, lang: str) -> Table:
    from rich.table import Table
    from rich.text import Text

    h = HEADERS[lang]
    table = Table(show_lines=False, expand=True)
    table.add_column(h["check"], no_wrap=True)
    table.add_column(h["status"], justify="center")
    table.add_column(h["message"], ratio=2)
    table.add_column(h["evidence"], ratio=3)
    for finding in report.findings:
        table.add_row(
            Text(finding.check),
            status_cell(finding.status),
            safe_text(finding.message.get(lang) or finding.message.get("en", "")),
            _evidence_text(finding),
        )
    return table


def _evidence_text(finding: Finding) -> Text:
    from rich.text import Text

    if not finding.evidence:
        reason = finding.details.get("reason") if finding.details else None
        return safe_text(str(reason)) if reason else Text("")
    first = finding.evidence[0]
    text = safe_text(first.text, 80)
    text.append("\n")
    text.append(safe_text(first.url, 100).plain, style="dim")
    if len(finding.evidence) > 1:
        text.append(f" (+{len(finding.evidence) - 1})")
    return text


def _score(score: float | None) -> str:
    return "–" if score is None else f"{score * 100:.0f}%"


def print_summary(
    summary: RunSummary, *, lang: str, detail: bool, console: Console | None = None
) -> None:
    """Portal table (and every finding when `detail`), then the one-line summary."""
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    console = console or Console()
    h = HEADERS[lang]
    overview = Table(title=None, expand=False)
    for key in ("agency", "url", "outcome", "score", "pages"):
        overview.add_column(h[key])
    overview.add_column("✓ ⚠ ✗ ? –")
    for report in summary.portals:
        counts = report.status_counts()
        outcome = Text(report.outcome, style="green" if report.outcome == "checked" else "red")
        if report.reason is not None:
            outcome.append(f" ({report.reason.code})", style="dim")
        overview.add_row(
            report.agency_id,
            safe_text(report.url),
            outcome,
            _score(report.score),
            str(report.pages_fetched),
            " ".join(
                str(counts[s])
                for s in (Status.PASS, Status.WARN, Status.FAIL, Status.UNKNOWN, Status.NA)
            ),
        )
    if detail:
        for report in summary.portals:
            console.rule(Text(f"{report.agency_id} — {report.url}"))
            console.print(_findings_table(report, lang))
        for agency_id, findings in summary.agencies.items():
            for finding in findings:
                symbol, style = SYMBOLS[finding.status]
                line = Text(f"{agency_id}: {finding.check} ")
                line.append(symbol, style=style)
                line.append(" ")
                line.append(safe_text(finding.message.get(lang, "")))
                console.print(line)
    console.print(overview)
    console.print(
        h["summary"].format(
            id=summary.run_id, n=len(summary.portals), ok=summary.checked, bad=summary.failed
        )
        + f" [{summary.status}]",
        markup=False,
    )


def _escape_invisible(ch: str) -> str:
    code = ord(ch)
    if code <= 0xFFFF:
        return f"\\u{code:04x}"
    code -= 0x10000  # outside the BMP: a UTF-16 surrogate pair, as JSON requires
    return f"\\u{0xD800 + (code >> 10):04x}\\u{0xDC00 + (code & 0x3FF):04x}"


def inert_json(data: object) -> str:
    """JSON text whose invisible characters are written as `\\uXXXX` escapes.

    Crawled text may carry bidi overrides (U+202E …), zero-width and line-separator
    characters. Parsed, the document is unchanged (evidence stays faithful); printed or
    paged in a terminal, those characters can no longer reorder or hide what is shown.
    `json` already escapes C0 controls; this adds C1 controls, format (Cf) characters
    and U+2028/U+2029. Vietnamese letters stay readable (no `ensure_ascii`).
    One regex substitution, not a test per character: a run prints every portal's
    findings, and the per-character loop was a measurable share of a night's CPU.
    """
    try:  # orjson writes the same document several times faster (one per portal a night)
        text = orjson.dumps(data, option=orjson.OPT_INDENT_2).decode()
    except (orjson.JSONEncodeError, TypeError):  # e.g. non-string keys: the stdlib's way
        text = json.dumps(data, ensure_ascii=False, indent=2)
    return _INVISIBLE.sub(_escape_match, text)


# Every character of Unicode categories Cc, Cf, Zl and Zp except the newline (the
# indentation's own), as Python's unicodedata 14.0 classifies them; a test compares this
# class with a scan of all code points, so a Unicode update cannot leave one out silently.
_INVISIBLE = re.compile(
    "[\x00-\x09\x0b-\x1f\x7f-\x9f\xad\u0600-\u0605\u061c\u06dd\u070f\u0890-\u0891"
    "\u08e2\u180e\u200b-\u200f\u2028-\u202e\u2060-\u2064\u2066-\u206f\ufeff"
    "\ufff9-\ufffb\U000110bd\U000110cd\U00013430-\U00013438\U0001bca0-\U0001bca3"
    "\U0001d173-\U0001d17a\U000e0001\U000e0020-\U000e007f]"
)


def _escape_match(match: re.Match[str]) -> str:
    return _escape_invisible(match.group())


def print_json(summary: RunSummary, *, lang: str, stream: TextIO) -> None:
    """The JSON document of interface.md on stdout, safe to show in a terminal."""
    stream.write(inert_json(summary.to_json(lang)))
    stream.write("\n")


class JsonStream:
    """The JSON document of interface.md written portal by portal as the run goes.

    A nightly run over thousands of portals must not hold every portal's findings until
    the end, so `probe run --format json` writes each portal object when it is stored and
    the `agencies` and `run` objects last (JSON objects are unordered; consumers read keys).
    Agency objects come as agencies finish, while the `portals` array is still open, so
    they wait in a spool file that stays in memory only while it is small: holding them as
    objects grew the process by several MB per thousand agencies and built the whole
    array as one string at the end.
    """

    def __init__(self, stream: TextIO, lang: str) -> None:
        self.stream = stream
        self.lang = lang
        self.count = 0
        self.agencies = 0
        self._spool = tempfile.SpooledTemporaryFile(  # noqa: SIM115 - closed by close()
            max_size=SPOOL_IN_MEMORY, mode="w+", encoding="utf-8", errors="surrogatepass"
        )
        stream.write('{\n  "portals": [')

    def portal(self, report: PortalReport) -> None:
        """Write one portal object."""
        text = inert_json(report.to_json(self.lang)).replace("\n", "\n    ")
        self.stream.write(("," if self.count else "") + "\n    " + text)
        self.stream.flush()
        self.count += 1

    def agency(self, agency_id: str, findings: list[Finding]) -> None:
        """Keep one agency object (the agency-level findings) for the `agencies` array."""
        data = {"agency": agency_id, "findings": [f.to_json(self.lang) for f in findings]}
        text = inert_json(data).replace("\n", "\n    ")
        self._spool.write(("," if self.agencies else "") + "\n    " + text)
        self.agencies += 1

    def close(self, summary: RunSummary) -> None:
        """Write the agency findings and the run object, and end the document."""
        self.stream.write('\n  ],\n  "agencies": [')
        self._spool.seek(0)
        shutil.copyfileobj(self._spool, self.stream)
        self._spool.close()
        run = inert_json(summary.run_json()).replace("\n", "\n  ")
        end = "\n  ]" if self.agencies else "]"
        self.stream.write(f'{end},\n  "run": {run}\n}}\n')
        self.stream.flush()
