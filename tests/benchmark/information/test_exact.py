"""The exact (mixture-of-Gaussians) estimator against numerical integration and known cases."""
import tracemalloc

import numpy as np
import pytest

import attacks
from benchmark import FactorSpace, from_arrays, ideal
from benchmark.information import Informations, breaches, mixture_informations, resolve_estimator
from benchmark.information._gaussian import grid_components, label_weights, regularised, solve_enumerated
from benchmark.information._kernel import Mixture, solve_mixture
from benchmark.information._stream import SKIP_TOLERANCE
from benchmark.information._structure import Codebook, stratified_factors
from make_encodings import vae_like_encodings

# Tolerance of the exact estimator: the 0.01 nats.  On these small grids the
# component side is enumerated exactly, so the only error is Monte Carlo over the
# evaluation points; its standard deviation measured over seeds is <= 0.0015 nats
# (1-D, K = 40, heavy overlap), so 0.01 is more than 6 sigma.
EXACT_TOL = 0.01


@pytest.mark.parametrize("num_values", [2, 6, 40])
@pytest.mark.parametrize("sigma", [0.05, 0.3, 1.0])
def test_exact_1d_against_integration(integrated_information, one_d, num_values, sigma):
    rep = one_d(num_values, sigma)
    truth = integrated_information(rep.mean(np.arange(num_values)[:, None]), rep.cov,
                                   np.arange(num_values), grid_points=40001)
    info = mixture_informations(rep, np.random.default_rng(num_values))
    assert info.joint[0] == pytest.approx(truth, abs=EXACT_TOL)
    assert info.single[0, 0] == pytest.approx(truth, abs=EXACT_TOL)
    assert info.rest[0, 0] == 0.0  # the empty subset


@pytest.mark.slow
@pytest.mark.parametrize("angle", [np.pi / 8, np.pi / 4])
def test_exact_rotated_pair_against_integration(integrated_all, angle):
    rep = attacks.get("rotation")(ideal(FactorSpace.synthetic([4, 6]), noise=0.6), angle / (np.pi / 4),
                                  np.random.default_rng(0))
    truth = integrated_all(rep)
    info = mixture_informations(rep, np.random.default_rng(1))
    np.testing.assert_allclose(info.single, truth["single"], atol=EXACT_TOL)
    np.testing.assert_allclose(info.rest, truth["rest"], atol=EXACT_TOL)
    np.testing.assert_allclose(info.joint, truth["joint"], atol=EXACT_TOL)


@pytest.mark.slow
@pytest.mark.parametrize("attack,level", [("redundancy", 0.5), ("redundancy", 2.0),
                                          ("synergy", 0.5), ("synergy", 2.0)])
def test_exact_attacks_against_integration(integrated_all, attack, level):
    base = ideal(FactorSpace.synthetic([3, 5]), noise=0.4)
    rep = attacks.get(attack)(base, level, np.random.default_rng(0))
    truth = integrated_all(rep)
    for structure in (True, False):  # the factor-structure shortcuts and the plain mixture
        info = mixture_informations(rep, np.random.default_rng(2), exploit_structure=structure)
        np.testing.assert_allclose(info.single, truth["single"], atol=EXACT_TOL)
        np.testing.assert_allclose(info.rest, truth["rest"], atol=EXACT_TOL)
        np.testing.assert_allclose(info.joint, truth["joint"], atol=EXACT_TOL)


def test_exact_resolved_factors_on_dsprites():
    # the ideal representation identifies every factor (values 10 noise sd apart) and
    # latent k carries only factor k; the redundancy copy leaves the full set complete
    rep = attacks.get("redundancy")(ideal(FactorSpace.named("dsprites")), 1.0, np.random.default_rng(0))
    info = mixture_informations(rep, np.random.default_rng(0), num_mc_points=3000, num_components=3000)
    h = info.entropy
    np.testing.assert_allclose(info.joint, h, atol=1e-3)
    np.testing.assert_allclose(info.single[:, :5], np.diag(h), atol=1e-3)
    # without latent k, factor k is only seen through the noisy rotated copy:
    # an information strictly between 0 and H
    rest_own = np.diag(info.rest[:, :5])
    assert np.all(rest_own > 0.02 * h) and np.all(rest_own < 0.9 * h)


def integrated_heteroscedastic(means, sds):
    z = np.linspace(means.min() - 10 * sds.max(), means.max() + 10 * sds.max(), 200001)
    cond = (np.exp(-0.5 * ((z[None] - means[:, None]) / sds[:, None]) ** 2)
            / (np.sqrt(2 * np.pi) * sds[:, None]))
    marg = cond.mean(0)
    with np.errstate(divide="ignore", invalid="ignore"):
        f = np.where(cond > 0, cond * np.log(cond / marg), 0.0).mean(0)
    return float(np.trapezoid(f, z))


def test_exact_posterior_table_against_integration(diagonal_posterior):
    means = np.array([[-1.0, 0.0], [0.0, 0.5], [0.7, -0.5], [2.0, 1.0]])
    sds = np.array([[0.3, 1.0], [0.6, 0.4], [0.4, 0.8], [1.0, 0.5]])
    rep = diagonal_posterior(means, sds)
    assert resolve_estimator(rep) == "exact"
    # 4 values drawn 10,000 times as components merge into 4 weighted components
    info = mixture_informations(rep, np.random.default_rng(3), num_mc_points=20000)
    for l in range(2):
        truth = integrated_heteroscedastic(means[:, l], sds[:, l])
        assert info.single[0, l] == pytest.approx(truth, abs=EXACT_TOL)
        assert info.rest[0, 1 - l] == pytest.approx(truth, abs=EXACT_TOL)
    assert 0 < info.joint[0] <= np.log(4) + EXACT_TOL
    assert info.joint[0] >= info.single[0].max() - EXACT_TOL


def test_posterior_with_equal_variances_matches_shared_covariance(diagonal_posterior):
    base = ideal(FactorSpace.synthetic([5]), noise=0.8)
    means = base.mean(np.arange(5)[:, None])
    rep = diagonal_posterior(means, np.full_like(means, np.sqrt(base.cov[0, 0])))
    a = mixture_informations(rep, np.random.default_rng(0), num_mc_points=20000).joint[0]
    b = mixture_informations(base, np.random.default_rng(0)).joint[0]
    assert a == pytest.approx(b, abs=EXACT_TOL)


def test_exact_memory_is_bounded(diagonal_posterior):
    # L = 20 without factor structure (posterior-style, per-component variances): the
    # log-density work is chunked, so the peak stays near max_memory_mb
    rng = np.random.default_rng(0)
    means = rng.normal(size=(40, 20))
    rep = diagonal_posterior(means, np.full_like(means, 0.5))
    tracemalloc.start()
    mixture_informations(rep, rng, num_mc_points=2000, num_components=2000, max_memory_mb=8)
    peak = tracemalloc.get_traced_memory()[1] / 1e6
    tracemalloc.stop()
    assert peak < 40  # inputs ~2 MB, chunk working set <= 8 MB, slack for per-latent copies


def table_mixture_information(factor, mu, sd, labels, grid):
    """``I(label; z)`` of a table's aggregate posterior ``mean_r N(mu_r, diag sd_r^2)``
    (rows ``r`` with factor values ``labels``), by the trapezoid rule on ``grid``
    (one 1-D axis per latent, at most two latents)."""
    axes = np.meshgrid(*grid, indexing="ij")
    points = np.stack([a.ravel() for a in axes], axis=1)
    dens = np.ones((len(mu), len(points)))
    for d in range(mu.shape[1]):
        dens *= np.exp(-0.5 * ((points[None, :, d] - mu[:, None, d]) / sd[:, None, d]) ** 2) \
            / (np.sqrt(2 * np.pi) * sd[:, None, d])
    marginal = dens.mean(axis=0)
    f = np.zeros(len(points))
    for v in np.unique(labels[:, factor]):
        rows = labels[:, factor] == v
        cond = dens[rows].mean(axis=0)
        with np.errstate(divide="ignore", invalid="ignore"):
            f += rows.mean() * np.where(cond > 0, cond * np.log(cond / marginal), 0.0)
    f = f.reshape(axes[0].shape)
    for axis in reversed(grid):
        f = np.trapezoid(f, axis, axis=-1)
    return float(f)


@pytest.mark.slow
def test_exact_on_a_table_of_distinct_posteriors_against_integration():
    # A VAE-like table: every row has its own posterior mean (the factor signal plus
    # row-to-row jitter) and its own variances, so no two components coincide.  The
    # estimator's target is the table's aggregate posterior mixed over all rows; with
    # every row a component, its only error is Monte Carlo over evaluation points:
    # measured over 10 seeds, sd 0.005 nats at 20,000 points, so 100,000 puts 0.01 at
    # over 4 sd (means agreed with the quadrature to 0.002).
    from benchmark import from_arrays
    rng = np.random.default_rng(0)
    factors = np.stack(np.meshgrid(np.arange(3), np.arange(4), indexing="ij"), -1).reshape(-1, 2)
    factors = np.repeat(factors, 20, axis=0)
    unit = (factors - factors.mean(0)) / factors.std(0)
    mu = np.column_stack([unit[:, 0] + 0.5 * unit[:, 1], unit[:, 1]])
    mu += 0.2 * rng.standard_normal(mu.shape)
    sd = rng.uniform(0.2, 0.6, size=mu.shape)
    rep = from_arrays(factors, mu, sd**2)
    info = mixture_informations(rep, np.random.default_rng(1), num_mc_points=100000)
    np.testing.assert_allclose(info.entropy, [np.log(3), np.log(4)], atol=1e-12)
    axis = [np.linspace(mu[:, d].min() - 4, mu[:, d].max() + 4, 401) for d in range(2)]
    for k in range(2):
        for l in range(2):
            truth = table_mixture_information(k, mu[:, [l]], sd[:, [l]], factors, [axis[l]])
            assert info.single[k, l] == pytest.approx(truth, abs=EXACT_TOL)
            assert info.rest[k, 1 - l] == pytest.approx(truth, abs=EXACT_TOL)
        truth = table_mixture_information(k, mu, sd, factors, axis)
        assert info.joint[k] == pytest.approx(truth, abs=EXACT_TOL)


def test_exact_on_a_table_with_fewer_evaluation_points_than_rows_is_unbiased():
    # With num_mc_points below the number of components the evaluation points must come
    # from distinct rows drawn across the whole table, not from its first rows (a
    # block of the table sorted by factor values: here factor 0's value 0 only).  One
    # draw of 150 points has a Monte Carlo sd of ~0.06 nats here; the mean over 80
    # seeds ~0.007, so 0.03 is over 4 sd.
    from benchmark import from_arrays
    factors = np.repeat(np.stack(np.meshgrid(np.arange(3), np.arange(4), indexing="ij"),
                                 -1).reshape(-1, 2), 50, axis=0)
    rng = np.random.default_rng(0)
    unit = (factors - factors.mean(0)) / factors.std(0)
    mu = unit + 0.3 * rng.standard_normal(unit.shape)
    sd = np.full(mu.shape, 0.5)
    rep = from_arrays(factors, mu, sd**2)
    estimates = np.array([mixture_informations(rep, np.random.default_rng(s), num_mc_points=150,
                                               num_components=600).single
                          for s in range(80)]).mean(axis=0)
    for k in range(2):
        for l in range(2):
            axis = np.linspace(mu[:, l].min() - 4, mu[:, l].max() + 4, 801)
            truth = table_mixture_information(k, mu[:, [l]], sd[:, [l]], factors, [axis])
            assert estimates[k, l] == pytest.approx(truth, abs=0.03)


def test_exact_posterior_on_a_space_that_is_not_a_grid(diagonal_posterior):
    # a space with its own sampler and no table: components are drawn from it, identical
    # ones merged into weighted components, and posterior(y) is called with y only
    class DrawnSpace(FactorSpace):
        is_grid = False

        def sample(self, n, rng):
            return rng.integers(0, 4, size=(int(n), 1))

    means = np.array([[-1.0], [0.0], [0.7], [2.0]])
    sds = np.array([[0.3], [0.6], [0.4], [1.0]])
    rep = diagonal_posterior(means, sds)
    rep.space = DrawnSpace(("f",), (4,), "drawn")
    assert resolve_estimator(rep) == "knn"  # auto cannot tell whether the sample covers the data
    info = mixture_informations(rep, np.random.default_rng(0), num_mc_points=20000)
    # component weights are the draw's counts (~1% from uniform), a ~1e-4 nat effect
    assert info.single[0, 0] == pytest.approx(integrated_heteroscedastic(means[:, 0], sds[:, 0]),
                                              abs=EXACT_TOL)


def test_exact_on_vae_like_encodings_respects_information_inequalities():
    # The example's table (20,000 rows, 7 latents, narrow posteriors) where evaluating a
    # mixture at points from rows outside it gave joint informations of -65 nats.  Every
    # information of the sampled mixture obeys 0 <= I(y; z_S) <= H(y) and grows with S,
    # exactly up to Monte Carlo error.
    arrays = vae_like_encodings(20000, np.random.default_rng(0))
    rep = from_arrays(**arrays)
    info = mixture_informations(rep, np.random.default_rng(0), num_mc_points=2000, num_components=2000)
    tol = 0.02
    assert np.all(info.single >= -tol) and np.all(info.rest >= -tol)
    assert np.all(info.joint <= info.entropy + 1e-6)
    assert np.all(info.joint[:, None] >= info.single - tol)
    assert np.all(info.joint[:, None] >= info.rest - tol)
    # clean latents: shape on z0, scale on z1, pos_y on z4; the collapsed z5 carries nothing
    np.testing.assert_allclose(info.single[[0, 1], [0, 1]], info.entropy[:2], atol=0.02)
    assert info.single[4, 4] > 0.8 * info.entropy[4]
    np.testing.assert_allclose(info.single[:, 5], 0.0, atol=1e-3)


def test_factor_grids_larger_than_num_components_are_enumerated_not_drawn():
    # cyclic mixing leaves no factor resolved by the latents without one, so their
    # mixture is the whole grid of 480 points; with 100 components drawn apart from the
    # evaluation points, those informations were tens of nats below zero
    rep = attacks.cyclic(ideal(FactorSpace.synthetic([6, 8, 10])), 0.25, None)
    streamed = mixture_informations(rep, 0, num_mc_points=5000, num_components=100)
    in_memory = mixture_informations(rep, 0, num_mc_points=5000, num_components=1000)
    assert breaches(streamed, tolerance=0.0) == []
    # two Monte Carlo estimates: seed-to-seed sd 0.012 (5,000 points) and 0.008 (10,400),
    # so 0.06 is four sd of their difference
    np.testing.assert_allclose(streamed.rest, in_memory.rest, atol=0.06)


def test_the_enumerated_group_equals_the_in_memory_mixture_on_the_same_points():
    # the same evaluation points against every grid point, streamed (each subset whitened,
    # far blocks skipped) and in memory: only the skipped blocks differ
    rep = attacks.cyclic(ideal(FactorSpace.synthetic([6, 8, 10])), 0.25, None)
    cov = regularised(np.asarray(rep.cov, dtype=float))
    book, rng = Codebook(rep, 0), np.random.default_rng(1)
    group, sizes = (0, 1, 2), rep.space.sizes
    y = stratified_factors(rep.space, 3000, rng)
    x = book.assemble(y) + rng.standard_normal((3000, 3)) @ np.linalg.cholesky(cov).T
    requests = {("all", -1): [0, 1, 2], ("rest", 0): [0, 1, 2], ("rest", 2): [1, 2]}
    streamed = Informations.zeros(3, 3, rep.space.entropies(), "exact")
    solve_enumerated(book, cov, rep.space, group, requests, y, x, 200.0, streamed.store)
    comp, log_count = grid_components(sizes, group, 1000, rng)
    mix = Mixture(x, book.assemble(comp), label_weights(comp, log_count, group, sizes), group, y, sizes,
                  cov=cov)
    for key, values in solve_mixture(mix, requests, 200.0).items():
        for k, v in values.items():
            got = streamed.joint[k] if key[0] == "all" else streamed.rest[k, key[1]]
            assert got == pytest.approx(v, abs=2 * SKIP_TOLERANCE)
