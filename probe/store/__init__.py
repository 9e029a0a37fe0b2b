"""Persistence: runs, results, pages, bodies, findings, inspections and leases.

`open_store(url)` is the only way in; see `probe.store.repo.Store` for the operations and
`probe.store.records` for what reads return.
"""

from probe.store.db import open_store
from probe.store.records import RunInfo, ScorePoint, StoredPage, StoredResult
from probe.store.repo import Store

__all__ = ["RunInfo", "ScorePoint", "Store", "StoredPage", "StoredResult", "open_store"]
