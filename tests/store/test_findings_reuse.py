"""Findings reuse: a result's inputs digest is stored, and the latest result with a digest
hands its findings back exactly as the checks produced them (issue 7, night 2)."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from checks.base import Evidence, Finding, Status
from probe.store import Store, open_store
from probe.store.models import PortalResult
from probe.store.queries import PREVIOUS_FINDINGS
from tests.store.conftest import NOW, body_of, make_finding, make_site

URL = "http://lethuy.test/"
OTHER = "http://stttt.test/"
DIGEST = "a" * 64


def _findings() -> list[Finding]:
    """Every status, odd messages, evidence and JSON details: what checks really emit."""
    statuses = list(Status)
    out = [
        Finding(
            check=f"section.item_{i:02d}",
            status=statuses[i % len(statuses)],
            message={"vi": f"Mục {i} — thiếu “văn bản” <b>&amp;</b>", "en": f"Item {i} missing"},
            evidence=tuple(
                Evidence(f"{URL}trang-{i}-{j}?q=ấ&x=1#top", f"đoạn {j}\n\tcó dấu")
                for j in range(i % 3)
            ),
            details={
                "count": i,
                "ratio": i / 7,
                "found": [f"Điều {i}", None, True, 1.5e-9],
                "nested": {"k": {"deep": [1, [2, [3]]]}, "empty": {}},
                "text": "\u00a0không\u200b gian",
            },
            weight=[1.0, 0.5, 0.0, 2.0, 3.25][i % 5],
        )
        for i in range(30)
    ]
    out.append(Finding("licence", Status.NA, {"vi": "Không áp dụng"}))  # no English message
    out.append(Finding("footer.address", Status.PASS, {"en": "Address shown"}, weight=1.0))
    out.append(Finding("email", Status.UNKNOWN, {"vi": "", "en": ""}, details={}))
    return out


def _json(findings: list[Finding], lang: str) -> list[dict[str, Any]]:
    return [f.to_json(lang) for f in findings]


def _save(
    store: Store, url: str, findings: list[Finding], digest: str, *, outcome: str = "checked"
) -> int:
    run_id = store.start_run("scheduled", "nd42-2022", 1, {}, 1)
    site = make_site(url, bodies={"": body_of(url)}, outcome=outcome)
    return store.save_portal(run_id, site, findings, 0.5, inputs_digest=digest)


def test_findings_round_trip_in_both_languages(store: Store) -> None:
    findings = _findings()
    _save(store, URL, findings, DIGEST)
    digest, back = store.previous_findings(URL)
    assert digest == DIGEST
    assert _json(back, "vi") == _json(findings, "vi")
    assert _json(back, "en") == _json(findings, "en")
    assert [f.weight for f in back] == [f.weight for f in findings]
    assert all(type(f.status) is Status for f in back)
    assert all(isinstance(f.evidence, tuple) for f in back)
    assert back[0].message == {"vi": findings[0].message["vi"], "en": "Item 0 missing"}
    assert back[-3].message == {"vi": "Không áp dụng", "en": ""}


def test_details_come_back_as_stored(store: Store) -> None:
    """Details are JSON in the database: a date comes back as the ISO string stored."""
    _save(store, URL, [make_finding("freshness", Status.WARN, URL)], DIGEST)
    _, [back] = store.previous_findings(URL)
    assert back.details == {"newest": NOW.date().isoformat(), "count": 3}
    assert back.evidence == (Evidence(URL, "bằng chứng freshness"),)


def test_latest_result_with_a_digest_any_run_any_outcome(store: Store) -> None:
    first, second = _findings()[:3], _findings()[3:5]
    _save(store, URL, first, "1" * 64)
    _save(store, OTHER, [make_finding("licence", Status.FAIL, OTHER)], "9" * 64)
    _save(store, URL, second, "2" * 64, outcome="timeout")
    _save(store, URL, [make_finding("email", Status.PASS, URL)], "")  # no digest: skipped
    digest, back = store.previous_findings(URL)
    assert digest == "2" * 64
    assert _json(back, "vi") == _json(second, "vi")
    assert store.previous_findings(OTHER)[0] == "9" * 64


def test_nothing_to_reuse(store: Store) -> None:
    assert store.previous_findings(URL) == ("", [])  # unknown portal
    _save(store, URL, [make_finding("email", Status.PASS, URL)], "")
    assert store.previous_findings(URL) == ("", [])  # results without a digest
    _save(store, URL, [], DIGEST)
    assert store.previous_findings(URL) == (DIGEST, [])  # a digest with no findings


def test_resaved_portal_gives_the_replacement(store: Store) -> None:
    run_id = store.start_run("manual", "nd42-2022", 1, {}, 1)
    site = make_site(URL, bodies={"": body_of("x")})
    store.save_portal(run_id, site, [make_finding("email", Status.FAIL, URL)], 0.0,
                      inputs_digest="1" * 64)  # fmt: skip
    store.save_portal(run_id, site, [make_finding("email", Status.PASS, URL)], 1.0,
                      inputs_digest="2" * 64)  # fmt: skip
    digest, [back] = store.previous_findings(URL)
    assert (digest, back.status) == ("2" * 64, Status.PASS)
    [result] = store.run_results(run_id)
    assert result.inputs_digest == "2" * 64


def test_default_digest_is_empty_and_shown_in_results(store: Store) -> None:
    run_id = store.start_run("manual", "nd42-2022", 1, {}, 1)
    store.save_portal(run_id, make_site(URL, bodies={"": body_of("x")}), [], 1.0)
    [result] = store.run_results(run_id)
    assert result.inputs_digest == ""
    with store.session() as s:
        assert s.execute(sa.select(PortalResult.inputs_digest)).scalar_one() == ""


def test_previous_findings_is_one_statement(store: Store) -> None:
    _save(store, URL, _findings(), DIGEST)
    seen: list[str] = []
    sa.event.listen(store.engine, "before_cursor_execute",
                    lambda _c, _cur, sql, *_a: seen.append(sql.split()[0]))  # fmt: skip
    store.previous_findings(URL)
    assert [s for s in seen if s.upper() not in ("BEGIN", "ROLLBACK")] == ["SELECT"]


def test_sqlite_plan_uses_indexes_not_table_scans(sqlite_url: str) -> None:
    """The query must stay cheap as results pile up night after night: every table is
    reached through an index (portal by URL, results by portal, findings by result)."""
    with open_store(sqlite_url) as store:
        _save(store, URL, _findings(), DIGEST)
        stmt = PREVIOUS_FINDINGS.params(portal_url=URL)
        sql = str(stmt.compile(store.engine, compile_kwargs={"literal_binds": True}))
        with store.engine.connect() as conn:
            detail = [row[-1] for row in conn.exec_driver_sql("EXPLAIN QUERY PLAN " + sql)]
    assert not [d for d in detail if d.startswith("SCAN") or "TEMP B-TREE" in d], detail
    assert any(d.startswith("SEARCH portal USING COVERING INDEX") for d in detail), detail
    assert any("ix_portal_result_portal_id" in d for d in detail), detail
    assert any("ix_finding_result_id" in d for d in detail), detail


def test_earlier_reads_validators_and_findings_on_one_connection(store: Store) -> None:
    run_id = store.start_run("scheduled", "nd42-2022", 1, {}, 1)
    site = make_site(URL, bodies={"": body_of("Trang chủ"), "gt": body_of("Giới thiệu")},
                     etag='"v1"')  # fmt: skip
    store.save_portal(run_id, site, _findings(), 0.5, inputs_digest=DIGEST, cached_parses=set())
    seen: list[str] = []
    checkouts: list[object] = []
    sa.event.listen(store.engine, "before_cursor_execute",
                    lambda _c, _cur, sql, *_a: seen.append(sql.split()[0]))  # fmt: skip
    sa.event.listen(store.engine, "checkout", lambda *a: checkouts.append(a))
    rows, (digest, findings) = store.earlier(URL)
    assert len(checkouts) == 1
    assert [s for s in seen if s.upper() not in ("BEGIN", "ROLLBACK")] == ["SELECT", "SELECT"]
    assert set(rows) == {URL, URL + "gt"} and all(r[5] for r in rows.values())  # parses
    assert (rows, (digest, findings)) == (
        store.validators_with_parses(URL),
        store.previous_findings(URL),
    )
    assert digest == DIGEST and _json(findings, "vi") == _json(_findings(), "vi")
    assert store.earlier(OTHER) == ({}, ("", []))
