"""Worker-process tasks for the service tests: a text that never finishes, whatever the splitter.

The tests must not depend on the quote splitter being slow on some input (it is being made
linear), so the pathological text here is a marker that makes the worker spin in pure Python,
holding its own interpreter lock, exactly like a backtracking regex would.
"""

from stance.errors import ParserUnavailable
from stance.quotes import extract_quotes

SPIN = "SPIN "


def spin_on_marker(text: str, kinds=None):
    """``extract_quotes``, except that a text starting with ``SPIN`` never returns."""
    if text.startswith(SPIN):
        while True:
            pass
    return extract_quotes(text, kinds=kinds)


def stubborn(text: str, kinds=None):
    """A job that cannot be interrupted (like one stuck in C code): it swallows the interrupt."""
    while True:
        try:
            while True:
                pass
        except BaseException:  # noqa: BLE001, S110 - the point is to ignore the interrupt
            pass


def needs_a_parser(text: str, kinds=None):
    """A job that fails as it does where spaCy is not installed."""
    raise ParserUnavailable("reported speech needs spaCy: pip install 'quote-stance[reported]'")


def broken(text: str, kinds=None):
    """A job with a bug."""
    raise ValueError("a bug in the splitter")


TASKS = {
    "stubborn": "tests.workloads:stubborn",
    "quotes": "tests.workloads:spin_on_marker",
    "quotes_with_context": "stance.analysis:quotes_with_context",
}
