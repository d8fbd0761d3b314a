"""A run's outputs as one unit: checked before any work, locked, and replaced in one step.

Every command that writes goes through this module (issue 15):

* :func:`check_outside_inputs` refuses an output that is, contains or is inside one of the
  run's inputs (geodata folder, scenario files, options file, travel matrix, national spec and
  its tables, origins/destinations), naming both paths, before any work.
* :class:`RunFolder` is a run into an output folder. Entering it checks the folder (inputs, the
  installed package, a file in the way, a mount point, the current folder, read-only folders,
  immutable or append-only entries, a nested run still writing), takes the folder's lock and
  cleans up what a killed run left, then makes a temporary folder *beside* the output folder.
  The run writes there (:meth:`RunFolder.write`, or any writer given :attr:`RunFolder.staging`).
  :meth:`RunFolder.commit` lists every file with its SHA-256 in ``run_manifest.json`` (with
  the command, its arguments and the time), carries over what is not the earlier run's (a
  committed ``.gitkeep``, the user's own files and folders, a sweep's journal), and swaps the
  temporary folder with the output folder in one ``renameat2(RENAME_EXCHANGE)`` (two renames
  where the system cannot exchange). The earlier run's files (those its manifest lists) go with
  the old folder, so stale files never survive beside new ones; a run that fails or is
  interrupted before the swap leaves the earlier complete set exactly as it was.
* :class:`RunFile` is the same for a command whose output is one file (``travel-times``).

The lock is ``.<name>.siteopt-lock`` beside the output (``flock``: the kernel releases it when
a run dies, so a killed run never blocks the next); temporary folders are
``.<name>.siteopt-{new,swap,old}-<run id>`` beside it, and the next run into the same output
cleans them up under the lock (an old folder's files that are not a run's are moved back first,
so nothing of the user's is ever deleted).

Output files get the umask's mode (:func:`siteopt.fileio.file_mode`, normally 0644); OS errors
become one line naming the path and the fix (:func:`describe_os_error`, :class:`OutputError`).

Test hook: ``SITEOPT_TEST_PAUSE`` (read only by :func:`hook_pause`) set to ``file-N`` makes a
run pause after its N-th file written with :meth:`RunFolder.write`, ``commit`` when every file
is written and nothing is replaced yet, and ``exchanged`` right after the swap; the pause says
so on stderr and lasts ``SITEOPT_TEST_PAUSE_S`` seconds (default :data:`TEST_PAUSE_DEFAULT_S`).
The kill tests use it to interrupt a run at a known point.
"""

from __future__ import annotations

import contextlib
import ctypes
import datetime as dt
import errno
import hashlib
import json
import os
import re
import secrets
import shutil
import signal
import stat
import struct
import sys
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import Any

from siteopt import __version__
from siteopt.errors import DataError, Problem, SiteoptError
from siteopt.fileio import file_mode, umask, write_atomically, write_bytes_atomically
from siteopt.paths import refuse_write_inside_package

try:
    import fcntl
except ImportError:  # pragma: no cover - not POSIX: no locking, no attribute flags
    fcntl = None  # type: ignore[assignment]

RUN_MANIFEST = "run_manifest.json"
"""The file that lists a run's files with their SHA-256: the mark of a complete run."""

LOCK_SUFFIX = ".siteopt-lock"
TEMP_NAME = re.compile(r"\.(?P<target>.+)\.siteopt-(?P<kind>new|swap|old)-(?P<run_id>[0-9a-f-]+)")
"""Temporary folders beside an output: being written (new), ready to swap (swap), or the
earlier folder moved aside where the system cannot exchange two folders (old)."""

PAUSE_ENV = "SITEOPT_TEST_PAUSE"
PAUSE_SECONDS_ENV = "SITEOPT_TEST_PAUSE_S"
TEST_PAUSE_DEFAULT_S = 60.0
"""How long the test hook pauses unless ``SITEOPT_TEST_PAUSE_S`` says otherwise."""

# Linux constants (linux/fs.h, linux/fcntl.h), not assumptions
FS_IOC_GETFLAGS = 0x80086601
FS_IMMUTABLE_FL = 0x00000010
FS_APPEND_FL = 0x00000020
AT_FDCWD = -100
RENAME_EXCHANGE = 2

OS_ERROR_FIXES: dict[int, str] = {
    errno.ENOSPC: "the disk is full: free some space (or write to another disk) and run again",
    errno.EDQUOT: "the disk quota is used up: free some space (or write to another disk) and "
                  "run again",
    errno.EROFS: "the file system is read-only: write to a folder on a writable disk",
    errno.EACCES: "no permission: use a folder you can write to, or change its permissions",
    errno.EPERM: "not permitted (an immutable or append-only file or folder? see lsattr): "
                 "remove the flag (chattr -i / chattr -a) or use another folder",
    errno.ENOENT: "a folder on the way does not exist and cannot be created there: create it, "
                  "or use another path",
    errno.ENOTDIR: "a part of the path is a file, not a folder: use a path whose parents are "
                   "folders",
    errno.EISDIR: "it is a folder: give a file name",
    errno.ENAMETOOLONG: "the name is too long: use a shorter path",
    errno.EXDEV: "the path crosses file systems (a mount point?): use a folder inside it",
    errno.EBUSY: "it is in use or a mount point: use a folder inside it",
    errno.ENOTEMPTY: "the folder is not empty: move its contents or use another folder",
    errno.EMLINK: "too many links or entries in the folder: use another folder",
    errno.ELOOP: "too many symbolic links on the way: use the real path",
    errno.EIO: "the disk reported an input/output error: check the disk, or use another one",
}


class OutputError(SiteoptError):
    """An output cannot be written (refused before any work, or an OS error while writing)."""


def describe_os_error(err: OSError, context: str = "") -> str:
    """One line for an OS error: the path, what went wrong and the fix.

    Parameters
    ----------
    err : OSError
        The error (its ``filename`` is the path, if the system gave one).
    context : str
        Words to put before the reason, e.g. ``"cannot write the run's files"``.
    """
    path = err.filename if err.filename is not None else "(no path)"
    reason = err.strerror or str(err)
    fix = OS_ERROR_FIXES.get(err.errno or 0, "check the path and its permissions")
    return f"{path}: {context + ': ' if context else ''}{reason}; {fix}"


# ---------------------------------------------------------------------------------------------
# Inputs
# ---------------------------------------------------------------------------------------------
def check_outside_inputs(out: Path, inputs: Mapping[str, Path | None], *,
                         option: str = "--out") -> None:
    """Refuse an output that is, contains or is inside one of the run's inputs.

    Parameters
    ----------
    out : Path
        The output folder or file.
    inputs : mapping of str to Path or None
        What each input is called (``"--geodata"``, ``"the scenario file"``) and its path;
        None entries are skipped.
    option : str
        The option that names the output, for the message.

    Raises
    ------
    DataError
        One line per overlap, naming both paths and the fix.
    """
    target = Path(out).resolve()
    overlaps: dict[tuple[str, Path], list[str]] = {}  # (how, input) -> the options naming it
    for label, path in inputs.items():
        if path is None:
            continue
        source = Path(path).resolve()
        if target == source:
            how = "is"
        elif target.is_relative_to(source):
            how = "is inside"
        elif source.is_relative_to(target):
            how = "contains"
        else:
            continue
        overlaps.setdefault((how, source), []).append(label)
    if overlaps:  # one line: the first input in the way, and how many more there are
        (how, source), labels = next(iter(overlaps.items()))
        more = len(overlaps) - 1
        raise DataError([Problem(str(out), f"{option} {how} the input {source} "
                                 f"({', '.join(labels)})"
                                 + (f" and {more} more input{'s' if more > 1 else ''}"
                                    if more else "")
                                 + f": writing there would overwrite inputs; give {option} a "
                                 "path outside every input")])


# ---------------------------------------------------------------------------------------------
# Checks of a folder before any work
# ---------------------------------------------------------------------------------------------
def attribute_flags(path: Path) -> int:
    """The Linux inode flags of ``path`` (immutable, append-only, ...); 0 where unknown."""
    if fcntl is None or not sys.platform.startswith("linux"):
        return 0
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_NOFOLLOW)
    except OSError:
        return 0
    try:
        raw = fcntl.ioctl(fd, FS_IOC_GETFLAGS, bytes(8))
        return int(struct.unpack("i", raw[:4])[0])
    except OSError:
        return 0
    finally:
        os.close(fd)


def refuse_fixed_entries(target: Path, option: str) -> None:
    """Refuse an output that is, or holds at its top level, an immutable or append-only entry
    (``chattr +i`` / ``+a``): it could not be replaced or removed."""
    entries = [target] + (sorted(target.iterdir()) if target.is_dir() else [])
    for entry in entries:
        flags = attribute_flags(entry)
        word = ("immutable" if flags & FS_IMMUTABLE_FL else
                "append-only" if flags & FS_APPEND_FL else None)
        if word is not None:
            letter = "i" if word == "immutable" else "a"
            raise OutputError(f"{entry}: is {word} (chattr +{letter}), so {option} cannot be "
                              f"replaced; remove the flag (chattr -{letter}) or give {option} "
                              "another path")


VIRTUAL_FILE_SYSTEMS = frozenset({"proc", "sysfs", "devtmpfs", "devpts", "cgroup", "cgroup2",
                                  "debugfs", "tracefs", "securityfs", "configfs", "pstore",
                                  "bpf", "efivarfs", "mqueue", "hugetlbfs", "fusectl"})
"""Linux file system types that hold no ordinary files (an output there cannot work)."""


def virtual_mount(path: Path) -> tuple[str, str] | None:
    """(mount point, type) if ``path`` is on a virtual file system such as ``/proc``, else
    None (also where ``/proc/self/mounts`` cannot be read)."""
    try:
        lines = Path("/proc/self/mounts").read_text(encoding="utf-8").splitlines()
    except OSError:
        return None
    best: tuple[str, str] | None = None
    text = str(path)
    for line in lines:
        parts = line.split()
        if len(parts) < 3:
            continue
        point = parts[1].replace("\\040", " ")
        inside = text == point or text.startswith(point.rstrip("/") + "/")
        if inside and (best is None or len(point) > len(best[0])):
            best = (point, parts[2])
    return best if best is not None and best[1] in VIRTUAL_FILE_SYSTEMS else None


def lock_path(target: Path) -> Path:
    """The lock file of an output: ``.<name>.siteopt-lock`` beside it."""
    return target.parent / f".{target.name}{LOCK_SUFFIX}"


def locked_by(path: Path) -> int | None:
    """The pid holding the lock file ``path`` if a live run holds it, else None."""
    if fcntl is None:
        return None
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            text = os.pread(fd, 32, 0).decode("ascii", "replace").strip()
            return int(text) if text.isdigit() else -1
        fcntl.flock(fd, fcntl.LOCK_UN)
        return None
    finally:
        os.close(fd)


class RunLock:
    """The lock of one output: refuses a second run while one is writing there."""

    def __init__(self, target: Path, option: str) -> None:
        self.path = lock_path(target)
        self.target = target
        self.option = option
        self.fd: int | None = None

    def acquire(self) -> None:
        """Take the lock, or raise :class:`OutputError` naming the lock and the running pid."""
        while fcntl is not None:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, file_mode())
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                text = os.pread(fd, 32, 0).decode("ascii", "replace").strip()
                os.close(fd)
                raise OutputError(
                    f"{self.path}: another siteopt run (pid {text or 'unknown'}) is writing "
                    f"into {self.target}; wait for it to finish, or give {self.option} another "
                    "path") from None
            try:  # the file may have been removed by the run that held it: lock the new one
                same = os.path.samestat(os.fstat(fd), os.stat(self.path))
            except FileNotFoundError:
                same = False
            if not same:
                os.close(fd)
                continue
            os.ftruncate(fd, 0)
            os.write(fd, f"{os.getpid()}\n".encode("ascii"))
            self.fd = fd
            return

    def release(self) -> None:
        """Remove the lock file and let the lock go."""
        if self.fd is not None:
            with contextlib.suppress(OSError):
                os.unlink(self.path)
            os.close(self.fd)
            self.fd = None


# ---------------------------------------------------------------------------------------------
# Moving folders
# ---------------------------------------------------------------------------------------------
def exchange(a: Path, b: Path) -> bool:
    """Swap two paths in one step (Linux ``renameat2(RENAME_EXCHANGE)``).

    Returns False (and changes nothing) where the system or file system cannot exchange.
    """
    if not sys.platform.startswith("linux"):
        return False
    func = getattr(ctypes.CDLL(None, use_errno=True), "renameat2", None)
    if func is None:
        return False
    if func(AT_FDCWD, os.fsencode(a), AT_FDCWD, os.fsencode(b), RENAME_EXCHANGE) == 0:
        return True
    code = ctypes.get_errno()
    if code in (errno.EINVAL, errno.ENOSYS, errno.ENOTSUP):
        return False
    raise OSError(code, os.strerror(code), str(b))


@contextlib.contextmanager
def signals_held() -> Iterator[None]:
    """Hold Ctrl-C, SIGTERM and SIGHUP (delivered afterwards) while the block runs."""
    held = {signal.SIGINT, signal.SIGTERM, signal.SIGHUP}
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    old = signal.pthread_sigmask(signal.SIG_BLOCK, held)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, old)


def read_manifest(folder: Path) -> dict[str, Any] | None:
    """The ``run_manifest.json`` of ``folder``, or None if it has none (or an unreadable one)."""
    try:
        doc = json.loads((folder / RUN_MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return doc if isinstance(doc, dict) else None


def run_entries(manifest: Mapping[str, Any] | None) -> set[str]:
    """The top-level names a manifest's run owns (its files, and the manifest itself)."""
    names = {RUN_MANIFEST}
    files = manifest.get("files", {}) if manifest else {}
    if isinstance(files, dict):
        names |= {Path(name).parts[0] for name in files if Path(name).parts}
    return names


def drain(old: Path, target: Path) -> None:
    """Empty ``old`` (an earlier output folder moved aside) and remove it: entries that are not
    its run's and are not in ``target`` are moved back into ``target``; the rest is deleted."""
    owned = run_entries(read_manifest(old))
    for entry in sorted(old.iterdir()):
        dest = target / entry.name
        if entry.name not in owned and not os.path.lexists(dest):
            os.rename(entry, dest)
    shutil.rmtree(old)


def recover(target: Path) -> None:
    """Clean up what a killed run into ``target`` left beside it (call with the lock held).

    An earlier folder moved aside is put back if ``target`` is missing, else drained; a folder
    that was swapped in is drained; a temporary folder never swapped in is removed (it holds
    only a run's files and hard links to files that are still in ``target``).
    """
    order = ("old", "swap", "new")
    leftovers: list[tuple[int, str, Path, str]] = []
    for entry in target.parent.iterdir():
        m = TEMP_NAME.fullmatch(entry.name)
        if m and m["target"] == target.name and entry.is_dir() and not entry.is_symlink():
            leftovers.append((order.index(m["kind"]), m["kind"], entry, m["run_id"]))
    for _, kind, entry, run_id in sorted(leftovers):
        current = read_manifest(target) if target.is_dir() else None
        swapped = current is not None and current.get("run_id") == run_id
        if kind == "old" and not os.path.lexists(target):
            os.rename(entry, target)
        elif kind == "old" or (kind == "swap" and swapped):
            drain(entry, target)
        else:
            shutil.rmtree(entry)


def hook_pause(point: str) -> None:
    """The kill tests' hook: pause at ``point`` if ``SITEOPT_TEST_PAUSE`` names it."""
    if os.environ.get(PAUSE_ENV) != point:
        return
    sys.stderr.write(f"siteopt test hook: paused at {point} (pid {os.getpid()})\n")
    sys.stderr.flush()
    time.sleep(float(os.environ.get(PAUSE_SECONDS_ENV, TEST_PAUSE_DEFAULT_S)))


def sha256_file(path: Path) -> str:
    """SHA-256 of a file's bytes."""
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


# ---------------------------------------------------------------------------------------------
# A run into a folder, a run into one file
# ---------------------------------------------------------------------------------------------
class OutputUnit:
    """What a folder run and a file run share: checks, lock, clean-up, OS errors as one line."""

    kind = "path"

    def __init__(self, out: Path, *, inputs: Mapping[str, Path | None] | None = None,
                 option: str = "--out") -> None:
        self.out = Path(out)
        self.target = self.out.resolve()  # a symbolic link is followed: the link stays
        self.inputs: dict[str, Path | None] = dict(inputs or {})
        self.option = option
        self.run_id = f"{os.getpid()}-{secrets.token_hex(4)}"
        self.staging = self.target.parent / f".{self.target.name}.siteopt-new-{self.run_id}"
        self.temp = self.staging
        """Where the temporary folder is now (it is renamed just before the swap)."""
        self.lock = RunLock(self.target, option)
        self.committed = False

    def add_inputs(self, inputs: Mapping[str, Path | None]) -> None:
        """Check more inputs (known only once loaded, e.g. a scenario's ``extends`` chain)."""
        check_outside_inputs(self.out, inputs, option=self.option)
        self.inputs.update(inputs)

    def check(self) -> None:
        """Everything that can be checked before the lock: inputs, package, what is in the way."""
        check_outside_inputs(self.out, self.inputs, option=self.option)
        refuse_write_inside_package(self.target, f"give {self.option} a path elsewhere")
        if self.target.name in ("", ".", "..") or self.target.parent == self.target:
            raise OutputError(f"{self.out}: {self.option} cannot be a file system's root; give "
                              "a folder inside it")
        virtual = virtual_mount(self.target)
        if virtual is not None:
            raise OutputError(f"{self.out}: is on {virtual[0]}, a virtual file system ("
                              f"{virtual[1]}) that holds no ordinary files; give {self.option} "
                              "a path on a disk")
        above = self.target.parent
        while not os.path.lexists(above) and above.parent != above:
            above = above.parent
        if not above.is_dir():
            raise OutputError(f"{above}: is a file, not a folder, so {self.option} {self.out} "
                              f"cannot be made inside it; give {self.option} a path whose "
                              "parents are folders")

    def __enter__(self) -> OutputUnit:
        self.check()
        try:
            self.target.parent.mkdir(parents=True, exist_ok=True)
            self.lock.acquire()
        except OSError as err:
            raise OutputError(describe_os_error(err, self.cannot)) from err
        try:
            recover(self.target)
            self.check_locked()
            os.mkdir(self.staging)
            os.chmod(self.staging, 0o700)  # private while it is written; opened up at commit
        except BaseException as err:
            self.lock.release()
            if isinstance(err, OSError):
                raise OutputError(describe_os_error(err, self.cannot)) from err
            raise
        return self

    @property
    def cannot(self) -> str:
        """The words before an OS error's reason."""
        return f"cannot write {self.option} {self.out}"

    def check_locked(self) -> None:
        """Checks of the existing output (with the lock held)."""
        refuse_fixed_entries(self.target, self.option)
        if os.path.lexists(self.target) and not os.access(self.target, os.W_OK):
            raise OutputError(f"{self.target}: is read-only (no write permission), so "
                              f"{self.option} cannot be replaced; make it writable (chmod u+w) "
                              f"or give {self.option} another path")

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        try:
            if exc is None and not self.committed:
                self.commit()
        except OSError as err:
            raise OutputError(self.write_error(err)) from err
        finally:
            if not self.committed:
                shutil.rmtree(self.temp, ignore_errors=True)
            self.lock.release()
        if isinstance(exc, OSError):
            raise OutputError(self.write_error(exc)) from exc

    def write_error(self, err: OSError) -> str:
        """An OS error while writing, as one line that says the earlier outputs are intact."""
        name = Path(str(err.filename)) if err.filename is not None else None
        if name is not None and name.is_relative_to(self.staging):
            err.filename = str(self.out / name.relative_to(self.staging))
        line = describe_os_error(err, self.cannot)
        return line + (f"; nothing in {self.out} was changed" if not self.committed else "")

    def commit(self) -> Any:  # pragma: no cover - overridden
        raise NotImplementedError


class RunFolder(OutputUnit):
    """A run into an output folder, made one unit (see the module docstring).

    Parameters
    ----------
    out : Path
        The output folder (created if missing; a symbolic link is followed).
    command : str
        The command, for the manifest (e.g. ``"siteopt appraise"``).
    arguments : mapping, optional
        Its arguments, for the manifest (paths and tuples are written as text and lists).
    inputs : mapping of str to Path or None, optional
        The run's inputs (see :func:`check_outside_inputs`).
    option : str
        The option that names the folder, for messages.
    state_files : sequence of str
        Files the run keeps up to date in the output folder itself while it runs (a sweep's
        ``runs.jsonl`` journal, so an interrupted sweep resumes): carried into the new folder,
        listed in the manifest with their digest, never removed as stale.

    Examples
    --------
    >>> with RunFolder(out, command="siteopt solve", inputs={"--geodata": geodata}) as run:
    ...     run.write("result.json", text)          # or any writer given run.staging
    ...     paths = run.commit()                    # [out/result.json, out/run_manifest.json]
    """

    kind = "folder"

    def __init__(self, out: Path, *, command: str, arguments: Mapping[str, Any] | None = None,
                 inputs: Mapping[str, Path | None] | None = None, option: str = "--out",
                 state_files: Sequence[str] = ()) -> None:
        super().__init__(out, inputs=inputs, option=option)
        self.command = command
        self.arguments = dict(arguments or {})
        self.state_files = tuple(state_files)
        self.n_written = 0

    def __enter__(self) -> RunFolder:
        super().__enter__()
        return self

    def check(self) -> None:
        super().check()
        if self.target == Path.cwd().resolve():
            raise OutputError(f"{self.out}: {self.option} is the current folder, which a run "
                              "replaces as a whole; give a folder of its own (e.g. "
                              f"{self.option} run1), or run from the parent folder")
        if os.path.lexists(self.target) and not self.target.is_dir():
            raise OutputError(f"{self.target}: is a file, not a folder; give {self.option} a "
                              "folder (or move the file)")
        if self.target.is_dir() and os.path.ismount(self.target):
            raise OutputError(f"{self.target}: is a mount point, which a run cannot replace; "
                              f"give {self.option} a folder inside it")

    def check_locked(self) -> None:
        super().check_locked()
        if self.target.is_dir():
            for lock in sorted(self.target.glob(f".*{LOCK_SUFFIX}")):
                pid = locked_by(lock)
                if pid is not None:
                    raise OutputError(f"{lock}: a siteopt run (pid {pid}) is writing inside "
                                      f"{self.target}; wait for it to finish, or give "
                                      f"{self.option} another folder")

    def write(self, name: str, content: str | bytes) -> Path:
        """Write one file of the run (into the temporary folder); returns its path there."""
        path = self.staging / name
        if isinstance(content, bytes):
            write_bytes_atomically(path, content)
        else:
            write_atomically(path, content)
        self.n_written += 1
        hook_pause(f"file-{self.n_written}")
        return path

    def final(self, path: Path | str) -> Path:
        """Where a file written into :attr:`staging` will be once the run is committed."""
        p = Path(path)
        if p.is_absolute() and p.is_relative_to(self.staging):
            return self.out / p.relative_to(self.staging)
        return p if p.is_absolute() else self.out / p

    def seal(self) -> tuple[dict[str, Any], list[str]]:
        """Give the run's files the umask's mode and digest them; (files, names of the output
        folder's entries that are not this run's nor the earlier run's, to carry over)."""
        files: dict[str, Any] = {}
        for path in sorted(p for p in self.staging.rglob("*") if not p.is_symlink()):
            if path.is_dir():
                os.chmod(path, 0o777 & ~umask())
            elif path.is_file():
                os.chmod(path, file_mode())
                rel = path.relative_to(self.staging).as_posix()
                files[rel] = {"sha256": sha256_file(path), "bytes": path.stat().st_size}
        new = {Path(n).parts[0] for n in files} | {RUN_MANIFEST}
        if not self.target.is_dir():
            return files, []
        old = run_entries(read_manifest(self.target)) - set(self.state_files)
        carry = []
        for entry in sorted(self.target.iterdir()):
            if entry.name in new and entry.is_dir() and not entry.is_symlink():
                raise OutputError(f"{entry}: is a folder, but the run writes a file of that "
                                  "name; move the folder and run again")
            if entry.name not in new and entry.name not in old:
                carry.append(entry.name)
        return files, carry

    def commit(self) -> list[Path]:
        """Replace the output folder with the run's in one step; returns the files' paths."""
        if self.committed:
            raise RuntimeError("the run is already committed")
        hook_pause("commit")
        files, carry = self.seal()
        state = {n: sha256_file(self.target / n) for n in self.state_files
                 if (self.target / n).is_file() and n not in files}
        manifest = {
            "siteopt_version": __version__, "run_id": self.run_id, "command": self.command,
            "arguments": self.arguments,
            "written_utc": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            "files": files, "state_files": state, "not_of_this_run": carry,
        }
        write_atomically(self.staging / RUN_MANIFEST,
                         json.dumps(manifest, indent=1, sort_keys=True, default=str) + "\n")
        for name in carry:  # files now (folders and the rest are moved after the swap)
            src = self.target / name
            if src.is_file() and not src.is_symlink():
                try:
                    os.link(src, self.staging / name)
                except OSError:
                    shutil.copy2(src, self.staging / name)
        if self.target.is_dir():
            info = self.target.stat()
            os.chmod(self.staging, stat.S_IMODE(info.st_mode))
            if (info.st_uid, info.st_gid) != (os.getuid(), os.getgid()):
                with contextlib.suppress(OSError):
                    os.chown(self.staging, info.st_uid, info.st_gid)
        else:
            os.chmod(self.staging, 0o777 & ~umask())
        self.swap_in()
        return [self.out / n for n in sorted(files)] + [self.out / RUN_MANIFEST]

    def swap_in(self) -> None:
        """The one step: swap the temporary folder with the output folder, then drain the old."""
        swap = self.target.parent / f".{self.target.name}.siteopt-swap-{self.run_id}"
        os.rename(self.staging, swap)
        self.temp = swap
        with signals_held():
            if not os.path.lexists(self.target):
                os.rename(swap, self.target)
                self.committed = True
                return
            if not exchange(swap, self.target):  # two renames; recover() mends a kill between
                old = self.target.parent / f".{self.target.name}.siteopt-old-{self.run_id}"
                os.rename(self.target, old)
                os.rename(swap, self.target)
                swap = old
            self.committed = True
            hook_pause("exchanged")
            drain(swap, self.target)


class RunFile(OutputUnit):
    """A run whose output is one file: written beside it, then renamed over it in one step.

    Examples
    --------
    >>> with RunFile(out_csv, inputs={"--origins": origins}) as run:
    ...     matrix.to_csv(run.path)
    """

    kind = "file"

    @property
    def path(self) -> Path:
        """Where the run writes the file (inside the temporary folder)."""
        return self.staging / self.target.name

    def check(self) -> None:
        super().check()
        if self.target.is_dir():
            raise OutputError(f"{self.target}: is a folder; give {self.option} a file name")

    def __enter__(self) -> RunFile:
        super().__enter__()
        return self

    def commit(self) -> Path:
        """Rename the written file over the output; returns the output's path."""
        if not self.path.is_file():
            raise OutputError(f"{self.out}: the run wrote no file")
        os.chmod(self.path, file_mode())
        with signals_held():
            os.replace(self.path, self.target)
            self.committed = True
        shutil.rmtree(self.staging, ignore_errors=True)
        return self.out
