"""`wiretrace show`, `family` and `outlets`, and the readings of a store behind them."""

from __future__ import annotations

import json
import shutil

import duckdb
import numpy as np
import pytest
from typer.testing import CliRunner

from wiretrace.cli import app
from wiretrace.report import (
    NotInStore,
    article_report,
    family_report,
    outlet_stats,
    union_lengths,
)
from wiretrace.store import connect

WIDE = {"COLUMNS": "250"}


def invoke(*args):
    return CliRunner().invoke(app, [str(a) for a in args], env=WIDE)


@pytest.fixture(scope="module")
def db(sample_run):
    return sample_run[1]


@pytest.fixture(scope="module")
def stored(db) -> dict[str, dict]:
    with connect(db) as con:
        cursor = con.execute("SELECT id, outlet, family, parent, root FROM articles")
        names = [d[0] for d in cursor.description]
        return {row[0]: dict(zip(names, row)) for row in cursor.fetchall()}


# --- show ------------------------------------------------------------------------------------


def test_show_prints_lineage_sources_and_changes(db, stored):
    article = stored["walrus-arcticportal"]
    result = invoke("show", "walrus-arcticportal", "--db", db)
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0] == "walrus-arcticportal  (Арктический портал)"
    assert f"family: {article['family']} (4 articles)" in lines
    assert any(line.startswith(f"parent: {article['parent']} (") for line in lines)
    assert any(line.startswith("  direction evidence: ") for line in lines)
    assert f"what changed against {article['parent']}:" in lines
    assert "  quotes added (1):" in lines
    assert any("[Ольга Ратникова]" in line for line in lines)
    # the parent is marked among the sources whose passages it reuses
    assert any(f"{article['parent']} (" in line and "[parent]" in line for line in lines)


def test_show_json_matches_the_store(db, stored):
    result = invoke("show", "surge-ledger", "--db", db, "--json")
    assert result.exit_code == 0, result.output
    found = json.loads(result.stdout)
    article = stored["surge-ledger"]
    assert found["article"]["id"] == "surge-ledger"
    assert "text" not in found["article"]
    assert found["parent"]["id"] == article["parent"]
    assert found["root"]["id"] == article["root"]
    assert 0 < found["parent"]["share_reused"] <= 1
    sources = {s["source"]: s for s in found["sources"]}
    assert sources[article["parent"]]["is_parent"] is True
    assert all(0 < s["share"] <= 1 for s in found["sources"])
    assert set(found["changes"]) <= {
        "headline_changed", "sentence_added", "sentence_dropped", "quote_added",
        "quote_removed", "source_added", "source_removed", "number_changed", "number_added",
        "number_removed", "name_added", "name_removed",
    }  # fmt: skip
    removed = [q["detail"] for q in found["changes"]["quote_removed"]]
    assert removed and all("Alana Voss" in who for who in removed)


def test_show_an_original(db, stored):
    result = invoke("show", "walrus-tass", "--db", db)
    assert result.exit_code == 0, result.output
    assert "parent: none (an original in its family)" in result.stdout
    copiers = [a for a, row in stored.items() if row["parent"] == "walrus-tass"]
    line = next(x for x in result.stdout.splitlines() if x.startswith("reused by "))
    assert all(c in line for c in copiers)


def test_show_unknown_article_and_missing_store(db, tmp_path):
    result = invoke("show", "no-such-article", "--db", db)
    assert result.exit_code == 1
    assert "no article 'no-such-article'" in result.output
    result = invoke("show", "x", "--db", tmp_path / "missing.duckdb")
    assert result.exit_code == 2
    assert "no store at" in result.output


def test_show_on_a_store_without_changes(db, tmp_path):
    old = tmp_path / "old.duckdb"
    shutil.copy(db, old)
    with duckdb.connect(str(old)) as con:
        con.execute("DROP TABLE changes")
    result = invoke("show", "walrus-arcticportal", "--db", old)
    assert result.exit_code == 0, result.output
    assert "no changes table" in result.stdout
    assert article_report(old, "walrus-arcticportal")["changes"] is None


# --- family ----------------------------------------------------------------------------------


def depth_in(stored: dict[str, dict], article: str) -> int:
    depth = 0
    while stored[article]["parent"]:
        article = stored[article]["parent"]
        depth += 1
    return depth


def test_family_prints_the_tree(db, stored):
    family = stored["surge-gulfshore"]["family"]
    members = [a for a, row in stored.items() if row["family"] == family]
    result = invoke("family", family, "--db", db)
    assert result.exit_code == 0, result.output
    header, *lines = result.stdout.splitlines()
    assert header == f"family {family} ({len(members)} articles)"
    assert sorted(line.split()[0] for line in lines) == sorted(members)
    seen: set[str] = set()
    for line in lines:
        article = line.split()[0]
        indent = (len(line) - len(line.lstrip())) // 2
        assert indent == depth_in(stored, article)
        parent = stored[article]["parent"]
        if parent:
            assert parent in seen  # a parent is printed before its children
            assert f"copy of {parent}" in line or f"update of {parent}" in line
            assert "from parent" in line
        else:
            assert "original" in line
        assert stored[article]["outlet"] in line
        seen.add(article)


def test_family_by_any_article_and_json(db, stored):
    family = stored["walrus-pomorie"]["family"]
    by_family = invoke("family", family, "--db", db, "--json")
    by_article = invoke("family", "walrus-pomorie", "--db", db, "--json")
    assert by_family.exit_code == by_article.exit_code == 0
    found = json.loads(by_article.stdout)
    assert found == json.loads(by_family.stdout)
    assert found["size"] == len(found["members"]) == 4
    assert [m["depth"] for m in found["members"]][0] == 0
    for member in found["members"]:
        assert member["parent"] == stored[member["id"]]["parent"]
        if member["parent"]:
            assert 0 < member["share_from_parent"] <= 1


def test_family_unknown(db):
    result = invoke("family", "nothing-like-this", "--db", db)
    assert result.exit_code == 1
    assert "no family or article" in result.output
    with pytest.raises(NotInStore):
        family_report(db, "nothing-like-this")


def test_a_single_article_is_its_own_family(db, stored):
    lonely = next(
        a
        for a, row in stored.items()
        if sum(r["family"] == row["family"] for r in stored.values()) == 1
    )
    found = family_report(db, lonely)
    assert [(m["id"], m["relation"], m["depth"]) for m in found["members"]] == [
        (lonely, "unrelated", 0)
    ]


# --- outlets ---------------------------------------------------------------------------------


def test_outlets_json(db, stored):
    result = invoke("outlets", "--db", db, "--json")
    assert result.exit_code == 0, result.output
    rows = {row["outlet"]: row for row in json.loads(result.stdout)}
    outlets = {row["outlet"] for row in stored.values()}
    assert set(rows) == outlets
    assert sum(row["articles"] for row in rows.values()) == len(stored)
    for outlet, row in rows.items():
        mine = [a for a in stored.values() if a["outlet"] == outlet]
        assert row["articles"] == len(mine)
        assert row["copies"] == sum(1 for a in mine if a["parent"])
        assert row["originals"] + row["copies"] == row["articles"]
        assert 0 <= row["wire_share"] <= row["reused_share"] <= 1
        assert row["reused_characters"] <= row["characters"]
        for source in row["sources"]:
            assert source["outlet"] != outlet  # own earlier versions are not reuse
            assert 0 < source["share"] <= row["reused_share"] + 1e-9
        copied_by = sum(
            1
            for a in stored.values()
            if a["parent"] and stored[a["parent"]]["outlet"] == outlet and a["outlet"] != outlet
        )
        assert row["copied_by"] == copied_by
    tass = rows["ТАСС"]
    assert tass["wire"] and tass["copied_by"] >= 2 and tass["reused_share"] == 0
    # a copy that keeps all of the agency's text depends on the wire for all of it
    vestnik = rows["Северный вестник"]
    assert vestnik["wire_share"] > 0.9


def test_outlets_table(db):
    result = invoke("outlets", "--db", db)
    assert result.exit_code == 0, result.output
    assert "top sources" in result.stdout
    assert "ТАСС" in result.stdout


def test_outlet_stats_on_an_open_connection(db):
    with connect(db) as con:
        on_connection = outlet_stats(con)
    assert on_connection == outlet_stats(db)


def test_union_lengths_counts_overlaps_once():
    group = np.array([0, 0, 0, 2, 2, 1])
    lo = np.array([0, 5, 8, 10, 10, 3])
    hi = np.array([10, 12, 9, 20, 15, 4])
    assert union_lengths(group, lo, hi, 4).tolist() == [12, 1, 10, 0]
    empty = np.zeros(0, dtype=np.int64)
    assert union_lengths(empty, empty, empty, 2).tolist() == [0, 0]


def test_a_second_agencys_quotes_make_it_a_secondary_source_and_updates_are_updates(tmp_path):
    import wiretrace
    from wiretrace.report import article_report

    wire = [
        "Flood barriers on the Sava river failed at three points overnight, the regional "
        "governor said on Tuesday.",
        "About 6,400 residents of low-lying districts were moved to schools and sports halls.",
        "Rail services between the two largest towns were suspended after water covered the tracks.",
        "Army engineers began building a temporary dyke along the northern embankment at dawn.",
        "The weather service expects the river to crest on Thursday before slowly falling.",
    ]
    agency = [
        "Volunteers filled sandbags through the night in the village of Dolina, where the "
        "water reached the church steps before dawn.",
        '"We have never seen the river this high, not even in 1998," said the village mayor, '
        "Ana Kovac, standing beside a row of flooded cars.",
        "Insurers said claims from the region could exceed last year's total within a week.",
    ]
    records = [
        {"id": "wire", "outlet": "Reuters", "title": "Sava floods",
         "published_at": "2026-05-12T06:00:00Z", "text": " ".join(wire)},
        {"id": "agency", "outlet": "Agence Nord", "title": "Village fights the flood",
         "published_at": "2026-05-12T06:30:00Z", "text": " ".join(agency)},
        {"id": "update", "outlet": "Reuters", "title": "UPDATE 1-Sava floods",
         "published_at": "2026-05-12T09:00:00Z",
         "text": " ".join(wire) + " The governor declared a state of emergency in two districts."},
        {"id": "paper", "outlet": "Valley Post", "title": "Floods hit valley",
         "published_at": "2026-05-12T11:00:00Z",
         "text": " ".join(wire[:4] + agency[:2])},
    ]  # fmt: skip
    path = tmp_path / "floods.jsonl"
    path.write_text("\n".join(__import__("json").dumps(r) for r in records) + "\n")
    db = tmp_path / "floods.duckdb"
    wiretrace.run([path], db=db)
    report = article_report(db, "paper")
    assert report["parent"]["id"] in {"wire", "update"}
    assert report["secondary_sources"] == ["agency"]
    assert article_report(db, "update")["article"]["relation"] == "update"
    assert article_report(db, "wire")["article"]["relation"] == "original"
    assert article_report(db, "agency")["secondary_sources"] == []
