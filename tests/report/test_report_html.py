"""The HTML report: hostile text stays text, and it works in a real headless Chromium."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import sqlalchemy as sa

from probe.report import render_report
from probe.report.load import load_report
from probe.report.render_html import safe_href
from tests.report.conftest import BIDI_TEXT, EVIL_TEXT, JS_URL

AGENCIES = ["huyen-le-thuy", "so-tu-phap", "thi-xa-ba-don", "huyen-bo-trach"]
CHROMIUM = next(
    (p for p in ("/usr/bin/chromium", shutil.which("chromium") or "") if p and Path(p).exists()),
    None,
)


def _html(engine: sa.Engine, tmp_path: Path, lang: str = "vi") -> Path:
    out = tmp_path / f"report-{lang}.html"
    data = load_report(engine, agencies=AGENCIES)
    old = load_report(engine, run_id=1, agencies=AGENCIES)
    render_report(data, "html", lang, out, compare=old)
    return out


def test_safe_href_only_http() -> None:
    assert safe_href("http://stp.quangbinh.gov.vn/a?b=1") == "http://stp.quangbinh.gov.vn/a?b=1"
    assert safe_href("HTTPS://x.gov.vn/") == "HTTPS://x.gov.vn/"
    for bad in (JS_URL, " JavaScript:alert(1)", "java\nscript:alert(1)", "data:text/html,x",
                "vbscript:x", "//evil", "http:///nohost"):  # fmt: skip
        assert safe_href(bad) is None


def _data_block(html: str) -> dict:
    start = html.index('<script type="application/json" id="report-data">')
    body = html[html.index(">", start) + 1 : html.index("</script>", start)]
    assert "<" not in body and ">" not in body and "&" not in body
    return json.loads(body)


def test_hostile_text_is_escaped(report_engine: sa.Engine, tmp_path: Path) -> None:
    html = _html(report_engine, tmp_path).read_text(encoding="utf-8")
    assert "<script>window.__pwned" not in html
    assert "&lt;script&gt;window.__pwned=1&lt;/script&gt;" in html  # the cell's title
    assert 'onerror="window' not in html and "&quot;&gt;&lt;img" in html
    assert 'href="javascript:' not in html.lower()
    assert "\u202e" not in html and "govgpj.exe" in html
    assert html.count("<script") == 2  # the data block and ours
    assert html.count('<script type="application/json"') == 1
    for ref in ('http-equiv="Content-Security-Policy"', "@media print"):
        assert ref in html
    for remote in ('src="http', "src='http", 'href="//', "@import", "cdn"):
        assert remote not in html.lower()
    assert EVIL_TEXT not in html and BIDI_TEXT not in html
    data = _data_block(html)
    strings = data["s"]
    assert EVIL_TEXT in strings and JS_URL in strings  # shown as text by the script
    assert BIDI_TEXT not in strings and "govgpj.exe" in strings
    pieces = [p for r in data["rows"] for f in r["f"] for p in f[6]]
    hrefs = {strings[p[0]]: strings[p[2]] for p in pieces}
    assert hrefs[JS_URL] == ""  # never a live link
    assert hrefs["http://stp.quangbinh.gov.vn/lien-he"] == "http://stp.quangbinh.gov.vn/lien-he"
    assert any("72/2013" in x for x in strings)  # legal basis of the licence finding


@pytest.mark.parametrize("lang", ["vi", "en"])
def test_labels_follow_language(report_engine: sa.Engine, tmp_path: Path, lang: str) -> None:
    html = _html(report_engine, tmp_path, lang).read_text(encoding="utf-8")
    if lang == "vi":
        assert "Thông tin giới thiệu" in html and "Căn cứ pháp lý" in html
    else:
        assert "Introduction" in html and "Legal basis" in html and "Căn cứ pháp lý" not in html


@pytest.mark.browser
@pytest.mark.skipif(
    CHROMIUM is None, reason="no Chromium at /usr/bin/chromium: apt-get install chromium"
)
def test_report_in_headless_chromium(report_engine: sa.Engine, tmp_path: Path) -> None:
    sync_api = pytest.importorskip("playwright.sync_api")
    path = _html(report_engine, tmp_path, "en")
    errors: list[str] = []
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=CHROMIUM,
            args=["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        page = browser.new_page()
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: errors.append(str(e)))
        requests: list[str] = []
        page.on("request", lambda r: requests.append(r.url))
        page.goto(path.as_uri())
        assert page.evaluate("window.__pwned === undefined")
        groups = page.locator("#grid tbody.group")
        n = groups.count()
        assert n == 4

        def first_agency() -> str:
            return (
                page.locator("#grid tbody.group:visible").first.get_attribute("data-agency") or ""
            )

        page.click('#grid th[data-col="name"]')
        asc = first_agency()
        page.click('#grid th[data-col="name"]')
        assert first_agency() != asc  # order reversed
        page.click('#grid th[data-col="score"]')  # ascending: unknown (-1) first
        assert first_agency().startswith("huyen-bo-trach") or first_agency().startswith("thi-xa")
        page.fill("#f-agency", "justice")
        assert page.locator("#grid tbody.group:visible").count() == 1
        assert first_agency().startswith("so-tu-phap")
        page.fill("#f-agency", "")
        page.select_option("#f-section", "licence")
        assert page.locator('#grid th[data-col="section.intro"]').is_hidden()
        assert page.locator('#grid th[data-col="licence"]').is_visible()
        page.select_option("#f-status", "fail")
        assert page.locator("#grid tbody.group:visible").count() == 1  # Lệ Thủy only
        page.select_option("#f-section", "")
        page.select_option("#f-status", "")
        assert page.locator("#grid tbody.group:visible").count() == n
        page.click('a[href="#d3"]')
        assert page.locator("#d3 svg.spark").count() == 1
        page.click('#grid tbody.group[data-agency^="so-tu-phap"] a.open')
        stp = page.locator('details.portal[data-agency^="so-tu-phap"]')
        assert stp.count() == 1 and stp.get_attribute("open") is not None
        quotes = stp.locator("blockquote").all_text_contents()
        assert EVIL_TEXT in quotes and "govgpj.exe" in quotes  # text, bidi control gone
        assert stp.locator("span.nolink").all_text_contents().count(JS_URL) == 1
        assert stp.locator('a[href="http://stp.quangbinh.gov.vn/lien-he"]').count() == 1
        assert (
            page.locator("#details img, #details script, #details a[href^=javascript]").count() == 0
        )
        assert "72/2013" in stp.inner_text()  # legal basis column
        page.evaluate("window.dispatchEvent(new Event('beforeprint'))")
        assert page.locator("details.portal[open]").count() == page.locator("#grid tr").count() - 1
        shot = tmp_path / "report.png"
        page.screenshot(path=str(shot), full_page=True)
        assert page.evaluate("window.__pwned === undefined")
        browser.close()
    assert shot.stat().st_size > 10_000
    assert errors == []
    assert all(u.startswith("file://") for u in requests)
