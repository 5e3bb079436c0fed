"""The ``stance`` command line, a package apart from the core library.

Layout:
    app.py             the Typer app; registers every command (one line each)
    options.py         options shared by commands, defined once (model folder, precision, int8, ...)
    errors.py          core errors -> exit codes, once; ``fail()`` for the command line's own errors
    io.py              logging set-up and reading article text from files or stdin
    commands/NAME.py   one module per command: parse arguments, call a library function, print

A new command: write ``commands/NAME.py`` with one function decorated by ``@cli_errors``, using the
shared options from ``options.py``, and add one ``app.command()(NAME.function)`` line in ``app.py``.
"""

from stance_cli.app import app, main

__all__ = ["app", "main"]
