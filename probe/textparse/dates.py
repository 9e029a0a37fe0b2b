"""Dates as Vietnamese portals print them, each with the words around it.

Freshness is judged from these mentions, and an inspector has to see *where* a date came
from before trusting "the newest item is 200 days old"; so every mention carries a snippet.
Portals print day-first dates ("12/10/2015", "12-10-2015", "12.10.2015", "Thứ hai,
12/10/2015 08:30"), the long legal form ("ngày 12 tháng 10 năm 2015", also without
diacritics) and, in machine-made places, ISO dates. Impossible dates (31/02) and years no
portal could mean are dropped rather than guessed at: a wrong date is worse than none.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date

from probe.artifacts import DateMention

# Years outside this range are typos, counters or document numbers, not publication dates.
# 1945 keeps historical dates readable; they never win "newest" anyway.
MIN_YEAR = 1945
MAX_YEAR = 2099
SNIPPET_RADIUS = 60

# A digit, "/", "-" or "." right before or after means the match is a piece of something
# longer (a document number such as "12/10/2015/QĐ-UBND", a phone number, a version).
# Every pattern starts with a digit and checks the character before it with a two-wide
# lookbehind *after* that digit: a pattern that opens with a lookbehind makes the regex
# engine try every position of a 50,000-character page, one opening with a digit lets it
# skip to the next digit in C (5 ms → 0.4 ms per page on the benchmark fleet).
_FIRST = r"\d(?<![\d/.\-]\d)"
_AFTER = r"(?!\d|/\w|[.\-]\d)"

_DAY_FIRST = re.compile(
    rf"(?P<d>{_FIRST}\d?)(?P<sep>[/.\-])(?P<m>\d{{1,2}})(?P=sep)(?P<y>\d{{4}})" + _AFTER
)
_ISO = re.compile(rf"(?P<y>{_FIRST}\d{{3}})-(?P<m>\d{{1,2}})-(?P<d>\d{{1,2}})(?![\d]|-\d)")
# "ngày 12 tháng 10 năm 2015", "ngay 12 thang 10 nam 2015", "12 tháng 10 năm 2015": the
# day is matched first and an optional "ngày " before it is added by `_LONG_PREFIX`.
_LONG = re.compile(
    r"(?P<d>\d(?<!\d\d)\d?)\s+th[áa]ng\s+(?P<m>\d{1,2})\s*(?:,\s*)?n[ăa]m\s+(?P<y>\d{4})(?!\d)",
    re.IGNORECASE,
)
_LONG_PREFIXES = ("ngày", "ngay")  # lower-cased
_PATTERNS = (_LONG, _ISO, _DAY_FIRST)  # the most specific first: it wins overlaps
# Where a match can be found without looking at every digit (`_candidates`): a day-first or
# ISO date has a "/", "." or "-" with a digit on both sides, a long-form one ends with the
# year word ("năm", any case) and a 4-digit year. Scanning for those costs far less than
# testing every position against a digit class (9 ns a character): `str.find` for the
# rare "/" and "-", and patterns that open with one literal character, which the regex
# engine skips to in a tight loop (0.3 ns a character), for "." and the year word. The
# year word is found by its last letter, "m" or "M" (430 a fleet page), not the month
# word by its first, "t" or "T" (2,600: every "t" costs the engine a try), and the
# engine refuses the "m" that end no "năm" followed by a year; the few "năm 2024" left
# ("trong năm 2024", 17 a fleet page) are walked back from in Python to the only place a
# long-form date could start (find_dates 0.128 → 0.101 ms a fleet page).
_DOT = re.compile(r"\.(?<=\d\.)(?=\d)")
_YEAR_WORD = r"(?<=(?i:n[ăa]m))\s+\d{4}(?!\d)"  # after its last letter, as `_LONG` ends
_YEAR_WORDS = (re.compile("m" + _YEAR_WORD), re.compile("M" + _YEAR_WORD))


def _to_date(year: str, month: str, day: str) -> date | None:
    y, m, d = int(year), int(month), int(day)
    if not MIN_YEAR <= y <= MAX_YEAR:
        return None
    try:
        return date(y, m, d)
    except ValueError:  # 31/02, 00/10, 12/13
        return None


def _snippet(text: str, start: int, end: int) -> str:
    """The words around a match, cut at spaces so no word is half shown."""
    left = max(0, start - SNIPPET_RADIUS)
    right = min(len(text), end + SNIPPET_RADIUS)
    if left > 0:
        space = text.find(" ", left, start)
        left = space + 1 if space != -1 else left
    if right < len(text):
        space = text.rfind(" ", end, right)
        right = space if space != -1 else right
    return " ".join(text[left:right].split())


def find_dates(text: str, *, is_nfc: bool = False) -> list[DateMention]:
    """Every valid date in `text`, in reading order, with its snippet.

    The text is NFC-normalised first, so decomposed input (NFD, common in copy-pasted
    Vietnamese) matches the same patterns; `is_nfc=True` says the caller already did it
    (extraction does, and the check costs a pass over a 50,000-character page).
    Overlapping matches keep the most specific pattern, so "ngày 12 tháng 10 năm 2015" is
    one mention, not two.
    """
    if not text:
        return []
    if not is_nfc:
        text = unicodedata.normalize("NFC", text)
    taken: list[tuple[int, int]] = []
    found: list[tuple[int, DateMention]] = []
    for pattern, starts in zip(_PATTERNS, _candidates(text), strict=True):
        scanned_to = 0  # as `finditer`: a pattern's matches do not overlap each other
        for at in starts:
            if at < scanned_to:
                continue
            match = pattern.match(text, at)
            if match is None:
                continue
            start, end = match.span()
            scanned_to = end
            if pattern is _LONG:
                start = _with_prefix(text, start)
            if any(start < t_end and t_start < end for t_start, t_end in taken):
                continue
            value = _to_date(match["y"], match["m"], match["d"])
            if value is None:
                continue
            taken.append((start, end))
            found.append((start, DateMention(value, _snippet(text, start, end), "text")))
    found.sort(key=lambda item: item[0])
    return [mention for _, mention in found]


def _candidates(text: str) -> tuple[list[int], list[int], list[int]]:
    """Where each of `_PATTERNS` may match, ascending: every position where it does.

    Trying a pattern where it cannot match costs only that try, so these are supersets,
    built from anchors every match contains (a separator, `_YEAR_WORDS`):

    - day-first starts 1 or 2 characters before its first separator, which has a digit on
      both sides; ISO starts 4 characters before its first "-", likewise between digits;
    - long form ends with "năm", whitespace and a 4-digit year: it starts where
      `_long_start` walks back to from that year word.

    Of an anchor's two possible starts only one can match, so only that one is tried (half
    the tries on a fleet page): a day never starts right after a digit (both day patterns
    look behind for one), so it starts 2 characters before when a digit is there, else 1.
    Each pattern's own lookbehinds then refuse the starts that are not one (the second
    separator of a date, a digit run of three), exactly as a whole-text `finditer` would.
    """
    day_at: list[int] = []
    iso_at: list[int] = []
    for sep in "/-":
        at = text.find(sep)
        while at >= 0:
            if text[at - 1 : at].isdecimal() and text[at + 1 : at + 2].isdecimal():
                day_at.append(at - 2 if text[at - 2 : at - 1].isdecimal() else at - 1)
                if sep == "-" and at >= 4:
                    iso_at.append(at - 4)
            at = text.find(sep, at + 1)
    for hit in _DOT.finditer(text):
        at = hit.start()
        day_at.append(at - 2 if text[at - 2 : at - 1].isdecimal() else at - 1)
    long_at: list[int] = []
    for anchor in _YEAR_WORDS:
        for hit in anchor.finditer(text):
            start = _long_start(text, hit.start() - 2)
            if start >= 0:
                long_at.append(start)
    # Anchors of different kinds interleave. None is negative (a digit is before each, and
    # an ISO start is checked); a start listed twice would be tried once and then skipped
    # as inside its match, or fail twice, so `find_dates` does not need them distinct.
    long_at.sort()
    iso_at.sort()
    day_at.sort()
    return long_at, iso_at, day_at


def _long_start(text: str, year_word: int) -> int:
    """Where a long-form date whose year word ("năm") starts at `year_word` starts, or -1.

    `_LONG` read backwards from its year word: whitespace and a comma if any, the month's
    1–2 digits, whitespace, the 5-letter month word (first letter "t" or "T"), whitespace,
    and the digit that ends the day. Each step is forced, as whitespace, ",", digits and
    letters are different characters, so this is the only start a match ending there can
    have; `_LONG.match` checks the letters and the rest.
    """
    i = year_word
    while i > 0 and text[i - 1].isspace():
        i -= 1
    if text[i - 1 : i] == ",":
        i -= 1
        while i > 0 and text[i - 1].isspace():
            i -= 1
    if not text[i - 1 : i].isdecimal():  # the month's last digit
        return -1
    month = i = i - 2 if text[i - 2 : i - 1].isdecimal() else i - 1
    while i > 0 and text[i - 1].isspace():
        i -= 1
    if i == month or i < 5 or text[i - 5] not in "tT":
        return -1
    word = i = i - 5
    while i > 0 and text[i - 1].isspace():
        i -= 1
    if i == word or not text[i - 1 : i].isdecimal():
        return -1
    return i - 2 if text[i - 2 : i - 1].isdecimal() else i - 1


def _with_prefix(text: str, start: int) -> int:
    """Where a long-form date starts: before "ngày " (one or more spaces) if it is there."""
    i = start
    while i > 0 and text[i - 1].isspace():
        i -= 1
    if i < start and i >= 4 and text[i - 4 : i].lower() in _LONG_PREFIXES:
        return i - 4
    return start
