"""Distillation: a small student learns a large teacher's probabilities.

``train`` calls :func:`teacher_targets` when ``distill.teacher`` is set. The student then trains on
the teacher's distribution over every training text (mixed with the gold label by
``distill.hard_weight``) plus quotes found in unlabelled news: each quote that ``extract_quotes``
finds in PolNeAR's training articles, paired with its own article's headline and with one
unrelated headline. Those pairs carry the teacher's view of related-but-neutral and unrelated
news quotes, which no labelled set covers. With ``distill.embedding_weight`` the student also
learns the teacher's mean-pooled vector of each row, through a linear map used only in training.
``distill.unlabelled`` names sets or files whose rows the teacher labels alone (their own labels
are not read), none of them repeating a dev or test text (:func:`training.splits.held_out_texts`).

When the teacher folder does not exist the student trains on gold labels, as without
distillation, so the default config still trains on a fresh machine.
"""

from __future__ import annotations

import csv
import dataclasses
import logging
import random
from collections.abc import Collection
from pathlib import Path

import torch

from stance.analysis import quote_contexts, quote_reading
from stance.config import Config, ConfigError
from stance.data.examples import Example, examples_key, load_source, weigh
from stance.model.classifier import StanceClassifier
from stance.model.folder import WEIGHTS
from stance.quotes import extract_quotes
from training.runs import cached_teacher_rows, teacher_fingerprint
from training.splits import text_key

logger = logging.getLogger(__name__)

# Quotes shorter than this carry too little for a teacher label to mean much (scare quotes,
# single names).
MIN_QUOTE_WORDS = 4


def news_quote_examples(limit: int, rng: random.Random, polnear: str | Path | None = None) -> list[Example]:
    """Up to ``limit`` (quote, headline) pairs from PolNeAR train: own headline and an unrelated one.

    A negative ``limit`` takes every pair (``distill.news_quotes: -1``).

    Labels are placeholders (``none``); the teacher's probabilities replace them.
    """
    from training.polnear import polnear_dir

    root = polnear_dir(polnear)
    with open(root / "metadata.tsv", encoding="utf-8", newline="") as handle:
        titles = {
            row["filename"]: row["title"]
            for row in csv.DictReader(handle, delimiter="\t")
            if row["compartment"] == "train" and row["title"] not in {"", "None"}
        }
    names = sorted(titles)
    rng.shuffle(names)
    all_titles = [titles[n] for n in names]
    out: list[Example] = []
    for name in names:
        path = root / "train" / "text" / f"{name}.txt"
        if not path.is_file():
            continue
        text = path.read_text(encoding="utf-8")
        quotes = [q for q in extract_quotes(text) if len(q.text.split()) >= MIN_QUOTE_WORDS]
        for quote, context in zip(quotes, quote_contexts(text, quotes), strict=True):
            other = rng.choice(all_titles)
            reading = quote_reading(text, quote)
            out.append(Example(reading, titles[name], "none", context))
            if other != titles[name]:
                out.append(Example(reading, other, "none", context))
            if 0 <= limit <= len(out):
                return out[:limit]
    return out


def unlabelled_examples(config: Config, held_out: Collection[str]) -> tuple[list[Example], dict]:
    """The rows of ``distill.unlabelled`` the teacher labels, none of them a held-out text.

    Each source is shuffled by a generator of its own (``train.seed`` and its name), its held-out
    rows dropped, then cut to ``max_examples`` and repeated by its weight. Labels are not read (a
    file needs only text and topic); the teacher's distribution is each row's target
    (:func:`teacher_targets`).

    Returns:
        (rows, ``{spec: {"rows": kept, "held_out": dropped}}``).
    """
    rows: list[Example] = []
    stats = {}
    for source in config.distill.unlabelled:
        rng = random.Random(f"{config.train.seed}:unlabelled:{source.name}:{source.split}")
        spec, examples = load_source(dataclasses.replace(source, max_examples=None), rng, labelled=False)
        kept = [e for e in examples if text_key(e.text) not in held_out]
        dropped = len(examples) - len(kept)
        kept = kept[: source.max_examples]
        logger.info(
            "distillation: %d unlabelled rows from %s (%d dropped: their text is in dev or a test set)",
            len(kept),
            spec,
            dropped,
        )
        stats[spec] = {"rows": len(kept), "held_out": dropped}
        rows += weigh(kept, source.weight)
    return rows, stats


def _teacher_reading(
    teacher: StanceClassifier, teacher_path: Path, examples: list[Example], own_length: int
) -> tuple[torch.Tensor, torch.Tensor | None]:
    """The teacher's probabilities and mean-pooled vectors, cached row by row under its weights checksum.

    Labelling 29,000 pairs with the large model takes minutes (about 45 in fp32 on 2 cores); a
    second student (another seed or hard_weight, or embedding distillation) reads the rows it
    shares with the first from the cache. Both come from the same forward pass, so the vectors
    cost only their storage (3 KB a row for mpnet) and a later student with
    ``distill.embedding_weight`` needs no second pass. A teacher without a mean-pooled head (a
    folder of another model class) gives probabilities only (vectors None).
    """
    pooled = teacher.has_mean_pooled_head
    # "+pooled": rows hold probabilities and vectors; caches of probabilities alone (this
    # teacher's readings from before vectors were kept) stay apart and are not reused. The
    # fingerprint holds the folder's own length (own_length); another one it reads at is added.
    key = examples_key(
        teacher_fingerprint(teacher_path)
        + teacher.precision.encode()
        + (b"+pooled" if pooled else b"")
        + (b"" if teacher.max_length == own_length else f"@{teacher.max_length}".encode()),
        [],
    )
    rows = [examples_key(b"", [e]) for e in examples]

    def read(indices: list[int]) -> torch.Tensor:
        logger.info("teacher %s labels %d examples", teacher_path, len(indices))
        pairs = [examples[i].pair for i in indices]
        if not pooled:
            return teacher.predict_proba(pairs, batch_size=64, show_progress=True)
        probs, vectors = teacher.predict_with_embeddings(pairs, batch_size=64, show_progress=True)
        return torch.cat([probs, vectors], dim=1)

    reading = cached_teacher_rows("teacher", key, rows, read)
    width = len(teacher.labels)
    return reading[:, :width], reading[:, width:] if pooled else None


def teacher_targets(
    config: Config, train_examples: list[Example], held_out: Collection[str] = frozenset()
) -> tuple[list[Example], list[list[float]] | None, torch.Tensor | None, dict]:
    """Training examples (plus news quotes and unlabelled rows), their soft labels and vectors from
    the teacher.

    ``held_out``: :func:`training.splits.text_key` of the texts no unlabelled row may repeat
    (``train`` passes the test sets' and the student's dev rows').

    Returns:
        (examples, soft labels in :data:`stance.labels.LABELS` order or None, the teacher's
        mean-pooled vectors when ``distill.embedding_weight`` is set or None, statistics).
    """
    from stance.labels import LABELS

    teacher_path = Path(config.distill.teacher)
    if not (teacher_path / WEIGHTS).is_file():
        logger.warning(
            "teacher %s not found: training on gold labels instead%s",
            teacher_path,
            " (distill.embedding_weight is not applied)" if config.distill.embedding_weight else "",
        )
        if config.distill.unlabelled:
            logger.warning("teacher %s not found: distill.unlabelled is not read", teacher_path)
        return train_examples, None, None, {"teacher": None, "fallback": "gold labels (no teacher on disk)"}
    # read first: a misspelt set or a missing file stops the run before the teacher loads
    unlabelled: list[Example] = []
    unlabelled_stats: dict = {}
    if config.distill.unlabelled:
        unlabelled, unlabelled_stats = unlabelled_examples(config, held_out)
    teacher = StanceClassifier.from_pretrained(teacher_path, precision=config.train.precision)
    # the student's targets come from what the student reads: a teacher that reads 256 tokens
    # (`stance calibrate --max-length`) would label text the student never sees at 128. Its
    # temperature stays the one fitted at its own length (run 23: 0.954 at 256, 0.967 at 128).
    own_length, teacher.max_length = teacher.max_length, config.model.max_length
    if config.distill.embedding_weight and not teacher.has_mean_pooled_head:
        raise ConfigError(
            f"distill.embedding_weight: teacher {teacher_path} ({type(teacher.model).__name__}) has no "
            "mean-pooled vector to learn; set it to 0 or use a teacher trained by `stance train`"
        )
    news: list[Example] = []
    if config.distill.news_quotes:
        news = news_quote_examples(config.distill.news_quotes, random.Random(config.train.seed))
        logger.info("distillation: %d news quote pairs from PolNeAR train", len(news))
    # rows after train_examples learn the teacher's distribution alone
    examples = train_examples + news + unlabelled
    probs, pooled = _teacher_reading(teacher, teacher_path, examples, own_length)
    # teacher columns in LABELS order, whatever order the teacher saved
    probs = probs[:, [teacher.labels.index(label) for label in LABELS]]
    # the gold side of each target: the label, or its distribution where the source gives one
    hard = torch.tensor([e.target() for e in train_examples]).reshape(len(train_examples), len(LABELS))
    gold = torch.tensor([LABELS.index(e.label) for e in train_examples], dtype=torch.long)
    agree = (probs[: len(train_examples)].argmax(-1) == gold).float().mean().item()
    weight = config.distill.hard_weight
    if weight == 0 and any(e.probs is not None for e in train_examples):
        logger.warning(
            "distill.hard_weight is 0: the targets are the teacher's alone, and the label distributions "
            "of the soft_labels sources are not learned; raise distill.hard_weight to mix them in"
        )
    probs[: len(train_examples)] = (1 - weight) * probs[: len(train_examples)] + weight * hard
    stats = {
        "teacher": str(teacher_path),
        "train_examples": len(train_examples),
        "news_quotes": len(news),
        **({"unlabelled": unlabelled_stats} if unlabelled_stats else {}),
        "hard_weight": weight,
        "teacher_max_length": teacher.max_length,
        "teacher_train_agreement": round(agree, 4),
        "embedding_weight": config.distill.embedding_weight,
    }
    vectors = pooled if config.distill.embedding_weight else None
    return examples, probs.tolist(), vectors, stats
