"""Variant normalisation: aliases, British/American spelling, number and date formats."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import wiretrace
from wiretrace.fingerprint import sentence_features, shingles
from wiretrace.model import RunParams
from wiretrace.similarity import bundled_model, score_pairs
from wiretrace.text import tokenize_batch
from wiretrace.variants import (
    apply_variants,
    is_number_hash,
    load_variants,
    number_hash,
    parse_variants,
)

DEFAULT = load_variants("default")


def canonical(texts: list[str], rules=DEFAULT):
    """Per text: (token text, canonical hash) after the rules."""
    batch = apply_variants(tokenize_batch(texts), texts, rules)
    out = []
    for d, text in enumerate(texts):
        lo, hi = batch.doc_tok_start[d], batch.doc_tok_start[d + 1]
        out.append(
            [(text[batch.tok_start[k] : batch.tok_end[k]], int(batch.tok_hash[k])) for k in range(lo, hi)]
        )  # fmt: skip
    return out


def hashes_of(text: str, rules=DEFAULT) -> list[int]:
    return [h for _, h in canonical([text], rules)[0]]


def same_form(*forms: str) -> bool:
    return len({tuple(hashes_of(f)) for f in forms}) == 1


# --- spelling --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "british, american",
    [
        ("colour", "color"),
        ("honourable", "honorable"),
        ("neighbours", "neighbors"),
        ("organisation", "organization"),
        ("mobilised", "mobilized"),
        ("analysing", "analyzing"),
        ("centres", "centers"),
        ("fibre", "fiber"),
        ("travelled", "traveled"),
        ("cancelling", "canceling"),
        ("fuelled", "fueled"),
        ("catalogue", "catalog"),
        ("defence", "defense"),
        ("programme", "program"),
        ("manoeuvre", "maneuver"),
        ("Whilst", "while"),
    ],
)
def test_british_and_american_spellings_meet(british, american):
    assert same_form(british, american)


@pytest.mark.parametrize(
    "word, other",
    [("four", "for"), ("hour", "hor"), ("called", "caled"), ("string", "stering"), ("is", "iz")],
)
def test_short_words_are_not_respelled(word, other):
    assert not same_form(word, other)


def test_spelling_is_case_and_diacritic_blind():
    assert same_form("COLOUR", "Color", "colour")


# --- aliases --------------------------------------------------------------------------------


def test_a_multi_word_alias_becomes_one_token_spanning_its_words():
    text = "Fighters of the Islamic State took the town."
    (tokens,) = canonical([text])
    words = [w for w, _ in tokens]
    assert "Islamic State" in words
    assert "Islamic" not in words and "State" not in words
    (isis,) = canonical(["ISIS"])
    assert dict(tokens)["Islamic State"] == isis[0][1]


def test_a_quoted_alias_needs_its_capitals():
    assert same_form("IS", "ISIS", "Islamic State")
    assert not same_form("is", "ISIS")
    assert same_form("U.S.", "US", "United States")
    assert not same_form("us", "US")
    assert same_form("Fed", "Federal Reserve")
    assert not same_form("fed", "Federal Reserve")


def test_an_alias_does_not_reach_across_sentences():
    (tokens,) = canonical(["They voted for the United.\nStates were divided."])
    assert all("\n" not in word for word, _ in tokens)


# --- numbers and dates ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "forms",
    [
        ("1,000", "1 000", "1000", "one thousand"),
        ("3.5 million", "3,500,000", "3.5 mln", "3.5-million"),
        ("five", "5"),
        ("7-1/2", "7.5", "7 1/2"),
        ("2.25", "2,25"),
        ("1,234,567", "1234567"),
        ("26th", "26"),
    ],
)
def test_number_formats_meet(forms):
    assert same_form(*forms)
    assert all(is_number_hash(np.array(hashes_of(f))).all() for f in forms)


def test_different_numbers_stay_different():
    assert not same_form("3.5 million", "3.6 million")
    assert not same_form("1,000", "100")
    assert hashes_of("3.5 million") == [int(number_hash(3_500_000))]


def test_a_list_of_numbers_is_not_one_number():
    (tokens,) = canonical(["Scores were 1, 2 and 300, 400."])
    assert [w for w, _ in tokens if w[0].isdigit()] == ["1", "2", "300", "400"]


@pytest.mark.parametrize(
    "forms",
    [("Feb. 26", "February 26", "26 February", "26th of February", "Feb 26th")],
)
def test_date_formats_meet(forms):
    assert same_form(*forms)
    assert not same_form("Feb. 26", "Feb. 27")
    assert not same_form("March 5", "May 5")


def test_a_month_name_alone_is_not_a_date():
    assert same_form("Jan", "January")
    assert not same_form("may", "May 5")


# --- batches and offsets --------------------------------------------------------------------

POOL = [
    "The Islamic State said on Feb. 26 that 1,500,000 people were mobilised.",
    "ISIS said 1.5 million people in the U.S. were mobilized on 26th of February.",
    "Whilst the programme cost $3.5 mln, it travelled 7-1/2 miles.",
    "us is IS; Fed fed 5 five 1 000 2,5.",
    "北京今年将新建口袋公园。",
    "Да, мост закроют на 3,5 недели.",
    "",
]
texts_strategy = st.lists(
    st.lists(st.sampled_from(POOL), max_size=4).map(" \n".join), min_size=1, max_size=4
)


@given(texts_strategy)
def test_tokens_keep_order_offsets_and_sentences(texts):
    batch = tokenize_batch(texts)
    mapped = apply_variants(batch, texts, DEFAULT)
    assert mapped.n_docs == batch.n_docs
    assert np.array_equal(mapped.sent_start, batch.sent_start)
    assert np.array_equal(mapped.sent_end, batch.sent_end)
    assert mapped.sent_first_tok[-1] == mapped.tok_hash.shape[0] == mapped.doc_tok_start[-1]
    for d, text in enumerate(texts):
        lo, hi = mapped.doc_tok_start[d], mapped.doc_tok_start[d + 1]
        starts, ends = mapped.tok_start[lo:hi], mapped.tok_end[lo:hi]
        assert np.all(starts < ends) and np.all(ends <= len(text))
        assert np.all(starts[1:] >= ends[:-1])
        # every original token is inside exactly one kept token
        olo, ohi = batch.doc_tok_start[d], batch.doc_tok_start[d + 1]
        index = np.searchsorted(starts, batch.tok_start[olo:ohi], side="right") - 1
        assert np.all(index >= 0)
        assert np.all(batch.tok_end[olo:ohi] <= ends[index])
    for s in range(mapped.sent_start.shape[0]):
        members = mapped.tok_sent[mapped.sent_first_tok[s] : mapped.sent_first_tok[s + 1]]
        assert np.all(members == s)


def test_later_stages_run_on_a_mapped_batch():
    texts = POOL[:3]
    mapped = apply_variants(tokenize_batch(texts), texts, DEFAULT)
    grams = shingles(mapped, 3)
    assert grams.hashes.shape[0] > 0
    features = sentence_features(mapped)
    assert features.sent_feat_start.shape[0] == mapped.sent_start.shape[0] + 1


def test_texts_must_match_the_batch():
    with pytest.raises(ValueError, match="texts for a batch"):
        apply_variants(tokenize_batch(["a b"]), ["a b", "c"], DEFAULT)


# --- similarity with and without the rules ---------------------------------------------------

ORIGINAL = (
    "The Islamic State group said on Feb. 26 that the organisation had mobilised "
    "1,500,000 fighters, and the U.S. defence department said it was analysing the claim."
)
REWRITE = (
    "ISIS said on 26 February that the organization had mobilized 1.5 million fighters, "
    "and the US defense department said it was analyzing the claim."
)


def test_a_british_alias_using_rewrite_scores_higher_with_the_rules():
    model = bundled_model()
    with_rules = score_pairs([ORIGINAL], [REWRITE], dataclasses.replace(model, variants="default"))
    without = score_pairs([ORIGINAL], [REWRITE], dataclasses.replace(model, variants=None))
    assert with_rules.similarity[0] > without.similarity[0]
    assert with_rules.reused[0]


def test_variants_raise_article_similarity_in_compare():
    intro = "Residents gathered in the square on Monday evening to hear the announcement. "
    a = intro + ORIGINAL + " " + "Officials in the capital declined to comment on the figures."
    b = intro + REWRITE + " " + "Officials in the capital declined to comment on the figures."
    plain = wiretrace.compare(a, b)
    mapped = wiretrace.compare(a, b, RunParams(variants="default"))
    assert mapped.reused
    assert mapped.similarity > plain.similarity


# --- rules files ----------------------------------------------------------------------------


def test_a_user_file_extends_the_default_rules(tmp_path):
    path = tmp_path / "house.txt"
    path.write_text(
        '%extends default\n[aliases]\nHarwick Borough Council = HBC = "Borough"\n',
        encoding="utf-8",
    )
    rules = load_variants(str(path))
    assert hashes_of("colour", rules) == hashes_of("color", rules)  # the defaults still hold
    assert hashes_of("HBC", rules) == hashes_of("Harwick Borough Council", rules)
    assert hashes_of("Borough", rules) == hashes_of("HBC", rules)
    assert hashes_of("borough", rules) != hashes_of("HBC", rules)
    assert hashes_of("HBC", DEFAULT) != hashes_of("Harwick Borough Council", DEFAULT)


def test_a_file_without_extends_stands_alone(tmp_path):
    path = tmp_path / "only.txt"
    path.write_text("[aliases]\nAcme Corporation = Acme\n", encoding="utf-8")
    rules = load_variants(str(path))
    assert hashes_of("colour", rules) != hashes_of("color", rules)
    assert hashes_of("Acme", rules) == hashes_of("Acme Corporation", rules)


@pytest.mark.parametrize(
    "lines, message, line",
    [
        (["[colours]", "a = b"], "unknown section", 1),
        (["a = b"], "before any", 1),
        (["[aliases]", "lonely"], "two or more forms", 2),
        (["[aliases]", '"Acme Corp" = Acme'], "one word", 2),
        (["[aliases]", "a = ,"], "no word", 2),
        (["[suffixes]", "our or"], "suffix rule", 2),
        (["[numbers]", "dozen = twelve"], "number line", 2),
        (["[months]", "smarch = 13"], "month line", 2),
        (["[aliases]", 'a = "b'], "quotes", 2),
        (["[aliases]", "a = b", "%extends default"], "extends", 3),
    ],
)
def test_bad_rules_name_the_line(lines, message, line):
    with pytest.raises(ValueError, match=message) as error:
        parse_variants(lines, "rules.txt")
    assert str(error.value).startswith(f"rules.txt:{line}:")


def test_a_missing_rules_file_is_named(tmp_path):
    with pytest.raises(ValueError, match="not found"):
        load_variants(str(tmp_path / "nope.txt"))


def test_run_params_with_variants_are_stored(tmp_path):
    from conftest import write_jsonl

    corpus = write_jsonl(
        tmp_path / "a.jsonl",
        [{"id": "a", "text": ORIGINAL}, {"id": "b", "text": REWRITE}],
    )
    summary = wiretrace.run(
        [corpus], db=tmp_path / "v.duckdb", params=RunParams(variants="default")
    )
    assert summary.stored == 2


def test_cli_refuses_a_bad_rules_file(tmp_path):
    from typer.testing import CliRunner

    from wiretrace.cli import app

    bad = tmp_path / "bad.txt"
    bad.write_text("[nonsense]\n", encoding="utf-8")
    a = tmp_path / "a.txt"
    a.write_text(ORIGINAL, encoding="utf-8")
    result = CliRunner().invoke(app, ["compare", str(a), str(a), "--variants", str(bad)])
    assert result.exit_code == 2
    assert "unknown" in result.output and "bad.txt:1" in result.output
