"""Issue 7, bad input: every reader meets broken records, and a real run accounts for them all.

Each record is stored, stored with a warning, or rejected with a reason that names its
file and record; the summary adds up (read = stored + already stored + rejected), and
``--strict`` stops at the first bad record. Big inputs are built here, not committed.
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import orjson
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from wiretrace.store import connect, load_articles

STORY = (
    "The regional rail operator cancelled all evening trains on the coast line on Friday after "
    "a landslip near Farrow Bay buried a section of track under mud and rock.\n\n"
    "Engineers said the clearance work would take at least four days, and replacement buses "
    "would run between Farrow Bay and Kestle from Saturday morning.\n\n"
)


def story(n: int) -> str:
    return f"Story {n}: " + STORY + f"Reference {n} closes this article."


def big_article(megabytes: int) -> str:
    words = STORY.split()
    text, size, i = [], 0, 0
    while size < megabytes * 1_000_000:
        word = f"{words[i % len(words)]}{i // len(words) % 97}"
        text.append(word)
        size += len(word) + 1
        i += 1
    return " ".join(text)


def run_cli(*args, timeout: int = 600) -> subprocess.CompletedProcess:
    """A real ``wiretrace`` process (a hang fails the test instead of blocking it)."""
    return subprocess.run(
        [sys.executable, "-m", "wiretrace.cli", *map(str, args)],
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, "COLUMNS": "250"},
    )


def summary_counts(stdout: str) -> dict[str, int]:
    counts = {}
    for label in ("records read", "stored (new)", "already stored", "rejected"):
        match = re.search(re.escape(label) + r"\W+(\d+)", stdout)
        assert match, (label, stdout)
        counts[label] = int(match.group(1))
    return counts


@pytest.fixture(scope="module")
def bad_inputs(tmp_path_factory) -> tuple[list[Path], dict[str, str], set[str]]:
    """Broken inputs for every reader.

    Returns the paths, the expected rejections ({origin: word in the reason}) and the
    origins expected to be stored with a warning.
    """
    root = tmp_path_factory.mktemp("bad")
    rejected: dict[str, str] = {}
    warned: set[str] = set()

    # JSON lines
    jsonl = root / "feed.jsonl"
    lines = [
        orjson.dumps({"id": "j1", "text": story(1), "published_at": "2026-03-13T10:00:00Z"}),
        b'{"id": "j2", "text": "cut off in the middle',
        orjson.dumps({"id": "j3", "text": "   \n\t  "}),
        orjson.dumps({"id": "j4", "title": "no text at all"}),
        orjson.dumps({"id": "j5", "text": 17}),
        orjson.dumps({"id": ["j6"], "text": story(6)}),
        orjson.dumps({"id": "j7", "text": story(7), "published_at": "sometime last spring"}),
        orjson.dumps({"id": "j8", "text": story(8), "outlet": {"name": "Nested"}}),
        orjson.dumps({"id": "j1", "text": story(9)}),  # duplicate id, different text
        orjson.dumps({"id": "j10", "text": big_article(10)}),  # a 10 MB article
        orjson.dumps({"id": "j11", "text": "x" * 1_000_000}),  # 1 MB without a space
        json.dumps({"id": "j12", "text": "Caf\u00e9 story: " + story(12)}, ensure_ascii=False)
        .encode("utf-8")
        .replace("Caf\u00e9".encode(), "Caf\u00e9".encode("latin-1")),  # one line in Latin-1
        orjson.dumps({"id": "j13", "text": "Binary \u0000 inside " + story(13)}),
        b"[1, 2, 3]",
    ]
    jsonl.write_bytes(b"\n".join(lines) + b"\n")
    for line, word in {2: "json", 3: "empty", 4: "no 'text'", 5: "string", 6: "'id'", 9: "duplicate",
                       13: "nul", 14: "object"}.items():  # fmt: skip
        rejected[f"{jsonl}:{line}"] = word
    warned |= {f"{jsonl}:7", f"{jsonl}:8", f"{jsonl}:12"}

    # CSV
    table = root / "table.csv"
    rows = [
        ["id", "body", "date"],
        ["c1", story(21), "2026-03-13"],
        ["c2", "", "2026-03-13"],
        ["c3", story(23), "not a date at all"],
        ["c4", "y" * 1_000_000, "2026-03-13"],
        ["c5", big_article(10), "2026-03-13"],
    ]
    buffer = io.StringIO()
    csv.writer(buffer).writerows(rows)
    encoded = buffer.getvalue().encode("utf-8") + "c6,Na\u00efve caf\u00e9 story,\n".encode(
        "cp1252"
    )
    table.write_bytes(encoded + b"c7,too,many,cells\n")
    rejected[f"{table}:3"] = "empty"
    rejected[f"{table}:8"] = "cells"
    warned |= {f"{table}:4", f"{table}:7"}

    # Parquet
    parquet = root / "rows.parquet"
    pq.write_table(
        pa.Table.from_pylist(
            [
                {"id": "p1", "text": story(31), "published_at": "2026-03-12"},
                {"id": "p2", "text": None, "published_at": "2026-03-12"},
                {"id": "p1", "text": story(33), "published_at": "31/31/2026"},
            ]
        ),
        parquet,
    )
    rejected[f"{parquet}:2"] = "no 'text'"
    rejected[f"{parquet}:3"] = "duplicate"

    # a folder of pages and text files
    folder = root / "pages"
    folder.mkdir()
    (folder / "good.html").write_text(
        f"<html><head><title>Landslip</title></head><body><article><p>{story(41)}</p>"
        "</article></body></html>",
        "utf-8",
    )
    (folder / "image.html").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(300))
    (folder / "empty.html").write_text("<html><body></body></html>", "utf-8")
    (folder / "nospace.html").write_text(f"<html><body><p>{'z' * 1_000_000}</p></body></html>")
    (folder / "blank.txt").write_text(" \n\n \t\n", "utf-8")
    (folder / "binary.txt").write_bytes(bytes(range(256)) * 8)
    (folder / "latin1.txt").write_bytes(("Gr\u00fc\u00dfe. " + story(45)).encode("latin-1"))
    for name, word in {"image.html": "binary", "empty.html": "no article text",
                       "blank.txt": "no text", "binary.txt": "nul"}.items():  # fmt: skip
        rejected[str(folder / name)] = word
    warned.add(str(folder / "latin1.txt"))

    # a crawl cut off in its last record
    warc = root / "crawl.warc.gz"
    with open(warc, "wb") as handle:
        writer = WARCWriter(handle, gzip=True)
        for n in (51, 52):
            page = f"<html><body><article><p>{story(n)}</p></article></body></html>".encode()
            headers = StatusAndHeaders("200 OK", [("Content-Type", "text/html")], "HTTP/1.1")
            writer.write_record(
                writer.create_warc_record(
                    f"https://crawl.example/{n}",
                    "response",
                    payload=io.BytesIO(page),
                    http_headers=headers,
                )
            )
    whole = warc.read_bytes()
    warc.write_bytes(whole[: len(whole) - 200])
    rejected[f"{warc}#2"] = "warc"

    missing = root / "missing.jsonl"
    rejected[str(missing)] = "no such file"
    odd = root / "slides.pptx"
    odd.write_bytes(b"PK\x03\x04")
    rejected[str(odd)] = "unsupported"
    return [jsonl, table, parquet, folder, warc, missing, odd], rejected, warned


@pytest.fixture(scope="module")
def bad_run(bad_inputs, tmp_path_factory):
    paths, _, _ = bad_inputs
    out = tmp_path_factory.mktemp("bad_run")
    db, rejects = out / "bad.duckdb", out / "rejects.jsonl"
    result = run_cli("run", *paths, "--db", db, "--rejects", rejects)
    assert result.returncode == 0, result.stdout + result.stderr
    return result, db, rejects


def test_every_record_is_stored_or_rejected_and_the_summary_adds_up(bad_inputs, bad_run):
    _, expected_rejections, _ = bad_inputs
    result, db, rejects = bad_run
    counts = summary_counts(result.stdout)
    assert counts["records read"] == (
        counts["stored (new)"] + counts["already stored"] + counts["rejected"]
    )
    assert counts["rejected"] == len(expected_rejections)
    assert counts["stored (new)"] == len(load_articles(db))
    # 14 JSON lines, 7 CSV rows, 3 Parquet rows, 7 files, 2 WARC records, 2 bad paths
    assert counts["records read"] == 14 + 7 + 3 + 7 + 2 + 2


def test_rejects_file_names_file_record_and_reason(bad_inputs, bad_run):
    _, expected, _ = bad_inputs
    _, db, rejects = bad_run
    rows = [json.loads(line) for line in rejects.read_text("utf-8").splitlines()]
    by_origin = {row["origin"]: row["reason"] for row in rows}
    assert set(by_origin) == set(expected)
    for origin, word in expected.items():
        assert word in by_origin[origin].lower(), (origin, by_origin[origin])
    with connect(db) as con:
        stored = set(con.execute("SELECT origin FROM rejections").fetchall())
    assert stored == {(origin,) for origin in expected}


def test_rejections_are_printed_with_their_origin(bad_inputs, bad_run):
    _, expected, _ = bad_inputs
    result, _, _ = bad_run
    shown = [line for line in result.stderr.splitlines() if line.startswith("rejected")]
    assert len(shown) == min(len(expected), 20)
    assert all(any(origin in line for origin in expected) for line in shown)


def test_kept_records_with_problems_carry_warnings(bad_inputs, bad_run):
    _, _, warned = bad_inputs
    result, db, _ = bad_run
    stored = {a.origin: a for a in load_articles(db)}
    for origin in warned:
        assert stored[origin].metadata.get("ingest_warnings"), origin
        assert f"warning {origin}" in result.stderr.replace("\n", " ") or len(warned) > 20
    assert "Café story" in next(a.text for a in stored.values() if a.id == "j12")
    # the big ones are stored whole
    assert len(next(a for a in stored.values() if a.id == "j10").text) >= 10_000_000
    assert len(next(a for a in stored.values() if a.id == "j11").text) == 1_000_000
    assert len(next(a for a in stored.values() if a.id == "c4").text) == 1_000_000


def test_rerun_reads_everything_again_and_changes_nothing(bad_inputs, bad_run):
    paths, expected, _ = bad_inputs
    _, db, _ = bad_run
    before = load_articles(db)
    with connect(db) as con:
        rejections_before = con.execute("SELECT count(*) FROM rejections").fetchone()[0]
    result = run_cli("run", *paths, "--db", db)
    assert result.returncode == 0, result.stderr
    counts = summary_counts(result.stdout)
    assert counts["stored (new)"] == 0
    assert counts["already stored"] == len(before)
    assert counts["rejected"] == len(expected)
    assert load_articles(db) == before
    with connect(db) as con:  # the same rejections are not recorded twice
        assert con.execute("SELECT count(*) FROM rejections").fetchone()[0] == rejections_before


def test_strict_stops_at_the_first_bad_record_and_leaves_no_store(bad_inputs, tmp_path):
    paths, _, _ = bad_inputs
    db = tmp_path / "strict.duckdb"
    result = run_cli("run", *paths, "--db", db, "--strict")
    assert result.returncode == 2
    assert f"{paths[0]}:2" in result.stderr  # the cut-off JSON line comes first
    assert "not valid JSON" in result.stderr
    assert not db.exists()


def test_strict_stops_at_a_duplicate_in_input_order(tmp_path):
    path = tmp_path / "dups.jsonl"
    path.write_text(
        json.dumps({"id": "a", "text": story(1)}) + "\n"
        + json.dumps({"id": "a", "text": story(2)}) + "\n"
        + "{broken\n",
        "utf-8",
    )  # fmt: skip
    result = run_cli("run", path, "--db", tmp_path / "s.duckdb", "--strict")
    assert result.returncode == 2
    assert f"{path}:2" in result.stderr and "duplicate id 'a'" in result.stderr
