"""Typed, immutable records of what a probe saw.

The crawler writes these once; every check reads them and nothing else. Keeping them
frozen and free of network objects is what lets checks stay pure functions and lets a
stored run be re-checked without refetching.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any


@dataclass(frozen=True, slots=True)
class Link:
    """An anchor as a reader sees it: where it goes and every text that names it.

    Real portals name sections in visible text, in `title` attributes and in the `alt` of
    an image inside the link (often with the visible text empty), so all three are kept.
    """

    url: str  # absolute and canonicalised (no fragment, no session id)
    text: str = ""  # visible text, whitespace folded, NFC
    title: str = ""
    alt: str = ""
    region: str = "body"  # "nav" (header/menu), "footer", "aside" or "body"
    is_document: bool = False  # .pdf, .doc, .xls …: recorded, never fetched

    @property
    def label(self) -> str:
        """All names of the link joined, for matching."""
        return " ".join(p for p in (self.text, self.title, self.alt) if p)


@dataclass(frozen=True, slots=True)
class Form:
    """A form on a page: the online-service and search checks read these."""

    action: str
    method: str = "get"
    fields: tuple[str, ...] = ()  # input/select/textarea names
    has_file_input: bool = False
    text: str = ""  # labels and button text inside the form


@dataclass(frozen=True, slots=True)
class DateMention:
    """A date found on a page with the text around it, so freshness has evidence."""

    value: date
    text: str
    source: str = "text"  # "text", "time" (<time datetime>), "meta"


@dataclass(frozen=True, slots=True)
class Page:
    """One fetched and parsed HTML page."""

    url: str  # the URL that was requested (canonical)
    final_url: str  # after redirects
    status: int
    content_type: str = ""
    charset: str = ""
    fetched_at: datetime | None = None
    elapsed_ms: float = 0.0
    depth: int = 0
    redirects: tuple[tuple[str, int], ...] = ()  # (url, status) for each hop
    etag: str = ""
    last_modified: str = ""
    content_hash: str = ""  # sha256 of the body bytes
    size: int = 0
    title: str = ""
    text: str = ""  # visible text of the whole page, NFC, whitespace folded
    # Visible text outside nav/header/footer/aside. Always read as a str; parse_page
    # gives it as `TextRuns` of `text`, held as offsets (see `_MainText`).
    main_text: str = ""
    footer_text: str = ""
    links: tuple[Link, ...] = ()
    forms: tuple[Form, ...] = ()
    emails: tuple[str, ...] = ()  # as published, de-obfuscated, lower-cased
    dates: tuple[DateMention, ...] = ()
    meta: tuple[tuple[str, str], ...] = ()  # (name or property, content), e.g. DC.title
    headings: tuple[str, ...] = ()
    not_modified: bool = False  # came from a 304 and the stored body

    @property
    def ok(self) -> bool:
        """A page a reader could use: 2xx with some visible text."""
        return 200 <= self.status < 300 and bool(self.text.strip())

    @property
    def nav_links(self) -> tuple[Link, ...]:
        """Links in header, menus and navigation blocks."""
        return tuple(link for link in self.links if link.region == "nav")


class TextRuns(tuple[int, ...]):
    """A text given as runs of the page's `text`: flat (start, end, start, end …)
    offsets whose slices, concatenated, are the text.

    The main text of a fleet page is 46,000 of its 48,000 characters; held as a second
    `str` it doubled what every page of a portal in flight costs (about 90 KB a page,
    2 MB a portal, 18 MB at eight portals in flight). As runs it is a few dozen integers,
    and the string is built (a copy, microseconds) only when a check reads it.
    """

    __slots__ = ()

    def join(self, text: str) -> str:
        """The text these runs stand for in `text`."""
        if len(self) == 2:
            return text[self[0] : self[1]]
        return "".join([text[self[i] : self[i + 1]] for i in range(0, len(self), 2)])


class _MainText:
    """`Page.main_text` on top of its slot: a `TextRuns` value is read as the string it
    stands for, so every reader (checks, equality, repr, `replace`) sees a `str` while
    a page in memory holds offsets. Set and delete go to the slot unchanged."""

    __slots__ = ("slot",)

    def __init__(self, slot: Any) -> None:
        self.slot = slot

    def __get__(self, page: Page | None, owner: type | None = None) -> Any:
        if page is None:
            return self
        value = self.slot.__get__(page, owner)
        return value.join(page.text) if type(value) is TextRuns else value

    def __set__(self, page: Page, value: str | TextRuns) -> None:
        self.slot.__set__(page, value)

    def __delete__(self, page: Page) -> None:
        self.slot.__delete__(page)


Page.main_text = _MainText(Page.__dict__["main_text"])  # type: ignore[assignment,method-assign]


def main_text_as_held(page: Page) -> str | TextRuns:
    """`page.main_text` as the page holds it (runs or a string), for the parse cache."""
    descriptor: _MainText = Page.__dict__["main_text"]
    try:
        return descriptor.slot.__get__(page, type(page))  # type: ignore[no-any-return]
    except AttributeError:  # a lazily filled page (parse cache) not filled yet
        page.text  # noqa: B018 - the first read fills the texts
        return descriptor.slot.__get__(page, type(page))  # type: ignore[no-any-return]


@dataclass(frozen=True, slots=True)
class FetchFailure:
    """A URL the crawler tried and could not get, with a machine-readable reason."""

    url: str
    code: str  # timeout, unreachable, tls_error, too_large, robots, http_status, refused, …
    message: str
    status: int = 0


@dataclass(frozen=True, slots=True)
class TlsInfo:
    """What the TLS handshake showed for an https portal."""

    valid: bool
    error: str = ""
    not_after: datetime | None = None
    issuer: str = ""
    subject: str = ""


@dataclass(frozen=True, slots=True)
class RobotsInfo:
    """How robots.txt was obtained and what it said, so `blocked` and `unknown` have reasons."""

    status: str  # "ok", "missing" (4xx: allow all), "error" (5xx/timeout: home page only)
    url: str = ""
    crawl_delay: float | None = None
    disallowed: tuple[str, ...] = ()  # URLs we did not fetch because robots said no
    message: str = ""


@dataclass(frozen=True, slots=True)
class Reason:
    """Why a portal was not `checked`: a short code and a human sentence."""

    code: str
    message: str


@dataclass(frozen=True)
class PortalArtifacts:
    """Everything one crawl of one portal produced. Checks read only this."""

    agency_id: str
    agency_level: str  # province | department | district | commune
    url: str  # as written in the registry
    now: datetime  # the run's clock: checks never read the system clock
    outcome: str = "checked"  # checked, unreachable, timeout, tls_error, blocked, refused, error
    reason: Reason | None = None
    final_url: str = ""
    redirect_chain: tuple[tuple[str, int], ...] = ()  # of the home page
    pages: tuple[Page, ...] = ()  # home page first
    failures: tuple[FetchFailure, ...] = ()
    document_links: tuple[Link, ...] = ()
    robots: RobotsInfo | None = None
    tls: TlsInfo | None = None
    licence_required: bool = False  # registry/settings: is a missing licence a `fail`?
    province_domain: str = ""  # e.g. "quangbinh.gov.vn": domain naming and DVC links
    agency_domains: tuple[str, ...] = ()  # official mail/web domains of the agency
    bodies: dict[str, bytes] = field(default_factory=dict, repr=False, compare=False)
    # Parse-cache entries (`probe.store.pagecodec`) by parse key, encoded as each page came
    # in rather than all at once when the portal is stored (`probe.net.crawl`).
    parses: dict[str, bytes] = field(default_factory=dict, repr=False, compare=False)

    @property
    def home(self) -> Page | None:
        """The home page, or None when even that could not be fetched."""
        return self.pages[0] if self.pages else None

    def page_for(self, url: str) -> Page | None:
        """The fetched page for a URL (requested or final), if the crawl reached it."""
        for page in self.pages:
            if page.url == url or page.final_url == url:
                return page
        return None

    def failure_for(self, url: str) -> FetchFailure | None:
        """Why a URL could not be fetched, if it was tried and failed or was refused."""
        for failure in self.failures:
            if failure.url == url:
                return failure
        return None


@dataclass(frozen=True)
class AgencyArtifacts:
    """All portals of one agency: cross-portal checks (parallel portals) read this."""

    agency_id: str
    agency_level: str
    portals: tuple[PortalArtifacts, ...]
    now: datetime
