"""What a portal's findings depend on, as one digest: an unchanged portal is not re-judged.

A second night over an unchanged portal fetches nothing new (every page a 304) and, with
the parse cache, parses nothing; re-running every content check over the same pages
would still cost as much as the rest of the night together. Checks are pure functions of
the artifacts, the ruleset and the run options, so when all of those are what they were
last night, last night's findings are this night's, except for the checks that read the
clock or the timing of this night's fetches (declared `volatile` with the check:
availability reports response times, freshness and tls count days to `now`), which
always run (`checks.engine.run_portal_checks(..., reuse=...)`).

The digest covers everything a check can read apart from the clock and fetch timings:
every page's identity and content hash (a page's parse is a function of its body, its
URLs and `EXTRACT_VERSION`), failures, documents, robots, TLS, the agency's registry
fields, the ruleset (its whole content, and which of its items apply on the run date),
the options, and the source of the `checks` package, so a changed check or ruleset never
reuses a stale finding.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from datetime import date
from functools import cache
from pathlib import Path
from typing import Any

from probe.artifacts import PortalArtifacts
from probe.extract import EXTRACT_VERSION


@cache
def checks_source_digest() -> str:
    """Digest of the `checks` package's source: any edit to a check invalidates reuse."""
    import checks

    h = hashlib.sha256()
    for path in sorted(Path(checks.__file__).parent.glob("*.py")):
        h.update(path.name.encode())
        h.update(path.read_bytes())
    return h.hexdigest()


class RunKey:
    """The per-run part of every portal's digest: check code, ruleset, options.

    Made once per run (hashing the ruleset's whole content is not free) and asked per
    portal for the part that depends on the agency level and the run date.
    """

    def __init__(self, ruleset: Any, options: Any) -> None:
        self.ruleset = ruleset
        self.base = _digest((EXTRACT_VERSION, checks_source_digest(), repr(ruleset), repr(options)))
        self._by_level: dict[tuple[str, date], str] = {}

    def for_portal(self, level: str, on: date) -> str:
        """The digest of the run-wide part and of what applies to `level` on `on`."""
        key = (level, on)
        if key not in self._by_level:
            rs = self.ruleset
            applicable = tuple(cid for cid in rs.check_ids() if rs.applies(cid, level, on))
            sections = tuple(s.id for s in rs.sections_for(level, on))
            self._by_level[key] = _digest((self.base, applicable, sections))
        return self._by_level[key]


def portal_digest(site: PortalArtifacts, run_key: RunKey) -> str:
    """The digest of everything `site`'s non-volatile findings depend on (see module).

    Pages, failures and documents go in sorted. They were listed in the order the
    concurrent fetches finished, so the same portal came out in another order on some
    nights and was judged again. The crawl now takes pages in queue order
    (`probe.net.crawl`), which fixes that order for the same responses; sorting keeps the
    digest independent of it all the same (and a change here would judge every portal
    afresh once). That order changes no finding's status (the demo portals under both
    rulesets, pages after the home page, documents and failures shuffled: the same
    statuses), at most which evidence a finding lists first.
    """
    rows = (
        (p.url, p.final_url, p.status, p.content_type, p.charset, p.depth, p.redirects,
         p.content_hash)
        for p in site.pages
    )  # fmt: skip
    pages = sorted(rows, key=repr)
    return _digest(
        (
            run_key.for_portal(site.agency_level, site.now.date()),
            site.agency_id,
            site.agency_level,
            site.url,
            site.outcome,
            site.reason,
            site.final_url,
            site.redirect_chain,
            pages,
            sorted(map(repr, site.failures)),
            sorted(map(repr, site.document_links)),
            site.robots,
            site.tls,
            site.licence_required,
            site.province_domain,
            site.agency_domains,
        )
    )


def _digest(parts: Iterable[Any] | tuple[Any, ...]) -> str:
    return hashlib.sha256(repr(parts).encode("utf-8", "surrogatepass")).hexdigest()
