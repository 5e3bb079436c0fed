"""Tagger distillation: a small tagger learns a large one's per-piece probabilities.

``train_attribution`` calls :func:`distilled_windows` when ``distill.teacher`` is set (a tagger or
ensemble folder whose tokenizer cuts text as the student's does: MiniLM and mpnet do). Each
PolNeAR training piece's target is a mix of the gold BIO tag and the teacher's distribution
(``distill.hard_weight`` on the gold tag); news article bodies without annotation (FNC-1's
training bodies, ``distill.news_bodies``) add pieces whose target is the teacher's alone. The
student then trains on soft targets (:func:`soft_token_loss`), so what mpnet learned of reported
speech reaches the fast tagger without mpnet's cost at reading time.

The teacher's probabilities are cached by the teacher's checksums and the texts: reading 800
articles with mpnet takes half an hour on 2 cores, and a second student reuses them.
"""

from __future__ import annotations

import csv
import hashlib
import io
import logging
from pathlib import Path
from typing import Any

import torch

from stance.errors import ConfigError, DataNotFoundError
from stance.quotes.tagger import LABELS, SpanTagger, load_tagger, piece_labels, text_windows
from stance.settings import data_dir
from training.polnear import Article
from training.runs import cached_teacher_reading, teacher_fingerprint

logger = logging.getLogger(__name__)

FNC1_BODIES = Path("stance") / "fnc1" / "original" / "train_bodies.csv"
# Bodies shorter than this rarely quote anyone; longer ones are cut, as the tagger reads windows
MIN_BODY_CHARS = 400
MAX_BODY_CHARS = 6000


def news_bodies(limit: int, root: Path | None = None) -> list[str]:
    """Up to ``limit`` distinct FNC-1 training article bodies (all with ``limit=-1``), in file order.

    Raises:
        DataNotFoundError: the FNC-1 files are not under the data folder.
    """
    path = (root or data_dir()) / FNC1_BODIES
    if not path.is_file():
        raise DataNotFoundError(
            f"distill.news_bodies needs FNC-1's {FNC1_BODIES} under the data folder; not found at {path}"
        )
    seen: set[str] = set()
    out: list[str] = []
    for row in csv.DictReader(io.StringIO(path.read_text(encoding="utf-8"), newline="")):
        body = row.get("articleBody", "").strip()[:MAX_BODY_CHARS]
        if len(body) < MIN_BODY_CHARS or body in seen:
            continue
        seen.add(body)
        out.append(body)
        if 0 <= limit <= len(out):
            break
    return out


def teacher_probabilities(
    teacher: SpanTagger, teacher_path: Path, texts: list[str]
) -> list[tuple[torch.Tensor, list]]:
    """The teacher's per-piece probabilities and offsets of every text, cached on disk."""
    digest = hashlib.sha256(teacher_fingerprint(teacher_path) + teacher.precision.encode())
    for text in texts:
        digest.update(hashlib.sha256(text.encode()).digest())

    def read() -> list[tuple[torch.Tensor, list]]:
        logger.info("teacher %s reads %d texts", teacher_path, len(texts))
        return teacher.probabilities(texts, show_progress=True)

    return cached_teacher_reading("tagger_teacher", digest.hexdigest()[:32], read)


def soft_targets(
    probs: torch.Tensor, offsets: list, roles: tuple[tuple[str, int, int], ...] | None, hard_weight: float
) -> torch.Tensor:
    """Per piece: ``hard_weight`` x the gold tag (one-hot) + the rest x the teacher's distribution.

    Without gold ``roles`` (unannotated news) the target is the teacher's distribution alone.
    """
    if roles is None or hard_weight == 0:
        return probs.float()
    gold = torch.nn.functional.one_hot(torch.tensor(piece_labels(offsets, roles)), len(LABELS)).float()
    return hard_weight * gold + (1 - hard_weight) * probs.float()


def distilled_windows(
    tokenizer,
    articles: list[Article],
    teacher_path: str | Path,
    hard_weight: float,
    bodies: int,
    window: int,
    overlap: int,
    precision: str = "auto",
) -> tuple[list[dict], dict]:
    """Training rows with soft targets (``labels``: one distribution per piece, zeros on [CLS]/[SEP]).

    Returns:
        The rows and what went into them (for ``train_results.json`` and the card).

    Raises:
        ConfigError: the teacher cuts text into other word pieces than the student.
    """
    teacher_path = Path(teacher_path)
    teacher = load_tagger(teacher_path, precision)
    extra = news_bodies(bodies) if bodies else []
    texts = [a.text for a in articles] + extra
    read = teacher_probabilities(teacher, teacher_path, texts)
    gold: list[tuple[tuple[str, int, int], ...] | None] = [a.roles for a in articles] + [None] * len(extra)
    edge = [0.0] * len(LABELS)
    rows = []
    for text, (probs, offsets), roles in zip(texts, read, gold, strict=True):

        def targets(student: list, probs=probs, offsets=offsets, roles=roles) -> list:
            if student != [tuple(o) for o in offsets]:
                raise ConfigError(
                    f"distill.teacher={teacher_path} cuts text into other word pieces than the student's "
                    "tokenizer; a teacher must share the student's tokenizer (MiniLM and mpnet do)"
                )
            return soft_targets(probs, offsets, roles, hard_weight).tolist()

        rows += text_windows(tokenizer, text, targets, window, overlap, edge)
    stats = {
        "teacher": str(teacher_path),
        "hard_weight": hard_weight,
        "news_bodies": len(extra),
        "windows": len(rows),
    }
    return rows, stats


def soft_collator(pad_id: int):
    """Batches rows of ``input_ids`` and per-piece ``labels`` distributions, padding both."""

    def collate(rows: list[dict]) -> dict[str, torch.Tensor]:
        longest = max(len(r["input_ids"]) for r in rows)
        input_ids = torch.full((len(rows), longest), pad_id, dtype=torch.long)
        mask = torch.zeros(len(rows), longest, dtype=torch.long)
        labels = torch.zeros(len(rows), longest, len(LABELS))
        for n, row in enumerate(rows):
            size = len(row["input_ids"])
            input_ids[n, :size] = torch.tensor(row["input_ids"])
            mask[n, :size] = 1
            labels[n, :size] = torch.tensor(row["labels"])
        return {"input_ids": input_ids, "attention_mask": mask, "labels": labels}

    return collate


def soft_token_loss(outputs: Any, labels: torch.Tensor, num_items_in_batch: Any = None) -> torch.Tensor:
    """Cross-entropy against per-piece target distributions, averaged over the scored pieces.

    Pieces whose target is all zeros ([CLS], [SEP], padding) do not count.
    """
    logp = torch.log_softmax(outputs.logits.float(), dim=-1)
    scored = labels.sum(-1).sum().clamp(min=1.0)
    return -(labels * logp).sum() / scored
