"""Issue 7, crashes: a real ``wiretrace run`` killed with SIGKILL leaves the store usable.

A store holds an old state (corpus A). A run over the bigger corpus B is started and
killed while it reads, while it aligns, and while it writes the new store; each time the
store must open with exactly the old state. A final run over B must then finish and give
the same state as a clean run over B, with no temporary files left behind.

The moments are found by watching the process through /proc (which files it has open,
whether the temporary store exists), so the test runs on Linux only.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import orjson
import pytest

from wiretrace.store import connect

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not Path("/proc/self/fdinfo").exists(), reason="watches /proc (Linux)"),
]

STORIES_A, STORIES_B = 700, 1400


def write_corpus(path: Path, stories: int, seed: int = 7) -> Path:
    """Per story a wire text, a trimmed copy with a new opening, and an unrelated text.

    Words are made-up syllable strings, so no shingle is boilerplate by accident; the
    first ``k`` stories are the same for any ``stories >= k``.
    """
    rng = random.Random(seed)
    syllables = [
        "ka",
        "lo",
        "mi",
        "ren",
        "sa",
        "tor",
        "vel",
        "an",
        "dri",
        "po",
        "qua",
        "zen",
        "har",
        "bel",
        "tis",
        "mon",
        "dar",
        "ek",
        "ul",
        "fir",
    ]
    vocabulary = [
        "".join(rng.choice(syllables) for _ in range(rng.randint(2, 4))) for _ in range(5000)
    ]

    def sentence(words: int) -> str:
        return " ".join(rng.choice(vocabulary) for _ in range(words)).capitalize() + "."

    with open(path, "wb") as handle:
        for s in range(stories):
            day = f"2026-01-{1 + s % 28:02d}"
            wire = [sentence(rng.randint(14, 24)) for _ in range(10)]
            records = [
                {"id": f"s{s}-wire", "outlet": "Wire", "published_at": f"{day}T08:00:00Z",
                 "text": "\n\n".join(wire)},
                {"id": f"s{s}-copy", "outlet": f"Paper {s % 7}", "published_at": f"{day}T19:00:00Z",
                 "text": "\n\n".join([sentence(12), *wire[:7]])},
                {"id": f"s{s}-other", "outlet": f"Paper {(s + 3) % 7}",
                 "published_at": f"{day}T09:00:00Z",
                 "text": "\n\n".join(sentence(rng.randint(14, 24)) for _ in range(8))},
            ]  # fmt: skip
            for record in records:
                handle.write(orjson.dumps(record) + b"\n")
    return path


def start(corpus: Path, db: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "wiretrace.cli", "run", str(corpus), "--db", str(db)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


def temporaries(db: Path) -> list[Path]:
    return sorted(db.parent.glob(f".{db.name}*.tmp*"))


def _writing(db: Path) -> bool:
    """The run is writing its temporary store (it exists and has content)."""
    for path in temporaries(db):
        try:
            if path.stat().st_size > 0:
                return True
        except FileNotFoundError:
            continue
    return False


def read_position(pid: int, path: Path) -> int | None:
    """Where process ``pid`` is in ``path`` (None when it does not have it open)."""
    try:
        for fd in os.listdir(f"/proc/{pid}/fd"):
            try:
                if os.readlink(f"/proc/{pid}/fd/{fd}") == str(path):
                    with open(f"/proc/{pid}/fdinfo/{fd}") as info:
                        return int(info.readline().split()[1])
            except (FileNotFoundError, ProcessLookupError):
                continue
    except (FileNotFoundError, ProcessLookupError):
        pass
    return None


@dataclass
class Moments:
    """Seconds from start at which a run finished reading and began writing the store."""

    read_done: float
    write_started: float
    finished: float


def watch(process: subprocess.Popen, corpus: Path, db: Path, stop=None) -> Moments | None:
    """Follow a run until it ends, or until ``stop(phase, seconds)`` says to kill it."""
    started = time.perf_counter()
    seen_reading = False
    read_done = write_started = None
    while process.poll() is None:
        now = time.perf_counter() - started
        position = read_position(process.pid, corpus)
        if position is not None and position > 0:
            seen_reading = True
        if seen_reading and position is None and read_done is None:
            read_done = now
        if write_started is None and temporaries(db):
            write_started = now
        phase = (
            "write" if write_started is not None
            else "align" if read_done is not None
            else "read" if seen_reading
            else "start"
        )  # fmt: skip
        phase_start = {"write": write_started, "align": read_done}.get(phase)
        in_phase = now - phase_start if phase_start is not None else now
        if stop is not None and stop(phase, in_phase):
            process.send_signal(signal.SIGKILL)
            process.wait()
            return None
        time.sleep(0.002)
    assert process.returncode == 0, process.stderr.read().decode()
    finished = time.perf_counter() - started
    assert read_done is not None and write_started is not None
    return Moments(read_done, write_started, finished)


def state(db: Path) -> dict[str, list[tuple]]:
    """Everything a user sees in the store, as text, order-independent."""
    with connect(db) as con:
        tables = {
            "articles": "SELECT id, text, outlet, family, parent, root FROM articles",
            "links": "SELECT source, derivative, passages FROM links",
            "passages": "SELECT src, dst, src_start, src_end, dst_start, dst_end FROM passages",
            "families": "SELECT family, size FROM families",
            "rejections": "SELECT origin, reason FROM rejections",
        }
        return {name: sorted(con.execute(sql).fetchall(), key=repr) for name, sql in tables.items()}


@pytest.fixture(scope="module")
def corpora(tmp_path_factory):
    root = tmp_path_factory.mktemp("crash")
    corpus_a = write_corpus(root / "a.jsonl", STORIES_A)
    corpus_b = write_corpus(root / "b.jsonl", STORIES_B)
    # the reference: a clean, uninterrupted run over B, and when its phases happened
    reference_db = root / "reference" / "b.duckdb"
    reference_db.parent.mkdir()
    moments = watch(start(corpus_b, reference_db), corpus_b, reference_db)
    return corpus_a, corpus_b, state(reference_db), moments, side_files(reference_db)


def side_files(db: Path) -> list[str]:
    """Files a store keeps beside itself (its n-gram segments), by kind."""
    folder = db.with_name(db.name + ".ngrams")
    return sorted(p.suffix for p in folder.iterdir()) if folder.exists() else []


def test_killed_runs_leave_the_old_store_and_a_rerun_finishes(corpora, tmp_path):
    corpus_a, corpus_b, reference, moments, reference_side_files = corpora
    db = tmp_path / "store.duckdb"
    assert watch(start(corpus_a, db), corpus_a, db) is not None
    old = state(db)
    assert len(old["articles"]) == 3 * STORIES_A and old["links"]

    align_time = moments.write_started - moments.read_done
    kills = {
        "read": lambda phase, t: phase == "read",
        # phases vary from run to run (a cold numba cache, a busy machine): kill early in each
        "align": lambda phase, t: phase == "align" and t >= min(0.5, align_time / 2),
        # while the temporary store is being written: a fast write can be over within 0.2 s
        "write": lambda phase, t: phase == "write" and _writing(db),
    }
    for moment, stop in kills.items():
        assert watch(start(corpus_b, db), corpus_b, db, stop) is None, f"not killed at {moment}"
        assert state(db) == old, f"killed during {moment}: the store changed"

    assert watch(start(corpus_b, db), corpus_b, db) is not None
    assert state(db) == reference
    assert temporaries(db) == [], "temporary files left behind"
    leftovers = {p.name for p in tmp_path.iterdir()} - {"store.duckdb", "store.duckdb.ngrams"}
    assert leftovers == set()
    assert side_files(db) == reference_side_files, "unused segment files left behind"


def test_moments_are_far_enough_apart_to_hit(corpora):
    """The kills above are only meaningful if each phase lasts long enough to be hit."""
    _, _, _, moments, _ = corpora
    assert moments.read_done > 0.05
    assert moments.write_started - moments.read_done > 0.2
    assert moments.finished - moments.write_started > 0.02
