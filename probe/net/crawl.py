"""Crawl one portal breadth first into `PortalArtifacts`, within fixed page/time bounds.

The mandated sections of a portal are reached from its menus, so menu links go first and
two levels usually suffice. Everything is bounded: pages (`max_pages`), depth, links
kept per page, documents recorded and a per-portal deadline, so link traps (endless
calendars) and pages with 100,000 links cost the same as a normal portal. URLs are
canonicalised and de-duplicated before any request object exists, which is most of the
CPU saving over a general-purpose crawler.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

import httpx

from probe.artifacts import FetchFailure, Link, Page, PortalArtifacts, Reason, TlsInfo
from probe.extract import parse_page
from probe.net.canon import canonical, same_site
from probe.net.decode import declares_utf8, decode_html
from probe.net.fetch import FetchResult, fetch
from probe.net.guard import AddressPolicy, RefusedAddress
from probe.net.hosts import HostGate
from probe.net.robots import Robots, load_robots
from probe.settings import Settings
from probe.store.blobs import pack_body
from probe.store.pagecodec import decode_page, encode_page, parsed_key

MAX_LINKS_PER_PAGE = 2000
MAX_DOCUMENTS = 5000
_BOT_WALL_MARKERS = (
    b"cf-chl",
    b"captcha",
    b"just a moment...",
    b"checking your browser",
    b"attention required",
    b"ddos protection",
)
_OUTCOME = {
    "connect_error": "unreachable",
    "dns_error": "unreachable",
    "connection_reset": "unreachable",
    "connection_closed": "unreachable",
    "connect_timeout": "timeout",
    "read_timeout": "timeout",
    "timeout": "timeout",
    "slow_response": "timeout",
    "deadline": "timeout",
    "tls_error": "tls_error",
    "address_refused": "refused",
    "scheme_refused": "refused",
}
# Failures of robots.txt that mean the home page would fail the same way: skip it.
_FATAL_BEFORE_HOME = frozenset(
    {"connect_error", "dns_error", "connect_timeout", "tls_error", "address_refused"}
)


@dataclass(frozen=True, slots=True)
class Validator:
    """What the store kept of a page: validators for a conditional GET and what a 304
    stands for, the page's cached parse or its body (with neither a 304 is useless, so
    no validators are sent)."""

    etag: str = ""
    last_modified: str = ""
    body: bytes = b""  # may be b"" when `parsed` is given
    content_type: str = ""
    content_hash: str = ""  # sha256 of `body`, when the store knows it
    parsed: bytes = b""  # the body's cached parse (probe.store.pagecodec), if any


def _is_html(content_type: str, body: bytes) -> bool:
    ct = content_type.lower()
    if ct:
        return "html" in ct
    return body[:256].lstrip().startswith(b"<")


def _bot_wall(result: FetchResult) -> bool:
    if result.status not in (403, 429, 503):
        return False
    if result.headers.get("cf-mitigated"):
        return True
    head = result.body[:32768].lower()
    return any(marker in head for marker in _BOT_WALL_MARKERS)


_Fetch = asyncio.Task[tuple[int, str, int, FetchResult]]  # (order, url, depth, response)


class _NeedBody(Exception):
    """A 304 whose cached parse does not fit, with no stored body sent along."""


class _Crawl:
    """The mutable state of one portal's crawl; frozen into `PortalArtifacts` at the end."""

    def __init__(
        self,
        client: httpx.AsyncClient,
        settings: Settings,
        hosts: HostGate,
        validators: Mapping[str, Validator],
    ) -> None:
        self.client = client
        self.settings = settings
        self.policy = AddressPolicy(settings.allow_private)
        self.hosts = hosts
        self.validators = validators
        self.deadline = time.monotonic() + settings.portal_deadline
        self.backoff = settings.retry_backoff
        self.pages: list[tuple[int, Page]] = []
        self.failures: list[FetchFailure] = []
        self.documents: list[Link] = []
        self.bodies: dict[str, bytes] = {}
        self.parses: dict[str, bytes] = {}
        self.disallowed: list[str] = []
        self.seen: set[str] = set()
        self.queue: deque[tuple[int, str, int]] = deque()  # (order, url, depth)
        self.order = 0
        self.attempted = 0
        self.root = ""
        self.robots: Robots | None = None
        self.stopped: Reason | None = None
        self.home_result: FetchResult | None = None

    async def get(self, url: str, *, conditional: bool = True) -> FetchResult:
        validator = self.validators.get(url) if conditional else None
        use = validator is not None and bool(validator.body or validator.parsed)
        return await fetch(
            self.client,
            url,
            settings=self.settings,
            policy=self.policy,
            hosts=self.hosts,
            etag=validator.etag if use and validator else "",
            last_modified=validator.last_modified if use and validator else "",
            deadline=self.deadline,
            backoff=self.backoff,
        )

    def page(self, url: str, result: FetchResult, depth: int) -> Page | None:
        """Parse an HTML response into a Page; a non-HTML one becomes a document link."""
        body, content_type = result.body, result.content_type
        etag = result.headers.get("etag", "")
        last_modified = result.headers.get("last-modified", "")
        status = result.status
        fetched = {  # what tonight's fetch says, whether the page is parsed or cached
            "url": url,
            "final_url": result.final_url,
            "fetched_at": datetime.now(UTC),
            "elapsed_ms": result.elapsed_ms,
            "depth": depth,
            "redirects": result.redirects,
        }
        if result.not_modified:
            stored = self.validators[url]
            body, content_type, status = stored.body, stored.content_type, 200
            etag, last_modified = etag or stored.etag, last_modified or stored.last_modified
            if stored.parsed and stored.content_hash:
                page = decode_page(
                    stored.parsed,
                    base=result.final_url or url,
                    status=status,
                    content_type=content_type,
                    etag=etag,
                    last_modified=last_modified,
                    content_hash=stored.content_hash,
                    not_modified=True,
                    **fetched,
                )
                if page is not None:  # the body is stored already: nothing to keep
                    return page
            if not body:
                raise _NeedBody(url)
        if not _is_html(content_type, body):
            return None
        digest, packed = pack_body(body)  # compressed now: kept until the portal is stored
        self.bodies[digest] = packed
        page = parse_body(
            body,
            status=status,
            content_type=content_type,
            etag=etag,
            last_modified=last_modified,
            content_hash=digest,
            size=len(body),
            not_modified=result.not_modified,
            **fetched,
        )
        stored = self.validators.get(url)
        if stored is None or stored.content_hash != digest:
            # The parse cache's entry, made now: when the portal is done its checks and
            # storing come all at once, and with many portals finishing together (slow
            # servers, every portal in flight) that burst is the end of the run. A body
            # the store had already is most likely cached with its parse: left to it.
            self.parses[parsed_key(url, digest)] = encode_page(page)
        return page

    async def parse(
        self, url: str, result: FetchResult, depth: int
    ) -> tuple[FetchResult, Page | None]:
        """`page()`, fetching the body after all when a 304's cached parse did not fit
        (the store sends no body with a parse, to save decompressing it)."""
        try:
            return result, self.page(url, result, depth)
        except _NeedBody:
            result = await self.get(url, conditional=False)
            if not result.ok:
                return result, None
            return result, self.page(url, result, depth)

    def fail(self, url: str, result: FetchResult) -> None:
        self.failures.append(FetchFailure(url, result.error, result.message, result.status))

    def enqueue_links(self, page: Page, depth: int) -> None:
        """De-duplicate and queue a page's links, menu links first.

        A `Link`'s URL is canonical and its `is_document` decided when the page is parsed
        (or was, for a cached parse of the same `EXTRACT_VERSION`): not worked out again
        for every link of every page.
        """
        seen = self.seen
        # Most of a page's links (its menus) were seen on the pages before it: dropped in
        # one pass before the ordering, not looked at three times (8.5 -> 5.6 µs a fleet
        # page). A link twice on the page is still queued once, first place in that order.
        links = [link for link in page.links[:MAX_LINKS_PER_PAGE] if link.url not in seen]
        nav = [link for link in links if link.region == "nav"]
        ordered = nav + [link for link in links if link.region != "nav"] if nav else links
        room = self.settings.max_pages - self.attempted - len(self.queue)
        follow = depth < self.settings.max_depth
        robots = self.robots
        for link in ordered:
            url = link.url
            if url in seen:
                continue
            seen.add(url)
            if link.is_document:
                if len(self.documents) < MAX_DOCUMENTS:
                    self.documents.append(link)
                continue
            if not follow or room <= 0 or not same_site(url, self.root):
                continue
            if robots is not None and not robots.allowed(url):
                self.disallowed.append(url)
                self.failures.append(FetchFailure(url, "robots", "disallowed by robots.txt"))
                continue
            self.order += 1
            self.queue.append((self.order, url, depth + 1))
            room -= 1

    async def fetch_queued(
        self, order: int, url: str, depth: int
    ) -> tuple[int, str, int, FetchResult]:
        """One queued URL's response, with where it was queued (a host slot's whole job)."""
        return order, url, depth, await self.get(url)

    async def take(self, order: int, url: str, depth: int, result: FetchResult) -> None:
        """A fetched page parsed, kept and its links queued (or its failure recorded)."""
        if not result.ok:
            self.fail(url, result)
            return
        self.seen.add(result.final_url)
        result, page = await self.parse(url, result, depth)
        if not result.ok:
            self.fail(url, result)
            return
        if page is None:
            if len(self.documents) < MAX_DOCUMENTS:
                self.documents.append(Link(url=url, text=result.content_type, is_document=True))
            return
        self.pages.append((order, page))
        self.enqueue_links(page, depth)

    def launch(self, running: set[_Fetch], launched: deque[int]) -> bool:
        """Start fetches of queued URLs while the portal has free slots (their orders go to
        `launched`); whether any began."""
        workers = max(1, self.settings.per_host_concurrency)
        began = False
        while self.queue and len(running) < workers and self.attempted < self.settings.max_pages:
            if time.monotonic() >= self.deadline:
                self.stop_for_deadline()
                break
            order, url, depth = self.queue.popleft()
            self.attempted += 1
            running.add(asyncio.create_task(self.fetch_queued(order, url, depth)))
            launched.append(order)
            began = True
        return began

    async def breadth_first(self) -> None:
        """Fetch queued pages, a few at a time (the host gate spaces them), and take them
        in the order they were queued.

        A slot is held by a fetch only, not by the parse of what it fetched: when
        responses come in, the freed slots are refilled from the queue and the new
        requests sent (one turn of the event loop) before any of those pages is parsed.
        Otherwise each slot stood idle while its page, and every page that arrived with
        it from other portals, was parsed: with slow servers and many portals in flight
        the responses come in waves, and a wave's last page waited for the whole wave's
        parsing before its slot asked for the next page.

        Pages are taken (parsed, their links queued) in queue order, whatever order the
        server answers in: a response that comes early waits for those queued before it.
        So the queue, each URL's depth (that of the first page to link it) and which pages
        `max_pages` keeps are the same every night for the same portal, and so are its
        findings and their evidence; taken as they came, a slow page's links could be
        found first on a deeper page, or not at all. Fetching never waits for this: the
        home page's links fill the queue, and a slot only needs a queued URL.

        Fetches still in flight when this is cancelled (the portal's hard timeout) are
        cancelled and awaited before the cancellation goes on: `asyncio.wait` leaves its
        tasks running, and they would go on fetching for a portal already finished.
        """
        running: set[_Fetch] = set()
        launched: deque[int] = deque()  # orders fetched or being fetched, not yet taken
        arrived: dict[int, tuple[str, int, FetchResult]] = {}
        try:
            while True:
                self.launch(running, launched)
                if not running:
                    break
                done, running = await asyncio.wait(running, return_when=asyncio.FIRST_COMPLETED)
                for task in done:
                    order, url, depth, result = task.result()
                    arrived[order] = (url, depth, result)
                if self.launch(running, launched):
                    await asyncio.sleep(0)  # the new tasks send their requests first
                while launched and launched[0] in arrived:
                    order = launched.popleft()
                    await self.take(order, *arrived.pop(order))
        finally:
            for task in running:
                task.cancel()
            if running:
                await asyncio.gather(*running, return_exceptions=True)

    def stop_for_deadline(self) -> None:
        if self.stopped is None:
            left = len(self.queue)
            message = f"portal deadline of {self.settings.portal_deadline:g} s reached"
            self.stopped = Reason("deadline", f"{message}; {left} queued URLs not fetched")
            url = self.queue[0][1] if self.queue else self.root
            self.failures.append(FetchFailure(url, "deadline", self.stopped.message))
        self.queue.clear()


def parse_body(body: bytes, *, content_type: str, **fields: Any) -> Page:
    """`parse_page` of a fetched body, decoded as `decode_html` decodes it.

    A body that declares UTF-8 is parsed as sent, and kept unless its text or title holds
    a replacement character (bytes that are not UTF-8, or a U+FFFD the page really
    holds): only then is it decoded the careful way, which may find windows-1258, and
    parsed again, unless the body is UTF-8 after all (its U+FFFD are the page's own, as
    where a portal once mangled its content): then the page parsed stands. The same page
    either way (the parser replaces bad bytes as Python's decoder does), without
    decoding every body once only to validate it.
    """
    if declares_utf8(body, content_type):
        page = parse_page(body, content_type=content_type, charset="utf-8", **fields)
        if "\ufffd" not in page.text and "\ufffd" not in page.title:
            return page
        try:
            body.decode("utf-8")
        except UnicodeDecodeError:
            pass
        else:
            return page
    markup, charset = decode_html(body, content_type)
    return parse_page(markup, content_type=content_type, charset=charset, **fields)


def _outcome(result: FetchResult) -> tuple[str, Reason]:
    if _bot_wall(result):
        return "blocked", Reason("bot_wall", f"{result.final_url}: a bot wall answered")
    code = result.error or "error"
    return _OUTCOME.get(code, "error"), Reason(code, result.message or code)


async def crawl_portal(
    client: httpx.AsyncClient,
    url: str,
    *,
    agency_id: str,
    agency_level: str,
    settings: Settings,
    now: datetime,
    validators: Mapping[str, Validator] | None = None,
    licence_required: bool = False,
    province_domain: str = "",
    agency_domains: tuple[str, ...] = (),
    hosts: HostGate | None = None,
) -> PortalArtifacts:
    """Crawl the portal at `url`; never raises for anything the network does.

    Pass one `hosts` gate for the whole run so portals sharing a server share its
    politeness budget; without it the gate covers this portal only.
    """
    base = PortalArtifacts(
        agency_id=agency_id,
        agency_level=agency_level,
        url=url,
        now=now,
        licence_required=licence_required,
        province_domain=province_domain,
        agency_domains=tuple(agency_domains),
    )
    home = canonical(url)
    if home is None:
        return replace(base, outcome="error", reason=Reason("invalid_url", f"{url!r}: not http(s)"))
    crawl = _Crawl(client, settings, hosts or HostGate(settings), validators or {})
    try:
        crawl.policy.check_url(home)
    except RefusedAddress as exc:
        return replace(base, outcome="refused", reason=Reason(exc.code, exc.message))
    try:
        async with asyncio.timeout(settings.portal_deadline + 1.0):
            return await _run(crawl, base, home)
    except TimeoutError:
        crawl.stop_for_deadline()
        outcome = "checked" if crawl.pages else "timeout"
        return _finish(crawl, base, outcome, crawl.stopped, crawl.home_result)


async def _run(crawl: _Crawl, base: PortalArtifacts, home: str) -> PortalArtifacts:
    crawl.root = home
    crawl.seen.add(home)
    robots, robots_result = await load_robots(
        crawl.client,
        home,
        settings=crawl.settings,
        policy=crawl.policy,
        hosts=crawl.hosts,
        deadline=crawl.deadline,
    )
    crawl.robots = robots
    if robots_result.error in _FATAL_BEFORE_HOME:
        crawl.fail(home, robots_result)
        outcome, reason = _outcome(robots_result)
        return _finish(crawl, base, outcome, reason, tls=_tls_failure(robots_result))
    if not robots.allowed(home):
        crawl.disallowed.append(home)
        crawl.failures.append(FetchFailure(home, "robots", "robots.txt disallows the home page"))
        reason = Reason("robots_disallow", f"{robots.info.url} disallows {home}")
        return _finish(crawl, base, "blocked", reason)
    crawl.attempted = 1
    result = await crawl.get(home)
    crawl.home_result = result
    if not result.ok:
        crawl.fail(home, result)
        outcome, reason = _outcome(result)
        return _finish(crawl, base, outcome, reason, result, tls=_tls_failure(result))
    crawl.root = result.final_url
    crawl.seen.add(result.final_url)
    result, page = await crawl.parse(home, result, 0)
    crawl.home_result = result
    if not result.ok:
        crawl.fail(home, result)
        outcome, reason = _outcome(result)
        return _finish(crawl, base, outcome, reason, result, tls=_tls_failure(result))
    if page is None:
        reason = Reason("not_html", f"{result.final_url} is {result.content_type or 'not HTML'}")
        crawl.failures.append(FetchFailure(home, "not_html", reason.message, result.status))
        return _finish(crawl, base, "error", reason, result)
    crawl.pages.append((0, page))
    if robots.info.status != "error":
        crawl.enqueue_links(page, 0)
        await crawl.breadth_first()
    return _finish(crawl, base, "checked", crawl.stopped, result)


def _tls_failure(result: FetchResult) -> TlsInfo | None:
    return TlsInfo(valid=False, error=result.message) if result.error == "tls_error" else None


def _finish(
    crawl: _Crawl,
    base: PortalArtifacts,
    outcome: str,
    reason: Reason | None,
    home: FetchResult | None = None,
    tls: TlsInfo | None = None,
) -> PortalArtifacts:
    robots = crawl.robots.info if crawl.robots is not None else None
    if robots is not None and crawl.disallowed:
        robots = replace(robots, disallowed=tuple(crawl.disallowed))
    return replace(
        base,
        outcome=outcome,
        reason=reason,
        final_url=home.final_url if home is not None else "",
        redirect_chain=home.redirects if home is not None else (),
        pages=tuple(page for _, page in sorted(crawl.pages, key=lambda p: p[0])),
        failures=tuple(crawl.failures),
        document_links=tuple(crawl.documents),
        robots=robots,
        tls=tls or (home.tls if home is not None else None),
        bodies=crawl.bodies,
        parses=crawl.parses,
    )
