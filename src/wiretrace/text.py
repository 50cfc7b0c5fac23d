"""Normalisation, tokenisation and sentence splitting, for any script.

Everything works on code points through two lookup tables built once from
``unicodedata``: a *class* per code point (word character, character of an
unspaced script, ignorable mark, or separator) and a *fold* that maps each code
point to one code point (case, width, diacritics, Arabic letter variants).
Because the fold is one code point to one code point, every token keeps exact
character offsets into the original text: nothing is re-indexed.

The scans themselves are compiled with numba, so a batch of thousands of
articles is tokenised in one call and no Python runs per character or token.
"""

from __future__ import annotations

import os
import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
from numba import njit

OTHER = 0  # separators and punctuation: end a token
WORD = 1  # letters and digits of spaced scripts: tokens are runs of these
DROP = 2  # combining diacritics, zero-width and format characters: ignored inside tokens
CHAR = 3  # unspaced scripts (Han, Kana, Thai, Lao, Khmer, Myanmar): one token per character

FLAG_LOWER = 1  # a lower-case letter (a sentence cannot start with it)
FLAG_TERMINAL = 2  # ends a sentence when followed by space (. ! ? and their kin)
FLAG_STRONG_TERMINAL = 4  # ends a sentence even without following space (。！？)
FLAG_NEWLINE = 8
FLAG_SPACE = 16
FLAG_OPENING = 32  # quotes and brackets that may open a sentence
FLAG_CLOSING = 64  # quotes and brackets that may close a sentence

_TABLE_LIMIT = 0x30000  # BMP, SMP and the CJK extension plane; above that, identity

_UNSPACED_RANGES = (
    (0x0E00, 0x0EFF),  # Thai, Lao
    (0x1000, 0x109F),  # Myanmar
    (0x1780, 0x17FF),  # Khmer
    (0x3040, 0x30FF),  # Hiragana, Katakana
    (0x31F0, 0x31FF),
    (0x3400, 0x4DBF),  # CJK extension A
    (0x4E00, 0x9FFF),  # CJK unified ideographs
    (0xF900, 0xFAFF),  # CJK compatibility ideographs
    (0xFF66, 0xFF9F),  # half-width Katakana
    (0x20000, 0x2FFFF),  # CJK extensions B and later
)

# Marks that change how a word is spelled but not which word it is.
_DIACRITIC_RANGES = (
    (0x0300, 0x036F),
    (0x0591, 0x05BD),  # Hebrew points
    (0x05BF, 0x05C7),
    (0x0610, 0x061A),  # Arabic marks
    (0x064B, 0x065F),  # Arabic harakat
    (0x0670, 0x0670),
    (0x06D6, 0x06ED),
    (0x08D3, 0x08FF),  # Arabic extended marks (08E2, a format character, is dropped anyway)
    (0x093C, 0x093C),  # nukta (Devanagari, Bengali, Gurmukhi, Gujarati, Oriya): written or
    (0x09BC, 0x09BC),  # left out at will, and the precomposed letters (क़ ज़ …) decompose to
    (0x0A3C, 0x0A3C),  # base + nukta, so folding both ways needs it ignored
    (0x0ABC, 0x0ABC),
    (0x0B3C, 0x0B3C),
    (0x1AB0, 0x1AFF),
    (0x1DC0, 0x1DFF),
    (0x20D0, 0x20FF),
    (0xFE20, 0xFE2F),
)

_IGNORABLE = (
    {0x00AD, 0x0640, 0x061C, 0x180E, 0xFEFF}
    | set(range(0x200B, 0x2010))
    | set(range(0x2060, 0x2065))
    | set(range(0xFE00, 0xFE10))
)

# Letter variants that readers treat as the same letter.
_EXTRA_FOLDS = {
    0x0649: 0x064A,  # Arabic alef maksura -> yeh
    0x06CC: 0x064A,  # Farsi yeh -> Arabic yeh
    0x06A9: 0x0643,  # keheh -> kaf
    0x0671: 0x0627,  # alef wasla -> alef
    0x0629: 0x0647,  # teh marbuta -> heh (interchanged at word ends)
    0x06C1: 0x0647,  # Urdu heh goal -> heh
    0x06C3: 0x0647,  # Urdu teh marbuta goal -> heh
    0x06D5: 0x0647,  # ae -> heh
    # a letter of its own in Russian, Ukrainian and Belarusian, not и with a mark (ё -> е is
    # the usual folding and stays)
    0x0439: 0x0439,
    0x0419: 0x0439,
}

# Presentation forms that stand for several letters (the Arabic lam-alef ligatures, Latin ﬁ):
# they are hashed and normalised as those letters, each folded; the fold table itself maps one
# code point to one, so offsets still index the original text.
_LIGATURE_RANGES = ((0xFB00, 0xFB4F), (0xFB50, 0xFDFF), (0xFE70, 0xFEFF))

_QUOTES_SINGLE = "‘’‚‛‹›′`´"
_QUOTES_DOUBLE = "“”„‟«»″〝〞＂"
_DASHES = "‐‑‒–—―−⁃﹘﹣－"
_OPENING = "\"'([{“‘«‹„‚「『（【《〈"
_CLOSING = "\"')]}”’»›」』）】》〉"
_TERMINAL = ".!?…؟۔।॥"
_STRONG_TERMINAL = "。！？｡"


def _in_ranges(cp: int, ranges: tuple[tuple[int, int], ...]) -> bool:
    return any(lo <= cp <= hi for lo, hi in ranges)


def _fold_letter(ch: str) -> int:
    cp = ord(ch)
    if cp in _EXTRA_FOLDS:
        return _EXTRA_FOLDS[cp]
    if unicodedata.category(ch) == "Nd":  # Arabic-Indic, Devanagari … digits are digits
        return ord("0") + unicodedata.digit(ch)
    decomposed = unicodedata.normalize("NFKD", ch)
    base = "".join(c for c in decomposed if not _in_ranges(ord(c), _DIACRITIC_RANGES))
    folded = base.casefold()
    if len(folded) == 1:
        return _EXTRA_FOLDS.get(ord(folded), ord(folded))
    lowered = ch.lower()
    return ord(lowered) if len(lowered) == 1 else cp


def _fold_other(ch: str) -> int:
    if ch in _QUOTES_SINGLE:
        return ord("'")
    if ch in _QUOTES_DOUBLE:
        return ord('"')
    if ch in _DASHES:
        return ord("-")
    if unicodedata.category(ch) == "Zs":
        return ord(" ")
    decomposed = unicodedata.normalize("NFKC", ch)
    return ord(decomposed) if len(decomposed) == 1 else ord(ch)


_TABLES_VERSION = 3


@lru_cache(maxsize=1)
def ligatures() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(code points, starts, letters): ligature ``code_points[i]`` reads as the folded letters
    ``letters[starts[i]:starts[i+1]]``. Only ligatures of letters and marks (no spaces)."""
    found: list[tuple[int, list[int]]] = []
    for lo, hi in _LIGATURE_RANGES:
        for cp in range(lo, hi + 1):
            ch = chr(cp)
            if unicodedata.category(ch)[0] != "L":
                continue
            parts = [c for c in unicodedata.normalize("NFKD", ch)
                     if not _in_ranges(ord(c), _DIACRITIC_RANGES)]  # fmt: skip
            if len(parts) < 2 or any(unicodedata.category(c)[0] != "L" for c in parts):
                continue
            found.append((cp, [_fold_letter(c) for c in parts]))
    code_points = np.array([cp for cp, _ in found], dtype=np.uint32)
    starts = np.zeros(len(found) + 1, dtype=np.int64)
    starts[1:] = np.cumsum([len(letters) for _, letters in found])
    letters = np.array([c for _, ls in found for c in ls], dtype=np.uint32)
    return code_points, starts, letters


def _scan(codes: np.ndarray):
    """``_scan_tokens`` with the tables: (starts, ends, hashes, kinds) of every token."""
    char_class, fold, _ = tables()
    return _scan_tokens(codes, char_class, fold, *ligatures())


@lru_cache(maxsize=1)
def tables() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(class, fold, flags) lookup tables indexed by code point.

    Building them takes about a second, so they are cached on disk per Unicode version.
    """
    cache = _tables_cache_path()
    if cache is not None and cache.exists():
        try:
            with np.load(cache) as stored:
                return stored["char_class"], stored["fold"], stored["flags"]
        except (OSError, ValueError, KeyError):
            pass
    built = _build_tables()
    if cache is not None:
        try:
            cache.parent.mkdir(parents=True, exist_ok=True)
            tmp = cache.with_suffix(f".{os.getpid()}.tmp.npz")
            np.savez_compressed(tmp, char_class=built[0], fold=built[1], flags=built[2])
            os.replace(tmp, cache)
        except OSError:
            pass
    return built


def _tables_cache_path() -> Path | None:
    root = os.environ.get("WIRETRACE_CACHE") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "wiretrace"
    )
    if not root:
        return None
    name = f"text-tables-u{unicodedata.unidata_version}-v{_TABLES_VERSION}.npz"
    return Path(root) / name


def _build_tables() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    size = 0x110000
    char_class = np.zeros(size, dtype=np.uint8)
    fold = np.arange(size, dtype=np.uint32)
    flags = np.zeros(size, dtype=np.uint8)
    for cp in range(_TABLE_LIMIT):
        ch = chr(cp)
        category = unicodedata.category(ch)
        major = category[0]
        if cp in _IGNORABLE or category == "Cf" or _in_ranges(cp, _DIACRITIC_RANGES):
            char_class[cp] = DROP  # Cf: bidi controls and other invisible format characters
        elif major in "LM" and _in_ranges(cp, _UNSPACED_RANGES):  # digits there are words
            char_class[cp] = CHAR
            fold[cp] = _fold_letter(ch)
        elif major in "LN" or category in ("Mn", "Mc"):
            char_class[cp] = WORD
            fold[cp] = _fold_letter(ch)
        else:
            char_class[cp] = OTHER
            fold[cp] = _fold_other(ch)
        if category == "Ll":
            flags[cp] |= FLAG_LOWER
    for ch in _TERMINAL:
        flags[ord(ch)] |= FLAG_TERMINAL
    for ch in _STRONG_TERMINAL:
        flags[ord(ch)] |= FLAG_TERMINAL | FLAG_STRONG_TERMINAL
    for ch in "\n\r\u2028\u2029\x85":
        flags[ord(ch)] |= FLAG_NEWLINE | FLAG_SPACE
    for cp in range(_TABLE_LIMIT):
        if chr(cp).isspace():
            flags[cp] |= FLAG_SPACE
    for ch in _OPENING:
        flags[ord(ch)] |= FLAG_OPENING
    for ch in _CLOSING:
        flags[ord(ch)] |= FLAG_CLOSING
    flags[0] |= FLAG_NEWLINE | FLAG_SPACE  # the separator between texts in a batch
    return char_class, fold, flags


def normalize(text: str) -> str:
    """Fold case, width, quotes, dashes, spaces and diacritics; drop zero-width marks.

    The result is what wiretrace compares. It is for display and testing; offsets
    always refer to the original text.
    """
    char_class, fold, _ = tables()
    codes = codepoints(text)
    keep = char_class[codes] != DROP
    folded = fold[codes[keep]].astype("<u4").tobytes().decode("utf-32-le")
    return folded.translate(_ligature_letters())


@lru_cache(maxsize=1)
def _ligature_letters() -> dict[int, str]:
    code_points, starts, letters = ligatures()
    return {
        int(cp): "".join(map(chr, letters[starts[i] : starts[i + 1]].tolist()))
        for i, cp in enumerate(code_points.tolist())
    }


def codepoints(text: str) -> np.ndarray:
    return np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype="<u4").astype(np.uint32)


@njit(cache=True)
def _mix64(x):
    # splitmix64 finaliser: spreads FNV's weak low bits over the whole word
    x = (x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    x = (x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return x ^ (x >> np.uint64(31))


@njit(cache=True, nogil=True)
def _scan_tokens(codes, char_class, fold, lig_cp, lig_start, lig_letters):
    n = codes.shape[0]
    lig_lo = lig_cp[0] if lig_cp.shape[0] else np.uint32(1)
    lig_hi = lig_cp[-1] if lig_cp.shape[0] else np.uint32(0)
    starts = np.empty(n // 2 + 1, dtype=np.int64)
    ends = np.empty(n // 2 + 1, dtype=np.int64)
    hashes = np.empty(n // 2 + 1, dtype=np.uint64)
    kinds = np.empty(n // 2 + 1, dtype=np.uint8)
    count = 0
    i = 0
    fnv_offset = np.uint64(0xCBF29CE484222325)
    fnv_prime = np.uint64(0x100000001B3)
    while i < n:
        cls = char_class[codes[i]] if codes[i] < char_class.shape[0] else 0
        if cls == 1:
            h = fnv_offset
            start = i
            last = i
            while i < n:
                c = codes[i]
                k = char_class[c] if c < char_class.shape[0] else 0
                if k == 1:
                    j = -1
                    if lig_lo <= c <= lig_hi:
                        j = np.searchsorted(lig_cp, c)
                        if lig_cp[j] != c:
                            j = -1
                    if j < 0:
                        h = (h ^ np.uint64(fold[c])) * fnv_prime
                    else:
                        for m in range(lig_start[j], lig_start[j + 1]):
                            h = (h ^ np.uint64(lig_letters[m])) * fnv_prime
                    last = i
                elif k == 2:
                    last = i  # a trailing combining mark belongs to the word
                else:
                    break
                i += 1
            if count >= starts.shape[0]:
                starts = _grow(starts)
                ends = _grow(ends)
                hashes = _grow(hashes)
                kinds = _grow(kinds)
            starts[count] = start
            ends[count] = last + 1
            hashes[count] = _mix64(h)
            kinds[count] = 1
            count += 1
        elif cls == 3:
            h = (fnv_offset ^ np.uint64(fold[codes[i]])) * fnv_prime
            if count >= starts.shape[0]:
                starts = _grow(starts)
                ends = _grow(ends)
                hashes = _grow(hashes)
                kinds = _grow(kinds)
            starts[count] = i
            ends[count] = i + 1
            hashes[count] = _mix64(h ^ np.uint64(0x9E3779B97F4A7C15))
            kinds[count] = 3
            count += 1
            i += 1
        else:
            i += 1
    return starts[:count], ends[:count], hashes[:count], kinds[:count]


@njit(cache=True)
def _grow(a):
    b = np.empty(a.shape[0] * 2 + 16, dtype=a.dtype)
    b[: a.shape[0]] = a
    return b


@njit(cache=True, nogil=True)
def _scan_sentences(codes, flags, char_class, tok_start, tok_end, tok_doc, abbrev_hashes, tok_hash):
    """Assign a sentence number to each token and find each sentence's character span.

    A sentence ends at a line break, at a strong terminal (。), or at a terminal
    (. ! ?) followed by space and a token that does not start in lower case, unless
    the word before the full stop is a known abbreviation or a single letter.
    """
    n_tok = tok_start.shape[0]
    sent_of_tok = np.empty(n_tok, dtype=np.int64)
    sent_start = np.empty(n_tok + 1, dtype=np.int64)
    sent_end = np.empty(n_tok + 1, dtype=np.int64)
    sent_first_tok = np.empty(n_tok + 1, dtype=np.int64)
    n_sent = 0
    n_codes = codes.shape[0]
    for k in range(n_tok):
        new_sentence = k == 0 or tok_doc[k] != tok_doc[k - 1]
        if not new_sentence:
            gap_newline = False
            gap_terminal = False
            gap_strong = False
            gap_space = False
            for p in range(tok_end[k - 1], tok_start[k]):
                f = flags[codes[p]] if codes[p] < flags.shape[0] else 0
                if f & 8:
                    gap_newline = True
                if f & 4:
                    gap_strong = True
                if f & 2:
                    gap_terminal = True
                if f & 16 and gap_terminal:
                    gap_space = True
            if gap_newline or gap_strong:
                new_sentence = True
            elif gap_terminal and gap_space:
                first = codes[tok_start[k]]
                starts_lower = first < flags.shape[0] and (flags[first] & 1) != 0
                prev_len = tok_end[k - 1] - tok_start[k - 1]
                prev_is_abbrev = False
                if prev_len == 1 and char_class[codes[tok_start[k - 1]]] == 1:
                    prev_is_abbrev = True
                else:
                    h = tok_hash[k - 1]
                    for a in range(abbrev_hashes.shape[0]):
                        if abbrev_hashes[a] == h:
                            prev_is_abbrev = True
                            break
                new_sentence = not starts_lower and not prev_is_abbrev
        if new_sentence:
            if n_sent > 0:
                sent_end[n_sent - 1] = _extend_end(codes, flags, tok_end[k - 1], tok_start[k])
            start = tok_start[k]
            while (
                start > 0
                and codes[start - 1] < flags.shape[0]
                and (flags[codes[start - 1]] & 32) != 0
            ):
                start -= 1
            sent_start[n_sent] = start
            sent_first_tok[n_sent] = k
            n_sent += 1
        sent_of_tok[k] = n_sent - 1
    if n_sent > 0:
        limit = n_codes
        sent_end[n_sent - 1] = _extend_end(codes, flags, tok_end[n_tok - 1], limit)
    sent_first_tok[n_sent] = n_tok
    return sent_of_tok, sent_start[:n_sent], sent_end[:n_sent], sent_first_tok[: n_sent + 1]


@njit(cache=True)
def _extend_end(codes, flags, end, limit):
    """Carry a sentence's end over the punctuation and closing quotes glued to it."""
    p = end
    while p < limit:
        c = codes[p]
        if c == 0 or c >= flags.shape[0]:
            break
        f = flags[c]
        if f & 16:
            break
        if (f & 2) or (f & 64) or c in (44, 59, 58):  # terminal, closing, , ; :
            p += 1
        else:
            break
    return p


ABBREVIATIONS = [
    "mr",
    "mrs",
    "ms",
    "dr",
    "prof",
    "st",
    "sr",
    "jr",
    "gen",
    "lt",
    "col",
    "sgt",
    "capt",
    "cmdr",
    "adm",
    "gov",
    "sen",
    "rep",
    "rev",
    "hon",
    "pres",
    "corp",
    "inc",
    "co",
    "ltd",
    "plc",
    "llc",
    "bros",
    "dept",
    "univ",
    "assn",
    "est",
    "approx",
    "vs",
    "etc",
    "no",
    "nos",
    "fig",
    "vol",
    "jan",
    "feb",
    "mar",
    "apr",
    "jun",
    "jul",
    "aug",
    "sep",
    "sept",
    "oct",
    "nov",
    "dec",
    "mon",
    "tue",
    "tues",
    "wed",
    "thu",
    "thurs",
    "fri",
    "sat",
    "sun",
    "ala",
    "ariz",
    "ark",
    "calif",
    "colo",
    "conn",
    "del",
    "fla",
    "ga",
    "ill",
    "ind",
    "kan",
    "ky",
    "la",
    "md",
    "mass",
    "mich",
    "minn",
    "miss",
    "mo",
    "mont",
    "neb",
    "nev",
    "okla",
    "ore",
    "pa",
    "tenn",
    "tex",
    "va",
    "vt",
    "wash",
    "wis",
    "wyo",
]


@lru_cache(maxsize=1)
def _abbreviation_hashes() -> np.ndarray:
    joined = "\x00".join(ABBREVIATIONS)
    _, _, hashes, _ = _scan(codepoints(joined))
    return np.unique(hashes)


def token_hashes(words: list[str]) -> np.ndarray:
    """The hash wiretrace gives each word, as the tokeniser would (for word lists)."""
    if not words:
        return np.zeros(0, dtype=np.uint64)
    _, _, hashes, _ = _scan(codepoints("\x00".join(words)))
    return hashes


@dataclass(frozen=True)
class TokenizedBatch:
    """Tokens and sentences of a batch of texts, with offsets local to each text.

    Arrays are parallel per token (``tok_*``) or per sentence (``sent_*``).
    ``doc_tok_start[d]:doc_tok_start[d+1]`` are the tokens of text ``d``;
    ``doc_sent_start`` likewise for sentences. Sentence numbers are global to the batch.
    """

    tok_start: np.ndarray
    tok_end: np.ndarray
    tok_hash: np.ndarray
    tok_unspaced: np.ndarray
    tok_sent: np.ndarray
    doc_tok_start: np.ndarray
    sent_start: np.ndarray
    sent_end: np.ndarray
    sent_first_tok: np.ndarray
    doc_sent_start: np.ndarray

    @property
    def n_docs(self) -> int:
        return self.doc_tok_start.shape[0] - 1


def tokenize_batch(texts: list[str], body_starts: list[int] | None = None) -> TokenizedBatch:
    """Tokenise and sentence-split many texts in one compiled pass.

    ``body_starts[d]`` is where the body of text ``d`` begins: tokens before it
    (a dateline, a byline) are not part of any sentence and are dropped.
    """
    char_class, _, flags = tables()
    text_offsets = np.zeros(len(texts) + 1, dtype=np.int64)
    if texts:
        text_offsets[1:] = np.cumsum([len(t) + 1 for t in texts])
    codes = codepoints("\x00".join(texts) + "\x00") if texts else np.zeros(0, np.uint32)
    starts, ends, hashes, kinds = _scan(codes)
    doc_of_tok = np.searchsorted(text_offsets, starts, side="right") - 1
    if body_starts is not None:
        keep = starts >= (text_offsets[:-1] + np.asarray(body_starts, dtype=np.int64))[doc_of_tok]
        starts, ends, hashes, kinds = starts[keep], ends[keep], hashes[keep], kinds[keep]
        doc_of_tok = doc_of_tok[keep]
    sent_of_tok, sent_start, sent_end, sent_first_tok = _scan_sentences(
        codes, flags, char_class, starts, ends, doc_of_tok, _abbreviation_hashes(), hashes
    )
    doc_tok_start = np.searchsorted(doc_of_tok, np.arange(len(texts) + 1), side="left")
    sent_doc = doc_of_tok[sent_first_tok[:-1]] if sent_start.size else np.zeros(0, np.int64)
    doc_sent_start = np.searchsorted(sent_doc, np.arange(len(texts) + 1), side="left")
    base_tok = text_offsets[:-1][doc_of_tok]
    base_sent = text_offsets[:-1][sent_doc]
    return TokenizedBatch(
        tok_start=(starts - base_tok).astype(np.int32),
        tok_end=(ends - base_tok).astype(np.int32),
        tok_hash=hashes,
        tok_unspaced=kinds == CHAR,
        tok_sent=sent_of_tok.astype(np.int32),
        doc_tok_start=doc_tok_start.astype(np.int64),
        sent_start=(sent_start - base_sent).astype(np.int32),
        sent_end=(sent_end - base_sent).astype(np.int32),
        sent_first_tok=sent_first_tok.astype(np.int64),
        doc_sent_start=doc_sent_start.astype(np.int64),
    )


def tokens(text: str) -> list[tuple[int, int, str]]:
    """(start, end, original token text) for one text; a convenience for people and tests."""
    batch = tokenize_batch([text])
    return [(int(s), int(e), text[s:e]) for s, e in zip(batch.tok_start, batch.tok_end)]


def sentences(text: str, body_start: int = 0) -> list[tuple[int, int]]:
    """(start, end) character spans of the sentences of one text."""
    batch = tokenize_batch([text], [body_start])
    return [(int(s), int(e)) for s, e in zip(batch.sent_start, batch.sent_end)]


# --- datelines and bylines --------------------------------------------------------------

_AGENCY_IN_PARENS = r"\((?P<agency>[^()\n]{2,40})\)"
_DASH = r"[-–—]{1,2}"
_DATELINE_PATTERNS = (
    # BAGHDAD (Reuters) - / SALVADOR, Feb 26 (Reuters) - / GENEVA (AP) —
    re.compile(r"^(?P<place>[^\n()]{2,60}?)\s*" + _AGENCY_IN_PARENS + r"\s*" + _DASH + r"\s*"),
    # MOSCOW, March 14. /TASS/.
    re.compile(r"^(?P<place>[^\n/]{2,60}?)\s*/(?P<agency>[^/\n]{2,20})/\.?\s*"),
    # 新华社北京3月14日电 (记者 ...)
    re.compile(
        r"^(?P<agency>新华社|中新社|人民网|央视新闻)(?P<place>[^\n电]{1,20})电(?:（[^）\n]{0,30}）)?\s*"
    ),
    # PORT ELLIS — (an upper-case place and a dash, no agency)
    re.compile(
        r"^(?P<place>[A-Z][A-Z .'\-]{2,40}(?:,\s*[A-Za-z.]{2,12}\.?\s*\d{0,2})?)\s+"
        + _DASH
        + r"\s+"
    ),
)
_DATELINE_NEEDS = ("(", "/", "电", "")  # a character each pattern cannot match without
_BYLINE = re.compile(r"(?:By|BY|by)\s+[^\n.!?]{2,60}\n+")


@dataclass(frozen=True)
class Dateline:
    start: int
    end: int
    place: str
    agency: str | None


def dateline_place(text: str) -> str | None:
    """The place of a text's dateline, after any byline, casefolded ("new york"), or None."""
    return _place(_lead(text)[1])


def body_start_and_place(text: str) -> tuple[int, str | None]:
    """``body_start`` and ``dateline_place`` of a text, from one scan of its head."""
    pos, dateline = _lead(text)
    return (dateline.end if dateline else pos), _place(dateline)


def _lead(text: str) -> tuple[int, Dateline | None]:
    """Where a text's byline ends (or its first character), and the dateline after it."""
    pos = len(text) - len(text.lstrip())
    byline = _BYLINE.match(text, pos)
    if byline:
        pos = byline.end()
    return pos, find_dateline(text, pos)


def _place(dateline: Dateline | None) -> str | None:
    if dateline is None:
        return None
    return dateline.place.split(",")[0].strip().casefold() or None


def find_dateline(text: str, start: int = 0) -> Dateline | None:
    """The dateline at ``start`` of a text, if there is one ("GENEVA (AP) — ")."""
    head = text[start : start + 160]
    for pattern, needs in zip(_DATELINE_PATTERNS, _DATELINE_NEEDS):
        if needs and needs not in head:  # a cheap test first: most texts have no dateline
            continue
        match = pattern.match(head)
        if not match:
            continue
        place = match.group("place").strip(" ,")
        agency = match.groupdict().get("agency")
        if agency is None and not _looks_like_place(place):
            continue
        if agency is not None and len(place.split()) > 8:
            continue
        return Dateline(start, start + match.end(), place, agency.strip() if agency else None)
    return None


def _looks_like_place(place: str) -> bool:
    letters = "".join(filter(str.isalpha, place))
    return len(letters) >= 3 and sum(map(str.isupper, letters)) / len(letters) > 0.8


def body_start(text: str) -> int:
    """Where the story proper begins: after a leading byline line and a dateline."""
    pos, dateline = _lead(text)
    return dateline.end if dateline else pos


def concat_batches(batches: list[TokenizedBatch]) -> TokenizedBatch:
    """One batch from several, renumbering sentences and token positions.

    Filled in place into preallocated arrays: at 100,000 texts, building each
    field with temporary sums and ``astype`` copies cost two seconds.
    """
    if len(batches) == 1:
        return batches[0]
    tok_base = np.cumsum([0] + [b.tok_hash.shape[0] for b in batches])
    sent_base = np.cumsum([0] + [b.sent_start.shape[0] for b in batches])
    doc_base = np.cumsum([0] + [b.n_docs for b in batches])
    n_tok, n_sent, n_docs = int(tok_base[-1]), int(sent_base[-1]), int(doc_base[-1])
    first = batches[0]
    out = {
        name: np.empty(n_tok, getattr(first, name).dtype)
        for name in ("tok_start", "tok_end", "tok_hash", "tok_unspaced")
    }
    out["tok_sent"] = np.empty(n_tok, np.int32)
    out.update(
        {name: np.empty(n_sent, getattr(first, name).dtype) for name in ("sent_start", "sent_end")}
    )
    out["sent_first_tok"] = np.empty(n_sent + 1, np.int64)
    out["doc_tok_start"] = np.empty(n_docs + 1, np.int64)
    out["doc_sent_start"] = np.empty(n_docs + 1, np.int64)
    for i, b in enumerate(batches):
        tok = slice(tok_base[i], tok_base[i + 1])
        sent = slice(sent_base[i], sent_base[i + 1])
        docs = slice(doc_base[i], doc_base[i + 1])
        for name in ("tok_start", "tok_end", "tok_hash", "tok_unspaced"):
            out[name][tok] = getattr(b, name)
        np.add(b.tok_sent, sent_base[i], out=out["tok_sent"][tok], casting="unsafe")
        out["sent_start"][sent] = b.sent_start
        out["sent_end"][sent] = b.sent_end
        np.add(b.sent_first_tok[:-1], tok_base[i], out=out["sent_first_tok"][sent])
        np.add(b.doc_tok_start[:-1], tok_base[i], out=out["doc_tok_start"][docs])
        np.add(b.doc_sent_start[:-1], sent_base[i], out=out["doc_sent_start"][docs])
    out["sent_first_tok"][-1] = n_tok
    out["doc_tok_start"][-1] = n_tok
    out["doc_sent_start"][-1] = n_sent
    return TokenizedBatch(**out)


def tokenize_corpus(
    texts: list[str], body_starts: list[int], chunk_size: int = 4000, progress=None
) -> TokenizedBatch:
    """``tokenize_batch`` in chunks, so that memory follows the chunk, not the corpus.

    The compiled scans release the GIL, so chunks are tokenised on several threads.
    """
    from concurrent.futures import ThreadPoolExecutor

    chunks = range(0, max(len(texts), 1), chunk_size)

    def one(start: int) -> TokenizedBatch:
        return tokenize_batch(
            texts[start : start + chunk_size], body_starts[start : start + chunk_size]
        )

    batches = []
    with ThreadPoolExecutor(max_workers=min(4, os.cpu_count() or 1)) as pool:
        for start, batch in zip(chunks, pool.map(one, chunks)):
            batches.append(batch)
            if progress is not None:
                progress(min(chunk_size, len(texts) - start))
    return concat_batches(batches)
