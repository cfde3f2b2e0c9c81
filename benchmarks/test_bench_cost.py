"""Cost growth of a few metrics (pytest-benchmark): points of ``cost_growth.py``'s axes.

Run ``pytest benchmarks/test_bench_cost.py`` (well under 2 minutes; one round per case).
As in ``cost_growth.py``, every case runs on one thread (``limit_threads(1)``, as a sweep's
worker processes do) on dSprites' ideal representation with ``redundancy`` at level 1
applied 0-2 times (L = 5, 10, 20; L = 10 where the latents are not the point):

* UniBound, exact estimator, default sizes, L = 5, 10, 20;
* UniBound, kNN estimator, L = 10, n = 2,000 and 10,000 samples;
* ``dci_fast``, L = 10, 2,000 and 10,000 training points (held-out points n / 2).

For the exponents and the other metrics run ``python benchmarks/cost_growth.py``.
"""
import numpy as np
import pytest

import attacks
from benchmark import FactorSpace, ideal
from benchmark.information import limit_threads, usable_cores
from benchmark.runner.registry import get_metric

DSPRITES = ideal(FactorSpace.named("dsprites"))


def with_latents(num_latents: int):
    """dSprites' ideal representation with redundancy(1) applied until it has ``num_latents``."""
    times = int(round(np.log2(num_latents / DSPRITES.dim)))
    if times == 0:
        return DSPRITES
    return attacks.get("+".join(["redundancy"] * times))(DSPRITES, 1.0, np.random.default_rng(0))


@pytest.fixture(scope="module", autouse=True)
def one_thread():
    limit_threads(1)
    yield
    # the other files of ``pytest benchmarks/`` run after this one, on every core as before
    limit_threads(usable_cores())


def _time(bench, name, rep, params):
    spec = get_metric(name)
    out, _ = bench.pedantic(spec.run, args=(rep, np.random.default_rng(0), params), rounds=1,
                            iterations=1)
    assert np.isfinite(out[spec.headline])


@pytest.mark.benchmark(group="cost: unibound exact vs latents")
@pytest.mark.parametrize("num_latents", [5, 10, 20])
def test_unibound_exact_latents(bench, num_latents):
    _time(bench, "unibound", with_latents(num_latents), {"estimator": "exact"})


@pytest.mark.benchmark(group="cost: unibound knn vs samples")
@pytest.mark.parametrize("n", [2000, 10000])
def test_unibound_knn_samples(bench, n):
    _time(bench, "unibound", with_latents(10), {"estimator": "knn", "num_samples": n})


@pytest.mark.benchmark(group="cost: dci_fast vs samples")
@pytest.mark.parametrize("n", [2000, 10000])
def test_dci_fast_samples(bench, n):
    _time(bench, "dci_fast", with_latents(10), {"num_train": n, "num_test": n // 2})
