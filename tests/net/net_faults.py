"""A raw-socket HTTP server on 127.0.0.1 that misbehaves on purpose, one host per fault.

Requests reach it through `--connect-to ::127.0.0.1:PORT`, so each behaviour is a
host name (`hang.test`, `gzip-bomb.test` …) and the crawler sees ordinary URLs. It is a
hand-written asyncio server because the faults under test (garbage instead of HTTP,
resets mid-body, trickling bytes, lying Content-Length) are exactly what a proper HTTP
server library refuses to produce. It runs in its own thread and event loop so a test
can drive the client with `asyncio.run`.
"""

from __future__ import annotations

import asyncio
import socket
import ssl
import struct
import threading
import unicodedata
import zlib
from collections import Counter
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

import brotli

from probe.artifacts import PortalArtifacts
from probe.net.client import build_client
from probe.net.crawl import crawl_portal
from probe.net.fetch import FetchResult, fetch
from probe.settings import Settings

BOMB_EXPANDED = 64 * 1024 * 1024
CHUNK = 64 * 1024

NOW = datetime(2026, 11, 25, 2, 0, tzinfo=UTC)
Writer = asyncio.StreamWriter
Handler = Callable[[Writer, str, dict[str, str]], Awaitable[None]]


def page(title: str, body: str = "", links: list[str] | tuple[str, ...] = ()) -> bytes:
    anchors = "".join(f'<a href="{href}">{href}</a> ' for href in links)
    return (
        f'<html><head><meta charset="utf-8"><title>{title}</title></head>'
        f"<body><h1>{title}</h1><p>{body}</p>{anchors}</body></html>"
    ).encode()


_TONES = frozenset("\u0300\u0301\u0303\u0309\u0323")


def to_cp1258(text: str) -> bytes:
    """Encode as windows-1258 does: base letters precomposed, tone marks combining."""
    out: list[str] = []
    for ch in text:
        parts = unicodedata.normalize("NFD", ch)
        tones = "".join(c for c in parts if c in _TONES)
        base = unicodedata.normalize("NFC", "".join(c for c in parts if c not in _TONES))
        out.append(base + tones)
    return "".join(out).encode("cp1258")


def _bombs() -> dict[str, bytes]:
    zeros = bytes(CHUNK)
    gz = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    df = zlib.compressobj(9, zlib.DEFLATED, zlib.MAX_WBITS)
    br = brotli.Compressor(quality=5)
    parts: dict[str, list[bytes]] = {"gzip": [], "deflate": [], "br": []}
    for _ in range(BOMB_EXPANDED // CHUNK):
        parts["gzip"].append(gz.compress(zeros))
        parts["deflate"].append(df.compress(zeros))
        parts["br"].append(br.process(zeros))
    parts["gzip"].append(gz.flush())
    parts["deflate"].append(df.flush())
    parts["br"].append(br.finish())
    return {k: b"".join(v) for k, v in parts.items()}


class FaultServer:
    """Start with `start()`, stop with `stop()`; `hits[(host, path)]` counts requests."""

    def __init__(self, tls: ssl.SSLContext | None = None) -> None:
        self.tls = tls
        self.port = 0
        self.hits: Counter[tuple[str, str]] = Counter()
        self.seen_headers: dict[tuple[str, str], dict[str, str]] = {}
        self.bombs = _bombs()
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    def start(self) -> FaultServer:
        self._thread.start()
        fut = asyncio.run_coroutine_threadsafe(self._start(), self._loop)
        fut.result(10)
        return self

    async def _start(self) -> None:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", 0, ssl=self.tls)
        self.port = self._server.sockets[0].getsockname()[1]

    def stop(self) -> None:
        async def shutdown() -> None:
            assert self._server is not None
            self._server.close()
            for task in list(self._tasks):
                task.cancel()
            await asyncio.sleep(0)

        asyncio.run_coroutine_threadsafe(shutdown(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)

    async def _handle(self, reader: asyncio.StreamReader, writer: Writer) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        try:
            head = await reader.readuntil(b"\r\n\r\n")
            lines = head.decode("latin-1").split("\r\n")
            _method, target, _version = lines[0].split(" ", 2)
            headers = {}
            for line in lines[1:]:
                if ":" in line:
                    name, _, value = line.partition(":")
                    headers[name.strip().lower()] = value.strip()
            host = headers.get("host", "").split(":")[0].lower()
            self.hits[(host, target)] += 1
            self.seen_headers[(host, target)] = headers
            await self.route(host, target)(writer, target, headers)
        except (ConnectionError, asyncio.IncompleteReadError, asyncio.CancelledError):
            pass
        finally:
            self._tasks.discard(task)
            if not writer.is_closing():
                writer.close()

    # -- helpers -------------------------------------------------------------------------

    @staticmethod
    async def send(
        writer: Writer,
        status: int,
        body: bytes = b"",
        *,
        ctype: str = "text/html; charset=utf-8",
        extra: tuple[tuple[str, str], ...] = (),
    ) -> None:
        head = [f"HTTP/1.1 {status} X", f"Content-Type: {ctype}", f"Content-Length: {len(body)}"]
        head += [f"{k}: {v}" for k, v in extra]
        head.append("Connection: close")
        writer.write(("\r\n".join(head) + "\r\n\r\n").encode() + body)
        await writer.drain()

    def route(self, host: str, target: str) -> Handler:
        name = host.removesuffix(".test")
        if target == "/robots.txt":
            robots = getattr(self, "robots_" + name.replace("-", "_"), None)
            return robots or self.not_found
        handler = getattr(self, "h_" + name.replace("-", "_"), None)
        return handler or self.not_found

    async def not_found(self, w: Writer, target: str, headers: dict[str, str]) -> None:
        await self.send(w, 404, b"<html><body>not found</body></html>")

    # -- a normal portal -----------------------------------------------------------------

    async def robots_site(self, w: Writer, target: str, headers: dict[str, str]) -> None:
        await self.send(w, 200, b"User-agent: *\nDisallow: /private\n", ctype="text/plain")

    async def h_site(self, w: Writer, target: str, headers: dict[str, str]) -> None:
        links = {
            "/": ["/gioi-thieu", "/tin-tuc?PHPSESSID=abc", "/private/x", "/van-ban.pdf",
                  "http://other.test/", "/gioi-thieu#top", "/moved"],
            "/gioi-thieu": ["/", "/tin-tuc", "/co-cau"],
            "/tin-tuc": ["/tin-tuc/1", "/tin-tuc/2"],
        }  # fmt: skip
        if target == "/moved":
            await self.send(w, 301, extra=(("Location", "/co-cau"),))
        elif target.startswith("/private"):
            await self.send(w, 500, b"should never be fetched")
        else:
            await self.send(w, 200, page(f"Trang {target}", "Nội dung", links.get(target, [])))

    # -- connection-level faults ---------------------------------------------------------

    async def h_hang(self, w: Writer, target: str, headers: dict[str, str]) -> None:
        await asyncio.sleep(3600)

    async def h_trickle(self, w: Writer, target: str, headers: dict[str, str]) -> None:
        w.write(b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 100000\r\n\r\n")
        for _ in range(100000):
            w.write(b"x")
            await w.drain()
            await asyncio.sleep(0.1)

    async def h_endless(self, w: Writer, target: str, headers: dict[str, str]) -> None:
        w.write(b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nTransfer-Encoding: chunked\r\n\r\n")
        chunk = b"%x\r\n" % CHUNK + b"<p>" * (CHUNK // 3) + b"x" * (CHUNK % 3) + b"\r\n"
        while True:
            w.write(chunk)
            await w.drain()

    async def _stream_50mb(self, w: Writer, declared: bool) -> None:
        size = 50 * 1024 * 1024
        length = f"Content-Length: {size}\r\n" if declared else ""
        w.write(f"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n{length}\r\n".encode())
        block = b"a" * CHUNK
        for _ in range(size // CHUNK):
            w.write(block)
            await w.drain()

    async def h_huge(self, w: Writer, target: str, headers: dict[str, str]) -> None:
        await self._stream_50mb(w, declared=True)

    async def h_huge_nolength(self, w: Writer, target: str, headers: dict[str, str]) -> None:
        await self._stream_50mb(w, declared=False)

    async def _bomb(self, w: Writer, encoding: str) -> None:
        await self.send(w, 200, self.bombs[encoding], extra=(("Content-Encoding", encoding),))

    async def h_gzip_bomb(self, w: Writer, target: str, headers: dict[str, str]) -> None:
        await self._bomb(w, "gzip")

    async def h_deflate_bomb(self, w: Writer, target: str, headers: dict[str, str]) -> None:
        await self._bomb(w, "deflate")

    async def h_br_bomb(self, w: Writer, target: str, headers: dict[str, str]) -> None:
        await self._bomb(w, "br")

    async def h_gzip_ok(self, w: Writer, target: str, headers: dict[str, str]) -> None:
        body = zlib.compress(page("Nén gzip", "Cổng thông tin"), wbits=16 + zlib.MAX_WBITS)
        await self.send(w, 200, body, extra=(("Content-Encoding", "gzip"),))

    async def h_reset(self, w: Writer, target: str, headers: dict[str, str]) -> None:
        w.write(b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 100000\r\n\r\n")
        w.write(b"<html>" + b"x" * 1000)
        await w.drain()
        sock = w.get_extra_info("socket")
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        w.transport.abort()

    async def h_garbage(self, w: Writer, target: str, headers: dict[str, str]) -> None:
        w.write(b"\x00\xff\xfeSSH-2.0-OpenSSH_9.0 not http at all\r\n\r\n")
        await w.drain()

    async def h_badlength(self, w: Writer, target: str, headers: dict[str, str]) -> None:
        w.write(b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 5000\r\n\r\n")
        w.write(b"<html><body>short</body></html>")
        await w.drain()

    # -- HTTP-level faults ---------------------------------------------------------------

    async def h_loop(self, w: Writer, target: str, headers: dict[str, str]) -> None:
        nxt = {"/": "/a", "/a": "/b", "/b": "/a"}[target]
        await self.send(w, 302, extra=(("Location", nxt),))

    async def h_chain(self, w: Writer, target: str, headers: dict[str, str]) -> None:
        n = 0 if target == "/" else int(target.strip("/"))
        await self.send(w, 301, extra=(("Location", f"/{n + 1}"),))

    async def h_redirect_metadata(self, w: Writer, target: str, headers: dict[str, str]) -> None:
        await self.send(w, 302, extra=(("Location", "http://169.254.169.254/latest/"),))

    async def h_chain3(self, w: Writer, target: str, headers: dict[str, str]) -> None:
        if target in ("/", "/1", "/2"):
            n = 0 if target == "/" else int(target.strip("/"))
            await self.send(w, 302 if n % 2 else 301, extra=(("Location", f"/{n + 1}"),))
        else:
            await self.send(w, 200, page("Đích", "sau ba lần chuyển hướng"))

    async def h_e500(self, w: Writer, target: str, headers: dict[str, str]) -> None:
        await self.send(w, 500, b"<html>boom</html>")

    async def h_e503(self, w: Writer, target: str, headers: dict[str, str]) -> None:
        await self.send(w, 503, b"busy", extra=(("Retry-After", "1"),))

    async def h_retry503(self, w: Writer, target: str, headers: dict[str, str]) -> None:
        if self.hits[("retry503.test", target)] <= 2:
            await self.send(w, 503, b"busy", extra=(("Retry-After", "0"),))
        else:
            await self.send(w, 200, page("Đã hồi phục"))

    async def h_e429(self, w: Writer, target: str, headers: dict[str, str]) -> None:
        if self.hits[("e429.test", target)] <= 1:
            await self.send(w, 429, b"slow down", extra=(("Retry-After", "1"),))
        else:
            await self.send(w, 200, page("Sau 429"))

    async def h_flaky(self, w: Writer, target: str, headers: dict[str, str]) -> None:
        if self.hits[("flaky.test", target)] <= 1:
            await self.send(w, 502, b"bad gateway")
        else:
            await self.send(w, 200, page("Lần hai"))

    async def h_cp1258(self, w: Writer, target: str, headers: dict[str, str]) -> None:
        html = "<html><head><title>Giới thiệu</title></head><body>Cơ cấu tổ chức của Sở</body>"
        await self.send(w, 200, to_cp1258(html * 3))

    async def h_invalid_bytes(self, w: Writer, target: str, headers: dict[str, str]) -> None:
        body = page("Tin tức", "Thông báo " * 200).replace(b"Th", b"\xffTh", 1)
        await self.send(w, 200, body)

    async def h_image(self, w: Writer, target: str, headers: dict[str, str]) -> None:
        await self.send(w, 200, b"\x89PNG\r\n\x1a\n" + bytes(100), ctype="image/png")

    async def h_many_links(self, w: Writer, target: str, headers: dict[str, str]) -> None:
        if target == "/":
            await self.send(w, 200, page("Nhiều liên kết", "", [f"/p/{i}" for i in range(100000)]))
        else:
            await self.send(w, 200, page(f"Trang {target}"))

    async def h_trap(self, w: Writer, target: str, headers: dict[str, str]) -> None:
        day = int(target.rpartition("=")[2]) if "=" in target else 0
        links = [f"/cal?d={day + 1}", f"/cal?d={day - 1}", f"/cal?d={day + 30}"]
        await self.send(w, 200, page(f"Lịch {day}", "", links))

    async def h_slow(self, w: Writer, target: str, headers: dict[str, str]) -> None:
        await asyncio.sleep(0.3)
        base = target.rstrip("/")
        await self.send(w, 200, page(f"Chậm {target}", "", [f"{base}/{i}" for i in range(5)]))

    async def h_order(self, w: Writer, target: str, headers: dict[str, str]) -> None:
        """A portal where a later link answers first: "/cham" (slow, linked first from the
        home page) and "/nhanh/2" (two fast steps away) both link to "/x"."""
        links = {
            "/": ["/cham", "/nhanh", "/trang-3", "/trang-4", "/trang-5"],
            "/cham": ["/x", "/cham/1"],
            "/nhanh": ["/nhanh/2", "/trang-6"],
            "/nhanh/2": ["/x", "/nhanh/3"],
        }  # fmt: skip
        if target == "/cham":
            await asyncio.sleep(0.4)
        await self.send(w, 200, page(f"Trang {target}", "Nội dung", links.get(target, [])))

    async def h_botwall(self, w: Writer, target: str, headers: dict[str, str]) -> None:
        body = b"<html><title>Just a moment...</title><body>Checking your browser</body></html>"
        await self.send(w, 403, body, extra=(("cf-mitigated", "challenge"),))

    async def h_notmod(self, w: Writer, target: str, headers: dict[str, str]) -> None:
        if headers.get("if-none-match") == '"v1"':
            await self.send(w, 304, extra=(("ETag", '"v1"'),))
        else:
            await self.send(w, 200, page("Phiên bản 1"), extra=(("ETag", '"v1"'),))

    # -- robots.txt faults ---------------------------------------------------------------

    async def h_robots(self, w: Writer, target: str, headers: dict[str, str]) -> None:
        await self.send(w, 200, page(f"Trang {target}", "", ["/a", "/b"]))

    h_robots_hang = h_robots_huge = h_robots_html = h_robots_500 = h_robots
    h_blocked = h_robots_delay = h_robots

    async def robots_robots_hang(self, w: Writer, target: str, headers: dict[str, str]) -> None:
        await asyncio.sleep(3600)

    async def robots_robots_huge(self, w: Writer, target: str, headers: dict[str, str]) -> None:
        await self.send(w, 200, b"# filler\n" * 120_000, ctype="text/plain")

    async def robots_robots_html(self, w: Writer, target: str, headers: dict[str, str]) -> None:
        await self.send(w, 200, page("Trang chủ", "Disallow: /"))

    async def robots_robots_500(self, w: Writer, target: str, headers: dict[str, str]) -> None:
        await self.send(w, 500, b"error")

    async def robots_blocked(self, w: Writer, target: str, headers: dict[str, str]) -> None:
        await self.send(w, 200, b"User-agent: *\nDisallow: /\n", ctype="text/plain")

    async def robots_robots_delay(self, w: Writer, target: str, headers: dict[str, str]) -> None:
        await self.send(w, 200, b"User-agent: *\nCrawl-delay: 999\n", ctype="text/plain")


def run_fetch(
    settings: Settings, url: str, *, engine: str = "aiohttp", **kwargs: Any
) -> FetchResult:
    async def go() -> FetchResult:
        async with build_client(settings, engine=engine) as client:
            kwargs.setdefault("backoff", 0.01)
            return await fetch(client, url, settings=settings, **kwargs)

    return asyncio.run(go())


def run_crawl(
    settings: Settings, url: str, *, engine: str = "aiohttp", **kwargs: Any
) -> PortalArtifacts:
    async def go() -> PortalArtifacts:
        async with build_client(settings, engine=engine) as client:
            return await crawl_portal(
                client, url, agency_id="a", agency_level="district", settings=settings,
                now=NOW, **kwargs,
            )  # fmt: skip

    return asyncio.run(go())
