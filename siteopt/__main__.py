"""``python -m siteopt``: the same as the ``siteopt`` command."""

from siteopt.cli import main

if __name__ == "__main__":  # not again in the worker processes that spawn re-imports it in
    main()
