"""Issue 6, end to end: a hostile portal on 127.0.0.1 is crawled by the real `probe check`
and reported in all five formats; its payloads must arrive as text and nothing may run.

Payloads: `<script>`, `"><img onerror=…>`, a `javascript:` link, bidi overrides and would-be
spreadsheet formulas, in the page title, link texts, footer and e-mail address, plus an
agency name in the registry that is rich markup and a formula at once.
"""

from __future__ import annotations

import csv
import html
import io
import json
import shutil
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from openpyxl import load_workbook

from probe.cli import main

HOST = "hostile.quangbinh.gov.vn"
XSS = '<script>window.__pwned=1</script>"><img src=x onerror="window.__pwned=2">'
RLO = "\u202e"
FORMULA_START = ("=", "+", "-", "@")
AGENCY_NAME = '=HYPERLINK("http://evil.example/","x") [link=javascript:alert(1)]click[/link]'
PAGE = """<!DOCTYPE html><html><head><meta charset="utf-8"><title>{title}</title></head><body>
<header><h1>Cổng thông tin điện tử {xss}</h1></header>
<nav><ul>
<li><a href="javascript:window.__pwned=3">Giới thiệu &lt;script&gt;window.__pwned=4&lt;/script&gt;</a></li>
<li><a href="/tin-tuc/">=HYPERLINK("http://evil.example/","Tin tức")</a></li>
<li><a href="/van-ban/">Văn bản pháp luật {rlo}gpj.exe</a></li>
<li><a href="/lien-he/">Liên hệ "&gt;&lt;img src=x onerror=window.__pwned=5&gt;</a></li>
</ul></nav>
<main><p>Tin tức ngày 20/11/2026</p></main>
<footer>Cơ quan chủ quản: UBND &lt;script&gt;window.__pwned=6&lt;/script&gt;{rlo}gpj.exe.
Địa chỉ: +cmd|' /C calc'!A0. Điện thoại: -2+3 .
Email: <a href="mailto:=1+2@gmail.com">=1+2@gmail.com</a> @SUM(1+1)
Giấy phép số: "&gt;&lt;img src=x onerror=window.__pwned=7&gt;</footer>
</body></html>"""
CHROMIUM = next(
    (p for p in ("/usr/bin/chromium", shutil.which("chromium") or "") if p and Path(p).exists()),
    None,
)


class _Hostile(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        if self.path == "/robots.txt":
            body, ctype = b"User-agent: *\nAllow: /\n", "text/plain"
        else:
            page = PAGE.format(title=html.escape(f"{XSS} {RLO}gpj.exe"), xss=html.escape(XSS),
                               rlo=RLO)  # fmt: skip
            body, ctype = page.encode("utf-8"), "text/html; charset=utf-8"
        self.send_response(200)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        """Quiet."""


@dataclass(frozen=True)
class Crawled:
    db: str
    workdir: Path


@pytest.fixture(scope="module")
def crawled(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Crawled]:
    """The hostile portal crawled once by `probe check` into a real SQLite file."""
    workdir = tmp_path_factory.mktemp("hostile")
    registry = workdir / "portals.toml"
    registry.write_text(
        "[[agency]]\n"
        'id = "hostile"\n'
        f"name = {json.dumps(AGENCY_NAME + ' ' + RLO + 'gpj.exe')}\n"
        f"name_en = {json.dumps(AGENCY_NAME)}\n"
        'level = "district"\n'
        f'portals = [{{ url = "http://{HOST}/" }}]\n',
        encoding="utf-8",
    )
    db = f"sqlite:///{workdir / 'hostile.sqlite'}"
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Hostile)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        with pytest.MonkeyPatch.context() as mp:
            mp.setenv("PROBE_MIN_DELAY", "0.01")
            code = main(["check", "hostile", "--registry", str(registry), "--db", db,
                         "--allow-private", "--max-pages", "5",
                         "--connect-to", f"{HOST}:80:127.0.0.1:{server.server_address[1]}"])  # fmt: skip
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)
    assert code in (0, 1)
    yield Crawled(db, workdir)


def _report(c: Crawled, fmt: str, lang: str = "vi") -> Path:
    out = c.workdir / f"report-{lang}.{fmt}"
    assert (
        main(["report", "--db", c.db, "--format", fmt, "--lang", lang, "--output", str(out)]) == 0
    )
    return out


def test_payloads_reach_the_report_as_data(crawled: Crawled) -> None:
    """Guard for the other tests: the payloads really got through the crawl and checks."""
    doc = json.loads(_report(crawled, "json").read_text(encoding="utf-8"))
    texts = [p["text"] for e in doc["evidence"] for p in e["evidence"]]
    messages = [e["message"] for e in doc["evidence"]]
    blob = "\n".join(texts + messages)
    assert "<script>window.__pwned=6</script>" in blob  # footer
    assert '"><img src=x onerror=window.__pwned=5>' in blob  # link text
    assert XSS in blob  # page title
    assert '=HYPERLINK("http://evil.example/","Tin tức")' in blob
    assert "=1+2@gmail.com" in blob
    assert any(t.startswith(FORMULA_START) for t in texts)


def test_csv_neutralises_formulas_and_bidi(crawled: Crawled) -> None:
    raw = _report(crawled, "csv").read_bytes().decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(raw)))
    assert RLO not in raw
    cells = [c for r in rows for c in r]
    assert not any(c.startswith(FORMULA_START) for c in cells)
    hostile = next(r for r in rows if r[0] == "hostile")
    assert hostile[1].startswith("'=HYPERLINK(") and hostile[1].endswith("gpj.exe")


def test_xlsx_has_text_only(crawled: Crawled) -> None:
    wb = load_workbook(_report(crawled, "xlsx"))
    values = []
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                assert cell.data_type != "f"
                if cell.value is not None:
                    values.append(str(cell.value))
    assert not any(v.startswith(FORMULA_START) for v in values)
    assert not any(RLO in v for v in values)
    assert any("<script>window.__pwned=6</script>" in v for v in values)  # kept, as text
    assert any(v.startswith('\'=HYPERLINK("http://evil.example/","Tin tức")') for v in values)


def test_terminal_prints_markup_as_text(crawled: Crawled) -> None:
    text = _report(crawled, "table", "en").read_text(encoding="utf-8")
    assert "[link=javascript:alert(1)]click[/link]" in text  # not eaten as rich markup
    assert RLO not in text and "\x1b" not in text


def test_html_escapes_everything(crawled: Crawled) -> None:
    page = _report(crawled, "html").read_text(encoding="utf-8")
    lowered = page.lower()
    assert "<script>window.__pwned" not in page and "<img" not in lowered
    assert 'href="javascript:' not in lowered and RLO not in page
    assert page.count("<script") == 2  # the data block and the page's own script
    assert "&lt;script&gt;window.__pwned" in page or "\\u003cscript\\u003e" in page


@pytest.mark.browser
@pytest.mark.skipif(CHROMIUM is None, reason="no Chromium at /usr/bin/chromium")
@pytest.mark.parametrize("lang", ["vi", "en"])
def test_no_script_runs_in_chromium(crawled: Crawled, lang: str) -> None:
    sync_api = pytest.importorskip("playwright.sync_api")
    path = _report(crawled, "html", lang)
    errors: list[str] = []
    dialogs: list[str] = []
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM,
                                     args=["--headless", "--no-sandbox", "--disable-gpu"])  # fmt: skip
        page = browser.new_page()
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
        page.goto(path.as_uri())
        page.click('#grid tbody.group[data-agency^="hostile"] a.open >> nth=0')
        detail = page.locator('details.portal[data-agency^="hostile"]')
        assert detail.count() == 1
        quotes = "\n".join(detail.locator("blockquote").all_text_contents())
        assert "<script>window.__pwned=6</script>" in quotes  # shown, as text
        assert "onerror=window.__pwned=5" in detail.inner_text()
        page.evaluate("window.dispatchEvent(new Event('beforeprint'))")  # draw every detail
        for a in page.locator("a").all():
            href = (a.get_attribute("href") or "").strip().lower()
            assert href.startswith(("#", "http://", "https://")), href
        assert page.locator("img, iframe, object, embed").count() == 0
        assert page.locator("script").count() == 2
        assert page.evaluate("window.__pwned === undefined")
        browser.close()
    assert errors == [] and dialogs == []
