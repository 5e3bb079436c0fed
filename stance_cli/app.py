"""The ``stance`` Typer app: every command registered here, one line each."""

from __future__ import annotations

import typer

from stance_cli.commands import (
    adapt,
    analyze,
    calibrate,
    corpus,
    data,
    distill,
    encoders,
    evaluate,
    evaluate_quotes,
    labels,
    predict,
    pseudo_label,
    quotes,
    serve,
    soup,
    tagger_ensemble,
    train,
)

app = typer.Typer(
    help="quote-stance: who said what in a news article, and where they stand.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
app.command(context_settings=train.CONTEXT_SETTINGS)(train.train)
app.command(context_settings=train.CONTEXT_SETTINGS)(distill.distill)
app.command()(evaluate.evaluate)
app.command()(calibrate.calibrate)
app.command("pseudo-label")(pseudo_label.pseudo_label)
app.command()(predict.predict)
app.command()(quotes.quotes)
app.command("evaluate-quotes")(evaluate_quotes.evaluate_quotes)
app.command()(soup.soup)
app.command("tagger-ensemble")(tagger_ensemble.tagger_ensemble)
app.command()(analyze.analyze)
app.command()(serve.serve)
app.command()(corpus.corpus)
app.command()(adapt.adapt)
app.add_typer(data.app, name="data")
app.add_typer(encoders.app, name="encoders")
app.add_typer(labels.app, name="labels")


def main() -> None:
    """Entry point of the ``stance`` script."""
    app()
