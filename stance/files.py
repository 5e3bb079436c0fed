"""Small file helpers every layer may use: strict UTF-8 lines, one JSON object per line, a file's sha256.

Example:
    >>> parse_json_object('{"text": "hi"}', "in.jsonl:1")
    {'text': 'hi'}
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator
from pathlib import Path

from stance.errors import DataError


def decoded_lines(path: str | Path, handle: Iterable[bytes]) -> Iterator[tuple[int, str]]:
    """(physical line number, text) of a binary file; invalid UTF-8 names the line.

    Raises:
        DataError: ``path:line`` and the byte of the line where the UTF-8 breaks.
    """
    for line_no, raw in enumerate(handle, start=1):
        try:
            yield line_no, raw.decode("utf-8")
        except UnicodeDecodeError as err:
            raise DataError(f"{path}:{line_no}: not valid UTF-8 (byte {err.start} of the line)") from None


def parse_json_object(line: str, where: str, error: type[ValueError] = DataError) -> dict:
    """One JSON object from a line; ``error`` names ``where`` (file:line) when it is not one.

    Raises:
        error: the line is not JSON, or not a JSON object.
    """
    try:
        row = json.loads(line)
    except json.JSONDecodeError as err:
        raise error(f"{where}: not valid JSON ({err.msg})") from None
    except RecursionError:
        raise error(f"{where}: not valid JSON (nested too deep)") from None
    except ValueError as err:
        # Python refuses integers past 4,300 digits (their conversion is quadratic)
        raise error(f"{where}: not valid JSON ({str(err).split(';')[0]})") from None
    if not isinstance(row, dict):
        raise error(f"{where}: expected a JSON object")
    return row


def sha256_file(path: Path, chunk: int = 1 << 20) -> str:
    """Hex sha256 of a file, read in chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while block := handle.read(chunk):
            digest.update(block)
    return digest.hexdigest()
