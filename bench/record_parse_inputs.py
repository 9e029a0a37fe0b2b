"""pytest plugin: record every input the test suite gives `parse_page`, for compare_extract.

The tests' pages (hand-written regions, forms, odd markup, property-test documents) are
worth comparing too. Load it before the tests import the crawler:

    RECORD_OUT=/tmp/parse-inputs.pkl PYTHONPATH=bench .venv/bin/python -m pytest \\
        -p record_parse_inputs tests/test_extract.py tests/checks tests/safety tests/net
    .venv/bin/python bench/compare_extract.py --recorded /tmp/parse-inputs.pkl

The pickle is a list of `(html, url, final_url, status)`, written when pytest exits.
"""

from __future__ import annotations

import atexit
import os
import pickle
from typing import Any

import probe.extract as extract

_SEEN: list[tuple[str, str, str, int]] = []
_PARSE = extract.parse_page


def _recording_parse_page(
    html: str, *, url: str, final_url: str, status: int, **fetch_fields: Any
) -> Any:
    _SEEN.append((html, url, final_url, status))
    return _PARSE(html, url=url, final_url=final_url, status=status, **fetch_fields)


extract.parse_page = _recording_parse_page  # type: ignore[assignment]


@atexit.register
def _dump() -> None:
    with open(os.environ.get("RECORD_OUT", "parse-inputs.pkl"), "wb") as out:
        pickle.dump(_SEEN, out)
