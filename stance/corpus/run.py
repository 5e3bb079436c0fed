"""``run_corpus``: quotes and stances for a whole corpus, written part by part, then summarised.

A run is one :class:`~stance.corpus.job.CorpusJob`, run by one backend from :data:`BACKENDS`
into ``parts/`` (:mod:`stance.corpus.parts`), then merged by :func:`stance.corpus.output.finalize`.

Layout of the output folder::

    parts/part-00000.parquet   one per batch of articles, renamed into place when complete
    quotes.parquet             every quote x topic, merged speakers (also .jsonl/.csv on request)
    speakers.csv               speaker x topic summary
    summary.html, *.png        the report
    run.json                   model, encoder checksum, counts, timings
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

from stance.atomic import atomic_file
from stance.corpus.folder import claim_output
from stance.corpus.io import MAX_ARTICLE_BYTES, list_inputs
from stance.corpus.job import PART_SIZE, CorpusJob
from stance.corpus.local import run_local
from stance.corpus.output import finalize
from stance.corpus.parts import Counts, Timings, prepare_output
from stance.corpus.ray_backend import run_ray
from stance.corpus.stages import quote_extractor
from stance.errors import CorpusError
from stance.model.folder import recorded_weights_sha256

Backend = Callable[[CorpusJob, set[str]], tuple[Counts, Timings]]
"""Runs a job's articles into ``parts/``, skipping the given ids; returns counts and timings."""

BACKENDS: dict[str, Backend] = {"local": run_local, "ray": run_ray}
"""Backends by their ``--backend`` name; each loads its model with :meth:`CorpusJob.load_model`."""


def run_corpus(
    inputs: str | Path | Sequence[str | Path],
    topics: str | Sequence[str],
    output: str | Path,
    model: str | Path = "models/default",
    *,
    backend: str = "local",
    formats: Sequence[str] = ("parquet",),
    resume: bool = False,
    columns: Mapping[str, str] | None = None,
    batch_size: int = 64,
    part_size: int = PART_SIZE,
    max_article_bytes: int = MAX_ARTICLE_BYTES,
    kinds: Sequence[str] | None = None,
    ray_address: str | None = None,
    ray_options: Mapping[str, Any] | None = None,
    precision: str = "fp32",
    int8: bool = False,
    progress: bool = True,
    min_confidence: float | None = None,
) -> dict:
    """Extract quotes from every article, classify each toward every topic, write the output folder.

    The arguments are those of :class:`~stance.corpus.job.CorpusJob` (see there), with one input
    or one topic also accepted alone; ``backend`` is ``"local"`` (this process) or ``"ray"`` (Ray
    Data; needs ``quote-stance[ray]``).

    Returns:
        The ``run.json`` record (counts, timings, model).

    Raises:
        CorpusError: bad options or an output folder holding another run.
        stance.errors.CorpusInputError: an input that does not exist or has an unknown type.
        stance.errors.ModelLoadError: the model folder is missing or broken.

    Example:
        >>> run_corpus("articles/", ["the JCPOA", "Afghanistan"], "out/", "models/default")
    """
    job = CorpusJob(
        inputs=(inputs,) if isinstance(inputs, str | Path) else tuple(inputs),
        topics=(topics,) if isinstance(topics, str) else tuple(topics),
        output=Path(output),
        model=Path(model),
        kinds=tuple(kinds) if kinds is not None else None,
        part_size=part_size,
        batch_size=batch_size,
        columns=columns,
        max_article_bytes=max_article_bytes,
        precision=precision,
        int8=int8,
        backend=backend,
        formats=tuple(formats),
        resume=resume,
        ray_address=ray_address,
        ray_options=dict(ray_options or {}),
        progress=progress,
        min_confidence=min_confidence,
    )
    return run_job(job)


def run_job(job: CorpusJob) -> dict:
    """Run ``job`` with its backend, write the corpus outputs and ``run.json``; return the record.

    Raises:
        CorpusError: an unknown backend or an output folder holding another run.
        stance.errors.CorpusInputError: an input that does not exist or has an unknown type.
        stance.errors.ModelLoadError: the model folder is missing or broken.
    """
    began = time.perf_counter()
    if job.backend not in BACKENDS:
        raise CorpusError(f"--backend {job.backend!r}; expected one of {', '.join(BACKENDS)}")
    list_inputs(job.inputs)  # fail on a missing input before the model loads
    quote_extractor(job.kinds)
    claim_output(job.output, job.topics, job.kinds, job.resume)
    skip = prepare_output(job.output, job.resume)
    counts, timings = BACKENDS[job.backend](job, skip)
    counts.quotes = counts.pairs // len(job.topics)
    start = time.perf_counter()
    record = finalize(job.output, job.topics, job.formats, job.min_confidence)
    timings.finalize = time.perf_counter() - start
    timings.total = time.perf_counter() - began
    record.update(run_record(job, counts, timings))
    with atomic_file(job.output / "run.json") as handle:
        json.dump(record, handle, indent=2, ensure_ascii=False)
    return record


def run_record(job: CorpusJob, counts: Counts, timings: Timings) -> dict:
    """The run's own part of ``run.json``: model, checksum, this run's counts and timings."""
    from stance import __version__

    seconds = {k: round(v, 3) for k, v in vars(timings).items() if k != "extra"} | timings.extra
    return {
        "version": __version__,
        "model": str(job.model),
        "encoder_sha256": recorded_weights_sha256(job.model),
        "backend": job.backend,
        "topics": list(job.topics),
        "resumed": job.resume,
        "this_run": asdict(counts),
        "seconds": seconds,
        "articles_per_s": round(counts.articles / timings.total, 3) if timings.total else None,
        "pairs_per_s": round(counts.pairs / timings.total, 3) if timings.total else None,
        "precision": job.precision_label,
    }
