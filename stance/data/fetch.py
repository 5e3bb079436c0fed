"""``stance data fetch``: download public stance sets, verify them, write normalised JSONL.

Each set's upstream files (listed with their sha256 in :mod:`stance.data.sources`) are streamed into
``<data>/stance/<folder>/original/`` by :func:`stance.data.download.download`; a file is renamed
into place only once its size and sha256 match, so a wrong file, a short download or a dropped
connection leave nothing behind. The normaliser then writes ``normalized/<split>.jsonl``, the
whole folder at once. ``fetch("polnear", ...)`` hands over to :mod:`stance.data.polnear`.

``STANCE_DATA_MIRROR`` (a base address or a local folder, laid out as ``owner/repo/commit/path``
like raw.githubusercontent.com) replaces the upstream addresses.

Example:
    >>> fetch("gwsd_desmog", "data")  # doctest: +SKIP
    [PosixPath('data/stance/gwsd_desmog/normalized/train.jsonl'), ...]
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable
from pathlib import Path

from stance.atomic import atomic_dir, atomic_file
from stance.config import Config, load_config, read_yaml
from stance.data import polnear
from stance.data.download import (
    FetchError,
    Unreachable,
    copy_verified,
    download,
    is_verified,
    mirror_from_env,
)
from stance.data.sources import SOURCES, PublicSet, fetchable_sets

logger = logging.getLogger(__name__)

# not a stance set: stance.data.polnear fetches it into quotes/polnear/
POLNEAR = polnear.NAME

__all__ = [
    "SOURCES",
    "FetchError",
    "Unreachable",
    "build_mirror",
    "fetch",
    "licence_notice",
    "missing_sets",
    "needed_sets",
    "plan",
]


def _write_jsonl(folder: Path, splits: dict[str, list[dict]]) -> None:
    for split, rows in splits.items():
        with open(folder / f"{split}.jsonl", "w", encoding="utf-8") as handle:
            for row in rows:
                handle.write(json.dumps(row, ensure_ascii=False) + "\n")


def fetch(name: str, dest: str | Path, mirror: str | None = None) -> list[Path]:
    """Fetch set ``name`` into ``dest/stance/<folder>/`` and return the JSONL files written.

    Upstream files already in ``original/`` with the right checksum are not downloaded again.

    Args:
        name: a key of :data:`SOURCES` (``stance data list``).
        dest: the data folder (what ``STANCE_DATA_DIR`` points at).
        mirror: a base address or local folder replacing the upstream addresses
            (default: ``STANCE_DATA_MIRROR``).

    Raises:
        Unreachable: the upstream address or mirror cannot be reached.
        FetchError: unknown name, or a download failed or did not match (nothing partial is kept).
    """
    mirror = mirror or mirror_from_env()
    if name == POLNEAR:  # the attribution corpus: files as they are, no normaliser
        return polnear.fetch_polnear(dest, mirror)
    dataset = _datasets([name])[0]
    folder = Path(dest) / "stance" / dataset.folder
    files = {}
    for remote in dataset.files:
        target = folder / "original" / remote.name
        if not is_verified(target, remote):
            logger.info("%s: downloading %s (%.1f MB)", name, remote.name, remote.size / 1e6)
            download(remote, target, mirror)
        files[remote.name] = target.read_bytes()
    if dataset.normalize is None:  # _datasets gives fetchable sets only, which have one
        raise FetchError(f"{name}: no normaliser")
    splits = dataset.normalize(files)
    with atomic_dir(folder / "normalized") as tmp:
        _write_jsonl(tmp, splits)
    logger.info("%s: %s", name, ", ".join(f"{split} {len(rows)}" for split, rows in splits.items()))
    return [folder / "normalized" / f"{split}.jsonl" for split in splits]


def needed_sets(config: Config) -> dict[str, set[str]]:
    """Named sets a config reads, each with the splits it needs (paths to own files are skipped).

    Raises:
        FetchError: the config names a set that cannot be fetched.
    """
    needed: dict[str, set[str]] = {}
    for source in [*config.data.train, *config.distill.unlabelled]:
        if source.name in SOURCES:
            needed.setdefault(source.name, set()).add(source.split)
    for spec in config.data.eval:
        name, _, split = spec.partition(":")
        if split and name in SOURCES:
            needed.setdefault(name, set()).add(split)
    fetchable = fetchable_sets()
    unfetchable = sorted(set(needed) - set(fetchable))
    if unfetchable:
        raise FetchError(
            f"the config needs {', '.join(unfetchable)}, which `stance data fetch` cannot download; "
            f"fetchable: {', '.join(fetchable)}. Place it under STANCE_DATA_DIR by hand."
        )
    return needed


def missing_sets(needed: dict[str, set[str]], root: Path | None) -> list[str]:
    """Names in ``needed`` with a split file absent under ``root/stance`` (all, if ``root`` is None)."""
    return [
        name
        for name, splits in needed.items()
        if root is None or not all(_split_file(root, name, split).is_file() for split in splits)
    ]


def _split_file(root: Path, name: str, split: str) -> Path:
    return root / "stance" / SOURCES[name].folder / "normalized" / f"{split}.jsonl"


def build_mirror(data_root: str | Path, dest: str | Path, names: Iterable[str] | None = None) -> list[str]:
    """Lay out a mirror folder from a data folder's ``stance/<folder>/original/`` files.

    Each file is checked against its pinned sha256 on the way, so the mirror is faithful. Sets
    whose originals are not all present are skipped. Returns the names of the sets mirrored.

    Raises:
        FetchError: a present original file does not match its checksum.
    """
    mirrored = []
    for dataset in _datasets(names):
        originals = Path(data_root) / "stance" / dataset.folder / "original"
        if not all((originals / f.name).is_file() for f in dataset.files):
            continue
        for remote in dataset.files:
            target = Path(dest) / remote.path
            if not is_verified(target, remote):
                with open(originals / remote.name, "rb") as stream, atomic_file(target, "wb") as out:
                    copy_verified(stream, out, str(originals / remote.name), remote)
        mirrored.append(dataset.name)
    return mirrored


def _datasets(names: Iterable[str] | None) -> list[PublicSet]:
    fetchable = fetchable_sets()
    if names is None:
        return list(fetchable.values())
    unknown = [n for n in names if n not in fetchable]
    if unknown:
        raise FetchError(
            f"unknown data set {', '.join(unknown)}; fetchable: {', '.join([*fetchable, POLNEAR])}"
        )
    return [fetchable[n] for n in names]


def plan(
    names: Iterable[str] = (), config_path: str | Path | None = None, root: Path | None = None
) -> list[str]:
    """Sets to fetch: ``names`` as given, plus those the config at ``config_path`` needs and
    ``root`` lacks (``root``: the data folder training reads; None means nothing is there yet).

    Raises:
        FetchError: nothing asked for, an unknown name, or a config set that cannot be fetched.
        stance.config.ConfigError: the config file is invalid.
    """
    names = list(names)
    if not names and config_path is None:
        raise FetchError(f"name a set ({', '.join(fetchable_sets())}) or a config with --for")
    wanted = [n if n == POLNEAR else _datasets([n])[0].name for n in names]
    if config_path is not None and _trains_attribution(config_path):
        if root is None or not (root / "quotes" / POLNEAR).is_dir():
            wanted.append(POLNEAR)
    elif config_path is not None:
        wanted += missing_sets(needed_sets(load_config(config_path)), root)
    return list(dict.fromkeys(wanted))


def _trains_attribution(config_path: str | Path) -> bool:
    """A ``task: attribution`` config (the tagger's), which reads PolNeAR rather than stance sets.

    Raises:
        stance.config.ConfigError: the file is missing, not UTF-8, not YAML or not a mapping.
    """
    return read_yaml(config_path).get("task") == "attribution"


def licence_notice(name: str) -> str:
    """A few lines naming a set's source, size, citation and licence terms, shown before fetching."""
    if name == POLNEAR:
        return polnear.licence_notice()
    dataset = SOURCES[name]
    return (
        f"{name}: {dataset.citation}\n"
        f"  from {', '.join(dataset.upstreams)} ({dataset.download_bytes / 1e6:.1f} MB)\n"
        f"  terms: {dataset.licence}"
    )
