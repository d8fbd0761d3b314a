"""Options shared by several commands."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from siteopt.paths import DEFAULT_GEODATA_DIR

F = TypeVar("F", bound=Callable[..., Any])


def geodata_option(func: F) -> F:
    """``--geodata DIR``: the geodata folder (default: the embedded LLR data)."""
    return click.option(
        "--geodata",
        "geodata_dir",
        type=click.Path(file_okay=False, path_type=Path),
        default=DEFAULT_GEODATA_DIR,
        show_default="embedded LLR data",
        help="Folder of geodata in siteopt's format (see geodata/README.md).",
    )(func)
