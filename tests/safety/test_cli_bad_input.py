"""Bad registry, ruleset, settings and arguments: one line, exit 2, no traceback, no write.

Each case runs `python -m probe.cli …` in a child process, as an operator or cron would,
against a database that probe created and filled; afterwards the database must be exactly
as before (a SQL dump compared line by line), or not exist when none was given. Commands
that could crawl carry `--connect-to ::127.0.0.1:9` without `--allow-private`, so even a
validation that failed to stop them could not send a packet off the machine.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.safety.safety_helpers import assert_one_line, run_probe
from tests.safety.safety_helpers import sqlite_dump as dump

NOWHERE = ("--connect-to", "::127.0.0.1:9")  # refused without --allow-private: no traffic


# -- registry ---------------------------------------------------------------------------

AGENCY = """
[[agency]]
id = "so-a"
name = "Sở A"
level = "department"
portals = ["http://a.example.gov.vn/"]
"""

REGISTRY_CASES = [
    pytest.param(b"[[agency]\nid = 1\n", ["invalid TOML", "line 1"], id="invalid-toml"),
    pytest.param(AGENCY.replace('name = "Sở A"\n', "").encode(), [":2", "missing field 'name'"],
                 id="missing-key"),
    pytest.param((AGENCY + AGENCY).encode(), [":8", "duplicate agency id 'so-a'", "line 2"],
                 id="duplicate-id"),
    pytest.param(AGENCY.replace("http://a.", "file:///a.").encode(), ["portals[0]", "not http(s)"],
                 id="file-url"),
    pytest.param(AGENCY.replace("http://a.", "gopher://a.").encode(), ["portals[0]", "not http(s)"],
                 id="gopher-url"),
    pytest.param(AGENCY.replace("http://a.", "http://\u202ea.").encode(), ["portals[0]", "U+202E"],
                 id="bidi-in-url"),
    pytest.param(AGENCY.replace("http://a.", "http://a b.").encode(), ["portals[0]", "U+0020"],
                 id="space-in-host"),
    pytest.param(AGENCY.encode("cp1258", errors="replace").replace(b"S?", b"S\xd4"),
                 ["cannot read registry"], id="not-utf8"),
    pytest.param(AGENCY.replace('"department"', '"ministry"').encode(), ["field 'level'"],
                 id="bad-level"),
]  # fmt: skip


@pytest.mark.parametrize(("content", "needles"), REGISTRY_CASES)
def test_bad_registry(tmp_path: Path, content: bytes, needles: list[str]) -> None:
    registry = tmp_path / "portals.toml"
    registry.write_bytes(content)
    db = tmp_path / "never.sqlite"
    result = run_probe("run", "--registry", str(registry), "--db", f"sqlite:///{db}",
                       *NOWHERE, home=tmp_path)  # fmt: skip
    assert_one_line(result, str(registry), *needles)
    assert not db.exists()


def test_registry_that_is_a_directory(tmp_path: Path) -> None:
    result = run_probe("run", "--registry", str(tmp_path), *NOWHERE,
                       "--db", f"sqlite:///{tmp_path / 'x'}", home=tmp_path)  # fmt: skip
    assert_one_line(result, str(tmp_path), "cannot read registry")


# -- rulesets ---------------------------------------------------------------------------

RULESET_HEAD = (
    'id = "x"\nversion = 1\ntitle = { vi = "X", en = "X" }\neffective_from = 2020-01-01\n'
)


@pytest.mark.parametrize(
    ("content", "needles"),
    [
        pytest.param("id = ", ["not valid TOML"], id="invalid-toml"),
        pytest.param(RULESET_HEAD + "[[section]]\nid='a'\nlabel={vi='A'}\nlegal_basis='L'\n"
                     "weight=1\nlabels=['a']\n", ["section[0]", "field 'label'"], id="missing-en"),
        pytest.param(RULESET_HEAD + "[checks.\"licence\"]\nlegal_basis='L'\nweight=1\n"
                     "options={number_patterns=['(']}\n", ["options.number_patterns[0]"],
                     id="bad-regex"),
    ],
)  # fmt: skip
def test_broken_custom_ruleset_file(
    tmp_path: Path, seeded_db: Path, content: str, needles: list[str]
) -> None:
    ruleset = tmp_path / "custom.toml"
    ruleset.write_text(content, encoding="utf-8")
    before = dump(seeded_db)
    result = run_probe("check", "huyen-le-thuy", "--ruleset", str(ruleset), *NOWHERE,
                       "--db", f"sqlite:///{seeded_db}", home=tmp_path)  # fmt: skip
    assert_one_line(result, str(ruleset), *needles)
    assert dump(seeded_db) == before


def test_unknown_ruleset_id(tmp_path: Path, seeded_db: Path) -> None:
    before = dump(seeded_db)
    result = run_probe("run", "--ruleset", "nd99-2030", "--db", f"sqlite:///{seeded_db}",
                       *NOWHERE, home=tmp_path)  # fmt: skip
    assert_one_line(result, "nd99-2030", "nd43-2011")
    assert dump(seeded_db) == before


# -- settings (PROBE_* environment) -----------------------------------------------------


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("PROBE_MAX_PAGES", "lots"),
        ("PROBE_READ_TIMEOUT", "soon"),
        ("PROBE_MAX_PAGES", "-5"),
        ("PROBE_MAX_DEPTH", "-1"),
        ("PROBE_MAX_BODY_BYTES", "0"),
        ("PROBE_READ_TIMEOUT", "nan"),
        ("PROBE_READ_TIMEOUT", "-1"),
        ("PROBE_PORTAL_DEADLINE", "inf"),
        ("PROBE_MIN_DELAY", "-0.5"),
        ("PROBE_PER_HOST", "0"),
    ],
)
def test_bad_environment_setting(tmp_path: Path, seeded_db: Path, name: str, value: str) -> None:
    before = dump(seeded_db)
    result = run_probe(
        "check",
        "huyen-le-thuy",
        *NOWHERE,
        "--db",
        f"sqlite:///{seeded_db}",
        home=tmp_path,
        env={name: value},
    )
    assert_one_line(result, name, repr(value))
    assert dump(seeded_db) == before


def test_unsupported_database_url_from_environment(tmp_path: Path) -> None:
    result = run_probe(
        "run", *NOWHERE, home=tmp_path, env={"PROBE_DATABASE_URL": "mysql://u:pw@h/d"}
    )
    assert_one_line(result, "mysql://u:***@h/d", "SQLite")
    assert "pw" not in result.err


# -- command-line arguments -------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "needles"),
    [
        (["check"], ["TARGET"]),
        (["check", "huyen-le-thuy", "--max-pages", "0"], ["--max-pages"]),
        (["check", "huyen-le-thuy", "--format", "xml"], ["--format", "xml"]),
        (["run", "--fail-under", "200"], ["--fail-under"]),
        (["run", "--connect-to", "a:b"], ["--connect-to", "HOST:PORT:ADDR:PORT2"]),
        (["run", "--connect-to", "a:x:127.0.0.1:80"], ["--connect-to", "numbers"]),
        (["run", "--agency", "khong-co"], ["--agency", "'khong-co'"]),
        (["check", "http://lethuy.gov.vn:99999/"], ["TARGET"]),
        (["check", "http://le\u202ethuy.gov.vn/"], ["TARGET", "U+202E"]),
        (["check", "http://lethuy..gov.vn/"], ["TARGET", "empty label"]),
        (["check", "khong-co-co-quan"], ["unknown agency 'khong-co-co-quan'"]),
        (["report", "--run", "abc"], ["--run"]),
        (["frobnicate"], ["frobnicate"]),
        (["--debug", "run", "--registry", "/nonexistent/portals.toml"], ["not found"]),
    ],
)
def test_bad_arguments(
    tmp_path: Path, seeded_db: Path, args: list[str], needles: list[str]
) -> None:
    before = dump(seeded_db)
    crawls = args[0] in ("check", "run") or args[1:2] == ["run"]
    result = run_probe(*args, *(NOWHERE if crawls else ()), "--db", f"sqlite:///{seeded_db}",
                       home=tmp_path)  # fmt: skip
    assert_one_line(result, *needles)
    assert dump(seeded_db) == before
