"""The whole run in bounded memory (``wiretrace run --stream``).

Reading, fingerprinting and candidate generation stream in batches (``stream.py``), which
spills the texts to an Arrow stream on disk. Of each article this engine then keeps only
what is small: the article without its text, its body start and dateline place, and the
lineage facts; and the candidate pairs with what alignment measured of each.

Alignment runs over blocks of pairs: a block's texts are read back from the spill and
tokenised again (tokenising is cheap), aligned and measured, and dropped. Pairs are taken
in the order of a reverse Cuthill-McKee numbering of the candidate graph, which keeps the
articles of neighbouring pairs close together, so that a block needs few texts and each
text is read back a few times only. Whether a text names another article's outlet (for
the direction of links) is answered in the same pass. What each copy changed is described
block by block of children in article order, and the store's articles table is filled
from the spilled texts a batch at a time.

Every stage is the local engine's own function, so the store is the one an in-memory run
writes, table for table (``tests/test_streamed.py``), n-gram index included (``index.py``,
what ``query`` and ``add`` read): the postings segments are written a hash partition at a
time as candidate generation reads the spilled postings (partitions come in hash order, so
appending them gives the sorted segment), the text segment is copied from the spill a
batch at a time, and the index tables are filled from the spilled sentence keys and the
run's pairs.
"""

from __future__ import annotations

import contextlib
import dataclasses
import glob
import hashlib
import os
import shutil
import tempfile
from collections.abc import Callable, Iterable, Iterator, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import numpy as np
import orjson
import pyarrow as pa

from ..align import PassageTable, align_pairs, doc_feature_index
from ..boilerplate import BoilerplateLines, lines_of, samples
from ..candidates import CandidatePairs, Postings
from ..changes import lineage_changes
from ..fingerprint import sentence_features
from ..index import (
    SegmentWriter,
    create_index_tables,
    insert,
    insert_meta,
    is_member,
    link_evidence_columns,
    new_segment_name,
    pair_band_counts,
    remove_unused_segments,
    segment_dir,
    split_frequent,
    sync_segment_dir,
    tokenize_texts,
    write_text_chunks,
)
from ..ingest import STDIN, read_inputs
from ..ingest.metadata import warnings_of
from ..lineage import PairEvidence, build_lineage, names_outlet, orient
from ..model import Article, Change, Rejection, RunParams
from ..store import (
    _ARTICLE_COLUMNS,
    _CHANGE_COLUMNS,
    _SQL_TYPES,
    _process_alive,
    load_rejections,
    write_store,
)
from ..stream import BATCH, CorpusPrint, fingerprint_corpus, spilled_sentences
from ..text import body_start_and_place
from .local import (
    MeasuredPairs,
    Progress,
    RunResult,
    StageClock,
    alignment_params,
    article_facts,
    measure_candidates,
    settle_links,
)

# ``run`` streams by default when its inputs (and the store it extends) are larger: an
# in-memory run needs about 15 times the corpus size in memory (3.3 GB at 220 MB of JSONL)
STREAM_ABOVE_BYTES = 1 << 30
BLOCK_DOCS = 10_000  # texts tokenised at once while aligning or describing changes
BLOCK_PAIRS = 50_000  # pairs aligned at once
TEXT_BATCH = BATCH  # articles read, fingerprinted and spilled at once
_STEP = 1024  # pairs added to a block at a time while sizing it
PROGRESS_EVERY = 500  # records between progress-bar updates


def input_bytes(inputs: Iterable[str | Path], db: str | Path | None = None) -> int:
    """Bytes of the input files and folders, and of the store a run extends (stdin: 0)."""
    total = 0
    paths = [Path(p) for p in inputs if str(p) != STDIN]
    if db is not None:
        paths.append(Path(db))
    for path in paths:
        if path.is_file():
            total += path.stat().st_size
        elif path.is_dir():
            for folder, _, names in os.walk(path):
                total += sum(_size(Path(folder) / name) for name in names)
    return total


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0  # vanished or unreadable: the reader reports it


def should_stream(inputs: Iterable[str | Path], db: str | Path | None = None) -> bool:
    """The automatic choice: stream when the inputs and store exceed ``STREAM_ABOVE_BYTES``."""
    return input_bytes(inputs, db) > STREAM_ABOVE_BYTES


@dataclass
class StreamedRun:
    """What ``run_streamed`` did; ``result.articles`` carry no text (it stays on disk)."""

    result: RunResult
    rejections: list[Rejection]  # of this run's records
    read: int = 0
    stored: int = 0  # new articles
    already_stored: int = 0
    warnings: list[tuple[str, str]] = field(default_factory=list)


class SpilledTexts:
    """The texts that ``fingerprint_corpus`` spilled, read back a block at a time; the file
    is mapped only while a block is read, so memory holds the block's texts alone."""

    def __init__(self, path: Path) -> None:
        self.path = path
        with pa.memory_map(str(path)) as source:
            sizes = [batch.num_rows for batch in pa.ipc.open_stream(source)]
        self.bounds = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)

    def take(self, docs: np.ndarray) -> list[str]:
        """The texts of ``docs`` (ascending article numbers), in that order."""
        texts: list[str] = []
        with pa.memory_map(str(self.path)) as source:
            for k, batch in enumerate(pa.ipc.open_stream(source)):
                lo, hi = np.searchsorted(docs, self.bounds[k : k + 2])
                if hi > lo:
                    rows = pa.array(docs[lo:hi] - self.bounds[k], pa.int64())
                    texts.extend(batch.column(0).take(rows).to_pylist())
        return texts

    def batches(self) -> Iterator[pa.Array]:
        """All texts in article order, one spilled batch at a time."""
        with pa.memory_map(str(self.path)) as source:
            for batch in pa.ipc.open_stream(source):
                yield batch.column(0)


@dataclass
class _Kept:
    """Per article, what later stages need besides its text."""

    articles: list[Article] = field(default_factory=list)  # without text
    starts: list[int] = field(default_factory=list)
    places: list[str | None] = field(default_factory=list)
    warnings: list[tuple[str, str]] = field(default_factory=list)
    n_stored: int = 0  # articles read back from the store come first

    def __call__(self, batch: list[Article]) -> None:
        for article in batch:
            if len(self.articles) >= self.n_stored:
                self.warnings.extend((article.origin, w) for w in warnings_of(article))
            start, place = body_start_and_place(article.text)
            self.starts.append(start)
            self.places.append(place)
            self.articles.append(dataclasses.replace(article, text=""))


def run_streamed(
    inputs: Iterable[str | Path],
    db: str | Path | None = None,
    params: RunParams | None = None,
    strict: bool = False,
    progress: Progress | None = None,
    column_map: Mapping[str, str] | None = None,
    index: bool = True,
) -> StreamedRun:
    """``api.run`` in bounded memory: the same store, with the n-gram index unless ``index``
    is False.

    The articles already in the store at ``db`` are read back and analysed with the new
    ones; nothing is written when ``db`` is None. The spill (about the corpus's size) goes
    next to the store, else to the temporary folder, and is removed at the end.
    """
    params = params or RunParams()
    spill = _spill_folder(db)
    files = _IndexFiles(db, params.max_df) if db is not None and index else None
    try:
        return _run(inputs, db, params, strict, progress, column_map, spill, files)
    except BaseException:
        if files is not None:
            files.abandon()
        raise
    finally:
        shutil.rmtree(spill, ignore_errors=True)


def _run(inputs, db, params, strict, progress, column_map, spill, files) -> StreamedRun:
    clock = StageClock()
    run = StreamedRun(result=None, rejections=[])  # type: ignore[arg-type]
    kept = _Kept()
    stored_digests: dict[str, bytes] = {}

    def records() -> Iterator[Article | Rejection]:
        for article in _stored_articles(db):
            stored_digests[article.id] = _digest(article.text)
            kept.n_stored += 1
            yield article
        for record in read_inputs(inputs, column_map):
            run.read += 1
            if isinstance(record, Article) and record.id in stored_digests:
                if stored_digests[record.id] == _digest(record.text):
                    run.already_stored += 1
                    continue
                record = Rejection(
                    record.origin,
                    f"id {record.id!r} is already stored with a different text",
                    record.id,
                )
            yield record
            if progress and run.read % PROGRESS_EVERY == 0:
                progress("read", PROGRESS_EVERY, None)
        if progress and run.read % PROGRESS_EVERY:
            progress("read", run.read % PROGRESS_EVERY, None)

    corpus, pairs = fingerprint_corpus(
        records(), params, spill, strict=strict, batch_size=TEXT_BATCH, on_batch=kept,
        progress=(lambda k: progress("fingerprint", k, None)) if progress else None,
        postings_sink=files,
    )  # fmt: skip
    if files is not None:
        files.finish()
    clock.lap("read and fingerprint")
    texts = SpilledTexts(spill / "texts.arrows")
    boilerplate = _boilerplate_lines(corpus, kept, texts, params)
    n = corpus.n_docs
    measured, passages, credits = _align_blocks(
        pairs, n, kept, corpus.flagged, texts, params, progress
    )
    clock.lap("align")
    evidence = settle_links(measured, n)
    facts = dataclasses.replace(
        article_facts(kept.articles, params, kept.places), texts=[], credits=credits
    )
    orientation = orient(facts, evidence, links_only=True)
    if files is not None:
        files.links = link_evidence_columns(measured, evidence.reused, orientation)
    del measured
    lineage = build_lineage(facts, evidence, orientation)
    clock.lap("lineage")
    result = RunResult(
        articles=kept.articles,
        rejections=corpus.rejections,
        params=params,
        facts=facts,
        body_starts=kept.starts,
        evidence=evidence,
        orientation=orientation,
        passages=passages,
        lineage=lineage,
        timings=clock.timings,
        candidate_pairs=len(pairs),
        boilerplate=boilerplate,
    )
    changes: Iterable[list[Change]] = ()
    if params.changes:
        changes = _changes_in_blocks(result, texts, progress)
    if db is None:
        result.changes = [change for block in changes for change in block]
    else:
        # a rerun meets the same bad records again: one rejection per origin, the latest
        known = {r.origin: r for r in load_rejections(db)}
        known.update((r.origin, r) for r in corpus.rejections)
        index = _StreamedIndex(files, corpus, pairs, texts) if files is not None else None
        _write_store(db, result, list(known.values()), texts, changes, index)
    clock.lap("changes and store")
    run.result = result
    run.rejections = corpus.rejections
    run.stored = n - kept.n_stored
    run.warnings = kept.warnings
    return run


def _digest(text: str) -> bytes:
    return hashlib.blake2b(text.encode("utf-8"), digest_size=16).digest()


def _stored_articles(db: str | Path | None, size: int = 10_000) -> Iterator[Article]:
    """The articles a store holds, as ``store.load_articles`` reads them, a batch at a time."""
    if db is None or not Path(db).exists():
        return
    with duckdb.connect(str(db), read_only=True) as con:
        cursor = con.execute(
            "SELECT id, text, outlet, title, published_at, url, byline, metadata, origin "
            "FROM articles ORDER BY position"
        )
        while rows := cursor.fetchmany(size):
            for r in rows:
                yield Article(
                    id=r[0], text=r[1], outlet=r[2], title=r[3], published_at=r[4], url=r[5],
                    byline=r[6], metadata=orjson.loads(r[7]) if r[7] else {}, origin=r[8],
                )  # fmt: skip


def _boilerplate_lines(
    corpus: CorpusPrint, kept: _Kept, texts: SpilledTexts, params: RunParams
) -> BoilerplateLines:
    """The boilerplate table (``boilerplate.find_boilerplate``'s), each line's sample read
    back from its first article, a block of articles at a time."""
    groups = corpus.boilerplate
    sample_texts = [""] * len(groups)
    docs = np.unique(groups.doc)
    for lo in range(0, docs.shape[0], BLOCK_DOCS):
        block = docs[lo : lo + BLOCK_DOCS]
        block_texts = texts.take(block)
        starts = [kept.starts[d] for d in block.tolist()]
        batch, _ = tokenize_texts(block_texts, params, starts=starts)
        rows = np.nonzero((groups.doc >= block[0]) & (groups.doc <= block[-1]))[0]
        local = np.searchsorted(block, groups.doc[rows])
        found = samples(
            batch, local, groups.sentence[rows], [block_texts[d] for d in local.tolist()]
        )
        for row, sample in zip(rows.tolist(), found):
            sample_texts[row] = sample
    flag_doc = corpus.flagged[0]
    return lines_of(
        groups,
        [corpus.ids[d] for d in groups.doc.tolist()],
        corpus.outlet_names,
        sample_texts,
        sentences=int(flag_doc.shape[0]),
        articles_affected=int(np.unique(flag_doc).shape[0]),
    )


# --- alignment in blocks --------------------------------------------------------------------


def _align_blocks(
    pairs: CandidatePairs,
    n_docs: int,
    kept: _Kept,
    flagged: tuple[np.ndarray, np.ndarray],
    texts: SpilledTexts,
    params: RunParams,
    progress: Progress | None,
) -> tuple[MeasuredPairs, PassageTable, Callable[[int, int], bool]]:
    """Every candidate pair aligned and measured (as ``run_articles`` does), a block of pairs
    at a time; also whether each would-be link's texts name the other side's outlet."""
    order = _pair_order(pairs.a, pairs.b, n_docs)
    a_sorted, b_sorted = pairs.a[order], pairs.b[order]
    outlets = [article.outlet for article in kept.articles]
    columns: dict[str, np.ndarray] = {}
    tables: list[PassageTable] = []
    credit_keys: list[np.ndarray] = []
    credit_values: list[np.ndarray] = []
    blocks = list(_blocks(a_sorted, b_sorted, n_docs, BLOCK_DOCS, BLOCK_PAIRS)) or [(0, 0)]
    for lo, hi in blocks:
        chosen = order[lo:hi]
        a, b = pairs.a[chosen], pairs.b[chosen]
        docs = np.unique(np.concatenate((a, b)))
        block_texts = texts.take(docs)
        batch, features, index, flags = _block_tokens(docs, block_texts, kept, flagged, params)
        la, lb = np.searchsorted(docs, a), np.searchsorted(docs, b)
        table = align_pairs(batch, features, index, la, lb, alignment_params(params), flags)
        measured = measure_candidates(
            batch, la, lb, table, params, block_texts, pairs.shared[chosen]
        )
        tables.append(PassageTable(**{**table.__dict__, "pair": chosen[table.pair]}))
        _scatter(columns, measured, chosen, len(pairs))
        # the only texts lineage reads: of would-be links (``settle_links`` keeps a subset)
        links = np.nonzero(measured.evidence.reused)[0]
        for reader, named in ((lb, a), (la, b)):
            credit_keys.append(docs[reader[links]] * n_docs + named[links])
            credit_values.append(
                np.array(
                    [
                        names_outlet(block_texts[r], outlets[m])
                        for r, m in zip(reader[links].tolist(), named[links].tolist())
                    ],
                    dtype=bool,
                )
            )
        if progress:
            progress("align", hi - lo, len(pairs))
        del batch, features, index, block_texts
    measured = MeasuredPairs(
        PairEvidence(
            a=pairs.a, b=pairs.b,
            **{name: columns[name] for name in _EVIDENCE_COLUMNS},
        ),
        columns["solid"], columns["thin"], columns["contact"],
    )  # fmt: skip
    passages = _concat_tables(tables)
    rows = np.argsort(passages.pair, kind="stable")  # by pair, as one run aligns them
    passages = PassageTable(**{k: v[rows] for k, v in passages.__dict__.items()})
    return measured, passages, _credit_lookup(credit_keys, credit_values, n_docs)


_EVIDENCE_COLUMNS = (
    "exact_a", "exact_b", "containment_a", "containment_b", "weighted_a", "weighted_b",
    "shared", "passages", "reused",
)  # fmt: skip


def _scatter(columns: dict[str, np.ndarray], measured: MeasuredPairs, at: np.ndarray, n: int):
    """Put a block's measurements at its pairs' places in the run's columns."""
    values = {name: getattr(measured.evidence, name) for name in _EVIDENCE_COLUMNS}
    values.update(solid=measured.solid, thin=measured.thin, contact=measured.contact)
    for name, value in values.items():
        if name not in columns:
            columns[name] = np.zeros(n, dtype=value.dtype)
        columns[name][at] = value


def _credit_lookup(
    keys: list[np.ndarray], values: list[np.ndarray], n_docs: int
) -> Callable[[int, int], bool]:
    all_keys = np.concatenate(keys).astype(np.int64)
    order = np.argsort(all_keys, kind="stable")
    all_keys, all_values = all_keys[order], np.concatenate(values)[order]

    def credits(reader: int, named: int) -> bool:
        key = reader * n_docs + named
        at = int(np.searchsorted(all_keys, key))
        if at == all_keys.shape[0] or all_keys[at] != key:
            raise KeyError(f"attribution of article {named} in article {reader} was not measured")
        return bool(all_values[at])

    return credits


def _pair_order(a: np.ndarray, b: np.ndarray, n_docs: int) -> np.ndarray:
    """Pairs ordered along a reverse Cuthill-McKee numbering of the articles: the candidate
    graph's bandwidth is small in it, so consecutive pairs share their articles."""
    if a.shape[0] == 0:
        return np.zeros(0, dtype=np.int64)
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import reverse_cuthill_mckee

    ones = np.ones(2 * a.shape[0], dtype=np.int8)
    graph = coo_matrix(
        (ones, (np.concatenate((a, b)), np.concatenate((b, a)))), shape=(n_docs, n_docs)
    ).tocsr()
    numbering = reverse_cuthill_mckee(graph, symmetric_mode=True)
    rank = np.empty(n_docs, dtype=np.int64)
    rank[numbering] = np.arange(n_docs)
    ra, rb = rank[a], rank[b]
    return np.lexsort((np.maximum(ra, rb), np.minimum(ra, rb)))


def _blocks(
    a: np.ndarray, b: np.ndarray, n_docs: int, max_docs: int, max_pairs: int
) -> Iterator[tuple[int, int]]:
    """Consecutive ranges of pairs naming at most ``max_docs`` articles and ``max_pairs``
    pairs (a range grows ``_STEP`` pairs at a time; one step may exceed ``max_docs``)."""
    seen = np.zeros(n_docs, dtype=bool)
    held: list[np.ndarray] = []
    count = start = 0
    for lo in range(0, a.shape[0], _STEP):
        hi = min(lo + _STEP, a.shape[0])
        docs = np.unique(np.concatenate((a[lo:hi], b[lo:hi])))
        new = docs[~seen[docs]]
        if lo > start and (count + new.shape[0] > max_docs or hi - start > max_pairs):
            yield start, lo
            for block_docs in held:
                seen[block_docs] = False
            held, count, start, new = [], 0, lo, docs
        seen[new] = True
        held.append(new)
        count += new.shape[0]
    if a.shape[0] > start:
        yield start, a.shape[0]


def _block_tokens(docs, block_texts, kept: _Kept, flagged, params: RunParams):
    """Tokens, boilerplate flags and sentence features of the articles ``docs``."""
    batch, _ = tokenize_texts(block_texts, params, starts=[kept.starts[d] for d in docs.tolist()])
    flag_doc, flag_number = flagged
    at = np.minimum(np.searchsorted(docs, flag_doc), max(docs.shape[0] - 1, 0))
    mine = docs[at] == flag_doc if docs.shape[0] else np.zeros(flag_doc.shape[0], dtype=bool)
    flags = np.zeros(batch.sent_start.shape[0], dtype=bool)
    flags[batch.doc_sent_start[at[mine]] + flag_number[mine]] = True
    features = sentence_features(batch, flags)
    return batch, features, doc_feature_index(batch, features), flags


def _concat_tables(tables: list[PassageTable]) -> PassageTable:
    names = tables[0].__dict__.keys()
    return PassageTable(**{k: np.concatenate([getattr(t, k) for t in tables]) for k in names})


# --- changes and the store ------------------------------------------------------------------


def _changes_in_blocks(
    result: RunResult, texts: SpilledTexts, progress: Progress | None
) -> Iterator[list[Change]]:
    """``lineage_changes`` over blocks of children in article order: each block with the
    texts of its children and their parents, and the passages of those pairs."""
    parent = result.lineage.parent
    ev, passages = result.evidence, result.passages
    children = np.nonzero(parent >= 0)[0]
    n = parent.shape[0]
    pair_keys = np.minimum(ev.a, ev.b) * n + np.maximum(ev.a, ev.b)
    by_key = np.argsort(pair_keys, kind="stable")
    pair_keys = pair_keys[by_key]
    bounds = np.searchsorted(passages.pair, np.arange(ev.a.shape[0] + 1))
    for lo, hi in _blocks(children, parent[children], n, BLOCK_DOCS, BLOCK_PAIRS):
        child = children[lo:hi]
        docs = np.unique(np.concatenate((child, parent[child])))
        block_texts = texts.take(docs)
        articles = [
            dataclasses.replace(result.articles[d], text=t)
            for d, t in zip(docs.tolist(), block_texts)
        ]
        starts = [result.body_starts[d] for d in docs.tolist()]
        batch, _ = tokenize_texts(block_texts, result.params, starts=starts)
        local_parent = np.full(docs.shape[0], -1, dtype=np.int64)
        local_parent[np.searchsorted(docs, child)] = np.searchsorted(docs, parent[child])
        keys = np.minimum(child, parent[child]) * n + np.maximum(child, parent[child])
        k = by_key[np.searchsorted(pair_keys, keys)]  # a parent is linked: a candidate pair
        rows = np.concatenate([np.arange(bounds[j], bounds[j + 1]) for j in k.tolist()])
        rows = rows.astype(np.int64)
        local_pair = np.repeat(np.arange(k.shape[0]), bounds[k + 1] - bounds[k])
        table = PassageTable(
            **{**{name: v[rows] for name, v in passages.__dict__.items()}, "pair": local_pair}
        )
        yield lineage_changes(
            articles, local_parent, np.searchsorted(docs, ev.a[k]),
            np.searchsorted(docs, ev.b[k]), table, batch, starts,
        )  # fmt: skip
        if progress:
            progress("changes", hi - lo, children.shape[0])


def _write_store(
    db: str | Path,
    result: RunResult,
    rejections: list[Rejection],
    texts: SpilledTexts,
    changes: Iterable[list[Change]],
    index: _StreamedIndex | None = None,
) -> None:
    """``store.write_store`` with the texts and the changes added a block at a time, and the
    n-gram index (its text segment copied on a thread meanwhile)."""
    from ..export import change_columns

    def fill(con: duckdb.DuckDBPyConnection) -> None:
        text_segment = pool.submit(index.write_text_segment, db) if index is not None else None
        _fill_texts(con, texts)
        for block in changes:
            columns = change_columns(dataclasses.replace(result, changes=block))
            _insert(con, "changes", columns, _CHANGE_COLUMNS)
        if index is not None:
            index.write_tables(con, text_segment)

    with ThreadPoolExecutor(max_workers=1) as pool:
        try:
            write_store(db, result, rejections, extra=fill)
        finally:
            pool.shutdown(wait=True)  # no file is still being written when unused ones go
            remove_unused_segments(db)


# --- the n-gram index ----------------------------------------------------------------------


class _IndexFiles:
    """The postings segments of the index (shingles, sentence bands), written as
    ``fingerprint_corpus`` hands on each partition's postings (its ``postings_sink``)."""

    def __init__(self, db: str | Path, max_df: int) -> None:
        self.db = db
        self.max_df = max_df
        self.writers: dict[str, SegmentWriter] = {}
        self.frequent: list[np.ndarray] = []
        self.segments: dict[str, tuple[str, int]] = {}
        self.links: dict[str, object] | None = None  # ``index_links`` columns

    def __call__(self, kind: str, postings: Postings) -> None:
        if kind == "shingles":  # the index keeps the postings of shingles in <= max_df articles
            hashes, docs, frequent = split_frequent(postings, self.max_df)
            self.frequent.append(frequent)
        else:  # of sentence bands, every entry (``index.py``)
            hashes, docs = postings.hashes, postings.docs
        self._writer(kind).append(hashes, docs)

    def _writer(self, kind: str) -> SegmentWriter:
        if kind not in self.writers:
            self.writers[kind] = SegmentWriter(self.db)
        return self.writers[kind]

    def finish(self) -> None:
        """Close the segment files (an empty bands segment without that channel)."""
        for kind in ("shingles", "bands"):
            self.segments[kind] = self._writer(kind).close()
        self.writers.clear()

    def abandon(self) -> None:
        for writer in self.writers.values():
            writer.abandon()
        self.writers.clear()
        remove_unused_segments(self.db)
        with contextlib.suppress(OSError):
            segment_dir(self.db).rmdir()  # only if empty


@dataclass
class _StreamedIndex:
    """What a streamed run writes of the index once its store is written."""

    files: _IndexFiles
    corpus: CorpusPrint
    pairs: CandidatePairs
    texts: SpilledTexts
    text_name: str = field(default_factory=new_segment_name)

    def write_text_segment(self, db: str | Path) -> None:
        """The texts, copied from the spill a batch at a time (``write_text_segment``)."""
        n = self.corpus.n_docs
        write_text_chunks(db, self.texts.batches(), n, TEXT_BATCH, self.text_name)

    def write_tables(self, con: duckdb.DuckDBPyConnection, text_segment: Future) -> None:
        """``index.write_index_tables`` from what the run kept and spilled, then wait for the
        text segment and sync the segment folder (due before the store replaces the old)."""
        files, corpus, pairs = self.files, self.corpus, self.pairs
        n = corpus.n_docs
        create_index_tables(con)
        insert_meta(
            con, n, [files.segments["shingles"]], [(self.text_name, 0, n)],
            [files.segments["bands"]],
        )  # fmt: skip
        frequent = np.concatenate(files.frequent) if files.frequent else np.zeros(0, np.uint64)
        insert(con, "index_frequent", {"hash": frequent})
        insert(
            con,
            "index_docs",
            {"position": np.arange(n), "shingles": corpus.doc_shingles.astype(np.int32)},
        )
        flag_doc, flag_number = corpus.flagged
        flagged = (flag_doc.astype(np.int64) << 32) | flag_number
        for rows in spilled_sentences(corpus):
            insert(con, "index_sentences", _sentence_columns(rows, flagged))
        band_counts = None
        if corpus.band_pairs is not None:
            bands = corpus.band_pairs
            band_counts = ((bands.a << 32) | bands.b, bands.shared)
        insert(
            con,
            "index_pairs",
            {
                "a": pairs.a,
                "b": pairs.b,
                "shared": np.asarray(pairs.shared, dtype=np.int64),
                "bands": pair_band_counts(pairs, band_counts),
            },
        )
        insert(con, "index_links", files.links)
        con.execute("CHECKPOINT")  # while the text segment is still being written
        text_segment.result()
        sync_segment_dir(self.files.db)


def _sentence_columns(rows: np.ndarray, flagged: np.ndarray) -> dict[str, np.ndarray]:
    """``index.sentence_columns`` of spilled sentence rows (``flagged``: the boilerplate
    sentences' keys ``doc << 32 | sentence``, ascending)."""
    doc = rows["doc"].astype(np.int64)
    return {
        "doc": doc,
        "sentence": rows["sentence"].astype(np.int32),
        "hash": rows["hash"].astype(np.uint64),
        "from_end": rows["from_end"].astype(np.int32),
        "length": rows["length"].astype(np.int32),
        "credit": rows["credit"].astype(bool),
        "boilerplate": is_member((doc << 32) | rows["sentence"], flagged),
    }


def _fill_texts(con: duckdb.DuckDBPyConnection, texts: SpilledTexts) -> None:
    """Replace the articles table (written without texts) by one with them."""
    definitions = ", ".join(
        f'"{k}" {_SQL_TYPES[t]}' + (" USING COMPRESSION zstd" if k == "text" else "")
        for k, t in _ARTICLE_COLUMNS.items()
    )
    con.execute(f"CREATE TABLE articles_full ({definitions})")
    first = 0
    for column in texts.batches():
        size = len(column)
        con.register(
            "incoming", pa.table({"position": np.arange(first, first + size), "text": column})
        )
        con.execute(
            "INSERT INTO articles_full SELECT a.* REPLACE (t.text AS text) FROM articles a "
            "JOIN incoming t ON a.position = t.position ORDER BY a.position"
        )
        con.unregister("incoming")
        first += size
    con.execute("DROP TABLE articles")
    con.execute("ALTER TABLE articles_full RENAME TO articles")


def _insert(con: duckdb.DuckDBPyConnection, name: str, data: dict, columns: dict) -> None:
    con.register("incoming", pa.table({k: pa.array(data[k], type=t) for k, t in columns.items()}))
    con.execute(f"INSERT INTO {name} SELECT * FROM incoming")
    con.unregister("incoming")


def _spill_folder(db: str | Path | None) -> Path:
    """A fresh folder for the spill: next to the store (room for a copy of the corpus, and
    not a memory-backed /tmp), after removing those of runs that died."""
    if db is None:
        return Path(tempfile.mkdtemp(prefix="wiretrace-spill-"))
    target = Path(db)
    target.parent.mkdir(parents=True, exist_ok=True)
    prefix = f".{target.name}.spill-"
    for leftover in target.parent.glob(f"{glob.escape(prefix)}*"):
        pid = leftover.name[len(prefix) :]
        if pid.isdigit() and (int(pid) == os.getpid() or not _process_alive(int(pid))):
            shutil.rmtree(leftover, ignore_errors=True)
    folder = target.parent / f"{prefix}{os.getpid()}"
    folder.mkdir()
    return folder
