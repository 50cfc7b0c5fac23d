"""Issue 7, hostile text in exports: CSV safe against formula injection, no path escapes."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from conftest import write_jsonl
from typer.testing import CliRunner

import wiretrace
from wiretrace.cli import app
from wiretrace.export import FORMULA_TRIGGERS, export_store, output_file, spreadsheet_safe

BODY = (
    "The harbour authority closed the north quay on Monday after divers found cracks in two "
    "of its supporting piles, and ferries were moved to the south berth until repairs end.\n\n"
    "Engineers said the work would take three weeks and cost about 400,000, paid from the "
    "authority's maintenance reserve rather than from harbour dues."
)

HOSTILE = [
    {"id": "../../evil", "text": BODY, "outlet": "../../../outlet-evil", "title": "=1+1"},
    {"id": '=HYPERLINK("https://evil.example","click")', "text": "-" + BODY,
     "outlet": "+cmd|' /C calc'!A0", "title": "@SUM(A1:A9)", "byline": "\tTabbed",
     "url": "\rhttps://evil.example/cr"},
    {"id": "plain-3", "text": "<script>alert('x')</script> " + BODY.upper(),
     "outlet": "Quay Post", "title": "Quay closed", "published_at": "2026-03-02"},
    {"id": "/etc/passwd", "text": "\t" + BODY.replace("north", "east"),
     "outlet": "C:\\Windows\\evil"},
    {"id": "\rcarriage", "text": "\r\n" + BODY.replace("north", "west"), "title": "CR"},
]  # fmt: skip


@pytest.fixture(scope="module")
def hostile_store(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("hostile")
    corpus = write_jsonl(root / "hostile.jsonl", HOSTILE)
    db = root / "store" / "hostile.duckdb"
    summary = wiretrace.run([corpus], db=db)
    assert summary.stored == len(HOSTILE)
    return db


def files_under(folder: Path) -> set[Path]:
    return {p for p in folder.rglob("*") if p.is_file()}


def read_csv(path: Path) -> list[dict[str, str]]:
    with open(path, encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


@pytest.mark.parametrize(
    "value, safe",
    [
        ("=1+1", "'=1+1"),
        ("+1", "'+1"),
        ("-2", "'-2"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tx", "'\tx"),
        ("\rx", "'\rx"),
        ("a=1", "a=1"),
        (" =1", " =1"),
        ("", ""),
        (-2, -2),  # numbers are numbers, not formulas
        (None, None),
    ],
)
def test_spreadsheet_safe(value, safe):
    assert spreadsheet_safe(value) == safe


def test_csv_export_defuses_every_formula_cell(hostile_store, tmp_path):
    out = tmp_path / "csv"
    counts = export_store(hostile_store, out, "csv")
    assert counts["articles"] == len(HOSTILE)
    rows = read_csv(out / "articles.csv")
    assert len(rows) == len(HOSTILE)
    for row in rows:
        for column, cell in row.items():
            assert not cell.startswith(FORMULA_TRIGGERS), (column, cell)
    by_title = {row["title"]: row for row in rows}
    tricky = by_title["'@SUM(A1:A9)"]
    assert tricky["id"] == "'" + HOSTILE[1]["id"]
    assert tricky["outlet"] == "'" + HOSTILE[1]["outlet"]
    # readers strip the whitespace around fields; ids and texts are kept exactly
    assert tricky["byline"] == "Tabbed" and tricky["url"] == "https://evil.example/cr"
    assert by_title[""]["text"] == "'" + HOSTILE[3]["text"]  # starts with a tab
    assert by_title["CR"]["id"] == "'\rcarriage"
    assert by_title["CR"]["text"] == "'" + HOSTILE[4]["text"]
    assert tricky["text"] == "'" + HOSTILE[1]["text"]  # the whole text survives, defused
    plain = by_title["Quay closed"]
    assert plain["id"] == "plain-3" and plain["text"] == HOSTILE[2]["text"]
    for name, count in counts.items():
        assert len(read_csv(out / f"{name}.csv")) == count


def test_csv_export_through_the_command_line(hostile_store, tmp_path):
    out = tmp_path / "cli"
    result = CliRunner().invoke(
        app, ["export", "--db", str(hostile_store), "--out", str(out), "--format", "csv"]
    )
    assert result.exit_code == 0, result.output
    assert (out / "articles.csv").exists() and (out / "links.csv").exists()
    result = CliRunner().invoke(
        app, ["export", "--db", str(hostile_store), "--out", str(out), "--format", "xlsx"]
    )
    assert result.exit_code == 2 and "csv" in result.output


@pytest.mark.parametrize("fmt", ["jsonl", "parquet", "csv", "bench"])
def test_ids_and_outlets_that_look_like_paths_stay_data(hostile_store, tmp_path, fmt):
    before = files_under(tmp_path.parent)
    out = tmp_path / "out"
    export_store(hostile_store, out, fmt)
    created = files_under(tmp_path.parent) - before
    assert created and all(p.parent == out for p in created)
    assert not any("evil" in p.name or "passwd" in p.name for p in created)


def test_a_run_writes_only_its_store(tmp_path):
    corpus = write_jsonl(tmp_path / "in" / "hostile.jsonl", HOSTILE)
    store = tmp_path / "store"
    before = files_under(tmp_path)
    wiretrace.run([corpus], db=store / "s.duckdb")
    created = files_under(tmp_path) - before
    assert created and all(store in p.parents for p in created)


def test_export_refuses_to_follow_a_planted_link_out_of_the_folder(hostile_store, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    outside = tmp_path / "outside.csv"
    (out / "articles.csv").symlink_to(outside)
    with pytest.raises(ValueError, match="outside"):
        export_store(hostile_store, out, "csv")
    assert not outside.exists()


@pytest.mark.parametrize("name", ["../x.csv", "a/b.csv", "..", "", "/etc/passwd"])
def test_output_file_takes_plain_names_only(tmp_path, name):
    with pytest.raises(ValueError):
        output_file(tmp_path, name)


def test_hostile_text_is_stored_as_it_was_given(hostile_store):
    from wiretrace.store import load_articles

    stored = {a.id: a for a in load_articles(hostile_store)}
    for record in HOSTILE:
        assert stored[record["id"]].text == record["text"]
