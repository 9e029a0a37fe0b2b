"""One self-contained HTML file: sortable, filterable table, a detail view per portal.

The table is written as HTML; the detail views (findings, evidence, legal basis, score
history) travel as one JSON data block and are drawn by the page's script when a reader
opens a portal. Drawing 64,000 evidence rows up front made a 2,000-portal report a 65 MB
page that took seconds to write and longer to open.

Everything crawled is hostile. In the table it is HTML-escaped and stripped of bidi
controls. In the data block it is JSON whose `<`, `>` and `&` are written as \\u003c etc.,
so no `</script>` can close the block, and the script inserts it with `textContent`, never
`innerHTML`. A link only becomes live when its scheme is http or https (decided here and
checked again in the script; `javascript:` stays text). No network resource is
referenced, and a Content-Security-Policy forbids loading any, so the file works offline
and an injected tag cannot phone home.
"""

from __future__ import annotations

import html
import json
import re
from collections import defaultdict
from typing import Any
from urllib.parse import urlsplit

from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup

from probe.report.flat import strip_bidi
from probe.report.labels import STATUS_RANK, STATUS_SYMBOL, UI, pick
from probe.report.table import EvidenceItem, Row, Table

_CONTROL = re.compile("[\x00-\x1f]")


def safe_href(url: str) -> str | None:
    """The URL when it is a plain http(s) link, else None (rendered as text only)."""
    url = strip_bidi(url).strip()
    if _CONTROL.search(url):
        return None
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    return url if parts.scheme.lower() in ("http", "https") and parts.netloc else None


def _e(value: object) -> str:
    """Text for HTML (element content or a quoted attribute)."""
    return html.escape(strip_bidi(str(value if value is not None else "")), quote=True)


def json_block(data: Any) -> Markup:
    """JSON safe inside <script type="application/json">: no `<`, `>`, `&` in the text."""
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    # three replace() calls: str.translate with a dict is ten times slower on 20 MB
    text = text.replace("&", "\\u0026").replace("<", "\\u003c").replace(">", "\\u003e")
    return Markup(text)


class _Strings:
    """A string table: the detail data repeats check titles, bases and page URLs a lot."""

    def __init__(self) -> None:
        self.index: dict[str, int] = {}
        self.items: list[str] = []

    def __call__(self, value: str) -> int:
        i = self.index.get(value)
        if i is None:
            i = self.index[value] = len(self.items)
            self.items.append(strip_bidi(value or ""))
        return i


def _cell_td(col_id: str, kind: str, r: Row) -> str:
    """One cell; its column is the header's (by position) and its status is its class,
    which keeps 100,000 cells free of repeated attributes."""
    cell = r.cells.get(col_id)
    if cell is None:
        return '<td data-k="9"></td>'
    if kind == "score":
        key: object = r.score if r.score is not None else -1
    else:
        key = STATUS_RANK.get(cell.status, 2)
    cls = cell.status + (" hl" if cell.highlight else "") + (" conflict" if cell.conflict else "")
    title = f"{cell.highlight} {cell.title}".strip()
    ev = ""
    if cell.evidence:
        links = " ".join(f'<a href="#{e}">{e}</a>' for e in cell.evidence[:3])
        ev = f' <small class="ev">{links}</small>'
    text = f" {_e(cell.text)}" if cell.text else ""
    tip = f' title="{_e(title)}"' if title else ""
    return f'<td data-k="{key}" class="{cls}"{tip}>{cell.symbol}{text}{ev}</td>'


def grid_body(table: Table) -> Markup:
    """The table's <tbody> groups (one per agency), written directly: 100,000 cells."""
    cols = [(_e(c.id), c.kind) for c in table.columns]
    out: list[str] = []
    for i, r in enumerate(table.rows):
        if not r.is_sub:
            if out:
                out.append("</tbody>")
            agency = _e(f"{r.agency_id} {r.agency_name}".lower())
            out.append(f'<tbody class="group" data-agency="{agency}">')
        name = "↳ " if r.is_sub else f"<b>{_e(r.agency_name)}</b><br>"
        link = f'<a class="open" href="#d{i}">{_e(r.portal_url)}</a>' if r.portal_url else ""
        if not r.portal_url and not r.is_sub:
            link = f'<a class="open" href="#d{i}">{_e(UI["details"][table.lang])}</a>'
        out.append(
            f'<tr class="{"sub" if r.is_sub else "head"}" data-i="{i}">'
            f'<td class="name" data-k="{_e(r.agency_name)}">{name}{link}</td>'
        )
        out.extend(_cell_td(cid, kind, r) for cid, kind in cols)
        out.append("</tr>")
    if out:
        out.append("</tbody>")
    return Markup("\n".join(out))


def detail_data(table: Table) -> dict[str, Any]:
    """Per row: who, score, history and findings; strings go through one table."""
    s = _Strings()
    by_portal: dict[tuple[str, str], list[EvidenceItem]] = defaultdict(list)
    for e in table.evidence:
        by_portal[(e.agency_id, e.portal_url)].append(e)
    hrefs: dict[str, int] = {}  # page URL -> string index of its live link ("" if none)

    def href(url: str) -> int:
        if url not in hrefs:
            hrefs[url] = s(safe_href(url) or "")
        return hrefs[url]

    rows = []
    for i, r in enumerate(table.rows):
        items = list(by_portal.get((r.agency_id, r.portal_url), ())) if r.portal_url else []
        if not r.is_sub:  # agency-level findings (portal.parallel) belong to the head row
            items += by_portal.get((r.agency_id, ""), ())
        findings = [
            [
                e.id,
                s(e.check),
                s(e.check_title),
                e.status,
                s(e.message),
                s(e.legal_basis),
                [[s(u), s(t), href(u)] for u, t in e.evidence],
            ]
            for e in items
        ]
        rows.append(
            {
                "i": i,
                "a": s(r.agency_id),
                "n": s(r.agency_name),
                "u": s(r.portal_url),
                "sc": r.score,
                "o": s(r.outcome),
                "h": [[run, day, score] for run, day, score in r.history],
                "f": findings,
            }
        )
    return {"s": s.items, "rows": rows}


def _env() -> Environment:
    env = Environment(
        loader=PackageLoader("probe.report", "templates"),
        autoescape=select_autoescape(("html", "j2"), default=True),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["t"] = lambda v: strip_bidi(str(v if v is not None else ""))
    return env


def render_html(table: Table) -> str:
    """The report as one HTML document."""
    lang = table.lang
    labels = {k: pick(v, lang) for k, v in UI.items()}
    sections = [c for c in table.columns if c.kind in ("section", "auto", "manual")]
    data = detail_data(table)
    data["ui"] = labels
    data["sym"] = STATUS_SYMBOL
    return (
        _env()
        .get_template("report.html.j2")
        .render(
            t=table,
            lang=lang,
            ui=labels,
            grid=grid_body(table),
            data=json_block(data),
            sections=sections,
            symbols=STATUS_SYMBOL,
        )
    )
