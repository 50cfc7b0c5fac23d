"""The plain data that passes between the stages of the pipeline."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from .fingerprint import BoilerplateRules

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
    ``boilerplate``: when a recurring sentence is boilerplate, not reuse.
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
    min_shared: int = 3
    min_overlap: float = 0.5
    merge_overlap: float = 0.6
    neighbour_overlap: float = 0.34
    wire_agencies: tuple[str, ...] = ()
    boilerplate: BoilerplateRules = field(default_factory=BoilerplateRules)
