"""Sentence-level reuse on the MSR paraphrase corpus (MSRP), through ``wiretrace.compare``.

The training pairs of MSRP are split once, by a hash of the two sentence ids: a quarter is
held out and never used for fitting or tuning; the rest is the tuning part. ``--fit`` fits the
sentence similarity model on the tuning part only and writes it into the package; the default
run scores the held-out part with the public API and prints accuracy and F1.

    python benchmarks/msrp.py --fit                  # refit data/similarity_model.json
    python benchmarks/msrp.py                        # accuracy on the held-out part
    python benchmarks/msrp.py --semantic             # ... with the optional embedding model
    python benchmarks/msrp.py --fit --semantic       # refit data/similarity_semantic.json
    python benchmarks/msrp.py --fit --semantic --cross-logits out/msrp_cross_f125.npy
                                                     # ... over the cross-encoder (msrp_cross.py)
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

import wiretrace
from wiretrace.model import RunParams
from wiretrace.similarity import FEATURE_NAMES, bundled_model, fit_logistic, pair_features
from wiretrace.variants import load_variants

REPO = Path(__file__).resolve().parents[1]
DATA = REPO.parent / "shared" / "data" / "msrp" / "msr_paraphrase_train.txt"
PACKAGE_DATA = REPO / "src" / "wiretrace" / "data"
HELD_OUT_SHARE = 4  # one pair in four


@dataclass(frozen=True)
class Pairs:
    a: list[str]
    b: list[str]
    label: np.ndarray

    def __len__(self) -> int:
        return len(self.a)


def read_msrp(path: Path) -> tuple[Pairs, Pairs]:
    """(tuning, held_out) pairs of the MSRP training file, split by a hash of the ids."""
    parts: dict[bool, tuple[list[str], list[str], list[int]]] = {
        False: ([], [], []),
        True: ([], [], []),
    }
    with open(path, encoding="utf-8-sig", newline="") as handle:
        rows = csv.reader(handle, delimiter="\t", quoting=csv.QUOTE_NONE)
        header = next(rows)
        if header[:3] != ["Quality", "#1 ID", "#2 ID"]:
            sys.exit(f"{path}: not an MSRP file (header {header[:3]})")
        for line, row in enumerate(rows, start=2):
            if len(row) != 5 or row[0] not in ("0", "1"):
                sys.exit(f"{path}:{line}: expected 5 tab-separated fields with a 0/1 label")
            held_out = is_held_out(row[1], row[2])
            a, b, label = parts[held_out]
            a.append(row[3])
            b.append(row[4])
            label.append(int(row[0]))
    tuning, held_out = (
        Pairs(a, b, np.array(label, dtype=np.int64)) for a, b, label in (parts[False], parts[True])
    )
    return tuning, held_out


def is_held_out(id_a: str, id_b: str) -> bool:
    digest = hashlib.sha256(f"{id_a}:{id_b}".encode()).digest()
    return digest[0] % HELD_OUT_SHARE == 0


def accuracy_f1(predicted: np.ndarray, label: np.ndarray) -> tuple[float, float]:
    tp = int(np.sum(predicted & (label == 1)))
    fp = int(np.sum(predicted & (label == 0)))
    fn = int(np.sum(~predicted & (label == 1)))
    accuracy = float(np.mean(predicted == (label == 1)))
    f1 = 2 * tp / max(2 * tp + fp + fn, 1)
    return accuracy, f1


def folds(n: int, k: int = 5) -> list[np.ndarray]:
    order = np.random.default_rng(0).permutation(n)
    return [order[i::k] for i in range(k)]


def cross_validated(features: np.ndarray, label: np.ndarray, names, l2: float) -> np.ndarray:
    """Each tuning pair's probability from a model fitted on the other four folds."""
    probabilities = np.zeros(label.shape[0])
    for test in folds(label.shape[0]):
        train = np.setdiff1d(np.arange(label.shape[0]), test)
        model = fit_logistic(features[train], label[train], names, l2=l2)
        probabilities[test] = model.probability(features[test])
    return probabilities


THRESHOLDS = np.linspace(0.3, 0.7, 41)


def best_threshold(probabilities: np.ndarray, label: np.ndarray) -> tuple[float, float]:
    scores = [accuracy_f1(probabilities >= t, label)[0] for t in THRESHOLDS]
    best = int(np.argmax(scores))
    return float(scores[best]), float(THRESHOLDS[best])


def choose_l2(features: np.ndarray, label: np.ndarray, names) -> tuple[float, float, np.ndarray]:
    """(l2, threshold, cross-validated probabilities) of the best cross-validated accuracy."""
    best = None
    for l2 in (0.1, 1.0, 10.0, 100.0):
        probabilities = cross_validated(features, label, names, l2)
        accuracy, threshold = best_threshold(probabilities, label)
        print(f"l2 {l2:>6}: cross-validated accuracy {accuracy:.4f} at threshold {threshold:.3f}")
        if best is None or accuracy > best[0]:
            best = (accuracy, l2, threshold, probabilities)
    return best[1], best[2], best[3]


def fit(tuning: Pairs, variants: str | None, out: Path) -> None:
    rules = load_variants(variants) if variants else None
    features = pair_features(tuning.a, tuning.b, rules)
    l2, threshold, _ = choose_l2(features, tuning.label, FEATURE_NAMES)
    model = fit_logistic(
        features,
        tuning.label,
        FEATURE_NAMES,
        l2=l2,
        threshold=threshold,
        variants=variants,
        trained_on=f"MSRP training pairs, tuning part ({len(tuning)} pairs; benchmarks/msrp.py)",
    )
    out.write_text(model.to_json() + "\n", encoding="utf-8")
    print(f"wrote {out} (l2 {l2}, threshold {threshold:.3f})")


def fit_semantic(tuning: Pairs, out: Path) -> None:
    """Lexical and embedding measures together, used where the lexical model is unsure."""
    from wiretrace.semantic import SEMANTIC_FEATURES, semantic_features

    lexical = bundled_model()
    rules = load_variants(lexical.variants) if lexical.variants else None
    features = pair_features(tuning.a, tuning.b, rules)
    started = time.perf_counter()
    combined = np.hstack([features, semantic_features(tuning.a, tuning.b)])
    print(f"embedded {2 * len(tuning)} sentences in {time.perf_counter() - started:.1f} s")
    names = FEATURE_NAMES + SEMANTIC_FEATURES
    l2, threshold, p_semantic = choose_l2(combined, tuning.label, names)
    p_lexical = cross_validated(features, tuning.label, FEATURE_NAMES, 1.0)
    band = choose_band(p_lexical, p_semantic, threshold, tuning.label, lexical.threshold)
    model = fit_logistic(
        combined,
        tuning.label,
        names,
        l2=l2,
        threshold=threshold,
        variants=lexical.variants,
        trained_on=f"MSRP training pairs, tuning part ({len(tuning)} pairs; benchmarks/msrp.py)",
        unsure=band,
    )
    out.write_text(model.to_json() + "\n", encoding="utf-8")
    print(f"wrote {out} (l2 {l2}, threshold {threshold:.3f})")


def choose_band(
    p_lexical: np.ndarray,
    p_semantic: np.ndarray,
    threshold: float,
    label: np.ndarray,
    lexical_threshold: float,
) -> tuple[float, float]:
    """The narrowest band of lexical probabilities whose second look gains the most."""
    best = None
    for low in np.arange(0.0, 0.65, 0.05):
        for high in np.arange(0.55, 1.0001, 0.05):
            unsure = (p_lexical >= low) & (p_lexical <= high)
            predicted = np.where(unsure, p_semantic >= threshold, p_lexical >= lexical_threshold)
            accuracy = accuracy_f1(predicted, label)[0]
            key = (round(accuracy, 4), -unsure.mean())
            if best is None or key > best[0]:
                best = (key, (round(float(low), 2), round(float(high), 2)), unsure.mean())
    (accuracy, _), band, share = best
    print(f"unsure band {band}: cross-validated accuracy {accuracy:.4f}, {share:.0%} of pairs")
    return band


def fit_cross(tuning: Pairs, logits_files: list[Path], out: Path) -> None:
    """The cross-encoder's logit beside the lexical measures, where the lexical model is unsure.

    ``logits_files`` hold tuning pairs' cross-encoder logits from models that did not see them
    (``msrp_cross.py --oof``, some folds each; NaN elsewhere); the regression is fitted on the
    pairs that have one.
    """
    from wiretrace.semantic import CROSS_FEATURES

    logits = np.full(len(tuning), np.nan)
    for path in logits_files:  # each from other folds: NaN where its model saw the pair
        part = np.load(path)
        if part.shape != (len(tuning),):
            sys.exit(f"{path}: expected {len(tuning)} logits, got shape {part.shape}")
        logits = np.where(np.isnan(logits), part, logits)
    known = ~np.isnan(logits)
    lexical = bundled_model()
    rules = load_variants(lexical.variants) if lexical.variants else None
    features = pair_features(tuning.a, tuning.b, rules)
    p_lexical = cross_validated(features, tuning.label, FEATURE_NAMES, 1.0)[known]
    combined = np.hstack([features, logits[:, None]])[known]
    label = tuning.label[known]
    names = FEATURE_NAMES + CROSS_FEATURES
    print(f"{int(known.sum())} tuning pairs with an unseen cross-encoder logit")
    alone = accuracy_f1(logits[known] >= 0, label)[0]
    print(f"cross-encoder alone (logit >= 0): accuracy {alone:.4f}")
    l2, threshold, p_semantic = choose_l2(combined, label, names)
    band = choose_band(p_lexical, p_semantic, threshold, label, lexical.threshold)
    model = fit_logistic(
        combined,
        label,
        names,
        l2=l2,
        threshold=threshold,
        variants=lexical.variants,
        trained_on=(
            f"MSRP training pairs, tuning part ({int(known.sum())} pairs with out-of-sample "
            "cross-encoder logits; benchmarks/msrp.py --fit --semantic --cross-logits)"
        ),
        unsure=band,
    )
    out.write_text(model.to_json() + "\n", encoding="utf-8")
    print(f"wrote {out} (l2 {l2}, threshold {threshold:.3f})")


def evaluate(held_out: Pairs, semantic: bool) -> None:
    """Accuracy and F1 of ``wiretrace.compare(...).reused`` on the held-out pairs."""
    params = RunParams(semantic=semantic)
    started = time.perf_counter()
    predicted = np.array(
        [wiretrace.compare(a, b, params).reused for a, b in zip(held_out.a, held_out.b)]
    )
    seconds = time.perf_counter() - started
    accuracy, f1 = accuracy_f1(predicted, held_out.label)
    majority = max(np.mean(held_out.label), 1 - np.mean(held_out.label))
    print(f"held-out pairs: {len(held_out)}" + (" (semantic)" if semantic else " (lexical)"))
    print(f"accuracy {accuracy:.4f}  F1 {f1:.4f}  (majority class {majority:.4f})")
    per_pair = seconds / max(len(held_out), 1)
    print(f"{seconds:.1f} s, {1000 * per_pair:.2f} ms a pair ({1 / per_pair:.0f} pairs/s)")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--fit", action="store_true", help="refit the model on the tuning part")
    parser.add_argument("--semantic", action="store_true", help="use the embedding model")
    parser.add_argument(
        "--variants", default="default", help="variant rules for --fit ('none' for none)"
    )
    parser.add_argument(
        "--cross-logits",
        type=Path,
        nargs="+",
        help="with --fit --semantic: out-of-sample cross-encoder logits (msrp_cross.py --oof)",
    )
    args = parser.parse_args()
    if not args.data.exists():
        sys.exit(f"MSRP not found at {args.data}")
    tuning, held_out = read_msrp(args.data)
    print(f"MSRP training file: {len(tuning)} tuning pairs, {len(held_out)} held-out pairs")
    if args.fit:
        variants = None if args.variants == "none" else args.variants
        if args.semantic and args.cross_logits:
            fit_cross(tuning, args.cross_logits, PACKAGE_DATA / "similarity_semantic.json")
        elif args.semantic:
            fit_semantic(tuning, PACKAGE_DATA / "similarity_semantic.json")
        else:
            fit(tuning, variants, PACKAGE_DATA / "similarity_model.json")
        return
    evaluate(held_out, args.semantic)


if __name__ == "__main__":
    main()
