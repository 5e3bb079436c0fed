"""The ``stance`` command line: thin commands that parse arguments and call library functions."""

from __future__ import annotations

import json
import logging
import os
import sys
from enum import Enum
from pathlib import Path

import typer

app = typer.Typer(
    help="quote-stance: who said what in a news article, and where they stand.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
data_app = typer.Typer(help="Fetch public stance data sets.", no_args_is_help=True)
app.add_typer(data_app, name="data")

logger = logging.getLogger("stance")


class Format(str, Enum):
    table = "table"
    json = "json"
    jsonl = "jsonl"


def _setup_logging(verbose: bool = False) -> None:
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )


def _fail(message: str, code: int = 2) -> None:
    typer.secho(f"error: {message}", fg=typer.colors.RED, err=True)
    raise typer.Exit(code)


def _parse_overrides(args: list[str]) -> dict[str, str]:
    overrides: dict[str, str] = {}
    i = 0
    while i < len(args):
        arg = args[i]
        if not arg.startswith("--") or "." not in arg:
            _fail(f"unexpected argument {arg!r}; overrides look like --train.lr 3e-5")
        key = arg[2:]
        if "=" in key:
            key, value = key.split("=", 1)
            i += 1
        elif i + 1 < len(args):
            value = args[i + 1]
            i += 2
        else:
            _fail(f"override {arg} has no value")
        overrides[key] = value
    return overrides


@app.command(
    context_settings={"allow_extra_args": True, "ignore_unknown_options": True},
)
def train(
    ctx: typer.Context,
    config: Path = typer.Argument(..., help="YAML config, e.g. configs/default.yaml"),
    output: Path = typer.Option(Path("models/default"), "--output", "-o", help="model folder"),
    resume: bool = typer.Option(False, help="continue from the last checkpoint"),
    no_eval: bool = typer.Option(False, "--no-eval", help="skip the evaluation sets"),
) -> None:
    """Fine-tune a stance model. Extra options override the config: --train.lr 3e-5."""
    _setup_logging()
    from stance.config import ConfigError, load_config
    from stance.data import DataError
    from stance.settings import DataNotFoundError

    try:
        cfg = load_config(config, _parse_overrides(ctx.args))
        from training.train import train as run_train

        run_train(cfg, output, resume=resume, evaluate_after=not no_eval)
    except (ConfigError, DataError, DataNotFoundError) as err:
        _fail(str(err))
    except KeyboardInterrupt:
        _fail(f"interrupted; {output} is unchanged (resume with --resume)", code=130)
    if os.environ.get("RANK", "0") == "0":
        typer.echo(f"model written to {output}")


@app.command()
def evaluate(
    model: Path = typer.Argument(..., help="model folder"),
    data: list[str] = typer.Argument(..., help="name:split (vast:test_zeroshot_clean) or a path"),
    output: Path = typer.Option(None, "--output", "-o", help="folder for eval_results.json"),
    batch_size: int = typer.Option(64, min=1),
    int8: bool = typer.Option(False, help="evaluate the int8-quantised model"),
    topic_swap: bool = typer.Option(False, help="also measure topic-swap sensitivity"),
) -> None:
    """Score a model on labelled sets; prints a table and writes eval_results.json."""
    _setup_logging()
    from stance.data import DataError, load_examples, parse_spec
    from stance.model import ModelLoadError, StanceClassifier
    from stance.settings import DataNotFoundError
    from training.evaluate import evaluate as run_eval
    from training.evaluate import topic_swap_sensitivity, write_eval_outputs

    try:
        clf = StanceClassifier.from_pretrained(model, quantize="int8" if int8 else None)
        results = run_eval(clf, data, batch_size=batch_size)
        if topic_swap:
            for spec in data:
                name, _ = parse_spec(spec)
                results[name]["topic_swap"] = topic_swap_sensitivity(clf, load_examples(spec))
    except (ModelLoadError, DataError, DataNotFoundError) as err:
        _fail(str(err))
    typer.echo(f"{'data':38} {'n':>6} {'acc':>6} {'macroF1':>8} {'F_avg':>6} {'swap->none':>10}")
    for name, m in results.items():
        swap = m.get("topic_swap", {}).get("share_moved_to_none")
        typer.echo(
            f"{name:38} {m['n']:>6} {m['accuracy']:>6.3f} {m['macro_f1']:>8.3f} {m['f_avg']:>6.3f}"
            + (f" {swap:>10.3f}" if swap is not None else "")
        )
    if output:
        typer.echo(f"wrote {write_eval_outputs(results, output)}")


@app.command()
def predict(
    model: Path = typer.Argument(..., help="model folder"),
    topic: str = typer.Option(None, help="topic for every row (rows may carry their own)"),
    input: Path = typer.Option(None, "--input", "-i", help="JSONL with text[, topic, context]"),
    text: list[str] = typer.Option(None, "--text", help="a text to classify (repeatable)"),
    output: Path = typer.Option(None, "--output", "-o", help="JSONL output (default stdout)"),
    batch_size: int = typer.Option(64, min=1),
    chunk_size: int = typer.Option(2048, min=1, help="rows held in memory at a time"),
    int8: bool = typer.Option(False, help="use the int8-quantised model"),
) -> None:
    """Stream JSONL in and predictions out, in constant memory."""
    _setup_logging()
    from stance.bulk import BulkInputError, predict_stream
    from stance.model import ModelLoadError, StanceClassifier

    if (input is None) == (not text):
        _fail("give exactly one of --input FILE.jsonl or --text ...")
    try:
        clf = StanceClassifier.from_pretrained(model, quantize="int8" if int8 else None)
        if text:
            rows = ({"text": t} for t in text)
            source = "--text"
        else:
            if str(input) != "-" and not input.is_file():
                _fail(f"{input}: no such file")
            handle = sys.stdin if str(input) == "-" else open(input, encoding="utf-8")
            rows = handle
            source = str(input)
        from stance.atomic import atomic_file

        if output:
            with atomic_file(output) as out:
                n = predict_stream(clf, rows, out, topic, batch_size, chunk_size, source)
            typer.echo(f"wrote {n} predictions to {output}", err=True)
        else:
            predict_stream(clf, rows, sys.stdout, topic, batch_size, chunk_size, source)
    except (ModelLoadError, BulkInputError) as err:
        _fail(str(err))


def _read_input(path: str) -> str:
    if path == "-":
        return sys.stdin.read()
    file = Path(path)
    if not file.is_file():
        _fail(f"{path}: no such file")
    try:
        return file.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        _fail(f"{path}: not UTF-8 text")


@app.command()
def quotes(
    files: list[str] = typer.Argument(..., help="article text files; - reads stdin"),
    format: Format = typer.Option(Format.table, "--format", "-f"),
) -> None:
    """Find direct quotations and their speakers in article text."""
    from stance.quotes import extract_quotes

    if format == Format.json and len(files) > 1:
        _fail("--format json takes one file; use --format jsonl for several")
    for path in files:
        found = extract_quotes(_read_input(path))
        records = [q.to_dict() for q in found]
        if format == Format.json:
            typer.echo(json.dumps({"quotes": records}, ensure_ascii=False, indent=2))
        elif format == Format.jsonl:
            typer.echo(json.dumps({"file": path, "quotes": records}, ensure_ascii=False))
        else:
            if len(files) > 1:
                typer.echo(f"== {path}")
            typer.echo(f"{'#':>3} {'speaker':24} {'cue':12} {'kind':6} quote")
            for i, q in enumerate(found):
                speaker = q.speaker or (f"({q.speaker_mention})" if q.speaker_mention else "-")
                text = q.text if len(q.text) <= 70 else q.text[:67] + "..."
                typer.echo(f"{i:>3} {speaker[:24]:24} {(q.cue or '-')[:12]:12} {q.kind:6} {text}")


@app.command("evaluate-quotes")
def evaluate_quotes_cmd(
    path: Path = typer.Argument(None, help="PolNeAR folder (default $STANCE_DATA_DIR/quotes/polnear)"),
    split: str = typer.Option("dev", help="dev, test or train"),
    output: Path = typer.Option(None, "--output", "-o", help="JSON file for the figures"),
) -> None:
    """Score the quote splitter on PolNeAR direct quotes."""
    from stance.atomic import atomic_file
    from stance.settings import DataNotFoundError
    from training.quotes_eval import evaluate_quotes

    if split not in {"train", "dev", "test"}:
        _fail(f"--split {split!r}; expected train, dev or test")
    try:
        result = evaluate_quotes(path, split)
    except (FileNotFoundError, DataNotFoundError) as err:
        _fail(str(err))
    for key, value in result.items():
        typer.echo(f"{key:22} {value:.3f}" if isinstance(value, float) else f"{key:22} {value}")
    if output:
        with atomic_file(output) as handle:
            json.dump(result, handle, indent=2)
        typer.echo(f"wrote {output}")


def main() -> None:
    app()
