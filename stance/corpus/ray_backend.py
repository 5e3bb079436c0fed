"""``--backend ray``: the same stages on Ray Data, on a local Ray or an existing cluster.

Ray reads the input files (``read_binary_files``); tasks parse them with the local backend's own
parser and extract quotes (``map_batches`` on CPU workers); an actor pool classifies (a callable
class, so each actor loads the model once, on a GPU when the cluster has them); Ray's Parquet
writer writes the parts. The parts then go through the same :func:`finalize` as the local
backend, so the outputs match.

Needs the extra: ``pip install 'quote-stance[ray]'`` on the driver and every node.
"""

from __future__ import annotations

import io
import logging
import time
import uuid
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

import pyarrow as pa

from stance.corpus.io import Article, BadRow, InputFile, list_inputs, parse_stream
from stance.corpus.job import CorpusJob
from stance.corpus.parts import Counts, Timings, adopt_parts
from stance.corpus.stages import (
    PART_COLUMNS,
    PART_SCHEMA,
    article_rows,
    bad_row,
    classify_rows,
    quote_extractor,
    to_table,
)

logger = logging.getLogger(__name__)

# Articles per extraction task: enough to amortise a task's start, few enough to spread a single
# JSONL file over all CPU workers.
ARTICLES_PER_TASK = 25
# Quote x topic pairs per classification call: large batches, sorted by length inside the actor.
PAIRS_PER_BATCH = 1024


def _import_ray():
    try:
        import ray
    except ImportError as err:
        raise ImportError("--backend ray needs Ray Data: pip install 'quote-stance[ray]'") from err
    return ray


def _parse(row: dict, files: dict[str, InputFile], columns, max_bytes: int, skip: set[str]) -> list[dict]:
    """Ray read one file per row; split it into one row per article or bad row, in the file's order."""
    file = files[str(Path(row["path"]).resolve())]
    out = []
    for item in parse_stream(io.BytesIO(row["bytes"]), file, columns, max_bytes):
        if item.id in skip:
            continue
        if isinstance(item, BadRow):
            logger.warning("skipped %s: %s", item.where, item.reason)
            out.append(
                {
                    **dict.fromkeys(_ARTICLE_FIELDS),
                    "input": item.input,
                    "row": item.row,
                    "id": item.id,
                    "status": "bad",
                    "error": bad_row(item)["error"],
                }
            )
        else:
            out.append({**vars(item), "status": None, "error": None})
    return out


_ARTICLE_FIELDS = ("input", "row", "id", "text", "date", "source", "url", "title", "status", "error")


def _extract(batch: pa.Table, topics: Sequence[str], kinds) -> pa.Table:
    """Quote x topic rows (with context) for a batch of articles and bad rows."""
    extract = quote_extractor(kinds)
    rows: list[dict] = []
    for item in batch.to_pylist():
        if item["status"] == "bad":
            bad = BadRow(item["input"], item["row"], item["id"], "", "")
            rows.append({**bad_row(bad), "error": item["error"]})
        else:
            fields = {k: item[k] for k in ("input", "row", "id", "text", "date", "source", "url", "title")}
            rows.extend(article_rows(Article(**fields), topics, extract))
    for row in rows:
        row.setdefault("context", None)
        row.setdefault("reading", None)
    schema = PART_SCHEMA.append(pa.field("context", pa.string())).append(pa.field("reading", pa.string()))
    return pa.Table.from_pylist(rows, schema=schema)


class Classify:
    """Actor: loads the job's model once, then fills labels and scores on batches of rows."""

    def __init__(self, job: CorpusJob, threads: int) -> None:
        import torch

        torch.set_num_threads(max(1, threads))
        self.clf = job.load_model()
        if torch.cuda.is_available():
            self.clf.model.to("cuda")
        self.batch_size = job.batch_size

    def __call__(self, batch: pa.Table) -> pa.Table:
        rows = batch.to_pylist()
        return to_table(classify_rows(rows, self.clf, self.batch_size)).select(PART_COLUMNS)


def run_ray(job: CorpusJob, skip: set[str]) -> tuple[Counts, Timings]:
    """Run the job on Ray Data; the written parts join those of earlier runs in ``output/parts``.

    ``job.ray_options``: ``num_cpus`` for a local Ray, ``actors`` (classifier actors; default one
    per GPU, else one per two CPUs), and any other ``ray.init`` keyword.
    """
    ray = _import_ray()
    import stance

    options = dict(job.ray_options)
    actors = options.pop("actors", None)
    started = not ray.is_initialized()
    if started:
        init = {"address": job.ray_address, "include_dashboard": False, "log_to_driver": True, **options}
        # ship this checkout's code to the workers, so they run what the driver runs
        init["runtime_env"] = {"py_modules": [str(Path(stance.__file__).parent)]}
        if job.ray_address is None:
            init.pop("address")
        ray.init(**init)
    began = time.perf_counter()
    counts = Counts()
    try:
        ctx = ray.data.DataContext.get_current()
        ctx.enable_progress_bars = job.progress
        resources = ray.cluster_resources()
        gpus = int(resources.get("GPU", 0))
        cpus = int(resources.get("CPU", 1))
        actors = actors or gpus or max(1, cpus // 2)
        # classifying is nearly all the work (extraction took 6 s of a 370 s local run on 1,000
        # articles), so each actor's torch uses its whole share of the cores, while Ray counts it
        # as half that share so the extraction tasks still find a slot to run in
        threads = 1 if gpus else max(1, cpus // actors)
        reserved = max(1, threads // 2)
        files = {str(f.path.resolve()): f for f in list_inputs(job.inputs)}
        quote_extractor(job.kinds)
        ds = ray.data.read_binary_files(list(files), include_paths=True)
        parse = {"files": files, "columns": job.columns, "max_bytes": job.max_article_bytes, "skip": skip}
        ds = ds.flat_map(_parse, fn_kwargs=parse)
        ds = ds.repartition(target_num_rows_per_block=ARTICLES_PER_TASK)
        ds = ds.map_batches(
            _extract,
            fn_kwargs={"topics": list(job.topics), "kinds": job.kinds},
            batch_format="pyarrow",
            batch_size=None,
        )
        # a second repartition gathers pairs into large blocks for the classifier, and keeps
        # extraction in its own CPU tasks instead of fused into the classifier actors
        ds = ds.repartition(target_num_rows_per_block=PAIRS_PER_BATCH)
        ds = ds.map_batches(
            Classify,
            # actors may start in another working directory: give them the model's full path
            fn_constructor_kwargs={"job": replace(job, model=Path(job.model).resolve()), "threads": threads},
            batch_size=PAIRS_PER_BATCH,
            batch_format="pyarrow",
            concurrency=actors,
            num_gpus=1 if gpus else 0,
            num_cpus=0 if gpus else reserved,
        )
        staging = job.output / f".ray-{uuid.uuid4().hex[:8]}"
        ds.write_parquet(str(staging))
        adopt_parts(job.output, staging, counts)
    finally:
        if started:
            ray.shutdown()
    timings = Timings()
    timings.extra = {"ray_pipeline": round(time.perf_counter() - began, 3), "ray_actors": actors}
    return counts, timings
