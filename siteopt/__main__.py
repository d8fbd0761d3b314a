"""``python -m siteopt``: the same as the ``siteopt`` command."""

from siteopt.cli import main

main()
