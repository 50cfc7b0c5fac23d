"""Sentence similarity: how closely two short texts say the same thing, and whether one reuses
the other.

Each pair of texts gets a handful of lexical measures, all computed for a whole batch of pairs
at once (NumPy set operations over token and character n-gram hashes, rapidfuzz's compiled
edit-distance scorers), and a logistic regression turns them into a probability that one text
restates the other. That probability is the pair's ``similarity``; ``reused`` is the
probability reaching the model's threshold. A text whose words (at least ``MIN_TOKENS``) lie
nearly all, in order, inside the other is a trimmed copy: no paraphrase, but reuse, so its
similarity is raised to the threshold. Texts with the same normalised words score 1.

The measures are those that separate paraphrase from mere topical overlap in the paraphrase
literature: content-word overlap (Mihalcea et al., 2006), word n-gram precision as in machine
translation metrics (Madnani et al., 2012), character n-grams, which survive spelling
variants and inflection, edit-based ratios, the longest common subsequence of tokens, and
agreement of the numbers and names that a rewrite must keep (Wan et al., 2006). Every measure
is symmetric, so ``score(a, b) == score(b, a)``.

The fitted coefficients ship in ``data/similarity_model.json``; ``benchmarks/msrp.py --fit``
refits them on the tuning part of the MSR paraphrase corpus.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path

import numpy as np
from rapidfuzz import fuzz, process
from rapidfuzz.distance import LCSseq

from .fingerprint import stopword_hashes
from .text import (
    CHAR,
    DROP,
    FLAG_LOWER,
    WORD,
    TokenizedBatch,
    body_start,
    codepoints,
    tables,
    tokenize_batch,
)
from .variants import VariantRules, apply_variants, is_number_hash, load_variants

_PRIME = np.uint64(0x100000001B3)
_GRAM_SEED = np.uint64(0x9E3779B97F4A7C15)

FEATURE_NAMES: tuple[str, ...] = (
    "content_dice",  # distinct content words shared, Dice
    "content_overlap",  # ... over the smaller side
    "content_cover",  # ... over the larger side
    "token_dice",  # all distinct words, function words included
    "bigram_dice",  # word 2-grams
    "trigram_dice",  # word 3-grams
    "char3_dice",  # character 3-grams of the normalised text
    "char5_dice",  # character 5-grams
    "ratio",  # rapidfuzz ratio of the normalised texts (0..1)
    "token_sort_ratio",
    "token_set_ratio",
    "partial_ratio",
    "lcs_long",  # longest common token subsequence over the longer text's tokens
    "lcs_short",  # ... over the shorter text's tokens
    "numbers_jaccard",  # numbers in common (1 when neither has any)
    "numbers_one_sided",  # 1 when only one side has numbers
    "names_dice",  # capitalised words not at a sentence start (1 when neither has any)
    "length_ratio",  # tokens of the shorter over the longer
    "unmatched_content",  # log(1 + content words found on one side only)
    "unmatched_share",  # the larger share of a side's content words missing from the other
)

DEFAULT_MODEL = "similarity_model.json"


# --- the model -----------------------------------------------------------------------------


@dataclass(frozen=True)
class SimilarityModel:
    """A logistic regression over standardised features.

    ``variants`` names the variant rules the features were computed with (``None``: none);
    ``threshold`` is the probability from which a pair counts as reuse.
    """

    features: tuple[str, ...]
    mean: tuple[float, ...]
    scale: tuple[float, ...]
    coef: tuple[float, ...]
    intercept: float
    threshold: float = 0.5
    variants: VariantRules | str | None = None
    trained_on: str = ""
    unsure: tuple[float, float] | None = None  # lexical probabilities worth a second look

    def probability(self, features: np.ndarray) -> np.ndarray:
        """P(reuse) for each row of ``features`` (columns as ``self.features``)."""
        if features.shape[1] != len(self.features):
            raise ValueError(
                f"the model expects {len(self.features)} features, got {features.shape[1]}"
            )
        z = (features - np.asarray(self.mean)) / np.asarray(self.scale)
        return 1.0 / (1.0 + np.exp(-(z @ np.asarray(self.coef) + self.intercept)))

    def to_json(self) -> str:
        return json.dumps(dataclasses.asdict(self), indent=1)

    @classmethod
    def from_json(cls, text: str, origin: str = "<model>") -> SimilarityModel:
        try:
            raw = json.loads(text)
            vectors = {k: tuple(raw[k]) for k in _VECTORS}
            unsure = tuple(raw["unsure"]) if raw.get("unsure") else None
            model = cls(**{**raw, **vectors, "unsure": unsure})
        except (ValueError, TypeError, KeyError) as error:
            raise ValueError(f"{origin}: not a similarity model ({error})") from error
        lengths = {len(getattr(model, k)) for k in _VECTORS}
        if len(lengths) != 1:
            raise ValueError(f"{origin}: features, mean, scale and coef differ in length")
        return model

    @classmethod
    def load(cls, path: str | Path) -> SimilarityModel:
        path = Path(path)
        return cls.from_json(path.read_text(encoding="utf-8"), str(path))


_VECTORS = ("features", "mean", "scale", "coef")


def fit_logistic(
    features: np.ndarray,
    labels: np.ndarray,
    names: tuple[str, ...],
    l2: float = 1.0,
    threshold: float = 0.5,
    variants: str | None = None,
    trained_on: str = "",
    unsure: tuple[float, float] | None = None,
) -> SimilarityModel:
    """Fit a logistic regression with an L2 penalty of ``l2`` (on standardised features)."""
    from scipy.optimize import minimize

    mean = features.mean(axis=0)
    scale = features.std(axis=0)
    scale[scale == 0] = 1.0
    z = (features - mean) / scale
    y = labels.astype(np.float64)

    def loss(w: np.ndarray) -> tuple[float, np.ndarray]:
        margin = z @ w[:-1] + w[-1]
        p = 1.0 / (1.0 + np.exp(-margin))
        value = np.sum(np.logaddexp(0.0, margin) - y * margin) + 0.5 * l2 * w[:-1] @ w[:-1]
        grad = np.append(z.T @ (p - y) + l2 * w[:-1], np.sum(p - y))
        return float(value), grad

    result = minimize(loss, np.zeros(z.shape[1] + 1), jac=True, method="L-BFGS-B")
    return SimilarityModel(
        features=tuple(names),
        mean=tuple(float(v) for v in mean),
        scale=tuple(float(v) for v in scale),
        coef=tuple(float(v) for v in result.x[:-1]),
        intercept=float(result.x[-1]),
        threshold=threshold,
        variants=variants,
        trained_on=trained_on,
        unsure=unsure,
    )


@lru_cache(maxsize=4)
def bundled_model(name: str = DEFAULT_MODEL) -> SimilarityModel:
    """A model shipped in ``wiretrace/data``."""
    path = resources.files("wiretrace") / "data" / name
    return SimilarityModel.from_json(path.read_text(encoding="utf-8"), f"wiretrace/data/{name}")


@dataclass(frozen=True)
class SentenceScores:
    """Per pair: ``similarity`` (probability of reuse, 1 for the same words), ``reused``,
    and ``semantic`` (whether the embedding model was consulted)."""

    similarity: np.ndarray
    reused: np.ndarray
    semantic: np.ndarray


def score_pairs(
    a_texts: list[str],
    b_texts: list[str],
    model: SimilarityModel | None = None,
    semantic: bool = False,
) -> SentenceScores:
    """Score every pair ``(a_texts[i], b_texts[i])`` of sentences or short texts.

    With ``semantic``, pairs the lexical model is unsure of are scored again with a sentence
    embedding model (``wiretrace.semantic``); without its package, the lexical score stands
    and a warning says why.
    """
    model = model or bundled_model()
    variants = load_variants(model.variants) if model.variants else None
    if len(a_texts) != len(b_texts):
        raise ValueError(f"{len(a_texts)} texts on side a but {len(b_texts)} on side b")
    features = pair_features(a_texts, b_texts, variants)
    probability = model.probability(features)
    same, contained = _token_relations(a_texts, b_texts, variants)
    consulted = np.zeros(probability.shape[0], dtype=bool)
    threshold = np.full(probability.shape[0], model.threshold)
    if semantic and probability.size:
        from .semantic import rescore_unsure

        probability, consulted, threshold = rescore_unsure(
            a_texts, b_texts, features, probability, model.threshold
        )
    # A trimmed copy says less than its source, so it is no paraphrase, but it is reuse.
    probability = np.where(contained, np.maximum(probability, threshold), probability)
    similarity = np.where(same, 1.0, probability)
    return SentenceScores(similarity, similarity >= threshold, consulted)


def sentence_similarity(a: str, b: str, semantic: bool = False) -> tuple[float, bool]:
    """(similarity, reused) for two sentences; see ``score_pairs``."""
    scores = score_pairs([a], [b], semantic=semantic)
    return float(scores.similarity[0]), bool(scores.reused[0])


CONTAINED_SHARE = 0.9  # of the shorter text's tokens, in order, inside the longer one


def _token_relations(
    a_texts: list[str], b_texts: list[str], variants: VariantRules | None
) -> tuple[np.ndarray, np.ndarray]:
    """Per pair: the same tokens in the same order; and the shorter text's tokens (at least
    ``MIN_TOKENS``) found, nearly all and in order, in the longer one."""
    n = len(a_texts)
    if n == 0:
        return np.zeros(0, dtype=bool), np.zeros(0, dtype=bool)
    texts = list(a_texts) + list(b_texts)
    batch = tokenize_batch(texts)
    if variants is not None:
        batch = apply_variants(batch, texts, variants)
    strings = _token_strings(batch)
    same = np.array([len(strings[i]) > 0 and strings[i] == strings[n + i] for i in range(n)])
    common = process.cpdist(strings[:n], strings[n:], scorer=LCSseq.similarity)
    lengths = np.diff(batch.doc_tok_start)
    shorter = np.minimum(lengths[:n], lengths[n:])
    contained = (shorter >= MIN_TOKENS) & (common >= CONTAINED_SHARE * shorter)
    return same.astype(bool), contained


# --- features ------------------------------------------------------------------------------


def pair_features(
    a_texts: list[str], b_texts: list[str], variants: VariantRules | None = None
) -> np.ndarray:
    """The lexical measures of every pair ``(a_texts[i], b_texts[i])``: shape (pairs, features).

    ``variants``, if given, canonicalises aliases, spelling variants and number formats before
    anything is compared. Columns follow ``FEATURE_NAMES``.
    """
    if len(a_texts) != len(b_texts):
        raise ValueError(f"{len(a_texts)} texts on side a but {len(b_texts)} on side b")
    n = len(a_texts)
    if n == 0:
        return np.zeros((0, len(FEATURE_NAMES)), dtype=np.float64)
    texts = list(a_texts) + list(b_texts)
    batch = tokenize_batch(texts)
    if variants is not None:
        batch = apply_variants(batch, texts, variants)
    stream = _CharStream.of(texts)
    tokens = _TokenView.of(batch, texts)
    side_b = tokens.doc >= n
    owner = np.where(side_b, tokens.doc - n, tokens.doc)

    def overlap(keys: np.ndarray, owners: np.ndarray, b_side: np.ndarray):
        return _overlap(keys[~b_side], owners[~b_side], keys[b_side], owners[b_side], n)

    content = ~tokens.stopword
    c_a, c_b, c_inter = overlap(tokens.hash[content], owner[content], side_b[content])
    t_a, t_b, t_inter = overlap(tokens.hash, owner, side_b)
    bigram = _token_grams(tokens, 2)
    trigram = _token_grams(tokens, 3)
    bi = overlap(bigram.keys, _owner(bigram.doc, n), bigram.doc >= n)
    tri = overlap(trigram.keys, _owner(trigram.doc, n), trigram.doc >= n)
    char3 = stream.grams(3)
    char5 = stream.grams(5)
    c3 = overlap(char3.keys, _owner(char3.doc, n), char3.doc >= n)
    c5 = overlap(char5.keys, _owner(char5.doc, n), char5.doc >= n)
    numbers = tokens.number
    num_a, num_b, num_inter = overlap(tokens.hash[numbers], owner[numbers], side_b[numbers])
    names = tokens.name
    name = overlap(tokens.hash[names], owner[names], side_b[names])

    strings = stream.strings()
    ratios = [
        process.cpdist(strings[:n], strings[n:], scorer=scorer) / 100.0
        for scorer in (fuzz.ratio, fuzz.token_sort_ratio, fuzz.token_set_ratio, fuzz.partial_ratio)
    ]
    token_strings = _token_strings(batch)
    lcs = process.cpdist(token_strings[:n], token_strings[n:], scorer=LCSseq.similarity).astype(
        np.float64
    )
    n_tok = np.diff(batch.doc_tok_start).astype(np.float64)
    long_side = np.maximum(n_tok[:n], n_tok[n:])
    short_side = np.minimum(n_tok[:n], n_tok[n:])

    unmatched_a = c_a - c_inter
    unmatched_b = c_b - c_inter
    columns = [
        _dice(c_a, c_b, c_inter),
        _ratio(c_inter, np.minimum(c_a, c_b)),
        _ratio(c_inter, np.maximum(c_a, c_b)),
        _dice(t_a, t_b, t_inter),
        _dice(*bi),
        _dice(*tri),
        _dice(*c3),
        _dice(*c5),
        *ratios,
        _ratio(lcs, long_side),
        _ratio(lcs, short_side),
        _jaccard(num_a, num_b, num_inter),
        ((num_a == 0) != (num_b == 0)).astype(np.float64),
        _dice(*name, empty=1.0),
        _ratio(short_side, long_side),
        np.log1p(unmatched_a + unmatched_b),
        np.maximum(_ratio(unmatched_a, c_a), _ratio(unmatched_b, c_b)),
    ]
    return np.column_stack(columns).astype(np.float64)


def _owner(doc: np.ndarray, n: int) -> np.ndarray:
    return np.where(doc >= n, doc - n, doc)


def _dice(size_a, size_b, inter, empty: float = 0.0) -> np.ndarray:
    total = (size_a + size_b).astype(np.float64)
    out = np.full(total.shape, empty, dtype=np.float64)
    np.divide(2.0 * inter, total, out=out, where=total > 0)
    return out


def _jaccard(size_a, size_b, inter) -> np.ndarray:
    union = (size_a + size_b - inter).astype(np.float64)
    out = np.ones(union.shape, dtype=np.float64)
    np.divide(inter, union, out=out, where=union > 0)
    return out


def _ratio(part, whole) -> np.ndarray:
    whole = np.asarray(whole, dtype=np.float64)
    out = np.zeros(whole.shape, dtype=np.float64)
    np.divide(part, whole, out=out, where=whole > 0)
    return out


def _distinct(keys: np.ndarray, owner: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    order = np.lexsort((keys, owner))
    k, o = keys[order], owner[order]
    first = np.ones(k.shape[0], dtype=bool)
    first[1:] = (k[1:] != k[:-1]) | (o[1:] != o[:-1])
    return k[first], o[first]


def _overlap(keys_a, owner_a, keys_b, owner_b, n: int):
    """Distinct keys per pair on each side, and how many of them both sides have."""
    keys_a, owner_a = _distinct(keys_a, owner_a)
    keys_b, owner_b = _distinct(keys_b, owner_b)
    size_a = np.bincount(owner_a, minlength=n)
    size_b = np.bincount(owner_b, minlength=n)
    keys = np.concatenate([keys_a, keys_b])
    owner = np.concatenate([owner_a, owner_b])
    order = np.lexsort((keys, owner))
    keys, owner = keys[order], owner[order]
    both = (keys[1:] == keys[:-1]) & (owner[1:] == owner[:-1])
    inter = np.bincount(owner[1:][both], minlength=n)
    return size_a, size_b, inter


@dataclass(frozen=True)
class _Grams:
    keys: np.ndarray
    doc: np.ndarray


@dataclass(frozen=True)
class _CharStream:
    """The texts folded (case, width, diacritics), punctuation and spacing reduced to one space.

    ``codes`` holds every text in turn, each followed by a NUL; ``doc`` says whose each code is.
    """

    codes: np.ndarray
    doc: np.ndarray

    @classmethod
    def of(cls, texts: list[str]) -> _CharStream:
        char_class, fold, _ = tables()
        codes = codepoints("\x00".join(texts) + "\x00")
        separator = codes == 0
        doc = np.zeros(codes.shape[0], dtype=np.int64)
        doc[1:] = np.cumsum(separator[:-1])
        kind = char_class[codes]
        word = (kind == WORD) | (kind == CHAR)
        folded = np.where(word, fold[codes], np.uint32(32))
        folded[separator] = 0
        keep = kind != DROP
        folded, doc, separator = folded[keep], doc[keep], separator[keep]
        space = folded == 32
        previous_blank = np.ones(folded.shape[0], dtype=bool)
        previous_blank[1:] = space[:-1] | separator[:-1]
        keep = ~(space & previous_blank)
        # a space just before the end of a text is dropped too
        next_end = np.zeros(folded.shape[0], dtype=bool)
        next_end[:-1] = separator[1:]
        keep &= ~(space & next_end)
        return cls(folded[keep], doc[keep])

    def grams(self, n: int) -> _Grams:
        codes = self.codes.astype(np.uint64)
        count = codes.shape[0] - n + 1
        if count <= 0:
            return _Grams(np.zeros(0, np.uint64), np.zeros(0, np.int64))
        keys = codes[:count] ^ _GRAM_SEED
        for offset in range(1, n):
            keys = keys * _PRIME ^ codes[offset : offset + count]
        valid = self.doc[:count] == self.doc[n - 1 : n - 1 + count]
        # a gram never spans the NUL that ends a text
        has_end = np.zeros(count, dtype=bool)
        for offset in range(n):
            has_end |= self.codes[offset : offset + count] == 0
        valid &= ~has_end
        return _Grams(keys[valid], self.doc[:count][valid])

    def strings(self) -> list[str]:
        joined = self.codes.astype("<u4").tobytes().decode("utf-32-le")
        return joined.split("\x00")[:-1]


@dataclass(frozen=True)
class _TokenView:
    """Per token: its hash, its text, and whether it is a function word, a number or a name."""

    hash: np.ndarray
    doc: np.ndarray
    stopword: np.ndarray
    number: np.ndarray
    name: np.ndarray

    @classmethod
    def of(cls, batch: TokenizedBatch, texts: list[str]) -> _TokenView:
        _, fold, flags = tables()
        doc = np.repeat(np.arange(batch.n_docs, dtype=np.int64), np.diff(batch.doc_tok_start))
        stops = stopword_hashes()
        index = np.minimum(np.searchsorted(stops, batch.tok_hash), stops.shape[0] - 1)
        stopword = stops[index] == batch.tok_hash
        text_start = np.zeros(len(texts) + 1, dtype=np.int64)
        text_start[1:] = np.cumsum([len(t) + 1 for t in texts])
        codes = codepoints("\x00".join(texts) + "\x00")
        first = codes[text_start[doc] + batch.tok_start]
        folded = fold[first]
        number = ((folded >= 48) & (folded <= 57)) | is_number_hash(batch.tok_hash)
        upper = (folded != first) & ((flags[first] & FLAG_LOWER) == 0) & ~number
        sentence_initial = np.zeros(doc.shape[0], dtype=bool)
        sentence_initial[batch.sent_first_tok[:-1]] = True
        name = upper & ~sentence_initial & ~stopword
        return cls(batch.tok_hash, doc, stopword, number, name)


def _token_grams(tokens: _TokenView, n: int) -> _Grams:
    hashes = tokens.hash
    count = hashes.shape[0] - n + 1
    if count <= 0:
        return _Grams(np.zeros(0, np.uint64), np.zeros(0, np.int64))
    keys = hashes[:count].copy()
    for offset in range(1, n):
        keys = keys * _PRIME ^ hashes[offset : offset + count]
    valid = tokens.doc[:count] == tokens.doc[n - 1 : n - 1 + count]
    return _Grams(keys[valid], tokens.doc[:count][valid])


def _token_strings(batch: TokenizedBatch) -> list[str]:
    """Each text as a string with one character per token, for rapidfuzz's sequence scorers."""
    _, ids = np.unique(batch.tok_hash, return_inverse=True)
    # supplementary planes: no surrogates, no NUL; ids beyond the range may share a character
    chars = (ids.astype(np.int64) % 0xEFFFF + 0x10000).astype(np.uint32)
    doc = np.repeat(np.arange(batch.n_docs, dtype=np.int64), np.diff(batch.doc_tok_start))
    position = np.arange(chars.shape[0]) + doc  # leave one slot per text for the NUL
    out = np.zeros(chars.shape[0] + batch.n_docs, dtype=np.uint32)
    out[position] = chars
    return out.astype("<u4").tobytes().decode("utf-32-le").split("\x00")[:-1]


# --- two short texts -----------------------------------------------------------------------

MAX_SENTENCES = 2  # texts of at most this many sentences are compared as sentences
MIN_TOKENS = 4  # ... and of at least this many words: "Yes." in both is no evidence of reuse


@dataclass(frozen=True)
class SentencePair:
    """Two short texts compared as sentences.

    ``a_span``/``b_span``: the compared part of each text (sentences, without a dateline);
    ``containment_a``: share of a's distinct words (function words aside) found in b.
    """

    a_span: tuple[int, int]
    b_span: tuple[int, int]
    similarity: float
    reused: bool
    same_words: bool
    containment_a: float
    containment_b: float
    semantic: bool


def short_text_span(text: str) -> tuple[int, int] | None:
    """The sentences of ``text`` as one span, if it is a short text (see ``MAX_SENTENCES``)."""
    batch = tokenize_batch([text], [body_start(text)])
    n_sent = batch.sent_start.shape[0]
    if not 1 <= n_sent <= MAX_SENTENCES or batch.tok_hash.shape[0] < MIN_TOKENS:
        return None
    return int(batch.sent_start[0]), int(batch.sent_end[-1])


def compare_sentences(
    text_a: str,
    text_b: str,
    model: SimilarityModel | None = None,
    variants: VariantRules | str | None = None,
    semantic: bool = False,
) -> SentencePair | None:
    """Score two short texts as sentences; ``None`` if either is not short.

    ``variants`` overrides the rules the model was fitted with.
    """
    a_span, b_span = short_text_span(text_a), short_text_span(text_b)
    if a_span is None or b_span is None:
        return None
    model = model or bundled_model()
    if variants is not None:
        model = dataclasses.replace(model, variants=variants)
    a, b = text_a[slice(*a_span)], text_b[slice(*b_span)]
    scores = score_pairs([a], [b], model, semantic)
    rules = load_variants(model.variants) if model.variants else None
    containment_a, containment_b = _containment(a, b, rules)
    return SentencePair(
        a_span,
        b_span,
        float(scores.similarity[0]),
        bool(scores.reused[0]),
        bool(scores.similarity[0] == 1.0),
        containment_a,
        containment_b,
        bool(scores.semantic[0]),
    )


def _containment(a: str, b: str, variants: VariantRules | None) -> tuple[float, float]:
    batch = tokenize_batch([a, b])
    if variants is not None:
        batch = apply_variants(batch, [a, b], variants)
    tokens = _TokenView.of(batch, [a, b])
    content = ~tokens.stopword
    side_b = tokens.doc[content] == 1
    size_a, size_b, inter = _overlap(
        tokens.hash[content][~side_b],
        np.zeros(int((~side_b).sum()), dtype=np.int64),
        tokens.hash[content][side_b],
        np.zeros(int(side_b.sum()), dtype=np.int64),
        1,
    )
    return float(_ratio(inter, size_a)[0]), float(_ratio(inter, size_b)[0])
