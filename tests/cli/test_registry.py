"""The registry loader: the bundled registry loads, and every mistake names file, line, field."""

from __future__ import annotations

from pathlib import Path

import pytest

from probe.errors import InputError
from probe.registry import load_registry
from probe.settings import CONFIG_DIR

AGENCIES_2015 = {
    "so-cong-thuong", "so-tai-nguyen-moi-truong", "so-tu-phap", "ban-quan-ly-khu-kinh-te",
    "huyen-tuyen-hoa", "huyen-bo-trach", "huyen-quang-ninh", "huyen-le-thuy",
    "thanh-pho-dong-hoi", "thi-xa-ba-don", "phuong-bac-ly",
}  # fmt: skip


def test_bundled_registry_has_the_eleven_inspected_agencies() -> None:
    registry = load_registry(CONFIG_DIR / "portals.toml")
    assert {a.id for a in registry.agencies} == AGENCIES_2015
    le_thuy = registry.get("huyen-le-thuy")
    assert le_thuy is not None
    assert le_thuy.portals == ["http://lethuy.quangbinh.gov.vn/", "http://lethuy.gov.vn/"]
    assert not any(p.inferred for p in le_thuy.portal_entries)
    assert registry.get("so-tu-phap").portal_entries[0].inferred  # type: ignore[union-attr]
    assert registry.get("phuong-bac-ly").level == "commune"  # type: ignore[union-attr]
    assert registry.agency_for_url("HTTP://LeThuy.gov.vn") is le_thuy


def _write(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "portals.toml"
    path.write_text(body, encoding="utf-8")
    return path


GOOD = """
[[agency]]
id = "so-a"
name = "Sở A"
level = "department"
portals = ["http://a.example.gov.vn/"]
"""


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        pytest.param("[[agency]\nid=", "invalid TOML", id="invalid-toml"),
        pytest.param("title = 'x'\n", "no [[agency]] entries", id="no-agencies"),
        pytest.param(GOOD + GOOD, "duplicate agency id 'so-a'", id="duplicate-id"),
        pytest.param(GOOD.replace('level = "department"', 'level = "ward"'), "field 'level'",
                     id="bad-level"),
        pytest.param(GOOD.replace("http://a.example.gov.vn/", "ftp://a.example.gov.vn/"),
                     "is not http(s)", id="ftp-url"),
        pytest.param(GOOD.replace('"http://a.example.gov.vn/"', '"http://"'), "has no host",
                     id="no-host"),
        pytest.param(GOOD.replace('name = "Sở A"\n', ""), "missing field 'name'",
                     id="missing-name"),
        pytest.param(GOOD.replace('id = "so-a"', 'id = "Sở A"'), "lower-case slug", id="bad-id"),
        pytest.param(GOOD + 'colour = "red"\n', "unknown field 'colour'", id="unknown-key"),
        pytest.param(GOOD.replace('portals = ["http://a.example.gov.vn/"]', "portals = []"),
                     "field 'portals'", id="empty-portals"),
    ],
)  # fmt: skip
def test_registry_errors_name_file_line_and_field(tmp_path: Path, body: str, expected: str) -> None:
    path = _write(tmp_path, body)
    with pytest.raises(InputError) as info:
        load_registry(path)
    message = str(info.value)
    assert expected in message
    assert str(path) in message
    assert "\n" not in message


def test_error_points_at_the_line_of_the_bad_entry(tmp_path: Path) -> None:
    body = GOOD + GOOD.replace('id = "so-a"', 'id = "so-b"').replace("department", "town")
    path = _write(tmp_path, body)
    with pytest.raises(InputError, match=rf"{path}:8 \(agency 'so-b'\)"):
        load_registry(path)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="registry file not found"):
        load_registry(tmp_path / "nope.toml")
