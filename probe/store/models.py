"""SQLAlchemy 2.x models: the history of every run next to the inspectors' manual data.

One `portal_result` per portal per run is written in one transaction, so an interrupted
run keeps every portal it finished. Bodies are stored compressed and keyed by hash in
`blob`, shared across runs, so unchanged pages cost nothing on the next night.
Schema changes go through Alembic (`probe/store/migrations`), never `create_all`.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


class UtcDateTime(TypeDecorator[datetime]):
    """An aware UTC datetime on every backend.

    SQLite has no time zone type: SQLAlchemy stores the wall-clock digits and returns naive
    values, so mixing aware and naive datetimes (or non-UTC offsets) would silently break
    comparisons such as "heartbeat older than N minutes". Converting to UTC on the way in
    and tagging UTC on the way out makes SQLite and PostgreSQL behave the same.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:  # naive values are taken to be UTC already
            value = value.replace(tzinfo=UTC)
        value = value.astimezone(UTC)
        # SQLite keeps the digits only: drop the offset so every stored string is UTC.
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """Declarative base.

    `type_annotation_map` keeps JSON portable (SQLite and PostgreSQL) and makes every
    `datetime` column an aware UTC one; the naming convention gives constraints the same
    names on both backends, which later Alembic migrations need to alter them.
    """

    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        dict[str, Any]: JSON,
        list[Any]: JSON,
        datetime: UtcDateTime,
    }


class Agency(Base):
    """An agency as last seen in the registry (kept so old runs stay readable)."""

    __tablename__ = "agency"

    id: Mapped[str] = mapped_column(String(100), primary_key=True)
    name: Mapped[str] = mapped_column(String(300))
    name_en: Mapped[str] = mapped_column(String(300), default="")
    level: Mapped[str] = mapped_column(String(20))
    province: Mapped[str] = mapped_column(String(100), default="")
    active: Mapped[bool] = mapped_column(Boolean, default=True)

    portals: Mapped[list[Portal]] = relationship(back_populates="agency")


class Portal(Base):
    """One portal URL of an agency."""

    __tablename__ = "portal"
    __table_args__ = (UniqueConstraint("url", name="uq_portal_url"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    agency_id: Mapped[str | None] = mapped_column(ForeignKey("agency.id"), index=True)
    url: Mapped[str] = mapped_column(String(2000))

    agency: Mapped[Agency | None] = relationship(back_populates="portals")


class Run(Base):
    """One probe run: nightly, on-demand (`check`), or manual (`run`)."""

    __tablename__ = "run"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    trigger: Mapped[str] = mapped_column(String(20))  # nightly | on-demand | manual | scheduled
    status: Mapped[str] = mapped_column(String(20), default="running")
    # running | finished | interrupted | failed
    ruleset_id: Mapped[str] = mapped_column(String(40))
    ruleset_version: Mapped[int] = mapped_column(Integer, default=1)
    tool_version: Mapped[str] = mapped_column(String(40))
    started_at: Mapped[datetime] = mapped_column(UtcDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    heartbeat_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    host: Mapped[str] = mapped_column(String(200), default="")  # hostname:pid of the runner
    portals_total: Mapped[int] = mapped_column(Integer, default=0)
    portals_done: Mapped[int] = mapped_column(Integer, default=0)
    portals_failed: Mapped[int] = mapped_column(Integer, default=0)
    settings: Mapped[dict[str, Any]] = mapped_column(default=dict)

    results: Mapped[list[PortalResult]] = relationship(back_populates="run")


class PortalResult(Base):
    """The outcome of one portal in one run, with its score and counts."""

    __tablename__ = "portal_result"
    __table_args__ = (UniqueConstraint("run_id", "portal_id", name="uq_result_run_portal"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("run.id", ondelete="CASCADE"), index=True)
    portal_id: Mapped[int] = mapped_column(ForeignKey("portal.id"), index=True)
    agency_id: Mapped[str | None] = mapped_column(String(100), index=True)
    outcome: Mapped[str] = mapped_column(String(20))
    reason_code: Mapped[str] = mapped_column(String(60), default="")
    reason_message: Mapped[str] = mapped_column(Text, default="")
    final_url: Mapped[str] = mapped_column(String(2000), default="")
    score: Mapped[float | None] = mapped_column(Float)
    pages_fetched: Mapped[int] = mapped_column(Integer, default=0)
    bytes_received: Mapped[int] = mapped_column(BigInteger, default=0)
    started_at: Mapped[datetime] = mapped_column(UtcDateTime)
    finished_at: Mapped[datetime] = mapped_column(UtcDateTime)
    # Digest of everything the findings were computed from (`probe.memo.portal_digest`):
    # an unchanged portal's next night reuses these findings; "" (before 0004) never is.
    inputs_digest: Mapped[str] = mapped_column(String(64), default="", server_default="")

    run: Mapped[Run] = relationship(back_populates="results")
    portal: Mapped[Portal] = relationship()
    pages: Mapped[list[PageRecord]] = relationship(back_populates="result")
    findings: Mapped[list[FindingRecord]] = relationship(back_populates="result")


class Blob(Base):
    """A compressed page body, keyed by the sha256 of the uncompressed bytes."""

    __tablename__ = "blob"

    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    encoding: Mapped[str] = mapped_column(String(10), default="zlib")
    size: Mapped[int] = mapped_column(Integer)
    data: Mapped[bytes | None] = mapped_column(LargeBinary)  # None once pruned by retention
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    last_seen_at: Mapped[datetime] = mapped_column(UtcDateTime)


class ParsedPage(Base):
    """A cached parse of one body as one URL (`probe.store.pagecodec`), so an unchanged
    page answered with 304 is not parsed again. Pruned with the bodies it was made from."""

    __tablename__ = "parsed_page"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    data: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    last_seen_at: Mapped[datetime] = mapped_column(UtcDateTime)


class PageRecord(Base):
    """A fetched page: where, when, what came back; the body lives in `blob`."""

    __tablename__ = "page"
    __table_args__ = (Index("ix_page_url", "url"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    result_id: Mapped[int] = mapped_column(
        ForeignKey("portal_result.id", ondelete="CASCADE"), index=True
    )
    url: Mapped[str] = mapped_column(String(2000))
    final_url: Mapped[str] = mapped_column(String(2000), default="")
    status: Mapped[int] = mapped_column(Integer)
    content_type: Mapped[str] = mapped_column(String(200), default="")
    depth: Mapped[int] = mapped_column(Integer, default=0)
    elapsed_ms: Mapped[float] = mapped_column(Float, default=0.0)
    fetched_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    content_hash: Mapped[str] = mapped_column(String(64), default="")
    # The key its parse is cached under (`probe.store.pagecodec.parsed_key`), so the next
    # night joins page to parse in one query; "" for failures and rows from before 0003.
    parse_key: Mapped[str] = mapped_column(String(64), default="", server_default="")
    size: Mapped[int] = mapped_column(Integer, default=0)
    etag: Mapped[str] = mapped_column(String(300), default="")
    last_modified: Mapped[str] = mapped_column(String(100), default="")
    not_modified: Mapped[bool] = mapped_column(Boolean, default=False)
    error_code: Mapped[str] = mapped_column(String(60), default="")  # for failures
    error_message: Mapped[str] = mapped_column(Text, default="")

    result: Mapped[PortalResult] = relationship(back_populates="pages")


class FindingRecord(Base):
    """One finding; portal findings hang on a result, agency findings only on the run."""

    __tablename__ = "finding"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("run.id", ondelete="CASCADE"), index=True)
    result_id: Mapped[int | None] = mapped_column(
        ForeignKey("portal_result.id", ondelete="CASCADE"), index=True
    )
    agency_id: Mapped[str | None] = mapped_column(String(100), index=True)
    check_id: Mapped[str] = mapped_column(String(100))
    status: Mapped[str] = mapped_column(String(10))
    weight: Mapped[float] = mapped_column(Float, default=1.0)
    message_vi: Mapped[str] = mapped_column(Text, default="")
    message_en: Mapped[str] = mapped_column(Text, default="")
    evidence: Mapped[list[Any]] = mapped_column(default=list)  # [{"url", "text"}]
    details: Mapped[dict[str, Any]] = mapped_column(default=dict)

    result: Mapped[PortalResult | None] = relationship(back_populates="findings")


class InspectionImport(Base):
    """One imported file of manual inspection data (provenance of every value)."""

    __tablename__ = "inspection_import"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    file_name: Mapped[str] = mapped_column(String(500))
    sha256: Mapped[str] = mapped_column(String(64), unique=True)
    imported_at: Mapped[datetime] = mapped_column(UtcDateTime)
    rows: Mapped[int] = mapped_column(Integer, default=0)


class InspectionValue(Base):
    """A value an inspector recorded for an agency (what a crawler cannot see)."""

    __tablename__ = "inspection_value"
    __table_args__ = (
        UniqueConstraint(
            "agency_id",
            "field_id",
            "inspected_on",
            "source_file",
            "source_row",
            name="uq_inspection_value",
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    import_id: Mapped[int] = mapped_column(ForeignKey("inspection_import.id"), index=True)
    agency_id: Mapped[str] = mapped_column(String(100), index=True)
    field_id: Mapped[str] = mapped_column(String(100))
    inspected_on: Mapped[date] = mapped_column(Date)
    value_text: Mapped[str] = mapped_column(Text, default="")
    value_num: Mapped[float | None] = mapped_column(Float)
    inspector: Mapped[str] = mapped_column(String(200), default="")
    source: Mapped[str] = mapped_column(String(500), default="")  # e.g. "Báo cáo 2015, mục II.3.b"
    note: Mapped[str] = mapped_column(Text, default="")
    source_file: Mapped[str] = mapped_column(String(500), default="")
    source_row: Mapped[int] = mapped_column(Integer, default=0)


class Lease(Base):
    """A named lock with expiry: one nightly run at a time across processes and hosts."""

    __tablename__ = "lease"

    name: Mapped[str] = mapped_column(String(100), primary_key=True)
    holder: Mapped[str] = mapped_column(String(200))
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime)
