"""OS errors on output become one line with the path and the fix, exit 2, no traceback, and the
earlier outputs and the inputs stay byte-identical (issue 15).

Tests may run as root, where ``chmod`` does not stop writes: the read-only case then uses an
immutable folder (``chattr +i``, root only) and the in-process cases raise ``ENOSPC`` / ``EROFS``
from the one writer every run file goes through (:func:`siteopt.fileio.write_bytes_atomically`).
"""

from __future__ import annotations

import errno
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from siteopt import fileio
from siteopt.cli import cli
from siteopt.outdir import RUN_MANIFEST, describe_os_error

SOLVE = ["solve", "--evaluate", "status_quo"]  # 2 s: the fastest command that writes a folder


def tree(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes()
            for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def earlier(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A complete earlier run (solve --evaluate status_quo)."""
    out = tmp_path_factory.mktemp("earlier") / "out"
    res = CliRunner().invoke(cli, [*SOLVE, "--out", str(out)])
    assert res.exit_code == 0, res.output
    return out


def one_error_line(args: list[str]) -> str:
    res = CliRunner().invoke(cli, args)
    lines = [ln for ln in res.output.splitlines() if ln.startswith("error: ")]
    assert res.exit_code == 2, res.output
    assert "Traceback" not in res.output and isinstance(res.exception, SystemExit), res.output
    assert len(lines) == 1, res.output
    return lines[0]


@pytest.mark.parametrize("code, words", [
    (errno.ENOSPC, "No space left on device; the disk is full: free some space"),
    (errno.EROFS, "Read-only file system; the file system is read-only"),
    (errno.EDQUOT, "quota"),
])
def test_a_write_failing_midway_leaves_the_earlier_run(earlier: Path, tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch,
                                                       code: int, words: str) -> None:
    out = tmp_path / "out"
    shutil.copytree(earlier, out)
    before = tree(out)
    real = fileio.write_bytes_atomically
    calls: list[Path] = []

    def failing(path: Path, data: bytes) -> None:
        calls.append(path)
        if len(calls) == 2:  # the second file: the first is already written
            real(path, data[: len(data) // 2])
            raise OSError(code, os.strerror(code), str(path))
        real(path, data)

    monkeypatch.setattr(fileio, "write_bytes_atomically", failing)
    line = one_error_line([*SOLVE, "--out", str(out)])
    assert line.startswith(f"error: {out}/") and words in line, line
    assert f"nothing in {out} was changed" in line
    assert tree(out) == before
    assert [p.name for p in tmp_path.iterdir()] == ["out"]  # no temporary folder, no lock


def test_an_output_under_proc_is_refused_before_any_work() -> None:
    line = one_error_line([*SOLVE, "--out", "/proc/siteopt-out"])
    assert line == ("error: /proc/siteopt-out: is on /proc, a virtual file system (proc) that "
                    "holds no ordinary files; give --out a path on a disk")


def test_a_file_where_a_folder_is_expected(tmp_path: Path) -> None:
    blocker = tmp_path / "report"
    blocker.write_text("a file\n")
    line = one_error_line([*SOLVE, "--out", str(blocker / "out")])
    assert line == (f"error: {blocker}: is a file, not a folder, so --out {blocker / 'out'} "
                    "cannot be made inside it; give --out a path whose parents are folders")
    assert blocker.read_text() == "a file\n"


def test_a_missing_parent_folder_is_created(tmp_path: Path) -> None:
    out = tmp_path / "a" / "b" / "out"
    res = CliRunner().invoke(cli, [*SOLVE, "--out", str(out)])
    assert res.exit_code == 0, res.output
    assert (out / RUN_MANIFEST).is_file()


def chattr_works(path: Path) -> bool:
    if shutil.which("chattr") is None:
        return False
    return subprocess.run(["chattr", "+i", str(path)], capture_output=True).returncode == 0


def test_a_read_only_folder_is_refused_before_any_work(earlier: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    shutil.copytree(earlier, out)
    before = tree(out)
    if os.geteuid() != 0:
        out.chmod(0o555)
        try:
            line = one_error_line([*SOLVE, "--out", str(out)])
        finally:
            out.chmod(0o755)
        assert line == (f"error: {out}: is read-only (no write permission), so --out cannot be "
                        "replaced; make it writable (chmod u+w) or give --out another path")
    else:  # root writes through chmod: an immutable folder is read-only even for root
        if not chattr_works(out):
            pytest.skip("root, and chattr +i does not work on this file system")
        try:
            line = one_error_line([*SOLVE, "--out", str(out)])
        finally:
            subprocess.run(["chattr", "-i", str(out)], check=True)
        assert line == (f"error: {out}: is immutable (chattr +i), so --out cannot be replaced; "
                        "remove the flag (chattr -i) or give --out another path")
    assert tree(out) == before


def test_an_immutable_file_in_the_folder_is_refused(earlier: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    shutil.copytree(earlier, out)
    before = tree(out)
    target = out / "status_quo.json"
    if not chattr_works(target):
        pytest.skip("chattr +i needs root and a file system that supports it")
    try:
        line = one_error_line([*SOLVE, "--out", str(out)])
    finally:
        subprocess.run(["chattr", "-i", str(target)], check=True)
    assert line.startswith(f"error: {target}: is immutable (chattr +i)"), line
    assert tree(out) == before


def test_describe_os_error_names_path_reason_and_fix() -> None:
    err = OSError(errno.EACCES, "Permission denied", "/x/y")
    assert describe_os_error(err, "cannot write --out /x") == (
        "/x/y: cannot write --out /x: Permission denied; no permission: use a folder you can "
        "write to, or change its permissions")
