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

from checks.base import Evidence, Finding, Status
from probe.store import Store
from probe.store.rows import _json_default, json_text, json_value, jsonable
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
