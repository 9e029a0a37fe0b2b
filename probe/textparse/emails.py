"""E-mail addresses as portals publish them, including the ones hidden from spam robots.

The e-mail check asks whether an agency publishes official addresses or gmail/yahoo ones;
an address written as "vanthu[at]quangbinh.gov.vn" to dodge harvesters is still a
published address, so it must be found. The result is lower-cased and de-duplicated
because the same address usually appears in the footer of every page.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from urllib.parse import unquote

# Tokens people write instead of "@" and "." to fool harvesters.
_AT = r"(?:\s*(?:\[\s*(?:at|a|@)\s*\]|\(\s*(?:at|a|@)\s*\)|\{\s*(?:at|a|@)\s*\})\s*|\s+@\s+|@)"
_DOT = r"(?:\s*(?:\[\s*(?:\.|dot|chấm)\s*\]|\(\s*(?:\.|dot|chấm)\s*\)|\{\s*(?:\.|dot)\s*\})\s*|\.)"
_LABEL = r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
_LOCAL = r"[a-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[a-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
_LOCAL_SIMPLE = r"[a-z0-9_%+-]+(?:\.[a-z0-9_%+-]+)*"  # what a text address starts with

_TEXT_EMAIL = re.compile(
    rf"(?<![a-z0-9._%+-])(?P<local>{_LOCAL_SIMPLE}){_AT}"
    rf"(?P<domain>{_LABEL}(?:{_DOT}{_LABEL})*{_DOT}[a-z]{{2,24}})(?![a-z0-9-]*@)",
    re.IGNORECASE,
)
_DOT_TOKEN = re.compile(_DOT, re.IGNORECASE)
_PLAIN = re.compile(rf"^(?P<local>{_LOCAL})@(?P<domain>{_LABEL}(?:\.{_LABEL})+)$", re.IGNORECASE)
_CASE_JOIN = re.compile(r"(?<=[a-z])(?=[A-Z])")
_BRACKET_AT = re.compile(r"[\[({]\s*(?:at|a|@)\s*[\])}]", re.IGNORECASE)
# What a local part is made of: what IGNORECASE lets `[a-z0-9_%+-]` match (ASCII, plus
# "İ", "ı", "ſ" and the Kelvin sign) and the dot.
_LOCAL_CHARS = frozenset(
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_%+-.\u0130\u0131\u017f\u212a"
)
_WINDOW = 2000  # characters searched after an anchor


def _clean_domain(raw: str) -> str:
    """Undo "[.]"-style dots and cut a run-on word glued to the last label.

    Extracted footer text often glues the next line to the address
    ("…gov.vnĐiện thoại", "…gov.vnDien thoai"); a lower→upper case change inside the
    top-level label marks where the address really ended.
    """
    domain = _DOT_TOKEN.sub(".", raw)
    head, _, last = domain.rpartition(".")
    cut = _CASE_JOIN.search(last)
    if cut is not None:
        last = last[: cut.start()]
    return f"{head}.{last}" if head else last


def _valid(address: str) -> str | None:
    """The lower-cased address if it is a plausible one, else None."""
    address = address.strip().strip(".").lower()
    match = _PLAIN.match(address)
    if match is None or len(address) > 254 or len(match["local"]) > 64:
        return None
    tld = match["domain"].rsplit(".", 1)[-1]
    if not tld.isalpha() or len(tld) < 2:
        return None
    return address


def _from_mailto(href: str) -> list[str]:
    """Addresses of one `mailto:` link (several may be comma-separated, with a query)."""
    if href[:7].lower() != "mailto:":
        return []
    body = unquote(href[7:]).split("?", 1)[0]
    out = []
    for part in body.split(","):
        valid = _valid(part)
        if valid is not None:
            out.append(valid)
    return out


def _from_text(text: str) -> list[str]:
    out = []
    for match in _text_matches(text):
        domain = _clean_domain(match["domain"])
        valid = _valid(f"{match['local']}@{domain}")
        if valid is not None:
            out.append(valid)
    return out


def _anchors(text: str) -> list[int]:
    """Sorted positions of every "@" and of every "[", "(" or "{" that opens an "at" token.

    Every address match contains one of these, so only the text around them is searched:
    running `_TEXT_EMAIL` over a whole 50,000-character page costs 3 ms, finding these
    with `str.find` costs microseconds.
    """
    found: list[int] = []
    for char in "@[({":
        i = text.find(char)
        while i >= 0:
            if char == "@" or _BRACKET_AT.match(text, i):
                found.append(i)
            i = text.find(char, i + 1)
    found.sort()
    return found


def _text_matches(text: str) -> list[re.Match[str]]:
    """The matches `_TEXT_EMAIL.finditer(text)` gives, found by searching near anchors.

    The search for an anchor starts where its address could start at the earliest (back
    over the spaces before the token and the local part before them) and never
    before the end of the previous match, so the matches are those of one left-to-right
    scan. A window bounds each search; each match is confirmed on
    the whole text (addresses are at most 254 characters, so 2,000 cuts none short).
    """
    out: list[re.Match[str]] = []
    last_end = 0
    for anchor in _anchors(text):
        if anchor < last_end:
            continue
        start = anchor  # back over the spaces before the token, then over the local part
        while start > last_end and text[start - 1].isspace():
            start -= 1
        while start > last_end and text[start - 1] in _LOCAL_CHARS:
            start -= 1
        match = _TEXT_EMAIL.search(text, start, anchor + _WINDOW)
        if match is not None:
            # The window hides what follows it from the final lookahead: confirm on the
            # whole text, and search it whole if the window changed the answer.
            whole = _TEXT_EMAIL.match(text, match.start())
            if whole is None or whole.span() != match.span():
                match = _TEXT_EMAIL.search(text, start)
        if match is None or match.start() > anchor:
            continue
        out.append(match)
        last_end = match.end()
    return out


def find_emails(text: str, hrefs: Iterable[str] = (), *, is_nfc: bool = False) -> list[str]:
    """Every address in `mailto:` links, then in the text, lower-cased, each once.

    Obfuscated spellings are decoded: "vanthu[at]…", "vanthu (a) …", "vanthu (at) …",
    "vanthu @ …" and "…quangbinh[.]gov[.]vn". A bare word "at" is NOT taken as "@":
    in English text that would turn "contact us at portal.gov.vn" into an address.
    The text is read NFC; `is_nfc=True` says it already is (extraction's page text),
    which saves most of the cost on a page with no address.
    """
    seen: dict[str, None] = {}
    for href in hrefs:
        for address in _from_mailto(href.strip()):
            seen.setdefault(address, None)
    if text:
        for address in _from_text(text if is_nfc else unicodedata.normalize("NFC", text)):
            seen.setdefault(address, None)
    return list(seen)
