"""Speed of the information estimators (pytest-benchmark).

Run ``pytest benchmarks/test_bench_estimators.py``.  Compares

* UniBound with the exact estimator on the dSprites ideal representation under the
  redundancy attack at level 1 (L = 10), default sizes (target: well under 10 s);
* the kNN estimator against scikit-learn's ``mutual_info_classif`` on the same 1-D
  problem (target: at least as fast);
* the raw log-density kernel (full set + 10 rank-one "all but one" subsets,
  N = M = 10,000, L = 10) against the machine's raw throughput measured in the same
  run: a large float64 matmul (GFLOP/s) and float32 ``exp`` (elements/s).
"""
import time

import numpy as np
import pytest
from sklearn.feature_selection import mutual_info_classif

import attacks
from benchmark import FactorSpace, get_metric, ideal
from benchmark import estimators as est
from benchmark.estimators import knn_mutual_info


def test_unibound_exact_dsprites_redundancy(benchmark):
    rep = attacks.get("redundancy")(ideal(FactorSpace.named("dsprites")), 1.0, np.random.default_rng(0))
    metric = get_metric("unibound")
    result = benchmark.pedantic(metric, args=(rep, np.random.default_rng(0)), rounds=3, iterations=1)
    assert 0.75 < result["unibound"] < 0.95
    assert benchmark.stats.stats.mean < 10.0


@pytest.fixture(scope="module")
def one_d():
    rng = np.random.default_rng(0)
    y = rng.integers(0, 40, 10000)
    return (y / 40 + 0.05 * rng.standard_normal(10000))[:, None], y


def test_knn_ours_1d(benchmark, one_d):
    z, y = one_d
    value = benchmark(knn_mutual_info, z, y, 3)
    assert value == pytest.approx(mutual_info_classif(z, y, n_neighbors=3, random_state=0)[0], abs=1e-6)


def test_knn_sklearn_1d(benchmark, one_d):
    z, y = one_d
    benchmark(mutual_info_classif, z, y, n_neighbors=3, random_state=0)


def _raw_rates():
    a = np.random.default_rng(0).random((2000, 2000))
    a @ a
    start = time.perf_counter()
    a @ a
    gflops = 2 * 2000**3 / (time.perf_counter() - start) / 1e9
    x = -10 * np.random.default_rng(1).random((100, 10000)).astype(np.float32)
    out = np.empty_like(x)
    start = time.perf_counter()
    for _ in range(100):
        np.exp(x, out=out)
    exp_rate = 100 * x.size / (time.perf_counter() - start)
    return gflops, exp_rate


def test_kernel_throughput(benchmark):
    rng = np.random.default_rng(0)
    n = m = 10000
    dim, sizes = 10, (3, 6, 40, 32, 32)
    comp = np.stack([rng.integers(0, s, m) for s in sizes], axis=1)
    labels = np.stack([rng.integers(0, s, n) for s in sizes], axis=1)
    mix = est._Mixture(rng.standard_normal((n, dim)), rng.standard_normal((m, dim)),
                       est._label_weights(comp, np.zeros(m), tuple(range(5)), sizes),
                       tuple(range(5)), labels, sizes, cov=np.eye(dim) + 0.1)
    requests = {("all", -1): list(range(5))}
    requests.update({("rest", l): list(range(5)) for l in range(dim)})
    benchmark.pedantic(est._solve_mixture, args=(mix, requests, 200.0), rounds=1, iterations=1)
    seconds = benchmark.stats.stats.mean
    cells = n * m * len(requests)
    gflops, exp_rate = _raw_rates()
    # per cell: ~2*dim flops of distance matmul (amortised over subsets) + 2*121 of the
    # group-sum matmul; one exp
    kernel_gflops = cells * 2 * sum(sizes) / seconds / 1e9
    benchmark.extra_info.update(
        cells_per_second=cells / seconds, raw_matmul_gflops=gflops, raw_exp32_per_second=exp_rate,
        fraction_of_exp_rate=cells / seconds / exp_rate,
        group_matmul_gflops=kernel_gflops)
    print(f"\nkernel: {cells / seconds / 1e6:.0f} M cells/s = {cells / seconds / exp_rate:.2f} of raw "
          f"exp32 ({exp_rate / 1e6:.0f} M/s); group-sum matmul {kernel_gflops:.1f} GFLOP/s vs raw "
          f"float64 matmul {gflops:.1f} GFLOP/s")


@pytest.fixture(scope="module")
def encodings_redundancy():
    """The example encodings (7 latents) under the redundancy attack: 14 latents, no
    Gaussian structure, so UniBound uses the kNN estimator."""
    import importlib.util
    from pathlib import Path

    from benchmark import from_arrays

    path = Path(__file__).resolve().parents[1] / "examples" / "make_encodings.py"
    spec = importlib.util.spec_from_file_location("make_encodings", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    rep = from_arrays(**module.vae_like_encodings(20000, np.random.default_rng(0)))
    return attacks.get("redundancy")(rep, 1.0, np.random.default_rng(0))


@pytest.mark.parametrize("path", ["chunked", "kdtree"])
def test_knn_informations_14_latents(benchmark, encodings_redundancy, path, monkeypatch):
    # the chunked pass gives the KD-tree's neighbour counts exactly (tests/test_estimators.py)
    monkeypatch.setattr(est, "BRUTE_FORCE_DIMS", 6 if path == "chunked" else 10**9)
    benchmark.pedantic(est.knn_informations, args=(encodings_redundancy, np.random.default_rng(0)),
                       kwargs={"num_samples": 2000}, rounds=2, iterations=1)
