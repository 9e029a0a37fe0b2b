"""A parsed `Page`'s content as compact bytes, so an unchanged page is parsed once.

A second night over an unchanged portal answers 304 for every page; parsing the stored
body again cost most of that night's CPU. What `parse_page` derives from a body depends
only on the body, the URL it was requested as (the base for relative links) and the
extractor itself, so the cache key is exactly those three and a change to the extractor
(`EXTRACT_VERSION`) invalidates every entry. Only content fields are encoded; what the
fetch says (status, times, validators) always comes from tonight's response.

JSON, not pickle: the database is shared with other tools and a cache row must never be
able to run code. zlib level 1: the text is most of the bytes and level 1 is several
times faster than the default for a few percent more space.
"""

from __future__ import annotations

import hashlib
import json
import zlib
from datetime import date
from typing import Any

from probe.artifacts import DateMention, Form, Link, Page
from probe.extract import EXTRACT_VERSION

_FORMAT = 1  # layout of the encoded list below
ZLIB_LEVEL = 1


def parsed_key(url: str, content_hash: str) -> str:
    """Cache key of the parse of body `content_hash` requested as `url`."""
    raw = f"{_FORMAT}:{EXTRACT_VERSION}\0{url}\0{content_hash}"
    return hashlib.sha256(raw.encode("utf-8", "surrogatepass")).hexdigest()


def encode_page(page: Page) -> bytes:
    """The content fields of `page` (not its fetch fields) as compressed JSON."""
    doc = [
        _FORMAT,
        EXTRACT_VERSION,
        page.final_url or page.url,
        page.charset,
        page.size,
        page.title,
        page.text,
        page.main_text,
        page.footer_text,
        [[x.url, x.text, x.title, x.alt, x.region, x.is_document] for x in page.links],
        [[f.action, f.method, list(f.fields), f.has_file_input, f.text] for f in page.forms],
        list(page.emails),
        [[d.value.isoformat(), d.text, d.source] for d in page.dates],
        [list(m) for m in page.meta],
        list(page.headings),
    ]
    raw = json.dumps(doc, ensure_ascii=False, separators=(",", ":"), check_circular=False)
    return zlib.compress(raw.encode("utf-8", "surrogatepass"), ZLIB_LEVEL)


def decode_page(data: bytes, *, base: str, **fetch_fields: Any) -> Page | None:
    """The cached `Page` with tonight's fetch fields, or None if the entry does not fit.

    None (parse the body instead) when the entry was written by another extractor or
    format, for another base URL (a redirect changed), or is damaged: a stale cache must
    cost a parse, never a wrong page.
    """
    try:
        doc = json.loads(zlib.decompress(data).decode("utf-8", "surrogatepass"))
        fmt, version, cached_base, charset, size, title, text, main, footer = doc[:9]
        if fmt != _FORMAT or version != EXTRACT_VERSION or cached_base != base:
            return None
        links, forms, emails, dates, meta, headings = doc[9:15]
        return Page(
            charset=charset,
            size=size,
            title=title,
            text=text,
            main_text=main,
            footer_text=footer,
            links=tuple(Link(u, t, ti, a, r, bool(d)) for u, t, ti, a, r, d in links),
            forms=tuple(Form(a, m, tuple(f), bool(h), t) for a, m, f, h, t in forms),
            emails=tuple(emails),
            dates=tuple(DateMention(date.fromisoformat(v), t, s) for v, t, s in dates),
            meta=tuple((n, c) for n, c in meta),
            headings=tuple(headings),
            **fetch_fields,
        )
    except (ValueError, TypeError, zlib.error, UnicodeDecodeError):
        return None
