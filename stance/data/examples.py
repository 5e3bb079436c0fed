"""Stance datasets: find them by name, read JSONL/CSV with row checks, mix them, carve a dev split."""

from __future__ import annotations

import csv
import hashlib
import json
import logging
import math
import random
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from stance.data.sources import SOURCES
from stance.errors import DataError
from stance.files import decoded_lines, parse_json_object
from stance.labels import LABELS, normalize_label
from stance.pairs import StancePair
from stance.settings import data_dir

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Example:
    text: str
    topic: str
    label: str
    context: str | None = None
    # the annotators' label distribution in LABELS order, read where a source gives one and its
    # data.train entry sets soft_labels (GWSD's p_agree / p_disagree / p_neutral); None elsewhere
    probs: tuple[float, ...] | None = None

    @property
    def pair(self) -> StancePair:
        """What the model reads for this row: its text, topic and context (the label aside)."""
        return StancePair(self.text, self.topic, self.context)

    def target(self, labels: Sequence[str] = LABELS) -> list[float]:
        """What training learns for this row, in ``labels`` order: its label distribution, else one-hot."""
        if self.probs is None:
            return [1.0 if label == self.label else 0.0 for label in labels]
        return [self.probs[LABELS.index(label)] for label in labels]


def examples_key(prefix: bytes, examples: Sequence[Example]) -> str:
    """A short hex digest of ``prefix`` and every example's (text, topic, context): a cache key."""
    digest = hashlib.sha256(prefix)
    for e in examples:
        digest.update(json.dumps([e.text, e.topic, e.context]).encode())
    return digest.hexdigest()[:32]


def dataset_file(name: str, split: str) -> Path:
    """Path of ``normalized/<split>.jsonl`` for a named dataset.

    Raises:
        DataError: unknown name or split (the message lists what exists).
    """
    if name not in SOURCES:
        raise DataError(f"unknown dataset {name!r}; known: {', '.join(sorted(SOURCES))}")
    folder = data_dir() / "stance" / SOURCES[name].folder / "normalized"
    if not folder.is_dir() and folder.with_name("original").is_dir():
        folder = _normalize_originals(name, folder.with_name("original"))
    path = folder / f"{split}.jsonl"
    if not path.is_file():
        splits = sorted(p.stem for p in folder.glob("*.jsonl")) if folder.is_dir() else []
        raise DataError(
            f"dataset {name} has no split {split!r} at {path}; available: {', '.join(splits) or 'none'}"
        )
    return path


def _normalize_originals(name: str, originals: Path) -> Path:
    """Normalise a set its data folder holds only as upstream files, once, into the cache.

    ``../shared/data`` is read-only and keeps FNC-1 as the upstream CSVs alone; its normalised
    rows are written under ``<cache>/normalized/<name>-<key>/``, the key covering the files and
    the normalisers' code, so a change to either normalises afresh.
    """
    import inspect

    from stance.atomic import atomic_dir
    from stance.data import normalizers
    from stance.model.encoders import cache_dir

    dataset = SOURCES[name]
    if dataset.normalize is None:
        raise DataError(f"dataset {name}: {originals} holds upstream files, but no normaliser reads them")
    digest = hashlib.sha256(inspect.getsource(normalizers).encode())
    files = {}
    for remote in dataset.files:
        path = originals / remote.name
        if not path.is_file():
            raise DataError(f"dataset {name}: {path} is missing; `stance data fetch {name}` downloads it")
        files[remote.name] = path.read_bytes()
        digest.update(files[remote.name])
    folder = cache_dir() / "normalized" / f"{name}-{digest.hexdigest()[:16]}"
    if not folder.is_dir():
        logger.info("normalising %s from %s into %s", name, originals, folder)
        with atomic_dir(folder) as tmp:
            for split, rows in dataset.normalize(files).items():
                lines = (json.dumps(row, ensure_ascii=False) + "\n" for row in rows)
                (tmp / f"{split}.jsonl").write_text("".join(lines), encoding="utf-8")
    return folder


PROB_COLUMNS: tuple[str, ...] = tuple(f"p_{label}" for label in LABELS)
"""Where a file gives each row's label probabilities (``soft_labels``), in :data:`LABELS` order."""


def label_prob_columns(source) -> tuple[str, ...]:
    """The columns holding a source's label probabilities, in :data:`LABELS` order.

    ``p_favor``, ``p_against`` and ``p_none`` unless the set names its own (GWSD: ``p_agree``,
    ``p_disagree``, ``p_neutral``); the source's ``columns`` may map each of them.

    Raises:
        DataError: a named set that gives one label per row, with no ``p_*`` column mapped.
    """
    known = SOURCES[source.name].label_probs if source.name in SOURCES else ()
    if source.name in SOURCES and not known and not any(k.startswith("p_") for k in source.columns):
        have = sorted(name for name, s in SOURCES.items() if s.label_probs)
        raise DataError(
            f"soft_labels on {source.name}: the set gives one label per row, no label distribution "
            f"(sets that do: {', '.join(have)}); drop soft_labels there"
        )
    defaults = known or PROB_COLUMNS
    return tuple(
        source.columns.get(name, column) for name, column in zip(PROB_COLUMNS, defaults, strict=True)
    )


def _label_probs(row: dict, columns: Sequence[str], where: str) -> tuple[float, ...]:
    """A row's label probabilities from ``columns``, normalised to sum to 1."""
    values = []
    for column in columns:
        value = row.get(column)
        try:
            number = math.nan if isinstance(value, bool) else float(value)  # type: ignore[arg-type]
        except (TypeError, ValueError):
            number = math.nan
        if not (math.isfinite(number) and number >= 0):
            raise DataError(
                f"{where}: soft_labels needs a probability in column {column!r}, got {value!r} "
                f"(columns {', '.join(columns)}; map others with the source's columns)"
            )
        values.append(number)
    total = sum(values)
    if total <= 0:
        raise DataError(f"{where}: the label probabilities in {', '.join(columns)} are all 0")
    return tuple(v / total for v in values)


def _row_to_example(
    row: dict, columns: dict[str, str], where: str, probs: Sequence[str] | None = None, labelled: bool = True
) -> Example:
    values = {"label": "none"}  # a placeholder where the label is not read (a teacher labels the row)
    for field_name in _fields(labelled):
        column = columns.get(field_name, field_name)
        value = row.get(column)
        if value is None or (isinstance(value, str) and not value.strip()):
            raise DataError(f"{where}: missing or empty field {column!r}")
        values[field_name] = str(value).strip()
    try:
        values["label"] = normalize_label(values["label"])
    except ValueError as err:
        raise DataError(f"{where}: {err}") from None
    context_col = columns.get("context", "context")
    context = row.get(context_col)
    return Example(
        context=str(context) if context else None,
        probs=_label_probs(row, probs, where) if probs else None,
        **values,
    )


def _fields(labelled: bool) -> tuple[str, ...]:
    return ("text", "topic", "label") if labelled else ("text", "topic")


# the largest field limit every platform's C long holds
_CSV_FIELD_LIMIT_MAX = 2**31 - 1


def _iter_csv(
    path: Path, columns: dict[str, str], probs: Sequence[str] | None, labelled: bool
) -> Iterator[Example]:
    # the csv module refuses fields over 131,072 characters by default, and its limit is
    # process-wide: raised to the file's size (no field can be longer) for this file, then put back
    previous = csv.field_size_limit(min(path.stat().st_size + 1, _CSV_FIELD_LIMIT_MAX))
    try:
        yield from _csv_examples(path, columns, probs, labelled)
    finally:
        csv.field_size_limit(previous)


def _csv_examples(
    path: Path, columns: dict[str, str], probs: Sequence[str] | None, labelled: bool
) -> Iterator[Example]:
    with open(path, "rb") as handle:
        numbered = decoded_lines(path, handle)
        line_of_last = 0

        def lines() -> Iterator[str]:
            nonlocal line_of_last
            for line_no, text in numbered:
                line_of_last = line_no
                yield text

        reader = csv.DictReader(lines())
        try:
            header = reader.fieldnames or []
        except csv.Error as err:
            raise DataError(f"{path}:{line_of_last}: {_csv_problem(err)}") from None
        needed = [columns.get(name, name) for name in _fields(labelled)] + list(probs or ())
        missing = [column for column in needed if column not in header]
        if missing:
            raise DataError(
                f"{path}:1: the header has no column {', '.join(map(repr, missing))} "
                f"(columns: {', '.join(header) or 'none'}); map yours with data.train[].columns"
            )
        first_line = line_of_last + 1
        while True:
            try:
                row = next(reader)
            except StopIteration:
                return
            except csv.Error as err:
                raise DataError(f"{path}:{line_of_last}: {_csv_problem(err)}") from None
            # a quoted field may hold newlines: report the physical line where the record starts
            yield _row_to_example(row, columns, f"{path}:{first_line}", probs, labelled)
            first_line = line_of_last + 1


def _csv_problem(err: csv.Error) -> str:
    if "new-line character" in str(err):
        # lines are split at \n only, so a lone \r is left inside a field
        return "a carriage return (\\r) in an unquoted field; quote the field or remove the \\r"
    return f"not valid CSV ({err})"


def iter_file(
    path: str | Path,
    columns: dict[str, str] | None = None,
    probs: Sequence[str] | None = None,
    labelled: bool = True,
) -> Iterator[Example]:
    """Stream examples from a JSONL or CSV file, checking every row.

    Args:
        path: ``.jsonl``/``.json`` (one object per line) or ``.csv`` with a header row.
        columns: maps ``text``/``topic``/``label``/``context`` to the file's column names.
        probs: columns holding each row's label probabilities in :data:`LABELS` order
            (:attr:`Example.probs`); None reads none.
        labelled: False reads no label (each row's is ``none``, a placeholder for a teacher's).

    Raises:
        DataError: with ``file:line`` (physical lines, also in CSV) for invalid UTF-8, bad JSON, a
            missing field, an empty text or an unknown label; a CSV header without a needed column
            is reported once.
    """
    path = Path(path)
    columns = columns or {}
    if not path.is_file():
        raise DataError(f"{path}: no such file")
    if path.suffix.lower() == ".csv":
        yield from _iter_csv(path, columns, probs, labelled)
        return
    with open(path, "rb") as handle:
        for line_no, line in decoded_lines(path, handle):
            if not line.strip():
                continue
            row = parse_json_object(line, f"{path}:{line_no}")
            yield _row_to_example(row, columns, f"{path}:{line_no}", probs, labelled)


def parse_spec(spec: str) -> tuple[str, Path]:
    """Resolve ``name:split`` or a path into (display name, file path)."""
    if ":" in spec and not Path(spec).exists():
        name, split = spec.split(":", 1)
        return spec, dataset_file(name, split)
    if spec in SOURCES:
        return f"{spec}:test", dataset_file(spec, "test")
    return Path(spec).name, Path(spec)


def load_examples(
    spec: str,
    columns: dict[str, str] | None = None,
    probs: Sequence[str] | None = None,
    labelled: bool = True,
) -> list[Example]:
    """All examples of ``vast:test_zeroshot_clean``, ``semeval2016`` (its test split) or a file path."""
    _, path = parse_spec(spec)
    examples = list(iter_file(path, columns, probs, labelled))
    if not examples:
        raise DataError(f"{path}: no examples")
    return examples


def load_source(source, rng: random.Random, labelled: bool = True) -> tuple[str, list[Example]]:
    """One configured source's rows, shuffled by ``rng`` and cut to ``max_examples``, with its spec.

    ``labelled=False`` reads no labels (``distill.unlabelled``: a teacher labels the rows).
    """
    spec = source.name if source.name not in SOURCES else f"{source.name}:{source.split}"
    probs = label_prob_columns(source) if source.soft_labels else None
    examples = load_examples(spec, source.columns, probs, labelled)
    rng.shuffle(examples)
    if source.max_examples is not None:
        examples = examples[: source.max_examples]
    return spec, examples


def weigh(examples: list[Example], weight: float) -> list[Example]:
    """A source's training rows under its weight: below 1 the leading share, above 1 repeated."""
    whole, frac = divmod(weight, 1.0)
    return examples * int(whole) + examples[: round(frac * len(examples))]


def split_dev(
    examples: list[Example], fraction: float, rng: random.Random, min_topics: int = 20
) -> tuple[list[Example], list[Example]]:
    """Hold out a dev set disjoint from train by text and, for many-topic sets, by topic.

    Whole texts are held out (VAST reuses one comment under several topics, so a comment never
    sits on both sides). For sets with many topics, dev rows whose topic also occurs in train
    are dropped from dev rather than train, so dev measures unseen topics without starving
    training. Sets with few targets (SemEval's five) are split by text only.
    """
    if fraction <= 0 or not examples:
        return examples, []
    texts = sorted({e.text for e in examples})
    rng.shuffle(texts)
    dev_texts = set(texts[: max(1, round(fraction * len(texts)))])
    train = [e for e in examples if e.text not in dev_texts]
    dev = [e for e in examples if e.text in dev_texts]
    if len({e.topic.lower() for e in examples}) >= min_topics:
        seen = {e.topic.lower() for e in train}
        dev = [e for e in dev if e.topic.lower() not in seen]
    return train, dev
