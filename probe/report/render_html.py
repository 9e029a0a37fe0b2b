"""One self-contained HTML file: sortable, filterable table, a detail view per portal.

Everything crawled is hostile: it is autoescaped by Jinja2, stripped of bidi controls,
and a link only becomes live when its scheme is http or https (`javascript:` stays text).
No network resource is referenced, and a Content-Security-Policy forbids loading any, so
the file works offline and an injected tag cannot phone home.
"""

from __future__ import annotations

from collections import defaultdict
from urllib.parse import urlsplit

from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup

from probe.report.flat import strip_bidi
from probe.report.labels import STATUS_RANK, STATUS_SYMBOL, UI, pick
from probe.report.table import EvidenceItem, Table


def safe_href(url: str) -> str | None:
    """The URL when it is a plain http(s) link, else None (rendered as text only)."""
    url = strip_bidi(url).strip()
    if any(ord(ch) < 0x20 for ch in url):
        return None
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    return url if parts.scheme.lower() in ("http", "https") and parts.netloc else None


def score_svg(history: tuple[tuple[int, str, float | None], ...], width: int = 160) -> Markup:
    """A small inline line chart of a portal's score (built from numbers only)."""
    pts = [(i, s) for i, (_, _, s) in enumerate(history) if s is not None]
    h = 40
    if not pts:
        return Markup("")
    n = max(len(history) - 1, 1)
    coords = [(2 + i * (width - 4) / n, h - 2 - s * (h - 4)) for i, s in pts]
    path = " ".join(f"{x:.1f},{y:.1f}" for x, y in coords)
    dots = "".join(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="2"/>' for x, y in coords)
    return Markup(
        f'<svg class="spark" width="{width}" height="{h}" viewBox="0 0 {width} {h}" role="img">'
        f'<rect width="{width}" height="{h}" fill="none" stroke="#ccc"/>'
        f'<polyline fill="none" stroke="#2a6" stroke-width="1.5" points="{path}"/>{dots}</svg>'
    )


def _env() -> Environment:
    env = Environment(
        loader=PackageLoader("probe.report", "templates"),
        autoescape=select_autoescape(("html", "j2"), default=True),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["t"] = lambda v: strip_bidi(str(v if v is not None else ""))
    env.filters["href"] = safe_href
    env.filters["spark"] = score_svg
    return env


def render_html(table: Table) -> str:
    """The report as one HTML document."""
    lang = table.lang
    by_portal: dict[tuple[str, str], list[EvidenceItem]] = defaultdict(list)
    for e in table.evidence:
        by_portal[(e.agency_id, e.portal_url)].append(e)
    groups: list[list[tuple[int, object]]] = []
    for i, r in enumerate(table.rows):
        if not r.is_sub or not groups:
            groups.append([])
        groups[-1].append((i, r))
    sections = [c for c in table.columns if c.kind in ("section", "auto", "manual")]
    return (
        _env()
        .get_template("report.html.j2")
        .render(
            t=table,
            lang=lang,
            ui={k: pick(v, lang) for k, v in UI.items()},
            groups=groups,
            by_portal=by_portal,
            sections=sections,
            symbols=STATUS_SYMBOL,
            ranks=STATUS_RANK,
        )
    )
