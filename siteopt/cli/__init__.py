"""The ``siteopt`` command line: a thin click layer over the library.

Each command lives in its own module of this package and is registered in :data:`COMMANDS`.
Library errors (:class:`siteopt.errors.SiteoptError`) become one line per problem on stderr and
exit code 2, never a traceback; so does any OS error (a missing or unreadable file, a full disk,
a read-only folder), as one line naming the path and the fix
(:func:`siteopt.outdir.describe_os_error`).
"""

from __future__ import annotations

import importlib
import sys
from typing import Any

import click

from siteopt import __version__
from siteopt.errors import SiteoptError
from siteopt.outdir import describe_os_error

# (module under siteopt.cli, attribute): one entry per top-level command or group.
COMMANDS: list[tuple[str, str]] = [
    ("validate", "validate"),
    ("geodata", "geodata"),
    ("solve", "solve"),
    ("map", "map_command"),
    ("whatif", "whatif"),
    ("whatif", "sweep"),
    ("travel", "travel_times"),
    ("travel", "travel_check"),
    ("appraise", "appraise"),
    ("national", "national"),
    ("phase", "phase"),
]


class SiteoptGroup(click.Group):
    """A click group that reports :class:`SiteoptError` and :class:`OSError` as clean one-line
    messages with exit code 2."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except SiteoptError as err:
            for line in err.lines():
                click.echo(f"error: {line}", err=True)
            ctx.exit(err.exit_code)
        except OSError as err:
            click.echo(f"error: {describe_os_error(err)}", err=True)
            ctx.exit(SiteoptError.exit_code)


@click.group(cls=SiteoptGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="siteopt")
def cli() -> None:
    """Decide which community hospitals keep inpatient wards, and at what size.

    Runs on the embedded Leicester, Leicestershire and Rutland (LLR) data by default; every
    command takes --geodata DIR for another region's data in the same format.
    """


for _module, _attr in COMMANDS:
    cli.add_command(getattr(importlib.import_module(f"siteopt.cli.{_module}"), _attr))


def main() -> None:
    """Console-script entry point."""
    sys.exit(cli.main(standalone_mode=True))
