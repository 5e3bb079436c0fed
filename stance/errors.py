"""Every error the library raises on purpose, in one hierarchy.

Each class says what went wrong in its message (file and line, the bad value, what to do). The
command line maps these classes to exit codes once (``stance_cli/errors.py``) and the service maps
them to HTTP statuses once (``serving/errors.py``); a new error picks its place in both by
subclassing the nearest class here.

Example:
    >>> try:
    ...     load_config("nope.yaml")
    ... except StanceError as err:
    ...     print(err)
    config file nope.yaml does not exist
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TypeVar

T = TypeVar("T")


class StanceError(Exception):
    """Base of every error raised on purpose by quote-stance."""


class InputError(StanceError, ValueError):
    """A text, topic or request the caller gave is unusable (empty, wrong type, malformed)."""


class InputTooLargeError(InputError):
    """An input is over a configured size limit (characters, items, topics, bytes)."""


class ConfigError(StanceError, ValueError):
    """A configuration value is missing, unknown or out of range."""


class DataError(StanceError, ValueError):
    """A data file or row is unusable; the message names the file and line."""


class DataNotFoundError(StanceError, FileNotFoundError):
    """No data folder could be found; the message says how to point at one."""


class ModelLoadError(StanceError, RuntimeError):
    """A model folder is incomplete, corrupt, unverified or of another architecture; names the folder."""


class ModelNotFoundError(ModelLoadError):
    """The model folder does not exist (the quote splitter still works without one)."""


class ModelUnverifiedError(ModelLoadError):
    """A trained model folder has no ``checksums.json``; pass ``allow_unverified`` to load it anyway."""


class CapabilityUnavailableError(StanceError):
    """A capability (stance) needs something that is not there (a model); says how to get it."""


class BudgetExceededError(StanceError):
    """Work ran past its time budget and was stopped."""


class OverloadedError(StanceError):
    """Too much work is queued; retry later."""


class CorpusError(InputError):
    """A corpus run that cannot start: bad options, or an output folder that is a file or holds
    another run."""


class CorpusInputError(InputError):
    """A corpus input path or option that cannot be read at all (not a single bad row)."""


class ParserUnavailable(CapabilityUnavailableError):
    """Reported speech needs spaCy and its English pipeline, which are not installed; says what to
    install."""


def lookup(err: BaseException, table: Mapping[type, T], default: T) -> T:
    """The value ``table`` gives the nearest class in ``err``'s MRO, else ``default``.

    The command line's exit codes and the service's HTTP statuses are two tables read this one way,
    so a new error subclass finds its code in both from its nearest listed ancestor.

    Example:
        >>> lookup(InputTooLargeError("too long"), {InputError: 2, StanceError: 1}, 1)
        2
    """
    for cls in type(err).__mro__:
        if cls in table:
            return table[cls]
    return default


MODEL_HOWTO = (
    "Get a model with `make serve` (trains configs/quick.yaml when stance data is present), "
    "`stance train configs/quick.yaml --output models/default` after `stance data fetch NAME`, "
    "or point STANCE_MODEL_PATH at a trained model folder."
)
"""What to tell a user who has no stance model; the CLI and the service say the same."""
