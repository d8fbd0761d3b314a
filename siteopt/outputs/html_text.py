"""Escaped HTML text and tables, shared by the report's sections (report_html.py and
equality_report.py), so every table of the report is written, and escaped, one way."""

from __future__ import annotations

import html
from collections.abc import Sequence
from typing import Any


def esc(x: Any) -> str:
    """HTML-escaped text (quotes too, so it is safe in attributes)."""
    return html.escape(str(x), quote=True)


def table(header: Sequence[str], rows: Sequence[Sequence[Any]], cls: str = "",
          row_classes: Sequence[str] | None = None) -> str:
    """An escaped HTML table; ``row_classes`` gives a class per row ('' for none)."""
    head = "".join(f"<th scope='col'>{esc(h)}</th>" for h in header)
    body = []
    for i, r in enumerate(rows):
        rc = f" class='{esc(row_classes[i])}'" if row_classes and row_classes[i] else ""
        body.append(f"<tr{rc}>" + "".join(f"<td>{esc(c)}</td>" for c in r) + "</tr>")
    return (f"<table class='{esc(cls)}'><thead><tr>{head}</tr></thead><tbody>"
            + "".join(body) + "</tbody></table>")
