"""Writing files safely: atomic writes with the umask's mode, and deterministic CSV text.

A whole run's outputs are made one unit by :mod:`siteopt.outdir`; this module writes one file.
"""

from __future__ import annotations

import csv
import functools
import io
import os
import re
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any


@functools.cache
def umask() -> int:
    """The process's umask (read once; ``/proc/self/status`` where it exists, so no thread ever
    sees a changed umask, else the ``os.umask`` round trip)."""
    try:
        for line in Path("/proc/self/status").read_text(encoding="ascii").splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def file_mode() -> int:
    """The mode a new file gets from ``open()``: ``0o666`` less the umask (normally 0644)."""
    return 0o666 & ~umask()


def write_bytes_atomically(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` via a temporary file in the same folder, then rename.

    The file gets the umask's mode (:func:`file_mode`, normally 0644), not the 0600 of
    :func:`tempfile.mkstemp`, so a team sharing a folder can read it. On any failure the
    temporary file is removed and an existing ``path`` is left as it was.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            os.fchmod(fh.fileno(), file_mode())
            fh.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_atomically(path: Path, text: str) -> None:
    """Write ``text`` (UTF-8, line ends as given) to ``path`` atomically, with the umask's mode
    (see :func:`write_bytes_atomically`)."""
    write_bytes_atomically(path, text.encode("utf-8"))


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


NUMBER_TEXT = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?|[+-]?inf")
"""Text that is a plain number (``-1.5``, ``+3``, ``2e-3``, ``-inf``): a spreadsheet reads it as
that number, never as a formula, so :func:`csv_cell` leaves it as it is."""


def csv_cell(value: Any) -> Any:
    """A CSV cell made safe for spreadsheets: text that a spreadsheet would evaluate as a formula
    gets :func:`spreadsheet_safe`'s apostrophe and a carriage return inside it becomes a line
    feed; numbers, and text that is a plain number (:data:`NUMBER_TEXT`), stay exactly as they
    are."""
    if isinstance(value, str) and not NUMBER_TEXT.fullmatch(value):
        # a carriage return inside a cell becomes a line feed, which the writer quotes (with
        # "\n" line ends the csv module leaves a bare "\r" unquoted, splitting the row)
        return spreadsheet_safe(value).replace("\r\n", "\n").replace("\r", "\n")
    return value


def csv_text(header: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """CSV text (``\n`` line ends) of a header and rows; shared by every writer of run files.

    Every text cell goes through :func:`csv_cell`, so a site named ``=HYPERLINK(...)`` is text
    in any spreadsheet (OWASP CSV injection); numbers are written unchanged.
    """
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow([csv_cell(h) for h in header])
    writer.writerows([csv_cell(v) for v in row] for row in rows)
    return buf.getvalue()
