"""A hand-built stored history: two runs, three agencies, hostile crawled text."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from probe.inspections import import_inspections
from probe.settings import CONFIG_DIR
from probe.store import models as m

EVIL_TEXT = '<script>window.__pwned=1</script>"><img src=x onerror="window.__pwned=2">'
BIDI_TEXT = "gov\u202egpj.exe"
JS_URL = "javascript:window.__pwned=3"
SECTIONS_PASS = ("intro", "news", "legal_documents")


def _finding(
    run: m.Run, res: m.PortalResult | None, check: str, status: str, **kw: object
) -> m.FindingRecord:
    return m.FindingRecord(
        run_id=run.id, result_id=res.id if res else None,
        agency_id=kw.pop("agency", res.agency_id if res else None), check_id=check, status=status,
        message_vi=kw.pop("vi", f"{check} {status} (vi)"), message_en=kw.pop("en", f"{check} {status} (en)"),
        evidence=kw.pop("evidence", [{"url": "http://127.0.0.1/x", "text": f"{check} excerpt"}]),
        details=kw.pop("details", {}),
    )  # fmt: skip


def build_history(engine: sa.Engine) -> dict[str, int]:
    """Run 1 (older) and run 2 (latest) over four portals of three agencies."""
    t1, t2 = datetime(2026, 1, 1, 2, tzinfo=UTC), datetime(2026, 1, 2, 2, tzinfo=UTC)
    with Session(engine) as s, s.begin():
        s.add_all([
            m.Agency(id="huyen-le-thuy", name="UBND huyện Lệ Thủy", name_en="Le Thuy District", level="district"),
            m.Agency(id="so-tu-phap", name="Sở Tư pháp", name_en="Department of Justice", level="department"),
            m.Agency(id="thi-xa-ba-don", name="UBND thị xã Ba Đồn", name_en="Ba Don Town", level="district"),
        ])  # fmt: skip
        p1 = m.Portal(agency_id="huyen-le-thuy", url="http://lethuy.gov.vn/")
        p2 = m.Portal(agency_id="huyen-le-thuy", url="http://lethuy.quangbinh.gov.vn/")
        p3 = m.Portal(agency_id="so-tu-phap", url="http://stp.quangbinh.gov.vn/")
        p4 = m.Portal(agency_id="thi-xa-ba-don", url="http://badon.quangbinh.gov.vn/")
        s.add_all([p1, p2, p3, p4])
        s.flush()
        ids = {}
        for n, (start, better) in enumerate(((t1, False), (t2, True)), start=1):
            run = m.Run(trigger="nightly", status="finished", ruleset_id="nd43-2011",
                        tool_version="test", started_at=start, finished_at=start)  # fmt: skip
            s.add(run)
            s.flush()
            ids[f"run{n}"] = run.id

            def result(
                p: m.Portal, score: float | None, outcome: str = "checked", run: m.Run = run
            ) -> m.PortalResult:
                r = m.PortalResult(run_id=run.id, portal_id=p.id, agency_id=p.agency_id, outcome=outcome,
                                   score=score, started_at=run.started_at, finished_at=run.started_at,
                                   reason_message="" if outcome == "checked" else "connection refused")  # fmt: skip
                s.add(r)
                s.flush()
                return r

            r1, r2 = result(p1, 0.7 if better else 0.5), result(p2, 0.4)
            r3, r4 = result(p3, 0.9), result(p4, None, "unreachable")
            for r in (r1, r2, r3):
                for sec in SECTIONS_PASS:
                    s.add(_finding(run, r, f"section.{sec}", "pass"))
                s.add(_finding(run, r, "section.e_gazette", "na"))
                s.add(_finding(run, r, "footer.owner", "pass"))
                s.add(_finding(run, r, "footer.phone", "warn"))
            # Lệ Thủy main portal: the leader schedule improves from fail to pass in run 2
            s.add(_finding(run, r1, "section.leader_schedule", "pass" if better else "fail"))
            s.add(_finding(run, r1, "licence", "fail"))
            # Sở Tư pháp: a licence line is found (inspection: not licensed) and a gmail
            # address is published (inspection: 80 % official mail): both contradictions
            s.add(_finding(run, r3, "licence", "pass", details={"number": "12/GP-STTTT"}))
            s.add(_finding(run, r3, "email.public_provider", "fail", vi=EVIL_TEXT, en=EVIL_TEXT,
                           evidence=[{"url": JS_URL, "text": EVIL_TEXT},
                                     {"url": "http://stp.quangbinh.gov.vn/lien-he", "text": BIDI_TEXT}]))  # fmt: skip
            s.add(_finding(run, r3, "freshness", "pass", details={"age_days": 3}))
            s.add(_finding(run, r4, "availability", "fail"))
            s.add(_finding(run, None, "portal.parallel", "fail", agency="huyen-le-thuy"))
    return ids


@pytest.fixture
def report_engine(any_db_url: str) -> Iterator[sa.Engine]:
    """A real SQLite file (and PostgreSQL when configured: JSON columns come back decoded
    there, text on SQLite) with the history and the 2015 inspection imported."""
    engine = sa.create_engine(any_db_url)
    m.Base.metadata.create_all(engine)
    build_history(engine)
    agencies = {"huyen-le-thuy", "so-tu-phap", "thi-xa-ba-don", "so-cong-thuong",
                "so-tai-nguyen-moi-truong", "ban-quan-ly-khu-kinh-te", "huyen-tuyen-hoa",
                "huyen-bo-trach", "huyen-quang-ninh", "thanh-pho-dong-hoi", "phuong-bac-ly"}  # fmt: skip
    import_inspections(engine, CONFIG_DIR / "inspections" / "quangbinh-2015.csv",
                       today=date(2026, 1, 15), agencies=agencies)  # fmt: skip
    yield engine
    engine.dispose()
