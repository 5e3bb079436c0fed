"""The output folder's claim: which topics and quote kinds its parts were written for.

``job.json`` is written before the first part, so a run that was killed still says what it was
asked; ``--resume`` with other topics or kinds is refused, since the parts already written would
answer a different question than the parts still to come.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

from stance.atomic import atomic_file
from stance.corpus.parts import part_files
from stance.errors import CorpusError
from stance.quotes import normalize_kinds

CLAIM = "job.json"


def claim_output(output: Path, topics: Sequence[str], kinds: Sequence[str] | None, resume: bool) -> None:
    """Check that ``output`` can hold this run, then record its topics and kinds in ``job.json``.

    Raises:
        CorpusError: ``output`` is a file (or under one); on ``resume``, the folder's earlier run
            had other topics or kinds.
    """
    for folder in (output, *output.parents):
        if folder.exists() and not folder.is_dir():
            raise CorpusError(
                f"--output {output}: {folder} is a file; give a folder (it is created if missing)"
            )
    try:
        wanted = {"topics": list(topics), "kinds": list(normalize_kinds(kinds))}
    except ValueError as err:
        raise CorpusError(f"--kind: {err}") from None
    if not resume and part_files(output):
        return  # an earlier run's folder: prepare_output refuses it without --resume
    path = output / CLAIM
    if resume and path.is_file():
        try:
            earlier = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as err:
            raise CorpusError(f"{path}: unreadable ({err}); cannot tell what the earlier run asked") from None
        for key in ("topics", "kinds"):
            if isinstance(earlier, dict) and earlier.get(key) != wanted[key]:
                raise CorpusError(
                    f"--resume: the run in {output} was for {key} {earlier.get(key)}, this one for "
                    f"{wanted[key]}; resume with the same {key} or choose a new --output folder"
                )
    try:
        output.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise CorpusError(f"--output {output}: {err.strerror}") from None
    with atomic_file(path) as handle:
        json.dump(wanted, handle, indent=2, ensure_ascii=False)
