"""``adapt(model, labels, output)``: fine-tune a trained model on a user's own labels, in minutes.

Reads top to bottom: the user's labels, the model's own training config (its data and dev split),
a replay sample of that data so the model does not forget it, held-out folds of the user's labels
for an honest before/after, the final run on every label, and an ordinary model folder (weights,
checksums, card naming the labels' count, topics and the base model, ``adapt_results.json``).

Every run goes through :func:`training.train.train` (the one training runner): the labels and the
replay sample are written as JSONL sources of a config whose ``model.base`` is the trained folder,
so the run starts from its weights, head included.
"""

from __future__ import annotations

import json
import logging
import math
import random
import shutil
import tempfile
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict, dataclass, replace
from pathlib import Path

from stance.atomic import atomic_dir
from stance.config import Config, DataConfig, DataSource, DistillConfig, load_config, save_config, validate
from stance.data.examples import PROB_COLUMNS, Example
from stance.data.labelstore import load_user_examples
from stance.errors import DataError, DataNotFoundError, InputError
from stance.model.classifier import StanceClassifier
from stance.model.folder import MODEL_CARD, RESOLVED_CONFIG, read_settings, recorded_weights_sha256
from training.evaluate import evaluate_examples

logger = logging.getLogger(__name__)

ADAPT_RESULTS = "adapt_results.json"
HEADLINE = ("n", "accuracy", "macro_f1", "f_avg")


@dataclass(frozen=True)
class AdaptOptions:
    """How to adapt; the defaults fit 100 labels in a few minutes on 2 CPU cores.

    ``label_weight`` repeats each user label in the mix; ``replay`` original training rows per
    (repeated) user label, at least ``min_replay``, keep the model's old skills.
    """

    epochs: float = 3.0
    # below the shipped models' 8e-5: a few hundred rows at a full learning rate wash out the head
    lr: float = 3e-5
    batch_size: int = 16
    label_weight: int = 2
    replay: float = 2.0
    min_replay: int = 200
    # 5 folds: each held-out fold is a fifth of the labels (20 of 100); 1 run by default keeps
    # adapt in minutes, folds=5 and held_out_folds=5 is full cross-validation
    folds: int = 5
    held_out_folds: int = 1
    # dev rows scored before and after; 500 keeps each scoring under a minute on 2 cores
    dev_examples: int = 500
    seed: int = 42
    num_threads: int = 0

    def check(self) -> AdaptOptions:
        """The options, if every value is in range.

        Raises:
            InputError: naming the value out of range (nan and inf included).
        """
        for name in ("epochs", "lr", "replay"):
            value = getattr(self, name)
            if not math.isfinite(value):
                raise InputError(f"{name}={value}; expected a finite number")
        if self.folds < 2:
            raise InputError(f"folds={self.folds}; at least 2 (one held out, the rest trained on)")
        if not 0 <= self.held_out_folds <= self.folds:
            raise InputError(f"held_out_folds={self.held_out_folds}; allowed 0 to folds ({self.folds})")
        if self.label_weight < 1 or self.replay < 0 or self.epochs <= 0 or self.dev_examples < 0:
            raise InputError("label_weight >= 1, replay >= 0, epochs > 0 and dev_examples >= 0 are required")
        return self


def _headline(metrics: dict) -> dict:
    return {k: metrics[k] for k in HEADLINE if k in metrics}


def original_config(model: Path) -> Config | None:
    """The training config a model folder records (``resolved_config.yaml``), or None."""
    path = model / RESOLVED_CONFIG
    return load_config(path) if path.is_file() else None


def original_data(config: Config | None, seed: int) -> tuple[list[Example], list[Example]]:
    """The model's training rows and its dev split, rebuilt from its config; empty without data.

    The replayed rows repeat no text of the model's ``data.eval`` sets, as its training rows did
    (:func:`training.splits.held_out_texts`); where those sets cannot be read nothing is replayed.
    """
    if config is None:
        logger.warning("the model folder records no training config: no replay, no dev figures")
        return [], []
    from training.splits import held_out_texts, prepare_sources

    held_out: set[str] | None
    try:
        held_out = held_out_texts(config)
    except (DataError, DataNotFoundError) as err:
        logger.warning("the model's test sets cannot be read (%s): no replay, which might repeat them", err)
        held_out = None
    try:
        train_rows, dev_by_source, _ = prepare_sources(config, held_out or frozenset())
    except (DataError, DataNotFoundError, FileNotFoundError) as err:
        logger.warning("the model's training data cannot be read (%s): no replay, no dev figures", err)
        return [], []
    dev_rows = [e for rows in dev_by_source.values() for e in rows]
    return (train_rows if held_out is not None else []), dev_rows


def fold_of(examples: Sequence[Example], folds: int, seed: int) -> list[int]:
    """A fold per example; every label of one text shares a fold, so no text is on both sides."""
    texts = sorted({e.text for e in examples})
    random.Random(seed).shuffle(texts)
    fold = {text: i % folds for i, text in enumerate(texts)}
    return [fold[e.text] for e in examples]


def _write_jsonl(rows: Sequence[Example], path: Path) -> Path:
    """Rows as JSONL; a row's label distribution (``soft_labels``) as ``p_favor`` ... columns."""
    with open(path, "w", encoding="utf-8") as handle:
        for e in rows:
            row = {k: v for k, v in asdict(e).items() if v is not None and k != "probs"}
            if e.probs is not None:
                row.update(zip(PROB_COLUMNS, e.probs, strict=True))
            handle.write(json.dumps(row) + "\n")
    return path


def _run(
    model: Path,
    base_config: Config | None,
    labels: list[Example],
    replay: list[Example],
    options: AdaptOptions,
    work: Path,
    output: Path,
) -> Path:
    """One training run from ``model`` on ``labels`` (repeated) plus ``replay``, into ``output``."""
    work.mkdir(parents=True, exist_ok=True)
    sources = [
        DataSource(str(_write_jsonl(labels, work / "labels.jsonl")), weight=float(options.label_weight))
    ]
    if replay:
        # rows the model learned as distributions (soft_labels) replay as distributions
        soft = any(e.probs is not None for e in replay)
        replay = [replace(e, probs=tuple(e.target())) for e in replay] if soft else replay
        sources.append(DataSource(str(_write_jsonl(replay, work / "replay.jsonl")), soft_labels=soft))
    base = base_config or Config()
    # train at the length the model was trained at, save it reading what the folder reads now
    # (`model.read_length`, or `stance calibrate --max-length` since)
    reads = int(read_settings(model).get("max_length", base.model.max_length))
    trained = base.model.max_length if base_config is not None else reads
    config = Config(
        data=DataConfig(train=sources, dev_fraction=0.0, eval=[], swap_negatives=0.0),
        model=replace(
            base.model, base=str(model), max_length=trained, read_length=0 if reads == trained else reads
        ),
        train=replace(
            base.train,
            lr=options.lr,
            epochs=options.epochs,
            batch_size=options.batch_size,
            max_steps=-1,
            patience=0,
            seed=options.seed,
            num_threads=options.num_threads,
            warmup_ratio=0.1,
            # no checkpoints: a run of minutes is cheaper to repeat than to save mid-way
            eval_steps=1_000_000,
        ),
        distill=DistillConfig(),
    )
    from training.train import train

    return train(validate(config), output, evaluate_after=False)


def adapt(
    model: str | Path,
    labels: str | Path | Sequence[Example],
    output: str | Path,
    options: AdaptOptions | None = None,
) -> dict:
    """Fine-tune ``model`` on the user's labels (plus a replay sample) and write it to ``output``.

    Args:
        model: a trained model folder (``models/default``).
        labels: a JSONL/CSV file, ``labels:`` / ``labels:PATH`` (a label store), or examples.
        output: the adapted model folder; replaced atomically only when everything succeeded.
        options: see :class:`AdaptOptions`.

    Returns:
        The report written to ``adapt_results.json``: labels, topics, replay size, before/after
        on the held-out folds and on the model's dev split, wall time.

    Raises:
        DataError: unreadable labels, or too few to hold a fold out.
        ModelLoadError: the model folder is missing or broken.

    Example:
        >>> report = adapt("models/default", "labels:", "models/mine")
        >>> report["held_out"]["after"]["macro_f1"] - report["held_out"]["before"]["macro_f1"]
    """
    started = time.time()
    options = (options or AdaptOptions()).check()
    model, output = Path(model), Path(output)
    examples = list(labels) if not isinstance(labels, str | Path) else load_user_examples(labels)
    if options.held_out_folds and len({e.text for e in examples}) < options.folds:
        raise DataError(
            f"{len(examples)} labels on fewer than {options.folds} texts: too few for {options.folds} folds "
            "(label more, or pass held_out_folds=0)"
        )
    before_model = StanceClassifier.from_pretrained(model)
    base_config = original_config(model)
    rng = random.Random(options.seed)
    train_rows, dev_rows = original_data(base_config, options.seed)
    dev_rows = rng.sample(dev_rows, min(options.dev_examples, len(dev_rows)))

    def replay_for(n_labels: int) -> list[Example]:
        wanted = max(options.min_replay, round(options.replay * n_labels * options.label_weight))
        return random.Random(options.seed).sample(train_rows, min(wanted, len(train_rows)))

    report: dict = {
        "base_model": {"path": str(model), "weights_sha256": recorded_weights_sha256(model, compute=False)},
        "labels": len(examples),
        "topics": dict(Counter(e.topic for e in examples).most_common()),
        "label_counts": dict(Counter(e.label for e in examples)),
        "options": asdict(options),
    }
    with tempfile.TemporaryDirectory(
        prefix="stance-adapt-", dir=output.parent if output.parent.exists() else None
    ) as tmp:
        work = Path(tmp)
        if options.held_out_folds:
            report["held_out"] = _held_out(
                model, base_config, examples, replay_for, before_model, options, work
            )
        final_replay = replay_for(len(examples))
        report["replay"] = len(final_replay)
        trained = _run(model, base_config, examples, final_replay, options, work / "final", work / "model")
        after_model = StanceClassifier.from_pretrained(trained)
        if dev_rows:
            report["dev"] = {
                "n": len(dev_rows),
                "before": _headline(evaluate_examples(before_model, dev_rows)),
                "after": _headline(evaluate_examples(after_model, dev_rows)),
            }
        report["wall_seconds"] = round(time.time() - started, 1)
        with atomic_dir(output) as folder:
            for path in trained.iterdir():
                if path.name != RESOLVED_CONFIG:
                    shutil.move(str(path), folder / path.name)
            if base_config is not None:
                # the original sources stay the model's training data: a later adapt replays them
                save_config(base_config, folder / RESOLVED_CONFIG)
            (folder / ADAPT_RESULTS).write_text(json.dumps(report, indent=2))
            _extend_card(folder / MODEL_CARD, report, output.name)
    logger.info("adapted model written to %s in %.0f s", output, report["wall_seconds"])
    return report


def _held_out(
    model, base_config, examples, replay_for, before_model, options: AdaptOptions, work: Path
) -> dict:
    """Before/after on ``held_out_folds`` folds, each scored by a model that never saw it."""
    folds = fold_of(examples, options.folds, options.seed)
    gold: list[Example] = []
    after_preds: list[Example] = []
    for k in range(options.held_out_folds):
        test = [e for e, f in zip(examples, folds, strict=True) if f == k]
        rest = [e for e, f in zip(examples, folds, strict=True) if f != k]
        folder = _run(
            model,
            base_config,
            rest,
            replay_for(len(rest)),
            options,
            work / f"fold{k}",
            work / f"fold{k}-model",
        )
        clf = StanceClassifier.from_pretrained(folder)
        preds = clf.predict([e.pair for e in test])
        gold += test
        after_preds += [replace(e, label=p.label) for e, p in zip(test, preds, strict=True)]
        shutil.rmtree(folder, ignore_errors=True)
    before = evaluate_examples(before_model, gold)
    from stance.labels import LABELS
    from stance.metrics import classification_metrics, per_topic_metrics

    gold_labels = [e.label for e in gold]
    after_labels = [e.label for e in after_preds]
    after = classification_metrics(gold_labels, after_labels, LABELS)
    after["per_topic"] = per_topic_metrics(gold_labels, after_labels, [e.topic for e in gold])
    return {
        "n": len(gold),
        "folds": f"{options.held_out_folds} of {options.folds}",
        "before": {**_headline(before), "per_topic": before["per_topic"]},
        "after": {**_headline(after), "per_topic": after["per_topic"]},
    }


def _extend_card(card: Path, report: dict, name: str) -> None:
    """Replace the card's title and add what the adaptation used and changed."""
    lines = card.read_text().splitlines() if card.is_file() else []
    lines = [
        f"# quote-stance model `{name}` (adapted)" if line.startswith("# quote-stance model") else line
        for line in lines
    ]
    topics = ", ".join(f"{t} ({n})" for t, n in list(report["topics"].items())[:20])
    more = len(report["topics"]) - 20
    counts = ", ".join(f"{label} {n}" for label, n in report["label_counts"].items())
    lines += [
        "",
        "## Adapted to the user's labels",
        "",
        f"- Base model: `{report['base_model']['path']}` (model.safetensors sha256 "
        f"`{report['base_model']['weights_sha256']}`); the training data listed above is the base model's.",
        f"- {report['labels']} user labels ({counts}) "
        f"on {len(report['topics'])} topic(s): {topics}{f' and {more} more' if more > 0 else ''}.",
        f"- Replayed {report['replay']} rows of the base model's training data; "
        f"{report['options']['epochs']:g} epochs at lr {report['options']['lr']:g}; "
        f"{report['wall_seconds'] / 60:.1f} min wall clock.",
        "",
        "| data | n | macro-F1 before | after | F_avg before | after |",
        "|---|---|---|---|---|---|",
    ]
    for key, title in (("held_out", "user labels, held-out folds"), ("dev", "base model's dev split")):
        if key in report:
            b, a = report[key]["before"], report[key]["after"]
            lines.append(
                f"| {title} | {report[key]['n']} | {b['macro_f1']:.3f} | {a['macro_f1']:.3f} "
                f"| {b['f_avg']:.3f} | {a['f_avg']:.3f} |"
            )
    card.write_text("\n".join(lines) + "\n")
