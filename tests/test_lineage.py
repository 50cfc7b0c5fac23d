"""Who copied whom: update levels, orientation evidence, parents, cycles."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from conftest import write_jsonl

import wiretrace
from wiretrace.lineage import (
    ArticleFacts,
    Orientation,
    PairEvidence,
    build_lineage,
    is_wire_outlet,
    update_level,
)
from wiretrace.model import Article, Timestamp

BASE = [
    "Harwick council has approved plans to turn the disused gasworks site on Ferry Road into "
    "240 homes, a primary school and a riverside park.",
    "The scheme, drawn up by the developer Larchmont Living, was passed by seven votes to four "
    "after a four-hour meeting on Wednesday night.",
    "Opponents had argued that the site still held pollution from a century of coal-gas "
    "production and that the clean-up plan was too thin.",
    "Larchmont said soil removal would begin in the autumn and the first residents could move "
    "in by the spring of 2029.",
]
ADDED_BY_B = (
    "Residents of nearby Dock Terrace said they would ask the county to review the decision, "
    "citing traffic on the single access road."
)
ADDED_BY_C = (
    "A spokesperson for the county said any request for a review would be considered at its "
    "planning meeting in July."
)
FULL = "\n\n".join(BASE)
TRIM = "\n\n".join(BASE[:2])


def article(id_: str, text: str, published_at: str | None, outlet: str | None = None, **kw):
    return Article(id=id_, text=text, published_at=published_at, outlet=outlet, **kw)


def parents_of(summary) -> dict[str, str | None]:
    result = summary.result
    ids = result.facts.ids
    return {
        ids[i]: (ids[p] if p >= 0 else None) for i, p in enumerate(result.lineage.parent.tolist())
    }


def assert_acyclic(parent: dict[str, str | None]) -> None:
    for start in parent:
        seen = {start}
        node = parent[start]
        while node is not None:
            assert node not in seen, f"cycle through {start}"
            seen.add(node)
            node = parent[node]


# --- update levels -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "title, level",
    [
        ("UPDATE 2-FOO", 2),
        ("UPDATE 1-Storm surge breaches sea wall", 1),
        ("UPDATE 12-Markets close lower", 12),
        ("update 3 - lower case still counts", 3),
        ("REFILE-UPDATE 3-FOO", 3),
        ("CORRECTED-FOO", 1),
        ("CORRECTED-UPDATE 1-FOO", 2),
        ("Storm surge breaches sea wall", 0),
        ("Update: what we know so far", 0),
        ("UPDATED GUIDANCE for schools", 0),
        ("", 0),
        (None, 0),
    ],
)
def test_update_level(title, level):
    assert update_level(title) == level


def test_update_levels_order_versions():
    titles = ["FOO", "UPDATE 1-FOO", "UPDATE 2-FOO", "UPDATE 10-FOO"]
    levels = [update_level(t) for t in titles]
    assert levels == sorted(levels) and len(set(levels)) == len(levels)


def test_wire_outlets():
    assert is_wire_outlet("Reuters") and is_wire_outlet("  associated press ")
    assert is_wire_outlet("ТАСС") and is_wire_outlet("新华社")
    assert not is_wire_outlet("Reuters Weekly Digest")
    assert not is_wire_outlet(None) and not is_wire_outlet("")


# --- orientation of a pair ------------------------------------------------------------------


def test_time_zones_an_earlier_local_time_in_a_later_zone():
    # 08:30 in New York is 13:30 UTC: later than 10:00 in London, although 08:30 < 10:00
    new_york = article("ny", FULL, "2026-03-14T08:30:00-05:00", "Hudson Daily")
    london = article("ldn", FULL, "2026-03-14T10:00:00+00:00", "Thames Times")
    assert wiretrace.compare(new_york, london).source == "b"
    assert wiretrace.compare(london, new_york).source == "a"
    # and the other way round: 16:00 in Moscow is 13:00 UTC, before 09:00 in New York
    moscow = article("msk", FULL, "2026-03-14T16:00:00+03:00", "Neva Post")
    new_york_later = article("ny2", FULL, "2026-03-14T09:00:00-05:00", "Hudson Daily")
    assert wiretrace.compare(new_york_later, moscow).source == "b"


def test_time_beats_containment():
    # the trim was published first: time is the strongest evidence
    early_trim = article("trim", TRIM, "2026-03-14T06:00:00Z", "Harwick Herald")
    late_full = article("full", FULL, "2026-03-14T09:00:00Z", "County Digest")
    result = wiretrace.compare(late_full, early_trim)
    assert result.source == "b"
    assert "earlier" in result.direction.reason


def test_date_only_precision_same_day_falls_back_to_containment():
    # naively, "2026-03-14" is midnight, before 18:00; at day precision it is the same day
    trim = article("trim", TRIM, "2026-03-14", "Harwick Herald")
    full = article("full", FULL, "2026-03-14T18:00:00Z", "County Digest")
    result = wiretrace.compare(trim, full)
    assert result.source == "b"
    assert "earlier" not in result.direction.reason


def test_date_only_precision_different_days_decides():
    trim = article("trim", TRIM, "2026-03-13", "Harwick Herald")
    full = article("full", FULL, "2026-03-14T01:00:00Z", "County Digest")
    assert wiretrace.compare(trim, full).source == "a"
    assert wiretrace.compare(full, trim).source == "b"


@pytest.mark.parametrize(
    "trim_date, full_date",
    [(None, None), ("not a date", None), (None, "2026-03-14T09:00:00Z"), ("2999-01-01", None)],
)
def test_missing_dates_fall_back_to_containment(trim_date, full_date):
    trim = article("trim", TRIM, trim_date, "Harwick Herald")
    full = article("full", FULL, full_date, "County Digest")
    assert wiretrace.compare(full, trim).source == "a"
    assert wiretrace.compare(trim, full).source == "b"


def test_exact_copies_without_any_evidence_have_no_source():
    a = article("a", FULL, None, "Harwick Herald")
    b = article("b", FULL, None, "County Digest")
    result = wiretrace.compare(a, b)
    assert result.reused
    assert result.source is None


def test_same_outlet_update_follows_the_first_version():
    first = article("v1", FULL, None, "Reuters", title="Gasworks homes approved")
    update = article(
        "v2", FULL + "\n\n" + ADDED_BY_B, None, "Reuters", title="UPDATE 1-Gasworks homes approved"
    )
    assert wiretrace.compare(update, first).source == "b"
    assert wiretrace.compare(first, update).source == "a"


def test_wire_agency_is_the_source_of_an_outlet():
    wire = article("w", FULL, None, "Associated Press")
    outlet = article("o", FULL, None, "Harwick Herald")
    assert wiretrace.compare(outlet, wire).source == "b"


def test_attribution_names_the_source():
    source = article("s", FULL, None, "Harwick Herald")
    credited = article(
        "c", FULL + "\n\nThis story first appeared in the Harwick Herald.", None, "Valley Voice"
    )
    assert wiretrace.compare(credited, source).source == "b"


# --- parents and chains ---------------------------------------------------------------------


def test_chain_of_copies_is_a_chain_not_a_star(tmp_path):
    a_text = FULL
    b_text = a_text + "\n\n" + ADDED_BY_B
    c_text = b_text + "\n\n" + ADDED_BY_C
    records = [  # shuffled on purpose
        {
            "id": "gas-c",
            "text": c_text,
            "outlet": "Valley Voice",
            "published_at": "2026-03-12T09:00:00+00:00",
        },
        {
            "id": "gas-a",
            "text": a_text,
            "outlet": "Harwick Herald",
            "published_at": "2026-03-11T07:00:00+00:00",
        },
        {
            "id": "gas-b",
            "text": b_text,
            "outlet": "County Digest",
            "published_at": "2026-03-11T15:00:00+01:00",
        },
    ]
    summary = wiretrace.run([write_jsonl(tmp_path / "chain.jsonl", records)])
    parents = parents_of(summary)
    assert parents == {"gas-a": None, "gas-b": "gas-a", "gas-c": "gas-b"}
    assert summary.multi_article_families == 1
    roots = summary.result.lineage.root
    assert len(set(roots.tolist())) == 1


def test_independent_stories_stay_apart(tmp_path):
    other = (
        "A new bakery opened on Mill Lane on Saturday, and queues formed before dawn as word "
        "spread about its rye loaves.\n\nThe owner trained in Lyon for six years and plans a "
        "second shop in Harwick next year."
    )
    records = [
        {"id": "gas", "text": FULL, "outlet": "Harwick Herald"},
        {"id": "bread", "text": other, "outlet": "Harwick Herald"},
    ]
    summary = wiretrace.run([write_jsonl(tmp_path / "two.jsonl", records)])
    assert parents_of(summary) == {"gas": None, "bread": None}
    assert summary.families == 2 and summary.links == 0


def test_undated_copies_have_no_cycles(tmp_path):
    # nothing but containment to go on, and three near-equal copies
    texts = [
        FULL,
        FULL + "\n\n" + ADDED_BY_B,
        FULL + "\n\n" + ADDED_BY_C,
        TRIM + "\n\n" + ADDED_BY_B,
    ]
    records = [{"id": f"copy-{i}", "text": t} for i, t in enumerate(texts)]
    summary = wiretrace.run([write_jsonl(tmp_path / "undated.jsonl", records)])
    parents = parents_of(summary)
    assert_acyclic(parents)
    assert summary.multi_article_families == 1
    assert sum(p is None for p in parents.values()) == 1


def _evidence(pairs: list[tuple[int, int]], child_scores: list[float]) -> PairEvidence:
    """Evidence for linked pairs: every per-side measure of a pair is the child's score."""
    n = len(pairs)
    columns = {
        "a": np.array([a for a, _ in pairs], dtype=np.int64),
        "b": np.array([b for _, b in pairs], dtype=np.int64),
        "passages": np.ones(n, dtype=np.int64),
        "shared": np.full(n, 20, dtype=np.int64),
        "reused": np.ones(n, dtype=bool),
    }
    scores = np.array(child_scores, dtype=np.float64)
    values = {}
    for f in dataclasses.fields(PairEvidence):
        values[f.name] = columns.get(f.name, scores)
    return PairEvidence(**values)


def test_parent_links_that_close_a_cycle_are_broken():
    # orientation says 0 -> 1 -> 2 -> 0: one of the three parent links has to go
    ids = ["x", "y", "z"]
    facts = ArticleFacts(
        ids=ids,
        outlets=["P", "Q", "R"],
        titles=[None] * 3,
        texts=[FULL] * 3,
        timestamps=[Timestamp(None, "none", "no publication time")] * 3,
        wire=[False] * 3,
    )
    pairs = [(0, 1), (1, 2), (0, 2)]
    evidence = _evidence(pairs, [0.9, 0.8, 0.5])
    orientation = Orientation(np.array([True, True, False]), ["test"] * 3)
    lineage = build_lineage(facts, evidence, orientation)
    parent = {ids[i]: (ids[p] if p >= 0 else None) for i, p in enumerate(lineage.parent.tolist())}
    assert_acyclic(parent)
    # the weakest link (z -> x, score 0.5) is the one dropped
    assert parent == {"x": None, "y": "x", "z": "y"}
    assert lineage.root.tolist() == [0, 0, 0]
    assert len(set(lineage.family.tolist())) == 1


def _three_article_facts(texts: list[str], outlets: list[str], wire: list[bool]) -> ArticleFacts:
    from wiretrace.text import dateline_place

    return ArticleFacts(
        ids=["child", "first", "second"],
        outlets=outlets,
        titles=[None] * 3,
        texts=texts,
        timestamps=[Timestamp(None, "none", "no publication time")] * 3,
        wire=wire,
        dateline_places=[dateline_place(t) for t in texts],
    )


def _child_options(scores: list[float]) -> tuple[PairEvidence, Orientation]:
    # pairs (child, first) and (child, second); the second article of each pair is the source
    evidence = _evidence([(0, 1), (0, 2)], scores)
    return evidence, Orientation(np.array([False, False]), ["published earlier"] * 2)


def test_a_source_the_text_credits_is_the_parent_though_the_wire_explains_a_bit_more():
    child = FULL + "\n\nThis story first appeared in the Harwick Herald."
    facts = _three_article_facts(
        [child, FULL, FULL], ["Gazette", "Reuters", "Harwick Herald"], [False, True, False]
    )
    evidence, orientation = _child_options([0.93, 0.88])
    lineage = build_lineage(facts, evidence, orientation)
    assert lineage.parent[0] == 2
    assert "credits Harwick Herald" in lineage.parent_reason[0]
    # without the credit line the wire wins
    facts = _three_article_facts(
        [FULL, FULL, FULL], ["Gazette", "Reuters", "Harwick Herald"], [False, True, False]
    )
    assert build_lineage(facts, evidence, orientation).parent[0] == 1


def test_a_dateline_comes_from_a_parent_that_has_it():
    child = "SELVIK — " + FULL
    with_dateline = "SELVIK, March 3 (Reuters) - " + FULL
    facts = _three_article_facts(
        [child, FULL, with_dateline], ["Gazette", "Daily", "Reuters"], [False, False, True]
    )
    evidence, orientation = _child_options([0.95, 0.9])
    assert build_lineage(facts, evidence, orientation).parent[0] == 2
