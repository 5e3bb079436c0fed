"""``train(config)``: fine-tune the stance cross-encoder, save it atomically, evaluate, write a card.

Reads top to bottom: config, seed, data, model, trainer, save, evaluate, metrics, model card.
Runs unchanged under ``torchrun --nproc_per_node 2 -m training train CONFIG`` (gloo on CPU);
only rank 0 writes the model folder.
"""

from __future__ import annotations

import json
import logging
import shutil
import time
from pathlib import Path

import numpy as np
import torch

from stance.atomic import atomic_dir
from stance.config import Config, ConfigError, save_config
from stance.data.examples import Example, examples_key
from stance.labels import LABELS
from stance.metrics import classification_metrics
from stance.model.classifier import StanceClassifier
from stance.model.encoders import cache_dir, resolve_encoder
from stance.model.folder import MODEL_CARD, RESOLVED_CONFIG, TRAIN_RESULTS
from stance.model.modeling import attach_embedding_head, detach_embedding_head
from training.arguments import time_limit, training_arguments, world_size
from training.checkpoints import last_complete_checkpoint, step_of
from training.runs import check_layers, dropout_override, encoder_info, keep_layers, start_run
from training.splits import held_out_texts, prepare_sources, text_key

logger = logging.getLogger(__name__)


def _to_dataset(
    clf: StanceClassifier,
    examples: list[Example],
    soft_labels: list[list[float]] | None = None,
    teacher_embeddings: torch.Tensor | None = None,
):
    """Tokenised examples as a ``datasets.Dataset``, cached on disk between runs.

    The cache key covers the tokenizer's vocabulary, the length limit, the topic template and
    every example, so a change to any of them tokenises afresh. Labels (and a teacher's vectors)
    are added after the cache.
    """
    from datasets import Dataset, load_from_disk

    label2id = {label: i for i, label in enumerate(clf.labels)}
    reads = [clf.tokenizer.name_or_path, len(clf.tokenizer), clf.max_length]
    if clf.topic_template:  # only then, so caches written before templates existed stay valid
        reads.append(clf.topic_template)
    tokenizer = json.dumps(reads).encode()
    folder = cache_dir() / "tokenized" / examples_key(tokenizer, examples)
    if (folder / "dataset_info.json").is_file():
        logger.info("tokenised examples from cache %s", folder)
        ds = load_from_disk(str(folder))
    else:
        encoded = clf.encode_pairs([e.pair for e in examples])
        ds = Dataset.from_dict({k: list(v) for k, v in encoded.items()})
        try:
            with atomic_dir(folder) as tmp:
                ds.save_to_disk(str(tmp))
        except OSError as err:  # a read-only cache must not stop training
            logger.warning("could not cache tokenised examples in %s: %s", folder, err)
    labels = soft_labels if soft_labels is not None else [label2id[e.label] for e in examples]
    ds = ds.add_column("labels", labels)
    if teacher_embeddings is not None:
        # float32 rows, no Python floats in between (30,000 rows x 768 would be 23 million)
        ds = ds.add_column("teacher_embeddings", list(teacher_embeddings.numpy()))
    return ds


def _refuse_other_embedding_setting(checkpoint: Path, width: int | None, teacher_gone: str | None) -> None:
    """A checkpoint's optimizer holds the embedding head's state or not; the run must match it.

    ``width`` is the teacher's vector width this run trains the head towards (None: no head);
    ``teacher_gone`` says why the configured teacher was not read (None when it was).
    """
    from safetensors import safe_open

    with safe_open(str(checkpoint / "model.safetensors"), "pt") as weights:
        head = "embedding_head.weight"
        had = weights.get_slice(head).get_shape()[0] if head in set(weights.keys()) else None  # noqa: SIM118
    if had == width:
        return
    if had is not None and width is None and teacher_gone:
        raise ConfigError(
            f"{checkpoint} was trained with embedding distillation, but the teacher is gone "
            f"({teacher_gone}); put the teacher back, or start afresh without --resume"
        )
    if had is not None and width is not None:
        raise ConfigError(
            f"{checkpoint} learned a teacher's {had}-wide vectors and this teacher's are {width} wide; "
            "resume with the teacher it had, or start afresh without --resume"
        )
    raise ConfigError(
        f"{checkpoint} was trained {'with' if had else 'without'} embedding distillation "
        f"(distill.embedding_weight); resume with the setting it had, or start afresh without --resume"
    )


def _compute_metrics(eval_pred) -> dict[str, float]:
    logits, label_ids = eval_pred
    pred = np.asarray(logits).argmax(-1)
    gold = [LABELS[i] for i in label_ids]
    m = classification_metrics(gold, [LABELS[i] for i in pred])
    return {"macro_f1": m["macro_f1"], "accuracy": m["accuracy"], "f_avg": m["f_avg"]}


def train(
    config: Config,
    output: str | Path,
    resume: bool = False,
    evaluate_after: bool = True,
) -> Path:
    """Fine-tune a stance model and write it to ``output``.

    Args:
        config: a validated :class:`stance.config.Config`.
        output: model folder; replaced atomically only when training succeeds.
        resume: continue from the last checkpoint in ``<output>.work/``.
        evaluate_after: run ``config.data.eval`` sets and write ``eval_results.json``.

    Returns:
        The model folder.

    Example:
        >>> train(load_config("configs/smoke.yaml"), "models/smoke")
    """
    from transformers import DataCollatorWithPadding, EarlyStoppingCallback, Trainer

    output, work, started = start_run(output, config.train.seed, config.train.num_threads)
    base_path = resolve_encoder(config.model.base)
    check_layers(base_path, config.model.layers)  # before minutes of reading data

    # no training row repeats a text of the sets it is scored on
    held_out = held_out_texts(config)
    train_examples, dev_by_source, data_stats = prepare_sources(config, held_out)
    dev_examples = [e for rows in dev_by_source.values() for e in rows]
    if evaluate_after and config.data.eval:
        from training.evaluate import eval_sets

        # read once now: a misspelt test set is refused before training, not after
        logger.info("test sets: %s", {name: len(rows) for name, rows in eval_sets(config.data.eval)})
    logger.info("train %d examples, dev %d", len(train_examples), len(dev_examples))

    clf = StanceClassifier.from_base(
        base_path,
        config.model.max_length,
        config.model.dropout,
        config.model.topic_template,
        dropout_override(config.model.attention_dropout),
    )
    kept_layers: list[int] | None = None
    if config.model.layers:
        kept = kept_layers = keep_layers(clf.model, config.model.layers)
        logger.info("model.layers=%d: encoder layers %s of %s kept", config.model.layers, kept, base_path)
    soft_labels: list[list[float]] | None = None
    teacher_embeddings: torch.Tensor | None = None
    distill_stats: dict = {}
    if config.distill.teacher:
        from training.distill import teacher_targets

        # an unlabelled row repeats neither a test text nor a dev text
        held_out |= {text_key(e.text) for e in dev_examples}
        train_examples, soft_labels, teacher_embeddings, distill_stats = teacher_targets(
            config, train_examples, held_out
        )
    if soft_labels is None and any(e.probs is not None for e in train_examples):
        # a source with soft_labels: its rows learn their label distribution, the others one-hot
        soft_labels = [e.target(clf.labels) for e in train_examples]
    if teacher_embeddings is not None:
        # a map to the teacher's width, trained with the student and dropped before saving
        attach_embedding_head(clf.model, teacher_embeddings.shape[1], config.distill.embedding_weight)
    train_ds = _to_dataset(clf, train_examples, soft_labels, teacher_embeddings)
    dev_ds = _to_dataset(clf, dev_examples) if dev_examples else None

    has_dev = dev_ds is not None
    args = training_arguments(config, work / "checkpoints", has_dev)
    callbacks = [EarlyStoppingCallback(config.train.patience)] if has_dev and config.train.patience else []
    if config.train.max_minutes:
        callbacks.append(time_limit(config.train.max_minutes, config.train.lr, config.train.warmup_ratio))
    trainer = Trainer(
        model=clf.model,
        args=args,
        train_dataset=train_ds,
        eval_dataset=dev_ds,
        data_collator=DataCollatorWithPadding(clf.tokenizer),
        compute_metrics=_compute_metrics,
        callbacks=callbacks,
    )
    checkpoint = last_complete_checkpoint(work / "checkpoints") if resume else None
    if checkpoint is not None:
        width = None if teacher_embeddings is None else int(teacher_embeddings.shape[1])
        _refuse_other_embedding_setting(checkpoint, width, distill_stats.get("fallback"))
    start_step = step_of(checkpoint)
    result = trainer.train(resume_from_checkpoint=str(checkpoint) if checkpoint else None)
    steps_this_run = trainer.state.global_step - start_step
    dev_metrics = trainer.evaluate() if has_dev else {}
    clf.model = trainer.model.eval()
    detach_embedding_head(clf.model)
    if config.model.read_length:
        # the dev figures, the temperature and the saved folder read as predictions will
        clf.max_length = config.model.read_length

    if not trainer.is_world_process_zero():
        return output

    from training.evaluate import dev_report

    # a temperature fitted on dev makes every probability the model returns calibrated
    clf.calibration, dev_by_source_metrics = dev_report(clf, dev_by_source, config.train.eval_batch_size)

    train_results = {
        **result.metrics,
        "train_examples": len(train_examples),
        "dev_examples": len(dev_examples),
        "sources": data_stats,
        "dev": dev_metrics,
        "dev_by_source": dev_by_source_metrics,
        "calibration": clf.calibration.to_dict() if clf.calibration else None,
        "wall_seconds": round(time.time() - started, 1),
        "torch_threads": torch.get_num_threads(),
        "world_size": world_size(),
        "global_step": trainer.state.global_step,
        "steps_this_run": steps_this_run,
        "resumed": checkpoint is not None,
        "bf16": args.bf16,
        "device": str(args.device),
        "base_encoder": encoder_info(base_path),
        "kept_layers": kept_layers,
        "distill": distill_stats,
        # "dev" above read max_length; dev_by_source and calibration read this
        "read_length": clf.max_length,
    }
    with atomic_dir(output) as tmp:
        clf.write_to(tmp)
        save_config(config, tmp / RESOLVED_CONFIG)
        (tmp / TRAIN_RESULTS).write_text(json.dumps(train_results, indent=2))
        eval_results = {}
        if evaluate_after and config.data.eval:
            from training.evaluate import evaluate, write_eval_outputs

            eval_results = evaluate(clf, config.data.eval)
            write_eval_outputs(eval_results, tmp)
        write_model_card(tmp, config, train_results, eval_results, name=output.name)
    shutil.rmtree(work, ignore_errors=True)
    logger.info("model written to %s in %.0f s", output, time.time() - started)
    return output


def _calibration_line(calibration: dict | None) -> str:
    if not calibration:
        return "- Probabilities: not calibrated (no dev split, or too few dev rows to fit a temperature)."
    return (
        f"- Probabilities: calibrated with temperature {calibration['temperature']:.3f} fitted on the "
        f"{calibration['fitted_on']}: expected calibration error {calibration['ece_before']:.3f} -> "
        f"{calibration['ece_after']:.3f} there (`calibration.json`)."
    )


def _seed_words(config: Config, train_results: dict) -> str:
    members = train_results.get("soup_of")
    if not members:
        return f"seed {config.train.seed}"
    return f"seeds {', '.join(str(m['seed']) for m in members)} (weights averaged: `stance soup`)"


def _length_words(trained: int, reads: int) -> str:
    if not reads or reads == trained:
        return f"max length {trained} tokens"
    return f"trained on up to {trained} tokens, reads up to {reads} (`model.read_length`)"


def write_model_card(
    folder: Path, config: Config, train_results: dict, eval_results: dict, name: str = "stance"
) -> None:
    """A README.md for the model folder: base model, data, labels, figures, limits."""
    sources = ", ".join(
        f"{s.name}:{s.split} (weight {s.weight:g}"
        + (f", max {s.max_examples}" if s.max_examples else "")
        + (", label distributions" if s.soft_labels else "")
        + ")"
        for s in config.data.sources()
    )
    unlabelled = train_results.get("distill", {}).get("unlabelled", {})
    if unlabelled:  # read only where the teacher was on disk
        sources += "; labelled by the teacher alone: " + ", ".join(
            f"{spec} ({n['rows']} rows)" for spec, n in unlabelled.items()
        )
    lines = [
        "---",
        "license: apache-2.0",
        "library_name: transformers",
        "pipeline_tag: text-classification",
        "---",
        f"# quote-stance model `{name}`",
        "",
        "Cross-encoder reading `[CLS] topic [SEP] quote [SEP] context [SEP]` and predicting "
        f"one of {', '.join(LABELS)}.",
        "",
        f"- Base encoder: `{config.model.base}` "
        f"({train_results.get('base_encoder', {}).get('upstream', 'local folder')}, model.safetensors "
        f"sha256 `{train_results.get('base_encoder', {}).get('sha256')}`), "
        f"{_length_words(config.model.max_length, config.model.read_length)}"
        + (f"; encoder layers {kept} of it kept." if (kept := train_results.get("kept_layers")) else "."),
        f"- Training data: {sources}; {train_results['train_examples']} training examples, "
        f"{train_results['dev_examples']} dev examples held out by topic and text.",
        f"- Training: lr {config.train.lr}, batch {config.train.batch_size}, epochs "
        f"{config.train.epochs}, {_seed_words(config, train_results)}; "
        f"{train_results['wall_seconds'] / 60:.1f} min wall clock, "
        f"{train_results.get('world_size', 1)} process(es).",
        f"- Topic read as: `{config.model.topic_template or '{topic}'}`.",
        _calibration_line(train_results.get("calibration")),
        "",
        "## Evaluation",
        "",
        "| data | n | accuracy | macro-F1 | F_avg |",
        "|---|---|---|---|---|",
    ]
    for name, m in eval_results.items():
        lines.append(f"| {name} | {m['n']} | {m['accuracy']:.3f} | {m['macro_f1']:.3f} | {m['f_avg']:.3f} |")
    if not eval_results:
        lines.append("| (not evaluated) | | | | |")
    lines += [
        "",
        "## Limits",
        "",
        "- Trained on comments, tweets and debate text, not news quotes; cross-domain figures "
        "(news sentences, Wikipedia claims) are lower.",
        "- `none` mostly means *the text is not about the topic*: most `none` training rows pair a "
        "text with a topic borrowed from another text.",
        "- English only; text past the token limit is cut.",
        "- Research data with stated or unstated non-commercial terms went into training; check "
        "the licences of the sets listed above before commercial use.",
    ]
    (folder / MODEL_CARD).write_text("\n".join(lines) + "\n")
