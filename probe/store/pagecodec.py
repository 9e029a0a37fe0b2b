"""A parsed `Page`'s content as compact bytes, so an unchanged page is parsed once.

A second night over an unchanged portal answers 304 for every page; parsing the stored
body again cost most of that night's CPU. What `parse_page` derives from a body depends
only on the body, the URL it was requested as (the base for relative links) and the
extractor itself, so the cache key is exactly those three and a change to the extractor
(`EXTRACT_VERSION`) invalidates every entry. Only content fields are encoded; what the
fetch says (status, times, validators) always comes from tonight's response.

Layout (format 4), chosen for a cheap decode since every unchanged page is decoded every
night, and for decoding only what is read: a night whose findings are reused
(`probe.memo`) runs only the volatile checks, and neither they nor the crawl (links) nor
the store read a text. So an entry is a format byte, the head's length and CRC-32, the
head, then the text part. The head is a JSON array (orjson, not compressed) of the small
fields and lists, whether the text is blank (for `Page.ok`) and the text part's CRC-32;
the text part (brotli, quality 0) is a 4-byte length, the JSON of `main_text` and
`footer_text`, then `text` as UTF-16-LE, decompressed only when a text field is first
read (`_CachedPage`). Both CRCs are checked on decode, so a damaged entry is a miss like
any other damage, not a wrong page or an error after the crawl. `main_text` and
`footer_text` are mostly runs of `text` (the same words outside or inside the region
roots), so they are stored as `[start, end]` slices of it, with literal strings where
they are not; that halves the bytes to compress and to decompress. The text part is
compressed in one call (one brotli meta-block): fed as the JSON then the text, quality 0
made the short JSON a meta-block of its own, 0.011 ms an entry more (0.196 against 0.185
ms encode) and 0.56 KB bigger (the footer, which the text ends with, could not be
matched). Any stream decodes alike, so entries written either way read the same. UTF-16
is what CPython holds Vietnamese text as, so turning it back into a `str` is nearly a
copy: UTF-8, though a third smaller (63 KB against 94 KB a fleet text, 1.2 KB less
compressed), costs more both ways: 0.053 ms to encode against 0.018 for 0.010 ms less
compressing, and 0.09 ms to decode, more than decompressing. brotli's `MODE_TEXT` and a
window (`lgwin`) above the default change nothing at quality 0; 2**17 cost more (0.103
against 0.095 ms, 0.35 KB bigger). Links, the bulk of the head, are stored as a table of
their distinct values and each link's indices into it (`_link_table`), and rebuilt
without going through the frozen dataclass `__init__`. The links' values as flat rows
instead would be 0.023 ms less to encode (0.017 against 0.040 ms with their JSON), but
3.6 KB more head an entry and slower to decode (0.034 against 0.033 ms, 456 fresh
strings to hash instead of 86, and more bytes to check).

On the fleet's pages (80 KB of HTML, 48,000 characters of text, 76 links; thread CPU,
formats alternated in one process): format 4 took 17.4 KB an entry (16.3 in one
meta-block), encode 0.20 ms and decode 0.10 ms without reading a text; format 3 (the
head a quality-1 brotli stream of the links as rows) took 13.4 KB, 0.21 ms and 0.14 ms:
decompressing the head and parsing 456 link values cost more than the 4 KB more an entry
are to read. Format 2 (head and text in one quality-1 stream) took 11.7 KB, 0.29 ms and
0.21 ms whatever was read. The text at quality 1 would save 1.4 KB an entry for 0.03 ms
more encoding; zlib level 1 was slower both ways and no smaller. Format 1 (stdlib JSON,
zlib level 1) took 16.3 KB, 1.0 ms and 0.65 ms.

JSON, not pickle: the database is shared with other tools and a cache row must never be
able to run code.
"""

from __future__ import annotations

import codecs
import hashlib
import json
import struct
import zlib
from dataclasses import fields
from datetime import date
from itertools import chain
from operator import attrgetter
from typing import Any

import brotli
import orjson

from probe.artifacts import DateMention, Form, Link, Page, TextRuns, main_text_as_held
from probe.extract import EXTRACT_VERSION

_FORMAT = 4  # layout of the encoded bytes described above
TEXT_QUALITY = 0
_PREFIX = struct.Struct("<BII")  # format, byte length and CRC-32 of the head
_TEXTS = struct.Struct("<I")  # byte length of the JSON of main/footer in the text part
_PROBE = 32  # characters of a slice's start looked up in `text` (see `slices_of`)
_SHORT_PROBE = 8
_SLICE_MIN = 4096  # shorter texts are stored as they are
_MAX_MISSES = 8
_LINK_FIELDS = tuple(f.name for f in fields(Link))
_LINK_ROW = attrgetter(*_LINK_FIELDS)
_PAGE_FIELDS = tuple(f.name for f in fields(Page))
_PAGE_VALUES = attrgetter(*_PAGE_FIELDS)
_LAZY = frozenset({"text", "main_text", "footer_text"})
_UNSET = tuple(getattr(Page, name).__delete__ for name in sorted(_LAZY))
# The dataclasses' field names are part of the layout: an entry written for other fields
# must miss the cache, not fill a field with its neighbour's value.
_LAYOUT = hashlib.sha256(
    repr([tuple(f.name for f in fields(cls)) for cls in (Page, Link, Form, DateMention)]).encode()
).hexdigest()[:12]
_DAMAGED = (ValueError, TypeError, IndexError, KeyError, struct.error, brotli.error)


class DamagedEntry(ValueError):
    """A cached parse whose text part passed its checksum and still does not decode: a
    codec defect, not storage damage (that is a miss, see `decode_page`)."""


def parsed_key(url: str, content_hash: str) -> str:
    """Cache key of the parse of body `content_hash` requested as `url`."""
    raw = f"{_FORMAT}:{_LAYOUT}:{EXTRACT_VERSION}\0{url}\0{content_hash}"
    return hashlib.sha256(raw.encode("utf-8", "surrogatepass")).hexdigest()


def encode_page(page: Page) -> bytes:
    """The content fields of `page` (not its fetch fields) as compressed bytes."""
    text = page.text
    main = main_text_as_held(page)
    main = _runs_to_slices(main) if type(main) is TextRuns else _compact(text, main)
    texts = _dumps([main, _compact(text, page.footer_text)])
    # One buffer, so one brotli call and one meta-block (see the module docstring).
    raw = b"".join((_TEXTS.pack(len(texts)), texts, text.encode("utf-16-le", "surrogatepass")))
    lazy = brotli.compress(raw, quality=TEXT_QUALITY)
    doc = [
        _FORMAT,
        _LAYOUT,
        EXTRACT_VERSION,
        page.final_url or page.url,
        page.charset,
        page.size,
        page.title,
        not text.strip(),
        zlib.crc32(lazy),
        *_link_table(page.links),
        [[f.action, f.method, f.fields, f.has_file_input, f.text] for f in page.forms],
        page.emails,
        [[d.value.isoformat(), d.text, d.source] for d in page.dates],
        page.meta,
        page.headings,
    ]
    head = _dumps(doc)
    return _PREFIX.pack(_FORMAT, len(head), zlib.crc32(head)) + head + lazy


def decode_page(data: bytes, *, base: str, **fetch_fields: Any) -> Page | None:
    """The cached `Page` with tonight's fetch fields, or None if the entry does not fit.

    None (parse the body instead) when the entry was written by another extractor or
    format, for another base URL (a redirect changed), or is damaged: a stale cache must
    cost a parse, never a wrong page. The text part is only checked here (its CRC), and
    decompressed when a text field is first read (`_CachedPage`).
    """
    try:
        fmt, head_size, head_crc = _PREFIX.unpack_from(data)
        if fmt != _FORMAT:
            return None
        start = _PREFIX.size + head_size
        head = memoryview(data)[_PREFIX.size : start]
        if len(head) != head_size or zlib.crc32(head) != head_crc:
            return None
        doc = _loads(head)
        fmt, layout, version, cached_base, charset, size, title, blank, crc = doc[:9]
        if fmt != _FORMAT or layout != _LAYOUT or version != EXTRACT_VERSION:
            return None
        if cached_base != base:
            return None
        lazy = data[start:]
        if zlib.crc32(lazy) != crc:
            return None
        values, rows, forms, emails, dates, meta, headings = doc[9:16]
        page = _CachedPage(
            charset=charset,
            size=size,
            title=title,
            links=_links(values, rows),
            forms=tuple(Form(a, m, tuple(f), bool(h), t) for a, m, f, h, t in forms),
            emails=tuple(emails),
            dates=tuple(DateMention(date.fromisoformat(v), t, s) for v, t, s in dates),
            meta=tuple((n, c) for n, c in meta),
            headings=tuple(headings),
            **fetch_fields,
        )
    except _DAMAGED:
        return None
    for unset in _UNSET:
        unset(page)
    _set_packed(page, bytes(lazy))
    _set_blank(page, bool(blank))
    return page


class _CachedPage(Page):
    """A `Page` from the parse cache whose texts are decompressed when first read.

    On a night whose findings are reused (`probe.memo`) only the volatile checks run, and
    neither they nor the crawl or the store read a text, so decompressing 48,000
    characters a page would be wasted. The three text slots stay unset until one is read
    (`__getattr__` runs only then); `ok` answers from a flag stored with the entry.
    Equality, hashing, repr, pickling and orjson output are those of the `Page` it stands
    for.
    """

    __slots__ = ("_blank", "_packed")
    # orjson serialises a dataclass only if its own type carries the fields.
    __dataclass_fields__ = Page.__dataclass_fields__

    def __getattr__(self, name: str) -> Any:
        if name in _LAZY:
            _fill(self)
            return object.__getattribute__(self, name)
        if name == "_blank":  # made by `dataclasses.replace`: the texts are set
            return not self.text.strip()
        raise AttributeError(name)

    @property
    def ok(self) -> bool:
        """As `Page.ok`, without decompressing the text."""
        return 200 <= self.status < 300 and not self._blank

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Page):
            return bool(_PAGE_VALUES(self) == _PAGE_VALUES(other))
        return NotImplemented

    __hash__ = Page.__hash__

    def __repr__(self) -> str:
        return repr(Page(*_PAGE_VALUES(self)))

    def __reduce__(self) -> tuple[type[Page], tuple[Any, ...]]:
        return Page, _PAGE_VALUES(self)


_set_packed = _CachedPage._packed.__set__  # type: ignore[attr-defined]
_set_blank = _CachedPage._blank.__set__  # type: ignore[attr-defined]


def _fill(page: _CachedPage) -> None:
    """Decompress `page`'s text part into its three text slots (again, harmlessly, if
    another thread is doing the same)."""
    packed = page._packed
    if packed is None:
        return  # filled meanwhile
    try:
        raw = brotli.decompress(packed)
        (size,) = _TEXTS.unpack_from(raw)
        end = _TEXTS.size + size
        main, footer = _loads(memoryview(raw)[_TEXTS.size : end])
        text = codecs.utf_16_le_decode(memoryview(raw)[end:], "surrogatepass", True)[0]
        main = main if isinstance(main, str) else _slices_to_main(text, main)
        footer = footer if isinstance(footer, str) else join_slices(text, footer)
    except _DAMAGED as exc:
        raise DamagedEntry(f"cached parse of {page.url}: the text part does not decode") from exc
    object.__setattr__(page, "main_text", main)
    object.__setattr__(page, "footer_text", footer)
    object.__setattr__(page, "text", text)
    _set_packed(page, None)


def _dumps(doc: list[Any]) -> bytes:
    try:
        return orjson.dumps(doc)
    except TypeError:  # a lone surrogate (orjson wants valid UTF-8): the slow, lenient way
        return json.dumps(doc, ensure_ascii=False, separators=(",", ":")).encode(
            "utf-8", "surrogatepass"
        )


def _loads(raw: bytes | memoryview) -> Any:
    try:
        return orjson.loads(raw)
    except ValueError:  # written the lenient way (see `_dumps`), or damaged
        return json.loads(bytes(raw).decode("utf-8", "surrogatepass"))


def _compact(whole: str, part: str) -> str | list[list[int] | str]:
    """`part` itself when short (searching `whole` for it would cost more than storing
    it: a 900-character footer sits at the end of a 48,000-character text), else its
    slices of `whole`."""
    return part if len(part) < _SLICE_MIN else slices_of(whole, part)


def slices_of(whole: str, part: str) -> list[list[int] | str]:
    """`part` as `[start, end]` slices of `whole` in order, and literal strings where it
    is not made of `whole`'s runs; `join_slices(whole, ...)` gives `part` back exactly.

    A slice starts where the next `_PROBE` characters of `part` (or, for a short run,
    `_SHORT_PROBE`) are first found in `whole` after the previous slice, and is extended
    while the two agree, by doubling steps then halving, so a 48,000-character page costs
    a few dozen comparisons. Where neither probe is found, `_SHORT_PROBE` characters are
    kept literally; after `_MAX_MISSES` such searches the rest is kept literally, so a
    part that is not made of `whole` (the footer fallback) costs a few searches, not one
    per chunk.
    """
    if part == whole:
        return [[0, len(whole)]] if whole else []
    out: list[list[int] | str] = []
    i, pos, n, misses = 0, 0, len(part), 0
    while i < n:
        j = whole.find(part[i : i + _PROBE], pos)
        if j < 0:
            j = whole.find(part[i : i + _SHORT_PROBE], pos)
        if j < 0:
            misses += 1
            take = n - i if misses >= _MAX_MISSES else _SHORT_PROBE
            if out and isinstance(out[-1], str):
                out[-1] += part[i : i + take]
            else:
                out.append(part[i : i + take])
            i += take
            continue
        length = _common_prefix(part, i, whole, j)
        out.append([j, j + length])
        i += length
        pos = j + length
    return out


def _common_prefix(a: str, i: int, b: str, j: int) -> int:
    """Length of the common prefix of `a[i:]` and `b[j:]`, by slice comparisons."""
    limit = min(len(a) - i, len(b) - j)
    length, step = 0, 64
    while length < limit:
        step = min(step, limit - length)
        x, y = i + length, j + length
        if a[x : x + step] == b[y : y + step]:
            length += step
            step *= 2
            continue
        lo, hi = 0, step - 1  # the first difference lies within this step
        while lo < hi:
            mid = (lo + hi + 1) // 2
            if a[x : x + mid] == b[y : y + mid]:
                lo = mid
            else:
                hi = mid - 1
        return length + lo
    return length


def _runs_to_slices(runs: TextRuns) -> list[list[int]]:
    """parse_page's runs of `text` in the slice layout (no search: they are runs)."""
    return [[runs[i], runs[i + 1]] for i in range(0, len(runs), 2)]


def _slices_to_main(text: str, slices: list[Any]) -> str | TextRuns:
    """A decoded main text as runs when it is made of runs only (as parse_page holds it:
    offsets, not a second copy of the page's words), else as the string."""
    if slices and all(type(s) is list for s in slices):
        return TextRuns(x for pair in slices for x in pair)
    return join_slices(text, slices)


def join_slices(whole: str, slices: list[Any]) -> str:
    """The string `slices_of(whole, part)` describes."""
    if len(slices) == 1 and not isinstance(slices[0], str):
        start, end = slices[0]
        return whole[start:end]
    return "".join(s if isinstance(s, str) else whole[s[0] : s[1]] for s in slices)


def _link_table(links: tuple[Link, ...]) -> tuple[list[Any], list[int]]:
    """`links` as their distinct field values and, per link, the index of each of its
    values: a fleet page's 76 links name 30-odd distinct URLs and texts (menus repeat a
    section's URL, a title its text), so the head is half the JSON to write and parse."""
    table: dict[Any, int] = {}
    index = table.setdefault
    rows = [index(value, len(table)) for value in chain.from_iterable(map(_LINK_ROW, links))]
    return list(table), rows


_SHARED: dict[tuple[Any, ...], Link] = {}  # links handed out (`_link_builder`), by value
_SHARED_MAX = 4096


def _link_builder() -> Any:
    """Links from their table, through the slot descriptors when `Link` has the fields
    this was written for (half the cost of the frozen dataclass `__init__`, 76 links a
    fleet page), else through the constructor.

    A link already built with the same values is handed out again (`Link` is frozen, so a
    page cannot tell): nine in ten links of a fleet page are its portal's menus and footer,
    repeated on every page. Each new link is one more object for the cyclic garbage
    collector to track and traverse, which cost more than building it: decoding 1,000 fleet
    pages and keeping them, 0.21 ms a page building every link and 0.08 sharing them (0.065
    and 0.058 with the collector off). The links kept are dropped at `_SHARED_MAX`, a few
    portals' worth.
    """
    width = len(_LINK_FIELDS)
    if _LINK_FIELDS != ("url", "text", "title", "alt", "region", "is_document"):
        return lambda values, rows: tuple(
            Link(*[values[i] for i in rows[k : k + width]]) for k in range(0, len(rows), width)
        )
    new = object.__new__
    url, text, title, alt, region, is_doc = (getattr(Link, f).__set__ for f in _LINK_FIELDS)
    shared = _SHARED
    find = shared.get

    def build(values: list[Any], rows: list[int]) -> tuple[Link, ...]:
        if len(rows) % width:
            raise ValueError("link rows are not whole links")
        out = []
        at = iter(rows)
        for u, t, ti, a, r, d in zip(at, at, at, at, at, at, strict=False):
            key = (values[u], values[t], values[ti], values[a], values[r], values[d])
            link = find(key)
            if link is None:
                link = new(Link)
                url(link, key[0])
                text(link, key[1])
                title(link, key[2])
                alt(link, key[3])
                region(link, key[4])
                is_doc(link, bool(key[5]))
                if len(shared) >= _SHARED_MAX:
                    shared.clear()
                shared[key] = link
            out.append(link)
        return tuple(out)

    return build


_links = _link_builder()
