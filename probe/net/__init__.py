"""The network layer: a polite, bounded, SSRF-guarded fetcher and one-portal crawler.

Nothing outside this package opens sockets; checks read the `PortalArtifacts` it returns.

`httpx` imports its own command-line client (`httpx._main`: click, pygments, and rich's
console, progress, syntax and table) when it is imported, only to offer `httpx.main`.
Probe never runs httpx's CLI, so the submodule is marked absent before httpx is first
imported: httpx then falls back to its stub `main`, and every `probe run` starts ~45 ms
of CPU sooner (fresh-process `import httpx`: 126 -> 79 ms). Nothing else in httpx
imports `_main`; a process that imported httpx before this package keeps it as it was.
"""

import sys

if "httpx" not in sys.modules:
    sys.modules.setdefault("httpx._main", None)  # type: ignore[assignment]

from probe.net.client import build_client
from probe.net.crawl import Validator, crawl_portal
from probe.net.fetch import FetchResult, fetch
from probe.net.guard import AddressPolicy, RefusedAddress

__all__ = [
    "AddressPolicy",
    "FetchResult",
    "RefusedAddress",
    "Validator",
    "build_client",
    "crawl_portal",
    "fetch",
]
