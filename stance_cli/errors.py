"""Core errors -> exit codes, once. Commands raise or let through :class:`stance.errors.StanceError`;
:func:`cli_errors` prints ``error: MESSAGE`` and exits with the code below. A file-system error
(a folder where a file should go, a missing permission, a full disk) is ``error: PATH: reason``, 2.

====  =============================================================================
code  meaning
====  =============================================================================
0     done
1     an unexpected error (a bug: the traceback is printed)
2     bad input: arguments, config, data rows, article files, paths that cannot be read or written
      (a label database that is not one, or is newer than this code)
3     something needed is missing or broken: model folder, data folder
4     refused for load or time (budget exceeded, overloaded)
130   interrupted (Ctrl-C); outputs are unchanged
====  =============================================================================
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, NoReturn, TypeVar

import typer

from stance.data.labelstore import LabelStoreError
from stance.errors import (
    BudgetExceededError,
    CapabilityUnavailableError,
    ConfigError,
    DataError,
    DataNotFoundError,
    InputError,
    ModelLoadError,
    OverloadedError,
    StanceError,
    lookup,
)

EXIT_CODES: dict[type[StanceError], int] = {
    InputError: 2,
    ConfigError: 2,
    DataError: 2,
    LabelStoreError: 2,
    DataNotFoundError: 3,
    ModelLoadError: 3,
    CapabilityUnavailableError: 3,
    BudgetExceededError: 4,
    OverloadedError: 4,
    StanceError: 1,
}
"""Core error class -> exit code; the nearest class in the error's MRO wins."""

INTERRUPTED = 130


def exit_code_for(err: StanceError) -> int:
    """The exit code of a core error."""
    return lookup(err, EXIT_CODES, 1)


def fail(message: str, code: int = 2) -> NoReturn:
    """Print ``error: message`` in red on stderr and exit."""
    typer.secho(f"error: {message}", fg=typer.colors.RED, err=True)
    raise typer.Exit(code)


F = TypeVar("F", bound=Callable[..., Any])


def os_error_message(err: OSError) -> str:
    """``PATH: reason`` (``SOURCE -> TARGET: reason`` for a rename), or the error's own words."""
    if err.filename is None or not err.strerror:
        return str(err)
    paths = f"{err.filename} -> {err.filename2}" if err.filename2 is not None else f"{err.filename}"
    return f"{paths}: {err.strerror}"


def cli_errors(command: F) -> F:
    """Turn core errors into ``error: ...`` and their exit code, file-system errors into
    ``error: PATH: reason`` and exit 2; Ctrl-C into exit 130."""

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except StanceError as err:
            fail(str(err), exit_code_for(err))
        except KeyboardInterrupt:
            fail("interrupted; outputs are unchanged", INTERRUPTED)
        except BrokenPipeError:
            raise  # a reader that went away (`| head`): click exits quietly
        except OSError as err:
            if err.filename is None:
                raise  # not about a path the user gave (a socket, say): the unexpected-error path
            fail(os_error_message(err), 2)

    return wrapper  # type: ignore[return-value]
