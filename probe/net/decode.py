"""Bytes to text for Vietnamese portals, which often lie about their charset.

Order: the Content-Type charset, then `<meta charset>` / http-equiv in the first 2 KB,
then detection by charset-normalizer. A declared charset is trusted only if it decodes
cleanly: many older portals declare UTF-8 and serve windows-1258 (or the reverse).
windows-1258 writes tone marks as combining characters, so the text is returned NFC,
otherwise phrase matching in the checks would miss "Giới thiệu" written decomposed.

The crawler's way in is `probe.net.crawl.parse_body`: a body that declares UTF-8
(`declares_utf8`, nearly every portal) is parsed as sent and only decoded here when its
page shows replacement characters. Otherwise `decode_html`: lexbor parses UTF-8, so
when the body already is UTF-8 (declared or found to be, nothing replaced) it hands over
the body itself, and the text is not encoded again for the parser (0.09 ms of a fleet
page's ~0.2 ms parse).
Such a body is not tested for NFC either (0.18 → 0.125 ms a fleet page; the validating
decode is the rest): `probe.extract.parse_page` makes every text and attribute value
it reads NFC, so the body as sent parses to the page of its NFC text. Only where NFC
would rewrite the markup itself does it differ, and then it reads as a browser does: a
combining mark that composes with a "<", "=" or ">" before it, or with the last letter
of a character reference or of a class name; and a "&#x301;"-style reference that
decomposes a letter in an attribute value (read NFC now, like the text around it).
"""

from __future__ import annotations

import codecs
import re
import unicodedata

from charset_normalizer import from_bytes

_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)""", re.I)
_MAX_REPLACEMENT_RATIO = 0.005  # more than 1 in 200 characters: the declaration is wrong


def charset_from_content_type(content_type: str) -> str:
    """The `charset=` parameter of a Content-Type header, lower-cased, or ""."""
    for param in content_type.split(";")[1:]:
        name, _, value = param.partition("=")
        if name.strip().lower() == "charset":
            return value.strip().strip("\"'").lower()
    return ""


def _known(charset: str) -> str:
    """Python's codec name for a declared charset, or "" when Python has none."""
    if not charset:
        return ""
    try:
        return codecs.lookup(charset).name
    except LookupError:
        return ""


def _try(body: bytes, charset: str) -> tuple[str, bool] | None:
    """Decode with `charset` if it fits: few replacement characters, no failure; and
    whether the text holds no replacement character at all."""
    text = body.decode(charset, errors="replace")
    if "\ufffd" not in text:  # memchr-fast; count() compares every character (4x dearer)
        return text, True
    bad = text.count("\ufffd")
    if bad > max(8, len(text) * _MAX_REPLACEMENT_RATIO):
        return None
    return text, False


def decode_body(body: bytes, content_type: str) -> tuple[str, str]:
    """(NFC text, charset used). Never raises: the last resort is UTF-8 with replacement."""
    text, charset, _as_sent = _decode(body, content_type)
    return text, charset


def declares_utf8(body: bytes, content_type: str) -> bool:
    """Whether the first charset `decode_body` would try is UTF-8 (Content-Type, else
    `<meta charset>`), with no BOM: what nearly every portal sends.

    The crawler then gives the body to the parser as sent and looks for U+FFFD in the
    page it got (`probe.net.crawl`), instead of decoding the whole body here only to
    validate it (0.16 ms of a fleet page) and throwing the text away: a body that is not
    the UTF-8 it says (windows-1258 declared as UTF-8, stray bytes) leaves replacement
    characters in the text, and is then decoded the careful way.
    """
    if body.startswith(codecs.BOM_UTF8):
        return False
    declared = _known(charset_from_content_type(content_type)) or _known(_meta_charset(body[:2048]))
    return declared == "utf-8"


def decode_html(body: bytes, content_type: str) -> tuple[str | bytes, str]:
    """What `probe.extract.parse_page` is given: `body` itself if it is UTF-8 that
    decodes with nothing replaced (`decode_body`'s text but for NFC), else
    `decode_body`'s text; and the charset used."""
    text, charset, as_sent = _decode(body, content_type, as_sent=True)
    return (body if as_sent and type(body) is bytes else text), charset


def _decode(body: bytes, content_type: str, as_sent: bool = False) -> tuple[str, str, bool]:
    """`decode_body`; and, asked `as_sent`, whether `body` is UTF-8 that decoded with
    nothing replaced: then the text returned is as decoded, not made NFC (the caller
    hands over the body instead)."""
    if body.startswith(codecs.BOM_UTF8):
        return unicodedata.normalize("NFC", body[3:].decode("utf-8", "replace")), "utf-8", False
    candidates: list[str] = []
    for declared in (
        charset_from_content_type(content_type),
        _meta_charset(body[:2048]),
    ):
        name = _known(declared)
        if name and name not in candidates:
            candidates.append(name)
    for name in candidates:
        tried = _try(body, name)
        if tried is not None:
            text, clean = tried
            if as_sent and clean and name == "utf-8":
                return text, name, True
            return unicodedata.normalize("NFC", text), name, False
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        pass
    else:
        return (text if as_sent else unicodedata.normalize("NFC", text)), "utf-8", as_sent
    vietnamese = _as_windows_1258(body)
    if vietnamese is not None:
        return vietnamese, "cp1258", False
    best = from_bytes(body[: 256 * 1024]).best()
    if best is not None and best.encoding:
        name = _known(best.encoding) or "utf-8"
        return unicodedata.normalize("NFC", body.decode(name, "replace")), name, False
    name = candidates[0] if candidates else "utf-8"
    return unicodedata.normalize("NFC", body.decode(name, "replace")), name, False


def _as_windows_1258(body: bytes) -> str | None:
    """The NFC text if `body` reads as Vietnamese in windows-1258, else None.

    Generic detectors often call short windows-1258 pages cp1250 or cp1252 (the byte
    ranges overlap); the tell-tale is that tone marks compose onto letters under NFC,
    leaving Vietnamese letters and few stray combining marks.
    """
    text = unicodedata.normalize("NFC", body.decode("cp1258", "replace"))
    letters = sum(1 for ch in text if ch in _VI_LETTERS or "\u1ea0" <= ch <= "\u1ef9")
    stray = sum(1 for ch in text if unicodedata.combining(ch))
    if letters and stray <= letters // 10:
        return text
    return None


_VI_LETTERS = frozenset("ăĂơƠưƯđĐ")


def _meta_charset(head: bytes) -> str:
    match = _META_CHARSET.search(head)
    return match.group(1).decode("ascii", "replace").lower() if match else ""
