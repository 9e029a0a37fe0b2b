"""Vietnamese-aware text normalisation and whole-word phrase matching.

Portals write the same label many ways: NFC or NFD, with or without diacritics, with the
old or new tone placement (``Thủy``/``Thuỷ``, ``hòa``/``hoà``), upper-case menus, slugs.
Every check that looks for words goes through here, so those variants are equal in one
place. Matching runs over every link of every page, so the hot path is a couple of
``str`` builtins and one C-level regex, and per-text work (``match_key``) can be done once
and reused against many phrases.

Matching is on *whole words* of the folded text: "tin" is found in "thông tin" (it is a
word there) but not in "tintuc"; choosing phrases that are not false friends ("Thông
tin" is not "Tin tức") is the ruleset's job, not this module's.
"""

from __future__ import annotations

import codecs
import re
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from itertools import pairwise

_MARKS = re.compile(r"[\u0300-\u036f]+")  # combining diacritical marks (after NFD)
_NON_WORD = re.compile(r"[\W_]+")  # anything but letters and digits separates words
_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")
_INVISIBLE = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff\u00ad"))
_DSTROKE = str.maketrans({"đ": "d", "Đ": "d", "ð": "d", "Ð": "d"})
_DOC_EXT = re.compile(r"\.(?:aspx?|php|html?|jsp|cfm)$", re.IGNORECASE)

Span = tuple[int, int]


# Every character `str.split()` splits on besides the space (tested against all code
# points), and the length from which `normalize` first asks whether there is work to do.
_OTHER_SPACES = (
    "\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f\x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005"
    "\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000"
)
_INVISIBLE_CHARS = "".join(map(chr, _INVISIBLE))
LONG_TEXT = 256


def normalize(s: str) -> str:
    """NFC, invisible characters removed, all whitespace runs folded to one space.

    NFC because Vietnamese text arrives both precomposed and decomposed (Windows-era
    editors, copy-paste from PDFs) and must compare equal; zero-width characters and soft
    hyphens because CMS editors leave them inside words.

    Whole page texts (extract already folds their spaces) are first asked whether there is
    anything to do: a one-character `in` runs at memory speed, while a dict `translate`
    and a split/join cost milliseconds on a 50,000-character page.
    """
    if not s:
        return ""
    if len(s) < LONG_TEXT:
        if not s.isascii():
            s = unicodedata.normalize("NFC", s.translate(_INVISIBLE))
        return " ".join(s.split())
    if not s.isascii():
        if any(ch in s for ch in _INVISIBLE_CHARS):
            s = s.translate(_INVISIBLE)
        s = unicodedata.normalize("NFC", s)
    if (
        s[0] == " "
        or s[-1] == " "
        or "  " in s
        # Every other space is unprintable: one `isprintable` pass (0.05 ms on a fleet
        # home page) answers for the 29 `in` scans (0.09 ms) on the usual page.
        or (not s.isprintable() and any(ch in s for ch in _OTHER_SPACES))
    ):
        return " ".join(s.split())
    return s


def normalize_runs(source: str, runs: Sequence[int]) -> str:
    """`normalize` of the text that `runs` (flat start, end offsets) cut from `source`,
    for a `source` that `normalize` leaves as it is (the caller checks).

    Such a source holds no invisible character, no other space and no double space, so
    neither do the runs: only where two runs meet can spaces double, and only there
    can NFC compose (then the whole definition runs). A fleet home page's main text is
    normalised so in 0.047 ms instead of 0.163 (no `isprintable` and no search for a
    double space through 46,000 characters).
    """
    pieces = [source[runs[i] : runs[i + 1]] for i in range(0, len(runs), 2)]
    pieces = [piece for piece in pieces if piece]
    s = "".join(pieces)
    if len(s) < LONG_TEXT:
        return normalize(s)
    if not s.isascii() and unicodedata.normalize("NFC", s) != s:
        return normalize(s)
    if (
        s[0] == " "
        or s[-1] == " "
        or any(a[-1] == " " and b[0] == " " for a, b in pairwise(pieces))
    ):
        return " ".join(s.split())
    return s


def fold(s: str) -> str:
    """`normalize`, then case-folded with all diacritics stripped and ``đ``→``d``.

    Stripping tones is what makes both tone placements equal (``Thủy`` and ``Thuỷ`` both
    become ``thuy``) and matches the unaccented labels and slugs many portals use.
    """
    if not s:
        return ""
    if s.isascii():
        return " ".join(s.lower().split())
    folded = _charmap_fold(s, _FAST_FOLDER)
    if folded is not None:
        # Drawn from the tested alphabet, where every step of the definition acts on
        # each character alone: the same as folding per character, spaces collapsed.
        return " ".join(folded.split())
    return _fold_definition(s)


def _fold_definition(s: str) -> str:
    """What `fold` means, step by step (its fast path must give the same)."""
    if s.isascii():
        return " ".join(s.lower().split())
    s = s.translate(_INVISIBLE).casefold().translate(_DSTROKE)
    s = _MARKS.sub("", unicodedata.normalize("NFD", s))
    return " ".join(unicodedata.normalize("NFC", s).split())


def _fold_char(ch: str) -> str:
    """One character as `fold_aligned` writes it: always exactly one character."""
    folded = _fold_definition(ch) if not ch.isspace() else " "
    return folded if len(folded) == 1 else ch.lower()


# The characters Vietnamese portal text is made of (printable ASCII, every Vietnamese
# letter in both cases, common typography): for text drawn only from these,
# `fold_aligned` is three C-level passes (charmap encode, bytes.translate, charmap decode)
# instead of one Python call per character. Anything else takes the exact slow path.
_VI_LETTERS = "àáảãạăằắẳẵặâầấẩẫậèéẻẽẹêềếểễệìíỉĩịòóỏõọôồốổỗộơờớởỡợùúủũụưừứửữựỳýỷỹỵđ"
_FAST_ALPHABET = "".join(
    dict.fromkeys(
        "\x00\t\n\x0b\x0c\r"
        + "".join(map(chr, range(32, 128)))
        + _VI_LETTERS
        + _VI_LETTERS.upper()
        + "\xa0–—“”‘’…•·©®«»°×"
    )
)


@dataclass(frozen=True)
class _Folder:
    """Encoding map, byte table and decodings that fold text drawn from an alphabet.

    Images below U+0100 are coded by their own ordinal, so a folded text without any
    other image (the usual case) decodes as Latin-1, a copy at memory speed; `wide`
    holds the codes of the other images, whose presence sends decoding through the
    general charmap decoder.
    """

    encoding: object
    table: bytes
    decoding: str
    wide: tuple[bytes, ...]


def _charmap_folder(alphabet: str, per_char: Callable[[str], str] = _fold_char) -> _Folder:
    """The `_Folder` that maps each character of `alphabet` to its `per_char` image.

    `alphabet` holds at most 256 distinct characters starting with NUL (what
    `codecs.charmap_build` needs to return its fast `EncodingMap`).
    """
    outs = [per_char(ch) for ch in alphabet]
    images = sorted(set(outs))
    narrow = {ch: ord(ch) for ch in images if ord(ch) < 256}
    free = (i for i in range(256) if chr(i) not in narrow)
    code = {**narrow, **{ch: next(free) for ch in images if ch not in narrow}}
    decoding = ["\ufffe"] * 256
    for ch, i in code.items():
        decoding[i] = ch
    padding = "\ufffe" * (256 - len(alphabet))
    encoding = codecs.charmap_build(alphabet + padding)  # type: ignore[attr-defined]
    table = bytes(code[o] for o in outs) + bytes(256 - len(alphabet))
    wide = tuple(bytes([i]) for ch, i in code.items() if ch not in narrow)
    return _Folder(encoding, table, "".join(decoding), wide)


def _key_char(ch: str) -> str:
    """One character as `match_key` sees it before spaces collapse: folded, or a space."""
    folded = _fold_char(ch)
    return " " if _NON_WORD.match(folded) else folded


_FAST_FOLDER = _charmap_folder(_FAST_ALPHABET)
_KEY_FOLDER = _charmap_folder(_FAST_ALPHABET, _key_char)


def _charmap_fold(text: str, folder: _Folder) -> str | None:
    """`text` mapped per character by a `_charmap_folder`, or None outside its alphabet."""
    try:
        raw = codecs.charmap_encode(text, "strict", folder.encoding)[0]  # type: ignore[attr-defined]
    except UnicodeEncodeError:
        return None
    folded = raw.translate(folder.table)
    # Asking for the wide codes costs more than the general decoder on short texts.
    if len(folded) < LONG_TEXT or any(code in folded for code in folder.wide):
        return codecs.charmap_decode(folded, "strict", folder.decoding)[0]  # type: ignore[attr-defined]
    return folded.decode("latin-1")


def fold_aligned(text: str) -> str:
    """`fold` applied per character, so indexes of the result are indexes of `text`.

    A regex match on the folded copy then gives the span of the same words in the
    published text, which is what the evidence must quote. Each character becomes its
    own `fold` when that is one character, its lower case otherwise, a space when it is
    whitespace.
    """
    folded = _charmap_fold(text, _FAST_FOLDER)
    if folded is None:
        return text.translate({ord(ch): _fold_char(ch) for ch in set(text)})
    return folded


def match_key(s: str) -> str:
    """The form phrases are matched on: folded, punctuation as spaces, padded by spaces.

    Padding lets a plain substring test be a whole-word test: `` tin tuc `` in
    `` trang tin tuc su kien ``. Compute it once per text when testing many phrases.
    Text drawn from the tested alphabet is folded and stripped of punctuation in one
    charmap pass (`_key_char` per character: the same words as the definition).
    """
    spaced = _charmap_fold(s, _KEY_FOLDER)
    if spaced is None:
        spaced = _NON_WORD.sub(" ", fold(s))
    words = " ".join(spaced.split())
    return f" {words} " if words else " "


def phrase_in(phrase: str, text: str) -> bool:
    """Is `phrase` in `text` as whole words, ignoring case, diacritics and punctuation?"""
    key = match_key(phrase)
    return key != " " and key in match_key(text)


def key_has(key: str, phrase_key: str) -> bool:
    """`phrase_in` for two precomputed `match_key` values (the hot path of a matcher)."""
    return phrase_key != " " and phrase_key in key


def find_phrase(phrase: str, text: str) -> Span | None:
    """Where `phrase` occurs in ``normalize(text)`` as whole words, or None.

    The span indexes the *normalised* text (what extract stores in `Page` fields), so
    callers can cut an evidence excerpt from the text they hold. Slower than `phrase_in`
    because every folded character is mapped back to its source; use it for evidence,
    not for deciding.
    """
    key = match_key(phrase)
    if key == " ":
        return None
    norm = normalize(text)
    folded: list[str] = []
    origin: list[int] = []
    for i, ch in enumerate(norm):
        f = fold(ch) if ch != " " else " "
        f = _NON_WORD.sub(" ", f) if f else ""
        for c in f:
            folded.append(c)
            origin.append(i)
    # Rebuild the spaced, padded key while keeping the back-map aligned.
    chars: list[str] = [" "]
    back: list[int] = [0]
    for c, i in zip(folded, origin, strict=True):
        if c == " " and chars[-1] == " ":
            continue
        chars.append(c)
        back.append(i)
    if chars[-1] != " ":
        chars.append(" ")
        back.append(len(norm))
    haystack = "".join(chars)
    pos = haystack.find(key)
    if pos < 0:
        return None
    start = back[pos + 1]
    end = back[pos + len(key) - 2] + 1
    return start, end


def slug_words(segment: str) -> str:
    """A URL path segment as a `match_key`: ``ThuTucHanhChinh.aspx`` → `` thu tuc hanh chinh ``.

    Splits camelCase (SharePoint page names), hyphens and underscores and drops a page
    extension, so slugs can be matched with the same phrases as link text.
    """
    seg = _DOC_EXT.sub("", segment)
    seg = _CAMEL.sub(" ", seg)
    return match_key(seg)


def slugify(s: str) -> str:
    """The usual portal slug: folded, words joined by ``-`` (``Giới thiệu`` → ``gioi-thieu``)."""
    return "-".join(match_key(s).split())


def compact(s: str) -> str:
    """Folded letters and digits only: ``thu-tuc-hanh-chinh`` and ``thutuchanhchinh`` agree."""
    return "".join(match_key(s).split())


def any_phrase(key: str, phrase_keys: Iterable[str]) -> str | None:
    """The first of several precomputed phrase keys found in `key`, or None."""
    for pk in phrase_keys:
        if pk != " " and pk in key:
            return pk
    return None


def fold_char(ch: str) -> str:
    """One character as `fold_aligned` folds it (public for regex candidate analysis).

    `fold_char(fold_char(c)) == fold_char(c)` for every code point (tested by brute force),
    which is what lets a prefilter on the folded text also stand for matches *in* it.
    """
    return _fold_char(ch)


# Characters that `re.IGNORECASE` treats as equal to a letter beyond its own upper and
# lower case (Unicode simple case folding across scripts): dotted/dotless i, the Kelvin
# sign, the long s. Checked against every code point for each `_FAST_ALPHABET` character.
_CASE_TWINS = {"i": "\u0130\u0131", "k": "\u212a", "s": "\u017f"}


def ignorecase_variants(ch: str) -> str | None:
    """Every character a case-insensitive regex literal `ch` matches, or None if unproven.

    Only characters portal text is made of (`_FAST_ALPHABET`) are answered, because only
    for those is the answer tested exhaustively; a caller must fall back to a plain
    regex search for anything else.
    """
    if len(ch) != 1 or ch not in _FAST_ALPHABET:
        return None
    low = ch.lower()
    return "".join(dict.fromkeys(ch + low + ch.upper() + _CASE_TWINS.get(low, "")))
