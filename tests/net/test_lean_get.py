"""The aiohttp engine's short GET (`AiohttpTransport._lean_get`) against aiohttp's own.

Same bytes on the wire, same connection reuse, same results and failure codes: each
scenario runs through the short way and through `ClientSession.request` (`lean = False`)
against a raw loopback server that records what it was sent.
"""

from __future__ import annotations

import asyncio
import dataclasses
from typing import Any

import pytest

from probe.net.client import build_client
from probe.net.fetch import fetch
from probe.net.pools import AiohttpTransport, _request_head
from probe.settings import Settings

ANSWERS = {
    "/plain": b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 5\r\n\r\nhello",
    "/chunked": b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n",
    "/close": b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nuntil the end",
    "/continue": b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok",
    "/304": b'HTTP/1.1 304 Not Modified\r\nETag: "x"\r\n\r\n',
    "/garbage": b"NOT HTTP AT ALL\r\n\r\n",
    "/cut": b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly this",
    "/moved": b"HTTP/1.1 302 Found\r\nLocation: /plain\r\nContent-Length: 0\r\n\r\n",
    "/cookie": b"HTTP/1.1 200 OK\r\nSet-Cookie: s=1; Path=/\r\nContent-Length: 2\r\n\r\nok",
    "/silent": b"",
}
CLOSE_AFTER = {"/close", "/garbage", "/cut", "/silent"}


class Recorder:
    """A loopback HTTP/1.1 server answering by path; it records each request's bytes and
    the connection (by its number) it came on."""

    def __init__(self) -> None:
        self.requests: list[tuple[int, bytes]] = []
        self.connections = 0

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        number = self.connections
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                self.requests.append((number, head))
                path = head.split(b" ")[1].decode().split("?")[0]
                writer.write(ANSWERS.get(path, ANSWERS["/plain"]))
                await writer.drain()
                if path in CLOSE_AFTER:
                    break
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        writer.close()


def _comparable(result: Any) -> dict[str, Any]:
    fields = dataclasses.asdict(result)
    fields.pop("elapsed_ms")
    return fields


async def _scenario(lean: bool, settings: Settings, urls: list[tuple[str, str]]) -> Any:
    recorder = Recorder()
    server = await asyncio.start_server(recorder.handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    results = []
    try:
        async with build_client(settings) as client:
            transport = client.engine
            assert isinstance(transport, AiohttpTransport)
            _ = transport.session
            transport.lean = lean
            for path, etag in urls:
                url = f"http://127.0.0.1:{port}{path}"
                result = await fetch(client, url, settings=settings, etag=etag, retries=1)
                results.append(_comparable(result))
            cookies = sorted((c.name, c.value) for c in client.cookies.jar)
    finally:
        server.close()
        await server.wait_closed()
    requests = [(n, head.replace(str(port).encode(), b"PORT")) for n, head in recorder.requests]
    for result in results:
        for key in ("url", "final_url", "message"):
            result[key] = result[key].replace(str(port), "PORT")
        result["redirects"] = [(u.replace(str(port), "PORT"), s) for u, s in result["redirects"]]
    return results, requests, cookies


SCENARIOS = {
    "keep-alive": [("/plain", ""), ("/plain?q=1&x=%20", ""), ("/chunked", ""), ("/plain", "")],
    "conditional": [("/304", '"x"'), ("/plain", 'W/"y"'), ("/304", '"x"')],
    "close and reconnect": [("/close", ""), ("/plain", ""), ("/close", ""), ("/plain", "")],
    "informational": [("/continue", ""), ("/plain", "")],
    "redirect": [("/moved", ""), ("/plain", "")],
    "cookies": [("/cookie", ""), ("/plain", ""), ("/plain", "")],
    "failures": [("/garbage", ""), ("/cut", ""), ("/silent", ""), ("/plain", "")],
}


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_the_short_way_sends_and_reads_as_aiohttp(name: str) -> None:
    settings = Settings().with_(
        allow_private=True, min_delay=0.0, read_timeout=2.0, connect_timeout=2.0
    )
    urls = SCENARIOS[name]
    lean = asyncio.run(_scenario(True, settings, urls))
    plain = asyncio.run(_scenario(False, settings, urls))
    assert lean == plain
    results, requests, _ = lean
    assert len(requests) >= len(urls)
    assert all(r["error"] in ("", "invalid_response", "incomplete_body", "connection_closed")
               for r in results)  # fmt: skip


def test_requests_aiohttp_would_change_are_left_to_it() -> None:
    from yarl import URL

    base = [("Host", "a.vn"), ("User-Agent", "p"), ("Accept", "*/*"), ("Accept-Encoding", "br")]
    url = URL("http://a.vn/x?y=1", encoded=True)
    assert _request_head(url, base) == (
        b"GET /x?y=1 HTTP/1.1\r\nHost: a.vn\r\nUser-Agent: p\r\nAccept: */*\r\n"
        b"Accept-Encoding: br\r\n\r\n"
    )
    assert _request_head(url, base[1:] + base[:1]) is None  # Host not first
    assert _request_head(url, [*base, ("Host", "b.vn")]) is None  # a second Host
    assert _request_head(url, base[:-1]) is None  # aiohttp would add Accept-Encoding
    assert _request_head(url, [*base, ("X", "a\r\nInjected: 1")]) is None  # aiohttp refuses
    assert _request_head(url, [*base, ("X", "Hà Nội")]) is None  # not ASCII
    assert _request_head(url, [*base, ("Content-Length", "0")]) is None  # framing
    assert _request_head(URL("http://u:p@a.vn/", encoded=True), base) is None  # credentials
    assert _request_head(URL("ftp://a.vn/", encoded=True), base) is None
