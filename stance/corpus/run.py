"""``run_corpus``: quotes and stances for a whole corpus, written part by part, then summarised.

Layout of the output folder::

    parts/part-00000.parquet   one per batch of articles, renamed into place when complete
    quotes.parquet             every quote x topic, merged speakers (also .jsonl/.csv on request)
    speakers.csv               speaker x topic summary
    summary.html, *.png        the report
    run.json                   model, encoder checksum, counts, timings
"""

from __future__ import annotations

import json
import logging
import shutil
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path

import pyarrow.parquet as pq
from tqdm.auto import tqdm

from stance.atomic import atomic_file
from stance.corpus.io import MAX_ARTICLE_BYTES, BadRow, count_rows, list_inputs, read_articles
from stance.corpus.stages import article_rows, bad_row, classify_rows, quote_extractor, to_table

logger = logging.getLogger(__name__)

PARTS = "parts"
# Articles per part: large enough that stance batches mix many articles (about 1,500 quote x topic
# pairs for two topics), small enough that a crash loses seconds of work and memory stays flat.
PART_SIZE = 100
FORMATS = ("parquet", "jsonl", "csv")
BACKENDS = ("local", "ray")


class CorpusError(ValueError):
    """A run that cannot start: bad options, a model that does not load, an output folder in use."""


@dataclass
class Timings:
    """Seconds spent in each stage of this run."""

    read_extract: float = 0.0
    classify: float = 0.0
    write: float = 0.0
    finalize: float = 0.0
    total: float = 0.0
    extra: dict = field(default_factory=dict)


def part_files(output: Path) -> list[Path]:
    """Committed parts, in the order they were written."""
    return sorted((output / PARTS).glob("part-*.parquet"))


def done_articles(output: Path) -> set[str]:
    """Ids of articles (and skipped rows) that committed parts already cover."""
    done: set[str] = set()
    for path in part_files(output):
        done.update(pq.read_table(path, columns=["article_id"]).column(0).to_pylist())
    return done


def prepare_output(output: Path, resume: bool) -> set[str]:
    """Check the folder, clear what a killed run left half-written, return the ids to skip.

    Raises:
        CorpusError: the folder holds parts of an earlier run and ``resume`` is off.
    """
    parts = output / PARTS
    existing = part_files(output)
    if existing and not resume:
        raise CorpusError(
            f"{output} holds {len(existing)} part(s) of an earlier run: give --resume to continue it "
            "(articles already written are skipped), or choose a new --output folder"
        )
    parts.mkdir(parents=True, exist_ok=True)
    # temporary files of a part in flight when a run was killed, and a Ray run's unfinished staging
    for leftover in [*parts.glob(".*"), *output.glob(".ray-*")]:
        if leftover.is_dir():
            shutil.rmtree(leftover, ignore_errors=True)
        else:
            leftover.unlink()
    return done_articles(output) if resume else set()


def write_part(output: Path, rows: list[dict]) -> Path:
    """Write one part atomically under the next free number."""
    existing = part_files(output)
    number = int(existing[-1].stem.split("-")[1]) + 1 if existing else 0
    path = output / PARTS / f"part-{number:05d}.parquet"
    with atomic_file(path, "wb") as handle:
        pq.write_table(to_table(rows), handle)
    return path


def run_local(
    inputs: Sequence[str | Path],
    topics: Sequence[str],
    output: Path,
    model,
    skip: set[str],
    columns: dict[str, str] | None = None,
    batch_size: int = 64,
    part_size: int = PART_SIZE,
    max_article_bytes: int = MAX_ARTICLE_BYTES,
    kinds: Sequence[str] | None = None,
    progress: bool = True,
) -> tuple[dict, Timings]:
    """Process articles part by part in this process; returns this run's counts and timings."""
    files = list_inputs(inputs)
    extract = quote_extractor(kinds)
    counts = {"articles": 0, "bad_rows": 0, "skipped_done": 0, "quotes": 0, "pairs": 0, "parts": 0}
    timings = Timings()
    bar = tqdm(total=count_rows(files), unit="article", desc="corpus", disable=not progress, smoothing=0.1)
    items = read_articles(files, columns, max_article_bytes)
    seen: set[str] = set()
    while True:
        start = time.perf_counter()
        rows: list[dict] = []
        taken = 0
        for item in islice(items, part_size):
            taken += 1
            if item.id in skip:
                counts["skipped_done"] += 1
                continue
            if item.id in seen:
                # a second article under one id would be indistinguishable in the output and on --resume
                where = _where(item, files)
                item = BadRow(item.input, item.row, item.id, where, "duplicate id, already read")
            seen.add(item.id)
            if isinstance(item, BadRow):
                logger.warning("skipped %s: %s", item.where, item.reason)
                counts["bad_rows"] += 1
                rows.append(bad_row(item))
            else:
                counts["articles"] += 1
                rows.extend(article_rows(item, topics, extract))
        extracted = time.perf_counter()
        timings.read_extract += extracted - start
        if rows:
            classify_rows(rows, model, batch_size)
            classified = time.perf_counter()
            timings.classify += classified - extracted
            write_part(output, rows)
            timings.write += time.perf_counter() - classified
            counts["parts"] += 1
            pairs = sum(r["status"] == "quote" for r in rows)
            counts["pairs"] += pairs
            counts["quotes"] += pairs // len(topics)
        bar.update(taken)
        if taken < part_size:
            break
    bar.close()
    return counts, timings


def _where(item, files) -> str:
    """``file:row`` of an article, or the file of a .txt article."""
    for file in files:
        if file.input == item.input and file.kind != "txt":
            return f"{file.path}:{item.row}"
        if file.input == item.input and file.row == item.row:
            return str(file.path)
    return f"input {item.input + 1}, row {item.row}"


def run_corpus(
    inputs: str | Path | Sequence[str | Path],
    topics: str | Sequence[str],
    output: str | Path,
    model: str | Path = "models/default",
    *,
    backend: str = "local",
    formats: Sequence[str] = ("parquet",),
    resume: bool = False,
    columns: dict[str, str] | None = None,
    batch_size: int = 64,
    part_size: int = PART_SIZE,
    max_article_bytes: int = MAX_ARTICLE_BYTES,
    kinds: Sequence[str] | None = None,
    ray_address: str | None = None,
    ray_options: dict | None = None,
    precision: str = "fp32",
    int8: bool = False,
    progress: bool = True,
) -> dict:
    """Extract quotes from every article, classify each toward every topic, write the output folder.

    Args:
        inputs: folders of ``.txt`` files, ``.jsonl`` or ``.csv`` files.
        topics: one topic or several.
        output: the output folder (see the module docstring for its layout).
        model: a stance model folder.
        backend: ``"local"`` (this process) or ``"ray"`` (Ray Data; needs ``quote-stance[ray]``).
        formats: ``quotes`` file formats, from parquet, jsonl, csv.
        resume: continue an earlier run into the same folder, skipping articles it wrote.
        columns: input field -> column name, for JSONL/CSV with other names (``{"text": "body"}``).
        batch_size: quote x topic pairs per forward pass.
        part_size: articles per written part.
        max_article_bytes: longer articles are skipped as bad rows.
        kinds: quote kinds to keep, when the quote splitter supports filtering by kind.
        ray_address: join this Ray cluster; default: start a local Ray.
        ray_options: ``num_cpus`` for a local Ray, ``actors`` for the classifier pool.
        precision: ``fp32``, ``bf16`` or ``auto``, as in :meth:`StanceClassifier.from_pretrained`.
        int8: use the int8-quantised model.

    Returns:
        The ``run.json`` record (counts, timings, model).

    Raises:
        CorpusError: bad options or an output folder holding another run.
        stance.corpus.io.CorpusInputError: an input that does not exist or has an unknown type.
        stance.model.ModelLoadError: the model folder is missing or broken.

    Example:
        >>> run_corpus("articles/", ["the JCPOA", "Afghanistan"], "out/", "models/default")
    """
    from stance.corpus.output import finalize
    from stance.model import StanceClassifier

    began = time.perf_counter()
    inputs = [inputs] if isinstance(inputs, str | Path) else list(inputs)
    topics = [topics] if isinstance(topics, str) else list(topics)
    if not inputs:
        raise CorpusError("give at least one input (a folder of .txt files, .jsonl or .csv)")
    if not topics or any(not isinstance(t, str) or not t.strip() for t in topics):
        raise CorpusError("give one or more non-empty --topic")
    if len(set(topics)) != len(topics):
        raise CorpusError(f"--topic given twice: {topics}")
    if backend not in BACKENDS:
        raise CorpusError(f"--backend {backend!r}; expected one of {', '.join(BACKENDS)}")
    bad_formats = [f for f in formats if f not in FORMATS]
    if bad_formats:
        raise CorpusError(f"--format {bad_formats[0]!r}; expected one of {', '.join(FORMATS)}")
    if batch_size < 1 or part_size < 1:
        raise CorpusError("--batch-size and --part-size must be at least 1")
    list_inputs(inputs)  # fail on a missing input before the model loads
    quote_extractor(kinds)
    output = Path(output)
    skip = prepare_output(output, resume)
    quantize = "int8" if int8 else None
    load = {"precision": precision, "quantize": quantize}
    if backend == "local":
        clf = StanceClassifier.from_pretrained(model, precision=precision, quantize=quantize)
        counts, timings = run_local(
            inputs,
            topics,
            output,
            clf,
            skip,
            columns=columns,
            batch_size=batch_size,
            part_size=part_size,
            max_article_bytes=max_article_bytes,
            kinds=kinds,
            progress=progress,
        )
    else:
        from stance.corpus.ray_backend import run_ray

        counts, timings = run_ray(
            inputs,
            topics,
            output,
            Path(model),
            skip,
            address=ray_address,
            ray_options=ray_options,
            load=load,
            columns=columns,
            batch_size=batch_size,
            max_article_bytes=max_article_bytes,
            kinds=kinds,
            progress=progress,
        )
    start = time.perf_counter()
    record = finalize(output, topics, formats)
    timings.finalize = time.perf_counter() - start
    timings.total = time.perf_counter() - began
    record.update(run_record(model, backend, topics, counts, timings, resume))
    record["precision"] = "int8" if int8 else precision
    with atomic_file(output / "run.json") as handle:
        json.dump(record, handle, indent=2, ensure_ascii=False)
    return record


def run_record(
    model, backend: str, topics: Sequence[str], counts: dict, timings: Timings, resume: bool
) -> dict:
    """The run's own part of ``run.json``: model, checksum, this run's counts and timings."""
    from stance import __version__

    seconds = {k: round(v, 3) for k, v in vars(timings).items() if k != "extra"} | timings.extra
    return {
        "version": __version__,
        "model": str(model),
        "encoder_sha256": model_checksum(Path(model)),
        "backend": backend,
        "topics": list(topics),
        "resumed": resume,
        "this_run": counts,
        "seconds": seconds,
        "articles_per_s": round(counts["articles"] / timings.total, 3) if timings.total else None,
        "pairs_per_s": round(counts["pairs"] / timings.total, 3) if timings.total else None,
    }


def model_checksum(model: Path) -> str | None:
    """sha256 of the model's weights, from its ``checksums.json`` (computed when absent)."""
    from stance.model import CHECKSUMS
    from stance.settings import sha256_file

    listed = model / CHECKSUMS
    if listed.is_file():
        return json.loads(listed.read_text()).get("model.safetensors")
    weights = model / "model.safetensors"
    return sha256_file(weights) if weights.is_file() else None
