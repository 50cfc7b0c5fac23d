"""How fast the web viewer answers on a 100,000-article store (the goal: every page < 300 ms).

Builds the store once from the 100k bench corpus (or reuses it), then requests every page and
API route in-process (FastAPI's TestClient: no network, the full app), 5 times each, and prints
the median per route.

    .venv/bin/python benchmarks/viewer_speed.py [--corpus FILE.jsonl] [--db FILE.duckdb]
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

from fastapi.testclient import TestClient

from wiretrace import api
from wiretrace.store import connect
from wiretrace.web import create_app
from wiretrace.web.app import pair_url

HERE = Path(__file__).resolve().parent
BUDGET_MS = 300.0


def process_cpu() -> float:
    """CPU seconds of this process, all threads (DuckDB's included): less noisy than wall time
    on a shared machine, and on an idle one the wall time is at most about this."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def build_store(corpus: Path, db: Path) -> None:
    if db.exists() and is_current(db):
        print(f"reusing {db}")
        return
    if not corpus.exists():
        sys.exit(f"no corpus at {corpus}: generate it with ../shared/bench (see benchmarks/README)")
    print(f"building {db} from {corpus} (a minute or two) …")
    db.unlink(missing_ok=True)
    wiretrace = Path(sys.executable).with_name("wiretrace")
    subprocess.run([str(wiretrace), "run", str(corpus), "--db", str(db)], check=True)


def is_current(db: Path) -> bool:
    """Whether the store has what today's pages read (changes; the n-gram index for queries)."""
    with connect(db) as con:
        names = con.execute("SELECT table_name FROM information_schema.tables").fetchall()
    tables = {name for (name,) in names}
    if "changes" not in tables:
        return False
    try:
        from wiretrace.index import has_index
    except ImportError:
        return True
    return has_index(db)


def pick_targets(db: Path) -> dict[str, str]:
    """Representative ids: the busiest article, pair, family and outlet, and a query text."""
    with connect(db) as con:
        (article,) = con.execute(
            "SELECT dst FROM passages GROUP BY dst ORDER BY count(*) DESC, dst LIMIT 1"
        ).fetchone()
        src, dst = con.execute(
            "SELECT src, dst FROM passages GROUP BY src, dst ORDER BY count(*) DESC, dst LIMIT 1"
        ).fetchone()
        (family,) = con.execute(
            "SELECT family FROM families ORDER BY size DESC, family LIMIT 1"
        ).fetchone()
        (outlet,) = con.execute(
            "SELECT outlet FROM articles GROUP BY outlet ORDER BY count(*) DESC LIMIT 1"
        ).fetchone()
        (text,) = con.execute("SELECT text FROM articles WHERE id = ?", [dst]).fetchone()
        (day,) = con.execute(
            "SELECT (median(published_utc) AT TIME ZONE 'UTC')::DATE FROM articles"
        ).fetchone()
    return {
        "article": article, "src": src, "dst": dst, "family": family, "outlet": outlet,
        "text": text, "day": day.isoformat(),
    }  # fmt: skip


def routes(t: dict[str, str]) -> list[tuple[str, str, dict | None]]:
    from urllib.parse import quote

    a, f, o = quote(t["article"], safe=""), quote(t["family"], safe=""), quote(t["outlet"], safe="")
    pair = pair_url(t["src"], t["dst"])
    found = [
        ("GET", "/", None),
        ("GET", "/?page=500", None),
        ("GET", "/?q=bank", None),
        ("GET", "/?q=zzzz-not-there", None),
        ("GET", f"/?outlet={o}", None),
        ("GET", f"/?date_from={t['day']}&date_to={t['day']}", None),
        ("GET", "/?min_family=5", None),
        ("GET", f"/?q=oil&outlet={o}&min_family=2", None),
        ("GET", f"/article/{a}", None),
        ("GET", pair, None),
        ("GET", f"/family/{f}", None),
        ("GET", "/outlets", None),
        ("GET", f"/outlet/{o}", None),
        ("GET", "/query", None),
        ("GET", "/api", None),
        ("GET", "/api/articles?q=bank", None),
        ("GET", f"/api/articles/{a}", None),
        ("GET", "/api/pairs" + pair[len("/pair") :], None),
        ("GET", f"/api/families/{f}", None),
        ("GET", "/api/outlets", None),
        ("GET", f"/api/outlets/{o}", None),
    ]
    if hasattr(api, "query"):
        found.append(("POST", "/query", {"data": {"text": t["text"]}}))
        found.append(("POST", "/api/query", {"json": {"text": t["text"]}}))
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=Path("/work/bench_out/d100k/articles.jsonl"))
    parser.add_argument("--db", type=Path, default=HERE / "out" / "d100k.duckdb")
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    args.db.parent.mkdir(parents=True, exist_ok=True)
    build_store(args.corpus, args.db)
    targets = pick_targets(args.db)
    client = TestClient(create_app(args.db))
    print(f"| route | status | median ms (of {args.repeat}) | CPU ms |\n|---|---|---|---|")
    slow = 0
    for method, url, body in routes(targets):
        times, cpu_times, status = [], [], None
        for _ in range(args.repeat):
            cpu_started, started = process_cpu(), time.perf_counter()
            response = client.request(method, url, **(body or {}))
            times.append((time.perf_counter() - started) * 1000)
            cpu_times.append((process_cpu() - cpu_started) * 1000)
            status = response.status_code
        median = statistics.median(times)
        slow += median > BUDGET_MS or status != 200
        shown = url if len(url) < 70 else url[:67] + "…"
        flag = " SLOW" if median > BUDGET_MS else ""
        cpu = statistics.median(cpu_times)
        print(f"| {method} {shown} | {status} | {median:.1f}{flag} | {cpu:.1f} |")
    if not hasattr(api, "query"):
        print("(api.query is missing: the query page was not timed)")
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"load average during the run: {load} on {os.cpu_count()} CPUs")
    sys.exit(1 if slow else 0)


if __name__ == "__main__":
    main()
