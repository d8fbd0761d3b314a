"""Keep standard output for results: solver libraries print banners from C code."""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator


@contextlib.contextmanager
def solver_chatter_to_stderr() -> Iterator[None]:
    """Send everything written to file descriptor 1 to stderr while the block runs.

    HiGHS prints a banner from its C++ constructor, straight to the process's stdout, whatever
    PuLP's ``msg`` says; that would corrupt ``--format json``. Python-level output is flushed
    first so nothing is reordered.
    """
    sys.stdout.flush()
    try:
        saved = os.dup(1)
    except OSError:  # no real stdout (e.g. under a test runner): nothing to protect
        yield
        return
    try:
        os.dup2(2, 1)
        yield
    finally:
        sys.stdout.flush()
        os.dup2(saved, 1)
        os.close(saved)
