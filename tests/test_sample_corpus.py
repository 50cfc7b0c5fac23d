"""The bundled sample corpus against its hand-written annotation (truth.json)."""

from __future__ import annotations

import shutil

from conftest import table_rows

import wiretrace


def partition(groups) -> set[frozenset[str]]:
    return {frozenset(g) for g in groups}


def system_families(rows: dict[str, dict]) -> set[frozenset[str]]:
    families: dict[str, set[str]] = {}
    for article_id, row in rows.items():
        families.setdefault(row["family"], set()).add(article_id)
    return partition(families.values())


def test_summary_counts(sample_run, sample_truth):
    summary, _ = sample_run
    n = len(sample_truth["parents"])
    assert (summary.read, summary.stored, summary.rejected) == (n, n, 0)
    assert summary.families == len(sample_truth["families"])
    multi = [f for f in sample_truth["families"] if len(f["members"]) > 1]
    assert summary.multi_article_families == len(multi)


def test_every_annotated_article_is_stored(sample_store_rows, sample_truth):
    assert set(sample_store_rows) == set(sample_truth["parents"])
    assert set(sample_store_rows) == set(sample_truth["languages"])


def test_families_equal_the_annotation(sample_store_rows, sample_truth):
    truth = partition(f["members"] for f in sample_truth["families"])
    found = system_families(sample_store_rows)
    missing = sorted(sorted(f) for f in truth - found)
    extra = sorted(sorted(f) for f in found - truth)
    assert found == truth, f"annotated but not found: {missing}; found but not annotated: {extra}"


def test_parents_match_the_annotation(sample_store_rows, sample_truth):
    with_parent = {a: p for a, p in sample_truth["parents"].items() if p is not None}
    wrong = {
        a: (sample_store_rows[a]["parent"], p)
        for a, p in with_parent.items()
        if sample_store_rows[a]["parent"] != p
    }
    share = 1 - len(wrong) / len(with_parent)
    assert share >= 0.9, f"parent accuracy {share:.2f}; (found, annotated): {wrong}"


def test_originals_have_no_parent(sample_store_rows, sample_truth):
    originals = [a for a, p in sample_truth["parents"].items() if p is None]
    spurious = {
        a: sample_store_rows[a]["parent"] for a in originals if sample_store_rows[a]["parent"]
    }
    assert not spurious


def test_roots_are_the_annotated_originals(sample_store_rows, sample_truth):
    def truth_root(article_id):
        while sample_truth["parents"][article_id] is not None:
            article_id = sample_truth["parents"][article_id]
        return article_id

    wrong = {
        a: (row["root"], truth_root(a))
        for a, row in sample_store_rows.items()
        if row["root"] != truth_root(a)
    }
    assert len(wrong) <= 0.1 * len(sample_store_rows), wrong


def test_every_language_has_a_multi_article_family(sample_store_rows, sample_truth):
    languages = sample_truth["languages"]
    sizes: dict[str, int] = {}
    for row in sample_store_rows.values():
        sizes[row["family"]] = sizes.get(row["family"], 0) + 1
    for language in ("en", "ru", "zh"):
        members = [a for a, lang in languages.items() if lang == language]
        assert any(sizes[sample_store_rows[a]["family"]] > 1 for a in members), language


def test_hard_negatives_are_singletons(sample_store_rows, sample_truth):
    sizes: dict[str, int] = {}
    for row in sample_store_rows.values():
        sizes[row["family"]] = sizes.get(row["family"], 0) + 1
    family = {a: sample_store_rows[a]["family"] for a in sample_truth["hard_negatives"]}
    joined = {a: f for a, f in family.items() if sizes[f] > 1}
    assert not joined


def test_harbour_courier_boilerplate_does_not_link_families(sample_run, sample_store_rows):
    _, db = sample_run
    courier = sorted(
        a for a, row in sample_store_rows.items() if row["outlet"] == "The Harbour Courier"
    )
    assert len(courier) >= 3
    # no two Courier articles share a family, and no link joins two of them
    families = [sample_store_rows[a]["family"] for a in courier]
    assert len(set(families)) == len(families)
    links = table_rows(db, "links")
    courier_set = set(courier)
    assert not [row for row in links if row[0] in courier_set and row[1] in courier_set]


def test_boilerplate_is_not_part_of_any_passage(sample_run, sample_store_rows, sample_truth):
    _, db = sample_run
    lines = [line for lines in sample_truth["boilerplate"].values() for line in lines]
    for src, dst, src_start, src_end, dst_start, dst_end, *_ in table_rows(db, "passages"):
        for article_id, start, end in ((src, src_start, src_end), (dst, dst_start, dst_end)):
            text = sample_store_rows[article_id]["text"][int(start) : int(end)]
            for line in lines:
                assert line not in text, (article_id, line)


def test_exact_duplicates_share_one_verbatim_passage(sample_run, sample_store_rows, sample_truth):
    _, db = sample_run
    passages = table_rows(db, "passages")
    for first, second in sample_truth["exact_duplicates"]:
        between = [p for p in passages if {p[0], p[1]} == {first, second}]
        assert len(between) == 1
        assert between[0][6] == "verbatim"


def test_running_twice_gives_identical_tables(sample_run, sample_articles_path, tmp_path):
    _, first_db = sample_run
    db = tmp_path / "again.duckdb"
    shutil.copy(first_db, db)
    summary = wiretrace.run([sample_articles_path], db=db)
    assert summary.stored == 0
    assert summary.already_stored == summary.read
    for table in ("articles", "links", "passages", "families", "rejections", "run"):
        assert table_rows(db, table) == table_rows(first_db, table), table
