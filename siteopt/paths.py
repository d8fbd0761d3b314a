"""Where siteopt finds its embedded data."""

from __future__ import annotations

from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
REPO_DIR = PACKAGE_DIR.parent
DEFAULT_GEODATA_DIR = REPO_DIR / "geodata"
"""The embedded LLR geodata, shipped in the repository beside the package."""
