"""Worker-process tasks for the service tests: a text that never finishes, whatever the splitter.

The tests must not depend on the quote splitter being slow on some input (it is being made
linear), so the pathological text here is a marker that makes the worker spin in pure Python,
holding its own interpreter lock, exactly like a backtracking regex would.
"""

from stance.quotes import extract_quotes

SPIN = "SPIN "


def spin_on_marker(text: str, kinds=None):
    """``extract_quotes``, except that a text starting with ``SPIN`` never returns."""
    if text.startswith(SPIN):
        while True:
            pass
    return extract_quotes(text, kinds=kinds)


TASKS = {
    "quotes": "tests.workloads:spin_on_marker",
    "quotes_with_context": "stance.analysis:quotes_with_context",
}
