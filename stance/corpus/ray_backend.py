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
import shutil
import time
import uuid
from collections.abc import Sequence
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from stance.corpus.io import MAX_ARTICLE_BYTES, Article, BadRow, InputFile, list_inputs, parse_stream
from stance.corpus.run import PARTS, Timings, part_files
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
    """Actor: loads the model once, then fills labels and scores on batches of rows."""

    def __init__(self, model: str, batch_size: int, threads: int, load: dict) -> None:
        import torch

        from stance.model import StanceClassifier

        torch.set_num_threads(max(1, threads))
        self.clf = StanceClassifier.from_pretrained(model, **load)
        if torch.cuda.is_available():
            self.clf.model.to("cuda")
        self.batch_size = batch_size

    def __call__(self, batch: pa.Table) -> pa.Table:
        rows = batch.to_pylist()
        return to_table(classify_rows(rows, self.clf, self.batch_size)).select(PART_COLUMNS)


def run_ray(
    inputs: Sequence[str | Path],
    topics: Sequence[str],
    output: Path,
    model: Path,
    skip: set[str],
    address: str | None = None,
    ray_options: dict | None = None,
    load: dict | None = None,
    columns: dict[str, str] | None = None,
    batch_size: int = 64,
    max_article_bytes: int = MAX_ARTICLE_BYTES,
    kinds: Sequence[str] | None = None,
    progress: bool = True,
) -> tuple[dict, Timings]:
    """Run the corpus on Ray Data; the written parts join those of earlier runs in ``output/parts``.

    ``ray_options``: ``num_cpus`` for a local Ray, ``actors`` (classifier actors; default one per
    GPU, else one per two CPUs), and any other ``ray.init`` keyword.
    """
    ray = _import_ray()
    import stance

    options = dict(ray_options or {})
    actors = options.pop("actors", None)
    started = not ray.is_initialized()
    if started:
        init = {"address": address, "include_dashboard": False, "log_to_driver": True, **options}
        # ship this checkout's code to the workers, so they run what the driver runs
        init["runtime_env"] = {"py_modules": [str(Path(stance.__file__).parent)]}
        if address is None:
            init.pop("address")
        ray.init(**init)
    began = time.perf_counter()
    try:
        ctx = ray.data.DataContext.get_current()
        ctx.enable_progress_bars = progress
        resources = ray.cluster_resources()
        gpus = int(resources.get("GPU", 0))
        cpus = int(resources.get("CPU", 1))
        actors = actors or gpus or max(1, cpus // 2)
        threads = 1 if gpus else max(1, cpus // (2 * actors))
        files = {str(f.path.resolve()): f for f in list_inputs(inputs)}
        model_path = str(Path(model).resolve())
        quote_extractor(kinds)
        ds = ray.data.read_binary_files(list(files), include_paths=True)
        ds = ds.flat_map(
            _parse,
            fn_kwargs={"files": files, "columns": columns, "max_bytes": max_article_bytes, "skip": skip},
        )
        ds = ds.repartition(target_num_rows_per_block=ARTICLES_PER_TASK)
        ds = ds.map_batches(
            _extract,
            fn_kwargs={"topics": list(topics), "kinds": kinds},
            batch_format="pyarrow",
            batch_size=None,
        )
        # a second repartition gathers pairs into large blocks for the classifier, and keeps
        # extraction in its own CPU tasks instead of fused into the classifier actors
        ds = ds.repartition(target_num_rows_per_block=PAIRS_PER_BATCH)
        ds = ds.map_batches(
            Classify,
            fn_constructor_kwargs={
                "model": model_path,
                "batch_size": batch_size,
                "threads": threads,
                "load": load or {},
            },
            batch_size=PAIRS_PER_BATCH,
            batch_format="pyarrow",
            concurrency=actors,
            num_gpus=1 if gpus else 0,
            num_cpus=0 if gpus else threads,
        )
        staging = output / f".ray-{uuid.uuid4().hex[:8]}"
        ds.write_parquet(str(staging))
        counts = _commit(output, staging)
        counts["quotes"] = counts["pairs"] // len(topics)
    finally:
        if started:
            ray.shutdown()
    timings = Timings()
    timings.extra = {"ray_pipeline": round(time.perf_counter() - began, 3), "ray_actors": actors}
    return counts, timings


def _commit(output: Path, staging: Path) -> dict:
    """Move Ray's files into ``parts/`` under the next part numbers; count what they hold."""
    existing = part_files(output)
    number = int(existing[-1].stem.split("-")[1]) + 1 if existing else 0
    counts = {"articles": 0, "bad_rows": 0, "skipped_done": 0, "quotes": 0, "pairs": 0, "parts": 0}
    for path in sorted(staging.glob("*.parquet")):
        table = pq.read_table(path, columns=["status", "article_id", "quote_index"])
        status = table.column("status").to_pylist()
        counts["pairs"] += status.count("quote")
        counts["bad_rows"] += status.count("bad")
        ids = {(s, a) for s, a in zip(status, table.column("article_id").to_pylist(), strict=True)}
        counts["articles"] += len({a for s, a in ids if s != "bad"})
        counts["parts"] += 1
        (path).rename(output / PARTS / f"part-{number:05d}.parquet")
        number += 1
    shutil.rmtree(staging, ignore_errors=True)
    return counts
