"""Structured logs: one JSON line per event, so monitoring can read a nightly run.

The runner logs one line per portal with duration, pages, outcome and score in `extra`;
this formatter keeps those fields instead of flattening them into prose.
"""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime

_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime"}


class JsonFormatter(logging.Formatter):
    """`{"ts": …, "level": …, "logger": …, "event": …, <extra fields>}`."""

    def format(self, record: logging.LogRecord) -> str:
        """One JSON object per record; extras become top-level keys."""
        data: dict[str, object] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="seconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "event": record.getMessage(),
        }
        for key, value in vars(record).items():
            if key not in _STANDARD and not key.startswith("_"):
                data[key] = value
        if record.exc_info:
            data["error"] = self.formatException(record.exc_info).splitlines()[-1]
        return json.dumps(data, ensure_ascii=False, default=str)


def configure_logging(level: int = logging.INFO) -> None:
    """JSON lines on stderr for the `probe` loggers (called once by the CLI)."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger("probe")
    root.handlers[:] = [handler]
    root.setLevel(level)
    root.propagate = False
