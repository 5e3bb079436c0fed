"""``stance serve``: the HTTP API under uvicorn (OpenAPI docs at /docs).

The API key is never an argument (arguments are visible in ``ps``): it comes from
``STANCE_API_KEY`` or ``--api-key-file``. It is removed from this process's environment once read,
so the text worker processes never inherit it. The launch itself (uvicorn options, connection
limits, the workers' environment and key file) is :mod:`serving.launch`.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Annotated, Any

import typer
from pydantic import ValidationError

from stance.errors import ConfigError, ModelNotFoundError
from stance.options import Precision
from stance_cli.errors import cli_errors
from stance_cli.io import setup_logging
from stance_cli.options import AllowUnverified

logger = logging.getLogger("stance.serve")

QUICK_CONFIG = "quick.yaml"


def train_first_model(model_path: Path) -> bool:
    """Train the packaged quick config into ``model_path`` when stance data is there.

    Returns:
        True when a model was trained; False when there is no data to train on.
    """
    from stance.config import load_config
    from stance.settings import data_dir

    root = data_dir(required=False)
    if root is None or not (root / "stance").is_dir():
        return False
    typer.echo(
        f"no model at {model_path}: training configs/{QUICK_CONFIG} first (about 6 minutes on "
        "2 cores). `make train` builds the full default model.",
        err=True,
    )
    from training.train import train as run_train

    run_train(load_config(QUICK_CONFIG), model_path)
    return True


@cli_errors
def serve(
    model: Annotated[
        Path | None, typer.Option("--model", "-m", help="model folder (STANCE_MODEL_PATH)")
    ] = None,
    host: Annotated[str | None, typer.Option(help="bind address (STANCE_HOST, default 127.0.0.1)")] = None,
    port: Annotated[int | None, typer.Option(help="port (STANCE_PORT, default 8000)")] = None,
    workers: Annotated[int | None, typer.Option(min=1, help="worker processes (STANCE_WORKERS)")] = None,
    api_key_file: Annotated[
        Path | None, typer.Option(help="file holding the API key (or set STANCE_API_KEY)")
    ] = None,
    int8: Annotated[bool | None, typer.Option("--int8/--no-int8", help="int8-quantised model")] = None,
    precision: Annotated[
        Precision | None, typer.Option(help="fp32, bf16 or auto (STANCE_PRECISION, default auto)")
    ] = None,
    allow_unverified: AllowUnverified = False,
    batching: Annotated[bool | None, typer.Option("--batching/--no-batching", help="micro-batching")] = None,
    max_batch_size: Annotated[int | None, typer.Option(min=1)] = None,
    max_wait_ms: Annotated[float | None, typer.Option(min=0)] = None,
    request_timeout: Annotated[
        float | None, typer.Option(help="seconds of work per request before 503 (STANCE_REQUEST_TIMEOUT_S)")
    ] = None,
    text_workers: Annotated[
        int | None, typer.Option(min=1, help="quote-extraction processes per worker (STANCE_TEXT_WORKERS)")
    ] = None,
    ensure_model: Annotated[
        bool, typer.Option(help="if the model folder is missing and data is there, train configs/quick.yaml")
    ] = False,
) -> None:
    """Serve the HTTP API (OpenAPI docs at /docs). Without a model, quotes are served and stance
    answers 503 with how to get one."""
    setup_logging()
    from serving.launch import run
    from serving.settings import ServiceSettings
    from stance.model.folder import verify_folder

    flags: dict[str, Any] = {
        "model_path": str(model) if model else None,
        "host": host,
        "port": port,
        "workers": workers,
        "api_key_file": api_key_file,
        "int8": int8,
        "precision": precision,
        "allow_unverified": allow_unverified or None,
        "batching": batching,
        "max_batch_size": max_batch_size,
        "max_wait_ms": max_wait_ms,
        "request_timeout_s": request_timeout,
        "text_workers": text_workers,
    }
    try:
        settings = ServiceSettings(**{k: v for k, v in flags.items() if v is not None})
    except ValidationError as err:
        # a bad STANCE_* variable or key file: one line naming it, not pydantic's report
        first = err.errors()[0]
        where = ".".join(str(p) for p in first.get("loc", ())) or "settings"
        raise ConfigError(f"serve: {where}: {first.get('msg')}") from None
    os.environ.pop("STANCE_API_KEY", None)
    model_path = Path(settings.model_path)
    if not model_path.exists() and ensure_model:
        train_first_model(model_path)
    try:
        verify_folder(model_path, settings.allow_unverified)
        what = f"{model_path} (quotes and stance)"
    except ModelNotFoundError:
        # the service's start-up log says what works and how to get a model, in one paragraph
        what = f"quotes only (no stance model at {model_path})"
    typer.echo(
        f"serving {what} on http://{settings.host}:{settings.port} "
        f"(docs at /docs, {settings.workers} worker(s), {settings.text_workers} text process(es) each)",
        err=True,
    )
    run(settings)
