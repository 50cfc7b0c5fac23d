"""The persisted n-gram index: what queries and incremental runs keep from earlier runs.

A run leaves, beside the result tables of its store:

* **postings segments**, files in the folder ``<store>.ngrams/``: for every shingle in at
  most ``max_df`` articles, the articles that contain it, as two NumPy arrays sorted by
  shingle (``<name>.hashes.npy``, ``<name>.docs.npy``). They are memory-mapped, so a
  query reads the few hundred entries it looks up and nothing else. Segments are never
  changed: an incremental run adds one and merges small ones into a new file;
* **text segments**, ``<name>.texts.arrow`` in the same folder: the articles' texts of a
  range of positions as an Arrow file (uncompressed by default, see
  ``TEXT_COMPRESSION``), memory-mapped, so that a query or an add reads the texts of its
  candidates in microseconds (DuckDB decompresses a whole column chunk to return one
  compressed text). Tokens are not stored: the few stored articles a query or an add
  compares are tokenised again (about 70 µs an article), which costs less than writing
  the tokens of every article (3.5 times the size of the texts);
* **index tables in the store**: ``index_meta`` (format, article count, the segments in
  use), ``index_frequent`` (shingles in more than ``max_df`` articles: boilerplate,
  never evidence again, since counts only grow), ``index_docs`` (shingles per article,
  for the share rule of ``candidates.select_candidates``), ``index_sentences`` (the
  boilerplate keys and current flag of every sentence), ``index_pairs`` (every candidate
  pair with the shingles and sentence bands it shares), ``index_links`` (the
  full-precision evidence of every link, what lineage is rebuilt from) and
  ``index_band_removed``;
* **band segments**: the postings of the sentence-band channel
  (``candidates.sentence_band_hashes``), every entry kept, since a band's article count
  can fall again: band hashes depend on boilerplate flags, which an added article can
  change for stored ones. Entries that such a change removed are listed in
  ``index_band_removed`` until a merge drops them.

Store tables and segment list change in one DuckDB transaction (or one file rename for
a full run); segment files are written (and synced to disk) before and removed only once
no store names them, so a crash leaves a consistent store and at worst an unused file.
A full run writes its segment files on a thread while DuckDB writes the store.
Articles are numbered by ``position`` in the store.
"""

from __future__ import annotations

import dataclasses
import json
import os
import uuid
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb
import numpy as np
import orjson
import pyarrow as pa

from .candidates import CandidatePairs, Postings
from .fingerprint import SentenceKeys, sentence_keys
from .lineage import Orientation, PairEvidence
from .model import RunParams
from .text import TokenizedBatch, body_start, tokenize_corpus

if TYPE_CHECKING:
    from .engines.local import MeasuredPairs, RunResult

INDEX_FORMAT = 3
SEGMENT_SUFFIX = ".ngrams"
INDEX_TABLES = (
    "index_meta",
    "index_frequent",
    "index_docs",
    "index_sentences",
    "index_pairs",
    "index_links",
    "index_band_removed",
)


class IndexMissing(RuntimeError):
    """The store has no usable n-gram index (made by the Spark engine or an older version)."""


@dataclass(frozen=True)
class IndexParts:
    """Everything a run leaves for later queries and incremental runs, in memory.

    ``hashes``/``docs``: distinct (shingle, article) postings sorted by shingle, for the
    shingles in at most ``max_df`` articles; ``frequent``: the other shingles, sorted.
    ``doc_shingles``: shingles (with repeats) per article. ``sentences`` and
    ``boilerplate``: each sentence's boilerplate keys and flag, in article order.
    ``pair_shared``/``pair_bands``: the shingles and sentence bands each candidate pair of
    the run's evidence shares. ``band_hashes``/``band_docs``: every distinct (band hash,
    article) entry, sorted.
    """

    hashes: np.ndarray
    docs: np.ndarray
    frequent: np.ndarray
    doc_shingles: np.ndarray
    sentences: SentenceKeys
    boilerplate: np.ndarray
    pair_shared: np.ndarray
    pair_bands: np.ndarray
    band_hashes: np.ndarray
    band_docs: np.ndarray
    batch: TokenizedBatch | None = None
    measured: MeasuredPairs | None = None  # the evidence of every pair before settle_links


def index_parts(
    batch: TokenizedBatch,
    postings: Postings,
    doc_shingles: np.ndarray,
    pairs: CandidatePairs,
    boilerplate: np.ndarray,
    max_df: int,
    band_postings: Postings | None = None,
    band_counts: tuple[np.ndarray, np.ndarray] | None = None,
) -> IndexParts:
    """The index of a run, from what its stages computed anyway (``band_counts``: the
    pair keys and counts of ``shared_counts`` on the band postings)."""
    hashes, docs, frequent = split_frequent(postings, max_df)
    no_bands = np.zeros(0, dtype=np.uint64)
    return IndexParts(
        hashes=hashes,
        docs=docs,
        frequent=frequent,
        doc_shingles=doc_shingles.astype(np.int32),
        sentences=sentence_keys(batch),
        boilerplate=np.asarray(boilerplate, dtype=bool),
        pair_shared=np.asarray(pairs.shared, dtype=np.int64),
        pair_bands=pair_band_counts(pairs, band_counts),
        band_hashes=band_postings.hashes if band_postings is not None else no_bands,
        band_docs=(
            band_postings.docs.astype(np.int32)
            if band_postings is not None
            else np.zeros(0, dtype=np.int32)
        ),
        batch=batch,
    )


def split_frequent(postings: Postings, max_df: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The postings the index keeps (hashes, articles as int32: shingles in at most ``max_df``
    articles) and the other, frequent shingles (sorted, as ``postings`` is)."""
    sizes = np.diff(postings.group_start)
    frequent = postings.hashes[postings.group_start[:-1][sizes > max_df]]
    keep = np.repeat(sizes <= max_df, sizes)
    return postings.hashes[keep], postings.docs[keep].astype(np.int32), frequent


def pair_band_counts(
    pairs: CandidatePairs, band_counts: tuple[np.ndarray, np.ndarray] | None
) -> np.ndarray:
    """The sentence bands each pair shares, from the ascending pair keys ``a << 32 | b`` and
    counts of ``shared_counts`` on the band postings (0 for pairs not among them)."""
    pair_bands = np.zeros(len(pairs), dtype=np.int64)
    if band_counts is not None and band_counts[0].size:
        keys, counts = band_counts
        pair_keys = (pairs.a << 32) | pairs.b
        at = np.minimum(np.searchsorted(keys, pair_keys), keys.shape[0] - 1)
        pair_bands = np.where(keys[at] == pair_keys, counts[at], 0)
    return pair_bands.astype(np.int64)


# --- parameters ------------------------------------------------------------------------


def tokenize_texts(
    texts: list[str],
    params: RunParams,
    progress: Callable[[int], None] | None = None,
    starts: list[int] | None = None,
) -> tuple[TokenizedBatch, list[int]]:
    """Texts tokenised as every run does (variant rules applied), with their body starts
    (``starts``: already known ones)."""
    from .variants import apply_variants

    if starts is None:
        starts = [body_start(t) for t in texts]
    batch = tokenize_corpus(texts, starts, progress=progress)
    if params.variants is not None:
        batch = apply_variants(batch, texts, params.variants)
    return batch, starts


def params_from_json(text: str) -> RunParams:
    """The ``RunParams`` a store was made with (its ``run`` table holds them as JSON)."""
    return _from_json(RunParams, orjson.loads(text))


def _from_json(kind: object, value: object) -> object:
    """``value`` (parsed JSON) as an instance of the annotated type ``kind``: dataclasses,
    tuples, optional and union types (the shapes ``RunParams`` is made of)."""
    import types
    import typing

    from . import model, variants

    if value is None:
        return None
    if dataclasses.is_dataclass(kind) and isinstance(value, dict):
        namespace = {**vars(model), **vars(variants)}
        hints = typing.get_type_hints(kind, globalns=namespace)
        known = {f.name for f in dataclasses.fields(kind)}
        return kind(**{k: _from_json(hints[k], v) for k, v in value.items() if k in known})
    origin = typing.get_origin(kind)
    args = typing.get_args(kind)
    if origin in (typing.Union, types.UnionType):
        for option in args:
            if option is type(None):
                continue
            if dataclasses.is_dataclass(option) and isinstance(value, dict):
                return _from_json(option, value)
            if option in (str, int, float, bool) and isinstance(value, option):
                return value
        return value
    if origin is tuple and isinstance(value, list):
        if len(args) == 2 and args[1] is Ellipsis:
            return tuple(_from_json(args[0], v) for v in value)
        return tuple(_from_json(a, v) for a, v in zip(args, value))
    return value


def store_params(con: duckdb.DuckDBPyConnection) -> RunParams:
    row = con.execute("SELECT value FROM run WHERE key = 'params'").fetchone()
    if row is None:
        raise IndexMissing("the store records no run parameters")
    return params_from_json(row[0])


def take_docs(batch: TokenizedBatch, docs: np.ndarray) -> TokenizedBatch:
    """The articles ``docs`` of ``batch`` as a batch of their own, in that order (what
    tokenising their texts alone gives: an article's tokens do not depend on the others)."""
    docs = np.asarray(docs, dtype=np.int64)
    t_lo, s_lo = batch.doc_tok_start[docs], batch.doc_sent_start[docs]
    t_n = batch.doc_tok_start[docs + 1] - t_lo
    s_n = batch.doc_sent_start[docs + 1] - s_lo
    tok, sent = _ranges(t_lo, t_n), _ranges(s_lo, s_n)
    tok_start = np.concatenate([[0], np.cumsum(t_n)]).astype(np.int64)
    sent_start = np.concatenate([[0], np.cumsum(s_n)]).astype(np.int64)
    tok_doc = np.repeat(np.arange(docs.shape[0]), t_n)
    sent_doc = np.repeat(np.arange(docs.shape[0]), s_n)
    old_sent = batch.tok_sent[tok].astype(np.int64)
    tok_sent = np.where(old_sent >= 0, old_sent - s_lo[tok_doc] + sent_start[tok_doc], old_sent)
    first_tok = batch.sent_first_tok[sent] - t_lo[sent_doc] + tok_start[sent_doc]
    return TokenizedBatch(
        tok_start=batch.tok_start[tok],
        tok_end=batch.tok_end[tok],
        tok_hash=batch.tok_hash[tok],
        tok_unspaced=batch.tok_unspaced[tok],
        tok_sent=tok_sent.astype(batch.tok_sent.dtype),
        doc_tok_start=tok_start,
        sent_start=batch.sent_start[sent],
        sent_end=batch.sent_end[sent],
        sent_first_tok=np.concatenate([first_tok, tok_start[-1:]]).astype(np.int64),
        doc_sent_start=sent_start,
    )


def _ranges(starts: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """``starts[i] .. starts[i] + counts[i] - 1`` for every i, concatenated."""
    total = int(counts.sum())
    return np.repeat(starts - np.cumsum(counts) + counts, counts) + np.arange(total)


# --- segments ----------------------------------------------------------------------------


def segment_dir(db: str | Path) -> Path:
    db = Path(db)
    return db.with_name(db.name + SEGMENT_SUFFIX)


@dataclass(frozen=True)
class Segment:
    """One immutable postings file pair, memory-mapped."""

    name: str
    hashes: np.ndarray
    docs: np.ndarray

    def __len__(self) -> int:
        return int(self.hashes.shape[0])


def new_segment_name() -> str:
    return f"seg-{uuid.uuid4().hex[:16]}"


def write_segment(
    db: str | Path, hashes: np.ndarray, docs: np.ndarray, name: str | None = None
) -> str:
    """Write sorted postings as a new segment beside ``db`` (synced to disk, the folder
    not: see ``sync_segment_dir``); returns its name."""
    folder = segment_dir(db)
    folder.mkdir(parents=True, exist_ok=True)
    name = name or new_segment_name()
    _save(folder / f"{name}.hashes.npy", np.asarray(hashes, dtype=np.uint64))
    _save(folder / f"{name}.docs.npy", np.asarray(docs, dtype=np.int32))
    return name


def _save(path: Path, array: np.ndarray) -> None:
    # no temporary name: a file is only read once a store names it, and one that no store
    # names (a crash while writing it) is removed by ``remove_unused_segments``
    with open(path, "wb") as handle:
        np.save(handle, np.ascontiguousarray(array))
        handle.flush()
        os.fsync(handle.fileno())


class SegmentWriter:
    """A postings segment written a block at a time, blocks in shingle order, for a run that
    never holds all its postings (``engines/streamed.py``): the files ``write_segment``
    writes for the same postings, byte for byte. Call ``close`` to finish them."""

    # the .npy header of a one-dimensional array, padded as ``np.save`` pads it: 128 bytes
    # for any length below 10**40
    _HEADER_BYTES = 128
    _DTYPES = {"hashes": np.dtype("<u8"), "docs": np.dtype("<i4")}

    def __init__(self, db: str | Path, name: str | None = None) -> None:
        folder = segment_dir(db)
        folder.mkdir(parents=True, exist_ok=True)
        self.name = name or new_segment_name()
        self.size = 0
        self._files = {}
        for part in self._DTYPES:
            handle = open(folder / f"{self.name}.{part}.npy", "wb")  # noqa: SIM115
            handle.seek(self._HEADER_BYTES)  # the header goes in once the length is known
            self._files[part] = handle

    def append(self, hashes: np.ndarray, docs: np.ndarray) -> None:
        if hashes.shape[0] != docs.shape[0]:
            raise ValueError("hashes and docs of a postings block differ in length")
        for part, values in (("hashes", hashes), ("docs", docs)):
            array = np.ascontiguousarray(values, dtype=self._DTYPES[part])
            self._files[part].write(memoryview(array).cast("B"))
        self.size += int(hashes.shape[0])

    def close(self) -> tuple[str, int]:
        """Write the headers, sync the files to disk; returns the segment's name and length."""
        for part, handle in self._files.items():
            handle.seek(0)
            header = {
                "descr": np.lib.format.dtype_to_descr(self._DTYPES[part]),
                "fortran_order": False,
                "shape": (self.size,),
            }
            np.lib.format.write_array_header_1_0(handle, header)
            if handle.tell() != self._HEADER_BYTES:
                raise RuntimeError(f"unexpected .npy header length {handle.tell()}")
            handle.flush()
            os.fsync(handle.fileno())
            handle.close()
        return self.name, self.size

    def abandon(self) -> None:
        """Close the files unfinished (``remove_unused_segments`` deletes them later)."""
        for handle in self._files.values():
            handle.close()


def sync_segment_dir(db: str | Path) -> None:
    """Make the names of the segment files just written durable (one sync of the folder,
    due before a store naming them replaces the old one)."""
    handle = os.open(segment_dir(db), os.O_RDONLY)
    try:
        os.fsync(handle)
    finally:
        os.close(handle)


def open_segment(db: str | Path, name: str) -> Segment:
    folder = segment_dir(db)
    try:
        hashes = np.load(folder / f"{name}.hashes.npy", mmap_mode="r")
        docs = np.load(folder / f"{name}.docs.npy", mmap_mode="r")
    except FileNotFoundError as error:
        raise IndexMissing(f"postings segment {name} is missing from {folder}") from error
    return Segment(name, hashes, docs)


def remove_unused_segments(db: str | Path) -> None:
    """Delete segment files that the store at ``db`` does not name (left by a crash or a merge)."""
    folder = segment_dir(db)
    if not folder.is_dir():
        return
    used: set[str] = set()
    if Path(db).exists():
        try:
            with duckdb.connect(str(db), read_only=True) as con:
                # a store written without an index (``--no-index``) names no segment
                if _has_table(con, "index_meta"):
                    used = {name for name, _ in _segments_of(con)}
                    used |= {name for name, _ in _segments_of(con, "bands")}
                    used |= {name for name, _, _ in _text_segments_of(con)}
        except (duckdb.Error, IndexMissing):
            return  # unreadable now: leave everything in place
    for path in folder.iterdir():
        name = path.name.split(".")[0]
        if (
            path.name.startswith("seg-")
            and name not in used
            or path.name.startswith(".seg-")
            and path.name.endswith(".tmp")
        ):
            path.unlink(missing_ok=True)


def _has_table(con: duckdb.DuckDBPyConnection, name: str) -> bool:
    found = con.execute("SELECT count(*) FROM duckdb_tables() WHERE table_name = ?", [name])
    return found.fetchone()[0] > 0


# Texts are written uncompressed by default: zstd (in record batches of TEXT_BATCH_ROWS texts,
# what reading one text decompresses) halves the file but, at 100,000 articles, costs about
# a second more to write and makes reading the texts an add compares ~8x slower.
TEXT_COMPRESSION: str | None = None
TEXT_BATCH_ROWS = 64


def write_text_segment(
    db: str | Path, texts: list[str], name: str | None = None, compression: str | None = None
) -> str:
    """Write ``texts`` (consecutive positions) as a new text segment (synced to disk, the
    folder not: see ``sync_segment_dir``); returns its name. ``compression``: an Arrow IPC
    codec, ``TEXT_COMPRESSION`` by default."""
    column = pa.array(texts, pa.string())
    return write_text_chunks(db, [column], len(texts), len(texts), name, compression)


def write_text_chunks(
    db: str | Path,
    chunks: Iterable[pa.Array],
    rows: int,
    most_rows: int,
    name: str | None = None,
    compression: str | None = None,
) -> str:
    """``write_text_segment`` for ``rows`` texts that come in chunks (string arrays, for a run
    that never holds all texts): uncompressed, in record batches of ``most_rows`` texts
    (``write_text_segment``: all in one)."""
    folder = segment_dir(db)
    folder.mkdir(parents=True, exist_ok=True)
    name = name or new_segment_name()
    compression = compression or TEXT_COMPRESSION
    batch_rows = TEXT_BATCH_ROWS if compression else max(min(rows, most_rows), 1)
    schema = pa.schema(
        [pa.field("text", pa.string())],
        metadata={"rows": str(rows), "batch_rows": str(batch_rows)},
    )
    options = pa.ipc.IpcWriteOptions(compression=compression)
    path = folder / f"{name}.texts.arrow"
    written = 0
    with pa.OSFile(str(path), "wb") as sink, pa.ipc.new_file(sink, schema, options=options) as out:
        for column in _rechunk(chunks, batch_rows):
            out.write_batch(pa.record_batch([column.cast(pa.string())], schema=schema))
            written += len(column)
    if written != rows:
        path.unlink(missing_ok=True)
        raise ValueError(f"text segment of {rows} texts given {written}")
    with open(path, "rb+") as handle:
        os.fsync(handle.fileno())
    return name


def _rechunk(chunks: Iterable[pa.Array], size: int) -> Iterator[pa.Array]:
    """The values of ``chunks`` in arrays of ``size`` (the last may be shorter)."""
    held: list[pa.Array] = []
    count = 0
    for chunk in chunks:
        held.append(chunk)
        count += len(chunk)
        if count < size:
            continue
        merged = pa.concat_arrays(held) if len(held) > 1 else held[0]
        start = 0
        while count - start >= size:
            yield merged.slice(start, size)
            start += size
        held, count = ([merged.slice(start)], count - start) if count > start else ([], 0)
    if count:
        yield pa.concat_arrays(held) if len(held) > 1 else held[0]


class TextSegment:
    """The texts of positions ``first .. first + len - 1``: a memory-mapped Arrow file of
    record batches, each read (decompressed, if it is compressed) when one of its texts
    is asked for."""

    def __init__(self, name: str, first: int, reader: pa.ipc.RecordBatchFileReader) -> None:
        self.name = name
        self.first = first
        self.reader = reader
        metadata = reader.schema.metadata or {}
        try:
            self.rows = int(metadata[b"rows"])
            self.batch_rows = int(metadata[b"batch_rows"])
        except (KeyError, ValueError) as error:
            raise IndexMissing(f"text segment {name} does not record its layout") from error
        self._all: pa.ChunkedArray | None = None

    def __len__(self) -> int:
        return self.rows

    def take(self, local: np.ndarray) -> list[str]:
        """The texts at ``local`` positions of this segment, in that order."""
        local = np.asarray(local, dtype=np.int64)
        if local.size and (local.min() < 0 or local.max() >= self.rows):
            raise IndexError("position outside the store")
        which = local // self.batch_rows
        out: list[str | None] = [None] * local.shape[0]
        for k in np.unique(which).tolist():
            rows = np.flatnonzero(which == k)
            column = self.reader.get_batch(k).column(0)
            offsets = pa.array(local[rows] - k * self.batch_rows)
            for row, text in zip(rows.tolist(), column.take(offsets).to_pylist()):
                out[row] = text
        return out  # type: ignore[return-value]

    @property
    def texts(self) -> pa.ChunkedArray:
        """Every text of the segment, decompressed once (for scans over all texts)."""
        if self._all is None:
            self._all = self.reader.read_all().column("text")
        return self._all


def open_text_segment(db: str | Path, name: str, first: int) -> TextSegment:
    folder = segment_dir(db)
    try:
        source = pa.memory_map(str(folder / f"{name}.texts.arrow"), "r")
    except FileNotFoundError as error:
        raise IndexMissing(f"text segment {name} is missing from {folder}") from error
    return TextSegment(name, first, pa.ipc.open_file(source))


def take_texts(segments: list[TextSegment], positions: np.ndarray) -> list[str]:
    """The texts at ``positions``, in that order."""
    positions = np.asarray(positions, dtype=np.int64)
    firsts = np.array([s.first for s in segments], dtype=np.int64)
    which = np.searchsorted(firsts, positions, side="right") - 1
    out: list[str | None] = [None] * positions.shape[0]
    for k in np.unique(which).tolist():
        if k < 0:
            raise IndexError("position outside the store")
        rows = np.flatnonzero(which == k)
        segment = segments[k]
        for row, text in zip(rows.tolist(), segment.take(positions[rows] - segment.first)):
            out[row] = text
    return out  # type: ignore[return-value]


def _text_segments_of(con: duckdb.DuckDBPyConnection) -> list[tuple[str, int, int]]:
    row = _meta(con).get("texts")
    if row is None:
        raise IndexMissing("the store has no n-gram index")
    return [(name, int(first), int(size)) for name, first, size in json.loads(row)]


def merge_text_segments(db: str | Path, segments: list[TextSegment]) -> TextSegment:
    texts = [t for s in segments for t in s.texts.to_pylist()]
    name = write_text_segment(db, texts)
    return open_text_segment(db, name, segments[0].first)


def _segments_of(con: duckdb.DuckDBPyConnection, key: str = "segments") -> list[tuple[str, int]]:
    row = _meta(con).get(key)
    if row is None:
        raise IndexMissing("the store has no n-gram index")
    return [(name, int(size)) for name, size in json.loads(row)]


def _meta(con: duckdb.DuckDBPyConnection) -> dict[str, str]:
    try:
        return dict(con.execute("SELECT key, value FROM index_meta").fetchall())
    except duckdb.CatalogException as error:
        raise IndexMissing("the store has no n-gram index") from error


def lookup(
    segments: list[Segment], hashes: np.ndarray, frequent: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """The stored postings of ``hashes`` (sorted, distinct): parallel (hash, article) arrays
    sorted by hash then article. Frequent shingles have none."""
    found_h, found_d = [], []
    for segment in segments:
        lo = np.searchsorted(segment.hashes, hashes, side="left")
        hi = np.searchsorted(segment.hashes, hashes, side="right")
        counts = hi - lo
        total = int(counts.sum())
        if total == 0:
            continue
        rows = np.repeat(lo - np.cumsum(counts) + counts, counts) + np.arange(total)
        found_h.append(np.repeat(hashes, counts))
        found_d.append(np.asarray(segment.docs[rows], dtype=np.int64))
    if not found_h:
        return np.zeros(0, np.uint64), np.zeros(0, np.int64)
    h, d = np.concatenate(found_h), np.concatenate(found_d)
    keep = ~is_member(h, frequent)
    h, d = h[keep], d[keep]
    if len(found_h) > 1:
        order = np.lexsort((d, h))
        h, d = h[order], d[order]
    return h, d


def entries_in(
    hashes: np.ndarray, docs: np.ndarray, set_hashes: np.ndarray, set_docs: np.ndarray
) -> np.ndarray:
    """For each (hash, article) entry, whether it is among the entries of the set."""
    n_set = set_hashes.shape[0]
    all_h = np.concatenate([np.asarray(set_hashes, np.uint64), np.asarray(hashes, np.uint64)])
    all_d = np.concatenate([np.asarray(set_docs, np.int64), np.asarray(docs, np.int64)])
    is_query = np.r_[np.zeros(n_set, dtype=bool), np.ones(hashes.shape[0], dtype=bool)]
    order = np.lexsort((is_query, all_d, all_h))  # entries of the set first among equals
    h, d, q = all_h[order], all_d[order], is_query[order]
    same = np.r_[False, (h[1:] == h[:-1]) & (d[1:] == d[:-1])]
    run_start = np.maximum.accumulate(np.where(same, 0, np.arange(order.shape[0])))
    found = np.zeros(hashes.shape[0], dtype=bool)
    found[order[q & ~q[run_start]] - n_set] = True
    return found


def is_member(values: np.ndarray, sorted_set: np.ndarray) -> np.ndarray:
    if sorted_set.size == 0 or values.size == 0:
        return np.zeros(values.shape[0], dtype=bool)
    at = np.minimum(np.searchsorted(sorted_set, values), sorted_set.shape[0] - 1)
    return sorted_set[at] == values


def merge_segments(db: str | Path, segments: list[Segment], frequent: np.ndarray) -> Segment:
    """One segment holding the postings of ``segments``, frequent shingles left out."""
    hashes = np.concatenate([np.asarray(s.hashes) for s in segments])
    docs = np.concatenate([np.asarray(s.docs) for s in segments])
    keep = ~is_member(hashes, frequent)
    hashes, docs = hashes[keep], docs[keep]
    order = np.lexsort((docs, hashes))
    name = write_segment(db, hashes[order], docs[order])
    return open_segment(db, name)


def plan_merge(sizes: list[int]) -> int:
    """How many of the newest segments to merge: while the newest is at least a quarter
    of the one before it (so a store of N postings keeps O(log N) segments)."""
    merged, count = sizes[-1] if sizes else 0, 1
    while count < len(sizes) and merged * 4 >= sizes[-1 - count]:
        merged += sizes[-1 - count]
        count += 1
    return count if count > 1 else 0


# --- writing a run's index -----------------------------------------------------------------


def start_segment_files(
    db: str | Path, result: RunResult, pool: ThreadPoolExecutor
) -> tuple[dict[str, list], Future]:
    """Start writing the segment files of a full run on ``pool``; returns the segment lists
    for ``index_meta`` (names are chosen now) and the future of the writing."""
    parts: IndexParts = result.index
    names = [new_segment_name() for _ in range(3)]
    lists = {
        "segments": [(names[0], int(parts.hashes.shape[0]))],
        "texts": [(names[1], 0, len(result.articles))],
        "bands": [(names[2], int(parts.band_hashes.shape[0]))],
    }

    def write() -> None:
        write_segment(db, parts.hashes, parts.docs, names[0])
        write_text_segment(db, [a.text for a in result.articles], names[1])
        write_segment(db, parts.band_hashes, parts.band_docs, names[2])
        sync_segment_dir(db)

    return lists, pool.submit(write)


def write_index_tables(
    con: duckdb.DuckDBPyConnection, result: RunResult, lists: dict[str, list], files: Future
) -> None:
    """Write the index tables of a full run into its new store, then wait for its segment
    files (``start_segment_files``): the store must not replace the old one before them."""
    parts: IndexParts = result.index
    ev = result.evidence
    create_index_tables(con)
    insert_meta(con, len(result.articles), lists["segments"], lists["texts"], lists["bands"])
    insert(con, "index_frequent", {"hash": parts.frequent})
    insert(
        con,
        "index_docs",
        {"position": np.arange(parts.doc_shingles.shape[0]), "shingles": parts.doc_shingles},
    )
    insert(con, "index_sentences", sentence_columns(parts.sentences, parts.boilerplate))
    insert(
        con,
        "index_pairs",
        {"a": ev.a, "b": ev.b, "shared": parts.pair_shared, "bands": parts.pair_bands},
    )
    insert(con, "index_links", link_evidence_columns(parts.measured, ev.reused, result.orientation))
    # checkpoint now, while the files are still being written (``write_store`` checkpoints
    # again, with nothing left to do)
    con.execute("CHECKPOINT")
    files.result()


_INDEX_DDL = {
    "index_meta": "key VARCHAR, value VARCHAR",
    "index_frequent": "hash UBIGINT",
    "index_docs": "position BIGINT, shingles INTEGER",
    "index_sentences": "doc BIGINT, sentence INTEGER, hash UBIGINT, from_end INTEGER, "
    "length INTEGER, credit BOOLEAN, boilerplate BOOLEAN",
    "index_pairs": "a BIGINT, b BIGINT, shared BIGINT, bands BIGINT",
    "index_band_removed": "hash UBIGINT, doc BIGINT",
    "index_links": "a BIGINT, b BIGINT, containment_a DOUBLE, containment_b DOUBLE, "
    "weighted_a DOUBLE, weighted_b DOUBLE, exact_a DOUBLE, exact_b DOUBLE, shared BIGINT, "
    "passages BIGINT, source_is_a BOOLEAN, reason VARCHAR, solid BOOLEAN, thin BOOLEAN, "
    "contact BOOLEAN, reused BOOLEAN",
}


def create_index_tables(con: duckdb.DuckDBPyConnection) -> None:
    for name, columns in _INDEX_DDL.items():
        con.execute(f"CREATE TABLE {name} ({columns})")


def insert_meta(
    con: duckdb.DuckDBPyConnection,
    n_docs: int,
    segments: list[tuple[str, int]],
    texts: list[tuple[str, int, int]],
    bands: list[tuple[str, int]],
) -> None:
    """The index's own record: format, articles covered, the segments in use."""
    con.execute("DELETE FROM index_meta")
    con.executemany(
        "INSERT INTO index_meta VALUES (?, ?)",
        [
            ("format", str(INDEX_FORMAT)),
            ("docs", str(n_docs)),
            ("segments", json.dumps(segments)),
            ("texts", json.dumps(texts)),
            ("bands", json.dumps(bands)),
        ],
    )


def insert(con: duckdb.DuckDBPyConnection, name: str, columns: dict[str, object]) -> None:
    """Append column data (arrays or lists, in table column order) to table ``name``."""
    table = pa.table({k: _arrow(v) for k, v in columns.items()})
    if table.num_rows == 0:
        return
    con.register("index_incoming", table)
    con.execute(f"INSERT INTO {name} SELECT * FROM index_incoming")
    con.unregister("index_incoming")


def _arrow(values: object) -> pa.Array:
    if isinstance(values, pa.Array):
        return values
    if isinstance(values, np.ndarray):
        return pa.array(np.ascontiguousarray(values))
    return pa.array(values)


def sentence_columns(keys: SentenceKeys, boilerplate: np.ndarray) -> dict[str, np.ndarray]:
    doc = keys.doc.astype(np.int64)
    first = np.searchsorted(doc, doc, side="left")
    return {
        "doc": doc,
        "sentence": (np.arange(doc.shape[0]) - first).astype(np.int32),
        "hash": keys.hashes.astype(np.uint64),
        "from_end": keys.from_end.astype(np.int32),
        "length": keys.lengths.astype(np.int32),
        "credit": (
            np.zeros(doc.shape[0], dtype=bool)
            if keys.credit is None
            else np.asarray(keys.credit, dtype=bool)
        ),
        "boilerplate": np.asarray(boilerplate, dtype=bool),
    }


def link_evidence_columns(
    measured: MeasuredPairs, reused: np.ndarray, orientation: Orientation
) -> dict[str, object]:
    """The full-precision evidence of every pair that ``settle_links`` looks at (would-be
    links and pairs in close contact), with its flags and whether it is a link: lineage
    is rebuilt from the links, the story rule re-run over all of them."""
    ev = measured.evidence
    k = np.flatnonzero(measured.solid | measured.thin | measured.contact)
    linked = np.asarray(reused, dtype=bool)[k]
    # only links carry a direction (as ``orient(..., links_only=True)`` gives it)
    source_is_a = orientation.source_is_a[k].astype(bool) & linked
    reasons = [orientation.reason[i] if on else "" for i, on in zip(k.tolist(), linked.tolist())]
    return {
        "a": ev.a[k].astype(np.int64),
        "b": ev.b[k].astype(np.int64),
        "containment_a": ev.containment_a[k].astype(np.float64),
        "containment_b": ev.containment_b[k].astype(np.float64),
        "weighted_a": ev.weighted_a[k].astype(np.float64),
        "weighted_b": ev.weighted_b[k].astype(np.float64),
        "exact_a": ev.exact_a[k].astype(np.float64),
        "exact_b": ev.exact_b[k].astype(np.float64),
        "shared": ev.shared[k].astype(np.int64),
        "passages": ev.passages[k].astype(np.int64),
        "source_is_a": source_is_a,
        "reason": reasons,
        "solid": measured.solid[k].astype(bool),
        "thin": measured.thin[k].astype(bool),
        "contact": measured.contact[k].astype(bool),
        "reused": linked,
    }


def link_evidence(columns: dict[str, np.ndarray]) -> tuple[PairEvidence, Orientation]:
    """``PairEvidence`` and its ``Orientation`` from ``index_links`` rows."""
    a = np.asarray(columns["a"], dtype=np.int64)
    evidence = PairEvidence(
        a=a,
        b=np.asarray(columns["b"], dtype=np.int64),
        containment_a=np.asarray(columns["containment_a"], dtype=np.float64),
        containment_b=np.asarray(columns["containment_b"], dtype=np.float64),
        weighted_a=np.asarray(columns["weighted_a"], dtype=np.float64),
        weighted_b=np.asarray(columns["weighted_b"], dtype=np.float64),
        exact_a=np.asarray(columns["exact_a"], dtype=np.float64),
        exact_b=np.asarray(columns["exact_b"], dtype=np.float64),
        shared=np.asarray(columns["shared"], dtype=np.int64),
        passages=np.asarray(columns["passages"], dtype=np.int64),
        reused=np.asarray(columns["reused"], dtype=bool),
    )
    orientation = Orientation(
        np.asarray(columns["source_is_a"], dtype=bool), [str(r) for r in columns["reason"]]
    )
    return evidence, orientation


# --- an open index ---------------------------------------------------------------------------


class StoreIndex:
    """A store opened with its n-gram index: what ``query`` and ``add`` read.

    Opening reads the small parts (parameters, frequent shingles, shingles per article)
    and memory-maps the postings; nothing else is read until asked for.
    """

    def __init__(self, db: str | Path, read_only: bool = True) -> None:
        self.path = Path(db)
        if not self.path.exists():
            raise FileNotFoundError(f"no wiretrace store at {db}")
        self.con = duckdb.connect(str(self.path), read_only=read_only)
        self._sentences: dict[str, np.ndarray] | None = None
        self._info: pa.Table | None = None
        try:
            meta = _meta(self.con)
            if meta.get("format") != str(INDEX_FORMAT):
                raise IndexMissing(f"n-gram index format {meta.get('format')} is not supported")
            self.params = store_params(self.con)
            self.n_docs = int(meta["docs"])
            stored = self.con.execute("SELECT count(*) FROM articles").fetchone()[0]
            if stored != self.n_docs:
                raise IndexMissing(
                    f"the n-gram index covers {self.n_docs} articles, the store {stored}"
                )
            self.segments = [open_segment(self.path, name) for name, _ in _segments_of(self.con)]
            self.text_segments = [
                open_text_segment(self.path, name, first)
                for name, first, _ in _text_segments_of(self.con)
            ]
            self.band_segments = [
                open_segment(self.path, name) for name, _ in _segments_of(self.con, "bands")
            ]
            removed = self.con.execute(
                "SELECT hash, doc FROM index_band_removed ORDER BY hash, doc"
            ).fetchnumpy()
            self.band_removed = (
                np.asarray(removed["hash"], dtype=np.uint64),
                np.asarray(removed["doc"], dtype=np.int64),
            )
            self.frequent = np.sort(
                self.con.execute("SELECT hash FROM index_frequent").fetchnumpy()["hash"]
            ).astype(np.uint64)
            self.doc_shingles = (
                self.con.execute("SELECT shingles FROM index_docs ORDER BY position")
                .fetchnumpy()["shingles"]
                .astype(np.int64)
            )
        except BaseException:
            self.con.close()
            raise

    def lookup(self, hashes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return lookup(self.segments, hashes, self.frequent)

    def lookup_bands(self, hashes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The live band postings of ``hashes`` (sorted, distinct), as ``lookup``."""
        h, d = lookup(self.band_segments, hashes, np.zeros(0, dtype=np.uint64))
        gone_h, gone_d = self.band_removed
        if gone_h.size and h.size:
            keep = ~entries_in(h, d, gone_h, gone_d)
            h, d = h[keep], d[keep]
        return h, d

    def texts(self, positions: np.ndarray) -> list[str]:
        """The stored texts at ``positions`` (tokenise them with ``tokenize_texts`` and the
        store's parameters to get the tokens a run compared)."""
        return take_texts(self.text_segments, positions)

    def sentences(self) -> dict[str, np.ndarray]:
        """Every sentence's boilerplate keys and flag in article order, with ``doc_start``
        (per article, its first row) and ``by_hash`` (rows ordered by hash); read once."""
        if self._sentences is None:
            found = self.con.execute(
                "SELECT doc, hash, from_end, length, credit, boilerplate FROM index_sentences "
                "ORDER BY doc, sentence"
            ).fetchnumpy()
            table = {name: np.asarray(values) for name, values in found.items()}
            table["doc_start"] = np.searchsorted(table["doc"], np.arange(self.n_docs + 1))
            table["by_hash"] = np.argsort(table["hash"], kind="stable")
            table["sorted_hash"] = table["hash"][table["by_hash"]]
            self._sentences = table
        return self._sentences

    def article_info(self, positions: np.ndarray) -> list[tuple[str, str | None, str | None]]:
        """(id, title, outlet) of the articles at ``positions``; the columns are read once."""
        if self._info is None:
            self._info = self.con.sql(
                "SELECT id, title, outlet FROM articles ORDER BY position"
            ).to_arrow_table()
        rows = self._info.take(pa.array(np.asarray(positions, dtype=np.int64)))
        return list(zip(*(rows.column(i).to_pylist() for i in range(3))))

    def close(self) -> None:
        self.con.close()

    def __enter__(self) -> StoreIndex:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def has_index(db: str | Path) -> bool:
    """Whether the store at ``db`` carries a usable n-gram index."""
    try:
        with StoreIndex(db):
            return True
    except (IndexMissing, FileNotFoundError):
        return False


def write_store_with_index(db: str | Path, result: RunResult, rejections: list) -> None:
    """``store.write_store`` plus the index a run kept (``run_articles(keep_index=True)``)."""
    from .store import write_store

    if result.index is None:
        try:
            write_store(db, result, rejections)
        finally:
            remove_unused_segments(db)
        return
    with ThreadPoolExecutor(max_workers=1) as pool:
        try:
            lists, files = start_segment_files(db, result, pool)
            write_store(
                db, result, rejections, extra=partial(write_index_tables, result=result,
                                                      lists=lists, files=files)
            )  # fmt: skip
        finally:
            pool.shutdown(wait=True)  # no file is still being written when unused ones go
            remove_unused_segments(db)
