"""The cache of the appraisal's solves between runs of the same inputs (issue 18).

A hit must be the result the task would compute; anything the result depends on (the inputs,
the task, its arguments, the code) must change the key; an unreadable entry is a miss.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from siteopt.appraisal.solves import enumeration_task, evaluate_task, optimum_task
from siteopt.paths import DEFAULT_GEODATA_DIR
from siteopt.runs.pipeline import Prepared, prepare
from siteopt.runs.solve_cache import SUBFOLDER, SolveCache, code_fingerprint
from siteopt.runs.workers import PreparedPool


@pytest.fixture(scope="module")
def llr() -> Prepared:
    return prepare(DEFAULT_GEODATA_DIR)


def test_key_depends_on_inputs_task_and_arguments(tmp_path: Path) -> None:
    a = SolveCache(tmp_path, "inputs-a")
    b = SolveCache(tmp_path, "inputs-b")
    k = a.key(evaluate_task, ("x", {"s": "o"}))
    assert k == a.key(evaluate_task, ("x", {"s": "o"}))  # stable
    assert k != b.key(evaluate_task, ("x", {"s": "o"}))  # other inputs
    assert k != a.key(evaluate_task, ("x", {"s": "p"}))  # other configuration
    assert k != a.key(optimum_task, ("x", {"s": "o"}))  # other task
    assert len(k) == 64 and code_fingerprint() == code_fingerprint()


def test_round_trip_and_unreadable_entries(tmp_path: Path) -> None:
    cache = SolveCache(tmp_path / "c", "inputs")
    key = cache.key(evaluate_task, ("x", None))
    assert cache.get(key) == (False, None)
    cache.put(key, {"value": [1.5, 2]})
    assert cache.get(key) == (True, {"value": [1.5, 2]})
    (tmp_path / "c" / f"{key}.pickle").write_bytes(b"not a pickle")
    assert cache.get(key) == (False, None)
    assert not (tmp_path / "c" / f"{key}.pickle").exists()  # dropped
    assert (cache.hits, cache.misses) == (1, 2)


def test_pool_reads_back_what_it_solved(llr: Prepared, tmp_path: Path) -> None:
    def run() -> tuple[Any, Any, int, int]:
        with PreparedPool(llr, 1, cache_dir=tmp_path) as pool:
            sol = pool.submit_cached(evaluate_task, "status_quo", None).result()
            enum = pool.call_cached(enumeration_task)
            assert pool.cache is not None
            return sol, enum, pool.cache.hits, pool.cache.misses

    first, enum1, hits1, misses1 = run()
    second, enum2, hits2, misses2 = run()
    assert (hits1, misses1) == (0, 2) and (hits2, misses2) == (2, 0)
    assert len(list((tmp_path / SUBFOLDER).glob("*.pickle"))) == 2
    assert second.choice == first.choice and second.objective == first.objective
    assert (second.assignment.share == first.assignment.share).all()
    assert enum2.choices == enum1.choices
    assert (enum2.cost_gbp_per_year == enum1.cost_gbp_per_year).all()


def test_failed_tasks_are_not_kept(llr: Prepared, tmp_path: Path) -> None:
    with PreparedPool(llr, 1, cache_dir=tmp_path) as pool:
        bad = pool.submit_cached(evaluate_task, "no_such_option", None)
        with pytest.raises(Exception, match="no configuration"):
            bad.result()
    assert not list((tmp_path / SUBFOLDER).glob("*.pickle"))


def test_no_cache_without_a_folder(llr: Prepared) -> None:
    with PreparedPool(llr, 1) as pool:
        assert pool.cache is None
        assert pool.submit_cached(evaluate_task, "status_quo", None).result().choice
