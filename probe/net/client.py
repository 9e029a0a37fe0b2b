"""The one HTTP client of a run, with the address guard and `--connect-to` at connect time.

The guard must run where the socket is opened, not where the URL is read: a name can
resolve differently the second time (DNS rebinding) and every redirect names a new
host. Whatever engine sends the requests, each new connection resolves its name once,
checks every address and connects to the checked address, while the Host header and the
TLS server name keep the real host name.

Two engines sit behind the same httpx `AsyncClient` API (`build_client(engine=...)`):

- "aiohttp" (the default): requests are sent by one aiohttp session
  (`pools.AiohttpTransport`); `fetch`'s GET (`ProbeClient.open_get`) skips httpx's
  request and response objects there, sending the bytes httpx would have sent. On the
  fleet it costs a third of httpcore's CPU per page (`bench/micro_fetch.py`). The guard
  is `GuardedResolver`, called for every new connection (no DNS cache), with
  `GuardedConnector` routing IP literals through it too.
- "httpx": httpx's own transport; `GuardedBackend` wraps httpcore's network backend.
  The backend is set on the transport's pool rather than in a hand-written transport:
  `httpx.AsyncHTTPTransport` also converts requests/responses and maps httpcore errors
  to httpx errors; `guarded_transport` verifies the attribute (it fails loudly if httpx
  changes shape). Kept as the measured alternative and a fallback.
"""

from __future__ import annotations

import asyncio
import heapq
import http.cookiejar
import inspect
import re
import socket
import ssl
import time
import typing
import urllib.request

import aiohttp
import anyio
import certifi
import httpcore
import httpx
from aiohttp.abc import AbstractResolver, ResolveResult

from probe.net.guard import AddressPolicy, resolve_checked
from probe.net.pools import (
    AiohttpTransport,
    HttpxReply,
    OriginRouter,
    Reply,
    ResolveTimeout,
    TlsResponse,
)
from probe.settings import ConnectTo, Settings


def connect_target(rules: tuple[ConnectTo, ...], host: str, port: int) -> tuple[str, int]:
    """Where a request for host:port really goes (curl `--connect-to`: first match wins)."""
    for rule in rules:
        if rule.matches(host, port):
            return rule.addr or host, rule.addr_port or port
    return host, port


class GuardedBackend(httpcore.AsyncNetworkBackend):
    """An httpcore network backend that applies `--connect-to` and the address guard."""

    def __init__(
        self,
        policy: AddressPolicy,
        connect_to: tuple[ConnectTo, ...] = (),
        inner: httpcore.AsyncNetworkBackend | None = None,
    ) -> None:
        self.policy = policy
        self.connect_to = connect_to
        self.inner = inner or httpcore.AnyIOBackend()

    def target(self, host: str, port: int) -> tuple[str, int]:
        """Where a request for host:port really goes (curl `--connect-to` semantics)."""
        return connect_target(self.connect_to, host, port)

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: typing.Iterable[typing.Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        """Resolve once, refuse forbidden addresses, connect to the checked address."""
        addr, addr_port = self.target(host, port)
        try:
            with anyio.fail_after(timeout):
                ip = await resolve_checked(self.policy, addr, addr_port)
        except TimeoutError:
            raise httpcore.ConnectTimeout(f"name resolution timed out for {addr!r}") from None
        except LookupError as exc:
            raise httpcore.ConnectError(str(exc)) from None
        return await self.inner.connect_tcp(
            str(ip),
            addr_port,
            timeout=timeout,
            local_address=local_address,
            socket_options=socket_options,
        )

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: typing.Iterable[typing.Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        """Unix sockets are never a crawl target."""
        raise httpcore.ConnectError("unix sockets are not allowed")

    async def sleep(self, seconds: float) -> None:
        """Delegate (httpcore uses it between its own connect retries)."""
        await self.inner.sleep(seconds)


def ssl_context(settings: Settings) -> ssl.SSLContext:
    """Verifying TLS context; `settings.ca_bundle` adds a CA (tests, intranets)."""
    ctx = ssl.create_default_context(cafile=certifi.where())
    if settings.ca_bundle:
        ctx.load_verify_locations(cafile=settings.ca_bundle)
    return ctx


def guarded_transport(
    settings: Settings, context: ssl.SSLContext, limits: httpx.Limits
) -> httpx.AsyncHTTPTransport:
    """An httpx transport whose pool connects only through a `GuardedBackend`."""
    transport = httpx.AsyncHTTPTransport(
        verify=context, http1=True, http2=False, limits=limits, trust_env=False
    )
    pool = getattr(transport, "_pool", None)
    if not isinstance(pool, httpcore.AsyncConnectionPool) or not hasattr(pool, "_network_backend"):
        raise RuntimeError("httpx transport layout changed: cannot install the address guard")
    pool._network_backend = GuardedBackend(
        AddressPolicy(settings.allow_private), settings.connect_to
    )
    return transport


class GuardedResolver(AbstractResolver):
    """aiohttp's resolver hook with `--connect-to` and the address guard.

    Called once per new connection (the connector is built with `use_dns_cache=False`,
    and `GuardedConnector` routes IP literals here too): it applies the `--connect-to`
    rules (host and port), resolves once, refuses if any address is refused and returns
    only the checked address, so the socket layer connects to exactly that literal. The
    TLS server name and the Host header come from the URL, i.e. the real host.
    """

    def __init__(
        self, policy: AddressPolicy, connect_to: tuple[ConnectTo, ...], timeout: float | None
    ) -> None:
        self.policy = policy
        self.connect_to = connect_to
        self.timeout = timeout

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_UNSPEC
    ) -> list[ResolveResult]:
        addr, addr_port = connect_target(self.connect_to, host, port)
        try:
            async with asyncio.timeout(self.timeout):
                ip = await resolve_checked(self.policy, addr, addr_port)
        except TimeoutError:
            raise ResolveTimeout(f"name resolution timed out for {addr!r}") from None
        return [
            {
                "hostname": host,
                "host": str(ip),
                "port": addr_port,
                "family": socket.AF_INET6 if ip.version == 6 else socket.AF_INET,
                "proto": 0,
                "flags": socket.AI_NUMERICHOST,
            }
        ]

    async def close(self) -> None:
        """Nothing to release: resolution runs in `guard.resolve`."""


class GuardedConnector(aiohttp.TCPConnector):
    """A `TCPConnector` that sends IP literals through the resolver as well.

    aiohttp answers IP-literal hosts itself, without asking the resolver, so a
    `--connect-to` rule for a literal host would be ignored and the connect-time check
    skipped. `_resolve_host` is private aiohttp API (stable from 3.10 to 3.14);
    `aiohttp_session` checks that it is still there and fails loudly if not.
    """

    _resolver: GuardedResolver

    async def _resolve_host(
        self, host: str, port: int, traces: typing.Any = None
    ) -> list[ResolveResult]:
        return await self._resolver.resolve(host, port)


def _check_aiohttp_layout() -> None:
    """The private seams `aiohttp_session` relies on, checked before a run starts."""
    resolve_host = getattr(aiohttp.TCPConnector, "_resolve_host", None)
    parameters = list(inspect.signature(resolve_host).parameters) if resolve_host else []
    if parameters[:3] != ["self", "host", "port"]:
        raise RuntimeError("aiohttp connector layout changed: cannot install the address guard")


def aiohttp_session(
    settings: Settings, context: ssl.SSLContext, *, limit: int, keepalive: float
) -> aiohttp.ClientSession:
    """The aiohttp session under the run's client: guarded, no cookies, nothing automatic.

    No DNS cache (every connection is resolved and checked), no environment (proxies,
    netrc), no cookie jar (httpx keeps the client's cookies), no decompression (fetch
    decodes under its caps), no redirects (fetch follows them hop by hop) and no silent
    re-send of a request whose connection dropped: retries are fetch's, counted.
    `limit` bounds the run's open connections; per-host politeness is the HostGate's.
    """
    _check_aiohttp_layout()
    resolver = GuardedResolver(
        AddressPolicy(settings.allow_private), settings.connect_to, settings.connect_timeout
    )
    connector = GuardedConnector(
        resolver=resolver,
        use_dns_cache=False,
        ssl=context,
        limit=limit,
        limit_per_host=0,
        keepalive_timeout=keepalive,
        happy_eyeballs_delay=None,
    )
    session = aiohttp.ClientSession(
        connector=connector,
        cookie_jar=aiohttp.DummyCookieJar(),
        auto_decompress=False,
        trust_env=False,
        raise_for_status=False,
        requote_redirect_url=False,
        response_class=TlsResponse,
    )
    # Private (aiohttp >= 3.11, what its own test client sets). Without it an idempotent
    # request whose connection drops is re-sent once by aiohttp: a politeness detail,
    # not a safety one (the re-send connects through the same guard), so no failure.
    if hasattr(session, "_retry_connection"):
        session._retry_connection = False
    return session


ENGINES = ("aiohttp", "httpx")


# A URL that `httpx.URL` leaves exactly as written: lower-case http(s), no userinfo, a
# lower-case ASCII host (a valid dotted quad or a name), a port other than the scheme's
# default, then only characters httpx does not percent-encode in a path and a query, no
# fragment. Canonical URLs of ASCII pages are; any other URL goes through httpx.
_PLAIN_URL = re.compile(
    r"(?P<scheme>https?)://(?P<host>[a-z0-9.-]+)(?::(?P<port>[1-9][0-9]{0,4}))?"
    r"(?P<path>/[!$%&'()*+,\-./0-9:;=@A-Z\[\\\]^_a-z|~]*)"
    r"(?:\?[!$%&'()*+,\-./0-9:;=?@A-Z\[\\\]^_`a-z{|}~]*)?"
)
_DEFAULT_PORTS = {"http": "80", "https": "443"}
_DOTTED = re.compile(r"[0-9]+\.[0-9]+\.[0-9]+\.[0-9]+")
_OCTET = r"(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])"
_IPV4 = re.compile(rf"{_OCTET}\.{_OCTET}\.{_OCTET}\.{_OCTET}")
_DOT_SEGMENT = re.compile(r"/\.\.?(?:/|$)")
_MAX_URL = 65536  # httpx refuses longer URLs
# Headers whose presence changes what httpx adds (Host) or what the jar adds (cookies).
_OWN_HEADERS = frozenset({"host", "cookie", "cookie2"})


def plain_authority(url: str) -> str | None:
    """The Host header of `url` if `str(httpx.URL(url)) == url`, else None (ask httpx).

    Sufficient, not necessary: None only means httpx has to parse it.
    """
    if len(url) > _MAX_URL:
        return None
    match = _PLAIN_URL.fullmatch(url)
    if match is None:
        return None
    scheme, host, port, path = match.group("scheme", "host", "port", "path")
    if port is not None and port == _DEFAULT_PORTS[scheme]:
        return None
    if _DOTTED.fullmatch(host) and not _IPV4.fullmatch(host):
        return None  # httpx refuses it as an IPv4 address
    if "/." in path and _DOT_SEGMENT.search(path):
        return None  # httpx removes dot segments
    return host if port is None else f"{host}:{port}"


class RunCookieJar(http.cookiejar.CookieJar):
    """The run's cookie jar: the stdlib jar's answers, without walking the whole jar.

    One client serves a whole run, so its jar keeps a session cookie from every portal
    that sets one; the stdlib jar asks its policy about every domain it holds and then
    walks every cookie for expiry on each request: about 1 ms a request with 200 portals'
    cookies (`len()` walks them all again). Here a request looks only at the domains
    that can match its host (every other one fails `DefaultCookiePolicy.domain_return_ok`,
    which is still asked for the rest), in the jar's order, and expiry is a heap of the
    cookies that have an expiry date (the same cookies go, at the same calls). Only the
    default policy is supported.
    """

    def __init__(self) -> None:
        super().__init__()
        self._expiring: list[tuple[float, int, http.cookiejar.Cookie]] = []
        self._added = 0

    def may_have_cookies(self) -> bool:
        """False only when the jar is sure to send nothing (cheaper than `len`)."""
        return bool(self._cookies)

    def _cookies_for_request(self, request: typing.Any) -> list[http.cookiejar.Cookie]:
        names = _domain_candidates(*http.cookiejar.eff_request_host(request))
        cookies: list[http.cookiejar.Cookie] = []
        for domain in [d for d in self._cookies if d in names]:
            cookies.extend(self._cookies_for_domain(domain, request))
        return cookies

    def set_cookie(self, cookie: http.cookiejar.Cookie) -> None:
        with self._cookies_lock:
            super().set_cookie(cookie)
            if cookie.expires is not None:
                self._added += 1
                heapq.heappush(self._expiring, (cookie.expires, self._added, cookie))

    def clear_expired_cookies(self) -> None:
        with self._cookies_lock:
            now = time.time()
            heap = self._expiring
            while heap and heap[0][0] <= now:
                cookie = heapq.heappop(heap)[2]
                held = self._cookies.get(cookie.domain, {}).get(cookie.path, {})
                if held.get(cookie.name) is cookie:
                    self.clear(cookie.domain, cookie.path, cookie.name)


def _domain_candidates(req_host: str, erhn: str) -> set[str]:
    """Every cookie domain `domain_return_ok` can accept for these request host names.

    It accepts a domain when ".host" ends with it (dotted if it is not): a suffix of
    ".host" that starts at a dot, with or without that dot, or the empty domain.
    """
    names = {""}
    for host in (req_host, erhn):
        dotted = host if host.startswith(".") else "." + host
        at = 0
        while at >= 0:
            names.add(dotted[at:])
            names.add(dotted[at + 1 :])
            at = dotted.find(".", at + 1)
    return names


_Base = tuple[list[tuple[str, str]], frozenset[str]]


def _plain_extra(headers: dict[str, str], taken: frozenset[str]) -> list[tuple[str, str]] | None:
    """A request's own headers as `Headers.update` appends them after the client's, or
    None if httpx must merge them (a name already there, a Host or cookie header, not
    ASCII: httpx would replace in place or fail to encode)."""
    names = set(taken)
    out = []
    for name, value in headers.items():
        lower = name.lower()
        if lower in names or lower in _OWN_HEADERS or not (name.isascii() and value.isascii()):
            return None
        names.add(lower)
        out.append((name, value))
    return out


class ProbeClient(httpx.AsyncClient):
    """httpx's `AsyncClient`, plus `open_get`: the lean GET `fetch` sends every page with.

    Everything else is the plain httpx API (any code may use `get`, `stream`, `send` …).
    """

    def __init__(self, *, transport: httpx.AsyncBaseTransport, **kwargs: typing.Any) -> None:
        super().__init__(transport=transport, **kwargs)
        self.engine = transport
        self._timeouts: tuple[httpx.Timeout, dict[str, float | None]] | None = None
        self._base: tuple[list[tuple[bytes, bytes]], _Base | None] | None = None

    def _timeout_dict(self) -> dict[str, float | None]:
        """The client's timeouts as the request extension (rebuilt if they were changed)."""
        cached = self._timeouts
        if cached is None or cached[0] is not self.timeout:
            cached = self._timeouts = (self.timeout, self.timeout.as_dict())
        return cached[1]

    def _base_headers(self) -> tuple[list[tuple[str, str]], frozenset[str]] | None:
        """The client's headers as sent and their lower-case names, or None if
        `httpx.Request` must spell them (not ASCII, or a Host or cookie header of their
        own). Rebuilt whenever they change (`client.headers` is mutable in place)."""
        raw = self.headers.raw
        cached = self._base
        if cached is None or cached[0] != raw:
            names = frozenset(k.lower().decode("latin-1") for k, _ in raw)
            plain = all(k.isascii() and v.isascii() for k, v in raw)
            if not plain or not names.isdisjoint(_OWN_HEADERS):
                cached = self._base = (raw, None)
            else:
                cached = self._base = (raw, ([(k.decode(), v.decode()) for k, v in raw], names))
        return cached[1]

    def _request(self, url: str, headers: dict[str, str] | None) -> httpx.Request:
        """The request `send(build_request("GET", url, headers=headers))` would send."""
        merged = self.headers
        if headers:
            merged = httpx.Headers(merged)
            merged.update(headers)
        return httpx.Request(
            "GET", url, headers=merged, extensions={"timeout": dict(self._timeout_dict())}
        )

    def _outgoing(
        self, url: str, headers: dict[str, str] | None
    ) -> tuple[str, list[tuple[str, str]]]:
        """(URL, header fields) exactly as `_request` plus the jar's cookies would send them.

        Written directly for the common case (a plain URL, ASCII headers of our own, ASCII
        cookies); anything else is built by httpx and read back.
        """
        host = plain_authority(url)
        base = self._base_headers() if host is not None else None
        if base is not None:
            fields = [("Host", host), *base[0]]
            extra = _plain_extra(headers, base[1]) if headers else ()
            if extra is not None:
                fields += extra
                if not self._may_have_cookies() or self._add_cookie(url, fields):
                    return url, fields
        request = self._request(url, headers)
        if self._may_have_cookies():
            self.cookies.set_cookie_header(request)
        encoding = request.headers.encoding
        raw = request.headers.raw
        return str(request.url), [(k.decode(encoding), v.decode(encoding)) for k, v in raw]

    def _may_have_cookies(self) -> bool:
        """Whether the jar may send a cookie (an empty jar adds no header either way)."""
        jar = self.cookies.jar
        if isinstance(jar, RunCookieJar):
            return jar.may_have_cookies()
        return bool(self.cookies)

    def _add_cookie(self, url: str, fields: list[tuple[str, str]]) -> bool:
        """Append the jar's Cookie header for `url` to `fields`; False: let httpx add it.

        The jar reads only the URL of the request (httpx hands it a `urllib` request
        too); an ASCII header is appended last, as httpx's `set_cookie_header` does. httpx
        would fail to encode any other (its headers are ASCII by then): left to it.
        """
        compat = urllib.request.Request(url, method="GET")
        self.cookies.jar.add_cookie_header(compat)
        added = compat.unredirected_hdrs
        if not added:
            return True
        cookie = added.get("Cookie")
        if len(added) > 1 or cookie is None or not cookie.isascii():
            return False
        fields.append(("Cookie", cookie))
        return True

    async def open_get(self, url: str, headers: dict[str, str] | None = None) -> Reply:
        """GET `url` with the client's headers (plus `headers`); the body is left unread.

        The same request `send(build_request("GET", url, headers=headers), stream=True)`
        makes, for a fraction of httpx's per-request CPU: `build_request` + `send` also
        merge base URL and query parameters, run an auth flow and event hooks, prepare a
        redirect request (fetch follows redirects itself) and parse every response for
        cookies (through `urllib` and `email` objects). On the aiohttp engine no httpx
        object is made at all unless the URL or the headers need httpx's spelling
        (`_outgoing`, `AiohttpReply`): the same bytes go out, and a fetch costs about
        30 % less CPU (`bench/micro_fetch.py`, 200 and 304 alike). Cookies behave as
        before: the jar's cookies are sent with each request, and a response is parsed
        for cookies when it sets one. Event hooks are not run.
        """
        if self.is_closed:
            raise RuntimeError("Cannot send a request, as the client has been closed.")
        engine = self.engine
        if isinstance(engine, AiohttpTransport):
            target, fields = self._outgoing(url, headers)
            reply = await engine.open("GET", target, fields, self._timeout_dict())
            if "set-cookie" in reply.headers:
                response = httpx.Response(
                    reply.status,
                    headers=reply.response.raw_headers,
                    request=self._request(url, headers),
                )
                self.cookies.extract_cookies(response)
            return reply
        request = self._request(url, headers)
        if self._may_have_cookies():
            self.cookies.set_cookie_header(request)
        response = await engine.handle_async_request(request)
        response.request = request
        if "set-cookie" in response.headers:
            self.cookies.extract_cookies(response)
        return HttpxReply(response)


def build_client(settings: Settings, *, engine: str = "aiohttp") -> ProbeClient:
    """The run's client: HTTP/1.1, honest User-Agent, guarded connects, no auto-redirects.

    `engine` chooses what sends the requests behind the same httpx API. "aiohttp" (the
    default, chosen on `bench/micro_fetch.py`'s figures) is an `AiohttpTransport` over one
    aiohttp session whose `GuardedConnector` applies `--connect-to` and the address guard.
    "httpx" is httpx's own transport behind an `OriginRouter`: one small httpcore pool per
    origin (see `pools.py` for why), each with the run's `GuardedBackend` and SSL context;
    it stays as the measured alternative and a fallback. Connection limits allow a whole
    run's requests, so hosts shared by many portals never queue on a pool; the per-host
    gate bounds them.
    """
    per_run = max(1, settings.portal_concurrency) * max(1, settings.per_host_concurrency)
    per_host = max(1, settings.per_host_concurrency)
    keepalive = 15.0
    context = ssl_context(settings)
    transport: httpx.AsyncBaseTransport
    if engine == "aiohttp":
        transport = AiohttpTransport(
            lambda: aiohttp_session(settings, context, limit=per_run * 2, keepalive=keepalive)
        )
    elif engine == "httpx":
        limits = httpx.Limits(
            max_connections=per_run * 2,
            max_keepalive_connections=per_host * 2,
            keepalive_expiry=keepalive,
        )
        transport = OriginRouter(
            lambda: guarded_transport(settings, context, limits), idle_after=keepalive
        )
    else:
        raise ValueError(f"unknown HTTP engine {engine!r} (one of {', '.join(ENGINES)})")
    return ProbeClient(
        transport=transport,
        headers={
            "User-Agent": settings.user_agent,
            "Accept": "text/html,application/xhtml+xml;q=0.9,*/*;q=0.5",
            "Accept-Language": "vi,en;q=0.5",
            "Accept-Encoding": "gzip, deflate, br",
        },
        timeout=httpx.Timeout(
            connect=settings.connect_timeout,
            read=settings.read_timeout,
            write=settings.read_timeout,
            pool=settings.connect_timeout,
        ),
        cookies=RunCookieJar(),
        follow_redirects=False,
        trust_env=False,
    )
