"""The network layer: a polite, bounded, SSRF-guarded fetcher and one-portal crawler.

Nothing outside this package opens sockets; checks read the `PortalArtifacts` it returns.
"""

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
