"""MIG: this package's vectorised plug-in MI vs the reference recipe.

The reference recipe (disentanglement_lib) discretises each latent and calls
``sklearn.metrics.mutual_info_score`` once per (latent, factor) pair.  Run with
``pytest benchmarks/test_bench_mig.py`` and compare the two rows side by side.
"""
import numpy as np
import pytest
from sklearn.metrics import mutual_info_score

from benchmark import FactorSpace, ideal
from benchmark.information import discretize
from metrics_baseline import mig_score


def reference_mig(codes, factors, num_bins=20):
    binned = discretize(codes, num_bins)
    mi = np.array([[mutual_info_score(factors[:, k], binned[:, l]) for k in range(factors.shape[1])]
                   for l in range(codes.shape[1])])
    h = np.array([mutual_info_score(f, f) for f in factors.T])
    top = np.sort(mi, axis=0)[::-1]
    return float(np.mean((top[0] - top[1]) / h))


@pytest.fixture(scope="module")
def dsprites_codes():
    rep = ideal(FactorSpace.named("dsprites"))
    rng = np.random.default_rng(0)
    factors = rep.space.sample(10000, rng)
    codes = np.hstack([rep.encode(factors, rng), rng.normal(size=(10000, 5))])  # L = 10
    return codes, factors


def test_mig_package(bench, dsprites_codes):
    codes, factors = dsprites_codes
    result = bench(mig_score, codes, factors)
    assert result["mig"] == pytest.approx(reference_mig(codes, factors), abs=1e-12)


def test_mig_reference_recipe(bench, dsprites_codes):
    codes, factors = dsprites_codes
    bench(reference_mig, codes, factors)
