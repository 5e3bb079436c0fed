"""``train_attribution(config)``: fine-tune the attribution tagger on PolNeAR, save it, score it, card it.

Reads top to bottom: config, seed, data (articles cut into windows of BIO-labelled word pieces),
model, trainer, save, evaluate on dev, model card. ``stance train configs/attribution.yaml``
dispatches here on the config's ``task: attribution`` key.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import shutil
import time
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import torch
import yaml

from stance.atomic import atomic_dir
from stance.config import _coerce, find_config, parse_scalar, read_yaml
from stance.errors import ConfigError
from stance.model.encoders import resolve_encoder
from stance.model.folder import MODEL_CARD, RESOLVED_CONFIG, STANCE_CONFIG, TRAIN_RESULTS, write_checksums
from stance.quotes.tagger import LABELS, OVERLAP, TASK, WINDOW, AttributionTagger, piece_labels, text_windows
from training.checkpoints import last_complete_checkpoint, step_of
from training.polnear import Article, load_polnear
from training.runs import check_layers, dropout_override, encoder_info, keep_layers, start_run

logger = logging.getLogger(__name__)

EVAL_RESULTS = "eval_results.json"


@dataclass
class AttributionData:
    # PolNeAR folder; empty means $STANCE_DATA_DIR/quotes/polnear
    path: str = ""
    train_split: str = "train"
    dev_split: str = "dev"
    # cut the training articles (smoke runs); 0 keeps all
    max_articles: int = 0


@dataclass
class AttributionModel:
    base: str = "minilm"
    window: int = WINDOW
    overlap: int = OVERLAP
    # keep this many of the encoder's layers, evenly spaced from the first (a faster reader,
    # DistilBERT's initialisation); 0 keeps all
    layers: int = 0
    # dropout on the attention probabilities while training; -1 keeps the base's (0.1 for MiniLM and
    # mpnet). Its random mask (window**2 draws a head and layer) is a third of an mpnet step and 60 %
    # of a MiniLM one on 2 CPU cores (benchmarks/tagger_train_step.py)
    attention_dropout: float = -1.0


@dataclass
class AttributionTrain:
    lr: float = 1e-4
    epochs: float = 2.0
    batch_size: int = 16
    warmup_ratio: float = 0.06
    weight_decay: float = 0.01
    save_steps: int = 100
    max_steps: int = -1
    # stop (and save) after this many minutes of training, whatever the step, the learning rate
    # decaying to 0 by the clock; 0: no limit (linear decay over the steps)
    max_minutes: float = 0.0
    seed: int = 42
    num_threads: int = 0
    precision: str = "auto"


@dataclass
class AttributionDistill:
    """Learn a larger tagger's per-piece probabilities (training/tagger_distill.py)."""

    # a tagger or ensemble folder sharing the student's tokenizer; empty: gold tags only
    teacher: str = ""
    # share of the gold tag in each annotated piece's target; the rest is the teacher's
    hard_weight: float = 0.5
    # unannotated FNC-1 training bodies read by the teacher alone; -1: all, 0: none
    news_bodies: int = 0


@dataclass
class AttributionConfig:
    task: str = TASK
    data: AttributionData = field(default_factory=AttributionData)
    model: AttributionModel = field(default_factory=AttributionModel)
    train: AttributionTrain = field(default_factory=AttributionTrain)
    distill: AttributionDistill = field(default_factory=AttributionDistill)


_SECTIONS: dict[str, type] = {
    "data": AttributionData,
    "model": AttributionModel,
    "train": AttributionTrain,
    "distill": AttributionDistill,
}
_RANGES: dict[str, tuple[float, float]] = {
    "data.max_articles": (0, 1_000_000),
    "model.window": (16, 512),
    "model.overlap": (0, 256),
    "model.layers": (0, 48),
    "model.attention_dropout": (-1.0, 0.9),
    "train.lr": (1e-7, 1e-2),
    "train.epochs": (0.01, 100),
    "train.batch_size": (1, 1024),
    "train.warmup_ratio": (0.0, 0.5),
    "train.weight_decay": (0.0, 1.0),
    "train.save_steps": (1, 1_000_000),
    "train.max_minutes": (0, 10_000),
    "train.num_threads": (0, 1024),
    "distill.hard_weight": (0.0, 1.0),
    "distill.news_bodies": (-1, 1_000_000),
}
_CHOICES = {
    "train.precision": ("auto", "bf16", "fp32"),
    "data.train_split": ("train", "dev", "test"),
    "data.dev_split": ("train", "dev", "test"),
}


def is_attribution_config(path: str | Path) -> bool:
    """True when a YAML config says ``task: attribution`` (``stance train`` dispatches on it)."""
    try:
        raw = yaml.safe_load(find_config(path).read_text(encoding="utf-8"))
    except (ConfigError, OSError, ValueError, yaml.YAMLError):
        return False  # load_config then says what is wrong with the file, in one line
    return isinstance(raw, dict) and raw.get("task") == TASK


def load_attribution_config(path: str | Path, overrides: dict[str, str] | None = None) -> AttributionConfig:
    """Defaults < YAML file < dotted overrides (``--train.lr 3e-5``), validated once.

    Raises:
        ConfigError: an unknown key, a value of the wrong type or out of range, naming it.
    """
    raw = read_yaml(path)
    for dotted, text in (overrides or {}).items():
        section, _, key = dotted.partition(".")
        if section not in _SECTIONS or not key:
            raise ConfigError(
                f"override --{dotted}: expected --section.key with section {', '.join(_SECTIONS)}"
            )
        if not isinstance(raw.setdefault(section, {}), dict):
            raise ConfigError(f"{section}: expected a mapping, got {raw[section]!r}")
        raw[section][key] = parse_scalar(text)
    unknown = sorted(set(raw) - {"task", *_SECTIONS})
    if unknown:
        raise ConfigError(f"unknown key {unknown[0]}; allowed at top level: task, {', '.join(_SECTIONS)}")
    if raw.get("task", TASK) != TASK:
        raise ConfigError(f"task={raw.get('task')!r}; this trainer takes task: {TASK}")
    sections: dict[str, Any] = {}
    for name, cls in _SECTIONS.items():
        values = raw.get(name) or {}
        if not isinstance(values, dict):
            raise ConfigError(f"{name}: expected a mapping, got {values!r}")
        defaults = cls()
        known = {f.name for f in dataclasses.fields(cls)}
        if set(values) - known:
            bad = sorted(set(values) - known)[0]
            raise ConfigError(f"unknown key {name}.{bad}; allowed under {name}: {', '.join(sorted(known))}")
        kwargs = {}
        for key, value in values.items():
            dotted = f"{name}.{key}"
            value = _coerce(dotted, value, getattr(defaults, key))
            if dotted in _RANGES and not _RANGES[dotted][0] <= value <= _RANGES[dotted][1]:
                low, high = _RANGES[dotted]
                raise ConfigError(f"{dotted}={value!r} is out of range; allowed {low} to {high}")
            if dotted in _CHOICES and value not in _CHOICES[dotted]:
                raise ConfigError(f"{dotted}={value!r}; allowed: {', '.join(_CHOICES[dotted])}")
            kwargs[key] = value
        sections[name] = cls(**kwargs)
    config = AttributionConfig(**sections)
    if config.model.overlap + 2 >= config.model.window:
        raise ConfigError(f"model.overlap={config.model.overlap} must be below model.window - 2")
    return config


def article_windows(tokenizer, articles: list[Article], window: int, overlap: int) -> list[dict]:
    """Training rows: each article cut into windows of ids with BIO labels (-100 on [CLS]/[SEP])."""
    rows = []
    for article in articles:
        tags = partial(piece_labels, spans=article.roles)
        rows += text_windows(tokenizer, article.text, tags, window, overlap, -100)
    return rows


def train_attribution(
    config: AttributionConfig, output: str | Path, resume: bool = False, evaluate_after: bool = True
) -> Path:
    """Fine-tune the tagger and write its folder to ``output`` (replaced atomically on success).

    Args:
        config: a validated :class:`AttributionConfig`.
        output: the model folder.
        resume: continue from the last complete checkpoint in ``<output>.work/``.
        evaluate_after: score the tagger's spans on the dev split (``eval_results.json``, card).

    Returns:
        The model folder.

    Example:
        >>> train_attribution(load_attribution_config("configs/attribution.yaml"), "models/attribution")
    """
    from transformers import (
        AutoModelForTokenClassification,
        AutoTokenizer,
        DataCollatorForTokenClassification,
        Trainer,
        TrainingArguments,
    )

    from training.arguments import time_limit, use_bf16

    output, work, started = start_run(output, config.train.seed, config.train.num_threads)

    base_path = resolve_encoder(config.model.base)
    check_layers(base_path, config.model.layers)  # before the articles and the teacher's reading
    path = config.data.path or None
    articles = list(load_polnear(config.data.train_split, path))
    if config.data.max_articles:
        articles = articles[: config.data.max_articles]
    tokenizer = AutoTokenizer.from_pretrained(base_path)
    distill_stats: dict = {}
    if config.distill.teacher:
        from training.tagger_distill import distilled_windows, soft_collator, soft_token_loss

        rows, distill_stats = distilled_windows(
            tokenizer,
            articles,
            config.distill.teacher,
            config.distill.hard_weight,
            config.distill.news_bodies,
            config.model.window,
            config.model.overlap,
            config.train.precision,
        )
        collator: Any = soft_collator(tokenizer.pad_token_id)
        loss: Any = soft_token_loss
    else:
        rows = article_windows(tokenizer, articles, config.model.window, config.model.overlap)
        collator, loss = DataCollatorForTokenClassification(tokenizer), None
    logger.info("train: %d articles, %d windows", len(articles), len(rows))

    model = AutoModelForTokenClassification.from_pretrained(
        base_path,
        num_labels=len(LABELS),
        id2label=dict(enumerate(LABELS)),
        label2id={label: i for i, label in enumerate(LABELS)},
        **dropout_override(config.model.attention_dropout),
    )
    if config.model.layers:
        keep_layers(model, config.model.layers)
    args = TrainingArguments(
        output_dir=str(work / "checkpoints"),
        learning_rate=config.train.lr,
        num_train_epochs=config.train.epochs,
        max_steps=config.train.max_steps,
        per_device_train_batch_size=config.train.batch_size,
        warmup_steps=config.train.warmup_ratio,
        # with a time limit the callback sets the learning rate by the clock
        lr_scheduler_type="constant" if config.train.max_minutes else "linear",
        weight_decay=config.train.weight_decay,
        bf16=use_bf16(config.train.precision),
        eval_strategy="no",
        save_strategy="steps",
        save_steps=config.train.save_steps,
        save_total_limit=1,
        logging_steps=max(1, config.train.save_steps // 4),
        report_to="none",
        seed=config.train.seed,
        data_seed=config.train.seed,
        use_cpu=not torch.cuda.is_available(),
        dataloader_num_workers=0,
        save_only_model=False,
    )
    trainer = Trainer(
        model=model,
        args=args,
        train_dataset=rows,
        data_collator=collator,
        compute_loss_func=loss,
        callbacks=[time_limit(config.train.max_minutes, config.train.lr, config.train.warmup_ratio)]
        if config.train.max_minutes
        else None,
    )
    checkpoint = last_complete_checkpoint(work / "checkpoints") if resume else None
    result = trainer.train(resume_from_checkpoint=str(checkpoint) if checkpoint else None)
    if not trainer.is_world_process_zero():
        return output

    tagger = AttributionTagger(
        trainer.model.eval(),
        tokenizer,
        config.model.window,
        config.model.overlap,
        precision=config.train.precision,
    )
    train_results = {
        **result.metrics,
        "train_articles": len(articles),
        "train_windows": len(rows),
        "wall_seconds": round(time.time() - started, 1),
        "torch_threads": torch.get_num_threads(),
        "global_step": trainer.state.global_step,
        "steps_this_run": trainer.state.global_step - step_of(checkpoint),
        "resumed": checkpoint is not None,
        "bf16": args.bf16,
        "base_encoder": encoder_info(base_path),
        **({"distill": distill_stats} if distill_stats else {}),
    }
    with atomic_dir(output) as tmp:
        tagger.model.save_pretrained(tmp, safe_serialization=True)
        tokenizer.save_pretrained(tmp)
        (tmp / STANCE_CONFIG).write_text(
            json.dumps(
                {"task": TASK, "max_length": config.model.window, "overlap": config.model.overlap}, indent=2
            )
        )
        write_checksums(tmp)
        (tmp / RESOLVED_CONFIG).write_text(yaml.safe_dump(dataclasses.asdict(config), sort_keys=False))
        (tmp / TRAIN_RESULTS).write_text(json.dumps(train_results, indent=2))
        eval_results: dict = {}
        if evaluate_after:
            from training.quotes_eval import score_tagger

            dev = list(load_polnear(config.data.dev_split, path))
            eval_results = {f"polnear:{config.data.dev_split}": score_tagger(tagger, dev)}
            (tmp / EVAL_RESULTS).write_text(json.dumps(eval_results, indent=2))
        write_tagger_card(tmp, config, train_results, eval_results, name=output.name)
    shutil.rmtree(work, ignore_errors=True)
    logger.info("tagger written to %s in %.0f s", output, time.time() - started)
    return output


def write_tagger_card(
    folder: Path,
    config: AttributionConfig,
    train_results: dict,
    eval_results: dict,
    name: str = "attribution",
) -> None:
    """README.md of the tagger folder: what it tags, data, training, dev figures, limits."""
    encoder = train_results.get("base_encoder", {})
    lines = [
        "---",
        "library_name: transformers",
        "pipeline_tag: token-classification",
        "---",
        f"# quote-stance attribution tagger `{name}`",
        "",
        "Token classifier over BIO tags of Source, Cue and Content (PolNeAR's attribution roles). "
        "`stance quotes`, the service and the corpus runner use it beside the rules: the rules decide "
        "direct quotes, the tagger adds reported statements and proposes sources (docs/quotes.md). "
        "Without this folder they run on the rules alone and say so.",
        "",
        f"- Base encoder: `{config.model.base}` ({encoder.get('upstream', 'local folder')}, "
        f"model.safetensors sha256 `{encoder.get('sha256')}`); windows of {config.model.window} word "
        f"pieces sharing {config.model.overlap}"
        + (f"; {config.model.layers} of the encoder's layers kept." if config.model.layers else "."),
        f"- Training data: PolNeAR {config.data.train_split} ({train_results['train_articles']} articles, "
        f"{train_results['train_windows']} windows; one annotator per article). Research use, licence "
        "unstated: the data is not shipped.",
        *(
            [
                f"- Distilled from `{d['teacher']}`: each piece's target is {d['hard_weight']} x the gold "
                f"tag + the rest x the teacher's probabilities; plus {d['news_bodies']} unannotated FNC-1 "
                "news bodies with the teacher's probabilities alone."
            ]
            if (d := train_results.get("distill"))
            else []
        ),
        f"- Training: lr {config.train.lr}, batch {config.train.batch_size}, epochs {config.train.epochs}, "
        f"bf16 {train_results.get('bf16')}, seed {config.train.seed}; "
        f"{train_results['wall_seconds'] / 60:.1f} min wall clock on "
        f"{train_results['torch_threads']} thread(s).",
        "",
        "## Evaluation",
        "",
        "Spans of each role against every attribution: exact after trimming spaces and quote marks at "
        "the ends, overlap when they share a character.",
        "",
        "| data | role | exact P | exact R | exact F1 | overlap F1 |",
        "|---|---|---|---|---|---|",
    ]
    for data, m in eval_results.items():
        for role in ("source", "cue", "content"):
            r = m[role]
            lines.append(
                f"| {data} | {role} | {r['exact_precision']:.3f} | {r['exact_recall']:.3f} | "
                f"{r['exact_f1']:.3f} | {r['overlap_f1']:.3f} |"
            )
    if not eval_results:
        lines.append("| (not evaluated) | | | | | |")
    lines += [
        "",
        "Score it with the pipeline: `stance evaluate-quotes --model " + name + "`.",
        "",
        "## Limits",
        "",
        "- Trained on US election news (2015-2016); other domains and other languages are untested.",
        '- Sources are tagged as written ("he", "the campaign"); the pipeline resolves them to names.',
        "- Nested attributions are not annotated in PolNeAR, so the tagger marks the outer one only.",
    ]
    (folder / MODEL_CARD).write_text("\n".join(lines) + "\n")
