"""Boilerplate lines for people: which recurring lines were kept out of reuse, and why.

``fingerprint.boilerplate_rules`` decides per sentence. Here the flagged sentences become one
row per line: per normalised sentence (its hash), and per outlet for the lines an outlet
repeats at the end of its articles ("Sign up for our newsletter"); the lines that are
boilerplate anywhere (very frequent, short and frequent, credit lines) have no outlet.
Each row names its rule, how many articles hold it, the first of them, and a readable
sample of the line from that article.

Like the flags, a row depends only on the sentences with its hash, so every engine (local,
incremental, Spark) computes the rows of a set of hashes from their occurrences alone.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from .fingerprint import (
    BOILERPLATE_RULES,
    RULE_OUTLET,
    BoilerplateRules,
    boilerplate_rules,
    outlet_codes,
    sentence_keys,
)
from .model import Article
from .text import TokenizedBatch

SAMPLE_CHARS = 200


@dataclass(frozen=True)
class BoilerplateGroups:
    """One row per boilerplate line, ordered by (key, rule, outlet); parallel arrays.

    ``key``: the sentence hash; ``outlet``: the outlet code for lines of the ``outlet`` rule,
    -1 for the others; ``rule``: its code (``fingerprint.BOILERPLATE_RULES``); ``articles``:
    distinct articles holding it; ``doc`` and ``sentence``: its first occurrence (lowest
    article number, then sentence number within that article).
    """

    key: np.ndarray
    outlet: np.ndarray
    rule: np.ndarray
    articles: np.ndarray
    doc: np.ndarray
    sentence: np.ndarray

    def __len__(self) -> int:
        return int(self.key.shape[0])


def boilerplate_groups(
    hashes: np.ndarray,
    doc: np.ndarray,
    sentence: np.ndarray,
    outlet: np.ndarray,
    rule: np.ndarray,
) -> BoilerplateGroups:
    """Group sentence rows (hash, article, sentence number in it, outlet code, rule code) into
    boilerplate lines; rows of rule 0 (not boilerplate) are left out."""
    flagged = np.asarray(rule) > 0
    h = np.asarray(hashes, dtype=np.uint64)[flagged]
    d = np.asarray(doc, dtype=np.int64)[flagged]
    s = np.asarray(sentence, dtype=np.int64)[flagged]
    r = np.asarray(rule, dtype=np.int8)[flagged]
    o = np.where(r == RULE_OUTLET, np.asarray(outlet, dtype=np.int64)[flagged], -1)
    order = np.lexsort((s, d, o, r, h))
    h, d, s, r, o = h[order], d[order], s[order], r[order], o[order]
    new_group = np.ones(h.shape[0], dtype=bool)
    new_group[1:] = (h[1:] != h[:-1]) | (r[1:] != r[:-1]) | (o[1:] != o[:-1])
    new_doc = new_group.copy()
    new_doc[1:] |= d[1:] != d[:-1]
    first = np.flatnonzero(new_group)
    articles = (
        np.add.reduceat(new_doc.astype(np.int64), first) if first.size else np.zeros(0, np.int64)
    )
    return BoilerplateGroups(h[first], o[first], r[first], articles, d[first], s[first])


def concat_groups(parts: Sequence[BoilerplateGroups]) -> BoilerplateGroups:
    """Groups of disjoint sets of hashes, as one (in key order)."""
    fields = ("key", "outlet", "rule", "articles", "doc", "sentence")
    if not parts:
        empty = np.zeros(0, dtype=np.int64)
        return BoilerplateGroups(np.zeros(0, np.uint64), empty, empty.astype(np.int8), empty,
                                 empty, empty)  # fmt: skip
    joined = {f: np.concatenate([getattr(p, f) for p in parts]) for f in fields}
    order = np.lexsort((joined["outlet"], joined["rule"], joined["key"]))
    return BoilerplateGroups(**{f: v[order] for f, v in joined.items()})


@dataclass(frozen=True)
class BoilerplateLines:
    """The ``boilerplate`` table of a run (one entry per line, parallel lists), and how many
    sentences and articles boilerplate touched."""

    key: list[str]
    sample: list[str]
    outlet: list[str | None]
    rule: list[str]
    articles: np.ndarray
    example: list[str]
    sentences: int = 0
    articles_affected: int = 0

    def __len__(self) -> int:
        return len(self.key)

    def columns(self) -> dict[str, object]:
        """The table's columns, rows ordered by key, rule and outlet name: engines number
        outlets differently, so the order of their codes is not the same everywhere."""
        order = sorted(
            range(len(self.key)),
            key=lambda i: (
                self.key[i],
                self.rule[i],
                self.outlet[i] is not None,
                self.outlet[i] or "",
            ),
        )
        articles = np.asarray(self.articles, dtype=np.int64)
        return {
            "key": [self.key[i] for i in order],
            "sample": [self.sample[i] for i in order],
            "outlet": [self.outlet[i] for i in order],
            "rule": [self.rule[i] for i in order],
            "articles": articles[np.asarray(order, dtype=np.int64)],
            "example": [self.example[i] for i in order],
        }


def line_key(value: int) -> str:
    """A line's key as stored: its sentence hash in hexadecimal."""
    return f"{int(value):016x}"


def readable(text: str, limit: int = SAMPLE_CHARS) -> str:
    """A sample of a line for people: white space collapsed, at most ``limit`` characters."""
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def samples(
    batch: TokenizedBatch, docs: np.ndarray, sentences: np.ndarray, texts: Sequence[str]
) -> list[str]:
    """Sentence ``sentences[i]`` (numbered within its article) of article ``docs[i]`` (numbered
    in ``batch``), cut from ``texts[i]`` (that article's text) and made readable."""
    at = batch.doc_sent_start[np.asarray(docs, dtype=np.int64)] + np.asarray(sentences, np.int64)
    starts, ends = batch.sent_start[at].tolist(), batch.sent_end[at].tolist()
    return [readable(text[s:e]) for text, s, e in zip(texts, starts, ends)]


def lines_of(
    groups: BoilerplateGroups,
    ids: Sequence[str],
    outlet_names: Sequence[str] | Mapping[int, str],
    sample_texts: list[str],
    sentences: int = 0,
    articles_affected: int = 0,
) -> BoilerplateLines:
    """The table rows of ``groups``: ``ids[i]`` names the example article of group ``i``,
    ``outlet_names[code]`` names an outlet code, ``sample_texts[i]`` its sample."""
    return BoilerplateLines(
        key=[line_key(k) for k in groups.key.tolist()],
        sample=sample_texts,
        outlet=[None if o < 0 else outlet_names[o] for o in groups.outlet.tolist()],
        rule=[BOILERPLATE_RULES[r] for r in groups.rule.tolist()],
        articles=groups.articles.astype(np.int64),
        example=list(ids),
        sentences=sentences,
        articles_affected=articles_affected,
    )


def find_boilerplate(
    batch: TokenizedBatch, articles: Sequence[Article], rules: BoilerplateRules = BoilerplateRules()
) -> tuple[np.ndarray, BoilerplateLines]:
    """The boilerplate flag of every sentence of ``batch`` (the texts of ``articles``) and the
    lines they make (what ``fingerprint.boilerplate_sentences`` gives, plus the table)."""
    outlets = [a.outlet for a in articles]
    keys = sentence_keys(batch)
    codes = outlet_codes(outlets)
    rule = boilerplate_rules(keys, codes[keys.doc], rules)
    flags = rule > 0
    rows = np.flatnonzero(flags)  # a few percent of sentences: the table needs only these
    doc = keys.doc[rows]
    groups = boilerplate_groups(
        keys.hashes[rows], doc, rows - batch.doc_sent_start[doc], codes[doc], rule[rows]
    )
    names = list(dict.fromkeys(o for o in outlets if o is not None))
    examples = [articles[d] for d in groups.doc.tolist()]
    lines = lines_of(
        groups,
        [a.id for a in examples],
        names,
        samples(batch, groups.doc, groups.sentence, [a.text for a in examples]),
        sentences=int(doc.shape[0]),
        # ``doc`` ascends, as sentences do: count where it changes
        articles_affected=int(np.count_nonzero(np.diff(doc))) + int(doc.size > 0),
    )
    return flags, lines
