"""Fixtures shared by the whole suite.

The tests mirror the packages: ``tests/benchmark`` (the core, its
``information`` estimators and the ``runner``), ``tests/attacks``,
``tests/metrics_baseline`` and ``tests/metrics_pid``.  Every test over 10 s is
marked ``slow``.  The quick loop is ``pytest -n 2 -m "not slow"`` (two pytest-xdist
workers, from the ``test`` extra); CI runs everything.  Tests write only under
``tmp_path``, so they can run in parallel.  The agreement tests read their reference
arrays from ``tests/data`` (see its README).
"""
import os
import sys
from pathlib import Path

import numpy as np
import pytest
from threadpoolctl import threadpool_limits

from benchmark import FactorSpace, ideal
from benchmark.information import limit_threads, usable_cores
from benchmark.runner import main

ROOT = Path(__file__).resolve().parent.parent

# the examples and benchmark scripts are not a package: tests import their generators by path
sys.path.insert(0, str(ROOT / "examples"))
sys.path.insert(0, str(ROOT / "benchmarks"))


_blas_limit = None  # the threadpoolctl limit in force, kept alive so that it stays in force


def pytest_configure(config):
    global _blas_limit
    # pytest -n N: the N workers share the cores, as a sweep's worker processes do; each
    # one running every core's worth of estimator threads would oversubscribe them
    workers = os.environ.get("PYTEST_XDIST_WORKER_COUNT")
    if workers:
        limit_threads(max(1, usable_cores() // int(workers)))
    # BLAS on one thread.  The suite's matrices are small, and BLAS threads that wait on
    # one another cost more than they save.  On two cores shared with other work, the
    # metric tests took 40% less CPU time and 35% less wall time with one thread.  Worker
    # processes set their own share (see benchmark.runner.executors).
    _blas_limit = threadpool_limits(1, user_api="blas")


@pytest.fixture
def run_cli():
    """The command line as a function: ``run_cli("--attack", "noise", ...) -> exit status``.

    Cells run in this process (``--jobs 1``) unless a test asks for workers, so that a
    test's monkeypatches reach them."""
    return lambda *args: main([*args, "--no-progress", *(() if "--jobs" in args else ("--jobs", "1"))])


@pytest.fixture(scope="session")
def root() -> Path:
    """The repository's root directory."""
    return ROOT


@pytest.fixture(scope="session")
def dsprites_ideal():
    """The dSprites ideal representation (noise 0.1)."""
    return ideal(FactorSpace.named("dsprites"))


@pytest.fixture
def rng():
    return np.random.default_rng(0)


def _grid_table(repeats=5, seed=0):
    factors = np.repeat(np.stack(np.meshgrid(np.arange(3), np.arange(4), indexing="ij"),
                                 -1).reshape(-1, 2), repeats, axis=0)
    codes = factors + 0.1 * np.random.default_rng(seed).standard_normal(factors.shape)
    return factors, codes, np.full(codes.shape, 0.01)


@pytest.fixture
def grid_table():
    """``grid_table(repeats=5, seed=0) -> (factors, codes, variances)``: a 3 x 4 factor
    grid, every combination ``repeats`` times, narrow posteriors around the values."""
    return _grid_table
