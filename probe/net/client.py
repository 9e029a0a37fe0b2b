"""The one HTTP client of a run, with the address guard and `--connect-to` at connect time.

The guard must run where the socket is opened, not where the URL is read: a name can
resolve differently the second time (DNS rebinding) and every redirect names a new
host. `GuardedBackend` wraps httpcore's network backend, so each new connection
resolves its name once, checks every address and connects to the checked address,
while the Host header and the TLS server name keep the real host name (httpcore passes
the origin host to `start_tls`).

Why the backend is set on the transport's pool rather than in a hand-written transport:
`httpx.AsyncHTTPTransport` also converts requests/responses and maps httpcore errors to
httpx errors; re-implementing that is more code and more risk than replacing one
attribute, which `guarded_transport` verifies (it fails loudly if httpx changes shape).
"""

from __future__ import annotations

import ssl
import typing

import anyio
import certifi
import httpcore
import httpx

from probe.net.guard import AddressPolicy, resolve_checked
from probe.net.pools import OriginRouter
from probe.settings import ConnectTo, Settings


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
        for rule in self.connect_to:
            if rule.matches(host, port):
                return rule.addr or host, rule.addr_port or port
        return host, port

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


def build_client(settings: Settings) -> httpx.AsyncClient:
    """The run's client: HTTP/1.1, honest User-Agent, guarded connects, no auto-redirects.

    Requests go through an `OriginRouter`: one small pool per origin (see `pools.py` for
    why), each built by `guarded_transport` with the run's one SSL context. A pool's
    limits still allow a whole run's connections, so hosts shared by many portals (or
    redirects between them) never queue on the pool; the per-host gate bounds them.
    """
    per_run = max(1, settings.portal_concurrency) * max(1, settings.per_host_concurrency)
    per_host = max(1, settings.per_host_concurrency)
    keepalive = 15.0
    limits = httpx.Limits(
        max_connections=per_run * 2,
        max_keepalive_connections=per_host * 2,
        keepalive_expiry=keepalive,
    )
    context = ssl_context(settings)
    transport = OriginRouter(
        lambda: guarded_transport(settings, context, limits), idle_after=keepalive
    )
    return httpx.AsyncClient(
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
        follow_redirects=False,
        trust_env=False,
    )
