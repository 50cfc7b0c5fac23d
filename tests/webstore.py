"""A store for the viewer's tests: the sample corpus plus hostile articles.

The hostile ones copy a sample article (so they have reused passages to highlight) and wrap it
in markup and script that must show as text; one carries a 1 MB line without spaces.
"""

from __future__ import annotations

import json
from pathlib import Path

import duckdb

import wiretrace

SAMPLE = Path(__file__).resolve().parents[1] / "src" / "wiretrace" / "data" / "sample"
COPIED = "glacier-ap"  # the sample article the hostile ones copy

HOSTILE_ID = 'hostile/<b>"copy"</b>&1'
HOSTILE_OUTLET = "<i>Evil & Co</i>/News"
HOSTILE_TITLE = "<script>window.__pwned = 'title'</script><b>Bold</b> claim"
SCRIPT_IN_TEXT = "<script>window.__pwned = 'text'; alert('pwned')</script>"
IMG_IN_TEXT = "<img src=x onerror=\"window.__pwned = 'img'\">"
LONG_ID = "long-line"
LONG_LINE = "W" + "x" * 1_000_000 + "Z"


def sample_records() -> list[dict]:
    lines = (SAMPLE / "articles.jsonl").read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip()]


def hostile_records(records: list[dict]) -> list[dict]:
    copied = next(r for r in records if r["id"] == COPIED)
    return [
        {
            "id": HOSTILE_ID,
            "outlet": HOSTILE_OUTLET,
            "title": HOSTILE_TITLE,
            "published_at": "2026-03-17T09:00:00+00:00",
            "text": f'{SCRIPT_IN_TEXT}\n\n{copied["text"]}\n\n{IMG_IN_TEXT} <div style="position:fixed;inset:0">cover</div>',
        },
        {
            "id": LONG_ID,
            "outlet": "Long Lines Daily",
            "title": "A very long line",
            "published_at": "2026-03-17T10:00:00+00:00",
            "text": f"{copied['text']}\n\n{LONG_LINE}",
        },
    ]


def build_store(path: Path) -> Path:
    """Run wiretrace on the sample corpus plus the hostile articles into ``path``."""
    records = sample_records()
    corpus = path.with_suffix(".jsonl")
    with open(corpus, "w", encoding="utf-8") as handle:
        for record in records + hostile_records(records):
            handle.write(json.dumps(record, ensure_ascii=False) + "\n")
    wiretrace.run([corpus], db=path)
    return path


def rows(db: Path, sql: str, params: list | None = None) -> list[tuple]:
    with duckdb.connect(str(db), read_only=True) as con:
        return con.execute(sql, params or []).fetchall()
