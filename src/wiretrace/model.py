"""The plain data that passes between the stages of the pipeline."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal

from .candidates import SentenceBands
from .fingerprint import BoilerplateRules

if TYPE_CHECKING:
    from .variants import VariantRules

PassageKind = Literal["verbatim", "edited"]


@dataclass(frozen=True)
class Article:
    """One news article as read from the input.

    ``text`` is the body (without the title); every character offset wiretrace
    reports is an index into it. ``origin`` says where the record came from
    (``file:line``), for messages.
    """

    id: str
    text: str
    outlet: str | None = None
    title: str | None = None
    published_at: str | None = None
    url: str | None = None
    byline: str | None = None
    metadata: dict[str, Any] = field(default_factory=dict)
    origin: str = ""


@dataclass(frozen=True)
class Rejection:
    """An input record that was not stored, and why."""

    origin: str
    reason: str
    record_id: str | None = None


@dataclass(frozen=True)
class Timestamp:
    """A parsed publication time with its precision.

    ``precision`` is ``"second"``, ``"minute"``, ``"day"`` or ``"none"``; ``utc`` is
    ``None`` when the date is missing or could not be parsed, and ``problem``
    says why.
    """

    utc: datetime | None
    precision: str
    problem: str | None = None


@dataclass(frozen=True)
class Passage:
    """A reused passage: ``[a_start, a_end)`` of article A matches ``[b_start, b_end)`` of B."""

    a_start: int
    a_end: int
    b_start: int
    b_end: int
    kind: PassageKind
    similarity: float

    def a_text(self, text_a: str) -> str:
        return text_a[self.a_start : self.a_end]

    def b_text(self, text_b: str) -> str:
        return text_b[self.b_start : self.b_end]


@dataclass(frozen=True)
class Direction:
    """Which side of a pair is the source, and the evidence for it."""

    source: Literal["a", "b"] | None
    reason: str
    evidence: tuple[str, ...] = ()


@dataclass(frozen=True)
class Comparison:
    """What ``wiretrace.compare`` returns for two texts."""

    passages: list[Passage]
    containment_a: float
    containment_b: float
    source: Literal["a", "b"] | None
    reused: bool
    similarity: float
    direction: Direction


@dataclass(frozen=True)
class QueryMatch:
    """A stored article that is a likely source of a queried text (``wiretrace.query``).

    In ``passages``, side ``a`` is the query text and side ``b`` the stored article.
    ``containment_query``: share of the query inside the passages;
    ``containment_source``: share of the stored article inside them.
    """

    article_id: str
    title: str | None
    outlet: str | None
    containment_query: float
    containment_source: float
    similarity: float
    passages: list[Passage]


@dataclass(frozen=True)
class Link:
    """Two articles that share text, oriented source -> derivative where known."""

    source_id: str
    derivative_id: str
    containment_source: float  # share of the source's text inside the shared passages
    containment_derivative: float  # share of the derivative's text inside them
    passages: int
    reused_chars: int
    similarity: float
    direction_reason: str


@dataclass(frozen=True)
class LineageEntry:
    """An article's place in its family: its parent (may be a copy itself) and the root."""

    article_id: str
    family_id: str
    parent_id: str | None
    root_id: str
    parent_score: float
    reason: str


# in the order reports list them
ChangeKind = Literal[
    "headline_changed",
    "sentence_added",
    "sentence_dropped",
    "quote_added",
    "quote_removed",
    "source_added",
    "source_removed",
    "number_changed",
    "number_added",
    "number_removed",
    "name_added",
    "name_removed",
]


@dataclass(frozen=True, slots=True)
class Change:
    """One thing a derivative changed against its parent.

    ``side`` says whose text ``[start, end)`` indexes: ``"article"`` (the
    derivative: what it added or changed) or ``"parent"`` (what it dropped).
    A headline change has no offsets. ``detail`` is a short human-readable note:
    who is quoted, the old value of a changed number, how a source is cited.
    """

    article: str
    parent: str
    kind: ChangeKind
    text: str
    detail: str
    side: Literal["article", "parent"]
    start: int | None
    end: int | None


@dataclass(frozen=True)
class RunParams:
    """Every setting of a run; stored with its results so a run can be repeated.

    ``shingle_size``: tokens per shingle for candidate generation.
    ``max_df``: shingles in more articles than this are boilerplate, not evidence.
    ``min_shared_shingles``: distinct shingles a pair must share to be aligned.
    ``min_shared_share``: ... and that share of the shorter article's shingles.
    ``min_link_features``: shared sentence features for a pair to count as reuse.
    ``min_link_strength`` and ``link_min_similarity``: a link needs passages of
    similarity at least ``link_min_similarity`` whose shared features times
    similarity add up to ``min_link_strength`` (solid sentences, not a scatter of
    common phrases).
    ``min_link_containment``: share of the more contained side's text in passages,
    unless the passages' strength reaches ``strong_link_strength`` (a long article
    quoting several sentences of another). One stock sentence in common is not reuse.
    ``close_link_*``: or a few closely matching sentences (similarity at least
    ``close_link_similarity``, strength ``close_link_strength``) that make up at least
    ``close_link_containment`` of one side: an outlet borrowing one to three sentences.
    ``boilerplate``: when a recurring sentence is boilerplate, not reuse.
    ``solid_link_containment``: links below it (a sentence or two) are dropped for texts
    that closely match three stories or more (digests, generated text).
    ``changes``: describe what each derivative changed against its parent (the slowest
    stage; turn off for reuse and lineage alone).
    ``sentence_bands``: a second candidate channel, for rewritten sentences that share
    no long n-gram (``SentenceBands()`` turns it on; CLI ``--rewrites``). Off by default:
    on corpora full of near-duplicate or generated text it proposes many more pairs.
    ``variants``: variant rules (a rules file's path, ``"default"`` for the bundled ones,
    or ``VariantRules``) that map aliases, spelling variants and number formats to one form
    before comparing; ``None``: none (texts of one or two sentences are always compared
    with the rules their similarity model was fitted with).
    ``semantic``: consult a fine-tuned cross-encoder (the ``semantic`` extra) for sentence
    pairs that the lexical similarity model is unsure of.
    """

    shingle_size: int = 8
    max_df: int = 100
    min_shared_shingles: int = 3
    min_shared_share: float = 0.03
    min_link_features: int = 0
    min_link_strength: float = 10.0
    link_min_similarity: float = 0.65
    min_link_containment: float = 0.12
    strong_link_strength: float = 25.0
    close_link_similarity: float = 0.8
    close_link_strength: float = 6.0
    close_link_containment: float = 0.05
    solid_link_containment: float = 0.3
    changes: bool = True
    min_shared: int = 3
    min_overlap: float = 0.5
    merge_overlap: float = 0.6
    neighbour_overlap: float = 0.34
    wire_agencies: tuple[str, ...] = ()
    boilerplate: BoilerplateRules = field(default_factory=BoilerplateRules)
    sentence_bands: SentenceBands | None = None
    variants: VariantRules | str | None = None
    semantic: bool = False
