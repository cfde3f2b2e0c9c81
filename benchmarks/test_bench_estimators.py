"""Speed of the information estimators (pytest-benchmark).

Run ``pytest benchmarks/test_bench_estimators.py``.  Compares

* UniBound with the exact estimator on the dSprites ideal representation under the
  redundancy attack at level 1 (L = 10), default sizes;
* the kNN estimator against scikit-learn's ``mutual_info_classif`` on the same 1-D
  problem (target: at least as fast);
* the exact estimator at full scale: UniBound of a 737,280-row encodings table with
  posterior variances (``examples/model_zoo.py``'s ``disentangled`` and ``noisy``, seed 0,
  10 latents), every row a mixture component (target: at most 3 minutes);
* kNN on posterior draws (``posterior_knn``) on 20,000- and 50,000-row samples of a
  zoo table, the estimator of a sample of a model's encodings;
* the raw log-density kernel (full set + 10 rank-one "all but one" subsets,
  N = M = 10,000, L = 10) against the machine's raw throughput measured in the same
  run: a large float64 matmul (GFLOP/s) and float64 ``exp`` (elements/s).
"""
import time

import numpy as np
import pytest
from sklearn.feature_selection import mutual_info_classif

import attacks
from benchmark import FactorSpace, from_arrays, ideal
from benchmark.information import knn_informations, knn_mutual_info

# the kernel is measured on its own: the private modules are its only entry
from benchmark.information._gaussian import label_weights
from benchmark.information._kernel import Mixture, solve_mixture
from make_encodings import vae_like_encodings
from metrics_pid import unibound
from model_zoo import model_encodings


def test_unibound_exact_dsprites_redundancy(bench):
    rep = attacks.get("redundancy")(ideal(FactorSpace.named("dsprites")), 1.0, np.random.default_rng(0))
    result = bench.pedantic(unibound, args=(rep, np.random.default_rng(0)), rounds=3, iterations=1)
    assert 0.75 < result["unibound"] < 0.95


@pytest.mark.parametrize("character", ["disentangled", "noisy"])
def test_unibound_exact_full_scale_table(bench, character):
    rep = from_arrays(**model_encodings(character, 0))
    assert len(rep.codes) == 737_280
    result = bench.pedantic(unibound, args=(rep, np.random.default_rng(0)), rounds=1, iterations=1)
    assert 0.2 < result["unibound"] < 0.9


@pytest.fixture(scope="module")
def one_d():
    rng = np.random.default_rng(0)
    y = rng.integers(0, 40, 10000)
    return (y / 40 + 0.05 * rng.standard_normal(10000))[:, None], y


def test_knn_ours_1d(bench, one_d):
    z, y = one_d
    value = bench(knn_mutual_info, z, y, k=3)
    assert value == pytest.approx(mutual_info_classif(z, y, n_neighbors=3, random_state=0)[0], abs=1e-6)


def test_knn_sklearn_1d(bench, one_d):
    z, y = one_d
    bench(mutual_info_classif, z, y, n_neighbors=3, random_state=0)


def _raw_rates():
    """Raw float64 matmul (GFLOP/s) and float64 ``exp`` (elements/s): the kernel's own work."""
    a = np.random.default_rng(0).random((2000, 2000))
    a @ a
    start = time.perf_counter()
    a @ a
    gflops = 2 * 2000**3 / (time.perf_counter() - start) / 1e9
    x = -10 * np.random.default_rng(1).random((100, 10000))
    out = np.empty_like(x)
    start = time.perf_counter()
    for _ in range(100):
        np.exp(x, out=out)
    return gflops, 100 * x.size / (time.perf_counter() - start)


def test_kernel_throughput(bench):
    rng = np.random.default_rng(0)
    n = m = 10000
    dim, sizes = 10, (3, 6, 40, 32, 32)
    comp = np.stack([rng.integers(0, s, m) for s in sizes], axis=1)
    labels = np.stack([rng.integers(0, s, n) for s in sizes], axis=1)
    mix = Mixture(rng.standard_normal((n, dim)), rng.standard_normal((m, dim)),
                  label_weights(comp, np.zeros(m), tuple(range(5)), sizes),
                  tuple(range(5)), labels, sizes, cov=np.eye(dim) + 0.1)
    requests = {("all", -1): list(range(5))}
    requests.update({("rest", l): list(range(5)) for l in range(dim)})
    bench.pedantic(solve_mixture, args=(mix, requests, 200.0), rounds=3, iterations=1)
    seconds = bench.stats.stats.min
    cells = n * m * len(requests)
    gflops, exp_rate = _raw_rates()
    # the kernel's main work is the group-sum matmul, 2 * 113 flops per cell (one flop
    # pair per factor value); the exponents (a thin matmul), the shift and the exp are
    # what keeps it below the raw rate
    kernel_gflops = cells * 2 * sum(sizes) / seconds / 1e9
    bench.extra_info.update(
        cells_per_second=cells / seconds, raw_matmul_gflops=gflops, raw_exp_per_second=exp_rate,
        fraction_of_exp_rate=cells / seconds / exp_rate, group_matmul_gflops=kernel_gflops,
        fraction_of_matmul=kernel_gflops / gflops)
    print(f"\nkernel: {cells / seconds / 1e6:.0f} M cells/s = {cells / seconds / exp_rate:.2f} of raw "
          f"exp ({exp_rate / 1e6:.0f} M/s); group-sum matmul {kernel_gflops:.1f} GFLOP/s = "
          f"{kernel_gflops / gflops:.2f} of raw float64 matmul ({gflops:.1f} GFLOP/s)")


@pytest.fixture(scope="module")
def encodings_redundancy():
    """The example encodings (7 latents) under the redundancy attack: 14 latents, no
    Gaussian structure, so UniBound uses the kNN estimator."""
    rep = from_arrays(**vae_like_encodings(20000, np.random.default_rng(0)))
    return attacks.get("redundancy")(rep, 1.0, np.random.default_rng(0))


@pytest.mark.parametrize("counts", ["chunked", "tree"])
def test_knn_informations_14_latents(bench, encodings_redundancy, counts):
    # both give identical neighbour counts (tests/benchmark/information/test_knn.py)
    bench.pedantic(knn_informations, args=(encodings_redundancy, np.random.default_rng(0)),
                   kwargs={"num_samples": 2000, "counts": counts}, rounds=2, iterations=1)


@pytest.mark.parametrize("rows", [20000, 50000])
def test_posterior_knn_on_a_sample_table(bench, rows):
    # auto's estimator for a sample of a model's posterior encodings (its accuracy:
    # benchmarks/sample_tables.py); a 20,000- and a 50,000-row sample of a zoo model
    whole = from_arrays(**model_encodings("synergistic", 0))
    pick = np.sort(np.random.default_rng(0).choice(len(whole.codes), rows, replace=False))
    table = from_arrays(whole.space.rows[pick], whole.codes[pick], whole.variances[pick],
                        whole.space.names, whole.space.sizes)
    result = bench.pedantic(unibound, args=(table, np.random.default_rng(0)), rounds=1, iterations=1)
    assert 0.3 < result["unibound"] < 0.7
