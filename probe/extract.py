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
import unicodedata
from datetime import date
from typing import Any

from selectolax.lexbor import LexborHTMLParser, LexborNode

from probe.artifacts import DateMention, Form, Link, Page
from probe.textparse import find_dates, find_emails

# Bump on any change to what parse_page derives from a body: cached parses
# (probe.store.pagecodec) are keyed by it, so a change re-parses every page once.
EXTRACT_VERSION = 1
MAX_LINKS = 2000
MAX_DATES = 500
# `str.translate` with a dict costs ~50 ns a character on non-ASCII text (2 ms for a
# page's text); six substring tests that usually find nothing cost a few microseconds.
_INVISIBLE_CHARS = "\u200b\u200c\u200d\u2060\ufeff\u00ad"
_INVISIBLE = re.compile(f"[{_INVISIBLE_CHARS}]+")
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
# Bracket the region roots in the body text (`_texts`); a root's own text never holds
# them unless the page does, which `_texts` detects by counting.
_OPEN, _CLOSE = "\x01", "\x02"
_MARKERS = re.compile("([\x01\x02])")
_FOOTER_WORDS = ("bản quyền", "©", "copyright", "chịu trách nhiệm", "địa chỉ", "điện thoại")


def _clean(text: str | None) -> str:
    """NFC, invisible characters dropped, whitespace folded (as `checks.text.normalize`)."""
    if not text:
        return ""
    if not text.isascii():
        if any(c in text for c in _INVISIBLE_CHARS):
            text = _INVISIBLE.sub("", text)
        text = unicodedata.normalize("NFC", text)
    return " ".join(text.split())


def _attr(node: LexborNode, name: str) -> str:
    value = node.attributes.get(name)
    return value if isinstance(value, str) else ""


def parse_page(html: str, *, url: str, final_url: str, status: int, **fetch_fields: Any) -> Page:
    """Parse `html` fetched from `final_url` into an immutable `Page` (one parse)."""
    # Imported here: probe.net's package __init__ imports the crawler, which imports us.
    from probe.net.canon import canonical

    tree = LexborHTMLParser(html)
    for node in tree.css("script, style, noscript, template"):
        node.decompose()
    base = final_url or url
    base_node = tree.css_first("base[href]")
    if base_node is not None:
        base = canonical(_attr(base_node, "href"), base) or base

    region_of: dict[int, str] = {}
    roots: list[tuple[str, LexborNode]] = []
    for region, selector in _REGIONS:
        for root in tree.css(selector):
            if root.tag == "html":  # `<html class="nav-open">` is no region (and can't go)
                continue
            roots.append((region, root))
            for a in root.css("a[href]"):
                region_of[a.mem_id] = region

    links, mailtos = _links(tree, base, region_of)
    title_node = tree.css_first("title")
    forms = tuple(_form(f, base) for f in tree.css("form"))
    meta = tuple(_meta(tree))
    headings = tuple(h for n in tree.css("h1, h2, h3") if (h := _clean(n.text(separator=" "))))
    times = _time_dates(tree)

    body = tree.body
    footer_text = " ".join(
        t for region, root in roots if region == "footer" if (t := _clean(root.text(separator=" ")))
    )
    if not footer_text and body is not None:
        footer_text = _footer_fallback(body)
    text, main_text = _texts(body, [root for _region, root in roots])

    dates = tuple((*times, *find_dates(text))[:MAX_DATES])
    return Page(
        url=url,
        final_url=final_url,
        status=status,
        title=_clean(title_node.text()) if title_node is not None else "",
        text=text,
        main_text=main_text,
        footer_text=footer_text,
        links=tuple(links),
        forms=forms,
        emails=tuple(find_emails(text, mailtos)),
        dates=dates,
        meta=meta,
        headings=headings,
        **fetch_fields,
    )


def _texts(body: LexborNode | None, roots: list[LexborNode]) -> tuple[str, str]:
    """`text` and `main_text` (the text outside the region roots) from one extraction.

    Each root is bracketed by marker text nodes, so one `body.text()` and one split give
    both: words between markers belong to a region. The result is what cleaning the whole
    body text and, after removing the roots, cleaning it again gives (markers are their
    own fragments, set off by the separator's spaces, so they change no word). When the
    markers do not come out exactly once per root (a root outside the body or the body
    itself, or the page's own text holds a marker character), the two-pass way is used.
    """
    if body is None:
        return "", ""
    if roots:
        for root in roots:
            root.insert_before(_OPEN)
            root.insert_after(_CLOSE)
        raw = body.text(separator=" ")
        if raw.count(_OPEN) == len(roots) == raw.count(_CLOSE):
            return _split_marked(raw)
        for root in roots:  # take the markers out again, then the two-pass way
            for marker in (root.prev, root.next):
                if marker is not None and marker.text_content in (_OPEN, _CLOSE):
                    marker.decompose()
    text = _clean(body.text(separator=" "))
    for root in roots:
        root.decompose()
    return text, _clean(body.text(separator=" ")) if roots else text


def _split_marked(raw: str) -> tuple[str, str]:
    """Both cleaned texts of a marked body text (see `_texts`); `_clean`'s steps."""
    if not raw.isascii():
        if any(c in raw for c in _INVISIBLE_CHARS):
            raw = _INVISIBLE.sub("", raw)
        raw = unicodedata.normalize("NFC", raw)
    words: list[str] = []
    main: list[str] = []
    depth = 0
    for piece in _MARKERS.split(raw):
        if piece == _OPEN:
            depth += 1
        elif piece == _CLOSE:
            depth -= 1
        elif piece:
            found = piece.split()
            words += found
            if depth == 0:
                main += found
    return " ".join(words), " ".join(main)


def _links(
    tree: LexborHTMLParser, base: str, region_of: dict[int, str]
) -> tuple[list[Link], list[str]]:
    from probe.net.canon import canonical, is_document

    links: list[Link] = []
    mailtos: list[str] = []
    images = _first_images(tree)
    for a in tree.css("a[href]"):
        href = _attr(a, "href")
        if href[:7].lower() == "mailto:":
            mailtos.append(href)
            continue
        target = canonical(href, base)
        if target is None:
            continue
        img = images.get(a.mem_id)
        links.append(
            Link(
                url=target,
                text=_clean(a.text(separator=" ")),
                title=_clean(_attr(a, "title")),
                alt=_clean(_attr(img, "alt") or _attr(img, "title")) if img is not None else "",
                region=region_of.get(a.mem_id, "body"),
                is_document=is_document(target),
            )
        )
        if len(links) >= MAX_LINKS:
            break
    return links, mailtos


def _first_images(tree: LexborHTMLParser) -> dict[int, LexborNode]:
    """Each link's first image, by the link's `mem_id` (what `a.css_first("img")` gives).

    One query for the whole page instead of one per link (0.17 → 0.04 ms a fleet page):
    few links hold an image, and a CSS query per link is most of the link loop's cost.
    Images are in document order, so the first one seen under a link is its first.
    """
    first: dict[int, LexborNode] = {}
    for img in tree.css("a[href] img"):
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
    for field in node.css("input, select, textarea, button"):
        name = _attr(field, "name") or _attr(field, "id")
        kind = _attr(field, "type").lower()
        if name and field.tag != "button":
            names.append(name)
        has_file = has_file or kind == "file"
        for attr in ("placeholder", "title", "aria-label"):
            if v := _attr(field, attr):
                words.append(v)
        if kind in ("submit", "button") and (v := _attr(field, "value")):
            words.append(v)
        if field.tag == "button":
            words.append(field.text(separator=" "))
    words.extend(label.text(separator=" ") for label in node.css("label"))
    action = _attr(node, "action")
    return Form(
        action=(canonical(action, base) or action) if action else base,
        method=(_attr(node, "method") or "get").lower(),
        fields=tuple(names),
        has_file_input=has_file,
        text=_clean(" ".join(words))[:500],
    )


def _meta(tree: LexborHTMLParser) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    for node in tree.css("meta[content]"):
        name = _attr(node, "name") or _attr(node, "property") or _attr(node, "http-equiv")
        if name:
            out.append((name, _clean(_attr(node, "content"))))
    return out


def _time_dates(tree: LexborHTMLParser) -> list[DateMention]:
    out: list[DateMention] = []
    for node in tree.css("time[datetime]"):
        raw = _attr(node, "datetime")[:10]
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
