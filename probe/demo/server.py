"""Sample portals of the 2015 Quảng Bình inspection, served on loopback.

The demo and the end-to-end tests need portals that behave like the real ones (one host per
agency, robots rules, redirects, broken sections, an old single-byte encoding, conditional
requests) without sending a byte off the machine. One threaded server answers for every
host; the crawler reaches it through `--connect-to`, so URLs and Host headers stay exactly
those of the registry.

Each portal is a directory `portals/<hostname>/` holding its files, an optional `_site.toml`
(redirects, forced error statuses, per-page charsets, the layout) and an optional layout
`_layout.html` into which page fragments are poured, the way a CMS wraps articles in one
template. Dates of news are written as `{{days_ago:N[:fmt]}}` and rendered against the day
the page is served, so freshness results do not rot as the calendar moves.
"""

from __future__ import annotations

import argparse
import hashlib
import re
import threading
import tomllib
import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from email.utils import format_datetime, parsedate_to_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Self
from urllib.parse import unquote, urlsplit

from probe.errors import InputError

PORTALS_DIR = Path(__file__).resolve().parent / "portals"

# A 1x1 transparent GIF: pages may show images without the demo shipping binaries.
_PIXEL = bytes.fromhex(
    "47494638396101000100800000000000ffffff21f90401000000002c00000000010001000002024401003b"
)
_IMAGE_TYPES = {".gif": "image/gif", ".png": "image/png", ".jpg": "image/jpeg"}
_TYPES = {
    ".html": "text/html",
    ".htm": "text/html",
    ".aspx": "text/html",
    ".xml": "application/xml",
    ".txt": "text/plain",
    ".css": "text/css",
    ".doc": "application/msword",
    ".pdf": "application/pdf",
}
_TEXT_TYPES = {"text/html", "application/xml", "text/plain", "text/css"}
_PLACEHOLDER = re.compile(r"\{\{days_ago:(\d+)(?::(\w+))?\}\}")
_FRONT_MATTER = re.compile(r"\A<!--\s*title:\s*(.*?)\s*-->\s*\n?")
_WEEKDAYS = ("Thứ hai", "Thứ ba", "Thứ tư", "Thứ năm", "Thứ sáu", "Thứ bảy", "Chủ nhật")


@dataclass(frozen=True)
class Site:
    """One portal: its files and the behaviour its `_site.toml` declares."""

    host: str
    root: Path
    layout: str = ""  # the layout template text, "" when pages are whole documents
    layout_path: Path | None = None
    redirects: Mapping[str, tuple[int, str]] = field(default_factory=dict)
    errors: Mapping[str, int] = field(default_factory=dict)
    charsets: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Response:
    """What the handler sends: kept apart from the socket so it is easy to test and reason about."""

    status: int
    body: bytes = b""
    headers: tuple[tuple[str, str], ...] = ()


def load_sites(root: Path = PORTALS_DIR) -> dict[str, Site]:
    """Every portal directory under `root`, keyed by lower-case host name."""
    sites: dict[str, Site] = {}
    for directory in sorted(p for p in root.iterdir() if p.is_dir()):
        config_path = directory / "_site.toml"
        config: dict[str, object] = {}
        if config_path.exists():
            try:
                config = tomllib.loads(config_path.read_text(encoding="utf-8"))
            except tomllib.TOMLDecodeError as exc:
                raise InputError(str(exc), where=str(config_path)) from None
        layout_name = str(config.get("layout", "_layout.html"))
        layout_path = directory / layout_name
        redirects_raw = config.get("redirects", {})
        errors_raw = config.get("errors", {})
        charsets_raw = config.get("charsets", {})
        if not all(isinstance(x, dict) for x in (redirects_raw, errors_raw, charsets_raw)):
            raise InputError(
                "redirects, errors and charsets must be tables", where=str(config_path)
            )
        assert isinstance(redirects_raw, dict) and isinstance(errors_raw, dict)
        assert isinstance(charsets_raw, dict)
        redirects = {
            path: (int(spec.get("status", 302)), str(spec["to"]))
            for path, spec in redirects_raw.items()
        }
        sites[directory.name.lower()] = Site(
            host=directory.name.lower(),
            root=directory,
            layout=layout_path.read_text(encoding="utf-8") if layout_path.exists() else "",
            layout_path=layout_path if layout_path.exists() else None,
            redirects=redirects,
            errors={path: int(code) for path, code in errors_raw.items()},
            charsets={path: str(cs) for path, cs in charsets_raw.items()},
        )
    return sites


def format_days_ago(today: date, days: int, fmt: str = "dmy") -> str:
    """A date `days` before `today` in one of the ways Vietnamese portals print dates."""
    day = today - timedelta(days=days)
    if fmt == "dmy":
        return day.strftime("%d/%m/%Y")
    if fmt == "full":  # "Thứ hai, 12/10/2015 08:30": the time varies, as real posts do
        return f"{_WEEKDAYS[day.weekday()]}, {day:%d/%m/%Y} {7 + days % 10:02d}:{days * 7 % 60:02d}"
    if fmt == "long":
        return f"ngày {day.day} tháng {day.month} năm {day.year}"
    if fmt == "iso":
        return day.isoformat()
    raise ValueError(f"unknown date format {fmt!r} in a {{{{days_ago}}}} placeholder")


def render_dates(text: str, today: date) -> str:
    """Replace every `{{days_ago:N[:fmt]}}` with the date it stands for today."""
    return _PLACEHOLDER.sub(lambda m: format_days_ago(today, int(m[1]), m[2] or "dmy"), text)


def encode_cp1258(text: str) -> bytes:
    """Encode Vietnamese text in windows-1258, which stores most tones as combining marks.

    Python's codec only maps code points the code page has precomposed, so a letter like
    "ệ" must first be split into "ê" plus a combining dot below, as old editors did.
    """
    out = bytearray()
    for char in unicodedata.normalize("NFC", text):
        try:
            out += char.encode("cp1258")
            continue
        except UnicodeEncodeError:
            pass
        base, *marks = unicodedata.normalize("NFD", char)
        # The vowel keeps whichever mark the code page has precomposed ("ộ" = "ô" + dot below,
        # although NFD orders the dot first); the others follow as combining marks.
        for i, mark in enumerate(marks):
            composed = unicodedata.normalize("NFC", base + mark)
            try:
                out += composed.encode("cp1258")
            except UnicodeEncodeError:
                continue
            marks = marks[:i] + marks[i + 1 :]
            break
        else:
            out += base.encode("cp1258", errors="xmlcharrefreplace")
        for mark in marks:
            out += mark.encode("cp1258", errors="xmlcharrefreplace")
    return bytes(out)


def _content_type(path: Path) -> str:
    return _TYPES.get(path.suffix.lower(), "text/html")


def _find_file(site: Site, path: str) -> Path | None:
    """The file serving a URL path: exact, then `.html` added, then a directory index."""
    parts = [p for p in path.split("/") if p]
    if any(p in {".", ".."} or p.startswith("_") for p in parts):
        return None
    base = site.root.joinpath(*parts) if parts else site.root
    candidates = [base / "index.html"] if path.endswith("/") or not parts else []
    candidates += [base, base.with_name(base.name + ".html"), base / "index.html"]
    for candidate in candidates:
        if candidate.is_file():
            return candidate
    return None


def _wrap(site: Site, text: str) -> str:
    """Pour a page fragment into the portal's layout; whole documents pass through."""
    if not text.strip():  # an empty page stays empty, as a CMS with a blank article serves it
        return ""
    head = text.lstrip()[:20].lower()
    if not site.layout or head.startswith(("<!doctype", "<html", "<?xml")):
        return text
    match = _FRONT_MATTER.match(text)
    title = match[1] if match else ""
    body = text[match.end() :] if match else text
    return site.layout.replace("{{title}}", title).replace("{{content}}", body)


def _not_found(site: Site | None) -> Response:
    custom = site.root / "_404.html" if site else None
    if site and custom and custom.exists():
        body = _wrap(site, custom.read_text(encoding="utf-8")).encode()
    else:
        body = (
            "<!DOCTYPE html><html lang='vi'><head><meta charset='utf-8'>"
            "<title>404 - Không tìm thấy trang</title></head><body><h1>404</h1>"
            "<p>Không tìm thấy trang yêu cầu. / Page not found.</p></body></html>"
        ).encode()
    return Response(404, body, (("Content-Type", "text/html; charset=utf-8"),))


def _last_modified(file: Path, site: Site, today: date, dated: bool) -> datetime:
    """The newest of the file, its layout and (for dated pages) the start of today."""
    stamps = [file.stat().st_mtime]
    if site.layout_path is not None:
        stamps.append(site.layout_path.stat().st_mtime)
    newest = datetime.fromtimestamp(max(stamps), UTC).replace(microsecond=0)
    if dated:
        newest = max(newest, datetime(today.year, today.month, today.day, tzinfo=UTC))
    return newest


def _not_modified(headers: Mapping[str, str], etag: str, last_modified: datetime) -> bool:
    """RFC 9110 §13.2.2: If-None-Match wins; If-Modified-Since only when it is absent."""
    inm = headers.get("If-None-Match")
    if inm is not None:
        tags = {t.strip().removeprefix("W/") for t in inm.split(",")}
        return "*" in tags or etag in tags
    ims = headers.get("If-Modified-Since")
    if ims:
        try:
            since = parsedate_to_datetime(ims)
        except (TypeError, ValueError):
            return False
        if since.tzinfo is None:
            since = since.replace(tzinfo=UTC)
        return last_modified <= since
    return False


def respond(
    sites: Mapping[str, Site], host: str, target: str, headers: Mapping[str, str], today: date
) -> Response:
    """The whole behaviour of the demo server for one GET, without sockets."""
    site = sites.get(host.split(":")[0].lower().rstrip("."))
    if site is None:
        return _not_found(None)
    path = unquote(urlsplit(target).path) or "/"
    if path in site.redirects:
        status, to = site.redirects[path]
        location = to if "://" in to else f"http://{site.host}{to}"
        return Response(status, b"", (("Location", location), ("Content-Type", "text/html")))
    if path in site.errors:
        code = site.errors[path]
        body = f"<html><body><h1>{code}</h1><p>Lỗi máy chủ / Server error</p></body></html>"
        return Response(code, body.encode(), (("Content-Type", "text/html; charset=utf-8"),))
    file = _find_file(site, path)
    if file is None:
        suffix = Path(path).suffix.lower()
        if suffix in _IMAGE_TYPES:
            return Response(200, _PIXEL, (("Content-Type", _IMAGE_TYPES[suffix]),))
        return _not_found(site)
    ctype = _content_type(file)
    dated = False
    if ctype in _TEXT_TYPES or ctype == "application/msword":
        raw = file.read_text(encoding="utf-8")
        dated = _PLACEHOLDER.search(raw) is not None
        text = render_dates(_wrap(site, raw) if ctype == "text/html" else raw, today)
        charset = site.charsets.get(path, "utf-8")
        body = encode_cp1258(text) if charset == "windows-1258" else text.encode(charset)
        if ctype in _TEXT_TYPES:
            ctype = f"{ctype}; charset={charset}"
    else:
        body = file.read_bytes()
    etag = '"' + hashlib.sha256(body).hexdigest()[:20] + '"'
    modified = _last_modified(file, site, today, dated)
    common = (("ETag", etag), ("Last-Modified", format_datetime(modified, usegmt=True)))
    if _not_modified(headers, etag, modified):
        return Response(304, b"", common)
    return Response(200, body, (("Content-Type", ctype), *common))


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "Microsoft-IIS/7.5"  # what many provincial portals answered with
    sys_version = ""

    def do_GET(self) -> None:
        self._serve(send_body=True)

    def do_HEAD(self) -> None:
        self._serve(send_body=False)

    def _serve(self, *, send_body: bool) -> None:
        server = self.server
        assert isinstance(server, _DemoHTTPServer)
        headers = {k.title(): v for k, v in self.headers.items()}  # header names are caseless
        host = self.headers.get("Host", "")
        resp = respond(server.sites, host, self.path, headers, server.today())
        self.send_response(resp.status)
        for name, value in resp.headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(resp.body)))
        self.end_headers()
        if send_body and resp.body:
            self.wfile.write(resp.body)

    def log_message(self, format: str, *args: object) -> None:
        """Quiet by default: the demo prints its own summary."""


class _DemoHTTPServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(
        self, address: tuple[str, int], sites: Mapping[str, Site], today: Callable[[], date]
    ) -> None:
        self.sites = sites
        self.today = today
        super().__init__(address, _Handler)


class DemoServer:
    """The sample portals on 127.0.0.1, started in a background thread.

    `with DemoServer() as srv:` then crawl with `--connect-to` set to `srv.connect_to`.
    `today` pins the date the news placeholders are rendered against (tests); by default
    it is the server's calendar day at each request.
    """

    def __init__(
        self,
        *,
        root: Path = PORTALS_DIR,
        address: str = "127.0.0.1",
        port: int = 0,
        today: date | None = None,
    ) -> None:
        self.sites = load_sites(root)
        self._address = (address, port)
        self._today = today
        self._httpd: _DemoHTTPServer | None = None
        self._thread: threading.Thread | None = None

    def _clock(self) -> date:
        return self._today or date.today()

    def start(self) -> Self:
        """Bind and serve in a daemon thread; returns self for chaining."""
        self._httpd = _DemoHTTPServer(self._address, self.sites, self._clock)
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, name="probe-demo-server", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and release the port."""
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def port(self) -> int:
        """The bound port (the OS picks one when constructed with port 0)."""
        if self._httpd is None:
            raise RuntimeError("DemoServer is not running")
        return int(self._httpd.server_address[1])

    @property
    def hosts(self) -> tuple[str, ...]:
        """Every host name served, sorted."""
        return tuple(sorted(self.sites))

    @property
    def connect_to(self) -> list[str]:
        """`--connect-to` specs sending every host and port to this server.

        A catch-all rather than one rule per host, so that a link to a portal that is not
        in the demo (dichvucong.…) also lands on loopback and gets a 404 instead of DNS.
        """
        return [f"::127.0.0.1:{self.port}"]


def main(argv: list[str] | None = None) -> None:
    """`python -m probe.demo.server`: serve the sample portals in the foreground."""
    parser = argparse.ArgumentParser(description="Serve probe's sample portals on loopback.")
    parser.add_argument("--port", type=int, default=0, help="port to bind (0: any free port)")
    args = parser.parse_args(argv)
    with DemoServer(port=args.port) as srv:
        print(f"Serving {len(srv.hosts)} sample portals on http://127.0.0.1:{srv.port}/")
        for host in srv.hosts:
            print(f"  http://{host}/")
        print(f"Crawl with: --allow-private --connect-to {srv.connect_to[0]}")
        try:
            threading.Event().wait()
        except KeyboardInterrupt:
            print("stopped")


if __name__ == "__main__":
    main()
