"""Total correlation of the representation: the disentanglement_lib formula on the reference
arrays, hand-computed cases, the ideal and independent representations, invariances,
attacks, users' encodings and clear errors."""
import itertools
from pathlib import Path

import numpy as np
import pytest

import attacks
from benchmark import BenchmarkError, FactorSpace, from_arrays, ideal, linear_transform
from benchmark.representations import Representation, map_latents
from benchmark.spec import PROPERTIES
from metrics_pid._total_correlation import (
    SPEC,
    total_correlation,
    total_correlation_estimator,
    total_correlation_score,
)

REFERENCE = Path(__file__).resolve().parent.parent / "data"  # tests/data: see its README
SETS = ("small", "random")
DSPRITES = FactorSpace.named("dsprites")

# Behaviour tests run at the --quick sizes; the estimators' accuracy is tested at default
# sizes in tests/benchmark/information/test_entropy.py.
QUICK = SPEC.quick

# Noise of the exact estimate at the quick sizes: the entropies' Monte Carlo sd is
# <= 0.004 nats at 10,000 points (test_entropy.py), ~0.01 at 2,000; a total correlation
# adds L + 1 of them, so 0.05 for the few latents used here.
EXACT_SLACK = 0.05

# The KSG estimate of independent latents: sd 0.009 (5 columns, n = 5000, 20 seeds) with a
# small positive bias that grows with the dimension (0.011 on `random`, 5 columns, n =
# 10,000); 0.05 covers both at the sizes used here.
KNN_CHANCE = 0.05


class Independent(Representation):
    """Codes drawn from N(0, I) whatever the factors: no information, independent latents."""

    def __init__(self, space, dim):
        super().__init__(space, dim, "independent")

    def encode(self, y, rng):
        y = self.space.check_factors(y)
        return rng.standard_normal((y.shape[0], self.dim))


def full_grid(sizes, repeat=1):
    return np.repeat(np.array(list(itertools.product(*map(range, sizes)))), repeat, axis=0)


@pytest.fixture(scope="module")
def arrays():
    return np.load(REFERENCE / "metric_zoo_arrays.npz")


def test_spec():
    assert (SPEC.name, SPEC.headline, SPEC.family, SPEC.target) == (
        "total_correlation", "total_correlation", "information", None)
    assert SPEC.rising == {"total_correlation", "gaussian_total_correlation"}
    assert SPEC.target is None or SPEC.target in PROPERTIES
    assert not SPEC.default


# ---------------------------------------------------------------- reference arrays


@pytest.mark.parametrize("name", SETS)
def test_reference_arrays(arrays, name):
    codes, factors = arrays[f"{name}_codes"], arrays[f"{name}_factors"]
    out = total_correlation_score(codes, factors)
    # disentanglement_lib's gaussian_total_correlation: 0.5 (sum log diag(C) - log det C) of
    # the codes' covariance (np.cov, ddof 1); deterministic, so 1e-6
    cov = np.cov(codes, rowvar=False)
    dlib = 0.5 * (np.sum(np.log(np.diag(cov))) - np.linalg.slogdet(cov)[1])
    assert out["gaussian_total_correlation"] == pytest.approx(dlib, abs=1e-6)
    # both sets have independent latents (`small`: one per independent factor; `random`:
    # independent normals), so the chance value 0 is the truth
    assert abs(out["total_correlation"]) < KNN_CHANCE
    assert out["gaussian_total_correlation"] < 1e-3


# ---------------------------------------------------------------- hand-computed cases


def test_correlated_gaussian_codes():
    # TC of a Gaussian with correlation R is -0.5 log det R (0.367 here); the KSG error at
    # n = 5000 has mean 0.011 and sd 0.017 over 20 seeds, so 0.08
    corr = np.array([[1.0, 0.6, 0.3], [0.6, 1.0, 0.5], [0.3, 0.5, 1.0]])
    rng = np.random.default_rng(0)
    codes = rng.standard_normal((5000, 3)) @ np.linalg.cholesky(corr).T
    truth = -0.5 * np.log(np.linalg.det(corr))
    out = total_correlation_score(codes)
    assert out["total_correlation"] == pytest.approx(truth, abs=0.08)
    assert out["gaussian_total_correlation"] == pytest.approx(truth, abs=0.03)  # sampling error


def test_a_copied_bit():
    # z = (y + e1, y + e2) with y a fair bit 20 noise sd away: TC = I(z1; z2) = log 2.
    # Exact: the bit is resolved by each latent, so the value holds to < 1e-3.  By KSG on
    # 4000 codes: 0.666 to 0.703 over seeds 0-4, so 0.05
    rep = linear_transform(ideal(FactorSpace.synthetic([2]), noise=0.0), [[1.0], [1.0]],
                           np.diag([0.1, 0.1]))
    assert total_correlation(rep, 0, **QUICK)["total_correlation"] == pytest.approx(np.log(2), abs=1e-3)
    knn = total_correlation(rep, 0, estimator="knn", num_samples=4000)
    assert knn["total_correlation"] == pytest.approx(np.log(2), abs=0.05)


# ---------------------------------------------------------------- extremes


def test_ideal_representation_scores_zero():
    # independent factors, one latent each, independent noise: TC = 0 (the best value).
    # On dsprites every factor is resolved and the exact value is 0 to rounding
    out = total_correlation(ideal(DSPRITES), 0)
    assert abs(out["total_correlation"]) < 1e-9
    assert abs(out["gaussian_total_correlation"]) < 0.01  # sampling error of 10,000 codes
    knn = total_correlation(ideal(DSPRITES), 0, estimator="knn", **QUICK)
    assert abs(knn["total_correlation"]) < KNN_CHANCE
    noisy = ideal(FactorSpace.synthetic([4, 6, 3]), noise=0.6)
    assert abs(total_correlation(noisy, 1, **QUICK)["total_correlation"]) < EXACT_SLACK


def test_independent_codes_score_chance():
    # latents independent of the factors and of each other: the chance value is TC = 0
    rep = Independent(FactorSpace.synthetic([3, 4, 5]), 4)
    out = total_correlation(rep, 0, **QUICK)
    assert abs(out["total_correlation"]) < KNN_CHANCE
    assert abs(out["gaussian_total_correlation"]) < 0.01


# ---------------------------------------------------------------- invariances


def test_permuting_and_rescaling_latents_changes_nothing():
    rng = np.random.default_rng(0)
    y = rng.integers(0, [3, 4, 5], size=(3000, 3))
    codes = y @ np.array([[1.0, 0.3, 0.0], [0.0, 1.0, 0.0], [0.0, 0.5, 1.0], [0.2, 0.0, 0.7]]).T
    codes = codes + 0.3 * rng.standard_normal(codes.shape)
    out = total_correlation_score(codes, y)
    moved = total_correlation_score(codes[:, [3, 1, 0, 2]] * [2.0, -1.0, 0.5, 7.0], y)
    for key in out:  # equal up to the order of float sums
        assert moved[key] == pytest.approx(out[key], abs=1e-9)
    # exact estimator: a permutation and monotone maps of the latents are followed to the
    # representation they came from, so the value is the same number
    rep = attacks.get("rotation")(ideal(FactorSpace.synthetic([4, 6, 3]), noise=0.3), 0.5,
                                  np.random.default_rng(0))
    mapped = map_latents(rep, order=[2, 0, 1], latent_map=np.negative)
    a, b = total_correlation(rep, 3, **QUICK), total_correlation(mapped, 3, **QUICK)
    assert a["total_correlation"] == b["total_correlation"]
    assert b["gaussian_total_correlation"] == pytest.approx(a["gaussian_total_correlation"], abs=0.03)
    # a permutation as a linear map is another Gaussian representation: other Monte Carlo draws
    perm = linear_transform(rep, np.eye(3)[[2, 0, 1]])
    assert total_correlation(perm, 3, **QUICK)["total_correlation"] == pytest.approx(
        a["total_correlation"], abs=EXACT_SLACK)


def test_deterministic_for_a_seed():
    rep = attacks.get("rotation")(ideal(FactorSpace.synthetic([4, 6]), noise=0.3), 0.5, 0)
    assert total_correlation(rep, 7, **QUICK) == total_correlation(rep, 7, **QUICK)
    assert total_correlation(rep, 7, estimator="knn", **QUICK) == \
        total_correlation(rep, 7, estimator="knn", **QUICK)


# ---------------------------------------------------------------- representations


@pytest.mark.parametrize("attack", ["rotation", "redundancy"])
def test_attacks_raise_the_total_correlation(attack):
    spec = attacks.get(attack)
    tc = [total_correlation(spec(ideal(DSPRITES), level, np.random.default_rng(0)), 0,
                            **QUICK)["total_correlation"] for level in spec.quick_levels]
    assert abs(tc[0]) < 1e-9
    assert all(b > a for a, b in zip(tc, tc[1:])), tc
    assert tc[-1] > 1.0


def test_nuisance_latents_change_nothing():
    rep = attacks.get("nuisance")(ideal(DSPRITES), 4.0, np.random.default_rng(0))
    assert abs(total_correlation(rep, 0, **QUICK)["total_correlation"]) < 1e-9


def test_users_encodings():
    # a table covering the grid, latent 0 mixing factors 0 and 1: its latents are dependent
    rng = np.random.default_rng(0)
    factors = full_grid((3, 4, 5), repeat=10)
    codes = factors @ np.array([[1.0, 0.5, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]]).T
    codes = codes + 0.1 * rng.standard_normal(codes.shape)
    means_only = total_correlation(from_arrays(factors, codes), 0, **QUICK)  # kNN on the rows
    exact = total_correlation(from_arrays(factors, codes, np.full(codes.shape, 0.01)), 0, **QUICK)
    assert means_only["total_correlation"] > 0.3 and exact["total_correlation"] > 0.3
    # the same table with independent latents (one per factor) scores about 0
    plain = factors + 0.1 * rng.standard_normal(factors.shape)
    assert abs(total_correlation(from_arrays(factors, plain), 0, **QUICK)["total_correlation"]) \
        < KNN_CHANCE
    # with posteriors the value is that of the mixture of the rows' posteriors: here every
    # row of a grid point has the same posterior, so the mixture's latents are independent
    # (rows scattered more than their posteriors' width would make them dependent at that
    # fine scale: the mixture of 10 given points per grid point is not a product)
    exact = total_correlation(from_arrays(factors, factors.astype(float), np.full(plain.shape, 0.09)),
                              0, **QUICK)
    assert abs(exact["total_correlation"]) < EXACT_SLACK
    # a partial table of 25 rows, sampled with replacement: repeated rows are counted once
    part = from_arrays(factors[::24], codes[::24])
    assert np.isfinite(total_correlation(part, 0, **QUICK)["total_correlation"])


# ---------------------------------------------------------------- errors


def test_bad_input():
    rep = ideal(FactorSpace.synthetic([3, 4]))
    codes = np.random.default_rng(0).standard_normal((100, 3))
    with pytest.raises(BenchmarkError, match="estimator"):
        total_correlation(rep, 0, estimator="histogram")
    with pytest.raises(BenchmarkError, match="num_samples"):
        total_correlation(rep, 0, num_samples=1)
    with pytest.raises(BenchmarkError, match="num_mc_points"):
        total_correlation(rep, 0, num_mc_points=0)
    with pytest.raises(BenchmarkError, match="rng"):
        total_correlation(rep, "seed")
    with pytest.raises(BenchmarkError, match="estimator='exact'"):
        total_correlation(Independent(rep.space, 2), 0, estimator="exact")
    with pytest.raises(BenchmarkError, match="NaN"):
        total_correlation_score(np.where(codes > 1, np.nan, codes))
    with pytest.raises(BenchmarkError, match="number of rows"):
        total_correlation_score(codes, np.zeros((99, 2), dtype=int))
    with pytest.raises(BenchmarkError, match="k must be"):
        total_correlation_score(codes, k=0)
    with pytest.raises(BenchmarkError, match="distinct rows"):
        total_correlation_score(np.repeat(codes[:2], 50, axis=0))


def test_total_correlation_keeps_to_mixtures_it_can_hold(grid_table):
    # UniBound is exact on a table of any size and on its linear attacks; the mixture
    # entropies are not, and leave those to kNN rather than sample rows
    table = from_arrays(*grid_table())
    assert total_correlation_estimator(table, "auto", 10000) == "exact"
    assert total_correlation_estimator(table, "auto", 10) == "knn"
    assert total_correlation_estimator(table, "exact", 10) == "exact"  # a sample, on request
    attacked = attacks.get("redundancy")(table, 1.0, np.random.default_rng(0))
    assert total_correlation_estimator(attacked, "auto", 10000) == "knn"
    with pytest.raises(BenchmarkError, match="estimator='exact' needs"):
        total_correlation_estimator(attacked, "exact", 10000)
