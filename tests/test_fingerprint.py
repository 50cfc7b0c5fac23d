"""Shingles, sentence features and boilerplate detection."""

from __future__ import annotations

import numpy as np
import pytest

from wiretrace.fingerprint import (
    BoilerplateRules,
    boilerplate_sentences,
    sentence_features,
    sentence_hashes,
    shingles,
)
from wiretrace.text import tokenize_batch, tokens

# --- shingles ----------------------------------------------------------------------------


def test_shingles_never_cross_documents():
    texts = ["alpha beta gamma", "delta epsilon", "zeta eta theta iota kappa"]
    batch = tokenize_batch(texts)
    for n in (1, 2, 3, 4, 5, 6):
        grams = shingles(batch, n)
        for d, text in enumerate(texts):
            # each text's shingles, in the batch, are exactly those of the text on its own
            alone = shingles(tokenize_batch([text]), n)
            assert sorted(grams.hashes[grams.docs == d].tolist()) == sorted(alone.hashes.tolist())
            assert alone.hashes.shape[0] == max(0, len(tokens(text)) - n + 1), (n, d)
        expected = sum(max(0, len(tokens(t)) - n + 1) for t in texts)
        assert grams.hashes.shape[0] == expected, n


def test_shingle_hashes_depend_on_the_words_and_their_order_only():
    texts = [
        "the river rose two metres overnight",
        "THE RIVER ROSE two metres — overnight!",
        "overnight the river rose two metres",
    ]
    batch = tokenize_batch(texts)
    grams = shingles(batch, 3)
    by_doc = [set(grams.hashes[grams.docs == d].tolist()) for d in range(3)]
    assert by_doc[0] == by_doc[1]  # case and punctuation do not matter
    # reordering keeps the shared trigrams and changes the others
    assert by_doc[0] & by_doc[2]
    assert by_doc[0] != by_doc[2]


def test_shingles_of_a_batch_with_empty_texts():
    batch = tokenize_batch(["", "one two three", "", "four five six"])
    grams = shingles(batch, 3)
    assert sorted(grams.docs.tolist()) == [1, 3]
    assert shingles(tokenize_batch(["one two"]), 5).hashes.shape[0] == 0


# --- sentence features -------------------------------------------------------------------


def test_sentence_features_leave_out_function_words():
    batch = tokenize_batch(["The mayor said that it was a good day for the town."])
    content = tokenize_batch(["mayor good day town"])
    features = sentence_features(batch)
    expected = np.unique(content.tok_hash)
    assert np.array_equal(np.sort(features.hashes), expected)


def test_han_sentences_are_compared_by_character_bigrams():
    batch = tokenize_batch(["口袋公园", "公园口袋"])
    features = sentence_features(batch)
    first = set(features.hashes[features.sent_feat_start[0] : features.sent_feat_start[1]].tolist())
    second = set(
        features.hashes[features.sent_feat_start[1] : features.sent_feat_start[2]].tolist()
    )
    # 3 bigrams each; only 公园 and 口袋 in common, not 袋公 / 园口
    assert len(first) == 3 and len(second) == 3
    assert len(first & second) == 2


def test_sentence_hashes_equal_for_the_same_words():
    batch = tokenize_batch(
        ["Sign up for our newsletter.", "SIGN UP — for our newsletter!", "Sign up."]
    )
    hashes = sentence_hashes(batch)
    assert hashes[0] == hashes[1]
    assert hashes[0] != hashes[2]


# --- boilerplate -------------------------------------------------------------------------

NEWSLETTER = "Our weekly newsletter brings the best local stories to your inbox every Friday."
STORIES = [
    "The library will open on Sundays from next month. Staff numbers will rise by four. "
    "The council agreed the change on Monday. Parents welcomed the news.",
    "A new bakery opened on Mill Lane on Saturday. Queues formed before dawn. "
    "The owner trained in Lyon for six years. She plans a second shop next year.",
    "Two swans have nested on the canal basin for the first time in a decade. Volunteers "
    "have fenced off the bank. Boat crews were asked to slow down. The eggs are due in May.",
    "Roadworks on the ring road will finish a week early. The contractor said dry weather "
    "helped. Drivers had faced delays of up to forty minutes. Night closures end on Friday.",
]
LEAD = (
    "Flood barriers were raised along the Harwick waterfront on Tuesday as the river reached "
    "its highest level in twelve years."
)
VERSIONS = [  # a story and two updates from the same outlet: they share the lead
    LEAD + " Shops on Quay Street were told to move stock upstairs. The Environment Office "
    "issued a warning. Sandbags were handed out at the fire station. The ferry did not run.",
    LEAD + " The Environment Office issued a warning for the lower town. Two roads were "
    "closed. Sandbags were handed out at the fire station. Bins will be collected late.",
    LEAD + " The Environment Office said the water would peak overnight. Two roads were "
    "closed. Some trains were cancelled. More rain is forecast for Thursday.",
]


def flagged_sentences(texts: list[str], outlets: list[str | None], rules=BoilerplateRules()):
    batch = tokenize_batch(texts)
    flags = boilerplate_sentences(batch, outlets, rules)
    assert flags.shape == batch.sent_start.shape
    found = set()
    for d, text in enumerate(texts):
        for s in range(batch.doc_sent_start[d], batch.doc_sent_start[d + 1]):
            if flags[s]:
                found.add((d, text[batch.sent_start[s] : batch.sent_end[s]]))
    return found


def test_newsletter_line_at_the_end_of_an_outlets_articles_is_boilerplate():
    texts = [story + " " + NEWSLETTER for story in STORIES]
    found = flagged_sentences(texts, ["Harwick Herald"] * len(texts))
    assert found == {(d, NEWSLETTER) for d in range(len(texts))}


def test_lead_shared_by_a_story_and_its_updates_is_not_boilerplate():
    texts = [story + " " + NEWSLETTER for story in STORIES] + VERSIONS
    found = flagged_sentences(texts, ["Harwick Herald"] * len(texts))
    assert {sentence for _, sentence in found} == {NEWSLETTER}
    assert not any(sentence == LEAD for _, sentence in found)


def test_a_line_in_too_few_articles_or_spread_over_outlets_is_not_boilerplate():
    texts = [story + " " + NEWSLETTER for story in STORIES]
    rules = BoilerplateRules(outlet_docs=3)
    # two articles of one outlet
    assert flagged_sentences(texts[:2], ["Harwick Herald"] * 2, rules) == set()
    # four articles, each from a different outlet (and no outlet at all)
    assert flagged_sentences(texts, ["A", "B", "C", None], rules) == set()
    # the same line in articles without an outlet
    assert flagged_sentences(texts, [None] * 4, rules) == set()


def test_short_credit_line_in_many_articles_is_boilerplate():
    texts = [
        f"Story number {i} has its own opening words here. Harwick Wire photo desk"
        for i in range(12)
    ]
    outlets = [f"Outlet {i}" for i in range(12)]
    rules = BoilerplateRules(short_docs=10, short_tokens=8)
    found = flagged_sentences(texts, outlets, rules)
    assert {sentence for _, sentence in found} == {"Harwick Wire photo desk"}
    assert flagged_sentences(texts[:9], outlets[:9], rules) == set()


def test_credit_and_service_lines_are_boilerplate_even_once():
    text = (
        "The mill will close in June, its owner said. "
        "Sources close to the owner said a buyer was being sought. "
        "This report includes material from the Harwick Herald. "
        "Reporting by Ann Lee; Editing by Tom Ray. "
        "Staff writers contributed to this report."
    )
    found = {sentence for _, sentence in flagged_sentences([text], ["Harwick Times"])}
    assert found == {
        "This report includes material from the Harwick Herald.",
        "Reporting by Ann Lee; Editing by Tom Ray.",
        "Staff writers contributed to this report.",
    }


@pytest.mark.parametrize("texts", [[], [""], ["", "   "]])
def test_boilerplate_of_empty_input(texts):
    batch = tokenize_batch(texts)
    assert boilerplate_sentences(batch, [None] * len(texts)).shape == (0,)
