"""Issue 7, property tests: offsets inside the texts, verbatim means equal, order does not matter.

The texts are built from sentences in several scripts, copied into a second text with
the kinds of edits newsrooms make (dropped and reordered sentences, changed case and
punctuation, words added or replaced, zero-width and bidi marks, a new intro).
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import orjson
from hypothesis import given, settings
from hypothesis import strategies as st

import wiretrace
from wiretrace.store import connect
from wiretrace.text import normalize, tokens

SENTENCES = [
    "The river rose above its banks on Tuesday and flooded the lower town.",
    "Emergency crews moved 300 residents to the school hall overnight.",
    "The mayor said the damage would take weeks to assess.",
    "\u201cWe have never seen water this high,\u201d said Ines Cardoso, a baker.",
    "Трамваи в центре города не ходили до вечера вторника.",
    "Власти пообещали выплатить компенсации пострадавшим семьям.",
    "ارتفع منسوب النهر فوق ضفتيه يوم الثلاثاء وغمر المدينة السفلى.",
    "قال رئيس البلدية إن تقييم الأضرار سيستغرق أسابيع.",
    "河水周二漫过堤岸，淹没了下城区。",
    "救援人员连夜将三百名居民转移到学校礼堂。",
    "नदी का पानी मंगलवार को किनारों से ऊपर आ गया।",
    "Ο δήμαρχος είπε ότι η εκτίμηση των ζημιών θα διαρκέσει εβδομάδες.",
    "แม่น้ำเอ่อล้นตลิ่งเมื่อวันอังคารและท่วมเมืองส่วนล่าง",
]
EXTRA_WORDS = ["local", "officials", "confirmed", "\u0645\u062d\u0644\u064a", "本地", "ещё"]
MARKS = ["\u200b", "\u200c", "\u200f", "\u202b", "\u00ad", "\u0640"]


@st.composite
def text_and_copy(draw) -> tuple[str, str]:
    picks = draw(st.lists(st.sampled_from(SENTENCES), min_size=1, max_size=8))
    source = draw(st.sampled_from(["\n\n", " ", "\n"])).join(picks)
    kept = [s for s in picks if draw(st.booleans()) or len(picks) == 1]
    if draw(st.booleans()):
        kept = draw(st.permutations(kept))
    edited = []
    for sentence in kept:
        edit = draw(st.sampled_from(["none", "upper", "lower", "word", "mark", "punct"]))
        if edit == "upper":
            sentence = sentence.upper()
        elif edit == "lower":
            sentence = sentence.lower()
        elif edit == "word":
            words = sentence.split(" ")
            at = draw(st.integers(0, len(words)))
            sentence = " ".join([*words[:at], draw(st.sampled_from(EXTRA_WORDS)), *words[at:]])
        elif edit == "mark":
            at = draw(st.integers(1, max(1, len(sentence) - 1)))
            sentence = sentence[:at] + draw(st.sampled_from(MARKS)) + sentence[at:]
        elif edit == "punct":
            sentence = sentence.replace(",", " ,").replace("\u201c", '"').replace("\u201d", '"')
        edited.append(sentence)
    intro = draw(st.sampled_from(["", "BRIEF \u2014 ", "By Staff Writer\n\n", "UPDATE 1-"]))
    copy = intro + draw(st.sampled_from(["\n\n", " "])).join(edited)
    return source, copy


def normalised_tokens(text: str) -> list[str]:
    return [normalize(token) for _, _, token in tokens(text)]


@given(text_and_copy())
def test_passages_lie_inside_both_texts(pair):
    source, copy = pair
    for a, b in ((source, copy), (copy, source)):
        result = wiretrace.compare(a, b)
        for p in result.passages:
            assert 0 <= p.a_start < p.a_end <= len(a)
            assert 0 <= p.b_start < p.b_end <= len(b)
            assert p.a_text(a).strip() and p.b_text(b).strip()


@given(text_and_copy())
def test_verbatim_passages_are_equal_after_normalisation(pair):
    source, copy = pair
    result = wiretrace.compare(source, copy)
    for p in result.passages:
        if p.kind == "verbatim":
            assert normalised_tokens(p.a_text(source)) == normalised_tokens(p.b_text(copy))


@given(text_and_copy())
def test_an_exact_copy_is_one_verbatim_passage_per_run_of_sentences(pair):
    source, _ = pair
    result = wiretrace.compare(source, source)
    assert result.passages, source
    assert all(p.kind == "verbatim" for p in result.passages)
    assert all((p.a_start, p.a_end) == (p.b_start, p.b_end) for p in result.passages)


# --- results do not depend on the order of the input ---------------------------------------


def sample_records(sample_path: Path) -> list[bytes]:
    return [line for line in sample_path.read_bytes().splitlines() if line.strip()]


def outcome(records: list[bytes]) -> dict:
    """Links, families and parents of a run over ``records``, as order-free sets."""
    with tempfile.TemporaryDirectory() as folder:
        corpus = Path(folder) / "corpus.jsonl"
        corpus.write_bytes(b"\n".join(records) + b"\n")
        db = Path(folder) / "store.duckdb"
        wiretrace.run([corpus], db=db)
        with connect(db) as con:
            links = set(con.execute("SELECT source, derivative FROM links").fetchall())
            members = con.execute(
                "SELECT list(id ORDER BY id) FROM articles GROUP BY family"
            ).fetchall()
            parents = dict(con.execute("SELECT id, parent FROM articles").fetchall())
            passages = set(
                con.execute(
                    "SELECT src, dst, src_start, src_end, dst_start, dst_end, kind FROM passages"
                ).fetchall()
            )
    return {
        "links": links,
        "families": {tuple(ids) for (ids,) in members},
        "parents": parents,
        "passages": passages,
    }


SAMPLE = Path(__file__).resolve().parents[1] / "src" / "wiretrace" / "data" / "sample"
_RECORDS = sample_records(SAMPLE / "articles.jsonl")
_IN_ORDER: dict = {}


def in_order() -> dict:
    if not _IN_ORDER:
        _IN_ORDER.update(outcome(_RECORDS))
    return _IN_ORDER


@settings(max_examples=12)
@given(st.permutations(range(len(_RECORDS))))
def test_sample_corpus_results_do_not_depend_on_input_order(order):
    shuffled = outcome([_RECORDS[i] for i in order])
    expected = in_order()
    assert shuffled["links"] == expected["links"]
    assert shuffled["families"] == expected["families"]
    assert shuffled["parents"] == expected["parents"]
    assert shuffled["passages"] == expected["passages"]


def test_sample_records_have_ids():
    assert all(orjson.loads(r).get("id") for r in _RECORDS)
