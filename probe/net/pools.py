"""Where a run's connections live: one pool per origin, whichever engine sends requests.

httpcore's `AsyncConnectionPool` walks every connection it holds on each request and on
each response close (and its idle-count test inside that walk is quadratic). With one
pool for the whole run, 32 portals in flight at 4 connections each plus the finished
portals' keep-alive sockets made that walk 29 % of the crawl's CPU. A portal only ever
talks to one or two origins, so `OriginRouter` gives each origin a pool of its own (a
handful of connections, a constant walk) and closes pools nobody has used for
`idle_after` seconds, so a run over thousands of portals does not keep thousands of pools.
Every pool is built by the same factory (`client.guarded_transport`), so each one
connects through the same `GuardedBackend` and SSL context: the address guard is applied
at connect time exactly as with a single pool.

aiohttp's connector keeps the same shape by itself (a dict of pools keyed by host, port
and TLS, O(1) work per request, idle connections closed after the keep-alive timeout), so
the aiohttp engine needs no router: `AiohttpTransport` sends through one session and maps
aiohttp's exceptions onto the httpx ones `fetch._classify` reads, so every failure keeps
its code. `fetch` reads a response through `Reply` on either engine; on aiohttp that is
`AiohttpReply`, straight over aiohttp's response, because making an `httpx.Request` and
`httpx.Response` for every page was about a third of the fetch path's CPU.
"""

from __future__ import annotations

import time
import typing
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field

import aiohttp
import httpx
import yarl


@dataclass(slots=True)
class _Route:
    transport: httpx.AsyncBaseTransport
    in_flight: int = 0
    idle_since: float = field(default_factory=time.monotonic)


class _ReleasingStream(httpx.AsyncByteStream):
    """A response body that tells the router when its request is over (closed once)."""

    def __init__(self, inner: httpx.AsyncByteStream, release: Callable[[], None]) -> None:
        self._inner = inner
        self._release: Callable[[], None] | None = release

    async def __aiter__(self) -> AsyncIterator[bytes]:
        async for chunk in self._inner:
            yield chunk

    async def aclose(self) -> None:
        try:
            await self._inner.aclose()
        finally:
            if self._release is not None:
                release, self._release = self._release, None
                release()


class OriginRouter(httpx.AsyncBaseTransport):
    """Route each request to its origin's own transport, made on first use by `factory`."""

    def __init__(
        self, factory: Callable[[], httpx.AsyncBaseTransport], *, idle_after: float
    ) -> None:
        self._factory = factory
        self._idle_after = max(0.0, idle_after)
        self._routes: dict[tuple[bytes, bytes, int | None], _Route] = {}
        self._next_sweep = time.monotonic() + self._idle_after

    @property
    def origins(self) -> int:
        """How many origin pools are open (for tests and diagnostics)."""
        return len(self._routes)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        url = request.url
        key = (url.raw_scheme, url.raw_host, url.port)
        now = time.monotonic()
        if now >= self._next_sweep:
            await self.close_idle(now)
        route = self._routes.get(key)
        if route is None:
            route = self._routes[key] = _Route(self._factory())
        route.in_flight += 1

        def release() -> None:
            route.in_flight -= 1
            route.idle_since = time.monotonic()

        try:
            response = await route.transport.handle_async_request(request)
        except BaseException:
            release()
            raise
        assert isinstance(response.stream, httpx.AsyncByteStream)
        response.stream = _ReleasingStream(response.stream, release)
        return response

    async def close_idle(self, now: float | None = None) -> int:
        """Close the pools of origins with nothing in flight for `idle_after` seconds."""
        now = time.monotonic() if now is None else now
        self._next_sweep = now + max(1.0, self._idle_after / 2)
        cutoff = now - self._idle_after
        stale = [
            key
            for key, route in self._routes.items()
            if route.in_flight == 0 and route.idle_since <= cutoff
        ]
        # Unlinked before awaiting: a request arriving meanwhile gets a fresh pool.
        closing = [self._routes.pop(key).transport for key in stale]
        for transport in closing:
            await transport.aclose()
        return len(closing)

    async def aclose(self) -> None:
        routes, self._routes = self._routes, {}
        for route in routes.values():
            await route.transport.aclose()


# -- the aiohttp engine ---------------------------------------------------------------------


class ResolveTimeout(TimeoutError):
    """Name resolution ran out of the connect timeout (kept apart for its message)."""


def _incomplete_body(exc: aiohttp.ClientPayloadError) -> httpx.TransportError:
    """A body cut short: a clean close is an incomplete body, a socket error a reset.

    aiohttp keeps the parser's error as the cause and writes the socket's error (when
    there was one) only into the message: `"... <ContentLengthError: ...>. ConnectionReset
    Error(104, ...)"`. httpcore told them apart the same way (h11's "peer closed" against a
    read error), and the report explains them differently.
    """
    text = str(exc)
    if ">. " in text:
        return httpx.ReadError(text)
    return httpx.RemoteProtocolError(
        f"peer closed connection without sending complete message body: {text}"
    )


def to_httpx_error(exc: BaseException) -> tuple[BaseException, BaseException]:
    """(httpx exception, its cause) for an aiohttp or resolver failure; `exc` itself when
    it has no httpx meaning (the guard's `RefusedAddress` keeps its own code).

    The codes `fetch._classify` derives are the same as with httpcore: connect_timeout,
    read_timeout, connect_error, dns_error ("name resolution failed ..."), tls_error (the
    `ssl` error is made the cause, so its own message is reported), connection_closed,
    incomplete_body, invalid_response, connection_reset, invalid_url.
    """
    if isinstance(exc, aiohttp.ConnectionTimeoutError):
        cause = exc.__cause__
        if isinstance(cause, ResolveTimeout):
            return httpx.ConnectTimeout(str(cause)), exc
        return httpx.ConnectTimeout(str(exc)), exc
    if isinstance(exc, aiohttp.SocketTimeoutError):
        return httpx.ReadTimeout(str(exc)), exc
    if isinstance(exc, TimeoutError):  # aiohttp's other timeouts, a bare asyncio one
        return httpx.TimeoutException(str(exc) or "timed out"), exc
    if isinstance(exc, aiohttp.ClientConnectorCertificateError):
        return httpx.ConnectError(str(exc.certificate_error)), exc.certificate_error
    if isinstance(exc, aiohttp.ClientConnectorSSLError):
        return httpx.ConnectError(str(exc.os_error)), exc.os_error
    if isinstance(exc, aiohttp.ClientConnectorError):
        return httpx.ConnectError(str(exc)), exc
    if isinstance(exc, aiohttp.ServerDisconnectedError):
        return httpx.RemoteProtocolError("Server disconnected without sending a response."), exc
    if isinstance(exc, aiohttp.ClientPayloadError):
        return _incomplete_body(exc), exc
    if isinstance(exc, aiohttp.ClientResponseError):  # bad status line, oversized headers …
        return httpx.RemoteProtocolError(exc.message or str(exc)), exc
    if isinstance(exc, aiohttp.InvalidURL | aiohttp.NonHttpUrlClientError):
        return httpx.InvalidURL(str(exc)), exc
    if isinstance(exc, aiohttp.ClientConnectionError | OSError):  # resets, lost connections
        return httpx.ReadError(str(exc) or type(exc).__name__), exc
    if isinstance(exc, LookupError):  # guard.resolve: "name resolution failed for ..."
        return httpx.ConnectError(str(exc)), exc
    return exc, exc


def _raise_as_httpx(exc: BaseException) -> typing.NoReturn:
    mapped, cause = to_httpx_error(exc)
    if mapped is exc:
        raise exc
    raise mapped from cause


_ERRORS = (aiohttp.ClientError, OSError, LookupError)


class TlsResponse(aiohttp.ClientResponse):
    """A response that keeps its connection's TLS object (the session's `response_class`).

    A small response is read to its end inside `start()`, and its connection goes back
    to the pool (or is closed) before the caller sees it; the certificate facts the
    report needs would be gone by then, so they are taken while the connection is held.
    """

    ssl_object: typing.Any = None

    async def start(self, connection: aiohttp.connector.Connection) -> aiohttp.ClientResponse:
        transport = connection.transport
        if transport is not None:
            self.ssl_object = transport.get_extra_info("ssl_object")
        return await super().start(connection)


class _StreamInfo:
    """What httpx's `network_stream` extension offers `fetch._tls_info`: the TLS object."""

    __slots__ = ("_ssl_object",)

    def __init__(self, ssl_object: typing.Any) -> None:
        self._ssl_object = ssl_object

    def get_extra_info(self, name: str) -> typing.Any:
        return self._ssl_object if name == "ssl_object" else None


def header_dict(headers: httpx.Headers) -> dict[str, str]:
    """`dict(headers)` in one pass: lower-case names, repeated fields joined by ", ".

    `dict(httpx.Headers)` looks every name up again, scanning all fields each time.
    """
    out: dict[str, str] = {}
    for name, value in headers.multi_items():
        out[name] = f"{out[name]}, {value}" if name in out else value
    return out


def raw_header_dict(fields: typing.Sequence[tuple[bytes, bytes]]) -> dict[str, str]:
    """`header_dict(httpx.Headers(fields))` without building the `Headers`.

    The same decoding as httpx: ASCII if every name and value is, else UTF-8 if every
    one decodes, else ISO-8859-1; names lower-cased bytewise (ASCII letters only).
    """
    try:
        return _decoded(fields, "ascii")
    except UnicodeDecodeError:
        pass
    try:
        return _decoded(fields, "utf-8")
    except UnicodeDecodeError:
        return _decoded(fields, "iso-8859-1")


def _decoded(fields: typing.Sequence[tuple[bytes, bytes]], encoding: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for raw_name, raw_value in fields:
        name = raw_name.lower().decode(encoding)
        value = raw_value.decode(encoding)
        out[name] = f"{out[name]}, {value}" if name in out else value
    return out


class Reply(typing.Protocol):
    """What `fetch` reads of a response whose body is still unread, on either engine."""

    status: int
    headers: dict[str, str]  # lower-case names, repeated fields joined by ", "

    @property
    def ssl_object(self) -> typing.Any:
        """The connection's `ssl.SSLObject` (None over plain HTTP)."""

    def aiter_raw(self) -> AsyncIterator[bytes]:
        """The body as received (still content-encoded), chunk by chunk."""

    async def aclose(self) -> None:
        """Release the connection (to the pool if the body was read to its end)."""


class HttpxReply:
    """A `Reply` over an `httpx.Response` (the httpx engine, any plain httpx client)."""

    __slots__ = ("headers", "response", "status")

    def __init__(self, response: httpx.Response) -> None:
        self.response = response
        self.status = response.status_code
        self.headers = header_dict(response.headers)

    @property
    def ssl_object(self) -> typing.Any:
        stream = self.response.extensions.get("network_stream")
        return stream.get_extra_info("ssl_object") if stream is not None else None

    def aiter_raw(self) -> AsyncIterator[bytes]:
        return self.response.aiter_raw()

    async def aclose(self) -> None:
        await self.response.aclose()


async def _aiohttp_chunks(response: aiohttp.ClientResponse) -> AsyncIterator[bytes]:
    """The raw body as aiohttp hands it over; its failures raised as httpx's."""
    content = response.content
    try:
        while chunk := await content.readany():
            yield chunk
    except _ERRORS as exc:
        _raise_as_httpx(exc)


class AiohttpReply:
    """A `Reply` straight over aiohttp's response: no httpx objects on the way.

    The fields are those an `httpx.Response` made from the same response would give
    (`raw_header_dict` decodes as httpx does); failures while reading are raised as the
    httpx exceptions `fetch._classify` reads, as `_AiohttpBody` does.
    """

    __slots__ = ("headers", "response", "status")

    def __init__(self, response: aiohttp.ClientResponse) -> None:
        self.response = response
        self.status = response.status
        self.headers = raw_header_dict(response.raw_headers)

    @property
    def ssl_object(self) -> typing.Any:
        return getattr(self.response, "ssl_object", None)

    def aiter_raw(self) -> AsyncIterator[bytes]:
        return _aiohttp_chunks(self.response)

    async def aclose(self) -> None:
        # Back to the pool when the body was read to the end, otherwise closed.
        self.response.release()


class _AiohttpBody(httpx.AsyncByteStream):
    """The raw (still encoded) body as aiohttp hands it over, chunk by chunk."""

    __slots__ = ("_response",)

    def __init__(self, response: aiohttp.ClientResponse) -> None:
        self._response = response

    async def __aiter__(self) -> AsyncIterator[bytes]:
        content = self._response.content
        try:
            while chunk := await content.readany():
                yield chunk
        except _ERRORS as exc:
            _raise_as_httpx(exc)

    async def aclose(self) -> None:
        # Back to the pool when the body was read to the end, otherwise closed.
        self._response.release()


class AiohttpTransport(httpx.AsyncBaseTransport):
    """Send requests through one aiohttp session, made by `factory` on first use.

    The session is made lazily because aiohttp binds it to the running event loop, and
    `build_client` may be called before one runs. Requests go out as given (headers,
    Host, timeouts); aiohttp adds nothing, follows no redirects and leaves the body
    encoded (the session is built with `auto_decompress=False`). `open` is the lean entry
    (`ProbeClient.open_get`: no httpx objects per request); `handle_async_request` is the
    same send behind httpx's transport API.
    """

    def __init__(self, factory: Callable[[], aiohttp.ClientSession]) -> None:
        self._factory = factory
        self._session: aiohttp.ClientSession | None = None
        self._closed = False
        self._timeouts: dict[tuple[float | None, ...], aiohttp.ClientTimeout] = {}

    @property
    def session(self) -> aiohttp.ClientSession:
        """The aiohttp session (made now if no request has been sent yet)."""
        if self._session is None:
            if self._closed:  # a new session now would never be closed
                raise RuntimeError("the transport has been closed")
            self._session = self._factory()
        return self._session

    def _timeout(self, given: dict[str, float | None]) -> aiohttp.ClientTimeout:
        """httpx's per-request timeouts as aiohttp's (one object per distinct set).

        `connect` bounds waiting for a pooled connection, resolving and connecting
        (httpx's pool + connect), `sock_connect` the connect itself, `sock_read` each read,
        like httpx's read timeout; there is no total here (fetch bounds each attempt).
        """
        key = (given.get("connect"), given.get("read"), given.get("pool"))
        found = self._timeouts.get(key)
        if found is None:
            connect, read, pool = key
            overall = None if connect is None else connect + (pool or 0.0)
            found = aiohttp.ClientTimeout(
                total=None, connect=overall, sock_connect=connect, sock_read=read
            )
            self._timeouts[key] = found
        return found

    async def _send(
        self,
        method: str,
        url: str,
        headers: list[tuple[str, str]],
        timeout: dict[str, float | None],
        body: bytes | None = None,
    ) -> aiohttp.ClientResponse:
        session = self._session or self.session
        try:
            return await session.request(
                method,
                yarl.URL(url, encoded=True),
                headers=headers,
                data=body,
                allow_redirects=False,
                timeout=self._timeout(timeout),
            )
        except _ERRORS as exc:
            _raise_as_httpx(exc)

    async def open(
        self,
        method: str,
        url: str,
        headers: list[tuple[str, str]],
        timeout: dict[str, float | None],
    ) -> AiohttpReply:
        """Send a bodiless request; the reply's body is left unread.

        `url` must be what `str(httpx.URL(url))` gives (it is sent as it is) and `headers`
        the complete list, Host included, as `httpx.Request` would have sent them.
        """
        return AiohttpReply(await self._send(method, url, headers, timeout))

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        try:
            body = request.content or None
        except httpx.RequestNotRead:
            raise httpx.UnsupportedProtocol("streamed request bodies are not supported") from None
        url = request.url
        headers = request.headers  # sent as httpx spelled them (names keep their case)
        encoding = headers.encoding
        response = await self._send(
            request.method,
            str(url),
            [(k.decode(encoding), v.decode(encoding)) for k, v in headers.raw],
            request.extensions.get("timeout") or {},
            body,
        )
        extensions: dict[str, typing.Any] = {
            "http_version": b"HTTP/1.1",
            "reason_phrase": (response.reason or "").encode("latin-1", "replace"),
        }
        if url.scheme == "https":
            extensions["network_stream"] = _StreamInfo(getattr(response, "ssl_object", None))
        return httpx.Response(
            response.status,
            headers=response.raw_headers,
            stream=_AiohttpBody(response),
            extensions=extensions,
        )

    async def aclose(self) -> None:
        self._closed = True
        session, self._session = self._session, None
        if session is not None:
            await session.close()
