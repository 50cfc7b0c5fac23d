"""Incremental runs: add articles to a store, comparing only what the new ones can change.

The result equals a full run over the stored and the new articles together (the new
ones numbered after the stored ones, as ``wiretrace run`` numbers them), because every
decision that depends on more than one pair is redone for exactly the articles it
can change:

* **candidates.** A new article is paired through the persisted postings. A shingle
  that the new articles push over ``max_df`` stops counting for the stored pairs that
  share it, so those pairs' counts are lowered and the candidate rules re-applied
  (counts of stored pairs can only fall: a shingle in one stored article cannot pair
  two of them).
* **boilerplate.** A sentence's flag depends only on the sentences with the same words
  (``fingerprint.boilerplate_flags``), so the flags of the stored sentences that share
  words with a new sentence are recomputed from all their occurrences; a stored
  article whose flags change has all its pairs aligned again.
* **sentence bands** (when that channel is on): band hashes depend on boilerplate flags,
  so a stored article whose flags change has its band entries replaced, and the pair
  counts of every band hash touched are recounted before and after.
* **thin links.** Whether a link resting on a sentence or two stands depends on the
  stories around it (``engines.local.settle_links``), so that rule is re-run over every
  measured pair; a link it adds or drops is treated as changed.
* **lineage.** Parents, roots, family names, relations, secondary sources and changes
  depend only on the links inside a family, so they are rebuilt for the families that
  gained, lost or changed a link, from the persisted full-precision evidence of their
  links and their stored passages.

Store tables and the index change in one DuckDB transaction. A store without an
n-gram index (made by the Spark engine or an older version) gets a full run instead.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path

import duckdb
import numpy as np
import orjson
import pyarrow as pa

from .align import PassageTable, align_pairs, doc_feature_index
from .boilerplate import BoilerplateLines, boilerplate_groups, line_key, lines_of, samples
from .candidates import Postings, select_candidates, sentence_band_hashes, shared_counts
from .changes import lineage_changes
from .engines.local import (
    ALIGN_CHUNK,
    MeasuredPairs,
    Progress,
    RunResult,
    accept_records,
    against_stored,
    alignment_params,
    article_facts,
    measure_candidates,
    settle_links,
)
from .fingerprint import SentenceKeys, boilerplate_rules, sentence_features, sentence_keys, shingles
from .index import (
    StoreIndex,
    entries_in,
    has_index,
    insert,
    insert_meta,
    is_member,
    link_evidence,
    link_evidence_columns,
    merge_segments,
    merge_text_segments,
    open_segment,
    open_text_segment,
    plan_merge,
    remove_unused_segments,
    sentence_columns,
    store_params,
    sync_segment_dir,
    take_docs,
    tokenize_texts,
    write_segment,
    write_text_segment,
)
from .ingest import read_inputs
from .ingest.metadata import warnings_of
from .lineage import Orientation, PairEvidence, build_lineage, orient
from .model import Article, Rejection, RunParams
from .text import body_start, concat_batches

_LOW32 = np.int64(0xFFFFFFFF)


def add_articles(
    inputs: Iterable[str | Path],
    db: str | Path,
    params: RunParams | None = None,
    strict: bool = False,
    progress: Progress | None = None,
    column_map: Mapping[str, str] | None = None,
):
    """Add the articles of ``inputs`` to the store at ``db``; returns an ``api.RunSummary``.

    ``params`` only apply to a new store: an existing one keeps its own (a change of
    parameters needs a full run).
    """
    from .api import RunSummary, run

    started = time.perf_counter()
    path = Path(db)
    if not path.exists() or not has_index(path):
        if path.exists():
            with duckdb.connect(str(path), read_only=True) as con:
                params = _check_params(params, store_params(con))
        return run(inputs, db, params, strict, progress, column_map)
    index = StoreIndex(path, read_only=False)
    try:
        params = _check_params(params, index.params)
        read = _NewRecords(index, inputs, column_map, progress)
        new_articles, rejections = accept_records(read.records(), strict=strict)
        update = _Update(index, new_articles, rejections, params, progress)
        update.compute()
        clock = time.perf_counter()
        update.write()
        update.timings["write"] = time.perf_counter() - clock
        counts = update.totals()
    except _OlderStore:
        index.close()
        # made by an older wiretrace: its tables have other columns; a full run rewrites it
        return run(inputs, db, params, strict, progress, column_map)
    finally:
        index.close()
    remove_unused_segments(path)
    return RunSummary(
        read=read.read,
        stored=len(new_articles),
        rejected=len(rejections),
        already_stored=read.already,
        pairs=update.aligned_pairs,
        links=counts["links"],
        passages=counts["passages"],
        families=counts["families"],
        multi_article_families=counts["multi"],
        boilerplate_lines=counts["boilerplate_lines"],
        boilerplate_articles=counts["boilerplate_articles"],
        seconds=time.perf_counter() - started,
        rejections=rejections,
        result=None,
        warnings=[(a.origin, w) for a in new_articles for w in warnings_of(a)],
        timings=update.timings,
    )


def _check_params(given: RunParams | None, stored: RunParams) -> RunParams:
    if given is not None and given != stored:
        raise ValueError(
            "the store was made with other parameters; adding needs the same "
            "(run `wiretrace run` on it to change them)"
        )
    return stored


class _OlderStore(Exception):
    """The store's tables have other columns than this version writes."""


class _NewRecords:
    """The input records, checked against the store's ids as ``api.run`` checks them."""

    def __init__(self, index: StoreIndex, inputs, column_map, progress) -> None:
        self.index = index
        self.inputs = inputs
        self.column_map = column_map
        self.progress = progress
        self.read = 0
        self.already = 0

    def records(self) -> Iterator[Article | Rejection]:
        records = list(read_inputs(self.inputs, self.column_map))
        ids = sorted({r.id for r in records if isinstance(r, Article)})
        stored = {}
        if ids:
            con = self.index.con
            con.register("wanted_ids", pa.table({"id": ids}))
            found = con.execute(
                "SELECT a.id, a.position FROM articles a JOIN wanted_ids w ON a.id = w.id"
            ).fetchall()
            con.unregister("wanted_ids")
            texts = self.index.texts(np.array([p for _, p in found], dtype=np.int64))
            stored = {i: text for (i, _), text in zip(found, texts)}
        for record in records:
            self.read += 1
            stored_text = stored.get(record.id) if isinstance(record, Article) else None
            record = against_stored(record, stored_text)
            if record is None:
                self.already += 1
                continue
            yield record
            if self.progress:
                self.progress("read", 1, None)


def _postings(hashes: np.ndarray, docs: np.ndarray) -> Postings:
    """Postings of (hash, article) entries, distinct and sorted."""
    order = np.lexsort((docs, hashes))
    hashes, docs = hashes[order], docs[order].astype(np.int64)
    distinct = np.ones(hashes.shape[0], dtype=bool)
    distinct[1:] = (hashes[1:] != hashes[:-1]) | (docs[1:] != docs[:-1])
    hashes, docs = hashes[distinct], docs[distinct]
    new_group = np.ones(hashes.shape[0], dtype=bool)
    new_group[1:] = hashes[1:] != hashes[:-1]
    group_start = np.append(np.flatnonzero(new_group), hashes.shape[0]).astype(np.int64)
    return Postings(hashes, docs, group_start)


def _keys(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return (np.asarray(a, dtype=np.int64) << 32) | np.asarray(b, dtype=np.int64)


def _credit(keys: SentenceKeys) -> np.ndarray:
    if keys.credit is None:
        return np.zeros(keys.hashes.shape[0], dtype=bool)
    return np.asarray(keys.credit, dtype=bool)


def _find(sorted_keys: np.ndarray, keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Where each of ``keys`` is in ``sorted_keys``, and whether it is there at all."""
    if sorted_keys.size == 0:
        return np.zeros(keys.shape[0], dtype=np.int64), np.zeros(keys.shape[0], dtype=bool)
    at = np.minimum(np.searchsorted(sorted_keys, keys), sorted_keys.shape[0] - 1)
    return at, sorted_keys[at] == keys


def _split(keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    return keys >> 32, keys & _LOW32


def _in_list(values: Iterable[int]) -> str:
    return ", ".join(str(int(v)) for v in values) or "NULL"


class _Update:
    """One incremental run: computed in memory first, then written in one transaction."""

    def __init__(
        self,
        index: StoreIndex,
        new_articles: list[Article],
        rejections: list[Rejection],
        params: RunParams,
        progress: Progress | None,
    ) -> None:
        self.index = index
        self.con = index.con
        self.new_articles = new_articles
        self.rejections = rejections
        self.params = params
        self.progress = progress
        self.n_old = index.n_docs
        self.n_new = len(new_articles)
        self.aligned_pairs = 0
        self.timings: dict[str, float] = {}
        self._articles: dict[int, Article] = {self.n_old + i: a for i, a in enumerate(new_articles)}

    # -- computing ------------------------------------------------------------------------

    def compute(self) -> None:
        if self.n_new == 0:
            return
        clock = time.perf_counter()
        self.new_batch, _ = tokenize_texts([a.text for a in self.new_articles], self.params)
        self._tokenized = [(np.arange(self.n_old, self.n_old + self.n_new), self.new_batch)]
        self.timings["tokenise"] = time.perf_counter() - clock
        for stage in (
            self._candidates, self._boilerplate, self._bands, self._combine, self._align,
            self._settle, self._lineage,
        ):  # fmt: skip
            clock = time.perf_counter()
            stage()
            name = stage.__name__.strip("_")
            self.timings[name] = self.timings.get(name, 0.0) + time.perf_counter() - clock

    def _candidates(self) -> None:
        p, index = self.params, self.index
        grams = shingles(self.new_batch, p.shingle_size)
        self.new_doc_shingles = np.bincount(grams.docs, minlength=self.n_new).astype(np.int64)
        new = _postings(grams.hashes, grams.docs + self.n_old)
        del grams
        sizes = np.diff(new.group_start)
        hashes = new.hashes[new.group_start[:-1]]
        open_ = ~is_member(hashes, index.frequent)
        old_h, old_d = index.lookup(hashes[open_])
        old_df = np.searchsorted(old_h, hashes, "right") - np.searchsorted(old_h, hashes, "left")
        final_df = old_df + sizes
        newly_frequent = open_ & (final_df > p.max_df)
        useful = open_ & (final_df >= 2) & (final_df <= p.max_df)
        self.per_doc = np.concatenate([index.doc_shingles, self.new_doc_shingles])

        # pairs with a new article, from the postings of the shingles still counting
        from_old = is_member(old_h, hashes[useful])
        from_new = np.repeat(useful, sizes)
        both = _postings(
            np.concatenate([old_h[from_old], new.hashes[from_new]]),
            np.concatenate([old_d[from_old], new.docs[from_new]]),
        )
        keys, counts = shared_counts(both, p.max_df)
        with_new = (keys & _LOW32) >= self.n_old
        self.new_pairs = select_candidates(
            keys[with_new], counts[with_new], self.per_doc, p.min_shared_shingles,
            p.min_shared_share,
        )  # fmt: skip

        # stored shingle pairs that shared a shingle now frequent lose it
        stored = self.con.execute("SELECT a, b, shared, bands FROM index_pairs").fetchnumpy()
        old_keys = _keys(stored["a"], stored["b"])
        order = np.argsort(old_keys)
        self.old_keys = old_keys[order]
        self.old_shared = np.asarray(stored["shared"], dtype=np.int64)[order]
        self.old_bands = np.asarray(stored["bands"], dtype=np.int64)[order]
        lost = is_member(old_h, hashes[newly_frequent])
        dec_keys, dec_counts = shared_counts(_postings(old_h[lost], old_d[lost]), 1 << 62)
        at, hit = _find(self.old_keys, dec_keys)
        if self.old_keys.size:
            hit &= self.old_shared[at] > 0  # pairs proposed by shingles (not bands only)
        lowered = at[hit]
        shared = self.old_shared[lowered] - dec_counts[hit]
        still = select_candidates(
            self.old_keys[lowered], shared, self.per_doc, p.min_shared_shingles,
            p.min_shared_share,
        )  # fmt: skip
        kept = is_member(self.old_keys[lowered], np.sort(_keys(still.a, still.b)))
        # shingle counts that change: 0 where a pair no longer passes by shingles
        self.shingle_keys = np.concatenate(
            [self.old_keys[lowered], _keys(self.new_pairs.a, self.new_pairs.b)]
        )
        self.shingle_values = np.concatenate([np.where(kept, shared, 0), self.new_pairs.shared])
        self.newly_frequent = hashes[newly_frequent]
        # what the new segment holds: new postings of shingles that are not frequent
        stays_open = np.repeat(open_ & ~newly_frequent, sizes)
        self.segment_hashes = new.hashes[stays_open]
        self.segment_docs = new.docs[stays_open].astype(np.int32)

    def _outlet_codes(self) -> dict[str, int]:
        rows = self.con.execute(
            "SELECT outlet FROM articles WHERE outlet IS NOT NULL "
            "GROUP BY outlet ORDER BY min(position)"
        ).fetchall()
        codes = {outlet: i for i, (outlet,) in enumerate(rows)}
        for article in self.new_articles:
            if article.outlet is not None and article.outlet not in codes:
                codes[article.outlet] = len(codes)
        return codes

    def _boilerplate(self) -> None:
        rules = self.params.boilerplate
        new_keys = sentence_keys(self.new_batch, first_doc=self.n_old)
        codes = self._outlet_codes()
        new_outlets = [self._articles[d].outlet for d in range(self.n_old, self.n_old + self.n_new)]
        new_codes = np.array([-1 if o is None else codes[o] for o in new_outlets], np.int64)
        self.con.register("new_sentence_hashes", pa.table({"hash": np.unique(new_keys.hashes)}))
        old = self.con.execute(
            "SELECT s.doc, s.sentence, s.hash, s.from_end, s.length, s.credit, s.boilerplate, "
            "a.outlet "
            "FROM index_sentences s JOIN new_sentence_hashes n ON s.hash = n.hash "
            "JOIN articles a ON a.position = s.doc"
        ).fetchnumpy()
        self.con.unregister("new_sentence_hashes")
        old_codes = np.array(
            [-1 if o is None else codes[o] for o in old["outlet"].tolist()], dtype=np.int64
        )
        rows = SentenceKeys(
            hashes=np.concatenate([np.asarray(old["hash"], np.uint64), new_keys.hashes]),
            doc=np.concatenate([np.asarray(old["doc"], np.int64), new_keys.doc]),
            from_end=np.concatenate([np.asarray(old["from_end"], np.int64), new_keys.from_end]),
            lengths=np.concatenate([np.asarray(old["length"], np.int64), new_keys.lengths]),
            credit=np.concatenate([np.asarray(old["credit"], bool), _credit(new_keys)]),
        )
        row_codes = np.concatenate([old_codes, new_codes[new_keys.doc - self.n_old]])
        rule = boilerplate_rules(rows, row_codes, rules)
        flags = rule > 0
        n_old_rows = old["doc"].shape[0]
        # the boilerplate lines of every hash the new articles hold, from all its occurrences
        new_doc = new_keys.doc - self.n_old
        new_sentence = np.arange(new_doc.shape[0]) - self.new_batch.doc_sent_start[new_doc]
        sentence = np.concatenate([np.asarray(old["sentence"], np.int64), new_sentence])
        self.line_hashes = np.unique(new_keys.hashes)
        self.line_groups = boilerplate_groups(rows.hashes, rows.doc, sentence, row_codes, rule)
        self.outlet_names = {code: outlet for outlet, code in codes.items()}
        changed = flags[:n_old_rows] != np.asarray(old["boilerplate"], dtype=bool)
        self.flag_changes = (
            np.asarray(old["doc"], np.int64)[changed],
            np.asarray(old["sentence"], np.int64)[changed],
            flags[:n_old_rows][changed],
        )
        self.new_sentences = new_keys
        self.new_flags = flags[n_old_rows:]

    def _band_entries(
        self, batch, flags: np.ndarray, docs: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """Distinct sentence-band entries of a batch (articles ``docs``) under ``flags``."""
        features = sentence_features(batch, flags)
        found = sentence_band_hashes(
            features.sent_feat_start, features.hashes, batch.doc_sent_start,
            self.params.sentence_bands,
        )  # fmt: skip
        entries = _postings(found.hashes, np.asarray(docs, dtype=np.int64)[found.docs])
        return entries.hashes, entries.docs

    def _bands(self) -> None:
        """The band entries this update adds and removes, and the pair counts they change.

        A stored article whose boilerplate flags changed has other sentence features, so
        other band hashes: its old entries go, its new ones come, with the new articles'.
        """
        none = (np.zeros(0, dtype=np.uint64), np.zeros(0, dtype=np.int64))
        self.band_delta = (np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64))
        self.band_added = self.band_removed = none
        bands = self.params.sentence_bands
        if bands is None:
            return
        new_docs = np.arange(self.n_old, self.n_old + self.n_new, dtype=np.int64)
        add_h, add_d = self._band_entries(self.new_batch, self.new_flags, new_docs)
        rem_h, rem_d = none
        changed = np.unique(self.flag_changes[0])
        if changed.size:
            batch = self._tokens(changed)
            old_h, old_d = self._band_entries(batch, self._flags_of(changed, batch, False), changed)
            now_h, now_d = self._band_entries(batch, self._flags_of(changed, batch), changed)
            gone = ~entries_in(old_h, old_d, now_h, now_d)
            came = ~entries_in(now_h, now_d, old_h, old_d)
            rem_h, rem_d = old_h[gone], old_d[gone]
            add_h, add_d = (
                np.concatenate([now_h[came], add_h]),
                np.concatenate([now_d[came], add_d]),
            )
        live_h, live_d = self.index.lookup_bands(np.unique(np.concatenate([add_h, rem_h])))
        stay = ~entries_in(live_h, live_d, rem_h, rem_d)
        before = shared_counts(_postings(live_h, live_d), bands.max_df)
        after = shared_counts(
            _postings(np.concatenate([live_h[stay], add_h]), np.concatenate([live_d[stay], add_d])),
            bands.max_df,
        )
        keys, where = np.unique(np.concatenate([after[0], before[0]]), return_inverse=True)
        delta = np.bincount(
            where, np.concatenate([after[1], -before[1]]).astype(np.float64), keys.shape[0]
        ).astype(np.int64)
        self.band_delta = (keys[delta != 0], delta[delta != 0])
        self.band_added, self.band_removed = (add_h, add_d), (rem_h, rem_d)

    def _combine(self) -> None:
        """The new state of every pair whose shingle or band counts changed."""
        keys = np.union1d(self.shingle_keys, self.band_delta[0])
        at, known = _find(self.old_keys, keys)
        shared = np.where(known, self.old_shared[at] if self.old_keys.size else 0, 0)
        bands = np.where(known, self.old_bands[at] if self.old_keys.size else 0, 0)
        shared[np.searchsorted(keys, self.shingle_keys)] = self.shingle_values
        bands[np.searchsorted(keys, self.band_delta[0])] += self.band_delta[1]
        if np.any(bands < 0):
            raise RuntimeError("the store's band index is inconsistent; run a full run")
        now = (shared > 0) | (bands > 0)
        self.removed_keys = keys[known & ~now]
        self.added_keys = keys[~known & now]
        self.replaced_keys = keys[known]
        self.pair_rows = (keys[now], shared[now], bands[now])

    def _align(self) -> None:
        changed_docs = np.unique(self.flag_changes[0])
        old_a, old_b = _split(self.old_keys)
        surviving = ~is_member(self.old_keys, self.removed_keys)
        again = surviving & (is_member(old_a, changed_docs) | is_member(old_b, changed_docs))
        self.realigned_old = self.old_keys[again]
        keys = np.union1d(self.realigned_old, self.added_keys)
        self.aligned_pairs = int(keys.shape[0])
        self.aligned = self._align_keys(keys)

    def _align_keys(self, keys: np.ndarray):
        """Align and measure the pairs ``keys`` (ascending): (keys, articles, measured
        pairs, orientation, passages), pairs numbered by their place in ``keys``."""
        p = self.params
        a, b = _split(keys)
        docs = np.union1d(a, b)
        articles = self._load_articles(docs)
        texts = [articles[d].text for d in docs.tolist()]
        batch = self._tokens(docs)
        boilerplate = self._flags_of(docs, batch)
        features = sentence_features(batch, boilerplate)
        feature_index = doc_feature_index(batch, features)
        la, lb = np.searchsorted(docs, a), np.searchsorted(docs, b)
        tables = []
        for start in range(0, max(len(keys), 1), ALIGN_CHUNK):
            stop = min(start + ALIGN_CHUNK, len(keys))
            table = align_pairs(
                batch, features, feature_index, la[start:stop], lb[start:stop],
                alignment_params(p), boilerplate,
            )  # fmt: skip
            tables.append(PassageTable(**{**table.__dict__, "pair": table.pair + start}))
        passages = _concat_passages(tables)
        measured = measure_candidates(
            batch, la, lb, passages, p, texts, self._shingles_shared(keys)
        )
        facts = article_facts([articles[d] for d in docs.tolist()], p)
        orientation = orient(facts, measured.evidence, links_only=True)
        return keys, docs, measured, orientation, passages

    def _settle(self) -> None:
        """``settle_links`` over every pair it looks at: the stored ones not aligned again
        and those aligned now. A link can appear or vanish without its pair being aligned
        again (the story rule looks across pairs): those pairs are aligned now too."""
        keys, docs, measured, orientation, passages = self.aligned
        stored = self.con.execute("SELECT * FROM index_links").fetchnumpy()
        self.stored_links = stored
        s_keys = _keys(stored["a"], stored["b"])
        redone = np.union1d(self.removed_keys, self.realigned_old)
        keep = ~is_member(s_keys, redone)
        ev = measured.evidence
        flagged = measured.solid | measured.thin | measured.contact
        a = np.concatenate([np.asarray(stored["a"], np.int64)[keep], docs[ev.a[flagged]]])
        b = np.concatenate([np.asarray(stored["b"], np.int64)[keep], docs[ev.b[flagged]]])

        def flag(name: str) -> np.ndarray:
            return np.concatenate(
                [np.asarray(stored[name], bool)[keep], getattr(measured, name)[flagged]]
            )

        zeros = np.zeros(a.shape[0])
        solid, thin = flag("solid"), flag("thin")
        everything = MeasuredPairs(
            PairEvidence(a, b, zeros, zeros, zeros, zeros, zeros, zeros, zeros, zeros, solid | thin),
            solid, thin, flag("contact"),
        )  # fmt: skip
        final = settle_links(everything, self.n_old + self.n_new).reused
        n_keep = int(keep.sum())
        before = np.asarray(stored["reused"], bool)[keep]
        kept_keys = s_keys[keep]
        flip_on = np.sort(kept_keys[final[:n_keep] & ~before])
        self.flip_off = np.sort(kept_keys[~final[:n_keep] & before])
        reused = np.zeros(keys.shape[0], dtype=bool)
        reused[np.flatnonzero(flagged)] = final[n_keep:]
        settled = MeasuredPairs(
            PairEvidence(**{**ev.__dict__, "reused": reused}),
            measured.solid, measured.thin, measured.contact,
        )  # fmt: skip
        if flip_on.size:
            f_keys, f_docs, f_measured, f_orientation, f_passages = self._align_keys(flip_on)
            f_ev = f_measured.evidence
            f_settled = MeasuredPairs(
                PairEvidence(**{**f_ev.__dict__, "reused": np.ones(flip_on.shape[0], bool)}),
                f_measured.solid, f_measured.thin, f_measured.contact,
            )  # fmt: skip
            keys, docs, settled, orientation, passages = _merge_aligned(
                (keys, docs, settled, orientation, passages),
                (f_keys, f_docs, f_settled, f_orientation, f_passages),
            )
            self.realigned_old = np.union1d(self.realigned_old, flip_on)
        self.aligned = (keys, docs, settled, orientation, passages)

    def _shingles_shared(self, keys: np.ndarray) -> np.ndarray:
        """The shingles each pair shares as the run counts them (0: proposed by bands only)."""
        now_keys, now_shared, _ = self.pair_rows
        at, changed = _find(now_keys, keys)
        old_at, _ = _find(self.old_keys, keys)
        old = self.old_shared[old_at] if self.old_keys.size else np.zeros(keys.shape[0], np.int64)
        return np.where(changed, now_shared[at] if now_keys.size else 0, old).astype(np.int64)

    def _tokens(self, positions: np.ndarray):
        """The tokenised articles at ``positions`` (ascending); each article is tokenised
        once per update and taken from there afterwards."""
        positions = np.asarray(positions, dtype=np.int64)
        pieces, found = [], []
        remaining = positions
        for known, batch in self._tokenized:
            at, hit = _find(known, remaining)
            if hit.any():
                pieces.append(take_docs(batch, at[hit]))
                found.append(remaining[hit])
                remaining = remaining[~hit]
        if remaining.size:  # stored articles: tokenised again from their stored texts
            batch, _ = tokenize_texts(self._texts(remaining), self.params)
            self._tokenized.append((remaining, batch))
            pieces.append(batch)
            found.append(remaining)
        if not pieces:
            return tokenize_texts([], self.params)[0]
        combined = concat_batches(pieces)
        order = np.argsort(np.concatenate(found), kind="stable")
        return (
            combined
            if np.array_equal(order, np.arange(order.shape[0]))
            else take_docs(combined, order)
        )

    def _texts(self, positions: np.ndarray) -> list[str]:
        """The texts at ``positions``: of articles loaded already, or from the index."""
        known = self._articles
        wanted = [int(x) for x in positions.tolist()]
        missing = [x for x in wanted if x not in known]
        read = dict(zip(missing, self.index.texts(np.array(missing, dtype=np.int64))))
        return [known[x].text if x in known else read[x] for x in wanted]

    def _load_articles(self, positions: np.ndarray) -> dict[int, Article]:
        missing = [int(x) for x in positions.tolist() if int(x) not in self._articles]
        if missing:
            self.con.register("wanted_positions", pa.table({"position": missing}))
            rows = self.con.execute(
                "SELECT a.position, a.id, a.outlet, a.title, a.published_at, a.url, "
                "a.byline, a.metadata, a.origin FROM articles a "
                "JOIN wanted_positions w ON a.position = w.position"
            ).fetchall()
            self.con.unregister("wanted_positions")
            texts = self.index.texts(np.array([r[0] for r in rows], dtype=np.int64))
            for r, text in zip(rows, texts):
                self._articles[int(r[0])] = Article(
                    id=r[1], text=text, outlet=r[2], title=r[3], published_at=r[4], url=r[5],
                    byline=r[6], metadata=orjson.loads(r[7]) if r[7] else {}, origin=r[8],
                )  # fmt: skip
        return self._articles

    def _flags_of(self, docs: np.ndarray, batch, updated: bool = True) -> np.ndarray:
        """Boilerplate flags of the sentences of ``docs`` (ascending), after this update
        (or, not ``updated``, as stored)."""
        old = docs[docs < self.n_old]
        parts: list[np.ndarray] = []
        if old.size:
            self.con.register("flag_docs", pa.table({"doc": old}))
            found = self.con.execute(
                "SELECT s.doc, s.sentence, s.boilerplate FROM index_sentences s "
                "JOIN flag_docs f ON s.doc = f.doc ORDER BY s.doc, s.sentence"
            ).fetchnumpy()
            self.con.unregister("flag_docs")
            flags = np.asarray(found["boilerplate"], dtype=bool).copy()
            f_doc, f_sent, f_flag = self.flag_changes
            if f_doc.size and updated:
                row_keys = _keys(found["doc"], found["sentence"])
                at = np.searchsorted(row_keys, _keys(f_doc, f_sent))
                inside = at < row_keys.shape[0]
                inside[inside] = row_keys[at[inside]] == _keys(f_doc, f_sent)[inside]
                flags[at[inside]] = f_flag[inside]
            parts.append(flags)
        new = docs[docs >= self.n_old] - self.n_old
        if new.size:
            row_doc = self.new_sentences.doc - self.n_old
            parts.append(self.new_flags[is_member(row_doc, new)])
        flags = np.concatenate(parts) if parts else np.zeros(0, dtype=bool)
        if flags.shape[0] != batch.sent_start.shape[0]:
            raise RuntimeError("the store's sentence index does not match its texts; rebuild it")
        return flags

    def _lineage(self) -> None:
        keys, docs, settled, orientation, passages = self.aligned
        evidence = settled.evidence
        stored = {k: np.asarray(v)[np.asarray(self.stored_links["reused"], bool)]
                  for k, v in self.stored_links.items()}  # fmt: skip
        old_ev, old_or = link_evidence(stored)
        old_link_keys = _keys(old_ev.a, old_ev.b)
        redone = np.union1d(np.union1d(self.removed_keys, self.realigned_old), self.flip_off)
        gone = is_member(old_link_keys, redone)
        linked = np.flatnonzero(evidence.reused)
        new_link_keys = _keys(docs[evidence.a[linked]], docs[evidence.b[linked]])
        touched = np.union1d(
            np.concatenate([old_ev.a[gone], old_ev.b[gone]]),
            np.concatenate(_split(new_link_keys)),
        )
        touched = touched[touched < self.n_old]
        self.con.register("touched", pa.table({"position": touched}))
        self.old_labels = [
            r[0]
            for r in self.con.execute(
                "SELECT DISTINCT a.family FROM articles a JOIN touched t ON a.position = t.position"
            ).fetchall()
        ]
        self.con.unregister("touched")
        members = np.zeros(0, dtype=np.int64)
        if self.old_labels:
            self.con.register("labels", pa.table({"family": self.old_labels}))
            members = self.con.execute(
                "SELECT a.position FROM articles a JOIN labels l ON a.family = l.family"
            ).fetchnumpy()["position"]
            self.con.unregister("labels")
        subset = np.union1d(
            np.asarray(members, np.int64), np.arange(self.n_old, self.n_old + self.n_new)
        )
        self.subset = subset

        # the links inside the subset: stored ones not redone, and those found now
        keep = ~gone & is_member(old_ev.a, subset)
        if not np.all(is_member(old_ev.b[keep], subset)):
            raise RuntimeError("a family of the store is not closed under its links")
        sub_keys = np.concatenate([old_link_keys[keep], new_link_keys])
        order = np.argsort(sub_keys)
        n_kept = int(keep.sum())
        kept_ix, new_ix = np.flatnonzero(keep), linked

        def column(name: str) -> np.ndarray:
            values = np.concatenate(
                [getattr(old_ev, name)[kept_ix], getattr(evidence, name)[new_ix]]
            )
            return values[order]

        ga, gb = _split(sub_keys[order])
        sub_evidence = PairEvidence(
            a=np.searchsorted(subset, ga),
            b=np.searchsorted(subset, gb),
            **{
                name: column(name)
                for name in (
                    "containment_a",
                    "containment_b",
                    "weighted_a",
                    "weighted_b",
                    "exact_a",
                    "exact_b",
                    "shared",
                    "passages",
                )
            },  # fmt: skip
            reused=np.ones(sub_keys.shape[0], dtype=bool),
        )
        reasons = [old_or.reason[i] for i in kept_ix.tolist()] + [
            orientation.reason[i] for i in new_ix.tolist()
        ]
        sub_orientation = Orientation(
            np.concatenate([old_or.source_is_a[kept_ix], orientation.source_is_a[new_ix]])[order],
            [reasons[i] for i in order.tolist()],
        )
        articles = self._load_articles(subset)
        sub_articles = [articles[d] for d in subset.tolist()]
        facts = article_facts(sub_articles, self.params)
        lineage = build_lineage(facts, sub_evidence, sub_orientation)

        # passages: those found now (written), and the stored ones of kept links (for changes)
        position_in_sub = np.empty(len(order), dtype=np.int64)
        position_in_sub[order] = np.arange(len(order))
        found_now = position_in_sub[n_kept:]  # evidence row of each new link
        new_link_of_pair = np.full(len(keys), -1, dtype=np.int64)
        new_link_of_pair[linked] = found_now
        rows = np.flatnonzero(new_link_of_pair[passages.pair] >= 0)
        written = PassageTable(
            **{
                **{f: getattr(passages, f)[rows] for f in passages.__dict__},
                "pair": new_link_of_pair[passages.pair[rows]],
            }
        )
        # every link of the subset with its passages: what article rows (secondary sources)
        # and changes are made of; the stored ones are read back from the store
        kept_rows = np.flatnonzero(order < n_kept)
        stored = self._stored_passages(subset, sub_evidence, kept_rows, np.arange(len(kept_rows)))
        stored = PassageTable(**{**stored.__dict__, "pair": kept_rows[stored.pair]})
        every = _concat_passages([written, stored])
        rows = np.argsort(every.pair, kind="stable")
        every = PassageTable(**{f: getattr(every, f)[rows] for f in every.__dict__})
        starts = [body_start(a.text) for a in sub_articles]
        changes, self.changes_redone = self._changes(
            subset, sub_articles, lineage, sub_evidence, every, redone
        )
        self.result = RunResult(
            articles=sub_articles,
            rejections=self.rejections,
            params=self.params,
            facts=facts,
            body_starts=starts,
            evidence=sub_evidence,
            orientation=sub_orientation,
            passages=every,
            lineage=lineage,
            changes=changes,
        )
        self.redone_keys = redone
        self.new_links = (settled, orientation, docs)

    def _changes(self, subset, sub_articles, lineage, ev, every: PassageTable, redone):
        """``changes.lineage_changes`` for the articles of the subset whose parent, or whose
        passages with it, this update changed (the others keep their stored changes).
        Returns the changes and the ids whose stored changes they replace."""
        self.con.register("subset_positions", pa.table({"position": subset}))
        before = self.con.execute(
            "SELECT a.position, p.position FROM articles a JOIN subset_positions s "
            "ON a.position = s.position LEFT JOIN articles p ON p.id = a.parent"
        ).fetchall()
        self.con.unregister("subset_positions")
        old_parent = np.full(subset.shape[0], -1, dtype=np.int64)
        for child, parent in before:
            if parent is not None:
                old_parent[np.searchsorted(subset, child)] = parent
        parent = lineage.parent
        new_parent = np.where(parent >= 0, subset[np.maximum(parent, 0)], -1)
        pair_key = _keys(np.minimum(subset, new_parent), np.maximum(subset, new_parent))
        redo = (
            (subset >= self.n_old)
            | (new_parent != old_parent)
            | ((new_parent >= 0) & is_member(pair_key, np.sort(redone)))
        )
        replaced = [sub_articles[i].id for i in np.flatnonzero(redo).tolist()]
        children = np.flatnonzero(redo & (parent >= 0))
        if children.shape[0] == 0:
            return [], replaced
        # the evidence row of each child's link to its parent
        row_of_key = {int(k): i for i, k in enumerate(_keys(subset[ev.a], subset[ev.b]).tolist())}
        links = np.array([row_of_key[int(pair_key[c])] for c in children.tolist()], np.int64)
        local_docs = np.union1d(children, parent[children])
        local = np.searchsorted(local_docs, np.arange(subset.shape[0]))
        pair_a, pair_b = local[ev.a[links]], local[ev.b[links]]
        rows = np.flatnonzero(is_member(every.pair, np.unique(links)))
        where = np.full(ev.a.shape[0], -1, dtype=np.int64)
        where[links] = np.arange(links.shape[0])
        passages = PassageTable(
            **{
                **{f: getattr(every, f)[rows] for f in every.__dict__},
                "pair": where[every.pair[rows]],
            }
        )
        articles = [sub_articles[i] for i in local_docs.tolist()]
        batch = self._tokens(subset[local_docs])
        starts = [body_start(a.text) for a in articles]
        local_parent = np.full(local_docs.shape[0], -1, dtype=np.int64)
        local_parent[local[children]] = local[parent[children]]
        clock = time.perf_counter()
        changes = lineage_changes(articles, local_parent, pair_a, pair_b, passages, batch, starts)
        self.timings["changes"] = time.perf_counter() - clock
        return changes, replaced

    def _stored_passages(self, subset, ev, links, which) -> PassageTable:
        """The stored passages of the links ``links[which]`` (numbered by their place in
        ``links``), oriented as the evidence's pairs and in alignment order."""
        if which.shape[0] == 0:
            return _empty_passages()
        ids = self._articles
        pairs = pa.table(
            {
                "k": which.astype(np.int64),
                "x": [ids[int(subset[ev.a[links[j]]])].id for j in which.tolist()],
                "y": [ids[int(subset[ev.b[links[j]]])].id for j in which.tolist()],
            }
        )
        self.con.register("wanted_pairs", pairs)
        found = self.con.execute(
            "SELECT w.k, p.src = w.x AS a_is_src, p.src_start, p.src_end, p.dst_start, "
            "p.dst_end, p.kind, p.similarity "
            "FROM passages p JOIN wanted_pairs w ON p.src = w.x AND p.dst = w.y "
            "UNION ALL "
            "SELECT w.k, false, p.src_start, p.src_end, p.dst_start, p.dst_end, p.kind, "
            "p.similarity FROM passages p JOIN wanted_pairs w ON p.src = w.y AND p.dst = w.x"
        ).fetchnumpy()
        self.con.unregister("wanted_pairs")
        a_is_src = np.asarray(found["a_is_src"], dtype=bool)
        a_start = np.where(a_is_src, found["src_start"], found["dst_start"]).astype(np.int64)
        a_end = np.where(a_is_src, found["src_end"], found["dst_end"]).astype(np.int64)
        b_start = np.where(a_is_src, found["dst_start"], found["src_start"]).astype(np.int64)
        b_end = np.where(a_is_src, found["dst_end"], found["src_end"]).astype(np.int64)
        pair = np.asarray(found["k"], dtype=np.int64)
        order = np.lexsort((b_start, a_start, pair))  # alignment order: along side a
        zeros = np.zeros(pair.shape[0], dtype=np.int64)
        return PassageTable(
            pair=pair[order], a_start=a_start[order], a_end=a_end[order],
            b_start=b_start[order], b_end=b_end[order],
            verbatim=(np.asarray(found["kind"]) == "verbatim")[order],
            similarity=np.asarray(found["similarity"], dtype=np.float64)[order],
            shared=zeros, a_first_sentence=zeros, a_last_sentence=zeros,
            b_first_sentence=zeros, b_last_sentence=zeros,
        )  # fmt: skip

    # -- writing --------------------------------------------------------------------------

    def write(self) -> None:
        from .store import _write_tables

        con = self.con
        segment = None
        if self.n_new:
            segment = self._new_segments()
        con.execute("BEGIN TRANSACTION")
        try:
            if self.n_new:
                memory = duckdb.connect()
                _write_tables(memory, self.result, self.rejections)
                self._write_results(memory)
                self._write_boilerplate()
                memory.close()
                self._write_index(segment)
            self._write_rejections()
            self._write_counts()
            con.execute("COMMIT")
        except BaseException:
            con.execute("ROLLBACK")
            raise

    def _write_results(self, memory: duckdb.DuckDBPyConnection) -> None:
        con, subset = self.con, self.subset
        articles = memory.sql("SELECT * FROM articles ORDER BY position").to_arrow_table()
        articles = articles.set_column(
            articles.schema.get_field_index("position"), "position", pa.array(subset, pa.int64())
        )
        ids = articles.column("id").to_pylist()
        new_labels = sorted(set(articles.column("family").to_pylist()))
        con.register("subset_ids", pa.table({"id": ids}))
        con.register(
            "family_labels", pa.table({"family": sorted(set(self.old_labels) | set(new_labels))})
        )
        con.execute("DELETE FROM articles WHERE id IN (SELECT id FROM subset_ids)")
        _append(con, "articles", articles)
        con.execute(
            "DELETE FROM links WHERE source IN (SELECT id FROM subset_ids) "
            "OR derivative IN (SELECT id FROM subset_ids)"
        )
        _append(con, "links", memory.sql("SELECT * FROM links").to_arrow_table())
        # the subset's links are closed over it: all their passages are written again
        con.execute(
            "DELETE FROM passages WHERE src IN (SELECT id FROM subset_ids) "
            "OR dst IN (SELECT id FROM subset_ids)"
        )
        _append(con, "passages", memory.sql("SELECT * FROM passages").to_arrow_table())
        con.register("changes_redone", pa.table({"id": pa.array(self.changes_redone, pa.string())}))
        con.execute("DELETE FROM changes WHERE article IN (SELECT id FROM changes_redone)")
        con.unregister("changes_redone")
        _append(con, "changes", memory.sql("SELECT * FROM changes").to_arrow_table())
        con.execute("DELETE FROM families WHERE family IN (SELECT family FROM family_labels)")
        con.execute(
            "INSERT INTO families SELECT family, count(*) AS size, "
            "min(published_utc) AS first_published, max(published_utc) AS last_published, "
            "count(DISTINCT outlet) AS outlets FROM articles "
            "WHERE family IN (SELECT family FROM family_labels) GROUP BY family ORDER BY family"
        )
        for name in ("subset_ids", "family_labels"):
            con.unregister(name)

    def _write_boilerplate(self) -> None:
        """Replace the boilerplate lines of the hashes the new articles hold (``_boilerplate``
        regrouped all their occurrences; no other line can change)."""
        from .store import BOILERPLATE_COLUMNS

        con = self.con
        if not con.execute(
            "SELECT count(*) FROM information_schema.tables WHERE table_name = 'boilerplate'"
        ).fetchall()[0][0]:
            raise _OlderStore("boilerplate")
        con.register("line_keys", pa.table({"key": [line_key(h) for h in self.line_hashes]}))
        con.execute("DELETE FROM boilerplate WHERE key IN (SELECT key FROM line_keys)")
        con.unregister("line_keys")
        columns = self._boilerplate_lines().columns()
        _append(
            con,
            "boilerplate",
            pa.table({k: pa.array(columns[k], t) for k, t in BOILERPLATE_COLUMNS.items()}),
        )

    def _boilerplate_lines(self) -> BoilerplateLines:
        """``line_groups`` as table rows: ids and samples of their example articles."""
        groups = self.line_groups
        examples = np.unique(groups.doc)
        old, new = examples[examples < self.n_old], examples[examples >= self.n_old]
        ids = [info[0] for info in self.index.article_info(old)]
        ids += [self.new_articles[d].id for d in (new - self.n_old).tolist()]
        at = np.searchsorted(examples, groups.doc)
        texts = self._texts(examples)
        found = samples(self._tokens(examples), at, groups.sentence, [texts[i] for i in at])
        return lines_of(groups, [ids[i] for i in at.tolist()], self.outlet_names, found)

    def _write_rejections(self) -> None:
        """As ``api.run`` keeps them: one rejection per origin, the latest."""
        latest = list({r.origin: r for r in self.rejections}.values())
        if not latest:
            return
        columns = _rejection_columns(latest)
        self.con.register("new_rejections", pa.table(columns))
        self.con.execute(
            "DELETE FROM rejections WHERE origin IN (SELECT origin FROM new_rejections)"
        )
        self.con.unregister("new_rejections")
        insert(self.con, "rejections", columns)

    def _new_segments(self) -> tuple[list[tuple[str, int]], list[tuple[str, int, int]]]:
        """Write the new postings and texts as segments (merged with the newest ones when
        those are comparable in size); returns the segment lists of the updated store."""
        index = self.index
        name = write_segment(index.path, self.segment_hashes, self.segment_docs)
        segments = [*index.segments, open_segment(index.path, name)]
        count = plan_merge([len(s) for s in segments])
        if count:
            frequent = np.union1d(index.frequent, self.newly_frequent)
            merged = merge_segments(index.path, segments[-count:], frequent)
            segments = [*segments[:-count], merged]
        name = write_text_segment(index.path, [a.text for a in self.new_articles])
        texts = [*index.text_segments, open_text_segment(index.path, name, self.n_old)]
        count = plan_merge([len(s) for s in texts])
        if count:
            texts = [*texts[:-count], merge_text_segments(index.path, texts[-count:])]
        bands = self._new_band_segments()
        sync_segment_dir(index.path)
        return (
            [(s.name, len(s)) for s in segments],
            [(s.name, s.first, len(s)) for s in texts],
            bands,
        )

    def _new_band_segments(self) -> list[tuple[str, int]]:
        index = self.index
        add_h, add_d = self.band_added
        gone_h, gone_d = index.band_removed
        revive = entries_in(add_h, add_d, gone_h, gone_d)
        self.revived = (add_h[revive], add_d[revive])
        self.dropped = (np.zeros(0, dtype=np.uint64), np.zeros(0, dtype=np.int64))
        segments = list(index.band_segments)
        if (~revive).any() or not segments:
            new = _postings(add_h[~revive], add_d[~revive])
            name = write_segment(index.path, new.hashes, new.docs.astype(np.int32))
            segments.append(open_segment(index.path, name))
        count = plan_merge([len(s) for s in segments])
        if count:
            # tombstones of the merged entries are applied and dropped
            merged_h = np.concatenate([np.asarray(s.hashes) for s in segments[-count:]])
            merged_d = np.concatenate([np.asarray(s.docs) for s in segments[-count:]])
            stones_h = np.concatenate(
                [gone_h[~entries_in(gone_h, gone_d, *self.revived)], self.band_removed[0]]
            )
            stones_d = np.concatenate(
                [gone_d[~entries_in(gone_h, gone_d, *self.revived)], self.band_removed[1]]
            )
            dead = entries_in(merged_h, merged_d, stones_h, stones_d)
            kept = _postings(merged_h[~dead], merged_d[~dead])
            name = write_segment(index.path, kept.hashes, kept.docs.astype(np.int32))
            segments = [*segments[:-count], open_segment(index.path, name)]
            self.dropped = (merged_h[dead], merged_d[dead].astype(np.int64))
        return [(s.name, len(s)) for s in segments]

    def _write_index(self, segments) -> None:
        con = self.con
        insert_meta(con, self.n_old + self.n_new, *segments)
        insert(con, "index_frequent", {"hash": self.newly_frequent.astype(np.uint64)})
        insert(
            con,
            "index_docs",
            {
                "position": np.arange(self.n_old, self.n_old + self.n_new, dtype=np.int64),
                "shingles": self.new_doc_shingles.astype(np.int32),
            },
        )
        f_doc, f_sent, f_flag = self.flag_changes
        if f_doc.size:
            con.register(
                "flag_updates",
                pa.table({"doc": f_doc, "sentence": f_sent.astype(np.int32), "flag": f_flag}),
            )
            con.execute(
                "UPDATE index_sentences SET boilerplate = u.flag FROM flag_updates u "
                "WHERE index_sentences.doc = u.doc AND index_sentences.sentence = u.sentence"
            )
            con.unregister("flag_updates")
        insert(con, "index_sentences", sentence_columns(self.new_sentences, self.new_flags))
        self._write_pair_keys("index_pairs", self.replaced_keys)
        keys, shared, bands = self.pair_rows
        a, b = _split(keys)
        insert(con, "index_pairs", {"a": a, "b": b, "shared": shared, "bands": bands})
        self._write_band_entries()
        self._write_pair_keys("index_links", self.redone_keys)
        settled, orientation, docs = self.new_links
        ev = settled.evidence
        global_pairs = MeasuredPairs(
            PairEvidence(**{**ev.__dict__, "a": docs[ev.a], "b": docs[ev.b]}),
            settled.solid, settled.thin, settled.contact,
        )  # fmt: skip
        insert(con, "index_links", link_evidence_columns(global_pairs, ev.reused, orientation))
        # links the story rule dropped without aligning them again: stored, not links now
        stored = self.stored_links
        off = is_member(_keys(stored["a"], stored["b"]), self.flip_off)
        if off.any():
            rows = {k: np.asarray(v)[off] for k, v in stored.items()}
            rows["reused"] = np.zeros(int(off.sum()), dtype=bool)
            rows["source_is_a"] = np.zeros(int(off.sum()), dtype=bool)
            rows["reason"] = np.array([""] * int(off.sum()), dtype=object)
            insert(con, "index_links", {k: rows[k] for k in stored})

    def _write_band_entries(self) -> None:
        """Removed band entries become tombstones; added ones revive a tombstone or go to the
        new band segment (written by ``_new_segments``)."""
        con = self.con
        rem_h, rem_d = self.band_removed
        insert(con, "index_band_removed", {"hash": rem_h, "doc": rem_d})
        if self.revived[0].size:
            con.register("revived", pa.table({"hash": self.revived[0], "doc": self.revived[1]}))
            con.execute(
                "DELETE FROM index_band_removed WHERE EXISTS (SELECT 1 FROM revived r "
                "WHERE r.hash = index_band_removed.hash AND r.doc = index_band_removed.doc)"
            )
            con.unregister("revived")
        if self.dropped[0].size:
            con.register("dropped", pa.table({"hash": self.dropped[0], "doc": self.dropped[1]}))
            con.execute(
                "DELETE FROM index_band_removed WHERE EXISTS (SELECT 1 FROM dropped r "
                "WHERE r.hash = index_band_removed.hash AND r.doc = index_band_removed.doc)"
            )
            con.unregister("dropped")

    def _write_pair_keys(self, table: str, keys: np.ndarray) -> None:
        """Delete the rows of pairs ``keys`` from ``table``."""
        if keys.size == 0:
            return
        a, b = _split(keys)
        self.con.register("pair_keys", pa.table({"a": a, "b": b}))
        self.con.execute(
            f"DELETE FROM {table} WHERE EXISTS (SELECT 1 FROM pair_keys k "
            f"WHERE k.a = {table}.a AND k.b = {table}.b)"
        )
        self.con.unregister("pair_keys")

    def _write_counts(self) -> None:
        con = self.con
        totals = {
            "articles": con.execute("SELECT count(*) FROM articles").fetchone()[0],
            "rejected": con.execute("SELECT count(*) FROM rejections").fetchone()[0],
            "candidate_pairs": con.execute("SELECT count(*) FROM index_pairs").fetchone()[0],
        }
        for key, value in totals.items():
            con.execute("UPDATE run SET value = ? WHERE key = ?", [str(value), key])

    def totals(self) -> dict[str, int]:
        con = self.con
        sizes = con.execute("SELECT size FROM families").fetchnumpy()["size"]
        return {
            "links": con.execute("SELECT count(*) FROM links").fetchone()[0],
            "passages": con.execute("SELECT count(*) FROM passages").fetchone()[0],
            "families": int(sizes.shape[0]),
            "multi": int((sizes > 1).sum()),
            "boilerplate_lines": con.execute("SELECT count(*) FROM boilerplate").fetchone()[0],
            "boilerplate_articles": con.execute(
                "SELECT count(DISTINCT doc) FROM index_sentences WHERE boilerplate"
            ).fetchone()[0],
        }


def _append(con: duckdb.DuckDBPyConnection, name: str, table: pa.Table) -> None:
    columns = [row[0] for row in con.execute(f"DESCRIBE {name}").fetchall()]
    if columns != table.schema.names:
        raise _OlderStore(name)
    if table.num_rows == 0:
        return
    con.register("appended", table)
    con.execute(f"INSERT INTO {name} SELECT * FROM appended")
    con.unregister("appended")


def _rejection_columns(rejections: list[Rejection]) -> dict[str, pa.Array]:
    return {
        "origin": pa.array([r.origin for r in rejections], pa.string()),
        "reason": pa.array([r.reason for r in rejections], pa.string()),
        "record_id": pa.array([r.record_id for r in rejections], pa.string()),
    }


def _empty_passages() -> PassageTable:
    zeros = np.zeros(0, dtype=np.int64)
    return PassageTable(
        pair=zeros, a_start=zeros, a_end=zeros, b_start=zeros, b_end=zeros,
        verbatim=np.zeros(0, dtype=bool), similarity=np.zeros(0), shared=zeros,
        a_first_sentence=zeros, a_last_sentence=zeros, b_first_sentence=zeros,
        b_last_sentence=zeros,
    )  # fmt: skip


def _merge_aligned(first, second):
    """Two results of ``_align_keys`` as one, pairs in ascending order."""
    keys = np.concatenate([first[0], second[0]])
    order = np.argsort(keys, kind="stable")
    where = np.empty(order.shape[0], dtype=np.int64)
    where[order] = np.arange(order.shape[0])
    docs = np.union1d(first[1], second[1])
    n_first = first[0].shape[0]
    evidences, passages = [], []
    for part, shift in ((first, 0), (second, n_first)):
        ev = part[2].evidence
        evidences.append(
            {**ev.__dict__, "a": np.searchsorted(docs, part[1][ev.a]),
             "b": np.searchsorted(docs, part[1][ev.b])}
        )  # fmt: skip
        table = part[4]
        passages.append(PassageTable(**{**table.__dict__, "pair": where[table.pair + shift]}))
    merged_ev = PairEvidence(
        **{f: np.concatenate([e[f] for e in evidences])[order] for f in evidences[0]}
    )
    measured = MeasuredPairs(
        merged_ev,
        *(np.concatenate([getattr(first[2], f), getattr(second[2], f)])[order]
          for f in ("solid", "thin", "contact")),
    )  # fmt: skip
    orientation = Orientation(
        np.concatenate([first[3].source_is_a, second[3].source_is_a])[order],
        [(first[3].reason + second[3].reason)[i] for i in order.tolist()],
    )
    table = _concat_passages(passages)
    rows = np.argsort(table.pair, kind="stable")
    table = PassageTable(**{f: getattr(table, f)[rows] for f in table.__dict__})
    return keys[order], docs, measured, orientation, table


def _concat_passages(tables: list[PassageTable]) -> PassageTable:
    return PassageTable(
        **{f: np.concatenate([getattr(t, f) for t in tables]) for f in tables[0].__dict__}
    )
