"""The local engine: every stage in this process, NumPy and numba doing the heavy loops."""

from __future__ import annotations

import dataclasses
import functools
import re
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import numpy as np
from rapidfuzz import fuzz

from ..align import AlignParams, PassageTable, align_pairs, doc_feature_index
from ..boilerplate import BoilerplateLines, find_boilerplate
from ..candidates import (
    build_postings,
    candidate_pairs,
    select_candidates,
    sentence_band_hashes,
    sentence_pairs,
    shared_counts,
    union_pairs,
)
from ..changes import lineage_changes
from ..fingerprint import sentence_features, shingles
from ..index import IndexParts, index_parts, tokenize_texts
from ..lineage import (
    DEFAULT_WIRE_AGENCIES,
    ArticleFacts,
    Lineage,
    Orientation,
    PairEvidence,
    build_lineage,
    is_wire_outlet,
    orient,
)
from ..model import Article, Change, Rejection, RunParams
from ..text import TokenizedBatch, body_start_and_place, dateline_place
from ..timestamps import parse_timestamp

Progress = Callable[[str, int, int | None], None]  # (stage, advance, total)

ALIGN_CHUNK = 100_000


@dataclass
class RunResult:
    """Everything a run found, in columnar form; ``store`` and ``export`` read it."""

    articles: list[Article]
    rejections: list[Rejection]
    params: RunParams
    facts: ArticleFacts
    body_starts: list[int]
    evidence: PairEvidence
    orientation: Orientation
    passages: PassageTable  # ``pair`` indexes ``evidence``
    lineage: Lineage
    timings: dict[str, float] = field(default_factory=dict)
    candidate_pairs: int = 0
    changes: list[Change] = field(default_factory=list)  # each article against its parent
    index: IndexParts | None = None  # with ``keep_index``: what the store persists (index.py)
    boilerplate: BoilerplateLines | None = None  # the lines kept out of reuse (boilerplate.py)
    # what changed, not yet described (``run_articles(defer_changes=True)``): a call
    pending_changes: Callable[[], list[Change]] | None = None

    @property
    def link_indices(self) -> np.ndarray:
        return np.nonzero(self.evidence.reused)[0]


class StageClock:
    """Seconds per pipeline stage: ``lap(stage)`` closes the stage that just ran."""

    def __init__(self, on_lap: Callable[[str], None] | None = None) -> None:
        self.timings: dict[str, float] = {}
        self._last = time.perf_counter()
        self._on_lap = on_lap

    def lap(self, stage: str) -> None:
        now = time.perf_counter()
        self.timings[stage] = now - self._last
        self._last = now
        if self._on_lap is not None:
            self._on_lap(stage)


def against_stored(
    record: Article | Rejection, stored_text: str | None
) -> Article | Rejection | None:
    """``record`` checked against the text stored under its id: ``None`` when the same text
    is already stored, a rejection when a different one is, else the record itself."""
    if not isinstance(record, Article) or stored_text is None:
        return record
    if stored_text == record.text:
        return None
    return Rejection(
        record.origin, f"id {record.id!r} is already stored with a different text", record.id
    )


def accept_records(
    records: Iterable[Article | Rejection], strict: bool = False
) -> tuple[list[Article], list[Rejection]]:
    """Split records into articles and rejections; a repeated id is a rejection."""
    articles: list[Article] = []
    rejections: list[Rejection] = []
    seen: dict[str, Article] = {}
    for record in records:
        if isinstance(record, Article) and record.id in seen:
            first = seen[record.id]
            same = first.text == record.text
            record = Rejection(
                record.origin,
                f"duplicate id {record.id!r} (first at {first.origin}"
                + (", same text)" if same else ", different text)"),
                record.id,
            )
        if isinstance(record, Rejection):
            if strict:
                raise ValueError(f"{record.origin}: {record.reason}")
            rejections.append(record)
            continue
        seen[record.id] = record
        articles.append(record)
    return articles, rejections


def run_articles(
    articles: list[Article],
    rejections: list[Rejection] | None = None,
    params: RunParams = RunParams(),
    progress: Progress | None = None,
    keep_index: bool = False,
    defer_changes: bool = False,
) -> RunResult:
    """Run every stage on articles already read.

    With ``keep_index``, the result also carries the n-gram index (``index.py``) that
    queries and incremental runs need, for the store to persist. With ``defer_changes``,
    what changed is left to ``result.pending_changes`` (a call): the store runs it while
    DuckDB writes the other tables.
    """
    clock = StageClock()
    lap = clock.lap
    timings = clock.timings
    texts = [a.text for a in articles]
    leads = [body_start_and_place(t) for t in texts]
    batch, starts = tokenize_texts(
        texts,
        params,
        progress=(lambda k: progress("tokenise", k, len(texts))) if progress else None,
        starts=[start for start, _ in leads],
    )
    places = [place for _, place in leads]
    lap("tokenise")
    grams = shingles(batch, params.shingle_size)
    index_postings = None
    if keep_index:  # the same steps as candidate_pairs, keeping the postings
        index_postings = build_postings(grams)
        doc_shingles = np.bincount(grams.docs, minlength=len(articles))
        keys, counts = shared_counts(index_postings, params.max_df)
        pairs = select_candidates(
            keys, counts, doc_shingles, params.min_shared_shingles, params.min_shared_share
        )
        del keys, counts
    else:
        pairs = candidate_pairs(
            grams, params.max_df, params.min_shared_shingles, params.min_shared_share
        )
    del grams
    lap("candidates")
    boilerplate, boilerplate_lines = find_boilerplate(batch, articles, params.boilerplate)
    features = sentence_features(batch, boilerplate)
    band_postings = band_counts = None
    if params.sentence_bands is not None:
        bands = sentence_band_hashes(
            features.sent_feat_start, features.hashes, batch.doc_sent_start, params.sentence_bands
        )
        if keep_index:  # the same steps as sentence_pairs, keeping postings and counts
            band_postings = build_postings(bands)
            band_counts = shared_counts(band_postings, params.sentence_bands.max_df)
            band_pairs = select_candidates(*band_counts, np.zeros(0), min_shared=1)
        else:
            band_pairs = sentence_pairs(bands, params.sentence_bands.max_df)
        pairs = union_pairs(pairs, band_pairs)
        del bands
    kept_index = None
    if index_postings is not None:
        kept_index = index_parts(
            batch, index_postings, doc_shingles, pairs, boilerplate, params.max_df,
            band_postings, band_counts,
        )  # fmt: skip
        del index_postings, band_postings
    index = doc_feature_index(batch, features)
    align_params = alignment_params(params)
    tables = []
    for start in range(0, len(pairs), ALIGN_CHUNK):
        stop = min(start + ALIGN_CHUNK, len(pairs))
        table = align_pairs(
            batch,
            features,
            index,
            pairs.a[start:stop],
            pairs.b[start:stop],
            align_params,
            boilerplate,
        )
        tables.append(_shift_pairs(table, start))
        if progress:
            progress("align", stop - start, len(pairs))
    passages = (
        _concat_tables(tables)
        if tables
        else align_pairs(batch, features, index, pairs.a, pairs.b, align_params)
    )
    lap("align")
    measured = measure_candidates(batch, pairs.a, pairs.b, passages, params, texts, pairs.shared)
    evidence = settle_links(measured, batch.n_docs)
    if kept_index is not None:
        kept_index = dataclasses.replace(kept_index, measured=measured)
    del measured
    facts = article_facts(articles, params, places)
    orientation = orient(facts, evidence, links_only=True)
    lineage = build_lineage(facts, evidence, orientation)
    lap("lineage")
    changes = []
    pending_changes = None
    if params.changes:
        describe = functools.partial(
            lineage_changes,
            articles,
            lineage.parent,
            evidence.a,
            evidence.b,
            passages,
            batch,
            starts,
        )
        if defer_changes:
            pending_changes = describe
        else:
            changes = describe()
            lap("changes")
    return RunResult(
        articles=articles,
        rejections=rejections or [],
        params=params,
        facts=facts,
        body_starts=starts,
        evidence=evidence,
        orientation=orientation,
        passages=passages,
        lineage=lineage,
        timings=timings,
        candidate_pairs=len(pairs),
        changes=changes,
        pending_changes=pending_changes,
        index=kept_index,
        boilerplate=boilerplate_lines,
    )


def alignment_params(params: RunParams) -> AlignParams:
    return AlignParams(
        params.min_shared, params.min_overlap, params.merge_overlap, params.neighbour_overlap
    )


def article_facts(
    articles: list[Article],
    params: RunParams,
    dateline_places: list[str | None] | None = None,
    only: np.ndarray | None = None,
) -> ArticleFacts:
    """What lineage needs of each article (``dateline_places``: already found ones).

    ``only`` (a mask): the articles whose time, wire status and dateline are wanted; the
    others' are left blank (no time, not wire, no dateline)."""
    agencies = params.wire_agencies or DEFAULT_WIRE_AGENCIES
    wanted = [True] * len(articles) if only is None else only.tolist()
    if dateline_places is None:
        dateline_places = [dateline_place(a.text) if w else None for a, w in zip(articles, wanted)]
    blank = parse_timestamp(None)
    return ArticleFacts(
        ids=[a.id for a in articles],
        outlets=[a.outlet for a in articles],
        titles=[a.title for a in articles],
        texts=[a.text for a in articles],
        timestamps=[
            parse_timestamp(a.published_at) if w else blank for a, w in zip(articles, wanted)
        ],
        wire=[is_wire_outlet(a.outlet, agencies) if w else False for a, w in zip(articles, wanted)],
        dateline_places=dateline_places,
    )


def measure_pairs(
    batch: TokenizedBatch,
    a: np.ndarray,
    b: np.ndarray,
    passages: PassageTable,
    params: RunParams,
    texts: list[str],
    shingles_shared: np.ndarray | None = None,
) -> PairEvidence:
    """Containment both ways and the link decision for every aligned pair
    (``measure_candidates``, then ``settle_links`` over all of them)."""
    measured = measure_candidates(batch, a, b, passages, params, texts, shingles_shared)
    return settle_links(measured, batch.n_docs)


@dataclass(frozen=True)
class MeasuredPairs:
    """What each aligned pair shows on its own, before the one rule that looks across
    pairs (``settle_links``). ``evidence.reused`` is ``solid | thin`` here, and the
    character-level shares (``exact_*``) are measured for all of those.
    ``thin``: a would-be link resting on a sentence or two; ``contact``: the pair has a
    closely matching passage."""

    evidence: PairEvidence
    solid: np.ndarray
    thin: np.ndarray
    contact: np.ndarray


def settle_links(measured: MeasuredPairs, n_docs: int) -> PairEvidence:
    """The links among measured pairs: solid ones, and thin ones of texts that do not
    straddle stories (a rule over the whole graph of pairs: any subset that holds every
    solid, thin or contact pair gives the same answer)."""
    ev, solid, thin = measured.evidence, measured.solid, measured.thin
    if thin.any():
        thin = thin & ~_straddles_stories(ev.a, ev.b, solid, thin, measured.contact, n_docs)
    reused = solid | thin
    return PairEvidence(
        **{
            **ev.__dict__,
            "exact_a": np.where(reused, ev.exact_a, 0.0),
            "exact_b": np.where(reused, ev.exact_b, 0.0),
            "reused": reused,
        }
    )


def measure_candidates(
    batch: TokenizedBatch,
    a: np.ndarray,
    b: np.ndarray,
    passages: PassageTable,
    params: RunParams,
    texts: list[str],
    shingles_shared: np.ndarray | None = None,
) -> MeasuredPairs:
    """Containment both ways and the link evidence of every aligned pair, on its own.

    For linked pairs, each passage is also compared character by character
    (quotes, spelling, punctuation): a copy of a copy keeps its parent's house
    style, which the normalised comparison cannot see.

    ``shingles_shared``: the n-grams each pair shares; a pair that shares none (proposed
    only by the sentence channel) links only through closely matching sentences, as
    articles on one event tell the same facts in similar words.
    """
    n_pairs = a.shape[0]
    extent = _body_extent(batch)
    a_len = (passages.a_end - passages.a_start).astype(np.float64)
    b_len = (passages.b_end - passages.b_start).astype(np.float64)
    covered_a = np.bincount(passages.pair, a_len, minlength=n_pairs)
    covered_b = np.bincount(passages.pair, b_len, minlength=n_pairs)
    weighted_a = np.bincount(passages.pair, a_len * passages.similarity, minlength=n_pairs)
    weighted_b = np.bincount(passages.pair, b_len * passages.similarity, minlength=n_pairs)
    shared = np.bincount(passages.pair, passages.shared, minlength=n_pairs).astype(np.int64)
    solid = passages.similarity >= params.link_min_similarity
    strength = np.bincount(
        passages.pair,
        np.where(solid, passages.shared * passages.similarity, 0.0),
        minlength=n_pairs,
    )
    count = np.bincount(passages.pair, minlength=n_pairs).astype(np.int64)
    len_a = np.maximum(extent[a], 1)
    len_b = np.maximum(extent[b], 1)
    cont_a = np.minimum(covered_a / len_a, 1.0)
    cont_b = np.minimum(covered_b / len_b, 1.0)
    close = passages.similarity >= params.close_link_similarity
    close_strength = np.bincount(
        passages.pair,
        np.where(close, passages.shared * passages.similarity, 0.0),
        minlength=n_pairs,
    )
    contained = np.maximum(cont_a, cont_b)
    linked = (
        (shared >= params.min_link_features)
        & (strength >= params.min_link_strength)
        & ((contained >= params.min_link_containment) | (strength >= params.strong_link_strength))
    )
    if shingles_shared is not None:
        linked &= shingles_shared > 0
    close_only = (
        ~linked
        & (close_strength >= params.close_link_strength)
        & (contained >= params.close_link_containment)
    )
    if close_only.any():
        # a few close sentences are a borrowing only if they report the same figures; two
        # monthly reports from one template differ exactly there
        agree = _same_numbers(texts, a, b, passages, close & close_only[passages.pair])
        close_strength = np.bincount(
            passages.pair,
            np.where(close & agree, passages.shared * passages.similarity, 0.0),
            minlength=n_pairs,
        )
        close_only &= close_strength >= params.close_link_strength
    # links resting on a sentence or two ("thin") are dropped for texts that touch several
    # stories; stories are built from the links that rest on more (``settle_links``)
    thin = (close_only | linked) & (contained < params.solid_link_containment)
    solid = linked & ~thin
    close_contact = np.bincount(passages.pair, close, minlength=n_pairs) > 0
    reused = solid | thin
    exact_a, exact_b = _exact_weighted(texts, a, b, passages, reused, len_a, len_b)
    evidence = PairEvidence(
        a=a,
        b=b,
        exact_a=exact_a,
        exact_b=exact_b,
        containment_a=cont_a,
        containment_b=cont_b,
        weighted_a=np.minimum(weighted_a / len_a, 1.0),
        weighted_b=np.minimum(weighted_b / len_b, 1.0),
        shared=shared,
        passages=count,
        reused=reused,
    )
    return MeasuredPairs(evidence, solid, thin, close_contact)


def _straddles_stories(
    a: np.ndarray,
    b: np.ndarray,
    linked: np.ndarray,
    thin: np.ndarray,
    contact: np.ndarray,
    n_docs: int,
) -> np.ndarray:
    """Thin links of articles whose text closely matches three stories or more.

    An outlet that lifts a sentence or two takes them from one story (perhaps also
    matching a background sentence of a second story on the same topic); a text whose
    sentences closely match passages of many unrelated stories (a digest, generated
    text) is not a copy of any of them. Stories are the components of the solid links
    with two articles or more; ``contact``: pairs with a closely matching passage.
    """
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    graph = coo_matrix(
        (np.ones(int(linked.sum()), dtype=np.int8), (a[linked], b[linked])), shape=(n_docs, n_docs)
    )
    _, story = connected_components(graph, directed=False)
    story_size = np.bincount(story)
    touching = np.nonzero(contact & ~linked)[0]
    ends = np.concatenate((a[touching], b[touching]))
    other_story = np.concatenate((story[b[touching]], story[a[touching]]))
    # lone articles are borrowers, not stories: a story lends to many of them
    told = story_size[other_story] > 1
    ends, other_story = ends[told], other_story[told]
    order = np.lexsort((other_story, ends))
    ends, other_story = ends[order], other_story[order]
    new_end = np.ones(ends.shape[0], dtype=bool)
    new_end[1:] = ends[1:] != ends[:-1]
    new_story = new_end.copy()
    new_story[1:] |= other_story[1:] != other_story[:-1]
    stories_per_end = np.bincount(ends[new_story], minlength=n_docs)
    straddling = stories_per_end > 2
    weak = np.nonzero(thin)[0]
    out = np.zeros(a.shape[0], dtype=bool)
    out[weak] = straddling[a[weak]] | straddling[b[weak]]
    # a borrowing is from a story: two lone articles sharing a sentence or two are not one
    out[weak] |= (story_size[story[a[weak]]] < 2) & (story_size[story[b[weak]]] < 2)
    return out


_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")


def _same_numbers(texts, a, b, passages, rows_mask) -> np.ndarray:
    """For the passages in ``rows_mask``: True where both sides cite the same numbers."""
    agree = np.ones(len(passages), dtype=bool)
    for row in np.nonzero(rows_mask)[0].tolist():
        k = passages.pair[row]
        text_a = texts[a[k]][passages.a_start[row] : passages.a_end[row]]
        text_b = texts[b[k]][passages.b_start[row] : passages.b_end[row]]
        numbers_a = {n.replace(",", "") for n in _NUMBER.findall(text_a)}
        numbers_b = {n.replace(",", "") for n in _NUMBER.findall(text_b)}
        agree[row] = numbers_a == numbers_b
    return agree


def _exact_weighted(texts, a, b, passages, reused, len_a, len_b):
    n_pairs = a.shape[0]
    rows = np.nonzero(reused[passages.pair])[0]
    ratios = np.zeros(len(passages), dtype=np.float64)
    for row in rows.tolist():
        k = passages.pair[row]
        text_a = texts[a[k]][passages.a_start[row] : passages.a_end[row]]
        text_b = texts[b[k]][passages.b_start[row] : passages.b_end[row]]
        ratios[row] = fuzz.ratio(text_a, text_b) / 100.0
    a_len = (passages.a_end - passages.a_start) * ratios
    b_len = (passages.b_end - passages.b_start) * ratios
    exact_a = np.minimum(np.bincount(passages.pair, a_len, minlength=n_pairs) / len_a, 1.0)
    exact_b = np.minimum(np.bincount(passages.pair, b_len, minlength=n_pairs) / len_b, 1.0)
    return exact_a, exact_b


def _body_extent(batch: TokenizedBatch) -> np.ndarray:
    """Characters from each text's first sentence start to its last sentence end."""
    first = batch.doc_sent_start[:-1]
    last = batch.doc_sent_start[1:] - 1
    has = last >= first
    extent = np.zeros(batch.n_docs, dtype=np.float64)
    extent[has] = batch.sent_end[last[has]] - batch.sent_start[first[has]]
    return extent


def _shift_pairs(table: PassageTable, offset: int) -> PassageTable:
    if offset == 0:
        return table
    return PassageTable(**{**table.__dict__, "pair": table.pair + offset})


def _concat_tables(tables: list[PassageTable]) -> PassageTable:
    if len(tables) == 1:
        return tables[0]
    fields = tables[0].__dict__.keys()
    return PassageTable(
        **{name: np.concatenate([getattr(t, name) for t in tables]) for name in fields}
    )
