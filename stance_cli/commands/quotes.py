"""``stance quotes FILE...``: quotations and reported speech with their speakers and rules.

A file over :data:`STREAM_CHARS` is read and answered in blocks of whole paragraphs, so memory
stays flat whatever its size (the splitter holds about fifty times its input); offsets,
paragraph numbers and groups still count from the start of the file. A speaker named in one
block is not carried into the next, which matters only for texts far longer than any article.
"""

from __future__ import annotations

import io
import json
import sys
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import IO

import typer

from stance.errors import InputError
from stance_cli.errors import cli_errors, fail
from stance_cli.io import Format, read_input

# 1 M characters: about ten of the longest long-reads, so every real article is read whole
STREAM_CHARS = 1_000_000


def speaker_label(quote) -> str:
    """The speaker, the unresolved mention in brackets, or a dash."""
    return quote.speaker or (f"({quote.speaker_mention})" if quote.speaker_mention else "-")


def _blocks(handle: IO[str], path: str) -> Iterator[str]:
    """The text in blocks of about ``STREAM_CHARS``, cut after a blank line where there is one."""
    buffer: list[str] = []
    size = 0
    try:
        while line := handle.readline(STREAM_CHARS):
            buffer.append(line)
            size += len(line)
            if (size >= STREAM_CHARS and not line.strip()) or size >= 4 * STREAM_CHARS:
                yield "".join(buffer)
                buffer, size = [], 0
    except UnicodeDecodeError as err:
        raise InputError(f"{path}: not UTF-8 text ({err.reason} after character {size} of a block)") from None
    if buffer:
        yield "".join(buffer)


def quotes_of(path: str, kinds) -> Iterator:
    """Every quote in a file (``-``: stdin), block by block for a large file (see the module).

    Raises:
        InputError: no such file, a folder, or text that is not UTF-8.
    """
    from stance.quotes.pipeline import extract_quotes_auto as extract_quotes

    if path != "-" and Path(path).is_dir():
        raise InputError(f"{path}: a folder, not a text file")
    if path != "-" and Path(path).is_file() and Path(path).stat().st_size <= STREAM_CHARS:
        return iter(extract_quotes(read_input(path), kinds=kinds))
    if path != "-" and not Path(path).is_file():
        raise InputError(f"{path}: no such file")
    # stdin as strict UTF-8 too (Python's own stdin may let bad bytes through as surrogates)
    stdin = io.TextIOWrapper(sys.stdin.buffer, encoding="utf-8") if path == "-" else None
    return _streamed(stdin or open(path, encoding="utf-8"), path, kinds)


def _moved(offset: int | None, by: int) -> int | None:
    return None if offset is None else offset + by


def _streamed(handle: IO[str], path: str, kinds) -> Iterator:
    from stance.quotes import paragraphs
    from stance.quotes.pipeline import extract_quotes_auto as extract_quotes

    chars = paras = groups = 0
    try:
        for block in _blocks(handle, path):
            last_group = -1
            for q in extract_quotes(block, kinds=kinds):
                last_group = max(last_group, q.group)
                yield replace(
                    q,
                    start=q.start + chars,
                    end=q.end + chars,
                    speaker_start=_moved(q.speaker_start, chars),
                    speaker_end=_moved(q.speaker_end, chars),
                    sentence_start=q.sentence_start + chars,
                    sentence_end=q.sentence_end + chars,
                    statement_start=_moved(q.statement_start, chars),
                    statement_end=_moved(q.statement_end, chars),
                    paragraph=q.paragraph + paras,
                    group=q.group + groups,
                )
            chars += len(block)
            paras += len(paragraphs(block))
            groups += last_group + 1
    finally:
        if path == "-" and isinstance(handle, io.TextIOWrapper):
            handle.detach()  # leave stdin itself open
        else:
            handle.close()


def _echo_json(found: Iterator) -> None:
    """``{"quotes": [...]}`` exactly as ``json.dumps(..., indent=2)`` writes it, one quote at a time."""
    first = True
    for q in found:
        record = json.dumps(q.to_dict(), ensure_ascii=False, indent=2).replace("\n", "\n    ")
        typer.echo(('{\n  "quotes": [\n    ' if first else ",\n    ") + record, nl=False)
        first = False
    typer.echo('{\n  "quotes": []\n}' if first else "\n  ]\n}")


def _echo_jsonl(path: str, found: Iterator) -> None:
    """One line ``{"file": ..., "quotes": [...]}`` per file, written one quote at a time."""
    typer.echo(json.dumps({"file": path}, ensure_ascii=False)[:-1] + ', "quotes": [', nl=False)
    for i, q in enumerate(found):
        typer.echo((", " if i else "") + json.dumps(q.to_dict(), ensure_ascii=False), nl=False)
    typer.echo("]}")


@cli_errors
def quotes(
    files: list[str] = typer.Argument(..., help="article text files; - reads stdin"),
    format: Format = typer.Option(Format.table, "--format", "-f"),
    kinds: str = typer.Option("direct,mixed", "--kinds", help="direct, mixed, indirect (comma-separated)"),
    explain: bool = typer.Option(
        False,
        "--explain",
        help="show the rule (or tagger:P) that attributed each quote, and whether a tagger ran",
    ),
) -> None:
    """Find quotations (and, with --kinds indirect, reported speech) and their speakers."""
    from stance.quotes import normalize_kinds

    if format == Format.json and len(files) > 1:
        fail("--format json takes one file; use --format jsonl for several")
    try:
        wanted = normalize_kinds(kinds)
    except ValueError as err:
        fail(f"--kinds: {err}")
    for path in files:
        found = quotes_of(path, wanted)
        if format == Format.json:
            _echo_json(found)
        elif format == Format.jsonl:
            _echo_jsonl(path, found)
        else:
            if len(files) > 1:
                typer.echo(f"== {path}")
            if explain:
                from stance.quotes.tagger import tagger_status

                typer.echo(f"attribution: {tagger_status()}")
            rule_head = f"{'rule':17} " if explain else ""
            typer.echo(f"{'#':>3} {'speaker':24} {'cue':12} {'kind':8} {rule_head}quote")
            for i, q in enumerate(found):
                speaker = speaker_label(q)
                text = q.text if len(q.text) <= 70 else q.text[:67] + "..."
                rule = f"{(q.rule or '-')[:17]:17} " if explain else ""
                typer.echo(f"{i:>3} {speaker[:24]:24} {(q.cue or '-')[:12]:12} {q.kind:8} {rule}{text}")
