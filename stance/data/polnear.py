"""PolNeAR as ``stance data fetch polnear`` downloads it: every file at a pinned commit, sha256-checked.

PolNeAR (Newell, Margolin & Ruths, LREC 2018) is the attribution corpus the quote splitter is
scored on and the attribution tagger is trained on. Its files (articles and brat annotations,
2,144 of them) are listed with their sha256 and size in ``polnear_files.tsv`` next to this
module; they land in ``<data>/quotes/polnear/`` with the repository's layout minus the leading
``data/``, the folder appearing only once every file matched. The licence is unstated upstream:
research use, never shipped, never in this repository.
"""

from __future__ import annotations

import logging
import shutil
from functools import lru_cache
from importlib import resources
from pathlib import Path

from stance.atomic import atomic_dir
from stance.data.download import download, is_verified
from stance.data.sources import RemoteFile

logger = logging.getLogger(__name__)

NAME = "polnear"
REPOSITORY = "networkdynamics/PolNeAR"
COMMIT = "c3eee833c035bf7b8c84f55b58c0bf7346cfae76"  # 2018-05-24, v1.0.0
MANIFEST = "polnear_files.tsv"
LICENCE = (
    "No licence stated upstream (no LICENSE file; the README is silent); the articles belong to "
    "their publishers. Research use only: never redistribute or ship it."
)
CITATION = "Newell, Margolin & Ruths, An Attribution Relations Corpus for Political News, LREC 2018"


@lru_cache(maxsize=1)
def polnear_files() -> tuple[RemoteFile, ...]:
    """Every upstream file: ``name`` its path under ``quotes/polnear/``, ``path`` under the mirror root."""
    rows = (resources.files("stance.data") / MANIFEST).read_text(encoding="utf-8").splitlines()
    out = []
    for row in rows:
        relative, sha256, size = row.split("\t")
        out.append(RemoteFile(relative, f"{REPOSITORY}/{COMMIT}/data/{relative}", sha256, int(size)))
    return tuple(out)


def licence_notice() -> str:
    """Source, size, citation and terms, shown before fetching (as for the stance sets)."""
    size = sum(f.size for f in polnear_files())
    return (
        f"{NAME}: {CITATION}\n  from {REPOSITORY}@{COMMIT[:8]} ({len(polnear_files())} files, "
        f"{size / 1e6:.1f} MB)\n  terms: {LICENCE}"
    )


def fetch_polnear(dest: str | Path, mirror: str | None = None) -> list[Path]:
    """Download PolNeAR into ``dest/quotes/polnear/``; files already there and verified are kept.

    Raises:
        stance.data.download.Unreachable: upstream or the mirror cannot be reached.
        stance.data.download.FetchError: a download failed or a file's size or sha256 differs (nothing
            is left half-written; an existing complete folder stays as it was).
    """
    folder = Path(dest) / "quotes" / NAME
    files = polnear_files()
    if all(is_verified(folder / f.name, f) for f in files):
        logger.info("%s: all %d files already in %s", NAME, len(files), folder)
        return [folder]
    with atomic_dir(folder) as tmp:
        for n, remote in enumerate(files, 1):
            target = tmp / remote.name
            target.parent.mkdir(parents=True, exist_ok=True)
            if is_verified(folder / remote.name, remote):
                shutil.copyfile(folder / remote.name, target)
                continue
            if n % 200 == 0:
                logger.info("%s: %d of %d files", NAME, n, len(files))
            download(remote, target, mirror)
    logger.info("%s: %d files in %s", NAME, len(files), folder)
    return [folder]
