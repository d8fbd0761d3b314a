"""The appraisal's solves on worker processes give exactly the serial answer (issue 18).

- :class:`siteopt.runs.workers.PreparedPool` runs ``fn(prepared, *args)`` in spawned workers
  and here, with the same results, and delivers a task's error from its future;
- the chain of the optimum and the next best read ahead from the enumeration
  (:class:`siteopt.appraisal.solves.ChainFutures`) equals the one-after-another chain of
  :func:`siteopt.appraisal.longlist.next_best`, also when the prediction is wrong;
- a whole LLR appraisal on two processes equals the serial one, figure for figure.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import pytest

from siteopt.appraisal.enumeration import enumerate_space
from siteopt.appraisal.longlist import next_best
from siteopt.appraisal.measures import ward_signature
from siteopt.appraisal.solves import ChainFutures, evaluate_task, optimum_task, predicted_chain
from siteopt.errors import DataError
from siteopt.paths import DEFAULT_GEODATA_DIR
from siteopt.runs.pipeline import Prepared, evaluate_configuration, prepare
from siteopt.runs.workers import PreparedPool, default_workers


@pytest.fixture(scope="module")
def llr() -> Prepared:
    return prepare(DEFAULT_GEODATA_DIR)


def same_solution(a: Any, b: Any) -> bool:
    """Bit for bit: the configuration, the assignment and the solver's figures."""
    return (a.choice == b.choice and a.status == b.status and a.gap == b.gap
            and a.objective == b.objective and a.violations == b.violations
            and all((getattr(a.assignment, f) == getattr(b.assignment, f)).all()
                    for f in ("zone_idx", "site_idx", "service_idx", "share")))


def test_default_workers_is_one_or_two() -> None:
    assert 1 <= default_workers() <= 2


def test_serial_pool_runs_each_task_when_submitted(llr: Prepared) -> None:
    with PreparedPool(llr, 1) as pool:
        assert not pool.parallel
        future = pool.submit(evaluate_task, "status_quo", None)
        assert future.done()
        bad = pool.submit(evaluate_task, "no_such_option", None)
        assert bad.done()
        with pytest.raises(DataError, match="no configuration 'no_such_option'"):
            bad.result()
    assert same_solution(future.result(), evaluate_configuration(llr, "status_quo"))


def test_unbound_pool_refuses_tasks() -> None:
    with PreparedPool(workers=1) as pool, pytest.raises(RuntimeError, match="bind"):
        pool.submit(evaluate_task, "status_quo", None)


@pytest.mark.slow  # spawns two worker processes
def test_workers_give_the_serial_results(llr: Prepared) -> None:
    stp = dict(llr.catalogue.configurations["stp_2016"])
    with PreparedPool(workers=2, warm_modules=("siteopt.appraisal.solves",)) as pool:
        pool.bind(llr)
        assert pool.parallel
        futures = [pool.submit(evaluate_task, "status_quo", None),
                   pool.submit(evaluate_task, "mine", stp),
                   pool.submit(optimum_task, ())]
        bad = pool.submit(evaluate_task, "no_such_option", None)
        got = [f.result() for f in futures]
        # the error raised in a worker reaches the caller as the same error
        with pytest.raises(DataError, match="no configuration 'no_such_option'"):
            bad.result()
    with PreparedPool(llr, 1) as serial:
        want = [serial.submit(evaluate_task, "status_quo", None).result(),
                serial.submit(evaluate_task, "mine", stp).result(),
                serial.submit(optimum_task, ()).result()]
    for g, w in zip(got, want, strict=True):
        assert same_solution(g, w)


@pytest.mark.slow  # about ten MILP solves
def test_chain_read_ahead_equals_the_serial_chain_even_when_mispredicted(llr: Prepared) -> None:
    n = 3
    enum = enumerate_space(llr.instance, llr.scenario.model)
    chain = predicted_chain(llr, enum, n)
    with PreparedPool(llr, 1) as pool:
        best = pool.submit(optimum_task, ()).result()
        assert best is not None
        serial = [best, *next_best(llr, best, n, llr.scenario.solver)]
        ahead = ChainFutures.start(pool, llr, n, chain).result()
        # a wrong prediction at the second link: the links after it are solved again
        wrong = [chain[0], chain[2], chain[1], *chain[3:]]
        assert ward_signature(llr.instance, wrong[1]) != ward_signature(llr.instance, chain[1])
        recovered = ChainFutures.start(pool, llr, n, wrong).result()
        unpredicted = ChainFutures.start(pool, llr, n, None).result()
    # the enumeration predicts the LLR chain's ward signatures (the cuts depend on nothing
    # else; among configurations of one signature and equal cost it may name another)
    assert ([ward_signature(llr.instance, s.choice) for s in serial]
            == [ward_signature(llr.instance, c) for c in chain])
    for found in (ahead, recovered, unpredicted):
        assert len(found) == len(serial) == n + 1
        assert all(same_solution(a, b) for a, b in zip(found, serial, strict=True))


def test_prediction_stops_where_the_space_runs_out(llr: Prepared) -> None:
    enum = enumerate_space(llr.instance, llr.scenario.model)
    signatures = {ward_signature(llr.instance, c) for c in enum.choices}
    chain = predicted_chain(llr, enum, len(signatures) + 5)
    assert len(chain) == len(signatures)  # one per distinct ward signature, then no more
    assert len({ward_signature(llr.instance, c) for c in chain}) == len(chain)


@pytest.mark.slow  # two whole appraisals
def test_parallel_appraisal_equals_the_serial_one(llr: Prepared, tmp_path: Path) -> None:
    from siteopt.appraisal.appraise import appraise
    from siteopt.appraisal.settings import AppraisalSettings
    from siteopt.outputs.report import render

    settings = AppraisalSettings.from_assumptions(llr.data.assumptions.values, {})
    serial = appraise(llr, settings)
    with PreparedPool(workers=2) as pool:
        pool.bind(llr)
        parallel = appraise(llr, settings, pool=pool)

    def untimed(obj: Any) -> Any:
        # timings (keys "seconds", "*_s") are the only figures allowed to differ
        if isinstance(obj, dict):
            return {k: untimed(v) for k, v in obj.items()
                    if k != "seconds" and not k.endswith("_s")}
        return [untimed(v) for v in obj] if isinstance(obj, list) else obj

    def document(a: Any) -> dict[str, Any]:
        files = render(dataclasses.replace(a, timings_s={}))
        return {"json": untimed(json.loads(files["appraisal.json"])),
                **{k: v for k, v in files.items() if k.endswith(".csv") or k == "explorer.html"}}

    assert document(parallel) == document(serial)
