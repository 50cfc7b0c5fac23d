"""Fine-tune the cross-encoder (``wiretrace.crossencoder``) on the MSRP tuning part.

The held-out quarter of MSRP (see ``msrp.py``) is never read here. ``--dev`` trains on four
fifths of the tuning part and reports the accuracy on the last fifth after every epoch (to
choose rank, modules, learning rate and epochs); ``--oof`` writes every tuning pair's logit from
a model that did not see it (for stacking); the default trains on the whole tuning part and
writes the adapter into the package. Training runs on one CPU thread with a fixed seed.

    python benchmarks/msrp_cross.py --dev --rank 8 --epochs 4 [--oof out/dev_logits.npy]
    python benchmarks/msrp_cross.py                 # writes src/wiretrace/data/cross_encoder/

The shipped files come from (defaults as in ``Config``; about 40 CPU minutes in all):

    python benchmarks/msrp_cross.py --oof out/msrp_cross_f125.npy --folds 1 2 5
    python benchmarks/msrp.py --fit --semantic --cross-logits out/msrp_cross_f125.npy
    python benchmarks/msrp_cross.py
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from msrp import DATA, PACKAGE_DATA, Pairs, accuracy_f1, folds, read_msrp  # noqa: E402

from wiretrace import crossencoder  # noqa: E402

ATTENTION = ["query", "key", "value", "attention.output.dense"]
FEED_FORWARD = ["intermediate.dense", "output.dense"]  # also matches attention.output.dense


@dataclass(frozen=True)
class Config:
    rank: int = 8
    alpha: float = 16.0
    dropout: float = 0.1
    feed_forward: bool = True
    lr: float = 1e-3
    head_lr: float = 3e-3
    epochs: int = 4
    batch_size: int = 16
    warmup: float = 0.1
    weight_decay: float = 0.01
    seed: int = 0


def new_model(config: Config):
    from peft import LoraConfig, get_peft_model

    lora = LoraConfig(
        r=config.rank,
        lora_alpha=config.alpha,
        lora_dropout=config.dropout,
        target_modules=ATTENTION + (FEED_FORWARD if config.feed_forward else []),
    )
    return get_peft_model(crossencoder.load_base(), lora)


def train(pairs: Pairs, config: Config, dev: Pairs | None = None):
    """A LoRA-adapted model fitted on ``pairs`` (each epoch, each pair in a random order)."""
    import torch

    torch.manual_seed(config.seed)
    rng = np.random.default_rng(config.seed)
    tokenizer = crossencoder.load_tokenizer()
    model = new_model(config)
    head = {k: torch.nn.Parameter(v) for k, v in crossencoder.new_head().items()}
    lora_parameters = [p for p in model.parameters() if p.requires_grad]
    trainable = sum(p.numel() for p in lora_parameters) + sum(p.numel() for p in head.values())
    print(f"trainable parameters: {trainable:,}", flush=True)
    forward = crossencoder.encode_pairs(tokenizer, pairs.a, pairs.b)
    backward = crossencoder.encode_pairs(tokenizer, pairs.b, pairs.a)
    label = torch.tensor(pairs.label, dtype=torch.float32)
    lengths = np.array([len(item["input_ids"]) for item in forward])
    steps_per_epoch = -(-len(pairs) // config.batch_size)
    total = steps_per_epoch * config.epochs
    optimizer = torch.optim.AdamW(
        [
            {"params": lora_parameters, "lr": config.lr, "weight_decay": config.weight_decay},
            {"params": list(head.values()), "lr": config.head_lr, "weight_decay": 0.0},
        ]
    )
    warmup = max(1, int(config.warmup * total))
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimizer,
        lambda step: min((step + 1) / warmup, max(0.0, (total - step) / (total - warmup))),
    )
    loss_function = torch.nn.BCEWithLogitsLoss()
    history = []
    for epoch in range(config.epochs):
        model.train()
        started = time.process_time()
        swapped = rng.random(len(pairs)) < 0.5
        # batches of similar length (jittered so that they differ between epochs), in random order
        jittered = lengths + rng.uniform(0, 4, len(pairs))
        batches = crossencoder.length_batches(jittered, config.batch_size)
        running = 0.0
        for step, index in enumerate(rng.permutation(len(batches))):
            batch = batches[index]
            items = [backward[i] if swapped[i] else forward[i] for i in batch]
            inputs = crossencoder.collate(tokenizer, items)
            loss = loss_function(crossencoder.forward_logits(model, head, inputs), label[batch])
            loss.backward()
            torch.nn.utils.clip_grad_norm_(lora_parameters, 1.0)
            optimizer.step()
            schedule.step()
            optimizer.zero_grad()
            running += loss.item()
            if step == 9 and epoch == 0:
                per_step = (time.process_time() - started) / 10
                print(f"~{per_step * steps_per_epoch:.0f} CPU s an epoch", flush=True)
        line = f"epoch {epoch + 1}: loss {running / steps_per_epoch:.4f}"
        line += f", {time.process_time() - started:.0f} CPU s"
        if dev is not None:
            dev_logits = predict(model, head, tokenizer, dev)
            accuracy, f1 = accuracy_f1(dev_logits >= 0, dev.label)
            line += f"; dev accuracy {accuracy:.4f} F1 {f1:.4f}"
            history.append(dev_logits)
        print(line, flush=True)
    return model, head, history


def predict(model, head, tokenizer, pairs: Pairs) -> np.ndarray:
    model.eval()
    return crossencoder.symmetric_logits(model, head, tokenizer, pairs.a, pairs.b)


def subset(pairs: Pairs, index: np.ndarray) -> Pairs:
    return Pairs([pairs.a[i] for i in index], [pairs.b[i] for i in index], pairs.label[index])


def save(model, head, config: Config, trained_on: str, out: Path) -> None:
    from safetensors.torch import save_file

    model.save_pretrained(str(out))
    save_file(
        {k: v.detach().contiguous() for k, v in head.items()}, str(out / crossencoder.HEAD_FILE)
    )
    settings_file = out / "adapter_config.json"
    settings = json.loads(settings_file.read_text(encoding="utf-8"))
    # not this machine's path: the base is found through its package at load time
    settings["base_model_name_or_path"] = "sentence-transformers/all-MiniLM-L6-v2"
    settings_file.write_text(json.dumps(settings, indent=1) + "\n", encoding="utf-8")
    (out / "training.json").write_text(
        json.dumps({**config.__dict__, "trained_on": trained_on}, indent=1) + "\n",
        encoding="utf-8",
    )
    (out / "README.md").unlink(missing_ok=True)  # peft's model-card template
    size = sum(f.stat().st_size for f in out.iterdir())
    print(f"wrote {out} ({size / 1e6:.2f} MB)")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--dev", action="store_true", help="train on 4/5, report the last 1/5")
    parser.add_argument("--oof", type=Path, help="write out-of-fold logits of the tuning part")
    parser.add_argument(
        "--folds", type=int, nargs="+", help="with --oof: only these folds (1-5; NaN elsewhere)"
    )
    parser.add_argument("--out", type=Path, default=PACKAGE_DATA / crossencoder.ADAPTER_DIR)
    for field, default in Config().__dict__.items():
        kind = type(default)
        if kind is bool:
            parser.add_argument(f"--{field.replace('_', '-')}", type=int, default=int(default))
        else:
            parser.add_argument(f"--{field.replace('_', '-')}", type=kind, default=default)
    args = parser.parse_args()
    if not args.data.exists():
        sys.exit(f"MSRP not found at {args.data}")
    import torch

    torch.set_num_threads(1)  # the machine is shared
    config = Config(
        **{field: type(d)(getattr(args, field)) for field, d in Config().__dict__.items()}
    )
    print(config, flush=True)
    tuning, _ = read_msrp(args.data)
    started = time.process_time()
    if args.dev or args.oof:
        parts = folds(len(tuning))
        oof = np.full(len(tuning), np.nan)  # --dev: only the last fold's
        chosen = [len(parts)] if args.dev else (args.folds or range(1, len(parts) + 1))
        for k in chosen:
            test = parts[k - 1]
            train_index = np.setdiff1d(np.arange(len(tuning)), test)
            print(f"fold {k}: {len(train_index)} pairs to train, {len(test)} to test")
            _, _, history = train(subset(tuning, train_index), config, subset(tuning, test))
            oof[test] = history[-1]
            if args.dev and args.oof:  # every epoch's logits, to choose the number of epochs
                epochs = np.full((config.epochs, len(tuning)), np.nan)
                epochs[:, test] = np.stack(history)
                np.save(args.oof.with_suffix(".epochs.npy"), epochs)
        if args.oof:
            args.oof.parent.mkdir(parents=True, exist_ok=True)
            np.save(args.oof, oof)
            known = ~np.isnan(oof)
            accuracy, f1 = accuracy_f1(oof[known] >= 0, tuning.label[known])
            print(f"out-of-fold accuracy {accuracy:.4f} F1 {f1:.4f}; wrote {args.oof}")
    else:
        model, head, _ = train(tuning, config)
        trained_on = (
            f"MSRP training pairs, tuning part ({len(tuning)} pairs; {Path(__file__).name})"
        )
        save(model, head, config, trained_on, args.out)
    print(f"{time.process_time() - started:.0f} CPU s in all")


if __name__ == "__main__":
    main()
