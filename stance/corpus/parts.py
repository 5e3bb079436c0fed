"""The output folder's parts, and what a run counts and times while it writes them.

Every backend writes its rows as numbered Parquet parts under ``parts/``; a part is complete once
it has its final name (``part-00000.parquet``), so a killed run leaves only whole parts and
``--resume`` skips the articles they cover. Both backends count articles, bad rows and pairs from
the rows they write with :meth:`Counts.add_part`, so ``run.json`` says the same for either.
"""

from __future__ import annotations

import shutil
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow.parquet as pq

from stance.atomic import atomic_file
from stance.corpus.stages import to_table
from stance.errors import CorpusError

PARTS = "parts"


@dataclass
class Counts:
    """What this run wrote: articles, skipped rows, quotes, quote x topic pairs, parts."""

    articles: int = 0
    bad_rows: int = 0
    skipped_done: int = 0
    quotes: int = 0
    pairs: int = 0
    parts: int = 0

    def add_part(self, status: Sequence[str | None], article_ids: Sequence[str | None]) -> None:
        """Count one written part from its rows' ``status`` and ``article_id`` columns."""
        status = list(status)
        self.pairs += status.count("quote")
        self.bad_rows += status.count("bad")
        self.articles += len({a for s, a in zip(status, article_ids, strict=True) if s != "bad"})
        self.parts += 1


@dataclass
class Timings:
    """Seconds spent in each stage of this run (``extra``: a backend's own figures)."""

    read_extract: float = 0.0
    classify: float = 0.0
    write: float = 0.0
    finalize: float = 0.0
    total: float = 0.0
    extra: dict = field(default_factory=dict)


def part_files(output: Path) -> list[Path]:
    """Committed parts, in the order they were written."""
    return sorted((output / PARTS).glob("part-*.parquet"))


def _next_number(output: Path) -> int:
    existing = part_files(output)
    return int(existing[-1].stem.split("-")[1]) + 1 if existing else 0


def _part_path(output: Path, number: int) -> Path:
    return output / PARTS / f"part-{number:05d}.parquet"


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


def write_part(output: Path, rows: list[dict], counts: Counts | None = None) -> Path:
    """Write one part atomically under the next free number; add it to ``counts`` when given."""
    path = _part_path(output, _next_number(output))
    table = to_table(rows)
    with atomic_file(path, "wb") as handle:
        pq.write_table(table, handle)
    if counts is not None:
        counts.add_part(table.column("status").to_pylist(), table.column("article_id").to_pylist())
    return path


def adopt_parts(output: Path, staging: Path, counts: Counts) -> None:
    """Move Parquet files another writer (Ray) left in ``staging`` into ``parts/``, numbered on
    from the parts already there, counting each; then remove ``staging``."""
    number = _next_number(output)
    for path in sorted(staging.glob("*.parquet")):
        table = pq.read_table(path, columns=["status", "article_id"])
        counts.add_part(table.column("status").to_pylist(), table.column("article_id").to_pylist())
        path.rename(_part_path(output, number))
        number += 1
    shutil.rmtree(staging, ignore_errors=True)
