"""Bad input: one clear line on stderr naming what and where, exit code 2, no traceback."""

from __future__ import annotations

from pathlib import Path

import pytest

from probe.cli import main


def run_cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def assert_one_line_error(err: str, *needles: str) -> None:
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, err
    assert lines[0].startswith("probe: error: ")
    assert "Traceback" not in err
    for needle in needles:
        assert needle in lines[0]


def test_missing_registry(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    missing = tmp_path / "nope.toml"
    code, _, err = run_cli(
        capsys, "run", "--registry", str(missing), "--db", f"sqlite:///{tmp_path}/x.db"
    )
    assert code == 2
    assert_one_line_error(err, str(missing), "not found")


def test_invalid_toml(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text("[[agency]\n", encoding="utf-8")
    code, _, err = run_cli(capsys, "run", "--registry", str(bad))
    assert code == 2
    assert_one_line_error(err, str(bad), "invalid TOML", "line 1")


def test_unknown_agency(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, _, err = run_cli(capsys, "check", "huyen-khong-co", "--db", f"sqlite:///{tmp_path}/x.db")
    assert code == 2
    assert_one_line_error(err, "unknown agency 'huyen-khong-co'", "portals.toml")


@pytest.mark.parametrize("url", ["http://", "ftp://lethuy.gov.vn/", "http://lethuy.gov.vn:99999/"])
def test_malformed_url(capsys: pytest.CaptureFixture[str], tmp_path: Path, url: str) -> None:
    code, _, err = run_cli(capsys, "check", url, "--db", f"sqlite:///{tmp_path}/x.db")
    assert code == 2
    assert_one_line_error(err, "TARGET")


def test_unknown_agency_filter(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, _, err = run_cli(capsys, "run", "--agency", "xyz", "--db", f"sqlite:///{tmp_path}/x.db")
    assert code == 2
    assert_one_line_error(err, "--agency", "'xyz'")


def test_bad_connect_to(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run_cli(capsys, "check", "http://lethuy.gov.vn/", "--connect-to", "a:b")
    assert code == 2
    assert_one_line_error(err, "--connect-to", "HOST:PORT:ADDR:PORT2")


def test_unknown_ruleset(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, _, err = run_cli(
        capsys,
        "check",
        "huyen-le-thuy",
        "--ruleset",
        "nd99-2030",
        "--db",
        f"sqlite:///{tmp_path}/x.db",
    )
    assert code == 2
    assert_one_line_error(err, "nd99-2030")


def test_unreachable_database(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run_cli(
        capsys, "check", "huyen-le-thuy", "--db", "postgresql+psycopg://postgres@127.0.0.1:1/none"
    )
    assert code == 2
    assert_one_line_error(err, "127.0.0.1:1")


def test_unknown_option_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run_cli(capsys, "run", "--no-such-option")
    assert code == 2
    assert_one_line_error(err, "--no-such-option")
