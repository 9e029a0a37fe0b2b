"""`probe run --format json` streams agency objects through a spool, not a list in memory.

The spool moves to a temporary file once it outgrows `SPOOL_IN_MEMORY`; the document
must be the same JSON either way, with crawled text (Vietnamese, invisible characters)
kept and escaped as `inert_json` does, and an empty `agencies` array when no agency
finished.
"""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime

import pytest

from checks.base import Evidence, Finding, Status
from probe import output
from probe.output import JsonStream
from probe.runner import RunSummary


def _summary() -> RunSummary:
    return RunSummary(7, "nightly", "nd43-2011", 3, datetime(2026, 11, 26, 1, tzinfo=UTC))


def _finding(i: int) -> Finding:
    return Finding(
        check="agency.parallel_portals",
        status=Status.FAIL if i % 2 else Status.PASS,
        message={"vi": f"Cổng song song số {i}", "en": f"Parallel portal {i}"},
        evidence=(Evidence(f"http://127.0.0.1/p{i}/", f"Trang chủ huyện Lệ Thủy \u202e{i}"),),
        details={"portals": [f"http://127.0.0.1/p{i}/", f"http://127.0.0.2/p{i}/"]},
    )


@pytest.mark.parametrize("in_memory", [1 << 20, 64], ids=["memory", "spilled"])
def test_agencies_stream_through_the_spool(monkeypatch: pytest.MonkeyPatch, in_memory: int) -> None:
    monkeypatch.setattr(output, "SPOOL_IN_MEMORY", in_memory)
    out = io.StringIO()
    stream = JsonStream(out, "vi")
    for i in range(40):
        stream.agency(f"huyen-{i:02d}", [_finding(i), _finding(i + 1)])
    rolled = stream._spool._rolled  # type: ignore[attr-defined]
    stream.close(_summary())
    text = out.getvalue()
    doc = json.loads(text)
    assert rolled is (in_memory == 64)
    assert doc["portals"] == []
    assert [a["agency"] for a in doc["agencies"]] == [f"huyen-{i:02d}" for i in range(40)]
    assert doc["agencies"][3]["findings"][0]["message"] == "Cổng song song số 3"
    assert doc["agencies"][3]["findings"][0]["evidence"][0]["text"].endswith("\u202e3")
    assert "\u202e" not in text and "\\u202e" in text  # escaped in the text, kept in the data
    assert doc["run"]["id"] == 7


def test_no_agency_gives_an_empty_array() -> None:
    out = io.StringIO()
    stream = JsonStream(out, "en")
    stream.close(_summary())
    doc = json.loads(out.getvalue())
    assert doc["agencies"] == [] and doc["portals"] == []
    assert doc["run"]["status"] == "running"
