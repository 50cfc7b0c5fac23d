"""Who copied whom: reuse links, their direction, parents, roots and families.

Direction of a link rests on the strongest evidence available, in this order:

1. publication times, when both are known and differ at their common precision;
2. wire versions: the same outlet's "UPDATE 2-" follows its "UPDATE 1-";
3. a wire agency is the source of a non-agency outlet;
4. attribution: the derivative names the source's outlet ("(Reuters)", "told AFP");
5. containment: a trimmed copy lies inside its source, not the reverse.

Each article's parent is the earlier linked article that explains most of its
text, similarity-weighted, so that a copy of a copy attaches to the copy it
follows word for word rather than to the original it only resembles. Families
are the connected components of reuse links.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from .model import Timestamp

DEFAULT_WIRE_AGENCIES = (
    "Reuters",
    "Thomson Reuters",
    "Associated Press",
    "AP",
    "Agence France-Presse",
    "AFP",
    "Bloomberg",
    "dpa",
    "Deutsche Presse-Agentur",
    "EFE",
    "ANSA",
    "Kyodo",
    "Kyodo News",
    "Xinhua",
    "TASS",
    "ITAR-TASS",
    "Interfax",
    "RIA Novosti",
    "Press Trust of India",
    "PTI",
    "Yonhap",
    "Anadolu Agency",
    "UPI",
    "United Press International",
    "PA Media",
    "Press Association",
    "Canadian Press",
    "AAP",
    "Australian Associated Press",
    "Jiji Press",
    "APA",
    "Agencia Brasil",
    "Europa Press",
    "WAM",
    "SPA",
    "QNA",
    "IRNA",
    "MENA",
    "新华社",
    "ТАСС",
    "РИА Новости",
    "Интерфакс",
)

_UPDATE_MARK = re.compile(r"^\s*(?:CORRECTED-|REFILE-|RPT-)*(?:UPDATE\s*(\d+)\s*-)?", re.IGNORECASE)

TIE_TOLERANCE = 0.01
# A non-wire source named in the derivative's text ("This story first appeared in X")
# is its parent if it explains nearly as much of it as the best candidate does.
CREDITED_TOLERANCE = 0.1


@dataclass(frozen=True)
class ArticleFacts:
    """What lineage needs to know of each article (parallel lists, one entry per article)."""

    ids: list[str]
    outlets: list[str | None]
    titles: list[str | None]
    texts: list[str]
    timestamps: list[Timestamp]
    wire: list[bool]
    # the place of each text's dateline ("NEW YORK" of "NEW YORK, March 3 (Reuters) -"), if any
    dateline_places: list[str | None] | None = None
    # ``credits(reader, named)``: whether article reader's text names article named's outlet,
    # answered without ``texts`` (a streamed run measures it while the texts are read)
    credits: Callable[[int, int], bool] | None = None

    def text_credits(self, reader: int, named: int) -> bool:
        """Whether article ``reader``'s text names the outlet of article ``named``."""
        if self.credits is not None:
            return self.credits(reader, named)
        return names_outlet(self.texts[reader], self.outlets[named])


@dataclass(frozen=True)
class PairEvidence:
    """Reuse measured for candidate pairs (parallel arrays, one entry per pair)."""

    a: np.ndarray
    b: np.ndarray
    containment_a: np.ndarray  # share of a's text inside passages shared with b
    containment_b: np.ndarray
    weighted_a: np.ndarray  # the same, each passage weighted by its similarity
    weighted_b: np.ndarray
    exact_a: np.ndarray  # the same, weighted by character-level similarity (links only)
    exact_b: np.ndarray
    shared: np.ndarray  # shared sentence features over all passages
    passages: np.ndarray
    reused: np.ndarray  # bool: a link by the thresholds


@dataclass(frozen=True)
class Orientation:
    source_is_a: np.ndarray  # bool per pair
    reason: list[str]


@dataclass(frozen=True)
class Lineage:
    parent: np.ndarray  # article index or -1
    parent_score: np.ndarray
    parent_reason: list[str]
    root: np.ndarray
    family: np.ndarray  # family number per article (0..n_families-1), singletons included


@lru_cache(maxsize=65536)
def is_wire_outlet(outlet: str | None, agencies: tuple[str, ...] = DEFAULT_WIRE_AGENCIES) -> bool:
    if not outlet:
        return False
    return outlet.strip().casefold() in _casefolded(agencies)


@lru_cache(maxsize=64)
def _casefolded(agencies: tuple[str, ...]) -> frozenset[str]:
    return frozenset(agency.casefold() for agency in agencies)


def update_level(title: str | None) -> int:
    """0 for a first version, n for "UPDATE n-", 1 more for a "CORRECTED-" prefix."""
    if not title:
        return 0
    match = _UPDATE_MARK.match(title)
    level = int(match.group(1)) if match and match.group(1) else 0
    if title.lstrip().upper().startswith("CORRECTED"):
        level += 1
    return level


def orient(facts: ArticleFacts, evidence: PairEvidence, links_only: bool = False) -> Orientation:
    """Decide, for every pair (or only the linked ones), whether ``a`` is the source of ``b``."""
    source_is_a = np.zeros(evidence.a.shape[0], dtype=bool)
    reasons: list[str] = [""] * evidence.a.shape[0]
    chosen = np.nonzero(evidence.reused)[0] if links_only else np.arange(evidence.a.shape[0])
    for k in chosen.tolist():
        a, b = int(evidence.a[k]), int(evidence.b[k])
        a_first, reason = _orient_pair(
            facts, a, b, evidence.containment_a[k], evidence.containment_b[k]
        )
        source_is_a[k] = a_first
        reasons[k] = reason
    return Orientation(source_is_a, reasons)


def _orient_pair(
    facts: ArticleFacts, a: int, b: int, cont_a: float, cont_b: float
) -> tuple[bool, str]:
    earlier = _earlier_by_time(facts.timestamps[a], facts.timestamps[b])
    if earlier is not None:
        return earlier, "published earlier"
    if facts.outlets[a] and facts.outlets[a] == facts.outlets[b]:
        level_a, level_b = update_level(facts.titles[a]), update_level(facts.titles[b])
        if level_a != level_b:
            return level_a < level_b, "earlier version of the same outlet's story"
    if facts.wire[a] != facts.wire[b]:
        return facts.wire[a], "wire agency"
    credits_a = facts.text_credits(b, a)
    credits_b = facts.text_credits(a, b)
    if credits_a != credits_b:
        return credits_a, "attributed in the derivative's text"
    if abs(cont_a - cont_b) >= 0.02:
        return cont_b > cont_a, "the derivative lies inside the source"
    return facts.ids[a] < facts.ids[
        b
    ], "undetermined (no time, attribution or containment evidence)"


def _earlier_by_time(ta: Timestamp, tb: Timestamp) -> bool | None:
    if ta.utc is None or tb.utc is None:
        return None
    if ta.precision == "day" or tb.precision == "day":
        if ta.utc.date() == tb.utc.date():
            return None
        return ta.utc.date() < tb.utc.date()
    if ta.utc == tb.utc:
        return None
    return ta.utc < tb.utc


def names_outlet(text: str, outlet: str | None) -> bool:
    """Whether ``text`` names ``outlet`` as a word of its own (an attribution)."""
    if not outlet or len(outlet) < 2:
        return False
    return re.search(r"(?<!\w)" + re.escape(outlet) + r"(?!\w)", text) is not None


def build_lineage(facts: ArticleFacts, evidence: PairEvidence, orientation: Orientation) -> Lineage:
    """Parents, roots and families for all articles."""
    n = len(facts.ids)
    links = np.nonzero(evidence.reused)[0]
    options: list[list[tuple[float, int, int]]] = [[] for _ in range(n)]  # (score, source, link)
    for k in links.tolist():
        a, b = int(evidence.a[k]), int(evidence.b[k])
        if orientation.source_is_a[k]:
            options[b].append((float(evidence.exact_b[k]), a, k))
        else:
            options[a].append((float(evidence.exact_a[k]), b, k))
    parent = np.full(n, -1, dtype=np.int64)
    score = np.zeros(n, dtype=np.float64)
    reason = [""] * n
    for child in range(n):
        if options[child]:
            src, sc, why = _best_parent(facts, child, options[child], orientation)
            parent[child], score[child], reason[child] = src, sc, why
    _break_cycles(parent, score, reason)
    family = _components(n, evidence.a[links], evidence.b[links])
    root = _roots(parent)
    return Lineage(parent, score, reason, root, family)


def _best_parent(
    facts: ArticleFacts, child: int, options: list[tuple[float, int, int]], orientation: Orientation
) -> tuple[int, float, str]:
    best = max(score for score, _, _ in options)
    credited = [
        opt
        for opt in options
        if opt[0] >= best - CREDITED_TOLERANCE
        and not facts.wire[opt[1]]
        and facts.outlets[opt[1]] != facts.outlets[child]
        and facts.text_credits(child, opt[1])
    ]
    if len(credited) == 1:
        score, source, link = credited[0]
        why = f"{orientation.reason[link]}; the text credits {facts.outlets[source]}"
        return source, score, why
    options = _keep_dateline_donors(facts, child, options, best)
    best = max(score for score, _, _ in options)
    tied = [opt for opt in options if opt[0] >= best - TIE_TOLERANCE]

    def preference(option: tuple[float, int, int]) -> tuple:
        score, source, _ = option
        ts = facts.timestamps[source].utc
        return (
            facts.wire[source],
            ts is not None,
            ts.timestamp() if ts else 0.0,
            score,
            facts.ids[source],
        )

    chosen = max(tied, key=preference)
    why = orientation.reason[chosen[2]]
    if len(tied) > 1:
        why += "; closest of several similar sources (wire first, then latest)"
    return chosen[1], chosen[0], why


def _keep_dateline_donors(
    facts: ArticleFacts, child: int, options: list[tuple[float, int, int]], best: float
) -> list[tuple[float, int, int]]:
    """A copy's dateline comes from its parent: among close candidates, drop those whose
    text has no dateline with the child's place, when some candidate has one."""
    places = facts.dateline_places
    if places is None or not places[child]:
        return options
    close = [opt for opt in options if opt[0] >= best - CREDITED_TOLERANCE]
    with_place = [opt for opt in close if places[opt[1]] == places[child]]
    if not with_place or len(with_place) == len(close):
        return options
    return with_place + [opt for opt in options if opt[0] < best - CREDITED_TOLERANCE]


def _break_cycles(parent: np.ndarray, score: np.ndarray, reason: list[str]) -> None:
    state = np.zeros(parent.shape[0], dtype=np.int8)  # 0 new, 1 on path, 2 done
    for start in range(parent.shape[0]):
        path = []
        node = start
        while node >= 0 and state[node] == 0:
            state[node] = 1
            path.append(node)
            node = int(parent[node])
        if node >= 0 and state[node] == 1:
            cycle = path[path.index(node) :]
            weakest = min(cycle, key=lambda v: (score[v], v))
            parent[weakest] = -1
            reason[weakest] = "parent link dropped: it closed a cycle"
        for v in path:
            state[v] = 2


def _roots(parent: np.ndarray) -> np.ndarray:
    root = np.arange(parent.shape[0], dtype=np.int64)
    for start in range(parent.shape[0]):
        node = start
        while parent[node] >= 0:
            node = int(parent[node])
        root[start] = node
    return root


def _components(n: int, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    graph = coo_matrix((np.ones(a.shape[0], dtype=np.int8), (a, b)), shape=(n, n))
    _, labels = connected_components(graph, directed=False)
    return labels.astype(np.int64)


def relations(parent: np.ndarray, outlets: list[str | None]) -> list[str]:
    """Each article's relation to its parent: ``original``, ``update`` (a later version by
    the same outlet) or ``copy``."""
    out = []
    for child, p in enumerate(parent.tolist()):
        if p < 0:
            out.append("original")
        elif outlets[child] and outlets[child] == outlets[p]:
            out.append("update")
        else:
            out.append("copy")
    return out


def uncovered_length(spans: list[tuple[int, int]], covered: list[tuple[int, int]]) -> int:
    """Characters of ``spans`` outside every span of ``covered``."""
    total = 0
    merged = sorted(covered)
    for start, end in spans:
        position = start
        for c_start, c_end in merged:
            if c_end <= position or c_start >= end:
                continue
            total += max(0, c_start - position)
            position = max(position, c_end)
        total += max(0, end - position)
    return total
