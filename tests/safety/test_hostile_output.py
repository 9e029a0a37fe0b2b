"""A compromised portal's text reaches the operator as inert text, never as commands.

The portal below puts `<script>`, an attribute breakout, rich markup, terminal escape
sequences (clear screen, set window title, bell) and bidi overrides into every place the
checks quote as evidence: title, navigation links, headings, dated news, the footer.
`probe check` must show them in the terminal without executing any of them, and its JSON
must keep them exactly (evidence is evidence) while writing the invisible ones as escapes.
The HTML/CSV/XLSX reports are covered end to end by tests/report.
"""

from __future__ import annotations

import json
import threading
import unicodedata
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from tests.safety.safety_helpers import run_probe

SCRIPT = "<script>alert(1)</script>"
BREAKOUT = '"><img src=x onerror=alert(2)>'
MARKUP = "[bold red]MARKUP[/]"
ESCAPES = "\x1b[2J\x1b]0;pwned\x07"
BIDI = "\u202eevil\u202c \u2066x\u2069"
HOSTILE = f"{SCRIPT} {BREAKOUT} {MARKUP} {ESCAPES} {BIDI}"
_HTML_TEXT = HOSTILE.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
_HTML_TEXT = _HTML_TEXT.replace('"', "&quot;")

PAGE = f"""<!doctype html><html lang="vi"><head><meta charset="utf-8">
<title>UBND {_HTML_TEXT}</title></head><body>
<nav><a href="javascript:alert(3)">Giới thiệu {_HTML_TEXT}</a>
<a href="/tin-tuc">Tin tức {_HTML_TEXT}</a> <a href="mailto:evil@gmail.com">evil@gmail.com</a></nav>
<main><h1>Cổng thông tin {_HTML_TEXT}</h1><p>Ngày 20/11/2026: {_HTML_TEXT}</p></main>
<footer>Cơ quan chủ quản: UBND xã {_HTML_TEXT}. Địa chỉ: thôn 1 {_HTML_TEXT}.
Điện thoại: (0232) 3822 111. Email: evil@gmail.com. Chịu trách nhiệm chính: {_HTML_TEXT}.
</footer></body></html>""".encode()

INVISIBLE = ("Cc", "Cf", "Zl", "Zp")


class _Hostile(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = b"" if self.path == "/robots.txt" else PAGE
        self.send_response(200 if body else 404)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        """Quiet."""


@pytest.fixture(scope="module")
def hostile_port() -> Iterator[int]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Hostile)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[1]
    server.shutdown()
    server.server_close()


def _check(tmp_path: Path, port: int, *extra: str) -> str:
    result = run_probe(
        "check", "http://xa-hostile.quangbinh.gov.vn/", "--allow-private",
        "--connect-to", f"::127.0.0.1:{port}", "--lang", "en", "--max-pages", "3",
        "--db", f"sqlite:///{tmp_path / 'p.sqlite'}", *extra, home=tmp_path,
    )  # fmt: skip
    assert result.code == 0, result.err
    assert "Traceback" not in result.err
    return result.out


def _invisible(text: str) -> list[str]:
    return sorted(
        {f"U+{ord(c):04X}" for c in text if c != "\n" and unicodedata.category(c) in INVISIBLE}
    )


def test_terminal_shows_hostile_text_as_text(tmp_path: Path, hostile_port: int) -> None:
    out = _check(tmp_path, hostile_port)
    # Not a TTY: rich itself writes no escapes, so any control character came from the page.
    assert _invisible(out) == []
    # Quoted, not interpreted: markup kept its brackets, HTML its angle brackets.
    assert MARKUP in out
    assert SCRIPT in out and "onerror=alert(2)>" in out
    assert "pwned" in out  # the title sequence's text is shown, its ESC and BEL are gone


def test_json_keeps_evidence_exact_and_invisibles_escaped(
    tmp_path: Path, hostile_port: int
) -> None:
    out = _check(tmp_path, hostile_port, "--format", "json")
    assert _invisible(out) == []
    assert "\\u202e" in out and "\\u001b" in out  # written as escapes …
    doc = json.loads(out)
    quoted = [
        e["text"] for p in doc["portals"] for f in p["findings"] for e in f["evidence"]
    ]  # fmt: skip
    assert any(HOSTILE in text for text in quoted)  # … and parsed back exactly
    urls = [e["url"] for p in doc["portals"] for f in p["findings"] for e in f["evidence"]]
    assert not any(u.lower().startswith("javascript:") for u in urls)
