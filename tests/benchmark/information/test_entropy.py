"""Entropies and total correlation: closed forms, numerical integration, nearest neighbours."""
import numpy as np
import pytest
from scipy import stats

import attacks
from benchmark import (
    BenchmarkError,
    FactorSpace,
    GaussianRepresentation,
    from_arrays,
    ideal,
    linear_transform,
)
from benchmark.information import (
    gaussian_entropy,
    gaussian_total_correlation,
    knn_entropy,
    knn_total_correlation,
    mixture_entropies,
)

# Tolerance of the exact (Monte Carlo) entropies, the 0.01 nats as for the
# informations (tests/benchmark/information/test_exact.py).  Measured over 10 seeds on the
# rotated pair and the 4 heteroscedastic posteriors below: sd <= 0.004 and largest error
# 0.006 per entropy, no bias beyond 0.001.  A total correlation sums three such errors
# (two singles, minus the joint): 0.02.
EXACT_TOL = 0.01
TC_TOL = 0.02

CORR = np.array([[1.0, 0.6, 0.3], [0.6, 1.0, 0.5], [0.3, 0.5, 1.0]])


def tc_of(h):
    """Total correlation from the entropies of every single latent and of the full set."""
    return float(h[:-1].sum() - h[-1])


def integrated_entropy(density, axes):
    """``-int p log p`` of a density on a regular grid (trapezoid rule per axis)."""
    mesh = np.stack(np.meshgrid(*axes, indexing="ij"), axis=-1).reshape(-1, len(axes))
    p = density(mesh)
    f = np.where(p > 0, -p * np.log(np.where(p > 0, p, 1.0)), 0.0).reshape([len(a) for a in axes])
    for a in axes:
        f = np.trapezoid(f, a, axis=0)
    return float(f)


def mixture_density(means, sds=None, cov=None):
    """Equal-weight mixture of Gaussians: diagonal ``sds`` per component or a shared ``cov``."""
    def density(x):
        out = np.zeros(len(x))
        if cov is not None:
            chol = np.linalg.cholesky(cov)
            norm = 1.0 / np.sqrt(np.linalg.det(2 * np.pi * cov))
            for m in means:
                white = np.linalg.solve(chol, (x - m).T)
                out += norm * np.exp(-0.5 * (white**2).sum(axis=0))
        else:
            for m, s in zip(means, sds):
                out += np.prod(stats.norm.pdf(x, m, s), axis=1)
        return out / len(means)
    return density


def integrated_entropies(means, sds=None, cov=None, points=(40001, 801)):
    """``H(z_0), ..., H(z_{d-1}), H(z)`` of a mixture (d <= 2) by integration over
    +-10 standard deviations beyond the means."""
    d = means.shape[1]
    spread = np.sqrt(np.diag(cov)) if cov is not None else sds.max(axis=0)
    out = []
    for subset in [[l] for l in range(d)] + [list(range(d))]:
        axes = [np.linspace(means[:, l].min() - 10 * spread[l], means[:, l].max() + 10 * spread[l],
                            points[len(subset) - 1]) for l in subset]
        sub_cov = None if cov is None else cov[np.ix_(subset, subset)]
        sub_sds = None if sds is None else sds[:, subset]
        out.append(integrated_entropy(mixture_density(means[:, subset], sub_sds, sub_cov), axes))
    return np.array(out)


def grid_means(rep):
    sizes = rep.space.sizes
    grid = np.stack(np.meshgrid(*[np.arange(s) for s in sizes], indexing="ij"), -1).reshape(-1, len(sizes))
    return rep.mean(grid)


# ---------------------------------------------------------------- closed forms


def test_gaussian_entropy_closed_form():
    cov = 4.0 * CORR
    assert gaussian_entropy(cov) == pytest.approx(stats.multivariate_normal(np.zeros(3), cov).entropy(),
                                                  abs=1e-12)
    assert gaussian_entropy([[1.0]]) == pytest.approx(0.5 * np.log(2 * np.pi * np.e), abs=1e-12)
    with pytest.raises(BenchmarkError, match="positive definite"):
        gaussian_entropy([[1.0, 1.0], [1.0, 1.0]])


def test_gaussian_total_correlation_closed_form():
    scale = np.diag([1.0, 3.0, 0.5])
    assert gaussian_total_correlation(scale @ CORR @ scale) == pytest.approx(
        -0.5 * np.log(np.linalg.det(CORR)), abs=1e-12)  # scale-free
    # the sum of the marginal entropies minus the joint one
    cov = scale @ CORR @ scale
    direct = sum(gaussian_entropy(cov[l:l + 1, l:l + 1]) for l in range(3)) - gaussian_entropy(cov)
    assert gaussian_total_correlation(cov) == pytest.approx(direct, abs=1e-12)
    assert gaussian_total_correlation(np.eye(4)) == 0.0
    # a constant latent is dropped; an exact copy gives a large finite value
    assert gaussian_total_correlation(np.diag([1.0, 0.0, 2.0])) == pytest.approx(0.0, abs=1e-12)
    assert 10 < gaussian_total_correlation(np.ones((2, 2))) < 20
    with pytest.raises(BenchmarkError, match="cov"):
        gaussian_total_correlation(np.ones((2, 3)))


# ---------------------------------------------------------------- nearest neighbours


def correlated_gaussian(n, seed, scale=2.0):
    rng = np.random.default_rng(seed)
    return scale * rng.standard_normal((n, 3)) @ np.linalg.cholesky(CORR).T


def test_knn_entropy_of_a_gaussian():
    # Over 20 seeds at n = 5000 the 1-D error has sd 0.013 (max 0.031); the 3-D one has a
    # bias of -0.023 and sd 0.020 (max 0.063): 0.05 and 0.1 are ~4 sd from the mean
    x = correlated_gaussian(5000, 0)
    assert knn_entropy(x[:, :1]) == pytest.approx(gaussian_entropy([[4.0]]), abs=0.05)
    assert knn_entropy(x) == pytest.approx(gaussian_entropy(4.0 * CORR), abs=0.1)
    # an entropy moves with the scale: log 10 per column
    assert knn_entropy(10 * x[:, :1]) - knn_entropy(x[:, :1]) == pytest.approx(np.log(10), abs=1e-9)


def test_knn_total_correlation_of_a_correlated_gaussian():
    # -0.5 log det R = 0.367; over 20 seeds at n = 5000 the KSG error has mean 0.011 and
    # sd 0.017 (max 0.035): 0.08 is 4 sd beyond the bias
    truth = -0.5 * np.log(np.linalg.det(CORR))
    x = correlated_gaussian(5000, 1)
    assert knn_total_correlation(x) == pytest.approx(truth, abs=0.08)
    # scale-free (columns are standardised) and invariant to permuting columns
    assert knn_total_correlation(x * [1.0, 50.0, 0.01]) == pytest.approx(knn_total_correlation(x),
                                                                         abs=1e-9)
    assert knn_total_correlation(x[:, [2, 0, 1]]) == pytest.approx(knn_total_correlation(x), abs=1e-9)


def test_knn_total_correlation_of_independent_columns_and_constants():
    # independent columns: 0; over 20 seeds (n = 5000, 5 columns) the estimate has sd 0.009
    rng = np.random.default_rng(2)
    x = rng.standard_normal((5000, 5))
    assert abs(knn_total_correlation(x)) < 0.04
    # a constant column is independent of everything: it changes nothing
    padded = np.hstack([x, np.full((5000, 1), 3.0)])
    assert knn_total_correlation(padded) == pytest.approx(knn_total_correlation(x), abs=1e-9)
    assert knn_total_correlation(x[:, :1]) == 0.0


def test_knn_bad_input():
    x = np.random.default_rng(0).standard_normal((50, 2))
    with pytest.raises(BenchmarkError, match="repeated rows"):
        knn_entropy(np.vstack([x, x[:1]]))
    with pytest.raises(BenchmarkError, match="k = 60"):
        knn_total_correlation(x, k=60)
    with pytest.raises(BenchmarkError, match="k must be"):
        knn_entropy(x, k=0)
    with pytest.raises(BenchmarkError, match="NaN"):
        knn_total_correlation(np.where(x > 1, np.nan, x))
    with pytest.raises(BenchmarkError, match="2-D"):
        knn_entropy(x[:, 0])


# ---------------------------------------------------------------- mixtures


def test_mixture_of_one_gaussian_is_the_closed_form():
    # the mean ignores the factors: every factor is "zero", the entropies are exact
    cov = np.diag([1.0, 3.0, 0.5]) @ CORR @ np.diag([1.0, 3.0, 0.5])
    rep = GaussianRepresentation(FactorSpace.synthetic([3, 4]), lambda y: np.zeros((len(y), 3)), cov)
    truth = [gaussian_entropy(cov[l:l + 1, l:l + 1]) for l in range(3)] + [gaussian_entropy(cov)]
    for structure in (True, False):
        h = mixture_entropies(rep, 0, exploit_structure=structure)
        np.testing.assert_allclose(h, truth, atol=1e-9)
        assert tc_of(h) == pytest.approx(-0.5 * np.log(np.linalg.det(CORR)), abs=1e-9)
    pair = mixture_entropies(rep, 0, subsets=[[2, 0]])
    assert pair[0] == pytest.approx(gaussian_entropy(cov[np.ix_([2, 0], [2, 0])]), abs=1e-9)


def test_mixture_tc_of_a_copied_bit_is_log_2():
    # z = (y + e1, y + e2), y in {0, 1} 20 noise sd apart: each latent alone holds the bit
    # (log 2 nats beyond its noise), the pair holds it once; the factor is resolved by
    # each latent and the pair, so the value is exact up to the < 1e-3 of "resolved"
    rep = linear_transform(ideal(FactorSpace.synthetic([2]), noise=0.0), [[1.0], [1.0]],
                           np.diag([0.1, 0.1]))
    for structure in (True, False):
        assert tc_of(mixture_entropies(rep, 3, exploit_structure=structure)) == pytest.approx(
            np.log(2), abs=1e-3)


def test_mixture_tc_of_the_ideal_representation_is_zero():
    # independent factors, one latent each, independent noise: TC = 0.  On dsprites every
    # factor is resolved and the value is exact; with noise 0.6 of the spacing the values
    # overlap and the Monte Carlo error is that of EXACT_TOL per entropy
    assert abs(tc_of(mixture_entropies(ideal(FactorSpace.named("dsprites")), 0))) < 1e-9
    noisy = ideal(FactorSpace.synthetic([4, 6, 3]), noise=0.6)
    assert abs(tc_of(mixture_entropies(noisy, 0))) < TC_TOL
    assert abs(tc_of(mixture_entropies(noisy, 0, exploit_structure=False))) < TC_TOL


@pytest.mark.parametrize("num_values,sigma", [(2, 0.05), (6, 0.3), (40, 0.05), (40, 1.0)])
def test_mixture_entropy_1d_against_integration(one_d, num_values, sigma):
    rep = one_d(num_values, sigma)
    truth = integrated_entropies(grid_means(rep), cov=rep.cov)[-1]
    for structure in (True, False):
        h = mixture_entropies(rep, np.random.default_rng(num_values), exploit_structure=structure)
        np.testing.assert_allclose(h, truth, atol=EXACT_TOL)  # the single latent is the full set


@pytest.mark.parametrize("level", [0.5, 1.0])
def test_mixture_entropies_of_a_rotated_pair_against_integration(level):
    rep = attacks.get("rotation")(ideal(FactorSpace.synthetic([4, 6]), noise=0.6), level,
                                  np.random.default_rng(0))
    truth = integrated_entropies(grid_means(rep), cov=rep.cov)
    for structure in (True, False):  # the factor-structure shortcuts and the plain mixture
        h = mixture_entropies(rep, np.random.default_rng(1), exploit_structure=structure)
        np.testing.assert_allclose(h, truth, atol=EXACT_TOL)
        assert tc_of(h) == pytest.approx(tc_of(truth), abs=TC_TOL)
    assert tc_of(truth) > 0.05  # the rotation made the latents dependent


def test_mixture_entropies_of_posteriors_against_integration(diagonal_posterior):
    means = np.array([[0.0, 0.0], [1.0, 0.3], [1.5, 2.0], [3.0, 1.0]])
    sds = np.array([[0.5, 0.3], [0.2, 0.8], [0.7, 0.4], [0.3, 0.3]])
    truth = integrated_entropies(means, sds=sds, points=(40001, 1201))
    h = mixture_entropies(diagonal_posterior(means, sds), 0)
    np.testing.assert_allclose(h, truth, atol=EXACT_TOL)
    assert tc_of(h) == pytest.approx(tc_of(truth), abs=TC_TOL)


def test_mixture_entropies_of_a_table_against_integration():
    # a table of encodings with posterior variances is the mixture of its rows' posteriors
    rng = np.random.default_rng(0)
    factors = np.repeat(np.stack(np.meshgrid(np.arange(3), np.arange(2), indexing="ij"), -1)
                        .reshape(-1, 2), 3, axis=0)
    codes = factors @ np.array([[1.0, 0.4], [0.0, 1.0]]).T + 0.3 * rng.standard_normal(factors.shape)
    sds = rng.uniform(0.2, 0.5, size=codes.shape)
    truth = integrated_entropies(codes, sds=sds, points=(40001, 801))
    h = mixture_entropies(from_arrays(factors, codes, sds**2), 1)
    np.testing.assert_allclose(h, truth, atol=EXACT_TOL)


def test_mixture_entropies_are_deterministic_and_check_their_input():
    rep = attacks.get("rotation")(ideal(FactorSpace.synthetic([4, 6]), noise=0.6), 0.5,
                                  np.random.default_rng(0))
    np.testing.assert_array_equal(mixture_entropies(rep, 5), mixture_entropies(rep, 5))
    with pytest.raises(BenchmarkError, match="subsets"):
        mixture_entropies(rep, 0, subsets=[[0, 0]])
    with pytest.raises(BenchmarkError, match="subsets"):
        mixture_entropies(rep, 0, subsets=[[2]])
    with pytest.raises(BenchmarkError, match="subsets"):
        mixture_entropies(rep, 0, subsets=[[]])
    with pytest.raises(BenchmarkError, match="num_mc_points"):
        mixture_entropies(rep, 0, num_mc_points=1)
    with pytest.raises(BenchmarkError, match="Gaussian representation or posterior"):
        mixture_entropies(from_arrays(np.array([[0], [1], [0], [1]]), np.eye(4)[:, :2]), 0)
