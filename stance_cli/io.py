"""Logging set-up and reading article text, shared by commands."""

from __future__ import annotations

import logging
import sys
from enum import StrEnum
from pathlib import Path

from stance.errors import InputError


class Format(StrEnum):
    table = "table"
    json = "json"
    jsonl = "jsonl"


def setup_logging(verbose: bool = False) -> None:
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )


def read_input(path: str) -> str:
    """The text of a file, or of stdin for ``-``.

    Raises:
        InputError: no such file, or not UTF-8 (with the byte offset).
    """
    if path == "-":
        # bytes, decoded strictly: Python's own stdin lets bad bytes through as surrogates, which
        # break later (spaCy, JSON output) far from the input
        data = sys.stdin.buffer.read()
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError as err:
            raise InputError(f"{path}: not UTF-8 text (byte {err.start})") from None
    file = Path(path)
    if not file.is_file():
        raise InputError(f"{path}: no such file")
    try:
        return file.read_text(encoding="utf-8")
    except UnicodeDecodeError as err:
        raise InputError(f"{path}: not UTF-8 text (byte {err.start})") from None
