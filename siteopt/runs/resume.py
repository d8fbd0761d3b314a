"""What a sweep's earlier runs were made from, so a rerun resumes only on the same inputs.

A sweep journal (``runs.jsonl``) starts with one ``{"phase": "inputs", ...}`` line: the record
of every input the runs depend on, by **content**, never by path:

- ``siteopt_version``: :data:`siteopt.__version__` (the code);
- ``spec``: the parsed sweep spec (every field but the base scenario's path);
- ``geodata``: SHA-256 of each file of the geodata folder (the files
  :func:`siteopt.runs.pipeline.inputs_hash` reads: the folder's own files, by name);
- ``travel``: the precomputed matrix file's SHA-256, or, for drive times on the road graph,
  the SHA-256 of the graph, ``parameters.csv`` and ``urban_areas.csv`` (what
  :func:`siteopt.travel.matrix.cache_key` keys the matrix cache by) and the matrix code's
  :data:`siteopt.travel.matrix.CACHE_VERSION`; the zones and sites it joins are geodata;
- ``scenario``: the base scenario and every file of its ``extends`` chain, root first
  (name and SHA-256).

:func:`open_journal` compares the record of a journal with the current inputs: a change
refuses to resume with one line naming what changed and the fix (``--restart`` or a new
``--out``); ``restart=True`` discards the earlier runs and starts a new journal.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import siteopt
from siteopt.errors import DataError, Problem
from siteopt.fileio import write_atomically
from siteopt.travel.matrix import CACHE_VERSION, DEFAULT_GRAPH_NAME

INPUTS_PHASE = "inputs"
"""The ``phase`` of a journal's first line, the record of its inputs."""
ROAD_GRAPH_FILES = (DEFAULT_GRAPH_NAME, "parameters.csv", "urban_areas.csv")
"""The files of ``roads/`` a road-graph travel matrix is computed from."""
FIX = "use --restart to start afresh or a new --out"


def file_sha256(path: Path) -> str:
    """SHA-256 of a file's bytes (``"missing"`` if there is no such file)."""
    if not path.is_file():
        return "missing"
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def geodata_record(geodata_dir: Path) -> dict[str, str]:
    """File name -> SHA-256 of every file in the geodata folder itself (not ``roads/``)."""
    return {path.name: file_sha256(path) for path in sorted(Path(geodata_dir).glob("*"))
            if path.is_file()}


def travel_record(geodata_dir: Path, travel_csv: Path | None) -> dict[str, Any]:
    """What the travel matrix came from: a file's content, or the road graph's files."""
    if travel_csv is not None:
        return {"source": "file", "name": Path(travel_csv).name,
                "sha256": file_sha256(Path(travel_csv))}
    roads = Path(geodata_dir) / "roads"
    return {"source": "road graph", "code": CACHE_VERSION,
            "files": {f"roads/{name}": file_sha256(roads / name) for name in ROAD_GRAPH_FILES}}


def scenario_record(files: Sequence[str]) -> list[dict[str, str]]:
    """Name and SHA-256 of the base scenario's files, root of the ``extends`` chain first
    (:attr:`siteopt.runs.scenario.Scenario.files`)."""
    return [{"name": Path(f).name, "sha256": file_sha256(Path(f))} for f in files]


def inputs_record(*, spec: Mapping[str, Any], geodata_dir: Path, travel_csv: Path | None,
                  scenario_files: Sequence[str]) -> dict[str, Any]:
    """The record of every input of a sweep (see the module docstring).

    Parameters
    ----------
    spec : mapping
        The parsed sweep spec as plain data, without the base scenario's path.
    geodata_dir : Path
    travel_csv : Path, optional
        The precomputed matrix, or None for drive times on the road graph.
    scenario_files : sequence of str
        The base scenario's files, root first (empty for no base scenario).
    """
    return {"siteopt_version": siteopt.__version__,
            "spec": json.loads(json.dumps(spec, sort_keys=True, default=str)),
            "geodata": geodata_record(geodata_dir),
            "travel": travel_record(geodata_dir, travel_csv),
            "scenario": scenario_record(scenario_files)}


def fingerprint(record: Mapping[str, Any]) -> str:
    """SHA-256 of a record's content (file names of the matrix and scenarios left out, so a
    renamed or moved copy of the same inputs has the same fingerprint)."""
    travel = dict(record["travel"])
    travel.pop("name", None)
    content = {**record, "travel": travel,
               "scenario": [s["sha256"] for s in record["scenario"]]}
    return hashlib.sha256(json.dumps(content, sort_keys=True).encode()).hexdigest()


# ---------------------------------------------------------------------------------------------
# What changed
# ---------------------------------------------------------------------------------------------
def changes(old: Mapping[str, Any], new: Mapping[str, Any]) -> list[str]:
    """What differs between the record of the earlier runs and the current inputs, in words."""
    out = []
    if old.get("siteopt_version") != new["siteopt_version"]:
        out.append(f"siteopt's version changed (now {new['siteopt_version']}, was "
                   f"{old.get('siteopt_version')})")
    old_spec, new_spec = old.get("spec") or {}, new["spec"]
    fields = sorted(k for k in set(old_spec) | set(new_spec) if old_spec.get(k) != new_spec.get(k))
    if fields:
        out.append(f"the sweep spec changed ({', '.join(fields)})")
    out += _geodata_changes(old.get("geodata") or {}, new["geodata"])
    out += _travel_changes(old.get("travel") or {}, new["travel"])
    out += _scenario_changes(old.get("scenario") or [], new["scenario"])
    return out


def _geodata_changes(old: Mapping[str, str], new: Mapping[str, str]) -> list[str]:
    out = []
    for name in sorted(set(old) | set(new)):
        if name not in old:
            out.append(f"geodata file {name} was added")
        elif name not in new:
            out.append(f"geodata file {name} was removed")
        elif old[name] != new[name]:
            out.append(f"geodata file {name} changed")
    return out


def _travel_changes(old: Mapping[str, Any], new: Mapping[str, Any]) -> list[str]:
    def said(rec: Mapping[str, Any]) -> str:
        return f"the file {rec.get('name')}" if rec.get("source") == "file" else "the road graph"

    if old.get("source") != new["source"]:
        return [f"the travel matrix changed (now {said(new)}, was {said(old)})"]
    if new["source"] == "file":
        if old.get("sha256") == new["sha256"]:
            return []
        was = "" if old.get("name") == new["name"] else f", was {old.get('name')}"
        return [f"the travel matrix file {new['name']} changed (other times{was})"]
    if old.get("code") != new["code"]:
        return [f"the road-graph matrix code changed (now {new['code']}, was {old.get('code')})"]
    old_files = old.get("files") or {}
    return [f"the road graph's {name} changed" for name, sha in new["files"].items()
            if old_files.get(name) != sha]


def _scenario_changes(old: Sequence[Mapping[str, str]],
                      new: Sequence[Mapping[str, str]]) -> list[str]:
    def chain(rec: Sequence[Mapping[str, str]]) -> str:
        return " < ".join(s["name"] for s in reversed(rec)) or "none"

    if [s["sha256"] for s in old] == [s["sha256"] for s in new]:
        return []
    if len(old) != len(new):
        return [f"the base scenario changed (now {chain(new)}, was {chain(old)}; "
                "'<' reads 'extends')"]
    base = new[-1]["name"]
    out = []
    for k, (was, now) in enumerate(zip(old, new, strict=True)):
        if was["sha256"] == now["sha256"]:
            continue
        if k == len(new) - 1:
            out.append(f"the base scenario {base} changed")
        else:
            out.append(f"the scenario {now['name']} that {base} extends changed")
    return out


# ---------------------------------------------------------------------------------------------
# The journal
# ---------------------------------------------------------------------------------------------
def recorded_inputs(journal: Path) -> tuple[dict[str, Any] | None, bool]:
    """The inputs record of a journal, and whether the journal holds any runs."""
    record: dict[str, Any] | None = None
    has_runs = False
    for line in journal.read_text(encoding="utf-8").splitlines():
        try:
            rec = json.loads(line)
        except json.JSONDecodeError:
            continue  # a line cut short by an interruption
        if not isinstance(rec, dict):
            continue
        if rec.get("phase") == INPUTS_PHASE and record is None \
                and isinstance(rec.get("inputs"), dict):
            record = rec["inputs"]
        elif rec.get("phase") != INPUTS_PHASE:
            has_runs = True
    return record, has_runs


def open_journal(journal: Path, record: Mapping[str, Any], *, restart: bool = False) -> None:
    """Check that ``journal``'s earlier runs were made from the inputs of ``record``, or start
    a new journal.

    Parameters
    ----------
    journal : Path
        ``runs.jsonl`` of a sweep's output folder.
    record : mapping
        :func:`inputs_record` of the current inputs.
    restart : bool
        Discard any earlier runs in the journal and start afresh.

    Raises
    ------
    DataError
        One line naming every input that changed since the earlier runs (or saying the journal
        has no record of its inputs) and the fix; nothing is written.
    """
    if journal.is_file() and not restart:
        old, has_runs = recorded_inputs(journal)
        if old is not None:
            found = changes(old, record)
            if not found:
                return
            raise DataError([Problem(str(journal), f"cannot resume the earlier runs: "
                                                   f"{'; '.join(found)}; {FIX}")])
        if has_runs:
            raise DataError([Problem(str(journal), "cannot resume the earlier runs: the journal "
                                                   "has no record of their inputs (an older "
                                                   f"siteopt wrote it); {FIX}")])
    header = {"phase": INPUTS_PHASE, "inputs": dict(record)}
    write_atomically(journal, json.dumps(header, sort_keys=True) + "\n")
