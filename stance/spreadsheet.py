"""Cells that a spreadsheet would run as a formula, made inert before any CSV is written.

A cell whose first visible character is ``=``, ``+``, ``-`` or ``@`` (or their full-width forms,
which spreadsheets fold to ASCII), or that starts with a tab or carriage return, is read by Excel,
LibreOffice and Google Sheets as a formula (CSV injection). OWASP's advice is to prefix such a cell
with ``'``. Every CSV the project writes goes through :func:`formula_safe_frame`; the page's
download applies the same rule in ``serving/static/page.js``.
"""

from __future__ import annotations

import re
from typing import Any

import pandas as pd

# leading whitespace (any, full-width space included), then a formula trigger
_FORMULA = re.compile(r"^\s*[=+\-@\t\r\uFF1D\uFF0B\uFF0D\uFF20]")


def formula_safe(value: Any) -> Any:
    """``value`` with a leading ``'`` when it is a string a spreadsheet would run as a formula.

    Example:
        >>> formula_safe("=HYPERLINK(\\"http://x\\")"), formula_safe("  +1"), formula_safe("Lavrov")
        ('\\'=HYPERLINK("http://x")', "'  +1", 'Lavrov')
    """
    if isinstance(value, str) and (value[:1] in ("\t", "\r") or _FORMULA.match(value)):
        return "'" + value
    return value


def formula_safe_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``frame`` with every text cell passed through :func:`formula_safe` (numbers stay)."""
    safe = frame.copy()
    for column in safe.columns:
        if safe[column].dtype == object or pd.api.types.is_string_dtype(safe[column]):
            safe[column] = safe[column].map(formula_safe, na_action="ignore")
    return safe
