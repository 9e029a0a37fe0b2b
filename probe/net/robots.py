"""robots.txt, read the way the major crawlers read it, with the outcome recorded.

A probe that inspects state portals on the state's behalf should still obey them: 2xx
gives rules (with Crawl-delay honoured but clamped), 4xx means "no rules" (allow all),
and anything that looks like the server failing (5xx, timeout, an endless or huge file)
means "we do not know what you allow", so only the home page is fetched. A portal that
serves its HTML home page at /robots.txt has no robots.txt; that is recorded as such.
"""

from __future__ import annotations

from dataclasses import dataclass

import httpx
from protego import Protego

from probe.artifacts import RobotsInfo
from probe.net.canon import host_of
from probe.net.fetch import FetchResult, fetch
from probe.net.guard import AddressPolicy
from probe.net.hosts import HostGate
from probe.settings import Settings

ROBOTS_MAX_BYTES = 512 * 1024
AGENT = "probe"


@dataclass(slots=True)
class Robots:
    """The rules in force for one portal, and how they were obtained."""

    info: RobotsInfo
    parser: Protego | None = None
    home: str = ""

    def allowed(self, url: str) -> bool:
        """May `url` be fetched? On status "error" only the home page may."""
        if self.info.status == "error":
            return url == self.home
        if self.parser is None:
            return True
        return bool(self.parser.can_fetch(url, AGENT))


def robots_url(home: str) -> str:
    """`scheme://host[:port]/robots.txt` of a canonical URL."""
    end = home.find("/", home.find("://") + 3)
    return (home if end < 0 else home[:end]) + "/robots.txt"


def _looks_like_html(result: FetchResult) -> bool:
    if "html" in result.content_type.lower():
        return True
    head = result.body[:512].lstrip().lower()
    return head.startswith((b"<!doctype", b"<html", b"<head", b"<body"))


async def load_robots(
    client: httpx.AsyncClient,
    home: str,
    *,
    settings: Settings,
    policy: AddressPolicy,
    hosts: HostGate,
    deadline: float | None = None,
) -> tuple[Robots, FetchResult]:
    """Fetch and interpret robots.txt for the portal whose home page is `home`."""
    url = robots_url(home)
    result = await fetch(
        client,
        url,
        settings=settings,
        policy=policy,
        hosts=hosts,
        max_bytes=ROBOTS_MAX_BYTES,
        deadline=deadline,
        retries=1,
    )
    if result.error == "too_large":
        info = RobotsInfo("error", url, message=f"robots.txt larger than {ROBOTS_MAX_BYTES} bytes")
    elif result.ok and _looks_like_html(result):
        info = RobotsInfo("missing", url, message="robots.txt is an HTML page: treated as absent")
    elif result.ok:
        text = result.body.decode("utf-8", "replace")
        parser = Protego.parse(text)
        delay = parser.crawl_delay(AGENT)
        clamped = hosts.set_crawl_delay(host_of(home), delay) if delay is not None else None
        message = ""
        if delay is not None and clamped is not None and clamped < float(delay):
            message = f"Crawl-delay {delay} clamped to {clamped}"
        return Robots(RobotsInfo("ok", url, crawl_delay=clamped, message=message), parser, home), (
            result
        )
    elif 400 <= result.status < 500 and result.status != 429:
        info = RobotsInfo("missing", url, message=f"HTTP {result.status}: no rules, all allowed")
    else:
        info = RobotsInfo(
            "error",
            url,
            message=f"{result.error or result.status}: {result.message}; home page only",
        )
    return Robots(info, None, home), result
