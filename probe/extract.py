"""HTML to `Page`: every page is parsed once, here, with selectolax's lexbor backend.

Checks never parse HTML; if a check needs something new, it becomes a `Page` field and
is extracted here, so one parse serves every check and a stored body can be re-checked.

Regions matter to the law: TT 32/2017 Đ16 puts mandated sections in the main menu and the
owner's identity in the footer, so each link is tagged ``nav`` (inside ``<nav>``,
``<header>`` or a block whose id/class says menu/nav/navbar/dropdown/topbar/mainmenu),
``footer`` (``<footer>`` or id/class footer/bottom), ``aside`` or ``body``; and
``main_text`` is the text outside those blocks, so a footer line is not mistaken for an
article and an article mention is not mistaken for a menu.
"""

from __future__ import annotations

import re
import threading
import unicodedata
from datetime import date
from functools import lru_cache
from typing import Any

from selectolax.lexbor import LexborCSSSelector, LexborHTMLParser, LexborNode

from probe.artifacts import DateMention, Form, Link, Page, TextRuns
from probe.textparse import find_dates, find_emails

# Bump on any change to what parse_page derives from a body: cached parses
# (probe.store.pagecodec) are keyed by it, so a change re-parses every page once.
# 2: a link href with whitespace before its fragment ("x.html #top") keeps it encoded
# (canon); the page's own U+0001/U+0002 are never taken for region markers.
# 3: attribute values (hrefs, form and meta names) are read NFC, as texts always were:
# a UTF-8 body is parsed as sent even when it is not NFC (`probe.net.crawl.parse_body`).
EXTRACT_VERSION = 3
MAX_LINKS = 2000
MAX_DATES = 500
# `str.translate` with a dict costs ~50 ns a character on non-ASCII text (2 ms for a
# page's text); six substring tests that usually find nothing cost a few microseconds.
_INVISIBLE_CHARS = "\u200b\u200c\u200d\u2060\ufeff\u00ad"
_INVISIBLE = re.compile(f"[{_INVISIBLE_CHARS}]+")
# Every whitespace character but " " (what `str.split` splits at, less the space) that NFC
# text can hold (U+2000 and U+2001 become U+2002 and U+2003), for `_has_other_space`.
_OTHER_SPACES = (
    "\t\n\x0b\x0c\r\x1c\x1d\x1f\x85\xa0\u1680\u2002\u2003\u2004\u2005\u2006\u2007"
    "\u2008\u2009\u200a\u2028\u2029\u202f\u205f"
)
_SLOW_SPACES = (re.compile("\x1e"), re.compile("\u3000"))
# Later regions win for a link inside two blocks: a menu inside the footer is footer.
_REGIONS = (
    ("aside", "aside, [id*=sidebar], [class*=sidebar]"),
    (
        "nav",
        "nav, header, [role=navigation], [id*=menu], [class*=menu], [id*=nav], [class*=nav],"
        " [class*=dropdown], [id*=topbar], [class*=topbar]",
    ),
    ("footer", "footer, [id*=footer], [class*=footer], [id*=bottom], [class*=bottom]"),
)
# Every element parse_page reads, found in one walk of the tree: each CSS query walks the
# whole document (~0.03 ms a fleet page however little it finds), and there were nine.
# Each tag here is matched by one selector only, so a node's tag says why it was found.
_DROPPED = ("script", "style", "noscript", "template")
_WANTED = "base[href], title, form, meta[content], h1, h2, h3, time[datetime], a[href], a[href] img"
_ALL = ", ".join((*_DROPPED, _WANTED))
# Bracket the region roots in the body text (`_texts`). U+0000 never comes out of an
# HTML parse (the tree builder drops it or writes U+FFFD, "&#0;" too), so every one in
# the body text is a marker of ours, and the character after it says which: a root
# opens ("(", "[" for a footer root) or closes (")"). The two spaces before it make the
# search for runs of spaces find it.
_MARK = "\x00"
_OPEN, _FOOTER_OPEN, _CLOSE = "  \x00(", "  \x00[", "  \x00)"
_MARKERS = (_OPEN, _FOOTER_OPEN, _CLOSE)
_FOOTER_WORDS = ("bản quyền", "©", "copyright", "chịu trách nhiệm", "địa chỉ", "điện thoại")
# Links seen on a page recur on the portal's other pages (menus, footers, sidebars): the
# same href, text, title, image and region give the same (immutable) `Link`, so it is made
# once. Bounded; a few thousand small objects.
_LINK_CACHE_SIZE = 4096


_LOCAL = threading.local()


def _css(node: LexborNode | None, query: str) -> list[LexborNode]:
    """`node.css(query)`, by this thread's CSS engine rather than the document's own.

    A parser makes its engine (a CSS parser and a selector matcher) on its first query
    and frees it with the document: 0.01 ms of a fleet page, for what one engine per
    thread does for every page (it is reset by each query, and is not to be shared by
    threads).
    """
    if node is None:
        return []
    try:
        engine = _LOCAL.css
    except AttributeError:
        engine = _LOCAL.css = LexborCSSSelector()
    return engine.find(query, node)


def _fold(text: str) -> str:
    """`" ".join(text.split())`, without splitting text whose only whitespace is " ".

    Every whitespace character but the space is unprintable (Unicode "Separator" or
    "Other"), so printable text needs only its runs of spaces collapsed: no list of
    words to build (a fleet page has ~10,000).
    """
    if not text.isprintable():
        return " ".join(text.split())
    while "  " in text:
        text = " ".join(text.split("  "))
    return text.strip(" ")


def _clean(text: str | None) -> str:
    """NFC, invisible characters dropped, whitespace folded (as `checks.text.normalize`)."""
    if not text:
        return ""
    if not text.isascii():
        if _has_invisible(text):
            text = _INVISIBLE.sub("", text)
        text = unicodedata.normalize("NFC", text)
    return _fold(text)


def _has_other_space(text: str) -> bool:
    """Whether NFC `text` holds whitespace other than " " (line breaks, tabs, &nbsp; …).

    `not text.isprintable()` says as much and more, but costs ~2 ns a character (0.11 ms
    a fleet page); a substring test per character is a memchr over the text (~1 µs a
    fleet page each). U+001E and U+3000 are scanned for by a one-character regex instead
    (~10 µs each): memchr looks for a character's low byte, and theirs is the high byte of
    every Vietnamese U+1Exx letter, or 0. Together 0.05 ms a fleet page.
    """
    for space in _OTHER_SPACES:
        if space in text:
            return True
    return any(pattern.search(text) for pattern in _SLOW_SPACES)


def _has_invisible(text: str) -> bool:
    """`any(c in text for c in _INVISIBLE_CHARS)` without the generator (0.3 against
    1.3 µs for a link text; every text `_clean` sees is tested)."""
    return (
        "\u200b" in text
        or "\u200c" in text
        or "\u200d" in text
        or "\u2060" in text
        or "\ufeff" in text
        or "\u00ad" in text
    )


def _attr(attributes: dict[str, str | None], name: str) -> str:
    """An attribute's value from `node.attributes` (which builds the whole dict each time
    it is read: read it once per node), NFC; "" if absent or empty."""
    value = attributes.get(name)
    return _nfc(value) if isinstance(value, str) else ""


def _nfc(value: str) -> str:
    """An attribute value NFC, as every text is (`_clean`): the markup may not be NFC."""
    return value if value.isascii() else unicodedata.normalize("NFC", value)


def parse_page(
    html: str | bytes, *, url: str, final_url: str, status: int, **fetch_fields: Any
) -> Page:
    """Parse `html` fetched from `final_url` into an immutable `Page` (one parse).

    `html` is the decoded text, or a UTF-8 body as sent (`probe.net.crawl.parse_body`):
    lexbor parses UTF-8, and a text is encoded for it first (0.09 ms a fleet page). Either
    may be other than NFC: every text and attribute value read from it is made NFC.
    """
    # Imported here: probe.net's package __init__ imports the crawler, which imports us.
    from probe.net.canon import canonical

    tree = LexborHTMLParser(html)
    by_tag = _elements(tree)
    base = final_url or url
    if "base" in by_tag:
        base = canonical(_attr(by_tag["base"][0].attributes, "href"), base) or base

    roots = [
        (region, root)
        for region, selector in _REGIONS
        for root in _css(tree.root, selector)
        if root.tag != "html"  # `<html class="nav-open">` is no region (and can't go)
    ]
    region_of = _region_of(roots)

    links, mailtos = _links(by_tag.get("a", ()), by_tag.get("img", ()), base, region_of)
    titles = by_tag.get("title")
    forms = tuple(_form(f, base) for f in by_tag.get("form", ()))
    meta = tuple(_meta(by_tag.get("meta", ())))
    headings = tuple(h for n in by_tag.get("h", ()) if (h := _clean(n.text(separator=" "))))
    times = _time_dates(by_tag.get("time", ()))

    text, main_text, footer_text = _texts(tree.body, roots)

    dates = tuple((*times, *find_dates(text, is_nfc=True))[:MAX_DATES])
    return Page(
        url=url,
        final_url=final_url,
        status=status,
        title=_clean(titles[0].text()) if titles else "",
        text=text,
        main_text=main_text,
        footer_text=footer_text,
        links=tuple(links),
        forms=forms,
        emails=tuple(find_emails(text, mailtos, is_nfc=True)),
        dates=dates,
        meta=meta,
        headings=headings,
        **fetch_fields,
    )


def _elements(tree: LexborHTMLParser) -> dict[str, list[LexborNode]]:
    """The elements parse_page reads, by tag (h1–h3 together as "h"), in document order.

    Script, style, noscript and template go first, as before any other query: their text
    is no page text. <noscript> content is parsed as elements (scripting is off) and
    goes with it, so then the rest is queried again; script and style hold only text,
    and template content is not searched, so otherwise the one query's rest stands.
    """
    by_tag: dict[str, list[LexborNode]] = {}
    dropped: list[LexborNode] = []
    for node in _css(tree.root, _ALL):
        tag = node.tag
        if tag in _DROPPED:
            dropped.append(node)
            continue
        if tag in ("h1", "h2", "h3"):
            tag = "h"  # headings stay in document order, whatever their level
        if tag in by_tag:
            by_tag[tag].append(node)
        else:
            by_tag[tag] = [node]
    for node in dropped:
        node.decompose()
    if any(node.tag == "noscript" for node in dropped):
        return _elements(tree)  # nothing is dropped this time
    return by_tag


def _region_of(roots: list[tuple[str, LexborNode]]) -> dict[int, str]:
    """The region of every `a[href]` inside a root, by the link's `mem_id`.

    A link inside roots of several regions takes the last region of `_REGIONS`. Only
    the outermost roots of a region are searched: a root inside another root of its own
    region (a menu's lists and items inside the `<nav>`, or a root found twice, by two
    of its region's selectors) holds no link the outer one does not, and gives the same
    region. A fleet page has 13 roots and 4 outermost ones; each query walks its root's
    subtree, so the nested ones cost as much as the outer ones again (0.055 → 0.027 ms a
    fleet page, the climb to the document root included).
    """
    region_of: dict[int, str] = {}
    for region, _selector in _REGIONS:
        group = {root.mem_id: root for name, root in roots if name == region}
        for root in group.values():
            node = root.parent
            while node is not None and node.mem_id not in group:
                node = node.parent
            if node is None:  # no root of the region above it
                for a in _css(root, "a[href]"):
                    region_of[a.mem_id] = region
    return region_of


def _texts(
    body: LexborNode | None, roots: list[tuple[str, LexborNode]]
) -> tuple[str, str | TextRuns, str]:
    """`text`, `main_text` (the text outside the region roots) and `footer_text`.

    Each root is bracketed by marker text nodes, so one `body.text()` gives all three:
    words between markers belong to a region, words between a footer root's markers to
    the footer. The result is what cleaning the whole body text, the text of each footer
    root and, after removing the roots, the body text again gives (markers are their own
    fragments, set off by the separator's spaces, so they change no word). When the
    markers do not come out exactly once per root (a root outside the body, or the body
    itself), the several-pass way is used. Whitespace-only text nodes are skipped: they
    add no word, only spaces to fold.
    """
    if body is None:
        return "", "", _footer_of(roots)
    has_footer = any(region == "footer" for region, _root in roots)
    footer = "" if has_footer else _footer_fallback(body)  # read before markers go in
    if roots:
        for region, root in roots:
            root.insert_before(_FOOTER_OPEN if region == "footer" else _OPEN)
            root.insert_after(_CLOSE)
        texts = _split_marked(body.text(separator=" ", skip_empty=True), len(roots))
        if texts is not None:
            text, main_text, footer_marked = texts
            if not has_footer:
                return text, main_text, footer
            if footer_marked:
                return text, main_text, footer_marked
            _unmark(roots)
            return text, main_text, _footer_fallback(body)
        _unmark(roots)  # then the several-pass way
    if has_footer:
        footer = _footer_of(roots) or _footer_fallback(body)
    text = _clean(body.text(separator=" ", skip_empty=True))
    for _region, root in roots:
        root.decompose()
    return text, _clean(body.text(separator=" ", skip_empty=True)) if roots else text, footer


def _unmark(roots: list[tuple[str, LexborNode]]) -> None:
    """Take the markers `_texts` put around the roots out of the tree again."""
    for _region, root in roots:
        for marker in (root.prev, root.next):
            if marker is not None and marker.text_content in _MARKERS:
                marker.decompose()


def _footer_of(roots: list[tuple[str, LexborNode]]) -> str:
    """The footer roots' texts, each cleaned, in document order (the plain way)."""
    return " ".join(
        t for region, root in roots if region == "footer" if (t := _clean(root.text(separator=" ")))
    )


def _split_marked(raw: str, roots: int) -> tuple[str, TextRuns, str] | None:
    """The cleaned text, main text and footer text of a marked body text (see `_texts`).

    None if the text does not hold exactly one pair of markers per root, properly
    nested. `_clean`'s steps; folding is done by cutting the text at runs of spaces and
    joining the pieces, each character copied once or twice, where splitting ~10,000
    words and joining them again cost 0.6 ms a fleet page. Every marker starts with two
    spaces, so the one search for runs of spaces finds the markers too (a separate search
    for them cost 0.03 ms a fleet page). Only a piece with other whitespace than spaces
    (line breaks inside a text node, &nbsp;) goes through `_fold`, and a piece is only
    looked at for it when the text holds any (`_has_other_space`; 0.25 → 0.19 ms a fleet
    page, whose text holds none). A U+0000 inside a piece (never: see `_MARK`) would be
    part of a word, as the several-pass way has it; it used to send the text that way,
    which would now take a scan of the text for U+0000 (0.02 ms a fleet page). A piece
    inside any root is left out of the main text, which is given as runs of the text
    (`TextRuns`: a page in memory does not hold its main words twice, ~90 KB a fleet
    page); the footer is the words between each footer root's markers, as many times as
    footer roots hold them.
    """
    if not raw.isascii():
        if _has_invisible(raw):
            raw = _INVISIBLE.sub("", raw)
        raw = unicodedata.normalize("NFC", raw)
    plain = not _has_other_space(raw)  # then no piece needs `_fold`
    words: list[str] = []
    main: list[int] = []  # flat (start, end) runs of the text
    size = -1  # of " ".join(words), less the separator before the next word
    last_main = -1  # the index in `words` of the last main word
    footers: list[list[int]] = []  # [start, end) in `words` of each footer root
    stack: list[int] = []  # per open root: its index in `footers`, or -1
    pos = opened = 0
    end = len(raw)
    gap = raw.find("  ")
    while True:
        start, stop = pos, (gap if gap >= 0 else end)
        while start < stop and raw[start] == " ":
            start += 1
        while stop > start and raw[stop - 1] == " ":
            stop -= 1
        if start < stop:
            piece = raw[start:stop]
            if not plain and not piece.isprintable():
                piece = _fold(piece)
            if piece:
                size += 1
                if not stack:
                    if last_main == len(words) - 1 >= 0:
                        main[-1] = size + len(piece)  # the run goes on
                    else:
                        if main:
                            main[-1] += 1  # a run keeps the space after it
                        main += (size, size + len(piece))
                    last_main = len(words)
                words.append(piece)
                size += len(piece)
        if gap < 0:
            break
        pos = gap + 2
        while pos < end and raw[pos] == " ":
            pos += 1
        if raw[pos : pos + 1] == _MARK:
            kind = raw[pos + 1 : pos + 2]
            pos += 2
            if kind == ")":
                if not stack:
                    return None
                at = stack.pop()
                if at >= 0:
                    footers[at][1] = len(words)
            elif kind == "[":
                opened += 1
                stack.append(len(footers))
                footers.append([len(words), 0])
            else:
                opened += 1
                stack.append(-1)
        gap = raw.find("  ", pos)
    if opened != roots or stack:
        return None
    footer = " ".join(" ".join(words[a:b]) for a, b in footers if a < b)
    return " ".join(words), TextRuns(main), footer


def _links(
    anchors: Any, images: Any, base: str, region_of: dict[int, str]
) -> tuple[list[Link], list[str]]:
    """Every `a[href]` as a `Link` (not mailto:, which only feed e-mail addresses).

    `anchors` and `images` are the page's `a[href]` and `a[href] img` elements in document
    order. What a `Link` depends on is looked up in `_link`'s cache; relative hrefs are
    resolved against the part of the base they depend on, so the same menu link on every
    page of a portal is one cache entry.
    """
    first_image = _first_images(images)
    origin_end = base.find("/", base.find("//") + 2)
    origin = base if origin_end < 0 else base[:origin_end]
    links: list[Link] = []
    mailtos: list[str] = []
    for a in anchors:
        attributes = a.attributes
        href = _attr(attributes, "href")
        if href[:1] == "/" and href[1:2] != "/":
            context = origin  # root-relative: only the origin matters
        else:
            head = href[:8].lower()
            if head[:7] == "mailto:":
                mailtos.append(href)
                continue
            # absolute: the base does not matter; anything else may use all of it
            context = "" if head[:7] == "http://" or head == "https://" else base
        title = attributes.get("title")
        key = a.mem_id
        img = first_image.get(key) if first_image else None
        if img is None:
            alt = ""
        else:
            img_attributes = img.attributes
            alt = img_attributes.get("alt") or img_attributes.get("title") or ""
        link = _link(
            href,
            context,
            a.text(True, " "),
            title if isinstance(title, str) else "",
            alt if isinstance(alt, str) else "",
            region_of.get(key, "body"),
        )
        if link is not None:
            links.append(link)
            if len(links) >= MAX_LINKS:
                break
    return links, mailtos


@lru_cache(maxsize=_LINK_CACHE_SIZE)
def _link(href: str, base: str, text: str, title: str, alt: str, region: str) -> Link | None:
    """The `Link` of an anchor (None if not crawlable); `base` as `_links` narrows it."""
    from probe.net.canon import canonical, is_document

    target = canonical(href, base or None)
    if target is None:
        return None
    return Link(
        url=target,
        text=_clean(text),
        title=_clean(title),
        alt=_clean(alt),
        region=region,
        is_document=is_document(target),
    )


def _first_images(images: Any) -> dict[int, LexborNode]:
    """Each link's first image, by the link's `mem_id` (what `a.css_first("img")` gives).

    From the page-wide `a[href] img` query instead of a CSS query per link (0.17 → 0.04 ms
    a fleet page): few links hold an image, and a query per link was most of the link
    loop's cost. Images are in document order, so the first one seen under a link is its
    first.
    """
    first: dict[int, LexborNode] = {}
    for img in images:
        node = img.parent
        while node is not None:  # every enclosing link, as nested ones each see it
            if node.tag == "a":
                first.setdefault(node.mem_id, img)
            node = node.parent
    return first


def _form(node: LexborNode, base: str) -> Form:
    """A form's target, field names and the words a reader sees on it."""
    from probe.net.canon import canonical

    names: list[str] = []
    words: list[str] = []
    has_file = False
    for field in _css(node, "input, select, textarea, button"):
        attributes = field.attributes
        name = _attr(attributes, "name") or _attr(attributes, "id")
        kind = _attr(attributes, "type").lower()
        if name and field.tag != "button":
            names.append(name)
        has_file = has_file or kind == "file"
        for attr in ("placeholder", "title", "aria-label"):
            if v := _attr(attributes, attr):
                words.append(v)
        if kind in ("submit", "button") and (v := _attr(attributes, "value")):
            words.append(v)
        if field.tag == "button":
            words.append(field.text(separator=" "))
    words.extend(label.text(separator=" ") for label in _css(node, "label"))
    form = node.attributes
    action = _attr(form, "action")
    return Form(
        action=(canonical(action, base) or action) if action else base,
        method=(_attr(form, "method") or "get").lower(),
        fields=tuple(names),
        has_file_input=has_file,
        text=_clean(" ".join(words))[:500],
    )


def _meta(nodes: Any) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    for node in nodes:
        attributes = node.attributes
        name = _attr(attributes, "name") or _attr(attributes, "property")
        name = name or _attr(attributes, "http-equiv")
        if name:
            out.append((name, _clean(_attr(attributes, "content"))))
    return out


def _time_dates(nodes: Any) -> list[DateMention]:
    out: list[DateMention] = []
    for node in nodes:
        raw = _attr(node.attributes, "datetime")[:10]
        try:
            value = date.fromisoformat(raw)
        except ValueError:
            continue
        out.append(DateMention(value, _clean(node.text()) or raw, "time"))
    return out


def _footer_fallback(body: LexborNode) -> str:
    """Without a footer element, the last block that reads like one (©, địa chỉ …)."""
    blocks = [n for n in body.iter() if n.tag in ("div", "table", "section", "p", "center")]
    for node in reversed(blocks[-4:]):
        text = _clean(node.text(separator=" "))
        low = text.lower()
        if text and any(w in low for w in _FOOTER_WORDS):
            return text
    return ""
