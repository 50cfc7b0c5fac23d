"""The LoRA-tuned cross-encoder shipped for ``--semantic`` sentence comparison."""

from __future__ import annotations

import json
import os
import socket

import numpy as np
import pytest

from wiretrace import crossencoder, semantic
from wiretrace.similarity import bundled_model, score_pairs

needs_model = pytest.mark.skipif(
    not crossencoder.available(), reason="torch, transformers, peft or the base model missing"
)

SENTENCE = "The city council approved a new budget for road repairs on Monday evening."
PARAPHRASE = "On Monday evening, councillors passed a fresh budget to fix the city's roads."
SAME_TOPIC = "The city council will debate the budget for road repairs again next spring."
UNRELATED = "A rare orchid bloomed in the botanical garden after seven years of waiting."


@pytest.fixture(scope="module")
def loaded_offline():
    """The shipped model, loaded with every network connection refused."""

    def refuse(*args, **kwargs):
        raise AssertionError("the cross-encoder tried to reach the network")

    crossencoder._model.cache_clear()
    patch = pytest.MonkeyPatch()
    patch.setattr(socket.socket, "connect", refuse)
    patch.setattr(socket, "create_connection", refuse)
    patch.delenv("HF_HUB_OFFLINE", raising=False)
    try:
        crossencoder._model()
        offline = os.environ.get("HF_HUB_OFFLINE")
    finally:
        patch.undo()
    return crossencoder._model, offline


@needs_model
def test_the_model_loads_without_the_network(loaded_offline):
    model_of, offline = loaded_offline
    assert offline == "1"  # the hub client was told not to look online
    tokenizer, model, head = model_of()
    assert head["weight"].shape[0] == 2 * crossencoder.HIDDEN + 1
    assert not model.training


@needs_model
@pytest.mark.usefixtures("loaded_offline")
def test_a_paraphrase_scores_higher_than_a_different_or_unrelated_sentence():
    p = crossencoder.pair_probabilities([SENTENCE] * 3, [PARAPHRASE, SAME_TOPIC, UNRELATED])
    assert p[0] > 0.5
    assert p[2] < 0.5
    assert p[0] > p[1] > p[2]


@needs_model
@pytest.mark.usefixtures("loaded_offline")
def test_the_score_is_the_same_in_both_orders_and_batches():
    forward = crossencoder.pair_logits([SENTENCE, SAME_TOPIC], [PARAPHRASE, UNRELATED])
    backward = crossencoder.pair_logits([PARAPHRASE, UNRELATED], [SENTENCE, SAME_TOPIC])
    np.testing.assert_allclose(forward, backward, rtol=1e-5, atol=1e-5)
    alone = crossencoder.pair_logits([SAME_TOPIC], [UNRELATED])
    np.testing.assert_allclose(alone, forward[1:], rtol=1e-4, atol=1e-4)
    assert crossencoder.pair_logits([], []).shape == (0,)


@needs_model
def test_the_shipped_adapter_is_small_and_names_no_local_path():
    files = list(crossencoder.adapter_path().iterdir())
    assert sum(f.stat().st_size for f in files) < 2_000_000
    settings = json.loads((crossencoder.adapter_path() / "adapter_config.json").read_text())
    assert not os.path.isabs(settings["base_model_name_or_path"])


def test_semantic_scoring_without_the_cross_encoder_keeps_the_lexical_answer(monkeypatch):
    assert "cross_logit" in bundled_model(semantic.MODEL_FILE).features
    monkeypatch.setattr(crossencoder, "available", lambda: False)
    a = [SENTENCE] * 3
    b = [PARAPHRASE, SAME_TOPIC, UNRELATED]
    lexical = score_pairs(a, b)
    with pytest.warns(UserWarning, match=r"wiretrace\[semantic\]"):
        scores = score_pairs(a, b, semantic=True)
    assert not scores.semantic.any()
    np.testing.assert_array_equal(scores.similarity, lexical.similarity)
