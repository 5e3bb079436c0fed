"""``stance corpus INPUT... --topic T``: who stands where across many articles."""

from __future__ import annotations

from pathlib import Path

import typer

from stance.errors import StanceError
from stance_cli.errors import cli_errors, fail
from stance_cli.io import setup_logging
from stance_cli.options import MinConfidence


@cli_errors
def corpus(
    inputs: list[Path] = typer.Argument(..., help="folders of .txt files (file name = id), .jsonl or .csv"),
    topic: list[str] = typer.Option(..., "--topic", "-t", help="topic (repeatable)"),
    output: Path = typer.Option(..., "--output", "-o", help="output folder"),
    model: Path = typer.Option(Path("models/default"), "--model", "-m", help="model folder"),
    format: list[str] = typer.Option([], "--format", "-f", help="also write quotes as jsonl or csv"),
    resume: bool = typer.Option(False, help="continue a run into --output, skipping written articles"),
    column: list[str] = typer.Option([], help="input column for a field: text=body, id=doc_id"),
    backend: str = typer.Option("local", help="local, or ray (needs the ray extra of quote-stance)"),
    ray_address: str = typer.Option(None, help="join this Ray cluster (default: start a local Ray)"),
    ray_cpus: int = typer.Option(None, min=1, help="CPUs for a local Ray"),
    ray_actors: int = typer.Option(None, min=1, help="classifier actors (default: per GPU, or CPUs/2)"),
    batch_size: int = typer.Option(64, min=1, help="quote x topic pairs per forward pass"),
    part_size: int = typer.Option(100, min=1, help="articles per written part"),
    # at most 1,000 MB: an article is held in memory whole and none is longer; inf would overflow int()
    max_article_mb: float = typer.Option(
        2.0, min=0.001, max=1000.0, help="longer articles are skipped as bad rows"
    ),
    kind: list[str] = typer.Option(None, "--kind", help="keep only these quote kinds (repeatable)"),
    int8: bool = typer.Option(False, help="use the int8-quantised model"),
    precision: str = typer.Option("fp32", help="fp32, bf16 or auto (bf16 where the CPU has it)"),
    min_confidence: MinConfidence = None,
) -> None:
    """Who stands where across a corpus: quotes, speakers.csv, summary.html and run.json in --output."""
    setup_logging()
    from stance.corpus import parse_columns, run_corpus

    ray_options = {k: v for k, v in {"num_cpus": ray_cpus, "actors": ray_actors}.items() if v}
    try:
        record = run_corpus(
            inputs,
            topic,
            output,
            model,
            backend=backend,
            formats=format,
            resume=resume,
            columns=parse_columns(column),
            batch_size=batch_size,
            part_size=part_size,
            max_article_bytes=int(max_article_mb * 1e6),
            kinds=kind or None,
            ray_address=ray_address,
            ray_options=ray_options,
            precision=precision,
            int8=int8,
            min_confidence=min_confidence,
        )
    except (ImportError, ValueError) as err:
        # core errors (bad options, inputs: 2; a model that does not load: 3) go to cli_errors;
        # these are a missing Ray and the splitter refusing --kind
        if isinstance(err, StanceError):
            raise
        fail(str(err))
    except KeyboardInterrupt:
        fail(f"interrupted; written parts are kept: continue with --resume --output {output}", code=130)
    c = record["corpus"]
    typer.echo(
        f"{output}: {c['articles']} articles, {c['quotes']} quotes, {c['speakers']} speakers, "
        f"{c['bad_rows']} bad rows skipped; open {output / 'summary.html'}"
    )
