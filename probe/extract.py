"""HTML to `Page`: every page is parsed once, here, with selectolax's lexbor backend.

Checks never parse HTML; if a check needs something new, it becomes a `Page` field and
is extracted here, so one parse serves every check and a stored body can be re-checked.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any
from urllib.parse import urljoin

from selectolax.lexbor import LexborHTMLParser

from probe.artifacts import Link, Page

_WS = re.compile(r"\s+")
_DOC_EXT = (".pdf", ".doc", ".docx", ".xls", ".xlsx", ".ppt", ".pptx", ".zip", ".rar", ".7z")


def _clean(text: str | None) -> str:
    if not text:
        return ""
    return unicodedata.normalize("NFC", _WS.sub(" ", text).strip())


def _absolute(href: str, base: str) -> str | None:
    href = href.strip()
    if not href or href.startswith(("#", "javascript:", "mailto:", "tel:", "data:")):
        return None
    url = href if href.startswith(("http://", "https://")) else urljoin(base, href)
    url = url.split("#", 1)[0]
    return url if url.startswith(("http://", "https://")) else None


def parse_page(html: str, *, url: str, final_url: str, status: int, **fetch_fields: Any) -> Page:
    """Parse `html` fetched from `final_url` into an immutable `Page`."""
    tree = LexborHTMLParser(html)
    title_node = tree.css_first("title")
    links: list[Link] = []
    for a in tree.css("a[href]"):
        target = _absolute(a.attributes.get("href") or "", final_url)
        if target is None:
            continue
        img = a.css_first("img")
        links.append(
            Link(
                url=target,
                text=_clean(a.text()),
                title=_clean(a.attributes.get("title")),
                alt=_clean(img.attributes.get("alt")) if img is not None else "",
                is_document=target.lower().endswith(_DOC_EXT),
            )
        )
    body = tree.body
    for node in tree.css("script, style, noscript"):
        node.decompose()
    text = _clean(body.text(separator=" ")) if body is not None else ""
    return Page(
        url=url,
        final_url=final_url,
        status=status,
        title=_clean(title_node.text()) if title_node is not None else "",
        text=text,
        main_text=text,
        links=tuple(links),
        **fetch_fields,
    )
