"""Reading and fingerprinting in bounded memory: a corpus is streamed in batches.

Each batch of records is accepted (ids checked against all earlier ones), tokenised
and fingerprinted with the local engine's functions, and what later stages need is
spilled to disk, partitioned by the top bits of each hash:

* shingle postings (``build_postings`` per batch) and, per article, its shingle count;
* the boilerplate keys of every sentence (``sentence_keys``) with the outlet's code;
* the texts, in an Arrow stream.

Then, one partition at a time (every article of a hash meets in one partition):
``boilerplate_flags`` for the sentences, ``sentence_band_hashes`` over the texts read
back with their flags, and ``build_postings`` + ``shared_counts`` for shingles and
bands, summed per pair over the partitions before ``select_candidates`` and
``union_pairs``. So the candidate pairs are exactly ``run_articles``' (a test checks it),
while memory holds one batch of texts, one partition of postings, and the pair counts:
it grows with the candidate pairs, not with the raw text of the corpus.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

import numpy as np
import pyarrow as pa

from .boilerplate import BoilerplateGroups, boilerplate_groups, concat_groups
from .candidates import (
    CandidatePairs,
    Postings,
    build_postings,
    select_candidates,
    sentence_band_hashes,
    shared_counts,
    union_pairs,
)
from .fingerprint import (
    SentenceKeys,
    Shingles,
    boilerplate_rules,
    sentence_features,
    sentence_keys,
    shingles,
)
from .index import tokenize_texts
from .model import Article, Rejection, RunParams

BATCH = 20_000
PARTITION_BITS = 5

_SHINGLE = np.dtype([("hash", "<u8"), ("doc", "<i4")])
_PAIR = np.dtype([("hash", "<u8"), ("key", "<i8"), ("count", "<i8")])  # hash: bucket of the pair
_SENTENCE = np.dtype(
    [("hash", "<u8"), ("doc", "<i4"), ("sentence", "<i4"), ("from_end", "<i4"),
     ("length", "<i4"), ("code", "<i4"), ("credit", "?")]
)  # fmt: skip


@dataclass
class CorpusPrint:
    """What streaming left: counts in memory, postings and texts spilled under ``folder``."""

    folder: Path
    n_docs: int = 0
    doc_shingles: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int32))
    rejections: list[Rejection] = field(default_factory=list)
    ids: list[str] = field(default_factory=list)
    flagged: tuple[np.ndarray, np.ndarray] | None = None  # boilerplate: (doc, sentence)
    boilerplate: BoilerplateGroups | None = None  # the boilerplate lines (``boilerplate.py``)
    outlet_names: list[str] = field(default_factory=list)  # by outlet code
    pair_bytes_peak: int = 0  # the largest block of pair counts in memory (memory figure)
    band_pairs: CandidatePairs | None = None  # pairs sharing a sentence band, with how many


# what ``fingerprint_corpus`` hands on of each partition's postings ("shingles" or "bands"),
# in ascending hash order over the partitions: for the persisted index (``index.py``)
PostingsSink = Callable[[str, Postings], None]


class _Accept:
    """``engines.local.accept_records`` one record at a time, remembering of each accepted
    article its origin and a digest of its text instead of the article."""

    def __init__(self, strict: bool) -> None:
        self.strict = strict
        self.seen: dict[str, tuple[str, bytes]] = {}

    def __call__(self, record: Article | Rejection) -> Article | Rejection:
        if isinstance(record, Article):
            digest = hashlib.blake2b(record.text.encode("utf-8"), digest_size=16).digest()
            first = self.seen.get(record.id)
            if first is not None:
                same = first[1] == digest
                record = Rejection(
                    record.origin,
                    f"duplicate id {record.id!r} (first at {first[0]}"
                    + (", same text)" if same else ", different text)"),
                    record.id,
                )
            else:
                self.seen[record.id] = (record.origin, digest)
        if isinstance(record, Rejection) and self.strict:
            raise ValueError(f"{record.origin}: {record.reason}")
        return record


def _batches(records: Iterable[Article | Rejection], accept: _Accept, size: int, sink: list):
    batch: list[Article] = []
    for record in records:
        record = accept(record)
        if isinstance(record, Rejection):
            sink.append(record)
            continue
        batch.append(record)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


class _Spill:
    """Append-only partition files of one kind of record."""

    def __init__(self, folder: Path, name: str, dtype: np.dtype, bits: int) -> None:
        self.folder = folder / name
        self.folder.mkdir(parents=True, exist_ok=True)
        self.dtype = dtype
        self.bits = bits
        # one handle per partition, open for the whole stream; ``close`` closes them
        self.handles = [
            open(self.folder / f"p{k:03d}.bin", "wb")  # noqa: SIM115
            for k in range(1 << bits)
        ]

    def write(self, rows: np.ndarray) -> None:
        """Rows sorted by hash go to their partitions (contiguous runs of the top bits)."""
        part = (rows["hash"] >> np.uint64(64 - self.bits)).astype(np.int64)
        bounds = np.searchsorted(part, np.arange((1 << self.bits) + 1))
        for k in range(1 << self.bits):
            if bounds[k + 1] > bounds[k]:
                self.handles[k].write(rows[bounds[k] : bounds[k + 1]].tobytes())

    def close(self) -> None:
        for handle in self.handles:
            handle.close()

    def partitions(self) -> Iterator[np.ndarray]:
        for k in range(1 << self.bits):
            yield np.fromfile(self.folder / f"p{k:03d}.bin", dtype=self.dtype)


def fingerprint_corpus(
    records: Iterable[Article | Rejection],
    params: RunParams,
    folder: Path,
    strict: bool = False,
    batch_size: int = BATCH,
    progress: Callable[[int], None] | None = None,
    on_batch: Callable[[list[Article]], None] | None = None,
    postings_sink: PostingsSink | None = None,
) -> tuple[CorpusPrint, CandidatePairs]:
    """Stream ``records`` through reading and fingerprinting; returns what was kept and the
    candidate pairs (articles numbered in input order, as ``api.run`` numbers them).

    ``on_batch`` sees each batch of accepted articles, in order, before it is dropped;
    ``postings_sink`` the postings of each partition, once all records are read."""
    folder.mkdir(parents=True, exist_ok=True)
    corpus = CorpusPrint(folder)
    accept = _Accept(strict)
    grams = _Spill(folder, "shingles", _SHINGLE, PARTITION_BITS)
    sentences = _Spill(folder, "sentences", _SENTENCE, PARTITION_BITS)
    codes: dict[str, int] = {}
    counts: list[np.ndarray] = []
    schema = pa.schema([("text", pa.large_string())])
    with (
        pa.OSFile(str(folder / "texts.arrows"), "wb") as sink,
        pa.ipc.new_stream(sink, schema) as texts_out,
    ):
        for batch in _batches(records, accept, batch_size, corpus.rejections):
            first = corpus.n_docs
            if on_batch is not None:
                on_batch(batch)
            texts = [a.text for a in batch]
            corpus.ids.extend(a.id for a in batch)
            outlets = np.array(
                [-1 if a.outlet is None else codes.setdefault(a.outlet, len(codes)) for a in batch],
                dtype=np.int32,
            )
            tokens, _ = tokenize_texts(texts, params)
            found = shingles(tokens, params.shingle_size)
            counts.append(np.bincount(found.docs, minlength=len(batch)).astype(np.int32))
            postings = build_postings(Shingles(found.hashes, found.docs + first))
            rows = np.empty(postings.hashes.shape[0], dtype=_SHINGLE)
            rows["hash"], rows["doc"] = postings.hashes, postings.docs
            grams.write(rows)
            del found, postings, rows
            sentences.write(_sentence_rows(sentence_keys(tokens), tokens, outlets, first))
            texts_out.write_table(pa.table({"text": pa.array(texts, pa.large_string())}))
            corpus.n_docs += len(batch)
            if progress:
                progress(len(batch))
            del tokens, texts, batch
    grams.close()
    sentences.close()
    corpus.doc_shingles = np.concatenate(counts) if counts else corpus.doc_shingles
    corpus.outlet_names = list(codes)
    corpus.flagged, corpus.boilerplate = _flags(sentences, params)
    pairs = _shingle_pairs(corpus, grams, params, postings_sink)
    if params.sentence_bands is not None:
        corpus.band_pairs = _band_pairs(corpus, params, postings_sink)
        pairs = union_pairs(pairs, corpus.band_pairs)
    return corpus, pairs


def spilled_sentences(corpus: CorpusPrint) -> Iterator[np.ndarray]:
    """The sentence rows ``fingerprint_corpus`` spilled (fields of ``_SENTENCE``: hash, doc,
    sentence, from_end, length, code, credit), one hash partition at a time."""
    for k in range(1 << PARTITION_BITS):
        yield np.fromfile(corpus.folder / "sentences" / f"p{k:03d}.bin", dtype=_SENTENCE)


def _sentence_rows(keys: SentenceKeys, tokens, outlets: np.ndarray, first: int) -> np.ndarray:
    rows = np.empty(keys.hashes.shape[0], dtype=_SENTENCE)
    rows["hash"], rows["doc"] = keys.hashes, keys.doc + first
    rows["sentence"] = np.arange(keys.hashes.shape[0]) - tokens.doc_sent_start[keys.doc]
    rows["from_end"], rows["length"] = keys.from_end, keys.lengths
    rows["code"] = outlets[keys.doc]
    rows["credit"] = False if keys.credit is None else keys.credit
    return rows[np.argsort(rows["hash"], kind="stable")]


def _flags(
    sentences: _Spill, params: RunParams
) -> tuple[tuple[np.ndarray, np.ndarray], BoilerplateGroups]:
    """The boilerplate sentences as (article, sentence number), by article, and the lines
    they make (each line's rows lie in one partition, as do its flags')."""
    docs, numbers, groups = [], [], []
    for rows in sentences.partitions():
        keys = SentenceKeys(
            rows["hash"], rows["doc"].astype(np.int64), rows["from_end"].astype(np.int64),
            rows["length"].astype(np.int64), rows["credit"],
        )  # fmt: skip
        outlet = rows["code"].astype(np.int64)
        rule = boilerplate_rules(keys, outlet, params.boilerplate)
        groups.append(boilerplate_groups(keys.hashes, keys.doc, rows["sentence"], outlet, rule))
        flags = rule > 0
        docs.append(rows["doc"][flags].astype(np.int64))
        numbers.append(rows["sentence"][flags].astype(np.int64))
    doc, number = np.concatenate(docs), np.concatenate(numbers)
    order = np.lexsort((number, doc))
    return (doc[order], number[order]), concat_groups(groups)


def _pairs_by_bucket(
    corpus: CorpusPrint,
    name: str,
    spill: _Spill,
    max_df: int,
    sink: Callable[[Postings], None] | None = None,
) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Each pair's shared count over all hash partitions, one bucket of pairs at a time
    (``sink``: sees each partition's postings, in hash order).

    A pair's partial counts from the hash partitions are spilled by bucket of the pair, so
    that only one bucket's counts are summed in memory at once."""
    pairs = _Spill(corpus.folder, name, _PAIR, PARTITION_BITS)
    for rows in spill.partitions():
        postings = build_postings(Shingles(rows["hash"], rows["doc"].astype(np.int64)))
        del rows
        if sink is not None:
            sink(postings)
        keys, counts = shared_counts(postings, max_df)
        del postings
        block = np.empty(keys.shape[0], dtype=_PAIR)
        block["hash"] = _mix(keys)  # spread pairs over the buckets
        block["key"], block["count"] = keys, counts
        corpus.pair_bytes_peak = max(corpus.pair_bytes_peak, block.nbytes)
        pairs.write(block[np.argsort(block["hash"], kind="stable")])
        del keys, counts, block
    pairs.close()
    for block in pairs.partitions():
        corpus.pair_bytes_peak = max(corpus.pair_bytes_peak, block.nbytes)
        keys, where = np.unique(block["key"], return_inverse=True)
        counts = np.bincount(where, block["count"].astype(np.float64), keys.shape[0])
        yield keys, counts.astype(np.int64)


def _mix(keys: np.ndarray) -> np.ndarray:
    return (keys.astype(np.uint64) * np.uint64(0x9E3779B97F4A7C15)) ^ np.uint64(0x5851F42D4C957F2D)


def _union(parts: list[CandidatePairs]) -> CandidatePairs:
    a = np.concatenate([p.a for p in parts]) if parts else np.zeros(0, np.int64)
    b = np.concatenate([p.b for p in parts]) if parts else np.zeros(0, np.int64)
    shared = np.concatenate([p.shared for p in parts]) if parts else np.zeros(0, np.int64)
    order = np.lexsort((b, a))
    return CandidatePairs(a[order], b[order], shared[order])


def _shingle_pairs(
    corpus: CorpusPrint, grams: _Spill, params: RunParams, sink: PostingsSink | None
) -> CandidatePairs:
    per_doc = corpus.doc_shingles.astype(np.int64)
    to_sink = partial(sink, "shingles") if sink is not None else None
    found = _pairs_by_bucket(corpus, "shingle_pairs", grams, params.max_df, to_sink)
    return _union(
        [
            select_candidates(
                keys, counts, per_doc, params.min_shared_shingles, params.min_shared_share
            )
            for keys, counts in found
        ]
    )


def _band_pairs(
    corpus: CorpusPrint, params: RunParams, sink: PostingsSink | None
) -> CandidatePairs:
    """Pairs sharing a sentence band: texts read back in batches, flagged, banded."""
    bands = _Spill(corpus.folder, "bands", _SHINGLE, PARTITION_BITS)
    flag_doc, flag_number = corpus.flagged
    first = 0
    with pa.memory_map(str(corpus.folder / "texts.arrows"), "r") as source:
        for record_batch in pa.ipc.open_stream(source):
            texts = record_batch.column(0).to_pylist()
            tokens, _ = tokenize_texts(texts, params)
            flags = np.zeros(tokens.sent_start.shape[0], dtype=bool)
            lo, hi = np.searchsorted(flag_doc, [first, first + len(texts)])
            flags[tokens.doc_sent_start[flag_doc[lo:hi] - first] + flag_number[lo:hi]] = True
            features = sentence_features(tokens, flags)
            found = sentence_band_hashes(
                features.sent_feat_start, features.hashes, tokens.doc_sent_start,
                params.sentence_bands,
            )  # fmt: skip
            postings = build_postings(Shingles(found.hashes, found.docs + first))
            rows = np.empty(postings.hashes.shape[0], dtype=_SHINGLE)
            rows["hash"], rows["doc"] = postings.hashes, postings.docs
            bands.write(rows)
            first += len(texts)
    bands.close()
    to_sink = partial(sink, "bands") if sink is not None else None
    found = _pairs_by_bucket(corpus, "band_pairs", bands, params.sentence_bands.max_df, to_sink)
    return _union([select_candidates(k, c, np.zeros(0), min_shared=1) for k, c in found])
