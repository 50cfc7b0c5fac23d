"""Variant normalisation: aliases, British/American spelling, number and date formats.

Rewrites of news change the form of words without changing what they say: "Islamic State"
becomes "ISIS", "mobilisation" becomes "mobilization", "1,500,000" becomes "1.5 million",
"Feb 26" becomes "26 February". ``apply_variants`` maps such forms to one canonical token
*after* tokenisation, in hash space, so that every later stage (shingles, sentence features,
alignment, sentence similarity) compares canonical tokens while character offsets still point
into the original text:

* a word becomes its canonical word's hash (a table lookup with ``np.searchsorted``);
* a run of tokens that forms one thing ("Islamic State", "U.S.", "3.5 million", "Feb. 26")
  becomes one token: the first keeps its start, takes the run's end and the canonical hash,
  and the others are removed from the batch;
* numbers become their value ("1,000", "1 000", "1000" and "one thousand" are one token), so
  that formats agree, and dates become (month, day).

Spelling variants come from suffix rules (``-ise``/``-ize``, ``-our``/``-or``, ``-tre``/``-ter``,
``-lled``/``-led`` ...) applied to each distinct word by a compiled kernel, with a hand-written
list of exceptions. All rules live in a plain text file that users can extend
(``data/variants.txt`` is the default; see its header for the format).
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path

import numpy as np
from numba import njit

from .text import TokenizedBatch, codepoints, tables, token_hashes, tokenize_batch

DEFAULT = "default"
_NUMBER_TAG = np.uint64(0x4E55) << np.uint64(48)  # top 16 bits of every number's hash
_TAG_MASK = np.uint64(0xFFFF) << np.uint64(48)
_SEQUENCE_SEED = np.uint64(0xA0761D6478BD642F)
_FNV_PRIME = np.uint64(0x100000001B3)
_MAX_SEQUENCE = 8  # tokens in one multi-word form


@dataclass(frozen=True)
class SuffixRule:
    """``stem + source + ending`` is spelled ``stem + target + ending`` (British to American).

    ``endings`` are the inflections the ending may carry ("" for none); the stem needs at
    least ``min_stem`` letters and ``min_vowels`` vowels (a, e, i, o, u, y), so that short
    words ("four", "hour") and words with one syllable ("called") are left alone.
    """

    source: str
    target: str
    endings: tuple[str, ...]
    min_stem: int = 2
    min_vowels: int = 0


@dataclass(frozen=True)
class VariantRules:
    """Parsed rules: plain strings, so that they can be stored with a run's parameters.

    ``aliases`` and ``spellings``: groups of equivalent forms, the first canonical; a form
    given in double quotes matches only text written in capitals ("IS" but not "is").
    ``number_words``: (word, value); ``scale_words``: (word, multiplier), as in "3.5 million";
    ``months``: (forms, month number).
    """

    aliases: tuple[tuple[str, ...], ...] = ()
    spellings: tuple[tuple[str, ...], ...] = ()
    suffixes: tuple[SuffixRule, ...] = ()
    number_words: tuple[tuple[str, float], ...] = ()
    scale_words: tuple[tuple[str, float], ...] = ()
    months: tuple[tuple[tuple[str, ...], int], ...] = ()
    origin: str = ""

    def extended(self, other: VariantRules) -> VariantRules:
        """These rules followed by ``other``'s (a later group wins where both name a form)."""
        return VariantRules(
            aliases=self.aliases + other.aliases,
            spellings=self.spellings + other.spellings,
            suffixes=self.suffixes + other.suffixes,
            number_words=self.number_words + other.number_words,
            scale_words=self.scale_words + other.scale_words,
            months=self.months + other.months,
            origin=f"{self.origin}+{other.origin}",
        )


# --- reading rules -------------------------------------------------------------------------

_SECTIONS = ("aliases", "spellings", "suffixes", "numbers", "months")


def default_rules_path() -> Path:
    return Path(str(resources.files("wiretrace") / "data" / "variants.txt"))


def load_variants(source: str | Path | VariantRules) -> VariantRules:
    """Rules from a file, ``"default"`` for the bundled ones, or rules already loaded.

    A file whose first rule line is ``%extends default`` adds to the bundled rules.
    Errors name the file and line.
    """
    if isinstance(source, VariantRules):
        return source
    if str(source) == DEFAULT:
        return _default_rules()
    path = Path(source)
    if not path.is_file():
        raise ValueError(f"{path}: variant rules file not found")
    return _load_file(path, str(path), path.stat().st_mtime)  # an edited file is read again


@lru_cache(maxsize=1)
def _default_rules() -> VariantRules:
    return _load_file(default_rules_path(), DEFAULT, 0.0)


@lru_cache(maxsize=8)
def _load_file(path: Path, origin: str, modified: float) -> VariantRules:
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as error:
        raise ValueError(f"{path}: cannot read variant rules ({error})") from error
    return parse_variants(lines, origin)


def parse_variants(lines: list[str], origin: str = "<rules>") -> VariantRules:
    """Parse the text format of ``data/variants.txt`` (one list item a line)."""
    section = None
    base: VariantRules | None = None
    groups: dict[str, list] = {name: [] for name in _SECTIONS}
    scale: list[tuple[str, float]] = []
    for number, raw in enumerate(lines, start=1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        where = f"{origin}:{number}"
        if line.startswith("%extends"):
            name = line.split(None, 1)[1].strip() if len(line.split()) > 1 else ""
            if name != DEFAULT or any(groups.values()) or base is not None:
                raise ValueError(f"{where}: only '%extends default', before any rule, is allowed")
            base = load_variants(DEFAULT)
            continue
        header = re.fullmatch(r"\[(\w+)\]", line)
        if header:
            section = header.group(1)
            if section not in _SECTIONS:
                raise ValueError(f"{where}: unknown section [{section}]; use one of {_SECTIONS}")
            continue
        if section is None:
            raise ValueError(f"{where}: a rule before any [section]")
        if section == "suffixes":
            groups[section].append(_parse_suffix(line, where))
        elif section == "numbers":
            word, value, is_scale = _parse_number(line, where)
            (scale if is_scale else groups["numbers"]).append((word, value))
        elif section == "months":
            forms = _parse_forms(line, where)
            if not forms[-1].isdigit() or not 1 <= int(forms[-1]) <= 12 or len(forms) < 2:
                raise ValueError(f"{where}: a month line is 'name = abbreviation ... = 1..12'")
            if any(_form_tokens(form).shape[0] != 1 for form in forms[:-1]):
                raise ValueError(f"{where}: month names must be one word each")
            groups[section].append((forms[:-1], int(forms[-1])))
        else:
            forms = _parse_forms(line, where)
            if len(forms) < 2:
                raise ValueError(f"{where}: a group needs two or more forms separated by '='")
            groups[section].append(forms)
    rules = VariantRules(
        aliases=tuple(groups["aliases"]),
        spellings=tuple(groups["spellings"]),
        suffixes=tuple(groups["suffixes"]),
        number_words=tuple(groups["numbers"]),
        scale_words=tuple(scale),
        months=tuple(groups["months"]),
        origin=origin,
    )
    return base.extended(rules) if base is not None else rules


def _parse_forms(line: str, where: str) -> tuple[str, ...]:
    forms = tuple(part.strip() for part in line.split("="))
    for form in forms:
        if form.startswith('"') != form.endswith('"') or form.count('"') not in (0, 2):
            raise ValueError(f"{where}: unbalanced quotes in {form!r}")
        words = _form_tokens(form.strip('"')).shape[0]
        if words == 0:
            raise ValueError(f"{where}: the form {form!r} has no word in it")
        if words > _MAX_SEQUENCE:
            raise ValueError(f"{where}: {form!r} has over {_MAX_SEQUENCE} words")
        if form.startswith('"') and words != 1:
            raise ValueError(f"{where}: a quoted form must be one word, not {form}")
    return forms


def _parse_suffix(line: str, where: str) -> SuffixRule:
    match = re.fullmatch(r"(\w+)\s*=>\s*(\w*)\s*\|([^|]*)(?:\|\s*(\d+)(?:\s+(\d+))?)?\s*", line)
    if not match:
        raise ValueError(
            f"{where}: a suffix rule is 'source => target | endings | min_stem [min_vowels]'"
        )
    endings = tuple("" if e == "-" else e for e in match.group(3).split())
    if not endings:
        raise ValueError(f"{where}: a suffix rule needs at least one ending ('-' for none)")
    return SuffixRule(
        match.group(1).lower(),
        match.group(2).lower(),
        endings,
        int(match.group(4) or 2),
        int(match.group(5) or 0),
    )


def _parse_number(line: str, where: str) -> tuple[str, float, bool]:
    match = re.fullmatch(r"([^=]+?)\s*=\s*(x?)([0-9][0-9_.]*)", line)
    if not match:
        raise ValueError(f"{where}: a number line is 'word = value' or 'word = x1000'")
    try:
        value = float(match.group(3).replace("_", ""))
    except ValueError as error:
        raise ValueError(f"{where}: {match.group(3)!r} is not a number") from error
    word = match.group(1).strip()
    if _form_tokens(word).shape[0] != 1:
        raise ValueError(f"{where}: number word {word!r} must be one word")
    return word, value, match.group(2) == "x"


# --- compiled tables -----------------------------------------------------------------------


@dataclass(frozen=True)
class _Tables:
    word_from: np.ndarray  # sorted token hashes
    word_to: np.ndarray
    caps_from: np.ndarray  # sorted; applies only where the token has the form's capitals
    caps_to: np.ndarray
    caps_mask: np.ndarray  # bit i: the form's letter i is a capital
    seq_first: np.ndarray  # multi-token forms, sorted by their first token
    seq_tokens: np.ndarray  # (forms, _MAX_SEQUENCE)
    seq_len: np.ndarray
    seq_to: np.ndarray
    number_from: np.ndarray  # number words: sorted hashes and values
    number_value: np.ndarray
    scale_from: np.ndarray
    scale_value: np.ndarray
    month_from: np.ndarray
    month_value: np.ndarray
    suffix_source: np.ndarray  # code points, concatenated; *_start: offsets, one more than rules
    suffix_source_start: np.ndarray
    suffix_target: np.ndarray
    suffix_target_start: np.ndarray
    ending: np.ndarray
    ending_start: np.ndarray  # per ending
    rule_ending_start: np.ndarray  # per rule: its endings' indices
    rule_min_stem: np.ndarray
    rule_min_vowels: np.ndarray
    of_hash: np.uint64


def _form_tokens(form: str) -> np.ndarray:
    batch = tokenize_batch([form])
    return batch.tok_hash


def _sequence_hash(hashes: np.ndarray) -> np.uint64:
    """A multi-word form's canonical hash: its words combined (a single word keeps its own)."""
    if hashes.shape[0] == 1:
        return np.uint64(hashes[0])
    h = int(_SEQUENCE_SEED)
    for value in hashes.tolist():
        h = ((h ^ value) * int(_FNV_PRIME)) & 0xFFFFFFFFFFFFFFFF
    return np.uint64(int(_mix64(np.uint64(h))) & ~int(_TAG_MASK) & 0xFFFFFFFFFFFFFFFF)


@lru_cache(maxsize=8)
def compile_variants(rules: VariantRules) -> _Tables:
    """Hash tables for ``apply_variants`` (cached per rules)."""
    word: dict[int, int] = {}
    caps: dict[int, int] = {}
    caps_mask: dict[int, int] = {}
    multi_word: dict[str, int] = {}
    for group in rules.spellings + rules.aliases:
        target = int(_sequence_hash(_form_tokens(group[0].strip('"'))))
        for form in group:
            tokens = _form_tokens(form.strip('"'))
            if form.startswith('"'):
                caps[int(tokens[0])] = target
                caps_mask[int(tokens[0])] = _capitals_mask(form.strip('"'))
            elif tokens.shape[0] == 1:
                if int(tokens[0]) != target:
                    word[int(tokens[0])] = target
            else:
                multi_word[form] = target
    months: dict[int, int] = {}
    for forms, month in rules.months:
        canonical = int(_form_tokens(forms[0])[0])
        for form in forms:
            months[int(_form_tokens(form)[0])] = month
            if int(_form_tokens(form)[0]) != canonical:
                word[int(_form_tokens(form)[0])] = canonical
    numbers = {int(_form_tokens(w)[0]): v for w, v in rules.number_words}
    scales = {int(_form_tokens(w)[0]): v for w, v in rules.scale_words}

    def table(mapping: dict[int, int | float], dtype) -> tuple[np.ndarray, np.ndarray]:
        keys = np.array(sorted(mapping), dtype=np.uint64)
        return keys, np.array([mapping[int(k)] for k in keys], dtype=dtype)

    words = _Tables(
        *table(word, np.uint64),
        *table(caps, np.uint64),
        caps_mask=table(caps_mask, np.uint64)[1],
        seq_first=np.zeros(0, np.uint64),
        seq_tokens=np.zeros((0, _MAX_SEQUENCE), np.uint64),
        seq_len=np.zeros(0, np.int64),
        seq_to=np.zeros(0, np.uint64),
        number_from=table(numbers, np.float64)[0],
        number_value=table(numbers, np.float64)[1],
        scale_from=table(scales, np.float64)[0],
        scale_value=table(scales, np.float64)[1],
        month_from=table(months, np.int64)[0],
        month_value=table(months, np.int64)[1],
        **_suffix_arrays(rules.suffixes),
        of_hash=np.uint64(token_hashes(["of"])[0]),
    )
    # multi-word forms are matched on canonical words, as the text's words will be
    forms = sorted(multi_word)
    batch = tokenize_batch(forms)
    base = _canonical_words(batch, forms, words)
    sequences = {
        tuple(base[batch.doc_tok_start[i] : batch.doc_tok_start[i + 1]].tolist()): multi_word[f]
        for i, f in enumerate(forms)
    }
    keys = sorted(sequences)
    seq_tokens = np.zeros((len(keys), _MAX_SEQUENCE), dtype=np.uint64)
    for i, key in enumerate(keys):
        seq_tokens[i, : len(key)] = key
    return dataclasses.replace(
        words,
        seq_first=np.array([k[0] for k in keys], dtype=np.uint64),
        seq_tokens=seq_tokens,
        seq_len=np.array([len(k) for k in keys], dtype=np.int64),
        seq_to=np.array([sequences[k] for k in keys], dtype=np.uint64),
    )


def _canonical_words(batch: TokenizedBatch, texts: list[str], tab: _Tables) -> np.ndarray:
    """Each token's canonical word (lists and suffix rules; no runs, numbers or dates)."""
    if batch.tok_hash.shape[0] == 0:
        return batch.tok_hash.copy()
    char_class, fold, _ = tables()
    text_start = np.zeros(len(texts) + 1, dtype=np.int64)
    text_start[1:] = np.cumsum([len(t) + 1 for t in texts])
    codes = codepoints("\x00".join(texts) + "\x00")
    doc = np.repeat(np.arange(len(texts)), np.diff(batch.doc_tok_start))
    start = text_start[doc] + batch.tok_start
    end = text_start[doc] + batch.tok_end
    return _word_forms(batch.tok_hash, start, end, codes, char_class, fold, tab)


def _capitals_mask(form: str) -> int:
    letters = [c for c in form if c.isalnum()][:64]
    return sum(1 << i for i, c in enumerate(letters) if c.isupper())


def _codes_of(strings: list[str]) -> tuple[np.ndarray, np.ndarray]:
    starts = np.zeros(len(strings) + 1, dtype=np.int64)
    starts[1:] = np.cumsum([len(s) for s in strings])
    joined = "".join(strings)
    codes = codepoints(joined) if joined else np.zeros(0, np.uint32)
    _, fold, _ = tables()
    return fold[codes].astype(np.int64), starts


def _suffix_arrays(rules: tuple[SuffixRule, ...]) -> dict[str, np.ndarray]:
    source, source_start = _codes_of([r.source for r in rules])
    target, target_start = _codes_of([r.target for r in rules])
    endings = [e for r in rules for e in r.endings]
    ending, ending_start = _codes_of(endings)
    per_rule = np.zeros(len(rules) + 1, dtype=np.int64)
    per_rule[1:] = np.cumsum([len(r.endings) for r in rules])
    return {
        "suffix_source": source,
        "suffix_source_start": source_start,
        "suffix_target": target,
        "suffix_target_start": target_start,
        "ending": ending,
        "ending_start": ending_start,
        "rule_ending_start": per_rule,
        "rule_min_stem": np.array([r.min_stem for r in rules], dtype=np.int64),
        "rule_min_vowels": np.array([r.min_vowels for r in rules], dtype=np.int64),
    }


# --- numbers -------------------------------------------------------------------------------


@njit(cache=True)
def _mix64(x):
    x = (x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    x = (x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return x ^ (x >> np.uint64(31))


@njit(cache=True)
def _number_key_hash(key):
    h = _mix64(np.uint64(key) ^ np.uint64(0x51ED270B27B6A5C1))
    return (h & ~(np.uint64(0xFFFF) << np.uint64(48))) | (np.uint64(0x4E55) << np.uint64(48))


@njit(cache=True)
def _number_hash(value):
    # thousandths, so that 3.5 million and 3,500,000 meet despite floating point
    return _number_key_hash(np.int64(np.round(min(value, 9.0e15) * 1000.0)))


def number_hash(value: float) -> np.uint64:
    """The canonical hash of a number, as ``apply_variants`` gives it."""
    return np.uint64(_number_hash(float(value)))


def is_number_hash(hashes: np.ndarray) -> np.ndarray:
    """True where a canonical hash stands for a number or a date."""
    return (np.asarray(hashes, dtype=np.uint64) & _TAG_MASK) == _NUMBER_TAG


# --- applying ------------------------------------------------------------------------------


def apply_variants(
    batch: TokenizedBatch, texts: list[str], rules: VariantRules | str | Path, chunk: int = 2000
) -> TokenizedBatch:
    """``batch`` (as tokenised from ``texts``) with every token mapped to its canonical form.

    Tokens that a multi-word form, a number or a date absorbs are removed; the token that
    stands for the run spans all of it, so offsets still index the original text. Sentences
    keep their spans and numbers.
    """
    if len(texts) != batch.n_docs:
        raise ValueError(f"{len(texts)} texts for a batch of {batch.n_docs}")
    tab = compile_variants(load_variants(rules))
    n_tok = batch.tok_hash.shape[0]
    out_hash = batch.tok_hash.copy()
    out_end = batch.tok_end.astype(np.int64)
    absorbed = np.zeros(n_tok, dtype=bool)
    char_class, fold, flags = tables()
    for d0 in range(0, batch.n_docs, chunk):
        d1 = min(d0 + chunk, batch.n_docs)
        t0, t1 = int(batch.doc_tok_start[d0]), int(batch.doc_tok_start[d1])
        if t1 == t0:
            continue
        chunk_texts = texts[d0:d1]
        text_start = np.zeros(d1 - d0 + 1, dtype=np.int64)
        text_start[1:] = np.cumsum([len(t) + 1 for t in chunk_texts])
        codes = codepoints("\x00".join(chunk_texts) + "\x00")
        doc = np.repeat(np.arange(d1 - d0), np.diff(batch.doc_tok_start[d0 : d1 + 1]))
        start = text_start[doc] + batch.tok_start[t0:t1]
        end = text_start[doc] + batch.tok_end[t0:t1]
        hashes = batch.tok_hash[t0:t1]
        base = _word_forms(hashes, start, end, codes, char_class, fold, tab)
        h, e, a = _scan_runs(
            base, start, end, batch.tok_sent[t0:t1], codes, fold, flags, char_class,
            tab.caps_from, tab.caps_to, tab.caps_mask, tab.seq_first, tab.seq_tokens, tab.seq_len, tab.seq_to,
            tab.number_from, tab.number_value, tab.scale_from, tab.scale_value,
            tab.month_from, tab.month_value, tab.of_hash,
        )  # fmt: skip
        out_hash[t0:t1] = h
        out_end[t0:t1] = e - text_start[doc]
        absorbed[t0:t1] = a
    return _drop_absorbed(batch, out_hash, out_end, absorbed)


def _lookup(keys: np.ndarray, values: np.ndarray, query: np.ndarray) -> tuple[np.ndarray, ...]:
    if keys.shape[0] == 0:
        return np.zeros(query.shape[0], dtype=bool), query
    index = np.minimum(np.searchsorted(keys, query), keys.shape[0] - 1)
    found = keys[index] == query
    return found, np.where(found, values[index], query)


def _word_forms(hashes, start, end, codes, char_class, fold, tab: _Tables) -> np.ndarray:
    """Each token's canonical word: listed forms first, then the suffix rules, per distinct word."""
    distinct, first, inverse = np.unique(hashes, return_index=True, return_inverse=True)
    listed, mapped = _lookup(tab.word_from, tab.word_to, distinct)
    if tab.rule_min_stem.shape[0]:
        respelled = _respell(
            distinct, codes, start[first], end[first], char_class, fold,
            tab.suffix_source, tab.suffix_source_start, tab.suffix_target,
            tab.suffix_target_start, tab.ending, tab.ending_start, tab.rule_ending_start,
            tab.rule_min_stem, tab.rule_min_vowels,
        )  # fmt: skip
        changed = ~listed & (respelled != distinct)
        _, respelled_listed = _lookup(tab.word_from, tab.word_to, respelled[changed])
        mapped[changed] = respelled_listed
    return mapped[inverse.reshape(-1)]


@njit(cache=True)
def _respell(
    hashes, codes, starts, ends, char_class, fold, source, source_start, target, target_start,
    ending, ending_start, rule_ending_start, min_stem, min_vowels,
):  # fmt: skip
    """The token hash each word would have with its British suffix spelled the American way."""
    n = starts.shape[0]
    out = np.empty(n, dtype=np.uint64)
    word = np.empty(64, dtype=np.int64)
    for t in range(n):
        out[t] = hashes[t]
        length = 0
        plain = True
        for p in range(starts[t], ends[t]):
            c = codes[p]
            k = char_class[c]
            if k == 1:
                if length == 64:
                    plain = False
                    break
                word[length] = fold[c]
                length += 1
            elif k != 2:
                plain = False
        if not plain or length < 4:
            continue
        for r in range(min_stem.shape[0]):
            src_len = source_start[r + 1] - source_start[r]
            done = False
            for e in range(rule_ending_start[r], rule_ending_start[r + 1]):
                end_len = ending_start[e + 1] - ending_start[e]
                stem = length - src_len - end_len
                if stem < min_stem[r]:
                    continue
                ok = True
                for i in range(end_len):
                    if word[stem + src_len + i] != ending[ending_start[e] + i]:
                        ok = False
                        break
                if ok:
                    for i in range(src_len):
                        if word[stem + i] != source[source_start[r] + i]:
                            ok = False
                            break
                if ok and min_vowels[r] > 0:
                    vowels = 0
                    for i in range(stem):
                        c = word[i]
                        if c == 97 or c == 101 or c == 105 or c == 111 or c == 117 or c == 121:
                            if i == 0 or not _is_vowel(word[i - 1]):
                                vowels += 1
                    ok = vowels >= min_vowels[r]
                if ok:
                    h = np.uint64(0xCBF29CE484222325)
                    for i in range(stem):
                        h = (h ^ np.uint64(word[i])) * np.uint64(0x100000001B3)
                    for i in range(target_start[r], target_start[r + 1]):
                        h = (h ^ np.uint64(target[i])) * np.uint64(0x100000001B3)
                    for i in range(end_len):
                        h = (h ^ np.uint64(ending[ending_start[e] + i])) * np.uint64(0x100000001B3)
                    out[t] = _mix64(h)
                    done = True
                    break
            if done:
                break
    return out


@njit(cache=True)
def _is_vowel(c):
    return c == 97 or c == 101 or c == 105 or c == 111 or c == 117 or c == 121


@njit(cache=True)
def _find(keys, value):
    lo = np.searchsorted(keys, value)
    return lo if lo < keys.shape[0] and keys[lo] == value else -1


@njit(cache=True)
def _digits(codes, fold, start, end):
    """(value, digit count, letters after the digits) of a token; value -1 if not digit-led."""
    value = 0.0
    count = 0
    p = start
    while p < end:
        c = fold[codes[p]]
        if 48 <= c <= 57:
            value = value * 10.0 + (c - 48)
            count += 1
            p += 1
        else:
            break
    if count == 0 or count > 15:
        return -1.0, 0, 0
    return value, count, end - p


@njit(cache=True)
def _is_ordinal(codes, fold, start, end, digit_count):
    if end - start != digit_count + 2:
        return False
    a = fold[codes[start + digit_count]]
    b = fold[codes[start + digit_count + 1]]
    return (
        (a == 115 and b == 116)  # st
        or (a == 110 and b == 100)  # nd
        or (a == 114 and b == 100)  # rd
        or (a == 116 and b == 104)  # th
    )


@njit(cache=True)
def _gap(codes, end, start):
    """The single character between two tokens, 0 if none, -1 if more than one."""
    if start - end == 1:
        return codes[end]
    if start == end:
        return 0
    return -1


@njit(cache=True)
def _blank_gap(codes, flags, end, start, dots):
    """Only spaces (and, with ``dots``, one full stop) between two tokens, on one line."""
    if start - end > 3 or start == end:
        return False
    seen_dot = False
    for p in range(end, start):
        c = codes[p]
        if c == 46 and dots and not seen_dot:
            seen_dot = True
        elif c == 45 and start - end == 1:
            pass  # "3.5-million"
        elif c >= flags.shape[0] or (flags[c] & 16) == 0 or (flags[c] & 8) != 0:
            return False
    return True


@njit(cache=True)
def _has_capitals(codes, flags, char_class, start, end, mask):
    """Whether the token is in capitals wherever ``mask`` (bit i: letter i) asks for one."""
    letter = 0
    for p in range(start, end):
        c = codes[p]
        if char_class[c] == 1:
            if letter < 64 and (mask >> np.uint64(letter)) & np.uint64(1) and flags[c] & 1:
                return False
            letter += 1
    return True


@njit(cache=True)
def _scan_runs(
    base, start, end, sent, codes, fold, flags, char_class,
    caps_from, caps_to, caps_mask, seq_first, seq_tokens, seq_len, seq_to,
    number_from, number_value, scale_from, scale_value, month_from, month_value, of_hash,
):  # fmt: skip
    n = base.shape[0]
    out = base.copy()
    out_end = end.copy()
    absorbed = np.zeros(n, dtype=np.bool_)
    k = 0
    while k < n:
        # multi-word forms, longest first
        best = 0
        best_to = np.uint64(0)
        i = _lower_bound(seq_first, base[k])
        while i < seq_first.shape[0] and seq_first[i] == base[k]:
            length = seq_len[i]
            if length > best and k + length <= n and sent[k + length - 1] == sent[k]:
                ok = True
                for j in range(1, length):
                    if base[k + j] != seq_tokens[i, j]:
                        ok = False
                        break
                if ok:
                    best = length
                    best_to = seq_to[i]
            i += 1
        if best > 1:
            out[k] = best_to
            out_end[k] = end[k + best - 1]
            for j in range(1, best):
                absorbed[k + j] = True
            k += best
            continue
        # a word that is an alias only in capitals ("IS", "US")
        c = _find(caps_from, base[k])
        if c >= 0 and _has_capitals(codes, flags, char_class, start[k], end[k], caps_mask[c]):
            out[k] = caps_to[c]
            k += 1
            continue
        # dates: "Feb. 26", "February 26th"
        m = _find(month_from, base[k])
        if m >= 0 and k + 1 < n and sent[k + 1] == sent[k]:
            if _blank_gap(codes, flags, end[k], start[k + 1], True):
                day, count, rest = _digits(codes, fold, start[k + 1], end[k + 1])
                if 1 <= day <= 31 and (
                    rest == 0 or _is_ordinal(codes, fold, start[k + 1], end[k + 1], count)
                ):
                    out[k] = _number_key_hash(-(month_value[m] * 100 + np.int64(day)))
                    out_end[k] = end[k + 1]
                    absorbed[k + 1] = True
                    k += 2
                    continue
        # numbers
        last = k
        value, count, rest = _digits(codes, fold, start[k], end[k])
        is_number = False
        if value >= 0 and rest == 0:
            is_number = True
            while last + 1 < n and sent[last + 1] == sent[k] and last - k < 5 and count <= 3:
                g = _gap(codes, end[last], start[last + 1])
                if not (g == 44 or g == 32 or g == 160 or g == 8239 or g == 8201):
                    break
                nxt, nxt_count, nxt_rest = _digits(codes, fold, start[last + 1], end[last + 1])
                if nxt < 0 or nxt_rest != 0 or nxt_count != 3:
                    break
                value = value * 1000.0 + nxt
                last += 1
            if last + 1 < n and sent[last + 1] == sent[k]:
                g = _gap(codes, end[last], start[last + 1])
                frac, frac_count, frac_rest = _digits(codes, fold, start[last + 1], end[last + 1])
                if (g == 46 or (g == 44 and last == k and frac_count != 3)) and frac >= 0:
                    if frac_rest == 0:
                        value += frac / 10.0**frac_count
                        last += 1
                elif (g == 45 or g == 32) and frac >= 0 and frac_rest == 0 and last + 2 < n:
                    # "7-1/2", "7 1/2"
                    slash = _gap(codes, end[last + 1], start[last + 2]) == 47
                    if sent[last + 2] == sent[k] and slash:
                        den, _, den_rest = _digits(codes, fold, start[last + 2], end[last + 2])
                        if den_rest == 0 and den > frac > 0:
                            value += frac / den
                            last += 2
        elif value >= 0 and _is_ordinal(codes, fold, start[k], end[k], count):
            is_number = True
        else:
            w = _find(number_from, base[k])
            if w >= 0:
                value = number_value[w]
                is_number = True
        if is_number:
            # "26 February", "26th of February"
            nxt = last + 1
            if last == k and 1 <= value <= 31 and value == np.floor(value) and nxt < n:
                if sent[nxt] == sent[k] and base[nxt] == of_hash and nxt + 1 < n:
                    if sent[nxt + 1] == sent[k] and _find(month_from, base[nxt + 1]) >= 0:
                        nxt += 1
                mm = _find(month_from, base[nxt]) if sent[nxt] == sent[k] else -1
                if mm >= 0 and _blank_gap(codes, flags, end[nxt - 1], start[nxt], False):
                    out[k] = _number_key_hash(-(month_value[mm] * 100 + np.int64(value)))
                    out_end[k] = end[nxt]
                    for j in range(k + 1, nxt + 1):
                        absorbed[j] = True
                    k = nxt + 1
                    continue
            # "3.5 million"
            if last + 1 < n and sent[last + 1] == sent[k]:
                s = _find(scale_from, base[last + 1])
                if s >= 0 and _blank_gap(codes, flags, end[last], start[last + 1], False):
                    value *= scale_value[s]
                    last += 1
            out[k] = _number_hash(value)
            out_end[k] = end[last]
            for j in range(k + 1, last + 1):
                absorbed[j] = True
            k = last + 1
            continue
        k += 1
    return out, out_end, absorbed


@njit(cache=True)
def _lower_bound(keys, value):
    return np.searchsorted(keys, value)


def _drop_absorbed(
    batch: TokenizedBatch, hashes: np.ndarray, ends: np.ndarray, absorbed: np.ndarray
) -> TokenizedBatch:
    keep = ~absorbed
    new_index = np.zeros(keep.shape[0] + 1, dtype=np.int64)
    new_index[1:] = np.cumsum(keep)
    return TokenizedBatch(
        tok_start=batch.tok_start[keep],
        tok_end=ends[keep].astype(batch.tok_end.dtype),
        tok_hash=hashes[keep],
        tok_unspaced=batch.tok_unspaced[keep],
        tok_sent=batch.tok_sent[keep],
        doc_tok_start=new_index[batch.doc_tok_start],
        sent_start=batch.sent_start,
        sent_end=batch.sent_end,
        sent_first_tok=new_index[batch.sent_first_tok],
        doc_sent_start=batch.doc_sent_start,
    )
