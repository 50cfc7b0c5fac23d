"""The boilerplate table: which recurring lines were left out of reuse, by which rule."""

from __future__ import annotations

import json

import numpy as np
import pytest
from conftest import table_rows, write_jsonl
from typer.testing import CliRunner

import wiretrace
from wiretrace.api import add
from wiretrace.boilerplate import boilerplate_groups
from wiretrace.cli import app
from wiretrace.export import export_store
from wiretrace.fingerprint import BoilerplateRules
from wiretrace.model import RunParams

NEWSLETTER = "Sign up for our newsletter to get the best local stories every morning."
COPYRIGHT = "© 2026 Bay Gazette. All rights reserved."
BRIEFING = "Here is the morning briefing from our newsroom."
CREDIT_TWICE = "Reporting by Ana Lint; Editing by Bo Kerr."
CREDIT_ONCE = "Reporting by Cy Mote."

# (id, outlet, body): unrelated stories, except hill-3 which retells gazette-1
STORIES = [
    ("gazette-1", "Bay Gazette",
     "The harbour authority approved a new ferry terminal on Tuesday after three years of "
     "planning. The terminal will handle twelve sailings a day to the outer islands. "
     "Construction starts in the spring and is expected to cost forty million crowns."),
    ("gazette-2", "Bay Gazette",
     "A fire destroyed the old cannery warehouse near the fish market overnight. Firefighters "
     "kept the flames from spreading to the neighbouring bakery. Nobody was hurt, and the "
     "cause is still being investigated by the district fire service."),
    ("gazette-3", "Bay Gazette",
     "The town orchestra announced a summer season of open-air concerts in Linden Park. The "
     "first concert features a programme of sea shanties arranged for strings. Tickets are "
     "free but must be booked through the library."),
    ("gazette-4", "Bay Gazette",
     "Local farmers reported the best strawberry harvest in a decade thanks to a warm May. "
     "Prices at the Saturday market fell by a third as stalls overflowed with fruit. Several "
     "growers plan to open pick-your-own fields next weekend."),
    ("hill-1", "Hill Herald",
     "The mountain railway reopened after winter repairs to the viaduct were finished early. "
     "Engineers replaced forty steel girders and repainted the whole span. The first train "
     "carried a group of schoolchildren to the summit station."),
    ("hill-2", "Hill Herald",
     "Volunteers counted a record number of golden eagles nesting in the northern valleys. "
     "The survey found nineteen occupied nests, up from eleven last year. Rangers credit the "
     "ban on low-flying tourist helicopters for the recovery."),
    ("hill-3", "Hill Herald",
     "The harbour authority approved a new ferry terminal on Tuesday after three years of "
     "planning. The terminal will handle twelve sailings a day to the outer islands. "
     "Construction starts in the spring and is expected to cost forty million crowns. "
     "Hill residents hope the new route will shorten their trips to the coast."),
]  # fmt: skip


def records(with_boilerplate: bool = True) -> list[dict]:
    out = []
    for i, (ident, outlet, body) in enumerate(STORIES):
        parts = [body]
        if with_boilerplate:
            parts.insert(0, BRIEFING)
            if outlet == "Bay Gazette":
                parts += [NEWSLETTER, COPYRIGHT]
            elif ident in ("hill-1", "hill-2"):
                parts.append(CREDIT_TWICE)
            else:
                parts.append(CREDIT_ONCE)
        out.append({
            "id": ident, "outlet": outlet, "title": ident,
            "published_at": f"2026-05-0{i + 1}T08:00:00+00:00", "text": "\n\n".join(parts),
        })  # fmt: skip
    return out


# "corpus" needs 100 articles by default; five make it testable on seven
PARAMS = RunParams(boilerplate=BoilerplateRules(any_docs=5))


@pytest.fixture(scope="module")
def stores(tmp_path_factory):
    folder = tmp_path_factory.mktemp("boilerplate")
    with_lines = write_jsonl(folder / "with.jsonl", records())
    without = write_jsonl(folder / "without.jsonl", records(with_boilerplate=False))
    summary = wiretrace.run([with_lines], db=folder / "with.duckdb", params=PARAMS)
    wiretrace.run([without], db=folder / "without.duckdb", params=PARAMS)
    return folder, summary


def boilerplate_rows(db) -> dict[str, tuple]:
    """sample -> (outlet, rule, articles, example)."""
    rows = table_rows(db, "(SELECT sample, outlet, rule, articles, example FROM boilerplate)")
    return {r[0]: r[1:] for r in rows}


def test_each_recurring_line_is_one_row_with_its_rule_count_and_example(stores):
    folder, summary = stores
    found = boilerplate_rows(folder / "with.duckdb")
    assert found == {
        NEWSLETTER: ("Bay Gazette", "outlet", "4", "gazette-1"),
        # the copyright line is two sentences; the © sign is not part of a sentence
        "2026 Bay Gazette.": ("Bay Gazette", "outlet", "4", "gazette-1"),
        "All rights reserved.": ("Bay Gazette", "outlet", "4", "gazette-1"),
        BRIEFING: (None, "corpus", "7", "gazette-1"),
        CREDIT_TWICE: (None, "credit", "2", "hill-1"),
        CREDIT_ONCE: (None, "credit", "1", "hill-3"),
    }
    assert summary.boilerplate_lines == 6
    assert summary.boilerplate_articles == 7
    assert summary.result.boilerplate.sentences == 4 * 4 + 3 + 7 - 4  # briefing counted once


def test_boilerplate_leaves_reuse_and_families_as_without_it(stores):
    folder, _ = stores
    with_lines, without = folder / "with.duckdb", folder / "without.duckdb"
    links = table_rows(with_lines, "(SELECT source, derivative FROM links)")
    assert links == table_rows(without, "(SELECT source, derivative FROM links)")
    assert {frozenset(pair) for pair in links} == {frozenset({"gazette-1", "hill-3"})}
    families = "(SELECT id, family, parent FROM articles)"
    assert table_rows(with_lines, families) == table_rows(without, families)
    assert table_rows(without, "boilerplate") == []


def test_the_run_summary_and_outlets_report_name_the_lines(stores, tmp_path):
    folder, _ = stores
    runner = CliRunner()
    wide = {"COLUMNS": "250"}
    done = runner.invoke(
        app, ["run", str(folder / "with.jsonl"), "--db", str(tmp_path / "cli.duckdb")], env=wide
    )
    assert done.exit_code == 0, done.output
    # the default rules: the briefing (7 articles) is no longer corpus-wide boilerplate
    assert "boilerplate" in done.output and "5 lines in 7 articles" in done.output
    shown = runner.invoke(app, ["outlets", "--db", str(folder / "with.duckdb")], env=wide)
    assert shown.exit_code == 0, shown.output
    after = shown.output.split("boilerplate lines")[1]
    gazette, anywhere = after.split("any outlet")
    assert "Bay Gazette: 3 lines" in gazette and NEWSLETTER in gazette
    assert CREDIT_TWICE in anywhere and "credit" in anywhere and NEWSLETTER not in anywhere
    as_json = runner.invoke(app, ["outlets", "--db", str(folder / "with.duckdb"), "--json"])
    by_outlet = {r["outlet"]: r["boilerplate"] for r in json.loads(as_json.output)}
    assert by_outlet["Hill Herald"] == []
    assert [(b["sample"], b["rule"], b["articles"]) for b in by_outlet["Bay Gazette"]] == [
        (line, "outlet", 4)
        for line in sorted([NEWSLETTER, "2026 Bay Gazette.", "All rights reserved."],
                           key=lambda s: next(k for k, (_, smp) in enumerate(_keys(folder))
                                              if smp == s))
    ]  # fmt: skip


def _keys(folder) -> list[tuple[str, str]]:
    """(key, sample) of the Bay Gazette lines in the report's order (articles, then key)."""
    return sorted(
        table_rows(folder / "with.duckdb", "(SELECT key, sample FROM boilerplate "
                   "WHERE outlet = 'Bay Gazette')")
    )  # fmt: skip


@pytest.mark.parametrize("fmt", ["jsonl", "csv", "parquet"])
def test_export_includes_the_boilerplate_table(stores, tmp_path, fmt):
    folder, _ = stores
    counts = export_store(folder / "with.duckdb", tmp_path, fmt)
    assert counts["boilerplate"] == 6
    target = tmp_path / f"boilerplate.{fmt}"
    if fmt == "jsonl":
        rows = [json.loads(line) for line in target.read_text().splitlines()]
        assert {r["sample"] for r in rows} == set(boilerplate_rows(folder / "with.duckdb"))
        assert [r["outlet"] for r in rows][:3] == ["Bay Gazette"] * 3
    elif fmt == "csv":
        assert target.read_text().splitlines()[0] == "key,sample,outlet,rule,articles,example"
    else:
        import pyarrow.parquet as pq

        assert pq.read_table(target).num_rows == 6


def test_an_add_that_makes_a_line_recur_gives_the_full_runs_table(tmp_path):
    all_records = records()
    # two Gazette articles: the newsletter is a service line ("Sign up for"), not yet one the
    # outlet repeats (that needs three articles); the add turns it into one
    first = write_jsonl(tmp_path / "first.jsonl", all_records[:2] + all_records[4:5])
    second = write_jsonl(tmp_path / "second.jsonl", all_records[2:4] + all_records[5:])
    wiretrace.run([first], db=tmp_path / "inc.duckdb", params=PARAMS)
    assert boilerplate_rows(tmp_path / "inc.duckdb")[NEWSLETTER] == (
        None, "credit", "2", "gazette-1"
    )  # fmt: skip
    assert "2026 Bay Gazette." not in boilerplate_rows(tmp_path / "inc.duckdb")
    summary = add([second], db=tmp_path / "inc.duckdb")
    wiretrace.run([first, second], db=tmp_path / "full.duckdb", params=PARAMS)
    full = table_rows(tmp_path / "full.duckdb", "boilerplate")
    assert table_rows(tmp_path / "inc.duckdb", "boilerplate") == full
    assert boilerplate_rows(tmp_path / "inc.duckdb")[NEWSLETTER] == (
        "Bay Gazette", "outlet", "4", "gazette-1"
    )  # fmt: skip
    assert summary.boilerplate_lines == len(full) and summary.boilerplate_articles == 7


def test_a_line_an_outlet_repeats_is_its_own_row_beside_the_corpus_wide_one():
    # one hash: rule "outlet" in outlet 0 (3 articles), rule "corpus" elsewhere (2 articles)
    hashes = np.array([7, 7, 7, 7, 7, 9], dtype=np.uint64)
    doc = np.array([4, 2, 3, 5, 6, 2])
    sentence = np.array([0, 3, 1, 2, 0, 0])
    outlet = np.array([0, 0, 0, 1, -1, 0])
    rule = np.array([1, 1, 1, 2, 2, 0], dtype=np.int8)
    groups = boilerplate_groups(hashes, doc, sentence, outlet, rule)
    assert groups.key.tolist() == [7, 7]
    assert groups.rule.tolist() == [1, 2] and groups.outlet.tolist() == [0, -1]
    assert groups.articles.tolist() == [3, 2]
    assert list(zip(groups.doc.tolist(), groups.sentence.tolist())) == [(2, 3), (5, 2)]
