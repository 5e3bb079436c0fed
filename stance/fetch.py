"""``stance data fetch NAME``: download a public stance set from its upstream address, check
its sha256, and write ``stance/<folder>/normalized/<split>.jsonl`` under the data folder.

Only sets whose upstream files are public and stable are listed; the checksums are those of
the upstream files at the named commit.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import logging
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from stance.atomic import atomic_file
from stance.labels import normalize_label

logger = logging.getLogger(__name__)


class FetchError(RuntimeError):
    """Download failed, or the file does not match its checksum."""


@dataclass(frozen=True)
class RemoteFile:
    split: str
    path: str
    sha256: str


@dataclass(frozen=True)
class Source:
    folder: str
    url: str  # base address; RemoteFile.path is appended
    files: tuple[RemoteFile, ...]
    parse: Callable[[bytes], Iterator[dict]]
    terms: str


def _semeval_rows(raw: bytes) -> Iterator[dict]:
    # the official files are Windows-1252 TSV: ID, Target, Tweet, Stance
    reader = csv.DictReader(io.StringIO(raw.decode("cp1252")), delimiter="\t", quoting=csv.QUOTE_NONE)
    for row in reader:
        yield {
            "text": row["Tweet"],
            "topic": row["Target"],
            "label": normalize_label(row["Stance"]),
        }


SOURCES: dict[str, Source] = {
    "semeval2016": Source(
        folder="semeval2016_task6",
        url="https://raw.githubusercontent.com/lordzuko/Transformer-Stance-Detection/c2889817/data/",
        files=(
            RemoteFile(
                "train",
                "semeval2016-task6-trainingdata.txt",
                "4b88cb474a2e8ba1c2d02e407c36b369a8b7ee8dc8cf03d95f85bcabdf41a8c6",
            ),
            RemoteFile(
                "test",
                "SemEval2016-Task6-subtaskA-testdata-gold.txt",
                "a7a70dfb4ef0976634c36415cd1fa47df0d71175c7a624bccb53a6ecb30dc3f0",
            ),
        ),
        parse=_semeval_rows,
        terms="NRC terms: research use, cite Mohammad et al. (2016), do not redistribute.",
    ),
}


def download(url: str, timeout: float = 60.0) -> bytes:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:  # noqa: S310
            return response.read()
    except (urllib.error.URLError, TimeoutError, OSError) as err:
        raise FetchError(f"could not download {url}: {err}") from None


def fetch(name: str, dest: str | Path, url: str | None = None) -> list[Path]:
    """Download ``name`` into ``dest/stance/<folder>/``; returns the JSONL files written.

    Args:
        name: a key of :data:`SOURCES`.
        dest: the data folder (what ``STANCE_DATA_DIR`` points at).
        url: replace the upstream base address (a mirror, or a local server in tests).

    Raises:
        FetchError: unknown name, download failure or checksum mismatch (nothing is written).
    """
    if name not in SOURCES:
        raise FetchError(f"unknown data set {name!r}; fetchable: {', '.join(SOURCES)}")
    source = SOURCES[name]
    base = (url or source.url).rstrip("/") + "/"
    folder = Path(dest) / "stance" / source.folder / "normalized"
    payloads = []
    for remote in source.files:
        raw = download(base + remote.path)
        digest = hashlib.sha256(raw).hexdigest()
        if digest != remote.sha256:
            raise FetchError(
                f"{base + remote.path}: sha256 {digest} does not match the expected "
                f"{remote.sha256}; nothing written"
            )
        payloads.append((remote, raw))
    written = []
    for remote, raw in payloads:
        target = folder / f"{remote.split}.jsonl"
        with atomic_file(target) as handle:
            for row in source.parse(raw):
                handle.write(json.dumps(row, ensure_ascii=False) + "\n")
        written.append(target)
    logger.info("%s: %s", name, source.terms)
    return written
