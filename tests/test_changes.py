"""What a derivative changed against its parent (``changes.py``), on hand-written pairs."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import wiretrace
from wiretrace.changes import (
    KIND_ORDER,
    SourcePattern,
    attributed_quotes,
    describe_changes,
    source_table,
    text_facts,
)
from wiretrace.model import Article, Change

WIRE = Article(
    id="wire",
    outlet="Reuters",
    title="Flood barrier fails in Dunmore, thousands leave their homes",
    text=(
        "DUNMORE, April 3 (Reuters) - A river flood broke through the main barrier protecting "
        "Dunmore early on Tuesday, forcing about 4,200 residents to leave their homes, the "
        "regional council said in a statement.\n\n"
        "Water covered the streets of the Mill End and Brackley districts by mid-morning, "
        "according to a Reuters witness. Rescue boats were working along the canal.\n\n"
        "“The barrier was built for a flood like this one, and it still gave way,” said Petra "
        "Lindqvist, the council's head of emergency planning. “We will find out why.”\n\n"
        "The barrier was completed in 1987 at a cost of 30 million crowns and last inspected "
        "in 2019. Engineers had warned of erosion at its northern end.\n\n"
        "Forecasters expect the river to peak again on Thursday evening."
    ),
)

COPY = Article(
    id="copy",
    outlet="Valley Post",
    title="Dunmore flood: thousands evacuated after barrier gives way",
    text=(
        "A river flood broke through the main barrier protecting Dunmore early on Tuesday, "
        "forcing about 5,600 residents to leave their homes, the regional council said in a "
        "statement.\n\n"
        "Water covered the streets of the Mill End and Brackley districts by mid-morning, "
        "according to a Reuters witness. Rescue boats were working along the canal.\n\n"
        "“The barrier was built for a flood like this one, and it still gave way,” said Petra "
        "Lindqvist, the council's head of emergency planning. “We will find out why.”\n\n"
        "Shopkeeper Tomas Arnell, whose bakery on Canal Street was flooded, said the water "
        "rose within minutes. “I had time to save the cash box and nothing else,” he told the "
        "Associated Press.\n\n"
        "Forecasters expect the river to peak again on Thursday evening."
    ),
)


@pytest.fixture(scope="module")
def wire_changes() -> list[Change]:
    passages = wiretrace.compare(COPY, WIRE).passages
    return describe_changes(COPY, WIRE, passages)


def of_kind(changes: list[Change], kind: str) -> list[Change]:
    return [c for c in changes if c.kind == kind]


def test_every_change_names_the_pair_and_points_at_its_text(wire_changes):
    assert wire_changes
    texts = {"article": COPY.text, "parent": WIRE.text}
    for change in wire_changes:
        assert (change.article, change.parent) == ("copy", "wire")
        assert change.kind in KIND_ORDER
        if change.start is not None:
            assert texts[change.side][change.start : change.end] == change.text
    # grouped by kind, in the documented order
    order = [KIND_ORDER.index(c.kind) for c in wire_changes]
    assert order == sorted(order)


def test_headline_change(wire_changes):
    (headline,) = of_kind(wire_changes, "headline_changed")
    assert headline.text == COPY.title
    assert headline.detail == WIRE.title
    assert headline.start is None


def test_dropped_paragraph_is_one_change_with_its_sentences(wire_changes):
    dropped = of_kind(wire_changes, "sentence_dropped")
    assert [c.text for c in dropped] == [
        "The barrier was completed in 1987 at a cost of 30 million crowns and last inspected "
        "in 2019. Engineers had warned of erosion at its northern end."
    ]
    assert dropped[0].side == "parent"
    assert dropped[0].detail == "2 sentences, whole paragraph"


def test_added_paragraph(wire_changes):
    added = of_kind(wire_changes, "sentence_added")
    assert len(added) == 1
    assert added[0].text.startswith("Shopkeeper Tomas Arnell")
    assert added[0].text.endswith("Associated Press.")
    assert added[0].side == "article"


def test_changed_number_in_an_aligned_sentence(wire_changes):
    changed = of_kind(wire_changes, "number_changed")
    assert [(c.text, c.detail) for c in changed] == [("5,600 residents", "was 4,200 residents")]
    removed = {c.text for c in of_kind(wire_changes, "number_removed")}
    assert {"1987", "30 million crowns", "2019"} <= removed
    assert "4,200 residents" not in removed  # reported as changed, not also as removed


def test_new_quote_with_its_speaker_and_source(wire_changes):
    (quote,) = of_kind(wire_changes, "quote_added")
    assert quote.text == "I had time to save the cash box and nothing else,"
    # "he told the Associated Press": the pronoun is the shopkeeper named before it
    assert quote.detail == "Shopkeeper Tomas Arnell (via the Associated Press)"
    assert not of_kind(wire_changes, "quote_removed")  # the kept quotes are not reported


def test_new_source_and_dropped_dateline(wire_changes):
    added = [(c.text, c.detail) for c in of_kind(wire_changes, "source_added")]
    assert added == [("the Associated Press", "told")]
    removed = [(c.text, c.detail) for c in of_kind(wire_changes, "source_removed")]
    # the copy still credits "a Reuters witness" but dropped the agency's dateline
    assert removed == [("Reuters", "dateline")]


def test_names_added_and_removed(wire_changes):
    added = {c.text for c in of_kind(wire_changes, "name_added")}
    # a capitalised word opening a sentence may be part of the name: a lexical heuristic
    assert {"Shopkeeper Tomas Arnell", "Canal Street", "Associated Press"} <= added
    assert "Petra Lindqvist" not in added and "Dunmore" not in added
    removed = {c.text for c in of_kind(wire_changes, "name_removed")}
    # the dropped paragraph named nobody; the dateline is not part of the story's text
    assert removed == set()


def test_identical_texts_have_no_changes():
    twin = Article(id="twin", text=WIRE.text, title=WIRE.title)
    passages = wiretrace.compare(twin, WIRE).passages
    assert describe_changes(twin, WIRE, passages) == []


def test_without_passages_everything_is_added_and_dropped():
    other = Article(id="other", text="Council backs a new bus lane on Harbour Road.")
    changes = describe_changes(other, WIRE, [])
    assert [c.text for c in of_kind(changes, "sentence_added")] == [other.text]
    assert len(of_kind(changes, "sentence_dropped")) == 5  # one per paragraph of the parent


def test_passages_as_an_array_give_the_same_changes(wire_changes):
    passages = wiretrace.compare(COPY, WIRE).passages
    rows = np.array([(p.a_start, p.a_end, p.b_start, p.b_end) for p in passages])
    assert describe_changes(COPY, WIRE, rows) == wire_changes


def test_spelled_and_written_numbers_are_the_same_number():
    parent = Article(id="p", text="Two people were injured and 12 homes were damaged.")
    child = Article(id="c", text="2 people were injured and twelve homes were damaged.")
    changes = describe_changes(child, parent, wiretrace.compare(child, parent).passages)
    assert not [c for c in changes if c.kind.startswith("number_")]


def test_multipliers_and_units():
    facts = text_facts("Losses reached $1.2 billion, up 14%, and 1,3 тыс. животных погибли.")
    values = {n.key for n in facts.numbers}
    assert {(1.2e9, False), (14.0, True), (1300.0, False)} <= values


# --- quotes and speakers ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, quote, speaker",
    [
        ("“We are not leaving,” said Anna Berg.", "We are not leaving,", "Anna Berg"),
        ('"Prices will fall soon," Martin Ode said.', "Prices will fall soon,", "Martin Ode"),
        (
            "The mayor, Ruth Kalnin, said: „Die Brücke bleibt gesperrt bis Mai.“",
            "Die Brücke bleibt gesperrt bis Mai.",
            "Ruth Kalnin",
        ),
        (
            "«Мы откроем мост в мае», — сказал глава района Игорь Лесков.",
            "Мы откроем мост в мае",
            "глава района Игорь Лесков",
        ),
        ("市民王先生表示：「这座桥对我们很重要，希望早日修好。」", None, "市民王先生"),
        (
            "'The river has never been this high,' a fisherman told reporters.",
            "The river has never been this high,",
            "a fisherman",
        ),
    ],
)
def test_quote_styles_and_speakers(text, quote, speaker):
    (found,) = attributed_quotes(text_facts(text))
    if quote is not None:
        assert found.text == quote
    assert found.speaker == speaker
    assert text[found.start : found.end] == found.text


def test_short_quoted_terms_are_not_quotes():
    facts = text_facts("The so-called “green corridor” opened on the “Idris” route.")
    assert facts.quotes == []


def test_pronoun_resolves_to_the_speaker_of_the_paragraph():
    text = (
        "“The water came at night,” said Lena Vos, a nurse.\n\n"
        "Later, Karel Dusek, the harbour master, said the gates had failed. “Nobody saw it "
        "coming,” he said."
    )
    first, second = attributed_quotes(text_facts(text))
    assert first.speaker == "Lena Vos, a nurse"
    assert second.speaker == "Karel Dusek"


def test_a_continued_quote_keeps_its_speaker():
    text = "“The tide is high,” said Ines Moro. “It will stay high until Friday.”"
    first, second = attributed_quotes(text_facts(text))
    assert first.speaker == second.speaker == "Ines Moro"


# --- sources ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, source, label",
    [
        ("The minister told Reuters on Monday that talks had stalled.", "Reuters", "told"),
        ("The figure was cited by the Associated Press.", "the Associated Press", "cited by"),
        ("Two ships were hit, according to AFP.", "AFP", "according to"),
        ("The ministry said in a statement that it would appeal.", "The ministry", "statement"),
        (
            "A spokesman for the Port Authority declined to comment.",
            "the Port Authority",
            "spokesperson",
        ),
        ("Об этом ТАСС сообщил источник в министерстве.", "ТАСС", "told"),
        ("Как сообщает «Интерфакс», переговоры продолжатся.", "«Интерфакс»", "reported"),
        ("据新华社报道，大桥将于五月通车。", "新华社", "according to"),
    ],
)
def test_source_citations(text, source, label):
    facts = text_facts(text)
    assert (source, label) in {(s.name, s.label) for s in facts.sources}


def test_agency_spellings_are_one_source():
    parent = Article(id="p", text="GENEVA (AP) — Talks resumed on Monday, officials said.")
    child = Article(
        id="c", text="Talks resumed on Monday, officials told The Associated Press on Monday."
    )
    changes = describe_changes(child, parent, wiretrace.compare(child, parent).passages)
    assert not [c for c in changes if c.kind.startswith("source_")]


def test_users_add_source_patterns():
    table = source_table(
        extra=[SourcePattern("en", "wire", r"\bvia (?P<source>Nordwire)", ("via",))]
    )
    facts = text_facts("The figures came via Nordwire on Friday.", sources=table)
    assert [(s.name, s.label) for s in facts.sources] == [("Nordwire", "wire")]
    assert text_facts("The figures came via Nordwire on Friday.").sources == []


@pytest.mark.parametrize("pattern", [r"told (\w+)", r"told (?P<source>[a-z"])
def test_a_bad_source_pattern_is_a_clear_error(pattern):
    with pytest.raises(ValueError, match="source pattern"):
        source_table(extra=[SourcePattern("en", "bad", pattern)])


# --- other languages -------------------------------------------------------------------------

TASS = Article(
    id="tass",
    outlet="ТАСС",
    title="В заповеднике насчитали 1,3 тыс. сайгаков",
    text=(
        "МОСКВА, 2 мая. /ТАСС/. Сотрудники заповедника «Степной» насчитали весной около "
        "1,3 тыс. сайгаков, сообщил ТАСС директор заповедника Павел Громов.\n\n"
        "«Это больше, чем мы ожидали после суровой зимы», — сказал Громов.\n\n"
        "Учет проводился с помощью беспилотников в течение двух недель."
    ),
)
RU_COPY = Article(
    id="ru-copy",
    outlet="Степные вести",
    title="Сайгаков в заповеднике стало больше",
    text=(
        "Сотрудники заповедника «Степной» насчитали весной около 1,5 тыс. сайгаков, сообщил "
        "ТАСС директор заповедника Павел Громов.\n\n"
        "«Это больше, чем мы ожидали после суровой зимы», — сказал Громов.\n\n"
        "Эколог Марина Светлова в беседе с «Степными вестями» отметила, что популяция "
        "восстанавливается. «Главное теперь — защитить животных от браконьеров», — "
        "подчеркнула она."
    ),
)


def test_russian_rewrite():
    changes = describe_changes(RU_COPY, TASS, wiretrace.compare(RU_COPY, TASS).passages)
    kinds = {c.kind: c for c in changes}
    assert kinds["number_changed"].text.startswith("1,5 тыс.")
    assert kinds["number_changed"].detail.startswith("was 1,3 тыс.")
    (quote,) = of_kind(changes, "quote_added")
    assert quote.text == "Главное теперь — защитить животных от браконьеров"
    assert quote.detail == "Эколог Марина Светлова"  # "она": the person this paragraph names
    assert [c.text for c in of_kind(changes, "source_added")] == ["«Степными вестями»"]
    assert "Эколог Марина Светлова" in {c.text for c in of_kind(changes, "name_added")}
    dropped = of_kind(changes, "sentence_dropped")
    assert [c.text for c in dropped] == [
        "Учет проводился с помощью беспилотников в течение двух недель."
    ]


def test_inflected_russian_names_are_the_same_name():
    parent = Article(id="p", text="Директор Павел Громов рассказал о находке.")
    child = Article(id="c", text="О находке рассказал директор заповедника Павла Громова помощник.")
    changes = describe_changes(child, parent, [])
    assert not of_kind(changes, "name_added")


XINHUA = Article(
    id="xinhua",
    outlet="新华社",
    title="本市今年将新建80处社区菜市场",
    text=(
        "新华社上海5月2日电 记者从上海市商务委员会获悉，本市今年将新建和改造社区菜市场80处，"
        "重点覆盖新建住宅区。\n\n"
        "市商务委相关负责人表示，新建菜市场将统一设置便民服务点。"
    ),
)
ZH_COPY = Article(
    id="zh-copy",
    outlet="城市快报",
    title="家门口的菜市场又要多了",
    text=(
        "记者从上海市商务委员会获悉，本市今年将新建和改造社区菜市场90处，重点覆盖新建住宅区。\n\n"
        "市商务委相关负责人表示，新建菜市场将统一设置便民服务点。\n\n"
        "市民李女士告诉记者：“以前买菜要走二十分钟，希望新市场早点开门。”"
    ),
)


def test_chinese_rewrite():
    changes = describe_changes(ZH_COPY, XINHUA, wiretrace.compare(ZH_COPY, XINHUA).passages)
    (changed,) = of_kind(changes, "number_changed")
    assert (changed.text, changed.detail) == ("90处", "was 80处")
    (quote,) = of_kind(changes, "quote_added")
    assert quote.text == "以前买菜要走二十分钟，希望新市场早点开门。"
    assert quote.detail == "市民李女士"
    removed = [(c.text, c.detail) for c in of_kind(changes, "source_removed")]
    assert removed == [("新华社", "dateline")]
    assert not of_kind(changes, "source_added")  # the learned-from source is kept
    assert of_kind(changes, "headline_changed")[0].detail == XINHUA.title


# --- the pipeline ----------------------------------------------------------------------------


def test_run_describes_every_derivative_against_its_parent(tmp_path):
    from conftest import write_jsonl

    records = [
        {"id": a.id, "outlet": a.outlet, "title": a.title, "text": a.text, "published_at": when}
        for a, when in ((WIRE, "2024-04-03T06:00Z"), (COPY, "2024-04-03T09:00Z"))
    ]
    summary = wiretrace.run([write_jsonl(tmp_path / "pair.jsonl", records)])
    changes = summary.result.changes
    assert changes == describe_changes(COPY, WIRE, wiretrace.compare(COPY, WIRE).passages)


# --- the sample corpus store -------------------------------------------------------------------


def test_sample_store_has_sensible_changes(sample_run):
    from wiretrace.store import connect

    _, db = sample_run
    with connect(db) as con:
        columns = [row[0] for row in con.execute("DESCRIBE changes").fetchall()]
        assert columns == ["article", "parent", "kind", "text", "detail", "side", "start", "end"]
        rows = con.execute(
            'SELECT c.article, c.parent, c.kind, c.text, c.detail, c.side, c.start, c."end", '
            "a.parent, a.text, p.text FROM changes c JOIN articles a ON a.id = c.article "
            "JOIN articles p ON p.id = c.parent"
        ).fetchall()
        n_changes = con.execute("SELECT count(*) FROM changes").fetchone()[0]
        with_parent = con.execute("SELECT count(*) FROM articles WHERE parent IS NOT NULL")
        n_children = with_parent.fetchone()[0]
        described = con.execute("SELECT count(DISTINCT article) FROM changes").fetchone()[0]
    assert len(rows) == n_changes > 0  # every change names stored articles
    assert 0 < described <= n_children
    for _, parent, kind, text, _, side, start, end, stored_parent, a_text, p_text in rows:
        assert parent == stored_parent  # against the lineage parent, nothing else
        assert kind in KIND_ORDER and side in ("article", "parent")
        if kind == "headline_changed":
            assert start is None and end is None
        else:
            assert (a_text if side == "article" else p_text)[start:end] == text
    by_article = {}
    for row in rows:
        by_article.setdefault(row[0], []).append(row)
    # the Russian portal's rewrite added a second scientist's quote and the portal itself
    portal = by_article["walrus-arcticportal"]
    assert ("quote_added", "Ольга Ратникова") in {(r[2], r[4]) for r in portal}
    assert ("source_added", "«Арктическим порталом»") in {(r[2], r[3]) for r in portal}
    # the Chinese copy without Xinhua's dateline no longer says where the text came from
    assert ("source_removed", "新华社") in {(r[2], r[3]) for r in by_article["park-dushi"]}


@pytest.mark.parametrize("fmt", ["jsonl", "parquet"])
def test_changes_are_exported(sample_run, tmp_path, fmt):
    import pyarrow.parquet as pq

    from wiretrace.export import export_store

    _, db = sample_run
    counts = export_store(db, tmp_path, fmt)
    assert counts["changes"] > 0
    path = tmp_path / f"changes.{fmt}"
    if fmt == "parquet":
        table = pq.read_table(path)
        assert table.column_names == [
            "article", "parent", "kind", "text", "detail", "side", "start", "end",
        ]  # fmt: skip
        assert table.num_rows == counts["changes"]
    else:
        import json

        rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
        assert len(rows) == counts["changes"]
        assert {"article", "parent", "kind", "text", "detail", "side", "start", "end"} == set(
            rows[0]
        )


def test_a_store_from_before_the_changes_table_still_exports(sample_run, tmp_path):
    import shutil

    import duckdb

    from wiretrace.export import export_store

    old = tmp_path / "old.duckdb"
    shutil.copy(sample_run[1], old)
    with duckdb.connect(str(old)) as con:
        con.execute("DROP TABLE changes")
    counts = export_store(old, tmp_path / "out", "jsonl")
    assert "changes" not in counts and counts["articles"] == 37
    assert not (tmp_path / "out" / "changes.jsonl").exists()


# --- the fast paths find what the plain ones do ----------------------------------------------

# The patterns as first written, with their tests on the context first; ``changes.py`` tests
# the capital or quotation mark first, which lets the scan skip ahead at C speed.
_PLAIN_NAME = (
    r"(?=[A-ZÀ-ÖØ-ÞА-ЯЁ])(?<![\w’'.])"
    r"(?!(?:The|A|An|In|On|At|But|And|It|Its|This|That|These|Those|He|She|They|We|I|His|Her|"
    r"Their|As|For|If|When|While|After|Before|With|Of|To|By|From|There|Some|Many|Most)"
    r"[ \u00a0,])"
    r"(?:(?:[A-ZА-ЯЁ]\.){2,}|(?:[a-z]{1,3}[\-’'])?[A-ZÀ-ÖØ-ÞА-ЯЁ][\w’'\-]*)"
    r"(?:[ \u00a0](?:(?:of|for|de|del|da|di|van|von|der|den|du|la|le|bin|ibn|al|el)[ \u00a0])?"
    r"(?:(?:[A-ZА-ЯЁ]\.){2,}|(?:[a-z]{1,3}[\-’'])?[A-ZÀ-ÖØ-ÞА-ЯЁ][\w’'\-]*))*"
)
_PLAIN_QUOTE = (
    r"(?=[“„«「『\"‘'])"
    r"(?:“(?P<q1>[^“”\n]+)”"
    r"|„(?P<q2>[^„“”\n]+)[“”]"
    r"|«(?P<q3>(?:[^«»\n]|«[^«»\n]*»)+)»"
    r"|「(?P<q4>[^「」\n]+)」"
    r"|『(?P<q5>[^『』\n]+)』"
    r"|(?<![\w\"])\"(?P<q6>[^\"\n]+)\"(?![\w])"
    r"|(?<!\w)‘(?P<q7>[^‘\n]+?)’(?!\w)"
    r"|(?<![\w'])'(?P<q8>[^'\n]+?)'(?![\w]))"
)
# words, capitals, particles and function words, every quotation mark, spaces and breaks
_TRICKY = st.lists(
    st.sampled_from(
        ["The", "A", "In", "Ali", "U.", "N.", "al-", "de", "of", "van", "Assad", "Él", "Ёлкин",
         "ISIS", "word", "s", "x1", " ", " ", "\u00a0", ",", ".", "-", "’", "'", '"', "“", "”",
         "„", "«", "»", "「", "」", "『", "』", "‘", "\n", "5"]
    ),
    max_size=40,
).map("".join)  # fmt: skip


@given(text=_TRICKY, pos=st.integers(0, 12), stop=st.integers(0, 80))
def test_fast_name_and_quote_patterns_match_as_the_plain_ones(text, pos, stop):
    import re

    from wiretrace import changes

    stop = max(pos, min(stop, len(text)))
    for fast, plain in ((changes._NAME, _PLAIN_NAME), (changes._QUOTE, _PLAIN_QUOTE)):
        expected = [(m.span(), m.lastgroup) for m in re.compile(plain).finditer(text, pos, stop)]
        assert [(m.span(), m.lastgroup) for m in fast.finditer(text, pos, stop)] == expected


@given(
    left=st.lists(st.text("abc d", min_size=1, max_size=12), min_size=1, max_size=2),
    right=st.lists(st.text("abc d", min_size=1, max_size=12), min_size=1, max_size=2),
)
def test_few_quotes_are_scored_as_cdist_scores_many(left, right):
    from rapidfuzz import fuzz, process

    from wiretrace import changes

    assert len(left) * len(right) <= changes.SMALL_CDIST  # the one-by-one scoring
    scores = process.cdist(left, right, scorer=fuzz.token_set_ratio, dtype=np.uint8)
    assert changes._similar(left, right).tolist() == (scores >= changes.QUOTE_MATCH).tolist()


def test_quotes_scoring_half_points_count_as_cdist_rounds_them():
    from wiretrace import changes

    # 100 * (1 - 102 / 400) = 74.5 exactly: cdist rounds it to 75, a match
    left, right = ["a" * 200], ["a" * 149 + "b" * 51]
    assert changes._similar(left, right).tolist() == [[True]]
    assert changes._similar(left * 3, right * 3).tolist() == [[True] * 3] * 3  # through cdist


def test_memoised_facts_do_not_change_a_run(sample_articles_path):
    import gc

    from wiretrace import changes

    for name in dir(changes):  # cold: nothing seen yet
        if hasattr(getattr(changes, name), "cache_clear"):
            getattr(changes, name).cache_clear()
    cold = wiretrace.run([sample_articles_path]).result.changes
    warm = wiretrace.run([sample_articles_path]).result.changes
    assert cold and cold == warm
    assert gc.isenabled()  # the stage pauses the collector only while it runs
