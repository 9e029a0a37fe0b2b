"""Cron expressions and time zones as operators write them, turned into APScheduler triggers.

Kept apart from the scheduler because the one subtle rule here (crontab counts weekdays from
Sunday, APScheduler 3.x from Monday) deserves its own small module and tests.
"""

from __future__ import annotations

from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from apscheduler.triggers.cron import CronTrigger

from probe.errors import InputError

__all__ = ["parse_cron", "parse_timezone"]

_DOW_NAMES = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")


def parse_timezone(name: str, *, where: str = "--timezone") -> ZoneInfo:
    """An IANA zone, or InputError naming the option."""
    try:
        return ZoneInfo(name.strip())
    except (ZoneInfoNotFoundError, ValueError):
        raise InputError(
            f"unknown time zone {name!r} (e.g. Asia/Ho_Chi_Minh)", where=where
        ) from None


def parse_cron(expr: str, tz: ZoneInfo, *, where: str = "--cron") -> CronTrigger:
    """A 5-field crontab expression with crontab's meaning of weekdays.

    APScheduler 3.x numbers weekdays from Monday=0 while crontab uses Sunday=0, so "0 3 * * 0"
    would silently fire on Mondays; numeric weekdays are rewritten as names first.
    """
    fields = expr.split()
    if len(fields) != 5:
        raise InputError(
            f"cron expression {expr!r}: expected 5 fields (minute hour day month weekday)",
            where=where,
        )
    try:
        fields[4] = _crontab_weekdays(fields[4])
        return CronTrigger.from_crontab(" ".join(fields), timezone=tz)
    except ValueError as exc:
        raise InputError(f"cron expression {expr!r}: {exc}", where=where) from None


def _crontab_weekdays(spec: str) -> str:
    """Crontab weekday field (0 or 7 = Sunday, names, ranges, steps) → APScheduler names."""
    if spec == "*":
        return spec
    days: set[int] = set()
    for token in spec.lower().split(","):
        base, _, step_text = token.partition("/")
        step = int(step_text) if step_text else 1
        if step < 1:
            raise ValueError(f"weekday step {step_text!r} must be at least 1")
        if base == "*":
            first, last = 0, 6
        elif "-" in base:
            low, high = base.split("-", 1)
            first, last = _weekday(low), _weekday(high, upper=True)
        else:
            first = _weekday(base)
            last = 6 if step_text else first
        if first > last:
            raise ValueError(f"weekday range {base!r} runs backwards")
        days.update(d % 7 for d in range(first, last + 1, step))
    return ",".join(_DOW_NAMES[d] for d in sorted(days))


def _weekday(text: str, *, upper: bool = False) -> int:
    if text in _DOW_NAMES:
        return 7 if upper and text == "sun" else _DOW_NAMES.index(text)
    if not text.isdigit() or int(text) > 7:
        raise ValueError(f"weekday {text!r} is not 0-7 or a name (sun..sat)")
    value = int(text)
    return value if upper else value % 7
