"""JSON normalisation of finding details and run settings: orjson where it agrees with
the json module, the json module where it does not, and the values survive both backends."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from datetime import UTC, date, datetime
from types import MappingProxyType
from typing import Any

import pytest
import sqlalchemy as sa
from hypothesis import given
from hypothesis import strategies as st

from checks.base import Evidence, Finding, Status
from probe.store import Store
from probe.store.rows import _json_default, json_column, json_text, json_value, jsonable
from tests.store.conftest import make_site


@dataclass(frozen=True)
class Point:
    x: int


ODD: dict[str, Any] = {
    "day": date(2026, 11, 25),
    "at": datetime(2026, 11, 25, 2, 0, 0, 123456, tzinfo=UTC),
    "naive": datetime(2026, 11, 25, 2, 0),
    "tags": {"b", "a"},
    "frozen": frozenset({3, 1}),
    "pair": (1, "hai"),
    "view": MappingProxyType({"k": [1, 2]}),
    "status": Status.FAIL,
    "point": Point(1),
    "text": "Sở Tư pháp ©",
    "nested": [{"d": date(2026, 1, 2)}],
    "float": 0.1,
    "none": None,
}


def _reference(value: Any) -> Any:
    return json.loads(json.dumps(value, default=_json_default, ensure_ascii=False))


def test_jsonable_gives_what_the_json_module_gave() -> None:
    assert jsonable(ODD) == _reference(ODD)


@pytest.mark.parametrize(
    "value",
    [{1: "int key", 2.5: "float key", None: "none key"}, {"big": 2**70}, {"s": "lẻ \udcff"}],
)
def test_what_orjson_refuses_goes_through_the_json_module(value: dict[Any, Any]) -> None:
    assert jsonable(value) == _reference(value)
    assert json_value(json_text(jsonable(value))) == _reference(value)


def test_nan_becomes_null_and_old_nan_rows_still_load() -> None:
    assert jsonable({"ratio": math.nan, "inf": math.inf}) == {"ratio": None, "inf": None}
    assert math.isnan(json_value('{"ratio": NaN}')["ratio"])


def test_odd_details_survive_the_database(store: Store) -> None:
    url = "http://lethuy.test/"
    finding = Finding(
        "footer.owner", Status.WARN, {"vi": "Mục", "en": "Item"},
        (Evidence(url, "Cơ quan chủ quản: UBND huyện"),), dict(ODD), 2.0,
    )  # fmt: skip
    run_id = store.start_run("manual", "nd43-2011", 1, {"since": date(2026, 1, 1)}, 1)
    store.save_portal(run_id, make_site(url), [finding], 0.5)
    [result] = store.run_results(run_id)
    assert result.findings[0].details == _reference(ODD)
    assert result.findings[0].evidence == finding.evidence
    run = store.get_run(run_id)
    assert run is not None and run.settings == {"since": "2026-01-01"}


# Details as checks make them: JSON-ish values plus the types `_json_default` maps.
_LEAF = (
    st.none() | st.booleans() | st.integers(min_value=-(2**80), max_value=2**80)
    | st.floats() | st.text() | st.dates() | st.datetimes(timezones=st.none() | st.just(UTC))
)  # fmt: skip
_DETAILS = st.recursive(
    _LEAF,
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.tuples(inner, inner)
        | st.frozensets(st.integers() | st.text(max_size=3), max_size=3)
        | st.dictionaries(st.text(max_size=8) | st.integers(), inner, max_size=4)
    ),
    max_leaves=20,
)


@given(st.dictionaries(st.text(max_size=8), _DETAILS, max_size=6))
def test_details_serialised_once_are_the_text_the_round_trip_stored(value: dict) -> None:
    assert json_text(json_column(value)) == json_text(jsonable(value))


@pytest.mark.parametrize(
    "value",
    [ODD, {1: "int key"}, {"big": 2**70}, {"s": "lẻ \udcff"}, {"nan": math.nan}, {}],
)
def test_details_serialised_once_on_odd_values(value: dict[Any, Any]) -> None:
    assert json_text(json_column(value)) == json_text(jsonable(value))


def test_details_are_stored_as_the_same_text(store: Store) -> None:
    details = [dict(ODD), {"count": 3, "ratio": 0.1, "urls": ["http://a.test/"]}, {7: "x"}]
    findings = [
        Finding("footer.owner", Status.WARN, {"vi": "Mục", "en": "Item"}, (), d, 1.0)
        for d in details
    ]
    run_id = store.start_run("manual", "nd43-2011", 1, {}, 1)
    store.save_portal(run_id, make_site("http://lethuy.test/"), findings, 0.5)
    with store.session() as s:
        stored = s.execute(sa.text("SELECT CAST(details AS TEXT) FROM finding ORDER BY id"))
        assert [row[0] for row in stored] == [json_text(jsonable(d)) for d in details]
