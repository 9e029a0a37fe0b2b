"""A run lifts the soft open-files limit it would otherwise exhaust with sockets."""

from __future__ import annotations

import subprocess
import sys

import pytest

resource = pytest.importorskip("resource")

_SCRIPT = """
import resource, sys
from probe.cli import _raise_open_files_limit
from probe.settings import Settings
soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
resource.setrlimit(resource.RLIMIT_NOFILE, (int(sys.argv[1]), hard))
_raise_open_files_limit(Settings(portal_concurrency=int(sys.argv[2]), per_host_concurrency=4))
print(resource.getrlimit(resource.RLIMIT_NOFILE)[0], hard)
"""


def _soft_after(start: int, portals: int) -> tuple[int, int]:
    out = subprocess.run(
        [sys.executable, "-c", _SCRIPT, str(start), str(portals)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    return int(out[0]), int(out[1])


def test_raised_to_what_the_run_needs() -> None:
    hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    need = 2 * 200 * 4 + 256
    if hard != resource.RLIM_INFINITY and hard < need:
        pytest.skip(f"hard limit {hard} below {need}")
    soft, _ = _soft_after(300, 200)
    assert soft == need


def test_left_alone_when_enough() -> None:
    soft, _ = _soft_after(1000, 8)  # needs 2*8*4+256 = 320
    assert soft == 1000
