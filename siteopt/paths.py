"""Where siteopt finds its embedded data and keeps its cache, from a checkout or installed.

Run from a source checkout (a clone, or an editable install of one), the embedded geodata is the
checkout's top-level ``geodata/`` folder, which ``siteopt geodata build`` rebuilds in place.
Installed from a wheel, the same files ship inside the package as ``siteopt/_geodata`` (see
``[tool.setuptools]`` in pyproject.toml) and are read-only. Nothing is ever written inside the
installed package: drive-time matrices are cached in the user's cache folder and outputs go
under the current folder.
"""

from __future__ import annotations

import os
from importlib.resources import files
from pathlib import Path

import platformdirs

from siteopt.errors import DataError, Problem

PACKAGE_DIR = Path(__file__).resolve().parent
"""The ``siteopt`` package folder (read-only when installed)."""

REPO_DIR = PACKAGE_DIR.parent
"""The folder holding the package: the checkout's root when run from source (else
site-packages, so use :data:`CHECKOUT_DIR` to tell the two apart)."""


def _checkout_dir() -> Path | None:
    """:data:`REPO_DIR` if it is a source checkout of siteopt, else None."""
    if (REPO_DIR / "pyproject.toml").is_file() and (REPO_DIR / "geodata" / "sites.csv").is_file():
        return REPO_DIR
    return None


CHECKOUT_DIR: Path | None = _checkout_dir()
"""The source checkout siteopt runs from, or None when it is installed from a wheel."""

EMBEDDED_PACKAGE = "siteopt._geodata"
"""The package the top-level ``geodata/`` folder is installed as (pyproject.toml)."""


def _embedded_geodata_dir() -> Path:
    """The checkout's ``geodata/`` folder, or the copy installed inside the package."""
    if CHECKOUT_DIR is not None:
        return CHECKOUT_DIR / "geodata"
    # siteopt/_geodata has no __init__.py, so it is reached from its (regular) parent package;
    # a normal install is a real folder, so its text is its path
    return Path(str(files("siteopt").joinpath(EMBEDDED_PACKAGE.rpartition(".")[2])))


DEFAULT_GEODATA_DIR = _embedded_geodata_dir()
"""The embedded LLR geodata: ``geodata/`` of the checkout, or ``siteopt/_geodata`` installed."""

def geodata_label(directory: Path) -> str:
    """The name a manifest gives a geodata folder: ``geodata`` for the embedded data (whether
    it is the checkout's ``geodata/`` or the installed ``siteopt/_geodata``), else the folder's
    own name, so an installed run and a checkout run write the same files."""
    if Path(directory).resolve() == DEFAULT_GEODATA_DIR.resolve():
        return "geodata"
    return Path(directory).name


CACHE_ENV = "SITEOPT_CACHE_DIR"
"""The environment variable that moves the cache (``--cache-dir DIR`` overrides it for one
command)."""

NATIONAL_SPEC = Path("regions") / "england_stroke.toml"
"""The national stroke-unit spec, relative to the current folder or the checkout."""


def cache_dir() -> Path:
    """Where drive-time matrices are cached.

    Returns
    -------
    Path
        ``$SITEOPT_CACHE_DIR`` if set (and not empty), else the user's cache folder for
        siteopt (``~/.cache/siteopt`` on Linux, honouring ``XDG_CACHE_HOME``; platformdirs
        elsewhere). Not created here: the cache creates it on first write.
    """
    override = os.environ.get(CACHE_ENV, "")
    if override:
        return Path(override).expanduser()
    return Path(platformdirs.user_cache_dir("siteopt", appauthor=False))


def default_national_spec() -> Path | None:
    """The default spec of ``siteopt national``: ``regions/england_stroke.toml`` of the current
    folder, else the checkout's, else None (the caller then asks for ``--spec FILE``)."""
    here = Path.cwd() / NATIONAL_SPEC
    if here.is_file():
        return here.resolve()
    if CHECKOUT_DIR is not None and (CHECKOUT_DIR / NATIONAL_SPEC).is_file():
        return CHECKOUT_DIR / NATIONAL_SPEC
    return None


def inside_installed_package(path: Path) -> bool:
    """Whether ``path`` is inside the installed (not checked-out) siteopt package."""
    return CHECKOUT_DIR is None and Path(path).resolve().is_relative_to(PACKAGE_DIR)


def refuse_write_inside_package(path: Path, fix: str) -> None:
    """Raise if ``path`` is inside the installed siteopt package, which is read-only.

    Parameters
    ----------
    path : Path
        A file or folder about to be written.
    fix : str
        What to pass instead, e.g. ``"pass --out DIR"``.

    Raises
    ------
    DataError
        If siteopt is installed from a wheel and ``path`` is inside it.
    """
    if inside_installed_package(path):
        raise DataError([Problem(str(path), "is inside the installed siteopt package, which is "
                                 f"read-only; {fix} to write elsewhere")])
