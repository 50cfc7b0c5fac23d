"""Fingerprints of tokenised text: word n-gram hashes and per-sentence features.

* **Shingles** (hashed token n-grams) feed the inverted index that proposes
  candidate pairs (``candidates.py``).
* **Sentence features** are what alignment compares: the distinct content words
  of each sentence (function words left out), and for unspaced scripts the
  character bigrams, since single Han characters say little on their own.

All of it is NumPy over whole batches; nothing loops per token in Python.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from numba import njit, prange

from .text import TokenizedBatch, token_hashes

_PRIME = np.uint64(0x100000001B3)

# Function words of the languages we meet most. They carry no evidence that two
# sentences share a source, only that they share a language.
STOPWORDS = {
    "en": "a an the and or but if of to in on at by for from with without as is are was were be been "
    "being am has have had having do does did will would shall should can could may might must "
    "that this these those it its it's he she they them his her their our we you your i me my "
    "not no nor so than then there here which who whom whose what when where why how all any "
    "each both few more most other some such only own same too very s t just also into over "
    "under about after before between through during up down out off again further once "
    "said says say told according while although because since until against among per "
    "mr mrs ms",
    "fr": "le la les un une des du de et ou mais dans sur pour par avec sans est sont était "
    "été être a ont avait ce cette ces il elle ils elles qui que quoi dont où au aux en ne pas "
    "plus se sa son ses leur leurs selon a déclaré",
    "es": "el la los las un una unos unas de del y o pero en por para con sin es son fue "
    "ser ha han había este esta estos estas que quien se su sus al lo como más no dijo según",
    "de": "der die das den dem des ein eine einer eines und oder aber in im auf für von mit "
    "ohne ist sind war waren sein hat haben hatte dieser diese dieses dass wer sich sein "
    "ihr ihre zu zum zur nicht auch nach sagte laut",
    "ru": "и в во не что он она оно они на я с со как а то все так его ее её их но да ты к у "
    "же вы за бы по только от из о об для при это этот эта эти был была было были быть "
    "до уже или ни если также который которая которые сообщил заявил сказал по словам",
    "ar": "في من على إلى الى عن مع أن ان إن هذا هذه ذلك التي الذي الذين كان كانت قد لا ما "
    "أو او ثم كما بعد قبل عند بين حتى وقال قال وفق وفقا",
}


@lru_cache(maxsize=1)
def stopword_hashes() -> np.ndarray:
    words = sorted({w for text in STOPWORDS.values() for w in text.split()})
    return np.unique(token_hashes(words))


@dataclass(frozen=True)
class Shingles:
    """Hashed token n-grams: ``hashes[i]`` occurs in text ``docs[i]``."""

    hashes: np.ndarray
    docs: np.ndarray


def shingles(batch: TokenizedBatch, n: int) -> Shingles:
    """Every run of ``n`` consecutive tokens inside one text, hashed to 64 bits."""
    per_doc = np.maximum(np.diff(batch.doc_tok_start) - n + 1, 0)
    out_start = np.zeros(per_doc.shape[0] + 1, dtype=np.int64)
    np.cumsum(per_doc, out=out_start[1:])
    hashes, docs = _shingle_hashes(batch.tok_hash, batch.doc_tok_start, out_start, n)
    return Shingles(hashes, docs)


@njit(parallel=True, cache=True)
def _shingle_hashes(tok_hash, doc_tok_start, out_start, n):
    hashes = np.empty(out_start[-1], dtype=np.uint64)
    docs = np.empty(out_start[-1], dtype=np.int64)
    prime = np.uint64(_PRIME)
    for d in prange(out_start.shape[0] - 1):
        first = doc_tok_start[d]
        for i in range(out_start[d + 1] - out_start[d]):
            combined = tok_hash[first + i]
            for offset in range(1, n):
                combined = combined * prime ^ tok_hash[first + i + offset]
            hashes[out_start[d] + i] = combined
            docs[out_start[d] + i] = d
    return hashes, docs


@dataclass(frozen=True)
class SentenceFeatures:
    """The distinct features of each sentence, sorted, as one flat array.

    ``hashes[sent_feat_start[s]:sent_feat_start[s+1]]`` are the features of
    sentence ``s`` (numbered as in the batch). Alignment intersects these.
    """

    hashes: np.ndarray
    sent_feat_start: np.ndarray


def sentence_features(
    batch: TokenizedBatch, excluded: np.ndarray | None = None
) -> SentenceFeatures:
    """Content words per sentence; character bigrams for unspaced scripts.

    Sentences marked in ``excluded`` (boilerplate) get no features.
    """
    n_sent = batch.sent_start.shape[0]
    if batch.tok_hash.size == 0:
        return SentenceFeatures(np.zeros(0, np.uint64), np.zeros(n_sent + 1, np.int64))
    if excluded is None:
        excluded = np.zeros(n_sent, dtype=bool)
    hashes, starts = _sentence_features(
        batch.tok_hash,
        batch.tok_unspaced,
        batch.tok_start,
        batch.tok_end,
        batch.sent_first_tok,
        np.asarray(excluded, dtype=np.bool_),
        stopword_hashes(),
    )
    return SentenceFeatures(hashes, starts)


@njit(parallel=True, cache=True)
def _sentence_features(tok_hash, unspaced, tok_start, tok_end, sent_first_tok, excluded, stops):
    """Per sentence, in parallel: its features (content words; for a run of unspaced
    characters, the bigram each starts, and a lone character itself), sorted, distinct."""
    n_sent = sent_first_tok.shape[0] - 1
    buffer = np.empty(tok_hash.shape[0], dtype=np.uint64)
    count = np.zeros(n_sent + 1, dtype=np.int64)
    last_stop = stops.shape[0] - 1
    for s in prange(n_sent):
        first, end = sent_first_tok[s], sent_first_tok[s + 1]
        if excluded[s]:
            continue
        k = first
        previous_follows = False
        for t in range(first, end):
            follows = (
                unspaced[t] and t + 1 < end and unspaced[t + 1] and tok_end[t] == tok_start[t + 1]
            )
            if follows:
                buffer[k] = tok_hash[t] * _PRIME ^ tok_hash[t + 1]
                k += 1
            elif unspaced[t]:
                if not previous_follows:  # a lone character; a run's last one is in a bigram
                    buffer[k] = tok_hash[t]
                    k += 1
            else:
                j = min(np.searchsorted(stops, tok_hash[t]), last_stop)
                if last_stop < 0 or stops[j] != tok_hash[t]:  # not a function word
                    buffer[k] = tok_hash[t]
                    k += 1
            previous_follows = follows
        if k - first > 1:
            buffer[first:k] = np.sort(buffer[first:k])
        m = first
        for i in range(first, k):
            if i == first or buffer[i] != buffer[i - 1]:
                buffer[m] = buffer[i]
                m += 1
        count[s + 1] = m - first
    starts = np.cumsum(count)
    out = np.empty(starts[-1], dtype=np.uint64)
    for s in prange(n_sent):
        first = sent_first_tok[s]
        out[starts[s] : starts[s + 1]] = buffer[first : first + starts[s + 1] - starts[s]]
    return out, starts


@njit(parallel=True, cache=True)
def _sentence_hashes(tok_hash, sent_first_tok):
    n = sent_first_tok.shape[0] - 1
    out = np.empty(n, dtype=np.uint64)
    for s in prange(n):
        h = np.uint64(0x84222325CBF29CE4)
        for k in range(sent_first_tok[s], sent_first_tok[s + 1]):
            h = (h ^ tok_hash[k]) * np.uint64(0x100000001B3)
        out[s] = h
    return out


def sentence_hashes(batch: TokenizedBatch) -> np.ndarray:
    """One hash per sentence of its normalised token sequence (equal hashes: same words)."""
    return _sentence_hashes(batch.tok_hash, batch.sent_first_tok)


# Credit and service lines: they name who contributed or where a story appeared, and
# recur across unrelated stories; they are evidence of attribution, not of reuse.
CREDIT_OPENERS = (
    "reporting by", "additional reporting by", "editing by", "writing by", "compiled by",
    "this report includes material from", "material from", "this story first appeared in",
    "this article first appeared in", "this story was originally published by",
    "this article was originally published by", "originally published by",
    "republished with permission from", "compiled from wire reports",
    "from staff and wire reports", "staff and wire reports", "source",
    "copyright", "all rights reserved", "sign up for", "click here", "follow us on",
    "читайте также", "подписывайтесь на", "источник", "责任编辑", "来源",
)  # fmt: skip
CREDIT_CLOSERS = (
    "contributed to this report", "contributed to this story", "contributed to this article",
    "contributed reporting", "was used in this report", "all rights reserved",
)  # fmt: skip
CREDIT_MAX_TOKENS = 16


@lru_cache(maxsize=1)
def _credit_phrase_hashes() -> tuple[np.ndarray, np.ndarray]:
    """Hashes of the opener and closer phrases, as ``_prefix_suffix_hashes`` computes them."""
    from .text import tokenize_batch

    def phrase_hashes(phrases: tuple[str, ...]) -> np.ndarray:
        batch = tokenize_batch(list(phrases))
        out = []
        for d in range(batch.n_docs):
            words = batch.tok_hash[batch.doc_tok_start[d] : batch.doc_tok_start[d + 1]]
            out.append(_fold_hashes(words))
        return np.unique(np.array(out, dtype=np.uint64))

    return phrase_hashes(CREDIT_OPENERS), phrase_hashes(CREDIT_CLOSERS)


@njit(cache=True)
def _fold_hashes(words):
    h = np.uint64(0x84222325CBF29CE4)
    for k in range(words.shape[0]):
        h = (h ^ words[k]) * np.uint64(0x100000001B3)
    return h


@njit(cache=True)
def _credit_kernel(tok_hash, sent_first_tok, openers, closers, max_tokens):
    n = sent_first_tok.shape[0] - 1
    out = np.zeros(n, dtype=np.bool_)
    for s in range(n):
        first, end = sent_first_tok[s], sent_first_tok[s + 1]
        if end - first > max_tokens or end == first:
            continue
        h = np.uint64(0x84222325CBF29CE4)
        for k in range(first, min(end, first + 7)):
            h = (h ^ tok_hash[k]) * np.uint64(0x100000001B3)
            j = min(np.searchsorted(openers, h), openers.shape[0] - 1)
            if openers[j] == h:
                out[s] = True
        for start in range(max(first, end - 6), end):
            h = np.uint64(0x84222325CBF29CE4)
            for k in range(start, end):
                h = (h ^ tok_hash[k]) * np.uint64(0x100000001B3)
            j = min(np.searchsorted(closers, h), closers.shape[0] - 1)
            if closers[j] == h:
                out[s] = True
    return out


def credit_lines(batch: TokenizedBatch) -> np.ndarray:
    """A boolean per sentence: a short credit or service line ("Reporting by …",
    "… contributed to this report", "This story first appeared in …")."""
    openers, closers = _credit_phrase_hashes()
    return _credit_kernel(batch.tok_hash, batch.sent_first_tok, openers, closers, CREDIT_MAX_TOKENS)


@dataclass(frozen=True)
class BoilerplateRules:
    """When a sentence that recurs is boilerplate rather than a reused story.

    ``outlet_docs`` and ``tail_sentences``: in at least ``outlet_docs`` articles of
    one outlet, mostly among their last ``tail_sentences`` sentences (newsletter
    prompts, copyright lines; a wire story's versions share their lead instead).
    ``any_docs``: in at least this many articles at all.
    ``short_docs`` and ``short_tokens``: a sentence of at most ``short_tokens``
    tokens in at least ``short_docs`` articles (credit lines such as "Source: Reuters").
    """

    outlet_docs: int = 3
    tail_sentences: int = 3
    any_docs: int = 100
    short_docs: int = 10
    short_tokens: int = 8


def boilerplate_sentences(
    batch: TokenizedBatch, outlets: list[str | None], rules: BoilerplateRules = BoilerplateRules()
) -> np.ndarray:
    """A boolean per sentence: True where the sentence is boilerplate by ``rules``."""
    keys = sentence_keys(batch)
    if keys.hashes.size == 0:
        return np.zeros(0, dtype=bool)
    return boilerplate_flags(keys, outlet_codes(outlets)[keys.doc], rules)


@dataclass(frozen=True)
class SentenceKeys:
    """What the boilerplate rules look at, one row per sentence (parallel arrays).

    ``hashes``: the sentence's words (``sentence_hashes``); ``doc``: its article number;
    ``from_end``: sentences after it in its article; ``lengths``: its tokens.
    """

    hashes: np.ndarray
    doc: np.ndarray
    from_end: np.ndarray
    lengths: np.ndarray
    credit: np.ndarray | None = None  # ``credit_lines``: flagged whatever their frequency


def sentence_keys(batch: TokenizedBatch, first_doc: int = 0) -> SentenceKeys:
    """The boilerplate keys of every sentence in ``batch``, articles numbered from ``first_doc``."""
    hashes = sentence_hashes(batch)
    sents_per_doc = np.diff(batch.doc_sent_start)
    doc = np.repeat(np.arange(batch.n_docs, dtype=np.int64), sents_per_doc)
    from_end = batch.doc_sent_start[doc + 1] - np.arange(hashes.shape[0]) - 1
    lengths = np.diff(batch.sent_first_tok)
    return SentenceKeys(hashes, doc + first_doc, from_end, lengths, credit_lines(batch))


def boilerplate_flags(
    keys: SentenceKeys, outlet_of_sentence: np.ndarray, rules: BoilerplateRules = BoilerplateRules()
) -> np.ndarray:
    """The boilerplate rules over sentence rows; ``outlet_of_sentence`` is each row's outlet code
    (``outlet_codes``; -1 for none).

    A row's flag depends only on the rows with the same sentence hash, so any subset of a
    corpus that holds every row of its hashes gets the flags the whole corpus would give it
    (what incremental runs and the Spark engine rely on).
    """
    return boilerplate_rules(keys, outlet_of_sentence, rules) > 0


# Why a sentence is boilerplate (``boilerplate_rules``), the first that applies in this order;
# code 0: it is not.
BOILERPLATE_RULES = ("", "outlet", "corpus", "short", "credit")
RULE_OUTLET, RULE_CORPUS, RULE_SHORT, RULE_CREDIT = 1, 2, 3, 4


def boilerplate_rules(
    keys: SentenceKeys, outlet_of_sentence: np.ndarray, rules: BoilerplateRules = BoilerplateRules()
) -> np.ndarray:
    """Per sentence row, the code of the rule that makes it boilerplate (``BOILERPLATE_RULES``:
    ``outlet``, recurring at the end of an outlet's articles; ``corpus``, in very many
    articles; ``short``, a short line in many articles; ``credit``, a credit or service line),
    0 where none does. Like the flags, a row's code depends only on the rows of its hash."""
    hashes, doc = keys.hashes, keys.doc
    if hashes.size == 0:
        return np.zeros(0, dtype=np.int8)
    doc_freq = _count_distinct(hashes, doc)
    known = outlet_of_sentence >= 0
    # the same sentence in several articles of one outlet, at their end
    group = hashes ^ (outlet_of_sentence.astype(np.uint64) * np.uint64(0x9E3779B97F4A7C15))
    per_outlet = _count_distinct(group, doc)
    tail = (keys.from_end < rules.tail_sentences).astype(np.int64)
    tail_share = _group_mean(group, tail)
    code = np.zeros(hashes.shape[0], dtype=np.int8)
    if keys.credit is not None:
        code[np.asarray(keys.credit, dtype=bool)] = RULE_CREDIT
    code[(doc_freq >= rules.short_docs) & (keys.lengths <= rules.short_tokens)] = RULE_SHORT
    code[doc_freq >= rules.any_docs] = RULE_CORPUS
    code[known & (per_outlet >= rules.outlet_docs) & (tail_share >= 0.8)] = RULE_OUTLET
    return code


def _count_distinct(keys: np.ndarray, doc: np.ndarray) -> np.ndarray:
    """For each element, in how many distinct documents its key occurs."""
    if doc.size > 1 and np.all(doc[1:] >= doc[:-1]):
        order = np.argsort(keys, kind="stable")  # docs already ascending: one sort, not two
    else:
        order = np.lexsort((doc, keys))
    k, d = keys[order], doc[order]
    new_key = np.ones(k.shape[0], dtype=bool)
    new_key[1:] = k[1:] != k[:-1]
    new_doc = new_key.copy()
    new_doc[1:] |= d[1:] != d[:-1]
    group = np.cumsum(new_key) - 1
    docs_per_group = np.bincount(group, weights=new_doc).astype(np.int64)
    counts = np.empty(keys.shape[0], dtype=np.int64)
    counts[order] = docs_per_group[group]
    return counts


def _group_mean(keys: np.ndarray, values: np.ndarray) -> np.ndarray:
    order = np.argsort(keys, kind="stable")
    k = keys[order]
    new_key = np.ones(k.shape[0], dtype=bool)
    new_key[1:] = k[1:] != k[:-1]
    group = np.cumsum(new_key) - 1
    sums = np.bincount(group, values[order].astype(np.float64))
    counts = np.bincount(group)
    means = np.empty(keys.shape[0], dtype=np.float64)
    means[order] = (sums / counts)[group]
    return means


def outlet_codes(values: list[str | None]) -> np.ndarray:
    """A number per outlet in order of first appearance (-1 for none)."""
    table: dict[str, int] = {}
    return np.array(
        [-1 if v is None else table.setdefault(v, len(table)) for v in values], dtype=np.int64
    )
