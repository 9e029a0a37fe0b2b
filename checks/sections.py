"""``section.<id>``: is each mandated section reachable where the law says it must be?

TT 32/2017 Đ16.2 puts the ND 43 Chương II items "on the home page or in the main menu",
so a section is looked for in the links of the home page and in the navigation links of
every crawled page: in the visible text, the ``title``, the ``alt`` of an image link and
the URL itself (path slugs such as ``/thu-tuc-hanh-chinh``, ``ThuTucHanhChinh.aspx``,
``/web/guest/tthc``, and hosts such as ``dichvucong.<tinh>.gov.vn``). A phrase inside
an article headline is not a section, so outside the menus only short, menu-like labels
and slugs count.

Outcome per section: ``pass`` when a link leads to a page that answered 2xx with real
content (or leaves the site: off-site targets are outside the crawl, and linking out to
the province's service or document portal is how integration is done); ``warn`` when the
link exists but its target is broken, empty or a login wall; ``unknown`` when the target
could not be fetched (robots, crawl bounds, timeout); ``fail`` only when no such link
exists in anything that was crawled. Recognition words and false-friend boundaries live
in the ruleset, not here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from checks.base import CheckContext, Evidence, Finding, Status, check
from checks.common import main_length
from checks.contacts import contact_pages
from checks.ruleset import Section
from checks.text import compact, match_key, slug_words
from probe.artifacts import Link, Page, PortalArtifacts

# Outside the menus a label may exceed its phrase by this many words and still be a
# section link rather than a headline; a slug segment by SLUG_SLACK words.
LABEL_SLACK = 5
SLUG_SLACK = 3
MIN_CONTENT_CHARS = 40  # visible main text below this is an empty page
MAX_CANDIDATES = 12
_LOGIN_FIELDS = ("password", "passwd", "matkhau", "mat_khau", "pwd")
_LOGIN_URL = ("login", "dang-nhap", "dangnhap", "signin", "sign-in", "/auth")
_RANK = {Status.PASS: 0, Status.UNKNOWN: 1, Status.WARN: 2}
MAX_HOMES = 2  # the registered home page and at most this many self-declared ones
_HOME_WORDS = (" trang chu ", " vao trang ", " home ", " default ", " enter ")


@dataclass(frozen=True)
class _Match:
    link: Link
    page: Page
    how: str  # "text", "title", "alt", "slug", "host", "content" (officials listed)
    matched: str  # the label or URL segment that matched


@dataclass(frozen=True)
class _Target:
    status: Status
    code: str  # "ok", "external", "document", "http_404", "empty", "login", "robots", …
    http_status: int = 0


@check(
    id="section",
    title={"vi": "Các mục thông tin bắt buộc", "en": "Mandated sections"},
    failure_title={
        "vi": "Thiếu mục thông tin bắt buộc trên trang chủ / trình đơn chính",
        "en": "Mandated section missing from the home page / main menu",
    },
    legal_basis="NĐ 43/2011/NĐ-CP Điều 10; NĐ 42/2022/NĐ-CP Điều 4; TT 32/2017/TT-BTTTT Điều 16",
)
def check_sections(site: PortalArtifacts, ctx: CheckContext) -> list[Finding]:
    """One finding per section of the ruleset that applies to this agency and date."""
    ruleset = ctx.ruleset
    sections = ruleset.sections_for(site.agency_level, site.now.date())
    home = site.home
    if home is None:
        return [_no_home(s) for s in sections]
    # What every section reads is worked out once per portal: the home pages, the places
    # links are looked for, each link's match keys (`_LinkView`).
    roots = _roots(site)
    homes = home_pages(site, roots)
    places = _Places(_places(site, homes))
    out: list[Finding] = []
    for section in sections:
        if section.kind == "search":
            out.append(_search(section, site, places, ctx.memo, homes, roots))
        else:
            out.append(_link_section(section, site, places, ctx.memo, roots))
    return out


def home_pages(site: PortalArtifacts, roots: frozenset[str] | None = None) -> list[Page]:
    """The home page, plus the page the portal itself calls its home page.

    SharePoint and older portals answer `/` with an entry page ("Vào trang chủ") or a
    copy of the layout, while the page their own "Trang chủ" link opens
    (`/Pages/default.aspx`, `/portal/home`) holds the home-page blocks. What TT 32 Đ16.2
    calls the home page is the latter as much as the former, so its links count too.
    """
    home = site.pages[0]
    out = [home]
    roots = _roots(site) if roots is None else roots
    for link in home.links:
        if len(out) > MAX_HOMES:
            break
        parts = urlsplit(link.url)  # `_same_site`, with the split kept for the path
        if (parts.hostname or "").removeprefix("www.") not in roots:
            continue
        key = match_key(f"{link.label} {parts.path}")
        if not any(w in key for w in _HOME_WORDS):
            continue
        page = site.page_for(link.url)
        if page is not None and page.ok and all(page is not p for p in out):
            out.append(page)
    return out


def _places(site: PortalArtifacts, homes: list[Page]) -> list[tuple[Link, Page]]:
    """Home-page links, then the navigation links of every other crawled page, unique."""
    seen: set[str] = set()
    out: list[tuple[Link, Page]] = []
    for home in homes:
        for link in home.links:
            if link.url not in seen:
                seen.add(link.url)
                out.append((link, home))
    for page in site.pages[1:]:
        for link in page.links:
            if link.region == "nav" and link.url not in seen:
                seen.add(link.url)
                out.append((link, page))
    return out


def _link_section(
    section: Section,
    site: PortalArtifacts,
    places: _Places,
    memo: dict[Any, Any] | None = None,
    roots: frozenset[str] | None = None,
) -> Finding:
    roots = _roots(site) if roots is None else roots
    matches = [
        m
        for i in places.candidates(section)
        if (m := _match(section, *places.items[i])) is not None
    ]
    if section.kind == "sitemap":
        matches.extend(_sitemap_files(site))
    if section.kind == "contacts" and not matches:
        matches.extend(
            _Match(link, page, "content", text)
            for link, page, text in contact_pages(site, places.pairs, memo)
        )
    if not matches:
        return _missing(section, site)
    matches.sort(key=lambda m: (m.link.region != "nav", m.how in ("slug", "host")))
    best: tuple[_Match, _Target] | None = None
    for m in matches[:MAX_CANDIDATES]:
        target = _target(site, m.link, roots, search=section.kind == "search")
        if best is None or _RANK[target.status] < _RANK[best[1].status]:
            best = (m, target)
        if target.status is Status.PASS:
            break
    assert best is not None
    return _found(section, *best)


@dataclass(frozen=True)
class _LinkView:
    """What `_match` reads of a link, computed once per link and reused for every section."""

    names: tuple[tuple[str, str, str], ...]  # (how, label, match key) of non-empty names
    host: str
    first_host_label: str  # compacted, "" without a host
    segments: tuple[tuple[str, str, str], ...]  # (segment, slug words, compacted)


def _view(link: Link, words: dict[str, tuple[str, str]] | None = None) -> _LinkView:
    """The `_LinkView` of a link; `words` keeps each URL piece's keys for the next link.

    Links of a portal share their host and most path segments (``tin-tuc``,
    ``chi-tiet``), so their slug words and glued forms are worked out once per piece.
    """
    names = tuple(
        (how, label, match_key(label))
        for how, label in (("text", link.text), ("title", link.title), ("alt", link.alt))
        if label
    )
    parts = urlsplit(link.url)
    host = parts.hostname or ""
    words = {} if words is None else words
    first = _piece(words, host.removeprefix("www.").split(".", 1)[0])[1] if host else ""
    segments = tuple((seg, *_piece(words, seg)) for seg in _segments(parts.path, parts.query))
    return _LinkView(names, host, first, segments)


def _piece(words: dict[str, tuple[str, str]], piece: str) -> tuple[str, str]:
    """(`slug_words`, `compact`) of a URL piece, kept in `words`."""
    known = words.get(piece)
    if known is None:
        known = words[piece] = (slug_words(piece), compact(piece))
    return known


class _Places:
    """The links sections are looked for in, each with its `_LinkView`, indexed by word.

    A link names a section only if one of its names or URL segments holds a whole key of
    the section, and so every word of that key (`Section.key_words`), or its URL has one
    of the section's glued slugs or host words. The index gives the links
    holding any of those; `_match` judges them, in the order of the places, so each
    section looks at a handful of a portal's links instead of every one.
    """

    def __init__(self, pairs: list[tuple[Link, Page]]) -> None:
        self.pairs = pairs
        words: dict[str, tuple[str, str]] = {}
        self.items = [(link, page, _view(link, words)) for link, page in pairs]
        index: dict[str, list[int]] = {}
        for i, (_, _, view) in enumerate(self.items):
            keys: set[str] = set()
            for _, _, key in view.names:
                keys.update(key.split())
            for _, words, glued in view.segments:
                keys.update(words.split())
                keys.add("\x00glued " + glued)
            if view.host:
                keys.add("\x00host " + view.first_host_label)
            for key in keys:
                index.setdefault(key, []).append(i)
        self.index = index

    def candidates(self, section: Section) -> list[int]:
        """Indexes (in place order) of the links that may name `section`; the rest cannot.

        A key is looked up by its word held by the fewest links (none if one of its words
        is held by no link at all).
        """
        found: set[int] = set()
        get = self.index.get
        for words in section.key_words:
            fewest: list[int] | None = None
            for word in words:
                holders = get(word)
                if holders is None:
                    fewest = None
                    break
                if fewest is None or len(holders) < len(fewest):
                    fewest = holders
            if fewest:
                found.update(fewest)
        for glued in section.slug_compacts:
            found.update(get("\x00glued " + glued, ()))
        for host in section.host_words:
            found.update(get("\x00host " + host, ()))
        return sorted(found)


def _match(
    section: Section, link: Link, page: Page, view: _LinkView | None = None
) -> _Match | None:
    """How `link` names `section`, if it does (first by its words, then by its URL)."""
    in_menu = link.region == "nav"
    if view is None:
        view = _view(link)
    for how, label, key in view.names:
        if any(ex in key for ex in section.exclude_keys):
            continue
        for pk in section.label_keys:
            if pk in key and (in_menu or _words(key) <= _words(pk) + LABEL_SLACK):
                return _Match(link, page, how, label)
    host = view.host
    if section.host_words and host and view.first_host_label in section.host_words:
        return _Match(link, page, "host", host)
    for seg, words, glued in view.segments:
        if any(ex in words for ex in section.exclude_keys):
            continue
        if glued in section.slug_compacts:
            return _Match(link, page, "slug", seg)
        for pk in section.slug_keys:
            if pk in words and (in_menu or _words(words) <= _words(pk) + SLUG_SLACK):
                return _Match(link, page, "slug", seg)
    return None


def _segments(path: str, query: str) -> list[str]:
    segs = [s for s in path.split("/") if s and s not in ("web", "guest", "-", "Pages")]
    for pair in query.split("&") if query else ():
        value = pair.partition("=")[2]
        if value and not value.isdigit():
            segs.append(value)
    return segs


def _words(key: str) -> int:
    return key.count(" ") - 1


def _sitemap_files(site: PortalArtifacts) -> list[_Match]:
    """A sitemap.xml seen as a link or fetched page also satisfies TT 32 Đ16.4.b."""
    home = site.pages[0]
    out: list[_Match] = []
    for link in (*site.document_links, *home.links):
        if urlsplit(link.url).path.lower().endswith("sitemap.xml"):
            out.append(_Match(link, home, "slug", "sitemap.xml"))
    for page in site.pages:
        if urlsplit(page.final_url).path.lower().endswith("sitemap.xml"):
            out.append(_Match(Link(url=page.url, text="sitemap.xml"), home, "slug", "sitemap.xml"))
    return out


def _roots(site: PortalArtifacts) -> frozenset[str]:
    """The portal's own hosts (without ``www.``), as `_same_site` compares them."""
    return frozenset(
        (urlsplit(u).hostname or "").removeprefix("www.") for u in (site.url, site.final_url)
    )


def _same_site(url: str, site: PortalArtifacts, roots: frozenset[str] | None = None) -> bool:
    host = (urlsplit(url).hostname or "").removeprefix("www.")
    return host in (_roots(site) if roots is None else roots)


def _target(
    site: PortalArtifacts,
    link: Link,
    roots: frozenset[str] | None = None,
    *,
    search: bool = False,
) -> _Target:
    """What became of the page a section link points to.

    A search page opened without a query legitimately shows almost nothing ("Không có
    kết quả"), so for the search section any 2xx page is the working tool.
    """
    url = link.url
    page = site.page_for(url)
    if page is not None:
        judged = _judge_page(page)
        if search and judged.code == "empty":
            return _Target(Status.PASS, "ok", page.status)
        return judged
    failure = site.failure_for(url)
    if failure is not None:
        # The fetcher retried: a 4xx/5xx that persists is a broken link as readers see it.
        if failure.status >= 400 or failure.code.startswith("http_"):
            status = failure.status or int(failure.code.removeprefix("http_") or 0)
            return _Target(Status.WARN, f"http_{status}", status)
        return _Target(Status.UNKNOWN, failure.code, failure.status)
    if link.is_document:
        return _Target(Status.PASS, "document")
    if not _same_site(url, site, roots):
        return _Target(Status.PASS, "external")
    if site.robots is not None and url in site.robots.disallowed:
        return _Target(Status.UNKNOWN, "robots")
    return _Target(Status.UNKNOWN, "not_fetched")


def _judge_page(page: Page) -> _Target:
    if page.status >= 400:
        return _Target(Status.WARN, f"http_{page.status}", page.status)
    if not 200 <= page.status < 300:
        return _Target(Status.UNKNOWN, f"http_{page.status}", page.status)
    login_form = any(
        any(p in f.lower() for p in _LOGIN_FIELDS for f in form.fields) for form in page.forms
    )
    final = page.final_url.lower()
    # Lengths from the main text's runs: building the string for `len` cost 25 µs a
    # target on a crawled fleet page (`main_length`).
    main = main_length(page)
    if (login_form or any(p in final for p in _LOGIN_URL)) and main < 600:
        return _Target(Status.WARN, "login", page.status)
    # A question form (name, e-mail, question) is the content of a Q&A page (Đ15.2).
    interactive = any(len(form.fields) >= 2 for form in page.forms)
    if (main or len(page.text)) < MIN_CONTENT_CHARS and not interactive:
        return _Target(Status.WARN, "empty", page.status)
    return _Target(Status.PASS, "ok", page.status)


def _search(
    section: Section,
    site: PortalArtifacts,
    places: _Places,
    memo: dict[Any, Any] | None = None,
    homes: list[Page] | None = None,
    roots: frozenset[str] | None = None,
) -> Finding:
    """A search box on the home page (ND 43 Đ15.1.a), or a menu link to a search page."""
    homes = home_pages(site, roots) if homes is None else homes
    forms = [(home, form) for home in homes for form in home.forms]
    for home, form in forms:
        fields = {f.lower() for f in form.fields}
        named = fields & section.field_names
        key = match_key(f"{form.text} {form.action}")
        worded = next((pk for pk in section.label_keys if pk in key), None)
        if named or worded:
            what = ", ".join(sorted(named)) if named else worded.strip()  # type: ignore[union-attr]
            return _finding(
                section,
                Status.PASS,
                {
                    "vi": f"Có ô tìm kiếm trên trang chủ ({what}).",
                    "en": f"The home page has a search box ({what}).",
                },
                (Evidence(home.final_url, f"form action={form.action} fields={what}"),),
                {"found": True, "match": "form", "action": form.action},
            )
    link_finding = _link_section(section, site, places, memo, roots)
    if link_finding.status is not Status.FAIL:
        return link_finding
    return _missing(section, site)


def _found(section: Section, m: _Match, target: _Target) -> Finding:
    name = section.label["vi"]
    shown = m.matched if m.how not in ("slug", "host", "content") else m.link.url
    where = {
        "text": "chữ",
        "title": "title",
        "alt": "alt ảnh",
        "slug": "URL",
        "host": "tên miền",
        "content": "nội dung trang",
    }
    if target.status is Status.PASS:
        note = {"external": " (trang ngoài cổng, không tải)", "document": " (tệp văn bản)"}
        msg = {
            "vi": f"Có mục «{name}»: liên kết «{shown}»{note.get(target.code, '')}.",
            "en": f"Section «{section.label['en']}» found: link «{shown}» ({target.code}).",
        }
    elif target.status is Status.WARN:
        why = {"login": "yêu cầu đăng nhập", "empty": "trang trống"}.get(
            target.code, f"lỗi {target.http_status or target.code}"
        )
        msg = {
            "vi": f"Có liên kết «{shown}» tới mục «{name}» nhưng trang đích {why}.",
            "en": f"Link «{shown}» to «{section.label['en']}» exists but its target is "
            f"{target.code}.",
        }
    else:
        msg = {
            "vi": f"Có liên kết «{shown}» tới mục «{name}» nhưng không tải được trang đích "
            f"({target.code}).",
            "en": f"Link «{shown}» to «{section.label['en']}» exists but its target could not "
            f"be fetched ({target.code}).",
        }
    status_text = str(target.http_status) if target.http_status else target.code
    evidence = (
        Evidence(m.page.final_url, f"{shown} [{where[m.how]}]"),
        Evidence(m.link.url, m.matched if m.how == "content" else f"→ {status_text}"),
    )
    details = {
        "found": True,
        "match": m.how,
        "matched": m.matched,
        "region": m.link.region,
        "page": m.page.final_url,
        "target": m.link.url,
        "target_status": target.http_status or target.code,
    }
    if target.status is Status.UNKNOWN:
        details["reason"] = target.code
    return _finding(section, target.status, msg, evidence, details)


def _missing(section: Section, site: PortalArtifacts) -> Finding:
    """`fail` for a mandated section; `warn` for a recommended or unverified one.

    An inspector must not be told an agency breaks a rule we could not verify exists.
    """
    mandated = section.required and section.verified
    kind = "bắt buộc" if mandated else "khuyến nghị"
    kind_en = "mandated" if mandated else "recommended"
    pages = len(site.pages)
    return _finding(
        section,
        Status.FAIL if mandated else Status.WARN,
        {
            "vi": f"Không thấy mục «{section.label['vi']}» ({kind}) trên trang chủ hay trình "
            f"đơn chính ({pages} trang đã xem).",
            "en": f"No «{section.label['en']}» section ({kind_en}) on the home page or main "
            f"menu ({pages} pages seen).",
        },
        (Evidence(site.pages[0].final_url, "(không tìm thấy / not found)"),),
        {"found": False, "pages_seen": pages},
    )


def _no_home(section: Section) -> Finding:
    return _finding(
        section,
        Status.UNKNOWN,
        {"vi": "Không có trang chủ để kiểm tra.", "en": "No home page to check."},
        (),
        {"reason": "no_home_page"},
    )


def _finding(
    section: Section,
    status: Status,
    message: dict[str, str],
    evidence: tuple[Evidence, ...],
    details: dict[str, object],
) -> Finding:
    details = {
        **details,
        "section": section.id,
        "legal_basis": section.legal_basis,
        "required": section.required,
        "verified": section.verified,
    }
    return Finding(section.check_id, status, message, evidence, details, section.weight)
