"""``--backend local``: read, extract, classify and write part by part in this process."""

from __future__ import annotations

import logging
import time
from itertools import islice

from tqdm.auto import tqdm

from stance.corpus.io import BadRow, InputFile, count_rows, list_inputs, read_articles
from stance.corpus.job import CorpusJob
from stance.corpus.parts import Counts, Timings, write_part
from stance.corpus.stages import article_rows, bad_row, classify_rows, quote_extractor

logger = logging.getLogger(__name__)


def run_local(job: CorpusJob, skip: set[str]) -> tuple[Counts, Timings]:
    """Process the job's articles ``job.part_size`` at a time; returns this run's counts and timings.

    Raises:
        stance.errors.ModelLoadError: the model folder is missing or broken.
    """
    model = job.load_model()
    files = list_inputs(job.inputs)
    extract = quote_extractor(job.kinds)
    counts = Counts()
    timings = Timings()
    bar = tqdm(
        total=count_rows(files), unit="article", desc="corpus", disable=not job.progress, smoothing=0.1
    )
    items = read_articles(files, job.columns, job.max_article_bytes)
    seen: set[str] = set()
    while True:
        start = time.perf_counter()
        rows: list[dict] = []
        taken = 0
        for item in islice(items, job.part_size):
            taken += 1
            if item.id in skip:
                counts.skipped_done += 1
                continue
            if item.id in seen:
                # a second article under one id would be indistinguishable in the output and on --resume
                where = _where(item, files)
                item = BadRow(item.input, item.row, item.id, where, "duplicate id, already read")
            seen.add(item.id)
            if isinstance(item, BadRow):
                logger.warning("skipped %s: %s", item.where, item.reason)
                rows.append(bad_row(item))
            else:
                rows.extend(article_rows(item, job.topics, extract))
        extracted = time.perf_counter()
        timings.read_extract += extracted - start
        if rows:
            classify_rows(rows, model, job.batch_size)
            classified = time.perf_counter()
            timings.classify += classified - extracted
            write_part(job.output, rows, counts)
            timings.write += time.perf_counter() - classified
        bar.update(taken)
        if taken < job.part_size:
            break
    bar.close()
    return counts, timings


def _where(item, files: list[InputFile]) -> str:
    """``file:row`` of an article, or the file of a .txt article."""
    for file in files:
        if file.input == item.input and file.kind != "txt":
            return f"{file.path}:{item.row}"
        if file.input == item.input and file.row == item.row:
            return str(file.path)
    return f"input {item.input + 1}, row {item.row}"
