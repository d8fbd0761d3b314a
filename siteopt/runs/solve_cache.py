"""A cache of the appraisal's solves between runs of the same inputs (issue 18).

A second ``siteopt appraise`` of the same scenario (to redraw the report, or with one more user
option) solves the same models again. :class:`SolveCache` keeps each task's result on disk under
a key that is the SHA-256 of everything the result depends on:

- the prepared scenario's inputs (:attr:`siteopt.runs.pipeline.Prepared.inputs_sha256`: every
  geodata file, the resolved scenario with its solver settings, the travel matrix);
- the task (its module and name) and its arguments (the configurations it is given);
- the code: the bytes of every module of the siteopt package and the versions of Python, PuLP,
  HiGHS, numpy and pandas (:func:`code_fingerprint`), so any change of code or solver misses.

A hit is the pickled result of the same task on the same inputs with the same code, so the
outputs are the same byte for byte (the layout digests are checked with the cache cold and
warm). A file that cannot be read is a miss (and is removed); a full disk only loses the entry.
The folder is ``solves/`` under the cache folder of :func:`siteopt.paths.cache_dir`
(``$SITEOPT_CACHE_DIR``, else the user's cache folder), or ``--cache-dir``.
"""

from __future__ import annotations

import functools
import hashlib
import pickle
import platform
from collections.abc import Callable
from importlib import metadata
from pathlib import Path
from typing import Any

import siteopt
from siteopt.fileio import write_bytes_atomically

SUBFOLDER = "solves"
"""The cache's folder under the cache folder."""
LIBRARIES = ("PuLP", "highspy", "numpy", "pandas")
"""Libraries whose version is part of every key."""


@functools.lru_cache(maxsize=1)
def code_fingerprint() -> str:
    """SHA-256 of the siteopt package's source and the versions results depend on."""
    h = hashlib.sha256(platform.python_version().encode())
    for lib in LIBRARIES:
        try:
            h.update(f"{lib}={metadata.version(lib)}".encode())
        except metadata.PackageNotFoundError:
            h.update(f"{lib}=none".encode())
    package = Path(siteopt.__file__).resolve().parent
    for path in sorted(package.rglob("*.py")):
        h.update(str(path.relative_to(package)).encode())
        h.update(path.read_bytes())
    return h.hexdigest()


class SolveCache:
    """Results of tasks ``fn(prepared, *args)`` on disk, by the key of :meth:`key`.

    Parameters
    ----------
    folder : Path
        Where the entries are (created on the first write).
    inputs_sha256 : str
        The prepared scenario's inputs digest.
    """

    def __init__(self, folder: Path, inputs_sha256: str) -> None:
        self.folder = Path(folder)
        self.inputs_sha256 = inputs_sha256
        self.hits = 0
        self.misses = 0

    def key(self, fn: Callable[..., Any], args: tuple[Any, ...]) -> str:
        """SHA-256 of the code, the inputs, the task and its arguments."""
        h = hashlib.sha256(code_fingerprint().encode())
        h.update(self.inputs_sha256.encode())
        h.update(f"{fn.__module__}.{fn.__qualname__}".encode())
        h.update(pickle.dumps(args, protocol=5))
        return h.hexdigest()

    def _path(self, key: str) -> Path:
        return self.folder / f"{key}.pickle"

    def get(self, key: str) -> tuple[bool, Any]:
        """(True, result) on a hit, (False, None) on a miss."""
        path = self._path(key)
        try:
            value = pickle.loads(path.read_bytes())
        except FileNotFoundError:
            self.misses += 1
            return False, None
        except Exception:  # a truncated or foreign file: recompute (and drop it)
            path.unlink(missing_ok=True)
            self.misses += 1
            return False, None
        self.hits += 1
        return True, value

    def put(self, key: str, value: Any) -> None:
        """Keep ``value`` under ``key`` (a failed write only loses the entry)."""
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            write_bytes_atomically(self._path(key), pickle.dumps(value, protocol=5))
        except OSError:
            pass
