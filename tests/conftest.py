"""Shared fixtures: the embedded geodata, a writable copy of it, and the raw data folder."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from siteopt.paths import DEFAULT_GEODATA_DIR, REPO_DIR

RAW_GEODATA_DIR = REPO_DIR.parent / "shared" / "geodata"


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
