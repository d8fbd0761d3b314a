"""A run is one unit (issue 15): SIGKILL or Ctrl-C in the middle of the writes leaves the earlier
complete output set byte-identical; a second run into the same folder is refused while one runs.

The timing is made deterministic with the test hook of :mod:`siteopt.outdir`
(``SITEOPT_TEST_PAUSE``): the run says on stderr when it has paused at the named point, and the
test then signals it. The quick tests use ``solve`` (2 s); the slow ones ``appraise --no-maps``.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from siteopt.outdir import PAUSE_ENV, PAUSE_SECONDS_ENV, RUN_MANIFEST

SOLVE = ["solve", "--evaluate", "status_quo"]
SOLVE_OTHER = ["solve"]  # the optimum: other files (solution.*) than the earlier run's
APPRAISE = ["appraise", "--no-maps", "--next-best", "0"]
WAIT_S = 240.0  # the longest a paused run may take to reach its pause (appraise on 2 busy cores)


def tree(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def run(args: list[str], out: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "siteopt", *args, "--out", str(out)],
                          capture_output=True, text=True, timeout=WAIT_S)


def start_paused(args: list[str], out: Path, point: str) -> subprocess.Popen[str]:
    """Start a run that pauses at ``point``; return once it says it has paused."""
    env = {**os.environ, PAUSE_ENV: point, PAUSE_SECONDS_ENV: "120"}
    proc = subprocess.Popen([sys.executable, "-m", "siteopt", *args, "--out", str(out)],
                            stderr=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env)
    assert proc.stderr is not None
    deadline = time.monotonic() + WAIT_S
    for line in proc.stderr:
        if line.startswith(f"siteopt test hook: paused at {point}"):
            return proc
        if time.monotonic() > deadline:
            break
    proc.kill()
    raise AssertionError(f"the run never paused at {point}: exit {proc.wait()}")


def leftovers(parent: Path) -> list[str]:
    return sorted(p.name for p in parent.iterdir() if ".siteopt-" in p.name)


@pytest.fixture(scope="module")
def earlier(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("earlier") / "out"
    assert run(SOLVE, out).returncode == 0
    return out


def copy_of(earlier: Path, tmp_path: Path) -> tuple[Path, dict[str, bytes]]:
    out = tmp_path / "out"
    subprocess.run(["cp", "-a", str(earlier), str(out)], check=True)
    (out / ".gitkeep").write_text("")  # not a run's: must survive every run
    return out, tree(out)


def test_sigkill_before_the_swap_leaves_the_earlier_set(earlier: Path, tmp_path: Path) -> None:
    out, before = copy_of(earlier, tmp_path)
    proc = start_paused(SOLVE_OTHER, out, "commit")  # every file written, nothing replaced
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert tree(out) == before
    again = run(SOLVE_OTHER, out)  # the next run cleans up what the killed one left
    assert again.returncode == 0, again.stderr
    assert leftovers(tmp_path) == []
    names = sorted(tree(out))
    assert ".gitkeep" in names and "solution.json" in names and "status_quo.json" not in names


def test_ctrl_c_leaves_the_earlier_set_and_no_temporary_folder(earlier: Path,
                                                               tmp_path: Path) -> None:
    out, before = copy_of(earlier, tmp_path)
    proc = start_paused(SOLVE_OTHER, out, "commit")
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=WAIT_S)
    assert proc.returncode != 0 and "Traceback" not in err, err
    assert tree(out) == before and leftovers(tmp_path) == []


def test_a_second_run_into_the_folder_is_refused(earlier: Path, tmp_path: Path) -> None:
    out, before = copy_of(earlier, tmp_path)
    first = start_paused(SOLVE_OTHER, out, "commit")
    try:
        second = run(SOLVE, out)
        lines = second.stderr.strip().splitlines()
        assert second.returncode == 2 and len(lines) == 1, second.stderr
        assert lines[0] == (f"error: {tmp_path / '.out.siteopt-lock'}: another siteopt run "
                            f"(pid {first.pid}) is writing into {out}; wait for it to finish, "
                            "or give --out another path")
        assert tree(out) == before
    finally:
        first.kill()
        first.wait()


def test_sigkill_after_the_swap_gives_the_new_set_and_the_users_folder_back(
        earlier: Path, tmp_path: Path) -> None:
    out, _ = copy_of(earlier, tmp_path)
    (out / "mine").mkdir()
    (out / "mine" / "notes.txt").write_text("user\n")
    proc = start_paused(SOLVE_OTHER, out, "exchanged")
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    doc = json.loads((out / RUN_MANIFEST).read_text())
    assert sorted(doc["files"]) == ["manifest.json", "solution.json",
                                    "solution_assignment.csv", "solution_sites.csv"]
    assert all((out / n).is_file() for n in doc["files"])  # the new set is complete
    assert run(SOLVE_OTHER, out).returncode == 0
    assert (out / "mine" / "notes.txt").read_text() == "user\n" and leftovers(tmp_path) == []


# --------------------------------------------------------------------------- appraise
@pytest.fixture(scope="module")
def appraised(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("appraised") / "out"
    res = run(APPRAISE, out)
    assert res.returncode == 0, res.stderr
    return out


@pytest.mark.slow
def test_appraise_killed_mid_writes_leaves_the_earlier_set(appraised: Path,
                                                           tmp_path: Path) -> None:
    out, before = copy_of(appraised, tmp_path)
    assert len(before) >= 10
    proc = start_paused(APPRAISE, out, "file-3")  # three report files written, six to go
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert tree(out) == before


@pytest.mark.slow
def test_appraise_interrupted_mid_writes_and_a_second_run_refused(appraised: Path,
                                                                  tmp_path: Path) -> None:
    out, before = copy_of(appraised, tmp_path)
    proc = start_paused(APPRAISE, out, "file-5")
    second = run(APPRAISE, out)
    assert second.returncode == 2 and f"(pid {proc.pid}) is writing into {out}" in second.stderr
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=WAIT_S)
    assert proc.returncode != 0 and "Traceback" not in err, err
    assert tree(out) == before and leftovers(tmp_path) == []
