"""Information estimators against numerical integration, scikit-learn and known cases."""
import tracemalloc
from types import SimpleNamespace

import numpy as np
import pytest
from scipy.stats import special_ortho_group
from sklearn.feature_selection import mutual_info_classif

import attacks
from benchmark import BenchmarkError, FactorSpace, GaussianRepresentation, ideal
from benchmark.estimators import (informations, knn_informations, knn_mutual_info,
                                  mixture_informations, resolve_estimator)
from benchmark.representations import StandardisedIndex, linear_transform

# Tolerance of the exact estimator: the 0.01 nats.  On these small grids the
# component side is enumerated exactly, so the only error is Monte Carlo over the
# evaluation points; its standard deviation measured over seeds is <= 0.0015 nats
# (1-D, K = 40, heavy overlap), so 0.01 is more than 6 sigma.
EXACT_TOL = 0.01


def integrated_information(means, cov, labels, grid_points=1201):
    """``I(label; z)`` of the uniform mixture ``sum_j N(means[j], cov)`` by a fine grid.

    The means are whitened and projected on their span (at most 2-D here): the
    orthogonal complement is pure noise, independent of the label, so the
    information is that of the projection, integrated on a regular grid with
    the trapezoid rule over +-9 noise standard deviations beyond the means.
    """
    chol = np.linalg.cholesky(cov)
    white = np.linalg.solve(chol, means.T).T
    centred = white - white.mean(axis=0)
    _, s, vt = np.linalg.svd(centred, full_matrices=False)
    basis = vt[s > 1e-9 * max(1.0, s[0])]
    proj = centred @ basis.T                     # (G, r), unit noise in every direction
    r = proj.shape[1]
    if r == 0:
        return 0.0
    axes = [np.linspace(proj[:, i].min() - 9, proj[:, i].max() + 9, grid_points) for i in range(r)]
    mesh = np.stack(np.meshgrid(*axes, indexing="ij"), axis=-1).reshape(-1, r)
    values = np.unique(labels)
    dens = np.zeros((len(values), len(mesh)))
    for j, m in enumerate(proj):
        dens[np.searchsorted(values, labels[j])] += np.exp(-0.5 * ((mesh - m) ** 2).sum(1))
    counts = np.array([(labels == v).sum() for v in values], dtype=float)
    cond = dens / counts[:, None]
    marg = dens.sum(0) / len(proj)
    with np.errstate(divide="ignore", invalid="ignore"):
        integrand = np.where(cond > 0, cond * np.log(cond / marg), 0.0)
    integrand = (integrand * (counts / counts.sum())[:, None]).sum(0).reshape([grid_points] * r)
    for i in range(r):
        integrand = np.trapezoid(integrand, axes[i], axis=0)
    return float(integrand) / (2 * np.pi) ** (r / 2)


def integrated_all(rep):
    """Every information of a Gaussian representation on a small grid, by integration."""
    sizes = rep.space.sizes
    grid = np.stack(np.meshgrid(*[np.arange(s) for s in sizes], indexing="ij"), -1).reshape(-1, len(sizes))
    mean, dim = rep.mean(grid), rep.dim
    out = {"single": np.zeros((len(sizes), dim)), "rest": np.zeros((len(sizes), dim)),
           "joint": np.zeros(len(sizes))}
    for k in range(len(sizes)):
        out["joint"][k] = integrated_information(mean, rep.cov, grid[:, k])
        for l in range(dim):
            out["single"][k, l] = integrated_information(mean[:, [l]], rep.cov[[l]][:, [l]], grid[:, k])
            rest = np.delete(np.arange(dim), l)
            out["rest"][k, l] = integrated_information(mean[:, rest], rep.cov[np.ix_(rest, rest)], grid[:, k])
    return out


def one_d(num_values, sigma):
    space = FactorSpace.synthetic([num_values])
    scale = np.sqrt((num_values**2 - 1) / 12)
    return GaussianRepresentation(space, StandardisedIndex([(num_values - 1) / 2], [scale]),
                                  [[sigma**2]], name=f"1d({num_values},{sigma})")


@pytest.mark.parametrize("num_values", [2, 6, 40])
@pytest.mark.parametrize("sigma", [0.05, 0.3, 1.0])
def test_exact_1d_against_integration(num_values, sigma):
    rep = one_d(num_values, sigma)
    truth = integrated_information(rep.mean(np.arange(num_values)[:, None]), rep.cov,
                                   np.arange(num_values), grid_points=40001)
    info = mixture_informations(rep, np.random.default_rng(num_values))
    assert info.joint[0] == pytest.approx(truth, abs=EXACT_TOL)
    assert info.single[0, 0] == pytest.approx(truth, abs=EXACT_TOL)
    assert info.rest[0, 0] == 0.0  # the empty subset


@pytest.mark.parametrize("angle", [np.pi / 8, np.pi / 4])
def test_exact_rotated_pair_against_integration(angle):
    rep = attacks.get("rotation")(ideal(FactorSpace.synthetic([4, 6]), noise=0.6), angle / (np.pi / 4),
                                  np.random.default_rng(0))
    truth = integrated_all(rep)
    info = mixture_informations(rep, np.random.default_rng(1))
    np.testing.assert_allclose(info.single, truth["single"], atol=EXACT_TOL)
    np.testing.assert_allclose(info.rest, truth["rest"], atol=EXACT_TOL)
    np.testing.assert_allclose(info.joint, truth["joint"], atol=EXACT_TOL)


@pytest.mark.parametrize("attack,level", [("redundancy", 0.5), ("redundancy", 2.0),
                                          ("synergy", 0.5), ("synergy", 2.0)])
def test_exact_attacks_against_integration(attack, level):
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
    info = mixture_informations(rep, np.random.default_rng(0), num_eval=3000, num_components=3000)
    h = info.entropy
    np.testing.assert_allclose(info.joint, h, atol=1e-3)
    np.testing.assert_allclose(info.single[:, :5], np.diag(h), atol=1e-3)
    # without latent k, factor k is only seen through the noisy rotated copy:
    # an information strictly between 0 and H
    rest_own = np.diag(info.rest[:, :5])
    assert np.all(rest_own > 0.02 * h) and np.all(rest_own < 0.9 * h)


class DiagonalPosterior:
    """A VAE-like table: factor value ``v`` has posterior ``N(m_v, s_v^2)`` per latent."""

    is_gaussian = False

    def __init__(self, means, sds):
        self.means, self.sds = np.asarray(means, float), np.asarray(sds, float)
        self.space = FactorSpace.synthetic([self.means.shape[0]])
        self.dim = self.means.shape[1]
        self.name = "diagonal-posterior"

    def posterior(self, y):
        y = np.asarray(y)[:, 0]
        return self.means[y], self.sds[y] ** 2

    def encode(self, y, rng):
        m, v = self.posterior(y)
        return m + np.sqrt(v) * rng.standard_normal(m.shape)


def integrated_heteroscedastic(means, sds):
    z = np.linspace(means.min() - 10 * sds.max(), means.max() + 10 * sds.max(), 200001)
    cond = np.exp(-0.5 * ((z[None] - means[:, None]) / sds[:, None]) ** 2) / (np.sqrt(2 * np.pi) * sds[:, None])
    marg = cond.mean(0)
    with np.errstate(divide="ignore", invalid="ignore"):
        f = np.where(cond > 0, cond * np.log(cond / marg), 0.0).mean(0)
    return float(np.trapezoid(f, z))


def test_exact_posterior_table_against_integration():
    means = np.array([[-1.0, 0.0], [0.0, 0.5], [0.7, -0.5], [2.0, 1.0]])
    sds = np.array([[0.3, 1.0], [0.6, 0.4], [0.4, 0.8], [1.0, 0.5]])
    rep = DiagonalPosterior(means, sds)
    assert resolve_estimator(rep) == "exact"
    # 4 values drawn 10,000 times as components merge into 4 weighted components
    info = mixture_informations(rep, np.random.default_rng(3), num_eval=20000)
    for l in range(2):
        truth = integrated_heteroscedastic(means[:, l], sds[:, l])
        assert info.single[0, l] == pytest.approx(truth, abs=EXACT_TOL)
        assert info.rest[0, 1 - l] == pytest.approx(truth, abs=EXACT_TOL)
    assert 0 < info.joint[0] <= np.log(4) + EXACT_TOL
    assert info.joint[0] >= info.single[0].max() - EXACT_TOL


def test_posterior_with_equal_variances_matches_shared_covariance():
    base = ideal(FactorSpace.synthetic([5]), noise=0.8)
    means = base.mean(np.arange(5)[:, None])
    rep = DiagonalPosterior(means, np.full_like(means, np.sqrt(base.cov[0, 0])))
    a = mixture_informations(rep, np.random.default_rng(0), num_eval=20000).joint[0]
    b = mixture_informations(base, np.random.default_rng(0)).joint[0]
    assert a == pytest.approx(b, abs=EXACT_TOL)


def test_exact_memory_is_bounded():
    # L = 20 without factor structure (posterior-style, per-component variances): the
    # log-density work is chunked, so the peak stays near max_memory_mb
    rng = np.random.default_rng(0)
    means = rng.normal(size=(40, 20))
    rep = DiagonalPosterior(means, np.full_like(means, 0.5))
    tracemalloc.start()
    mixture_informations(rep, rng, num_eval=2000, num_components=2000, max_memory_mb=8)
    peak = tracemalloc.get_traced_memory()[1] / 1e6
    tracemalloc.stop()
    assert peak < 40  # inputs ~2 MB, chunk working set <= 8 MB, slack for per-latent copies


def test_knn_matches_sklearn_on_one_latent():
    # Same algorithm as sklearn's _compute_mi_cd; sklearn also scales the column and adds
    # 1e-10-relative noise, which only changes a neighbour count when two distances tie
    # to within 1e-10 (none here): the estimates agree to rounding, far inside 0.01.
    rng = np.random.default_rng(0)
    for num_values, sigma in [(2, 1.0), (6, 0.3), (40, 0.05)]:
        y = rng.integers(0, num_values, 5000)
        z = y / num_values + sigma * rng.standard_normal(5000)
        ours = knn_mutual_info(z, y, k=3)
        ref = mutual_info_classif(z[:, None], y, n_neighbors=3, random_state=0)[0]
        assert ours == pytest.approx(ref, abs=0.01)
        assert ours == pytest.approx(ref, abs=1e-6)


@pytest.mark.parametrize("dim", [1, 3, 10])
def test_knn_accuracy_up_to_ten_dimensions(dim):
    # the label sits on one direction, rotated into all dimensions; isotropic noise, so
    # the truth is the 1-D information.  Measured errors over seeds: |err| <= 0.025.
    rep = one_d(4, 0.5)
    truth = integrated_information(rep.mean(np.arange(4)[:, None]), rep.cov, np.arange(4), 40001)
    rng = np.random.default_rng(dim)
    y = rng.integers(0, 4, 10000)
    z = 0.5 * rng.standard_normal((10000, dim))
    z[:, 0] += rep.mean(y[:, None])[:, 0]
    rot = special_ortho_group.rvs(dim, random_state=1) if dim > 1 else np.eye(1)
    assert knn_mutual_info(z @ rot.T, y) == pytest.approx(truth, abs=0.05)


def test_knn_informations_shapes_and_ideal():
    rep = ideal(FactorSpace.synthetic([3, 4]), noise=0.1)
    info = knn_informations(rep, np.random.default_rng(0), num_samples=3000)
    assert info.single.shape == (2, 2) and info.estimator == "knn"
    np.testing.assert_allclose(np.diag(info.single), info.entropy, atol=0.05)
    assert np.all(info.rest[[0, 1], [0, 1]] < 0.05)


def test_estimator_choice_and_errors():
    rep = ideal(FactorSpace.synthetic([3, 4]))
    assert resolve_estimator(rep) == "exact"
    assert resolve_estimator(rep, "knn") == "knn"
    assert informations(rep, np.random.default_rng(0), num_eval=500).estimator == "exact"
    with pytest.raises(BenchmarkError, match="estimator"):
        resolve_estimator(rep, "bogus")
    with pytest.raises(BenchmarkError, match="num_eval"):
        mixture_informations(rep, np.random.default_rng(0), num_eval=0)
    with pytest.raises(BenchmarkError, match="rng"):
        mixture_informations(rep, 0)
    table = linear_transform(DiagonalPosterior(np.eye(3), np.ones((3, 3))), np.eye(3))
    # an attack on a posterior table does not transform the posteriors: not exact
    assert resolve_estimator(table) == "knn"
    with pytest.raises(BenchmarkError, match="exact"):
        resolve_estimator(table, "exact")


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
    info = mixture_informations(rep, np.random.default_rng(1), num_eval=100000)
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
    # With num_eval below the number of components the evaluation points must come
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
    estimates = np.array([mixture_informations(rep, np.random.default_rng(s), num_eval=150,
                                               num_components=600).single
                          for s in range(80)]).mean(axis=0)
    for k in range(2):
        for l in range(2):
            axis = np.linspace(mu[:, l].min() - 4, mu[:, l].max() + 4, 801)
            truth = table_mixture_information(k, mu[:, [l]], sd[:, [l]], factors, [axis])
            assert estimates[k, l] == pytest.approx(truth, abs=0.03)


def test_auto_uses_the_exact_estimator_on_a_posterior_grid_only_when_it_fits():
    # a mixture over a sample of a larger grid singles out its components' values of
    # the other factors, so auto falls back to kNN there
    class GridPosterior:
        is_gaussian = False

        def __init__(self, sizes):
            self.space, self.dim, self.name = FactorSpace.synthetic(sizes), len(sizes), "grid"

        def posterior(self, y):
            return y / np.asarray(self.space.sizes, float), np.full(y.shape, 0.01)

    assert resolve_estimator(GridPosterior([100, 100])) == "exact"
    assert resolve_estimator(GridPosterior([100, 100]), num_components=2000) == "knn"
    assert resolve_estimator(GridPosterior([100, 100]), "exact", num_components=2000) == "exact"


def test_exact_posterior_on_a_space_that_is_not_a_grid():
    # a space with its own sampler and no table: components are drawn from it, identical
    # ones merged into weighted components, and posterior(y) is called with y only
    class DrawnSpace(FactorSpace):
        def sample(self, n, rng):
            return rng.integers(0, 4, size=(int(n), 1))

    means = np.array([[-1.0], [0.0], [0.7], [2.0]])
    sds = np.array([[0.3], [0.6], [0.4], [1.0]])
    rep = DiagonalPosterior(means, sds)
    rep.space = DrawnSpace(("f",), (4,), "drawn")
    assert resolve_estimator(rep) == "knn"  # auto cannot tell whether the sample covers the data
    info = mixture_informations(rep, np.random.default_rng(0), num_eval=20000)
    # component weights are the draw's counts (~1% from uniform), a ~1e-4 nat effect
    assert info.single[0, 0] == pytest.approx(integrated_heteroscedastic(means[:, 0], sds[:, 0]),
                                              abs=EXACT_TOL)


def test_exact_on_vae_like_encodings_respects_information_inequalities():
    # The example's table (20,000 rows, 7 latents, narrow posteriors) where evaluating a
    # mixture at points from rows outside it gave joint informations of -65 nats.  Every
    # information of the sampled mixture obeys 0 <= I(y; z_S) <= H(y) and grows with S,
    # exactly up to Monte Carlo error.
    import importlib.util
    from pathlib import Path
    from benchmark import from_arrays
    path = Path(__file__).resolve().parents[1] / "examples" / "make_encodings.py"
    spec = importlib.util.spec_from_file_location("make_encodings", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    arrays = module.vae_like_encodings(20000, np.random.default_rng(0))
    rep = from_arrays(**arrays)
    info = mixture_informations(rep, np.random.default_rng(0), num_eval=2000, num_components=2000)
    tol = 0.02
    assert np.all(info.single >= -tol) and np.all(info.rest >= -tol)
    assert np.all(info.joint <= info.entropy + 1e-6)
    assert np.all(info.joint[:, None] >= info.single - tol)
    assert np.all(info.joint[:, None] >= info.rest - tol)
    # clean latents: shape on z0, scale on z1, pos_y on z4; the collapsed z5 carries nothing
    np.testing.assert_allclose(info.single[[0, 1], [0, 1]], info.entropy[:2], atol=0.02)
    assert info.single[4, 4] > 0.8 * info.entropy[4]
    np.testing.assert_allclose(info.single[:, 5], 0.0, atol=1e-3)


def test_chunked_ball_counts_across_chunk_boundaries():
    # 1,500 points are processed in chunks of 666 rows (the last one partial); every
    # count must equal the KD-tree's, ties included (coordinates rounded to 0.1)
    from scipy.spatial import cKDTree
    from benchmark.estimators import _ball_counts
    rng = np.random.default_rng(0)
    codes = np.round(rng.standard_normal((1500, 6)), 1)
    radii = {("all", -1): [rng.uniform(0.1, 1.0, 1500)],
             **{("rest", l): [rng.uniform(0.1, 1.0, 1500)] for l in range(6)}}
    counts = _ball_counts(codes, radii)
    for (kind, l), [r] in radii.items():
        sub = codes if kind == "all" else np.delete(codes, l, axis=1)
        expected = cKDTree(sub).query_ball_point(sub, r, p=np.inf, return_length=True)
        np.testing.assert_array_equal(counts[kind, l][0], expected)


def test_knn_chunked_counts_equal_the_kd_tree(monkeypatch):
    # From BRUTE_FORCE_DIMS latents on, the full-set and "all but one" neighbour counts come
    # from one pass over the coordinates; they must equal the KD-tree's exactly, including
    # ties (duplicated codes, as a table of encodings gives) and a factor with a value seen
    # once (which takes the KD-tree path).
    import benchmark.estimators as est
    rng = np.random.default_rng(0)
    rep = linear_transform(ideal(FactorSpace.synthetic([3, 5, 4, 6, 2, 3, 4]), noise=0.5),
                           special_ortho_group.rvs(7, random_state=0))
    results = []
    for dims in (7, 10**9):
        monkeypatch.setattr(est, "BRUTE_FORCE_DIMS", dims)
        results.append(knn_informations(rep, np.random.default_rng(0), num_samples=600))
    np.testing.assert_array_equal(results[0].joint, results[1].joint)
    np.testing.assert_array_equal(results[0].rest, results[1].rest)
    np.testing.assert_array_equal(results[0].single, results[1].single)
    codes = np.round(rng.standard_normal((300, 8)), 1)  # many tied coordinates
    labels = np.stack([rng.integers(0, 4, 300), np.r_[rng.integers(0, 3, 299), 7]], axis=1)

    class Fixed:  # a table whose sample is exactly these rows
        space = SimpleNamespace(sample=lambda n, rng: labels, entropies=lambda: np.ones(2))
        dim = 8

        def encode(self, y, rng):
            return codes

    for dims in (7, 10**9):
        monkeypatch.setattr(est, "BRUTE_FORCE_DIMS", dims)
        results.append(knn_informations(Fixed(), rng, num_samples=300))
    np.testing.assert_array_equal(results[2].joint, results[3].joint)
    np.testing.assert_array_equal(results[2].rest, results[3].rest)
