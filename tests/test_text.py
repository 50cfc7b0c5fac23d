"""Tokenisation with character offsets, folding, sentence splitting, datelines."""

from __future__ import annotations

import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st

from wiretrace.text import (
    body_start,
    find_dateline,
    normalize,
    sentences,
    token_hashes,
    tokenize_batch,
    tokens,
)


def words(text: str) -> list[str]:
    return [w for _, _, w in tokens(text)]


def sentence_texts(text: str, start: int = 0) -> list[str]:
    return [text[s:e] for s, e in sentences(text, start)]


def same_word(a: str, b: str) -> bool:
    """True when wiretrace hashes the two words alike (what alignment compares)."""
    ha, hb = token_hashes([a, b])
    return bool(ha == hb)


# --- tokens and offsets ----------------------------------------------------------------


@pytest.mark.parametrize(
    "text, expected",
    [
        ("Hello, world! It's 2026.", ["Hello", "world", "It", "s", "2026"]),
        ("  leading and trailing  ", ["leading", "and", "trailing"]),
        ("rate-setting (board)", ["rate", "setting", "board"]),
        ("Москва, столица России.", ["Москва", "столица", "России"]),
        ("", []),
        ("... — !!", []),
    ],
)
def test_tokens_are_runs_of_letters_and_digits(text, expected):
    assert words(text) == expected


def test_batch_offsets_slice_each_original_text_to_its_token():
    texts = ["Alpha beta.", "  Гамма, дельта!", "北京。", "Ｗｉｄｅ “quote”"]
    expected = [["Alpha", "beta"], ["Гамма", "дельта"], ["北", "京"], ["Ｗｉｄｅ", "quote"]]
    batch = tokenize_batch(texts)
    assert batch.n_docs == len(texts)
    for d, text in enumerate(texts):
        lo, hi = batch.doc_tok_start[d], batch.doc_tok_start[d + 1]
        got = [text[s:e] for s, e in zip(batch.tok_start[lo:hi], batch.tok_end[lo:hi])]
        assert got == expected[d]


def test_offsets_refer_to_original_text_not_the_normalised_one():
    # folding drops the combining accent and the zero-width space: offsets still index the original
    text = "co\u0301te\u200b d'ivoire ＡＢＣ"
    for s, e, w in tokens(text):
        assert text[s:e] == w
    assert [normalize(w) for w in words(text)] == ["cote", "d", "ivoire", "abc"]


# --- folding --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw, folded",
    [
        ("HeLLo WORLD", "hello world"),  # case
        ("ＡＢＣ１２３", "abc123"),  # full width
        ("“double” ‘single’ «guillemets» „low“", '"double" \'single\' "guillemets" "low"'),
        ("a – b — c ― d", "a - b - c - d"),  # en, em and horizontal-bar dashes
        ("café naïve Ångström Łódź", "cafe naive angstrom łodz"),  # diacritics
        ("non\u00a0breaking\u2009thin", "non breaking thin"),  # space variants
    ],
)
def test_normalize_folds(raw, folded):
    assert normalize(raw) == folded


def test_normalize_ignores_case_and_accents_for_hashes_too():
    assert same_word("Café", "CAFE")
    assert same_word("Ｒｅｕｔｅｒｓ", "reuters")
    assert not same_word("cafe", "cafes")


def test_cyrillic_words_fold_case_and_yo():
    assert words("Жители Архангельска вышли на улицы") == [
        "Жители",
        "Архангельска",
        "вышли",
        "на",
        "улицы",
    ]
    assert normalize("ЁЛКА Ёлка") == "елка елка"
    assert same_word("МОРЖИ", "моржи")


def test_arabic_letter_variants_fold_and_harakat_are_ignored():
    # hamza forms of alef, alef maksura and yeh, keheh and kaf
    assert normalize("أحمد إبراهيم آمن") == "احمد ابراهيم امن"
    assert same_word("على", "علي")
    assert same_word("کتاب", "كتاب")
    # harakat (short-vowel marks) do not change the word, and do not split it
    voweled = "كَتَبَ"
    assert same_word(voweled, "كتب")
    assert len(tokens(voweled)) == 1
    assert normalize("مُحَمَّد") == "محمد"


@pytest.mark.parametrize("ligature", [chr(cp) for cp in range(0xFEF5, 0xFEFD)])
def test_arabic_lam_alef_ligatures_read_as_lam_and_alef(ligature):
    # every lam-alef form (with madda, hamza above or below, isolated or final) is lam + alef
    assert normalize(ligature) == "\u0644\u0627"
    written_with_ligature = f"الس{ligature}م"
    assert same_word(written_with_ligature, "السلام")
    assert same_word(f"{ligature}عب", "لاعب")
    # offsets still index the original text: the ligature is one code point there
    assert tokens(f"قال {written_with_ligature} اليوم")[1] == (4, 9, written_with_ligature)


def test_hashed_ligature_text_aligns_with_its_spelled_out_copy():
    spelled = "أعلن وزير الخارجية السلام مع الجيران. وقال إن الاتفاق لا رجعة فيه."
    with_ligatures = spelled.replace("لا", "\ufefb")
    assert with_ligatures != spelled
    batch = tokenize_batch([spelled, with_ligatures])
    first, second = batch.doc_tok_start[1], batch.doc_tok_start[2]
    assert list(batch.tok_hash[:first]) == list(batch.tok_hash[first:second])
    assert list(batch.doc_sent_start) == [0, 2, 4]


def test_latin_ligatures_fold_to_their_letters():
    assert normalize("ﬁnal ﬂow") == "final flow"
    assert same_word("ﬁnancial", "Financial")


def test_cyrillic_short_i_is_a_letter_of_its_own():
    # й and и make different words (мой "my" / мои "my", plural); ё still folds to е
    assert normalize("Мой МОЙ") == "мой мой"
    assert not same_word("мой", "мои")
    assert not same_word("Йод", "иод")
    assert same_word("ЙОД", "йод")
    assert same_word("всё", "все")
    # other marks still fold, the same breve on a Latin letter included
    assert same_word("Ăn", "an")


def test_chinese_one_token_per_han_character():
    text = "北京今年将新建口袋公园"
    toks = tokens(text)
    assert len(toks) == len(text)
    assert [(s, e) for s, e, _ in toks] == [(i, i + 1) for i in range(len(text))]


def test_chinese_mixed_with_latin_and_digits():
    assert words("新华社北京3月14日电 Xinhua") == [
        "新", "华", "社", "北", "京", "3", "月", "14", "日", "电", "Xinhua",
    ]  # fmt: skip


def test_devanagari_vowel_signs_stay_in_the_word():
    text = "सरकार ने नई नीति घोषित की"
    assert words(text) == ["सरकार", "ने", "नई", "नीति", "घोषित", "की"]
    # the virama and the vowel signs are part of the word, not separators
    assert words("स्वतंत्रता") == ["स्वतंत्रता"]


@pytest.mark.parametrize("mark", ["\u200b", "\u200c", "\u200d", "\u2060", "\u00ad", "\ufeff"])
def test_zero_width_characters_inside_a_word_do_not_split_it(mark):
    text = f"infor{mark}mation desk"
    assert tokens(text) == [(0, 12, f"infor{mark}mation"), (13, 17, "desk")]
    assert same_word(f"infor{mark}mation", "information")


# A word that ends in a combining mark (decomposed "é", Arabic tanween) must keep the
# mark: otherwise the token, the sentence and every passage end inside a character.
@pytest.mark.parametrize(
    "text, last_word",
    [
        (unicodedata.normalize("NFD", "Le café a fermé."), unicodedata.normalize("NFD", "fermé")),
        ("قال إنه سيعود قريباً.", "قريباً"),
    ],
)
def test_final_combining_mark_belongs_to_the_word(text, last_word):
    assert words(text)[-1] == last_word
    assert sentences(text) == [(0, len(text))]


# --- sentences ------------------------------------------------------------------------


def test_sentences_keep_abbreviations_inside():
    text = (
        "The U.S. Senate approved the bill on Tuesday. Mr. Smith voted against it. "
        "Dr. Ortiz, who chairs the panel, did not vote."
    )
    assert sentence_texts(text) == [
        "The U.S. Senate approved the bill on Tuesday.",
        "Mr. Smith voted against it.",
        "Dr. Ortiz, who chairs the panel, did not vote.",
    ]


def test_sentences_do_not_split_inside_numbers_or_before_lower_case():
    text = "It cost $4.5 million. The work ends at 5 p.m. on Friday. Then it reopens."
    assert sentence_texts(text) == [
        "It cost $4.5 million.",
        "The work ends at 5 p.m. on Friday.",
        "Then it reopens.",
    ]


def test_sentences_split_at_chinese_full_stop_without_space():
    text = "北京今年将新建口袋公园。居民表示欢迎！工程年底完工。"
    assert sentence_texts(text) == ["北京今年将新建口袋公园。", "居民表示欢迎！", "工程年底完工。"]


def test_sentences_split_at_devanagari_danda_and_at_line_breaks():
    assert sentence_texts("पहला वाक्य यहाँ है। दूसरा वाक्य यहाँ है।") == [
        "पहला वाक्य यहाँ है।",
        "दूसरा वाक्य यहाँ है।",
    ]
    assert sentence_texts("A subhead without a stop\nThe story goes on.") == [
        "A subhead without a stop",
        "The story goes on.",
    ]


def test_sentences_include_their_quotes():
    text = '"We will rebuild," she said. "It will take time." Nobody disagreed.'
    assert sentence_texts(text) == [
        '"We will rebuild," she said.',
        '"It will take time."',
        "Nobody disagreed.",
    ]


def test_sentences_skip_text_before_body_start():
    text = "By Jane Roe\nLONDON (Reuters) - The bank raised rates. Markets fell."
    start = body_start(text)
    assert sentence_texts(text, start) == ["The bank raised rates.", "Markets fell."]


# --- datelines and bylines --------------------------------------------------------------


@pytest.mark.parametrize(
    "text, place, agency, body",
    [
        ("BAGHDAD (Reuters) – Iraqi officials met on Tuesday.", "BAGHDAD", "Reuters", "Iraqi"),
        ("GENEVA (AP) — The agency said prices rose.", "GENEVA", "AP", "The agency"),
        ("SALVADOR, Feb 26 (Reuters) - Brazil said.", "SALVADOR, Feb 26", "Reuters", "Brazil"),
        ("PORT ELLIS — Water poured through the gap.", "PORT ELLIS", None, "Water"),
        ("MOSCOW, March 14. /TASS/. Scientists found a colony.", None, "TASS", "Scientists"),
        ("МОСКВА, 14 марта. /ТАСС/. Ученые нашли лежбище.", None, "ТАСС", "Ученые"),
        ("新华社北京3月14日电（记者王明）北京今年将新建口袋公园。", None, "新华社", "北京今年"),
    ],
)
def test_find_dateline(text, place, agency, body):
    dateline = find_dateline(text)
    assert dateline is not None
    assert dateline.start == 0
    assert dateline.agency == agency
    if place is not None:
        assert dateline.place == place
    assert text[dateline.end :].startswith(body)
    assert body_start(text) == dateline.end


@pytest.mark.parametrize(
    "text",
    [
        "The council met on Tuesday — and agreed to the plan.",
        "It was a NEW START — we said so at the time.",
        "Prices rose 3% (the most in a year) in March.",
        "北京今年将新建口袋公园。",
    ],
)
def test_no_dateline_in_ordinary_sentences(text):
    assert find_dateline(text) is None
    assert body_start(text) == 0


def test_body_start_skips_byline_line_then_dateline():
    text = "By Jane Roe\nLONDON (Reuters) - The bank raised rates."
    assert text[body_start(text) :] == "The bank raised rates."
    text = "By Mara Lindqvist, Staff Writer\n\nThe ferry was withdrawn on Monday."
    assert text[body_start(text) :] == "The ferry was withdrawn on Monday."


def test_body_start_skips_leading_whitespace():
    text = "\n\n  GENEVA (AP) — The agency said."
    assert text[body_start(text) :] == "The agency said."


def test_body_start_keeps_a_lead_sentence_that_starts_with_by():
    text = (
        "By noon on Friday the river had burst its banks in three places.\n\n"
        "Residents of the lower town were told to move their cars to higher ground."
    )
    assert body_start(text) == 0


# --- properties -------------------------------------------------------------------------


@given(st.text())
def test_token_offsets_are_in_bounds_non_empty_and_increasing(text):
    previous_end = 0
    for start, end, word in tokens(text):
        assert 0 <= start < end <= len(text)
        assert start >= previous_end
        assert word.strip() == word and word
        previous_end = end


@given(st.text())
def test_sentence_spans_are_in_bounds(text):
    for start, end in sentences(text):
        assert 0 <= start < end <= len(text)
    offset = body_start(text)
    assert 0 <= offset <= len(text)
    for start, end in sentences(text, offset):
        assert 0 <= start < end <= len(text)


@given(st.lists(st.text(), min_size=1, max_size=4))
def test_batch_offsets_are_local_to_each_text(texts):
    batch = tokenize_batch(texts)
    assert batch.n_docs == len(texts)
    for d, text in enumerate(texts):
        for k in range(batch.doc_tok_start[d], batch.doc_tok_start[d + 1]):
            assert 0 <= batch.tok_start[k] < batch.tok_end[k] <= len(text)
        for s in range(batch.doc_sent_start[d], batch.doc_sent_start[d + 1]):
            assert 0 <= batch.sent_start[s] < batch.sent_end[s] <= len(text)
