"""Both HTTP engines behind `build_client` behave alike: codes, guard, pooling, cookies.

The aiohttp engine replaced httpcore for CPU (bench/micro_fetch.py); what the rest of
probe sees must not change with it. Each test here runs on both engines where the
behaviour is shared, and checks the aiohttp-specific seams (a resolver that also sees IP
literals, no DNS cache, no silent re-send, keep-alive per origin) directly.
"""

from __future__ import annotations

import asyncio
import http.cookiejar
import ipaddress
import random
import socket
import socketserver
import struct
import threading
import time
import urllib.request
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import aiohttp
import httpx
import pytest

import probe.net.client as client_module
from probe.net.client import (
    ENGINES,
    ProbeClient,
    RunCookieJar,
    aiohttp_session,
    build_client,
    ssl_context,
)
from probe.net.fetch import fetch
from probe.net.guard import AddressPolicy, IPAddress, RefusedAddress
from probe.net.pools import AiohttpTransport, header_dict, raw_header_dict
from probe.settings import ConnectTo, Settings
from tests.net.net_faults import FaultServer, Writer, run_fetch


class MoreFaults(FaultServer):
    """The fault server plus the connection-level faults only an engine swap can break."""

    async def h_silent_close(self, w: Writer, target: str, headers: dict[str, str]) -> None:
        """Read the request, close without a byte of response."""

    async def h_abort(self, w: Writer, target: str, headers: dict[str, str]) -> None:
        """Read the request, reset the connection (RST) before any response."""
        sock = w.get_extra_info("socket")
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        w.transport.abort()

    async def h_cookie(self, w: Writer, target: str, headers: dict[str, str]) -> None:
        extra = (("Set-Cookie", "sid=abc; Path=/"),) if target == "/login" else ()
        await self.send(w, 200, b"<html>ok</html>", extra=extra)

    async def h_dup(self, w: Writer, target: str, headers: dict[str, str]) -> None:
        extra = (("X-Seen", "1"), ("Vary", "Accept"), ("X-Seen", "2"))
        await self.send(w, 200, b"<html>dup</html>", extra=extra)


@pytest.fixture(scope="module")
def more() -> Iterator[MoreFaults]:
    server = MoreFaults().start()
    yield server
    server.stop()


@pytest.fixture
def on_more(more: MoreFaults, settings: Settings) -> Settings:
    more.hits.clear()
    more.seen_headers.clear()
    return settings.with_(connect_to=(ConnectTo("", None, "127.0.0.1", more.port),))


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize(
    ("host", "code"),
    [("silent-close", "connection_closed"), ("abort", "connection_reset")],
)
def test_connection_faults_keep_their_codes(
    more: MoreFaults, on_more: Settings, engine: str, host: str, code: str
) -> None:
    result = run_fetch(on_more, f"http://{host}.test/", engine=engine)
    assert result.error == code, result.message
    assert result.message


@pytest.mark.parametrize("engine", ENGINES)
def test_a_dropped_connection_is_not_silently_resent(
    more: MoreFaults, on_more: Settings, engine: str
) -> None:
    """aiohttp re-sends an idempotent request once on a dropped connection; probe turns
    that off, so the server sees exactly the attempts fetch reports."""
    result = run_fetch(on_more, "http://silent-close.test/", engine=engine)
    assert result.attempts == 1
    assert more.hits[("silent-close.test", "/")] == 1


@pytest.mark.parametrize("engine", ENGINES)
def test_connect_refused_is_connect_error(settings: Settings, engine: str) -> None:
    nowhere = settings.with_(connect_to=(ConnectTo("", None, "127.0.0.1", 1),), retries=1)
    result = run_fetch(nowhere, "http://down.test/", engine=engine)
    assert result.error == "connect_error", result.message


@pytest.mark.parametrize("engine", ENGINES)
def test_resolution_failure_and_timeout(
    settings: Settings, engine: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Name resolution is the guard's (`resolve_checked`) on both engines."""

    async def unknown(policy: AddressPolicy, host: str, port: int) -> IPAddress:
        raise LookupError(f"name resolution failed for {host!r}: [Errno -2] Name not known")

    async def hangs(policy: AddressPolicy, host: str, port: int) -> IPAddress:
        await asyncio.sleep(3600)
        raise AssertionError("unreachable")

    quick = settings.with_(connect_to=(), retries=1, connect_timeout=0.2)
    monkeypatch.setattr(client_module, "resolve_checked", unknown)
    failed = run_fetch(quick, "http://no-such-portal.test/", engine=engine)
    assert (failed.error, failed.message) == (
        "dns_error",
        "name resolution failed for 'no-such-portal.test': [Errno -2] Name not known",
    )
    monkeypatch.setattr(client_module, "resolve_checked", hangs)
    slow = run_fetch(quick, "http://slow-dns.test/", engine=engine)
    assert slow.error == "connect_timeout", slow.message
    assert "slow-dns.test" in slow.message


@pytest.mark.parametrize("engine", ENGINES)
def test_cookies_are_kept_and_sent_back(more: MoreFaults, on_more: Settings, engine: str) -> None:
    async def go() -> None:
        async with build_client(on_more, engine=engine) as client:
            for path in ("/", "/login", "/after"):
                result = await fetch(client, f"http://cookie.test{path}", settings=on_more)
                assert result.ok, result.message

    asyncio.run(go())
    assert "cookie" not in more.seen_headers[("cookie.test", "/")]
    assert more.seen_headers[("cookie.test", "/after")]["cookie"] == "sid=abc"


@pytest.mark.parametrize("engine", ENGINES)
def test_repeated_fields_are_joined_as_httpx_does(
    more: MoreFaults, on_more: Settings, engine: str
) -> None:
    result = run_fetch(on_more, "http://dup.test/", engine=engine)
    assert result.headers["x-seen"] == "1, 2"
    assert result.headers["vary"] == "Accept"
    headers = httpx.Headers(
        [("X-A", "1"), ("Set-Cookie", "a=1"), ("x-a", "2"), ("set-cookie", "b")]
    )
    assert header_dict(headers) == dict(headers)


def test_fetch_works_with_any_httpx_client(more: MoreFaults, on_more: Settings) -> None:
    """`fetch` takes a plain `httpx.AsyncClient` too (the lean path is only an addition)."""

    async def go() -> tuple[int, str]:
        transport = build_client(on_more).engine
        async with httpx.AsyncClient(transport=transport) as plain:
            assert not isinstance(plain, ProbeClient)
            result = await fetch(plain, "http://site.test/gioi-thieu", settings=on_more)
            return result.status, result.body.decode()

    status, body = asyncio.run(go())
    assert status == 200 and "Trang /gioi-thieu" in body


def test_the_default_engine_is_aiohttp(settings: Settings) -> None:
    client = build_client(settings)
    assert isinstance(client, ProbeClient) and isinstance(client.engine, AiohttpTransport)
    with pytest.raises(ValueError, match="unknown HTTP engine"):
        build_client(settings, engine="curl")


# -- the aiohttp seams, against a keep-alive server that counts connections ---------------


class _KeepAlive(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.connections = 0
        self.hosts: list[str] = []
        self.lock = threading.Lock()

    def verify_request(self, request: Any, client_address: Any) -> bool:
        with self.lock:
            self.connections += 1
        return True


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive

    def do_GET(self) -> None:
        self.server.hosts.append(self.headers["Host"])  # type: ignore[attr-defined]
        body = b"<html><body>ok</body></html>"
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        """Quiet."""


@pytest.fixture
def keepalive() -> Iterator[_KeepAlive]:
    server = _KeepAlive()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def _get_all(settings: Settings, urls: list[str], pause: float = 0.0) -> list[int]:
    async def go() -> list[int]:
        statuses = []
        async with build_client(settings) as client:
            for url in urls:
                statuses.append((await client.get(url)).status_code)
                await asyncio.sleep(pause)
        return statuses

    return asyncio.run(go())


def test_one_connection_per_origin_reused(keepalive: _KeepAlive, settings: Settings) -> None:
    port = keepalive.server_address[1]
    lax = settings.with_(connect_to=(ConnectTo("", None, "127.0.0.1", port),))
    urls = ["http://a.test/", "http://a.test/1", "http://b.test/", "http://a.test/2"]
    assert _get_all(lax, urls) == [200, 200, 200, 200]
    assert keepalive.connections == 2  # a.test and b.test: one pool each
    assert keepalive.hosts == ["a.test", "a.test", "b.test", "a.test"]


def test_idle_connections_expire(keepalive: _KeepAlive, settings: Settings) -> None:
    port = keepalive.server_address[1]
    lax = settings.with_(connect_to=(ConnectTo("", None, "127.0.0.1", port),))

    async def go() -> list[int]:
        session = aiohttp_session(lax, ssl_context(lax), limit=8, keepalive=0.1)
        async with httpx.AsyncClient(transport=AiohttpTransport(lambda: session)) as client:
            first = (await client.get("http://a.test/")).status_code
            await asyncio.sleep(0.4)
            return [first, (await client.get("http://a.test/")).status_code]

    assert asyncio.run(go()) == [200, 200]
    assert keepalive.connections == 2


def test_connect_to_applies_to_ip_literal_hosts(keepalive: _KeepAlive, settings: Settings) -> None:
    """aiohttp answers IP literals without its resolver; `GuardedConnector` does not."""
    port = keepalive.server_address[1]
    rule = ConnectTo("203.0.113.9", None, "127.0.0.1", port)
    assert _get_all(settings.with_(connect_to=(rule,)), ["http://203.0.113.9/"]) == [200]
    assert keepalive.hosts == ["203.0.113.9"]  # the Host header keeps the URL's host


def test_every_new_connection_is_resolved_and_checked(
    keepalive: _KeepAlive, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No DNS cache: a name that turns inward (DNS rebinding) is refused at the next connect."""
    port = keepalive.server_address[1]
    answers = iter(["127.0.0.1", "10.0.0.7"])
    seen: list[tuple[str, int]] = []
    strict = AddressPolicy(allow_private=False)

    async def rebinding(policy: AddressPolicy, host: str, port_: int) -> IPAddress:
        seen.append((host, port_))
        ip = ipaddress.ip_address(next(answers))
        if ip.is_private and not ip.is_loopback:
            strict.check_ip(ip, host=host)
        return ip

    monkeypatch.setattr(client_module, "resolve_checked", rebinding)
    lax = settings.with_(connect_to=(ConnectTo("portal.test", None, "", port),))

    async def go() -> None:
        session = aiohttp_session(lax, ssl_context(lax), limit=8, keepalive=0.05)
        async with httpx.AsyncClient(transport=AiohttpTransport(lambda: session)) as client:
            assert (await client.get("http://portal.test/")).status_code == 200
            await asyncio.sleep(0.3)  # the keep-alive connection expires
            with pytest.raises(RefusedAddress):
                await client.get("http://portal.test/")

    asyncio.run(go())
    assert seen == [("portal.test", port), ("portal.test", port)]
    assert keepalive.connections == 1


@pytest.mark.parametrize("engine", ENGINES)
def test_a_closed_client_sends_nothing(settings: Settings, engine: str) -> None:
    async def go() -> None:
        async with build_client(settings, engine=engine) as client:
            pass
        with pytest.raises(RuntimeError, match="closed"):
            await client.open_get("http://site.test/")
        result = await fetch(client, "http://site.test/", settings=settings)
        assert result.error == "error" and "closed" in result.message

    asyncio.run(go())

    def no_session() -> aiohttp.ClientSession:
        raise AssertionError("a closed transport must not open a session")

    transport = AiohttpTransport(no_session)
    asyncio.run(transport.aclose())
    with pytest.raises(RuntimeError, match="closed"):
        _ = transport.session


# -- the lean path of the default engine: no httpx objects, the same bytes either way ------


class _Capture(socketserver.ThreadingTCPServer):
    """Records every request head byte for byte; `/login` sets a cookie, and every
    answer carries a Latin-1 and a UTF-8 header value (httpx decodes the two apart)."""

    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _CaptureHandler)
        self.heads: list[bytes] = []


class _CaptureHandler(socketserver.StreamRequestHandler):
    def handle(self) -> None:
        while True:
            head = b""
            while not head.endswith(b"\r\n\r\n"):
                line = self.rfile.readline()
                if not line:
                    return
                head += line
            self.server.heads.append(head)  # type: ignore[attr-defined]
            cookie = b"Set-Cookie: s=1; Path=/\r\n" if b" /login " in head else b""
            self.wfile.write(
                b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n" + cookie
                + b"X-Note: \xe9t\xe9\r\nX-Utf: \xc3\xa9\r\nX-Note: 2\r\n\r\nok"
            )  # fmt: skip


@pytest.fixture
def capture() -> Iterator[_Capture]:
    server = _Capture()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


_WIRE_URLS = [
    "http://site.test/",
    "http://site.test/a?b=c&d=%20",
    "http://127.0.0.1/x",
    "http://site.test:8080/p",
    "http://site.test/a/./b/../c",
    "http://site.test/tin-tức?q=Việt",
    "http://việt.test/",
    "http://site.test/q?x=`{}`|^",
    "http://site.test/login",
    "http://site.test/after",
    "http://other.test/no-cookie-here",
]


def test_both_engines_put_the_same_bytes_on_the_wire(capture: _Capture, settings: Settings) -> None:
    """The default engine writes its requests itself (`ProbeClient._outgoing`); httpx's
    own transport sends what `httpx.Request` spells. Same bytes, cookies included, and
    the same fields read back from the same answers."""
    lax = settings.with_(connect_to=(ConnectTo("", None, "127.0.0.1", capture.server_address[1]),))
    etags = {"http://site.test/a?b=c&d=%20": '"e1"', "http://site.test/after": 'W/"x"'}

    async def go(engine: str) -> list[tuple[int, dict[str, str], bytes]]:
        async with build_client(lax, engine=engine) as client:
            out = []
            for url in _WIRE_URLS:
                result = await fetch(client, url, settings=lax, etag=etags.get(url, ""))
                out.append((result.status, result.headers, result.body))
            return out

    heads: dict[str, list[bytes]] = {}
    results = {}
    for engine in ENGINES:
        capture.heads.clear()
        results[engine] = asyncio.run(go(engine))
        heads[engine] = list(capture.heads)
    assert heads["aiohttp"] == heads["httpx"]
    assert len(heads["aiohttp"]) == len(_WIRE_URLS)
    after = heads["aiohttp"][_WIRE_URLS.index("http://site.test/after")]
    assert after.endswith(b'If-None-Match: W/"x"\r\nCookie: s=1\r\n\r\n')
    assert b"Cookie" not in heads["aiohttp"][-1]  # another host: the jar sends nothing
    assert b"GET /tin-t%E1%BB%A9c?q=Vi%E1%BB%87t " in heads["aiohttp"][5]
    assert b"Host: " + httpx.URL("http://việt.test/").netloc + b"\r\n" in heads["aiohttp"][6]
    assert results["aiohttp"] == results["httpx"]
    status, fields, body = results["aiohttp"][0]
    assert (status, body) == (200, b"ok")
    assert fields["x-note"] == "\xe9t\xe9, 2" and fields["x-utf"] == "\xc3\xa9"  # all Latin-1


@pytest.mark.parametrize(
    ("url", "host"),
    [
        ("http://site.test/", "site.test"),
        ("https://a-b.c.gov.vn:8443/x/y.html?p=1&q=%C3%A9", "a-b.c.gov.vn:8443"),
        ("http://127.0.1.1:8080/gioi-thieu/", "127.0.1.1:8080"),
        ("https://a.gov.vn/x?y=`{}`|^", "a.gov.vn"),
        ("http://a.gov.vn/a/.b/..c/%zz", "a.gov.vn"),
        ("http://256.1.1.1/", None),  # httpx refuses it
        ("http://01.2.3.4/", None),
        ("http://Site.test/", None),  # httpx lower-cases it, removes the default port …
        ("http://site.test:80/", None),
        ("https://site.test:443/", None),
        ("http://site.test/a/../b", None),
        ("http://site.test/a/.", None),
        ("http://site.test/tin-tức", None),  # … percent-encodes, IDNA-encodes
        ("http://việt.test/", None),
        ("http://site.test/a b", None),
        ("http://site.test/{x}", None),
        ("http://site.test/#top", None),
        ("http://u@site.test/", None),  # never sent by fetch: left to httpx
        ("http://[::1]/", None),
        ("http://site.test", None),
        ("HTTP://site.test/", None),
    ],
)
def test_a_plain_url_is_one_httpx_leaves_as_written(url: str, host: str | None) -> None:
    """The lean path sends a URL as written only when httpx would spell it so."""
    assert client_module.plain_authority(url) == host
    if host is not None:
        parsed = httpx.URL(url)
        assert str(parsed) == url and parsed.netloc.decode("ascii") == host


@pytest.mark.parametrize("jar", ["empty", "ascii", "latin1", "other-host"])
@pytest.mark.parametrize(
    "extra",
    [None, {"If-None-Match": '"v1"'}, {"If-None-Match": "é"}, {"Accept": "x/y"}, {"Cookie": "a=b"}],
)
@pytest.mark.parametrize(
    "url", ["http://site.test/a?b=1", "http://site.test:8080/", "http://SITE.test/a/../b"]
)
def test_the_lean_request_is_the_one_httpx_builds(
    settings: Settings, url: str, extra: dict[str, str] | None, jar: str
) -> None:
    """`_outgoing` against the request httpx builds and its cookie jar completes, field
    for field (and the same exception where httpx refuses)."""
    client = build_client(settings)
    if jar != "empty":
        domain = "other.test" if jar == "other-host" else "site.test"
        client.cookies.set("s", "\xe9" if jar == "latin1" else "1", domain=domain)

    def reference() -> tuple[str, list[tuple[str, str]]]:
        request = client._request(url, extra)
        if client.cookies:
            client.cookies.set_cookie_header(request)
        encoding = request.headers.encoding
        fields = [(k.decode(encoding), v.decode(encoding)) for k, v in request.headers.raw]
        return str(request.url), fields

    try:
        expected: object = reference()
    except Exception as exc:  # whatever httpx raises, the lean path must raise too
        expected = type(exc)
    try:
        got: object = client._outgoing(url, extra)
    except Exception as exc:
        got = type(exc)
    assert got == expected


def test_the_default_engine_makes_no_httpx_request_or_response(
    more: MoreFaults, on_more: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A page, a conditional 304 and a cookie-less redirect chain: no httpx object per
    request; a response that sets a cookie makes one, to hand it to the jar."""
    made: list[str] = []
    for cls in (httpx.Request, httpx.Response):
        init = cls.__init__

        def counting(self: Any, *args: Any, __init: Any = init, **kwargs: Any) -> None:
            made.append(type(self).__name__)
            __init(self, *args, **kwargs)

        monkeypatch.setattr(cls, "__init__", counting)

    async def go() -> list[str]:
        async with build_client(on_more) as client:
            codes = []
            for url, etag in [
                ("http://site.test/", ""),
                ("http://notmod.test/", '"v1"'),
                ("http://chain3.test/", ""),
            ]:
                result = await fetch(client, url, settings=on_more, etag=etag)
                codes.append(f"{result.status}{result.error}")
            assert not made
            await fetch(client, "http://cookie.test/login", settings=on_more)
            return codes

    assert asyncio.run(go()) == ["200", "304", "200"]
    assert made == ["Request", "Response"]


def test_raw_headers_are_decoded_as_httpx_decodes_them() -> None:
    for raw in (
        [(b"A", b"1"), (b"a", b"2"), (b"B", b"x")],
        [(b"X", b"\xc3\xa9"), (b"Y", b"z")],
        [(b"X", b"\xc3\xa9"), (b"Y", b"\xe9")],
        [(b"X-\xc3\xa9", b"v")],
        [],
    ):
        assert raw_header_dict(raw) == header_dict(httpx.Headers(raw))


def test_the_run_jar_sends_and_keeps_what_the_stdlib_jar_does(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Random Set-Cookie answers and requests over related hosts, with a clock that moves
    past expiry dates: the same Cookie header every time, the same cookies kept."""
    rnd = random.Random(20261126)
    clock = [1_800_000_000.0]
    monkeypatch.setattr(time, "time", lambda: clock[0])
    hosts = ["gov.vn", "a.gov.vn", "b.a.gov.vn", "xa.gov.vn", "localhost", "127.0.0.1", "A.gov.vn"]
    hosts += [f"p{i}.gov.vn" for i in range(30)]
    domains = [
        "",
        "; Domain=gov.vn",
        "; Domain=.a.gov.vn",
        "; Domain=a.gov.vn",
        "; Domain=xa.gov.vn",
    ]
    jars = {
        "stdlib": httpx.Cookies(http.cookiejar.CookieJar()),
        "run": httpx.Cookies(RunCookieJar()),
    }
    sent = 0
    for step in range(3000):
        host = rnd.choice(hosts)
        url = f"{rnd.choice(['http', 'https'])}://{host}/{rnd.choice(['', 'a/', 'a/b'])}"
        if rnd.random() < 0.4:
            name = rnd.choice(["sid", "lang", "ASP.NET_SessionId"])
            attrs = rnd.choice(domains) + rnd.choice(["", "; Path=/a", "; Path=/", "; Secure"])
            attrs += rnd.choice(["", "", "; Max-Age=0", f"; Max-Age={rnd.randint(1, 50)}"])
            set_cookie = f"{name}={step}{attrs}"
            for cookies in jars.values():
                request = httpx.Request("GET", url)
                cookies.extract_cookies(
                    httpx.Response(200, headers=[("Set-Cookie", set_cookie)], request=request)
                )
        else:
            headers = {}
            for label, cookies in jars.items():
                request = httpx.Request("GET", url)
                cookies.set_cookie_header(request)
                headers[label] = request.headers.get("cookie")
            assert headers["run"] == headers["stdlib"], url
            sent += headers["run"] is not None
        clock[0] += rnd.choice([0.0, 1.0, 7.0])
        kept = {
            label: sorted((c.domain, c.path, c.name, c.value) for c in cookies.jar)
            for label, cookies in jars.items()
        }
        assert kept["run"] == kept["stdlib"]
    assert sent > 100  # the comparison is not between two empty jars


def test_domain_candidates_cover_every_domain_the_policy_accepts() -> None:
    policy = http.cookiejar.DefaultCookiePolicy()
    domains = ["", ".", "gov.vn", ".gov.vn", "vn", ".vn", "a.gov.vn", ".a.gov.vn", "xa.gov.vn",
               ".xa.gov.vn", "localhost", ".local", "localhost.local", "127.0.0.1", ".0.0.1"]  # fmt: skip
    for url in [
        "http://a.gov.vn/",
        "http://b.a.gov.vn/x",
        "http://localhost/",
        "http://127.0.0.1/",
    ]:
        request = urllib.request.Request(url)
        candidates = client_module._domain_candidates(*http.cookiejar.eff_request_host(request))
        for domain in domains:
            if policy.domain_return_ok(domain, request):
                assert domain in candidates, (url, domain)
