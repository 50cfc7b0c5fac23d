"""Sentence similarity, and ``wiretrace.compare`` on two sentences."""

from __future__ import annotations

import json
import warnings

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import wiretrace
from wiretrace import semantic
from wiretrace.model import RunParams
from wiretrace.similarity import (
    FEATURE_NAMES,
    SimilarityModel,
    bundled_model,
    compare_sentences,
    fit_logistic,
    pair_features,
    score_pairs,
    sentence_similarity,
)
from wiretrace.variants import load_variants

SOURCE = (
    "Engineers closed the Tollen Street bridge on Thursday after a routine survey found "
    "cracks in two of its supporting piers."
)
PARAPHRASE = (
    "The Tollen Street bridge was shut by engineers on Thursday when a routine inspection "
    "found cracks in two of the piers supporting it."
)
SAME_TOPIC = (
    "Engineers said on Thursday that the Tollen Street bridge would need a new coat of paint "
    "before the summer festival."
)
UNRELATED = "The orchestra will play three new works by local composers at the spring concert."
DIFFERENT_NUMBERS = (
    "Engineers closed the Tollen Street bridge on Thursday after a routine survey found "
    "cracks in nine of its supporting piers."
)


# --- the scorer -------------------------------------------------------------------------------


def test_the_same_sentence_is_fully_similar_and_reused():
    similarity, reused = sentence_similarity(SOURCE, SOURCE)
    assert similarity == 1.0 and reused


def test_typography_does_not_make_a_copy_less_similar():
    copy = SOURCE.upper().replace(" ", "  ")
    assert sentence_similarity(SOURCE, copy) == (1.0, True)


def test_a_paraphrase_is_reused_but_less_similar_than_a_copy():
    similarity, reused = sentence_similarity(SOURCE, PARAPHRASE)
    assert reused
    assert 0.5 < similarity < 1.0


def test_a_sentence_on_the_same_topic_is_not_reuse():
    similarity, reused = sentence_similarity(SOURCE, SAME_TOPIC)
    assert not reused
    assert similarity < sentence_similarity(SOURCE, PARAPHRASE)[0]


def test_an_unrelated_sentence_scores_lowest():
    unrelated, reused = sentence_similarity(SOURCE, UNRELATED)
    assert not reused
    assert unrelated < sentence_similarity(SOURCE, SAME_TOPIC)[0]


def test_a_changed_number_lowers_similarity():
    changed = sentence_similarity(SOURCE, DIFFERENT_NUMBERS)[0]
    assert changed < 1.0
    column = FEATURE_NAMES.index("numbers_jaccard")
    rules = load_variants("default")  # "two" and "nine" are numbers with the rules
    features = pair_features([SOURCE, SOURCE], [DIFFERENT_NUMBERS, PARAPHRASE], rules)
    assert features[0, column] < features[1, column] == 1.0
    plain = pair_features([SOURCE], [DIFFERENT_NUMBERS])
    assert plain[0, column] == 1.0  # without them, neither sentence has a number


def test_a_trimmed_copy_is_reuse_though_no_paraphrase():
    similarity, reused = sentence_similarity(SOURCE, TRIMMED)
    assert reused
    assert similarity < sentence_similarity(SOURCE, PARAPHRASE)[0]
    assert not sentence_similarity(SOURCE, "Engineers closed it.")[1]  # too short to tell


def test_scores_for_many_pairs_match_scores_one_by_one():
    a = [SOURCE, SOURCE, PARAPHRASE, UNRELATED]
    b = [PARAPHRASE, SAME_TOPIC, UNRELATED, UNRELATED]
    together = score_pairs(a, b)
    alone = [sentence_similarity(x, y)[0] for x, y in zip(a, b)]
    assert np.allclose(together.similarity, alone)
    assert together.reused.tolist() == [True, False, False, True]


# pairs between a paraphrase and a different sentence on the same story
NEAR_MISSES = [
    "Engineers will inspect the Tollen Street bridge on Thursday for cracks in its piers.",
    "Engineers closed a bridge on Thursday because of cracks, officials said.",
    "A routine survey of the Tollen Street bridge found cracks, engineers said on Thursday.",
]
TRIMMED = "Engineers closed the Tollen Street bridge on Thursday."

POOL = [SOURCE, PARAPHRASE, SAME_TOPIC, UNRELATED, DIFFERENT_NUMBERS, "Да, мост закроют.", ""]


@given(st.sampled_from(POOL), st.sampled_from(POOL))
def test_scores_are_symmetric_and_bounded(a, b):
    forward = score_pairs([a], [b])
    backward = score_pairs([b], [a])
    assert forward.similarity[0] == pytest.approx(backward.similarity[0])
    assert 0.0 <= forward.similarity[0] <= 1.0
    features = pair_features([a], [b])
    assert np.isfinite(features).all()


def test_features_have_one_column_per_name():
    features = pair_features([SOURCE, UNRELATED], [PARAPHRASE, SOURCE])
    assert features.shape == (2, len(FEATURE_NAMES))
    bounded = [i for i, name in enumerate(FEATURE_NAMES) if name != "unmatched_content"]
    assert ((features[:, bounded] >= 0) & (features[:, bounded] <= 1)).all()


def test_sides_must_have_as_many_texts():
    with pytest.raises(ValueError, match="side b"):
        pair_features([SOURCE], [])


# --- the model --------------------------------------------------------------------------------


def test_logistic_regression_learns_a_separable_rule():
    rng = np.random.default_rng(3)
    x = rng.normal(size=(400, 2))
    y = (x[:, 0] - 0.5 * x[:, 1] > 0).astype(int)
    model = fit_logistic(x, y, ("u", "v"), l2=0.01)
    accuracy = np.mean((model.probability(x) >= 0.5) == y)
    assert accuracy > 0.97
    assert model.coef[0] > 0 > model.coef[1]


def test_a_model_survives_json():
    model = bundled_model()
    again = SimilarityModel.from_json(model.to_json())
    assert again == model
    features = pair_features([SOURCE], [PARAPHRASE])
    assert again.probability(features) == pytest.approx(model.probability(features))


def test_the_bundled_model_says_what_it_was_fitted_on():
    model = bundled_model()
    assert model.features == FEATURE_NAMES
    assert "MSRP" in model.trained_on
    assert 0.0 < model.threshold < 1.0


@pytest.mark.parametrize(
    "text, message",
    [
        ("{", "not a similarity model"),
        (
            '{"features": ["a"], "mean": [], "scale": [], "coef": [], "intercept": 0}',
            "differ in length",
        ),
    ],
)
def test_a_bad_model_file_is_named(text, message):
    with pytest.raises(ValueError, match=message) as error:
        SimilarityModel.from_json(text, "house_model.json")
    assert "house_model.json" in str(error.value)


# --- compare on sentences ---------------------------------------------------------------------


def test_compare_on_two_sentences_gives_one_edited_passage():
    result = wiretrace.compare(SOURCE, PARAPHRASE)
    assert result.reused
    (passage,) = result.passages
    assert passage.kind == "edited"
    assert (passage.a_start, passage.a_end) == (0, len(SOURCE))
    assert (passage.b_start, passage.b_end) == (0, len(PARAPHRASE))
    assert (
        passage.similarity
        == result.similarity
        == pytest.approx(sentence_similarity(SOURCE, PARAPHRASE)[0], abs=1e-4)
    )
    assert 0 < result.containment_a <= 1 and 0 < result.containment_b <= 1


def test_compare_on_unrelated_sentences_finds_no_reuse():
    result = wiretrace.compare(SOURCE, SAME_TOPIC)
    assert not result.reused
    assert result.passages == []
    assert result.source is None
    assert 0 < result.similarity < 1


def test_compare_on_the_same_sentence_is_verbatim():
    result = wiretrace.compare(SOURCE, "  " + SOURCE.replace("Thursday", "THURSDAY"))
    (passage,) = result.passages
    assert passage.kind == "verbatim" and passage.similarity == 1.0
    assert (passage.b_start, passage.b_end) == (2, 2 + len(SOURCE))


def test_compare_on_sentences_does_not_depend_on_argument_order():
    forward = wiretrace.compare(SOURCE, PARAPHRASE)
    backward = wiretrace.compare(PARAPHRASE, SOURCE)
    assert forward.similarity == backward.similarity
    assert forward.reused == backward.reused
    assert forward.containment_a == backward.containment_b


def test_a_dateline_is_not_part_of_the_compared_sentence():
    wire = "HARWICK (Reuters) - " + SOURCE
    result = wiretrace.compare(wire, PARAPHRASE)
    (passage,) = result.passages
    assert wire[passage.a_start : passage.a_end] == SOURCE


def test_two_sentence_texts_are_compared_as_sentences():
    two = SOURCE + " Traffic was diverted over the ring road."
    pair = compare_sentences(two, PARAPHRASE)
    assert pair is not None and pair.a_span == (0, len(two))


def test_longer_texts_and_single_words_go_through_article_alignment():
    three = " ".join([SOURCE, SAME_TOPIC, UNRELATED])
    assert compare_sentences(three, PARAPHRASE) is None
    assert compare_sentences("Short.", "Short.") is None
    assert wiretrace.compare("Short.", "Short.").reused is False


def test_article_metadata_orients_a_sentence_pair():
    a = wiretrace.Article(id="wire", text=SOURCE, published_at="2024-03-01T08:00:00Z")
    b = wiretrace.Article(id="copy", text=PARAPHRASE, published_at="2024-03-01T11:00:00Z")
    result = wiretrace.compare(b, a)
    assert result.reused and result.source == "b"
    assert result.direction.reason == "published earlier"


# --- optional semantic matching ---------------------------------------------------------------


def unsure_pair() -> tuple[str, str]:
    """A pair whose lexical probability lies in the semantic model's unsure band."""
    low, high = bundled_model(semantic.MODEL_FILE).unsure
    candidates = [(SOURCE, b) for b in POOL[1:5] + NEAR_MISSES]
    model = bundled_model()
    for a, b in candidates:
        lexical = model.probability(pair_features([a], [b], load_variants(model.variants)))[0]
        if low <= lexical <= high:
            return a, b
    raise AssertionError("no example pair falls in the unsure band")


@pytest.mark.skipif(semantic.available(), reason="the embedding model is installed")
def test_semantic_without_its_package_falls_back_to_lexical_with_a_warning():
    a, b = unsure_pair()
    lexical = score_pairs([a], [b])
    with pytest.warns(UserWarning, match=r"wiretrace\[semantic\]"):
        scores = score_pairs([a], [b], semantic=True)
    assert not scores.semantic[0]
    assert scores.similarity[0] == lexical.similarity[0]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = wiretrace.compare(a, b, RunParams(semantic=True))
    assert result.similarity == wiretrace.compare(a, b).similarity


@pytest.mark.skipif(
    not semantic.embedding_available(), reason="the embedding model is not installed"
)
def test_semantic_features_see_meaning_beyond_shared_words():
    features = semantic.semantic_features(
        ["The talks collapsed late on Friday.", "The talks collapsed late on Friday."],
        ["Negotiations broke down on Friday night.", "Heavy snow closed the mountain pass."],
    )
    assert features.shape == (2, len(semantic.SEMANTIC_FEATURES))
    assert features[0, 0] > features[1, 0] + 0.2
    f1 = semantic.SEMANTIC_FEATURES.index("piece_f1")
    assert features[0, f1] > features[1, f1] + 0.2


@pytest.mark.skipif(
    not semantic.embedding_available(), reason="the embedding model is not installed"
)
def test_semantic_features_see_what_one_side_adds():
    base = "The central bank raised interest rates by half a point on Tuesday."
    features = semantic.semantic_features(
        [base, base],
        [
            "On Tuesday the central bank lifted rates by half a percentage point.",
            "On Tuesday the central bank lifted rates by half a percentage point, "
            "and the striking dock workers burned tyres outside the parliament.",
        ],
    )
    unaligned = semantic.SEMANTIC_FEATURES.index("piece_unaligned")
    worst3 = semantic.SEMANTIC_FEATURES.index("piece_worst3")
    assert features[1, unaligned] > features[0, unaligned]
    assert features[1, worst3] < features[0, worst3]


def test_piece_alignment_scores_matched_and_unmatched_pieces():
    pieces = np.eye(4)[:3]  # three orthogonal unit vectors
    same = semantic._piece_alignment(pieces, pieces)
    assert same[:5] == pytest.approx([1.0, 1.0, 1.0, 1.0, 1.0])
    assert same[5] == 0.0  # nothing unaligned
    extra = semantic._piece_alignment(pieces, np.eye(4))  # b says one thing more
    assert extra[1] == pytest.approx(0.75) and extra[2] == pytest.approx(1.0)
    assert extra[3] == pytest.approx(0.0)
    assert extra[5] == pytest.approx(np.log1p(1))


@pytest.mark.skipif(not semantic.available(), reason="the embedding model is not installed")
def test_semantic_rescoring_touches_only_unsure_pairs():
    a, b = unsure_pair()
    scores = score_pairs([SOURCE, a], [SOURCE, b], semantic=True)
    lexical = score_pairs([SOURCE, a], [SOURCE, b])
    assert scores.semantic.tolist() == [False, True]
    assert scores.similarity[0] == lexical.similarity[0] == 1.0
    assert scores.similarity[1] != lexical.similarity[1]


def test_the_command_line_compares_two_sentence_files(tmp_path):
    from typer.testing import CliRunner

    from wiretrace.cli import app

    a, b = tmp_path / "a.txt", tmp_path / "b.txt"
    a.write_text(SOURCE + "\n", encoding="utf-8")
    b.write_text(PARAPHRASE + "\n", encoding="utf-8")
    result = CliRunner().invoke(app, ["compare", str(a), str(b), "--json", "--variants", "default"])
    assert result.exit_code == 0, result.output
    answer = json.loads(result.output)
    assert answer["reused"] is True
    assert [p["kind"] for p in answer["passages"]] == ["edited"]
    assert 0.5 < answer["similarity"] < 1
