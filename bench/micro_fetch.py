"""CPU per page of the fetch path alone, engine by engine, on the nginx fleet (issue 7).

The crawl profile cannot say how much of a page's CPU is the HTTP engine and how much is
probe's own fetch logic; this runs only that part, over the fleet's real pages, with the
crawl's shape (portals in flight, a few requests in flight per portal, keep-alive), so
an engine or a change to `probe/net/fetch.py` can be judged in seconds. Every variant
reads every body raw to its end; CPU is `time.process_time()` of the fetching only
(client set-up and teardown excluded), divided by pages. Variants run in turn within
one process, `--repeat` times, in a rotating order; the median and the minimum are
printed (the machine is shared: compare figures from the same invocation only).

  a        plain httpx as `build_client(engine="httpx")` builds it (httpcore pools)
  b-lib    httpx over the `httpx-aiohttp` package's AiohttpTransport (if installed)
  b        httpx over probe's AiohttpTransport (`build_client(engine="aiohttp")`)
  b-lean   b's client through `ProbeClient.open_get`, the lean GET fetch sends (no httpx
           request or response objects on the aiohttp engine)
  c        raw aiohttp, no httpx at all
  c-probe  c through the session probe builds (`client.aiohttp_session`: guarded connector,
           TlsResponse), with the client's timeouts and headers: aiohttp as probe runs it
  floor    a bare asyncio protocol: keep-alive HTTP/1.1, Content-Length bodies only, no
           timeouts, no guard, no error handling. Not an engine: the CPU any engine on
           this event loop spends at least (kernel, loop, one read per response)
  d-httpx  the whole `probe.net.fetch.fetch()` on a
  d-aio    the whole `probe.net.fetch.fetch()` on b (what a crawl runs)

`--baseline REV` adds `d-base`: `d-aio` with probe/net's fetch, client, pools, hosts and canon
as they are at git revision REV (the other modules from the working tree), so a change
to the fetch path is timed against its old self in the same process, alternating.
`--check-same` first fetches every page with both and stops if any result differs (all
`FetchResult` fields but the elapsed time and the Date header).

`--night2` sends each page's ETag (If-None-Match), so every answer is a bodiless 304,
as on a second night over an unchanged fleet. `--idle-origins N` first fetches one page
from each of N other portals and leaves those keep-alive connections idle in the pool
while the measured portals run: per-request CPU must not grow with them (httpcore's
single pool scanned them all; see pools.py).

Usage: micro_fetch.py [--fleet DIR] [--portals 40] [--in-flight 8] [--per-portal 4]
[--repeat 5] [--variants a,b,b-lean,c,d-aio] [--idle-origins 0] [--night2]
[--baseline REV [--check-same]]
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import importlib
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import aiohttp
import httpx
import yarl

from probe.net.client import ProbeClient, build_client
from probe.net.guard import AddressPolicy
from probe.net.pools import AiohttpTransport
from probe.settings import Settings

Get = Callable[[str], Awaitable[int]]
ROOT = Path(__file__).resolve().parent.parent
# The fetch path's own modules; `--baseline` takes these from the older revision.
BASELINE_FILES = ("fetch", "client", "pools", "hosts", "canon")


@dataclasses.dataclass(frozen=True)
class Impl:
    """One version of the fetch path: `build_client`, `fetch` and `HostGate`."""

    client: Any
    fetch: Any
    hosts: Any


def _impl(package: str) -> Impl:
    # import_module: `probe.net` re-exports a function named `fetch`, hiding the module.
    return Impl(*(importlib.import_module(f"{package}.{n}") for n in ("client", "fetch", "hosts")))


CURRENT = _impl("probe.net")


def baseline_impl(rev: str, into: Path) -> Impl:
    """The fetch path of `rev`, as package `probe_net_base` (imports among its modules
    rewritten, every other probe module shared with the working tree)."""
    pkg = into / "probe_net_base"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("", encoding="utf-8")
    for name in BASELINE_FILES:
        show = ["git", "-C", str(ROOT), "show", f"{rev}:probe/net/{name}.py"]
        code = subprocess.run(show, check=True, capture_output=True, text=True).stdout
        for other in BASELINE_FILES:
            code = code.replace(f"probe.net.{other} ", f"probe_net_base.{other} ")
        (pkg / f"{name}.py").write_text(code, encoding="utf-8")
    sys.path.insert(0, str(into))
    return _impl("probe_net_base")


def _portals(fleet: Path, count: int, skip: int = 0) -> list[list[str]]:
    manifest = json.loads((fleet / "manifest.json").read_text(encoding="utf-8"))
    return [list(p["pages"]) for p in manifest["portals"][skip : skip + count]]


async def _crawl(portals: list[list[str]], get: Get, in_flight: int, per_portal: int) -> int:
    """Fetch every page: `in_flight` portals at once, `per_portal` requests each."""
    gate = asyncio.Semaphore(in_flight)
    received = 0

    async def portal(pages: list[str]) -> None:
        async with gate:
            queue = list(reversed(pages))

            async def worker() -> None:
                nonlocal received
                while queue:
                    size = await get(queue.pop())
                    received += size  # after the await: no update is lost

            await asyncio.gather(*(worker() for _ in range(per_portal)))

    await asyncio.gather(*(portal(p) for p in portals))
    return received


async def _drain(response: Any) -> int:
    """Read a streamed response (httpx's or probe's `Reply`) to the end; its size."""
    size = 0
    try:
        async for chunk in response.aiter_raw():
            size += len(chunk)
    finally:
        await response.aclose()
    return size


def _httpx_get(client: httpx.AsyncClient, etags: dict[str, str]) -> Get:
    async def get(url: str) -> int:
        headers = {"If-None-Match": etags[url]} if url in etags else None
        request = client.build_request("GET", url, headers=headers)
        return await _drain(await client.send(request, stream=True))

    return get


def _lean_get(client: ProbeClient, etags: dict[str, str]) -> Get:
    async def get(url: str) -> int:
        headers = {"If-None-Match": etags[url]} if url in etags else None
        return await _drain(await client.open_get(url, headers))

    return get


def _fetch_get(
    client: httpx.AsyncClient, settings: Settings, etags: dict[str, str], impl: Impl = CURRENT
) -> Get:
    policy = AddressPolicy(settings.allow_private)
    hosts = impl.hosts.HostGate(settings)

    async def get(url: str) -> int:
        etag = etags.get(url, "")
        result = await impl.fetch.fetch(
            client, url, settings=settings, policy=policy, hosts=hosts, etag=etag
        )
        if result.error:
            raise RuntimeError(f"{url}: {result.error} {result.message}")
        return len(result.body)

    return get


async def _etags(portals: list[list[str]]) -> dict[str, str]:
    """Each page's ETag, for `--night2` (fetched once, untimed)."""
    async with aiohttp.ClientSession() as session:

        async def etag(url: str) -> tuple[str, str]:
            async with session.get(url, allow_redirects=False) as response:
                await response.read()
                return url, response.headers.get("ETag", "")

        found = await asyncio.gather(*(etag(url) for pages in portals for url in pages))
    return {url: tag for url, tag in found if tag}


def _library_client(settings: Settings) -> httpx.AsyncClient | None:
    try:
        from httpx_aiohttp import AiohttpTransport  # type: ignore[import-not-found]
    except ImportError:
        return None
    return httpx.AsyncClient(
        transport=AiohttpTransport(trust_env=False),
        headers={"User-Agent": settings.user_agent, "Accept-Encoding": "gzip, deflate, br"},
        follow_redirects=False,
        trust_env=False,
    )


class _FloorProtocol(asyncio.Protocol):
    """One keep-alive connection of `floor`: a response is its head and Content-Length bytes."""

    def __init__(self) -> None:
        self.buffer = bytearray()
        self.waiter: asyncio.Future[int] | None = None
        self.head = b""
        self.need = 0

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        if not self.head:
            end = self.buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            self.head = bytes(self.buffer[: end + 4]).lower()
            del self.buffer[: end + 4]
            at = self.head.find(b"\r\ncontent-length:")
            self.need = int(self.head[at + 17 : self.head.find(b"\r\n", at + 2)]) if at >= 0 else 0
        if len(self.buffer) >= self.need and self.waiter is not None:
            body = bytes(self.buffer[: self.need])
            del self.buffer[: self.need]
            self.head = b""
            waiter, self.waiter = self.waiter, None
            waiter.set_result(len(body))

    def connection_lost(self, exc: Exception | None) -> None:
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_exception(ConnectionError("closed"))


async def _floor(portals: list[list[str]], a: argparse.Namespace) -> tuple[float, int]:
    """The `floor` variant: plain-HTTP fleet URLs only (http://host:port/path)."""
    loop = asyncio.get_running_loop()
    idle: dict[str, list[_FloorProtocol]] = {}
    agent = a.settings.user_agent.encode()

    async def get(url: str) -> int:
        authority, _, path = url.removeprefix("http://").partition("/")
        pool = idle.setdefault(authority, [])
        if pool:
            protocol = pool.pop()
        else:
            host, _, port = authority.partition(":")
            _, protocol = await loop.create_connection(_FloorProtocol, host, int(port or 80))
        etag = a.etags.get(url)
        request = (
            f"GET /{path} HTTP/1.1\r\nHost: {authority}\r\nUser-Agent: ".encode() + agent
            + b"\r\nAccept-Encoding: gzip, deflate, br\r\n"
            + (f"If-None-Match: {etag}\r\n".encode() if etag else b"") + b"\r\n"
        )  # fmt: skip
        protocol.waiter = loop.create_future()
        protocol.transport.write(request)
        size = await protocol.waiter
        pool.append(protocol)
        return size

    try:
        await _crawl([pages[:1] for pages in a.idle], get, a.in_flight, 1)
        start = time.process_time()
        received = await _crawl(portals, get, a.in_flight, a.per_portal)
        return time.process_time() - start, received
    finally:
        for protocols in idle.values():
            for protocol in protocols:
                protocol.transport.close()


async def _variant(name: str, portals: list[list[str]], a: argparse.Namespace) -> tuple[float, int]:
    """(CPU seconds of the fetching, bytes received) for one variant."""
    settings = a.settings
    idle = [pages[:1] for pages in a.idle]
    if name == "floor":
        return await _floor(portals, a)
    if name == "c-probe":
        client = build_client(settings)
        engine, base = client.engine, client._base_headers()
        assert isinstance(engine, AiohttpTransport) and base is not None
        timeout = engine._timeout(client._timeout_dict())
        async with client:
            session = engine.session

            async def probe_get(url: str) -> int:
                size = 0
                fields = [("Host", url.split("/")[2]), *base[0]]
                if url in a.etags:
                    fields.append(("If-None-Match", a.etags[url]))
                async with session.request(
                    "GET", yarl.URL(url, encoded=True), headers=fields, allow_redirects=False,
                    timeout=timeout,
                ) as response:  # fmt: skip
                    while chunk := await response.content.readany():
                        size += len(chunk)
                return size

            await _crawl(idle, probe_get, a.in_flight, 1)
            start = time.process_time()
            received = await _crawl(portals, probe_get, a.in_flight, a.per_portal)
            return time.process_time() - start, received
    if name == "c":
        connector = aiohttp.TCPConnector(limit=0, use_dns_cache=False)
        async with aiohttp.ClientSession(
            connector=connector,
            auto_decompress=False,
            headers={"User-Agent": settings.user_agent},
            cookie_jar=aiohttp.DummyCookieJar(),
        ) as session:

            async def get(url: str) -> int:
                size = 0
                headers = {"If-None-Match": a.etags[url]} if url in a.etags else None
                async with session.get(url, allow_redirects=False, headers=headers) as response:
                    while chunk := await response.content.readany():
                        size += len(chunk)
                return size

            await _crawl(idle, get, a.in_flight, 1)
            start = time.process_time()
            received = await _crawl(portals, get, a.in_flight, a.per_portal)
            return time.process_time() - start, received
    if name == "b-lib":
        client = _library_client(settings)
        if client is None:
            return float("nan"), 0
    elif name == "d-base":
        client = a.baseline.client.build_client(settings)
    else:
        engine = "httpx" if name in ("a", "d-httpx") else "aiohttp"
        client = build_client(settings, engine=engine)
    async with client:
        if name == "d-base":
            get = _fetch_get(client, settings, a.etags, a.baseline)
        elif name.startswith("d-"):
            get = _fetch_get(client, settings, a.etags)
        elif name == "b-lean":
            assert isinstance(client, ProbeClient)
            get = _lean_get(client, a.etags)
        else:
            get = _httpx_get(client, a.etags)
        await _crawl(idle, get, a.in_flight, 1)
        start = time.process_time()
        received = await _crawl(portals, get, a.in_flight, a.per_portal)
        return time.process_time() - start, received


def _comparable(result: Any) -> dict[str, Any]:
    """A result's fields but those that change from one fetch to the next by themselves."""
    fields = {f.name: getattr(result, f.name) for f in dataclasses.fields(result)}
    fields.pop("elapsed_ms")
    fields["headers"] = {k: v for k, v in result.headers.items() if k != "date"}
    return fields


async def _same(portals: list[list[str]], a: argparse.Namespace) -> int:
    """Fetch every page with the baseline and the current fetch path; the pages that differ."""
    settings, policy = a.settings, AddressPolicy(a.settings.allow_private)
    differ = 0
    async with (
        a.baseline.client.build_client(settings) as old_client,
        build_client(settings) as new_client,
    ):
        old_gate, new_gate = a.baseline.hosts.HostGate(settings), CURRENT.hosts.HostGate(settings)
        for url in (url for pages in portals for url in pages):
            common = {"settings": settings, "policy": policy, "etag": a.etags.get(url, "")}
            old = await a.baseline.fetch.fetch(old_client, url, hosts=old_gate, **common)
            new = await CURRENT.fetch.fetch(new_client, url, hosts=new_gate, **common)
            if _comparable(old) != _comparable(new):
                differ += 1
                old_fields, new_fields = _comparable(old), _comparable(new)
                changed = [k for k in old_fields if old_fields[k] != new_fields[k]]
                print(f"differs: {url} ({', '.join(changed)})", file=sys.stderr)
    return differ


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--fleet", type=Path, default=Path("bench/out/fleet-200"))
    ap.add_argument("--portals", type=int, default=40)
    ap.add_argument("--in-flight", type=int, default=8, help="portals at once")
    ap.add_argument("--per-portal", type=int, default=4, help="requests at once per portal")
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--variants", default="a,b-lib,b,b-lean,c,c-probe,floor,d-httpx,d-aio")
    ap.add_argument("--idle-origins", type=int, default=0, help="idle pooled origins")
    ap.add_argument("--night2", action="store_true", help="conditional requests (every page a 304)")
    ap.add_argument("--baseline", help="git revision of the fetch path that d-base runs")
    ap.add_argument("--check-same", action="store_true", help="d-base and d-aio agree first")
    a = ap.parse_args()
    a.settings = Settings().with_(
        allow_private=True,
        per_host_concurrency=a.per_portal,
        portal_concurrency=a.in_flight,
        min_delay=0.0,
    )
    portals = _portals(a.fleet, a.portals)
    a.idle = _portals(a.fleet, a.idle_origins, skip=a.portals)
    a.etags = asyncio.run(_etags(portals)) if a.night2 else {}
    pages = sum(map(len, portals))
    names = [n.strip() for n in a.variants.split(",") if n.strip()]
    tmp = None
    if a.baseline:
        tmp = tempfile.mkdtemp(prefix="micro-fetch-")
        a.baseline = baseline_impl(a.baseline, Path(tmp))
        names = [n for n in names if n != "d-base"] + ["d-base"]
        if a.check_same:
            differ = asyncio.run(_same(portals, a))
            print(f"check-same: {pages - differ} of {pages} results identical")
            if differ:
                raise SystemExit(1)
    times: dict[str, list[float]] = {n: [] for n in names}
    sizes: dict[str, int] = {}
    for round_ in range(a.repeat):
        shift = round_ % len(names)
        for name in names[shift:] + names[:shift]:
            seconds, received = asyncio.run(_variant(name, portals, a))
            times[name].append(seconds * 1000 / pages)
            sizes[name] = received
    print(f"{pages} pages ({a.portals} portals, {a.in_flight} in flight x {a.per_portal}, "
          f"{len(a.idle)} idle origins{', night 2' if a.night2 else ''}), "
          f"{a.repeat} rounds; CPU ms/page")  # fmt: skip
    for name in names:
        got = times[name]
        print(
            f"  {name:8s} median {statistics.median(got):6.3f}  min {min(got):6.3f}"
            f"  ({sizes[name] / pages / 1024:.1f} KiB/page)"
        )
    if "d-base" in times and "d-aio" in times:
        gains = [old - new for old, new in zip(times["d-base"], times["d-aio"], strict=True)]
        print(f"  d-base - d-aio, round by round: median {statistics.median(gains):6.3f}")
    if tmp is not None:
        shutil.rmtree(tmp)


if __name__ == "__main__":
    main()
