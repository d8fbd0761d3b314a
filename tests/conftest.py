"""Shared fixtures: the embedded geodata, a writable copy of it, the raw data folder, and a
drive-time cache of the test session's own (not the user's cache folder)."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from siteopt.paths import CACHE_ENV, DEFAULT_GEODATA_DIR, REPO_DIR

RAW_GEODATA_DIR = REPO_DIR.parent / "shared" / "geodata"


@pytest.fixture(scope="session", autouse=True)
def session_cache_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """``$SITEOPT_CACHE_DIR`` for the whole session: tests never touch ``~/.cache/siteopt``."""
    cache = tmp_path_factory.mktemp("siteopt-cache")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv(CACHE_ENV, str(cache))
        yield cache


@pytest.fixture(scope="session")
def raw_dir() -> Path:
    """The raw public data (../shared/geodata beside the repository)."""
    if not (RAW_GEODATA_DIR / "llr").is_dir():
        pytest.skip(f"raw geodata not found at {RAW_GEODATA_DIR}")
    return RAW_GEODATA_DIR


@pytest.fixture()
def geodata_copy(tmp_path: Path) -> Path:
    """A writable copy of the embedded geodata files (not the road graph)."""
    dest = tmp_path / "geodata"
    dest.mkdir()
    for path in DEFAULT_GEODATA_DIR.iterdir():
        if path.is_file():
            shutil.copy2(path, dest / path.name)
    return dest
