"""What a corpus run is asked to do, in one value that every backend takes.

:class:`CorpusJob` holds the inputs, topics, quote kinds, model, part size, output folder and the
remaining options of ``stance corpus``; it is checked once when it is made, and each backend
loads its model from it the same way (:meth:`CorpusJob.load_model`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from stance.corpus.io import MAX_ARTICLE_BYTES
from stance.errors import CorpusError

if TYPE_CHECKING:
    from stance.model.classifier import StanceClassifier

# Articles per part: large enough that stance batches mix many articles (about 1,500 quote x topic
# pairs for two topics), small enough that a crash loses seconds of work and memory stays flat.
PART_SIZE = 100
FORMATS = ("parquet", "jsonl", "csv")


@dataclass(frozen=True)
class CorpusJob:
    """One corpus run: what to read, what to ask of each quote, with which model, and where to write.

    Attributes:
        inputs: folders of ``.txt`` files, ``.jsonl`` or ``.csv`` files.
        topics: the topics every quote is classified toward.
        output: the output folder.
        model: a stance model folder.
        kinds: quote kinds to keep, when the quote splitter supports filtering by kind.
        part_size: articles per written part (the local backend).
        batch_size: quote x topic pairs per forward pass.
        columns: input field -> column name, for JSONL/CSV with other names.
        max_article_bytes: longer articles are skipped as bad rows.
        precision: ``fp32``, ``bf16`` or ``auto``, as in :meth:`StanceClassifier.from_pretrained`.
        int8: use the int8-quantised model.
        backend: the name of a backend in :data:`stance.corpus.run.BACKENDS`.
        formats: ``quotes`` file formats, from parquet, jsonl, csv.
        resume: continue an earlier run into the same folder.
        ray_address: join this Ray cluster; default: start a local Ray.
        ray_options: ``num_cpus`` for a local Ray, ``actors`` for the classifier pool.
        progress: show progress bars.
        min_confidence: stances whose probability is under this are written ``uncertain`` and
            left out of the speaker majorities; None (default) keeps every label.

    Raises:
        CorpusError: no input, no or repeated topics, an unknown format, a size below 1.
    """

    inputs: tuple[str | Path, ...]
    topics: tuple[str, ...]
    output: Path
    model: Path = Path("models/default")
    kinds: tuple[str, ...] | None = None
    part_size: int = PART_SIZE
    batch_size: int = 64
    columns: Mapping[str, str] | None = None
    max_article_bytes: int = MAX_ARTICLE_BYTES
    precision: str = "fp32"
    int8: bool = False
    backend: str = "local"
    formats: tuple[str, ...] = ("parquet",)
    resume: bool = False
    ray_address: str | None = None
    ray_options: Mapping[str, Any] = field(default_factory=dict)
    progress: bool = True
    min_confidence: float | None = None

    def __post_init__(self) -> None:
        if not self.inputs:
            raise CorpusError("give at least one input (a folder of .txt files, .jsonl or .csv)")
        if not self.topics or any(not isinstance(t, str) or not t.strip() for t in self.topics):
            raise CorpusError("give one or more non-empty --topic")
        if len(set(self.topics)) != len(self.topics):
            raise CorpusError(f"--topic given twice: {list(self.topics)}")
        bad_formats = [f for f in self.formats if f not in FORMATS]
        if bad_formats:
            raise CorpusError(f"--format {bad_formats[0]!r}; expected one of {', '.join(FORMATS)}")
        if self.batch_size < 1 or self.part_size < 1:
            raise CorpusError("--batch-size and --part-size must be at least 1")
        if self.min_confidence is not None and not 0.0 <= self.min_confidence <= 1.0:
            raise CorpusError(f"--min-confidence {self.min_confidence}; expected a probability from 0 to 1")

    @property
    def precision_label(self) -> str:
        """How ``run.json`` names the precision: ``int8`` for the quantised model."""
        return "int8" if self.int8 else self.precision

    def load_model(self) -> StanceClassifier:
        """The stance model as every backend loads it (each Ray actor loads its own copy).

        Raises:
            stance.errors.ModelLoadError: the model folder is missing or broken.
        """
        from stance.model.classifier import StanceClassifier

        quantize = "int8" if self.int8 else None
        return StanceClassifier.from_pretrained(self.model, precision=self.precision, quantize=quantize)
