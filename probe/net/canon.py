"""URL canonicalisation: one spelling per page, so the crawler never fetches a page twice.

This runs on every link of every page, so it is written for the common case: absolute
and root-relative links are handled with string slicing; only the rare relative forms
(`../x`, `?page=2`, `x.html`) pay for `urllib.parse.urljoin`, which a benchmark showed
costs about three HTML parses per page when applied to every link.
"""

from __future__ import annotations

from functools import lru_cache
from urllib.parse import quote, urljoin

_DEFAULT_PORT = {"http": "80", "https": "443"}
# Session identifiers make every visit look like a new URL (an endless crawl of one page).
_SESSION_PARAMS = frozenset(
    {"jsessionid", "phpsessid", "sid", "sessionid", "aspsessionid", "cfid", "cftoken"}
)
_SESSION_HINTS = ("sess", "sid", "cfid", "cftoken")
_DOCUMENT_EXT = frozenset(
    {
        "pdf", "doc", "docx", "xls", "xlsx", "ppt", "pptx", "odt", "ods", "odp", "rtf",
        "zip", "rar", "7z", "gz", "tar", "jpg", "jpeg", "png", "gif", "bmp", "webp", "svg",
        "tif", "tiff", "mp3", "mp4", "avi", "wmv", "flv", "mov", "exe", "msi", "apk", "iso",
        "xml", "csv", "txt", "swf",
    }
)  # fmt: skip
_STRIP = "\t\n\r"


def canonical(url: str, base: str | None = None) -> str | None:
    """The absolute canonical form of `url` (resolved against `base`), or None.

    None means "not something to crawl": another scheme (mailto:, javascript:, data:,
    ftp: …), an empty or fragment-only href without a base, or an unparsable authority.
    """
    url = url.strip()
    if "\t" in url or "\n" in url or "\r" in url:  # browsers drop these anywhere in a URL
        url = url.translate({ord(c): None for c in _STRIP})
    head = url[:8].lower()
    if head.startswith("http://") or head.startswith("https://"):
        absolute = url
    elif base is None:
        return None
    elif url.startswith("//"):
        absolute = base[: base.find(":") + 1] + url
    elif url.startswith("/") and "/." not in url:
        origin_end = base.find("/", base.find("//") + 2)
        absolute = (base if origin_end < 0 else base[:origin_end]) + url
    else:
        colon = url.find(":")
        if colon > 0 and url[:colon].isalnum() and "/" not in url[:colon]:
            return None  # another scheme: mailto:, javascript:, tel:, ftp: …
        try:
            absolute = urljoin(base, url)
        except ValueError:
            return None
    return _normalise(absolute)


def _normalise(url: str) -> str | None:
    """Lower-case scheme and host, drop default port, fragment and session ids."""
    if "\\" in url:
        url = url.replace("\\", "/")  # what browsers do for http(s) URLs
    scheme_end = url.find("://")
    scheme = url[:scheme_end].lower()
    if scheme not in _DEFAULT_PORT:
        return None
    hash_at = url.find("#")
    if hash_at >= 0:
        url = url[:hash_at]
    rest_start = scheme_end + 3
    path_at = len(url)
    for sep in "/?":
        i = url.find(sep, rest_start)
        if 0 <= i < path_at:
            path_at = i
    origin = _origin(scheme, url[rest_start:path_at])
    if origin is None:
        return None
    rest = url[path_at:] or "/"
    if rest[0] == "?":
        rest = "/" + rest
    if ";" in rest or "?" in rest:
        rest = _strip_session(rest)
    if rest[-1].isspace():
        # "x.html #top", "?q= &sid=1": whitespace the input's strip() could not reach is
        # part of the URL, sent percent-encoded; written so, the result stays canonical
        # (left as is, canonical() of it would strip it: another spelling of the page).
        kept = rest.rstrip()
        rest = kept + quote(rest[len(kept) :], safe="")
    return origin + rest


@lru_cache(maxsize=1024)
def _origin(scheme: str, authority: str) -> str | None:
    """`scheme://[userinfo@]host[:port]` normalised, or None if the port is not a number.

    Cached: a portal's links share a handful of origins, and splitting and lower-casing
    the authority was half the cost of `_normalise` (pure, so caching changes only time).
    """
    userinfo, at, hostport = authority.rpartition("@")
    host, port = _split_port(hostport)
    if host is None or not host:
        return None
    if port is not None and port != _DEFAULT_PORT[scheme]:
        host = f"{host}:{port}"
    return f"{scheme}://{userinfo}{at}{host}"


def _split_port(hostport: str) -> tuple[str | None, str | None]:
    """(lower-case host, port or None); (None, None) if the port is not a number."""
    if hostport.startswith("["):  # IPv6 literal
        end = hostport.find("]")
        if end < 0:
            return None, None
        host, tail = hostport[: end + 1], hostport[end + 1 :]
        if not tail:
            return host.lower(), None
        if not tail.startswith(":"):
            return None, None
        port = tail[1:]
    else:
        host, colon, port = hostport.partition(":")
        if not colon:
            return hostport.lower().rstrip("."), None
    if not port:
        return host.lower().rstrip("."), None
    if not port.isdigit() or not port.isascii() or int(port) > 65535:
        return None, None
    return host.lower().rstrip("."), str(int(port))


def _strip_session(rest: str) -> str:
    """Drop `;jsessionid=…` path parameters and session query parameters."""
    path, q, query = rest.partition("?")
    if ";" in path:
        lowered = path.lower()
        for name in ("jsessionid", "phpsessid", "sid", "sessionid"):
            at = lowered.find(";" + name + "=")
            if at >= 0:
                end = path.find("/", at)
                path = path[:at] + ("" if end < 0 else path[end:])
                lowered = path.lower()
    if not q:
        return path
    lowered = query.lower()
    if not any(h in lowered for h in _SESSION_HINTS):
        return f"{path}?{query}"
    kept = [p for p in query.split("&") if p.partition("=")[0].lower() not in _SESSION_PARAMS]
    return f"{path}?{'&'.join(kept)}" if kept else path


def is_document(url: str) -> bool:
    """A file to record, never to fetch: office documents, archives, images, media."""
    end = len(url)
    for sep in "?#":
        i = url.find(sep)
        if 0 <= i < end:
            end = i
    dot = url.rfind(".", 0, end)
    if dot < 0 or "/" in url[dot:end]:
        return False
    return url[dot + 1 : end].lower() in _DOCUMENT_EXT


def host_of(url: str) -> str:
    """The `host[:port]` of a canonical URL (cheap: no parsing library)."""
    start = url.find("://") + 3
    end = url.find("/", start)
    authority = url[start:] if end < 0 else url[start:end]
    return authority.rpartition("@")[2]


def same_site(url: str, root: str) -> bool:
    """Is `url` on the portal rooted at `root`? Same host, `www.` and scheme ignored.

    Sub-domains are deliberately other sites: `lethuy.quangbinh.gov.vn` is a district
    portal, not a page of the province portal `quangbinh.gov.vn`.
    """
    a, b = host_of(url), host_of(root)
    if a.startswith("www."):
        a = a[4:]
    if b.startswith("www."):
        b = b[4:]
    return a == b
