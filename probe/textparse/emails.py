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
    for match in _TEXT_EMAIL.finditer(text):
        domain = _clean_domain(match["domain"])
        valid = _valid(f"{match['local']}@{domain}")
        if valid is not None:
            out.append(valid)
    return out


def find_emails(text: str, hrefs: Iterable[str] = ()) -> list[str]:
    """Every address in `mailto:` links, then in the text, lower-cased, each once.

    Obfuscated spellings are decoded: "vanthu[at]…", "vanthu (a) …", "vanthu (at) …",
    "vanthu @ …" and "…quangbinh[.]gov[.]vn". A bare word "at" is NOT taken as "@":
    in English text that would turn "contact us at portal.gov.vn" into an address.
    """
    seen: dict[str, None] = {}
    for href in hrefs:
        for address in _from_mailto(href.strip()):
            seen.setdefault(address, None)
    if text:
        for address in _from_text(unicodedata.normalize("NFC", text)):
            seen.setdefault(address, None)
    return list(seen)
