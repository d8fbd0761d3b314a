"""Writing files safely: atomic writes and deterministic CSV text."""

from __future__ import annotations

import csv
import io
import os
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any


def write_atomically(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` via a temporary file in the same folder, then rename."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
            fh.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
"""Leading characters that make a spreadsheet read a cell as a formula (OWASP CSV injection)."""


def spreadsheet_safe(value: Any) -> Any:
    """``value`` with a leading apostrophe if it is text a spreadsheet would evaluate.

    Text starting with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return is prefixed with
    ``'`` (OWASP CSV-injection guidance), so that Excel, LibreOffice and Google Sheets show it
    as text. Numbers and every other value are returned unchanged (a negative *number* is not
    text and stays a number).
    """
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


def csv_text(header: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """CSV text (``\n`` line ends) of a header and rows; shared by every writer of run files."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return buf.getvalue()
