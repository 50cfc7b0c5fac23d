"""Passage alignment between two articles, through ``wiretrace.compare``."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

import wiretrace
from wiretrace.model import Article
from wiretrace.text import normalize

# An original story in five paragraphs (the first sentence of paragraph 4 and the
# second are the two that the rewrite below merges).
PARAGRAPHS = [
    "Engineers closed the Tollen Street bridge in Harwick on Thursday after a routine survey "
    "found cracks in two of its supporting piers, cutting the shortest road link between the "
    "town centre and the eastern estates.",
    "The county highways department said the 1950s concrete structure would remain shut to all "
    "traffic, including pedestrians, until divers had examined the riverbed foundations next week.",
    "Bus operator Greenway Coaches said its number 14 and 22 services would be diverted over the "
    "ring road bridge, adding around fifteen minutes to journeys at peak times.",
    "Local shopkeepers warned that the closure could not have come at a worse moment. The annual "
    "spring market is due to open on the riverside square in ten days.",
    "Councillor Ada Brennan, who chairs the transport committee, said a temporary footbridge was "
    "being considered. \u201cWe will not leave the eastern estates cut off for months,\u201d she said.",
]
ORIGINAL = "\n\n".join(PARAGRAPHS)
TRIM = "\n\n".join(PARAGRAPHS[:2])

# synonyms (closed->shut, survey->inspection, cutting->severing, shut->closed),
# an inserted clause, and paragraph 4's two sentences merged with ", and"
REWRITE_LEAD = (
    "Engineers shut the Tollen Street bridge in Harwick on Thursday after a routine inspection "
    "found cracks in two of its supporting piers, severing the shortest road link between the "
    "town centre and the eastern estates."
)
REWRITE_CLAUSE = (
    "The county highways department, which took over the bridge from the town council in 1998, "
    "said the 1950s concrete structure would remain closed to all traffic, including "
    "pedestrians, until divers had examined the riverbed foundations next week."
)
REWRITE_MERGED = (
    "Local shopkeepers warned that the closure could not have come at a worse moment, and the "
    "annual spring market is due to open on the riverside square in ten days."
)
REWRITE = "\n\n".join([REWRITE_LEAD, REWRITE_CLAUSE, REWRITE_MERGED])

# Same town, same bridge, same councillor: different sentences.
SAME_TOPIC = "\n\n".join(
    [
        "Harwick residents are being asked for their views on a proposed cycle path that would run "
        "along the river from the Tollen Street bridge to the marina.",
        "Councillor Ada Brennan said the route could be finished within two years if the county "
        "agreed to share the cost with the town.",
        "A public meeting about the plan will be held in the library on the eastern estates next "
        "month, and an online survey is open until the end of April.",
    ]
)


def squash(text: str) -> str:
    """Normalised text with whitespace runs collapsed (layout is not content)."""
    return " ".join(normalize(text).split())


def swapped(passages):
    return sorted((p.b_start, p.b_end, p.a_start, p.a_end, p.kind) for p in passages)


def as_tuples(passages):
    return sorted((p.a_start, p.a_end, p.b_start, p.b_end, p.kind) for p in passages)


def covered(spans: list[tuple[int, int]], start: int, end: int) -> bool:
    return any(s <= start and end <= e for s, e in spans)


# --- verbatim copies -------------------------------------------------------------------------


def test_exact_copy_is_one_verbatim_passage_over_the_whole_text():
    result = wiretrace.compare(ORIGINAL, ORIGINAL)
    assert result.reused
    assert [p.kind for p in result.passages] == ["verbatim"]
    (passage,) = result.passages
    assert (passage.a_start, passage.a_end) == (0, len(ORIGINAL))
    assert (passage.b_start, passage.b_end) == (0, len(ORIGINAL))
    assert result.containment_a == pytest.approx(1.0)
    assert result.containment_b == pytest.approx(1.0)


def test_copy_with_other_typography_and_an_intro_keeps_exact_offsets():
    # B: a new intro paragraph, then the story with straight quotes and full-width digits
    intro = "Readers in the eastern estates have written to us all week about the closure.\n\n"
    body = (
        ORIGINAL.replace("\u201c", '"').replace("\u201d", '"').replace("14 and 22", "１４ and ２２")
    )
    assert body.count('"') == 2 and "１４" in body
    copy = intro + body
    result = wiretrace.compare(ORIGINAL, copy)
    assert result.reused
    verbatim = [p for p in result.passages if p.kind == "verbatim"]
    assert verbatim
    assert sum(p.a_end - p.a_start for p in verbatim) >= 0.95 * len(ORIGINAL)
    for p in verbatim:
        assert p.b_start >= len(intro)
        assert p.b_start - p.a_start == len(intro)
        assert squash(p.a_text(ORIGINAL)) == squash(p.b_text(copy))
    assert result.containment_a == pytest.approx(1.0, abs=0.01)
    assert result.containment_b < 0.97


def test_passage_offsets_start_and_end_on_sentence_boundaries():
    result = wiretrace.compare(ORIGINAL, TRIM)
    (passage,) = result.passages
    assert passage.kind == "verbatim"
    assert passage.a_text(ORIGINAL) == TRIM
    assert passage.b_text(TRIM) == TRIM


# --- trims -------------------------------------------------------------------------------


def test_trimmed_copy_lies_inside_the_original():
    result = wiretrace.compare(ORIGINAL, TRIM)
    assert result.reused
    assert result.containment_b == pytest.approx(1.0, abs=0.01)
    assert result.containment_a < 0.6
    assert result.containment_a == pytest.approx(len(TRIM) / len(ORIGINAL), abs=0.05)
    assert result.source == "a"


# --- edited rewrites ---------------------------------------------------------------------


def test_edited_rewrite_gives_edited_passages_over_the_rewritten_sentences():
    result = wiretrace.compare(ORIGINAL, REWRITE)
    assert result.reused
    assert result.passages
    assert all(p.kind == "edited" for p in result.passages)
    b_spans = [(p.b_start, p.b_end) for p in result.passages]
    a_spans = [(p.a_start, p.a_end) for p in result.passages]
    for sentence in (REWRITE_LEAD, REWRITE_CLAUSE, REWRITE_MERGED):
        start = REWRITE.index(sentence)
        assert covered(b_spans, start, start + len(sentence)), sentence[:40]
    # the merged sentence lines up with both of the original's sentences
    first = ORIGINAL.index("Local shopkeepers")
    last = ORIGINAL.index("in ten days.") + len("in ten days.")
    assert covered(a_spans, first, last)
    # nothing of the bus paragraph or the quote, which the rewrite dropped
    for dropped in (PARAGRAPHS[2], PARAGRAPHS[4]):
        start = ORIGINAL.index(dropped)
        assert not any(s < start + len(dropped) and e > start for s, e in a_spans)
    assert result.containment_b > 0.95
    assert result.containment_a < 0.8
    assert result.source == "a"


def test_edited_passage_similarity_is_below_a_verbatim_one():
    edited = wiretrace.compare(ORIGINAL, REWRITE)
    verbatim = wiretrace.compare(ORIGINAL, TRIM)
    assert max(p.similarity for p in edited.passages) < 1.0
    assert all(p.similarity == pytest.approx(1.0) for p in verbatim.passages)
    assert 0 < edited.similarity < verbatim.similarity


# --- unrelated -----------------------------------------------------------------------------


def test_same_topic_different_sentences_is_not_reuse():
    result = wiretrace.compare(ORIGINAL, SAME_TOPIC)
    assert result.reused is False
    assert result.passages == []
    assert result.containment_a == 0 and result.containment_b == 0
    assert result.source is None


def test_empty_and_tiny_texts_do_not_break_compare():
    for a, b in [("", ORIGINAL), ("Short.", "Short."), ("\n\n", "  ")]:
        result = wiretrace.compare(a, b)
        assert result.reused is False
        for p in result.passages:
            assert 0 <= p.a_start < p.a_end <= len(a)


# --- order of arguments -------------------------------------------------------------------


@pytest.mark.parametrize(
    "other", [ORIGINAL, TRIM, REWRITE, SAME_TOPIC], ids=["copy", "trim", "rewrite", "unrelated"]
)
def test_result_does_not_depend_on_argument_order(other):
    forward = wiretrace.compare(ORIGINAL, other)
    backward = wiretrace.compare(other, ORIGINAL)
    assert swapped(backward.passages) == as_tuples(forward.passages)
    assert backward.containment_a == pytest.approx(forward.containment_b)
    assert backward.containment_b == pytest.approx(forward.containment_a)
    assert backward.reused == forward.reused
    flip = {"a": "b", "b": "a", None: None}
    assert backward.source == flip[forward.source]


def test_articles_can_be_compared_with_their_metadata():
    a = Article(id="orig", text=ORIGINAL, outlet="Harwick Herald")
    b = Article(id="trim", text=TRIM, outlet="County Digest")
    result = wiretrace.compare(a, b)
    assert result.reused and result.source == "a"


def test_swapped_sentences_are_not_one_verbatim_passage():
    a = PARAGRAPHS[0] + "\n\n" + PARAGRAPHS[1]
    b = PARAGRAPHS[1] + "\n\n" + PARAGRAPHS[0]
    result = wiretrace.compare(a, b)
    assert result.passages
    for p in result.passages:
        if p.kind == "verbatim":
            assert squash(p.a_text(a)) == squash(p.b_text(b))


def test_order_independence_with_a_merged_and_moved_sentence():
    short = "Local shopkeepers warned that the closure could not have come at a worse moment."
    a = REWRITE_MERGED + "\n\n" + PARAGRAPHS[0]
    b = PARAGRAPHS[0] + "\n\n" + short + "\n\n" + REWRITE_MERGED
    assert swapped(wiretrace.compare(b, a).passages) == as_tuples(wiretrace.compare(a, b).passages)


# --- property: offsets always inside both texts ---------------------------------------------

POOL = [
    PARAGRAPHS[0],
    PARAGRAPHS[1],
    PARAGRAPHS[2],
    "Local shopkeepers warned that the closure could not have come at a worse moment.",
    "The annual spring market is due to open on the riverside square in ten days.",
    REWRITE_LEAD,
    REWRITE_CLAUSE,
    REWRITE_MERGED,
    "Councillor Ada Brennan said the route could be finished within two years.",
    "Да, мост закроют на три недели.",
    "北京今年将新建口袋公园。居民表示欢迎。",
    "HARWICK \u2014 The bridge.",
    "",
]
SEPARATORS = ["\n\n", " ", "\n", "  ", "\u00a0"]
documents = st.lists(st.tuples(st.sampled_from(POOL), st.sampled_from(SEPARATORS)), max_size=7).map(
    lambda parts: "".join(sentence + sep for sentence, sep in parts)
)


@given(documents, documents)
def test_passage_offsets_are_always_within_both_texts(a, b):
    result = wiretrace.compare(a, b)
    for p in result.passages:
        assert 0 <= p.a_start < p.a_end <= len(a)
        assert 0 <= p.b_start < p.b_end <= len(b)
        assert p.kind in ("verbatim", "edited")
        assert 0 < p.similarity <= 1
    assert 0 <= result.containment_a <= 1
    assert 0 <= result.containment_b <= 1
    if not result.passages:
        assert result.reused is False
