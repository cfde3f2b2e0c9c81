"""The exact estimator at full scale (every row of a posterior table a component, the
streamed kernel) against brute force, quadrature and the in-memory kernel, and the
linear attacks on posterior tables it scores exactly."""
import numpy as np
import pytest
from scipy.special import logsumexp

import attacks
from benchmark import from_arrays
from benchmark.information import informations, mixture_informations, resolve_estimator
from benchmark.information._stream import (
    SKIP_TOLERANCE,
    RowBlocks,
    Subset,
    shared_covariance_informations,
    streamed_informations,
)
from benchmark.information._tables import component_picks
from full_scale import quadrature_table, true_informations
from metrics_pid import unibound

# The streamed kernel differs from exact sums by the skipped blocks (each log-sum moves by
# less than SKIP_TOLERANCE) and float32 densities (relative 1e-7); the single latents by
# their bins (moment-matched; measured <= 3e-5 nats against unbinned sums on dSprites).
STREAM_TOL = 2 * SKIP_TOLERANCE
BINNED_TOL = 2e-4
# Against quadrature, the Monte Carlo error of 10,000 evaluation points: the 0.01 nats.
EXACT_TOL = 0.01


def grid(sizes):
    return np.stack(np.meshgrid(*[np.arange(s) for s in sizes], indexing="ij"), -1).reshape(-1, len(sizes))


def random_table(sizes, dim, seed, repeats=1):
    """A grid-covering table of a smooth, heteroscedastic, partly entangled encoder."""
    rng = np.random.default_rng(seed)
    factors = np.repeat(grid(sizes), repeats, axis=0)
    unit = factors / (np.asarray(sizes) - 1) * 2 - 1
    mix = rng.normal(size=(len(sizes), dim))
    mix[:, -1] = 0  # a collapsed latent
    codes = unit @ mix + 0.05 * rng.standard_normal((len(factors), dim))
    sd = 0.15 * np.exp(0.3 * rng.standard_normal((len(factors), dim)))
    sd[:, -1] = 1.0
    return factors, codes, sd**2


def brute_force(mu, var, labels, x, rows, drop=None, extra=None, extra_var=0.0):
    """Mean log-ratios per factor by direct double-precision sums over every row."""
    keep = [l for l in range(mu.shape[1]) if l != drop]
    terms = [-0.5 * ((x[:, None, l] - mu[None, :, l]) ** 2 / var[None, :, l] + np.log(var[None, :, l]))
             for l in keep]
    if extra is not None:
        v = var[:, drop] + extra_var
        terms.append(-0.5 * ((extra[:, None] - mu[None, :, drop]) ** 2 / v + np.log(v)))
    return mean_log_ratios(sum(terms), labels, rows)


def mean_log_ratios(log_dens, labels, rows):
    """Per factor, the mean over points of ``log p(x | own value) - log p(x)`` from the
    points' log densities under every row (points x rows)."""
    total = logsumexp(log_dens, axis=1) - np.log(log_dens.shape[1])
    out = []
    for k in range(labels.shape[1]):
        same = labels[None, :, k] == labels[rows, k][:, None]
        own = logsumexp(np.where(same, log_dens, -np.inf), axis=1) - np.log(same.sum(axis=1))
        out.append(np.mean(own - total))
    return np.array(out)


def test_streamed_kernel_equals_direct_sums():
    factors, codes, variances = random_table((3, 4, 5, 6), 4, seed=0, repeats=4)
    blocks = RowBlocks.build(codes, variances, factors, leaf=64)
    rng = np.random.default_rng(1)
    rows = rng.choice(len(codes), 300, replace=False)
    x = blocks.mu[rows] + np.sqrt(blocks.var[rows]) * rng.standard_normal((300, 4))
    extra = x[:, 1] + 0.7 * rng.standard_normal(300)
    subsets = {"all": Subset(), "rest": Subset(drop=2), "copy": Subset(drop=1, extra=extra, extra_var=0.49)}
    got = streamed_informations(blocks, (3, 4, 5, 6), x, rows, subsets)
    args = (blocks.mu, blocks.var, blocks.labels, x, rows)
    np.testing.assert_allclose(got["all"], brute_force(*args), atol=STREAM_TOL)
    np.testing.assert_allclose(got["rest"], brute_force(*args, drop=2), atol=STREAM_TOL)
    np.testing.assert_allclose(got["copy"], brute_force(*args, drop=1, extra=extra, extra_var=0.49),
                               atol=STREAM_TOL)
    # the blocks are a permutation of the table, with boxes that hold their rows
    np.testing.assert_array_equal(np.sort(blocks.order), np.arange(len(codes)))
    for b in range(len(blocks.starts) - 1):
        part = blocks.mu[blocks.starts[b]:blocks.starts[b + 1]]
        assert np.all(part >= blocks.lo[b]) and np.all(part <= blocks.hi[b])


def test_streamed_and_in_memory_kernels_agree_on_the_same_points():
    # num_components below the number of rows sends the table to the streamed kernel;
    # both draw the same evaluation points from the same seed
    rep = from_arrays(*random_table((4, 5, 6), 5, seed=2, repeats=3))
    in_memory = mixture_informations(rep, 7, num_mc_points=3000, num_components=len(rep.codes))
    streamed = mixture_informations(rep, 7, num_mc_points=3000, num_components=100)
    np.testing.assert_allclose(streamed.joint, in_memory.joint, atol=STREAM_TOL)
    np.testing.assert_allclose(streamed.rest, in_memory.rest, atol=STREAM_TOL)
    np.testing.assert_allclose(streamed.single, in_memory.single, atol=BINNED_TOL)
    np.testing.assert_array_equal(streamed.entropy, in_memory.entropy)


def _check_against_quadrature(info, truth):
    single, rest, joint = true_informations(truth, info.single.shape[1])
    np.testing.assert_allclose(info.joint, joint, atol=EXACT_TOL)
    np.testing.assert_allclose(info.single, single, atol=EXACT_TOL)
    np.testing.assert_allclose(info.rest, rest, atol=EXACT_TOL)


def test_full_table_against_quadrature():
    factors, codes, variances, truth = quadrature_table((3, 6, 10, 16, 16), (0.5, 0.3, 0.15, 0.08, 0.12), 2)
    rep = from_arrays(factors, codes, variances)
    assert len(rep.codes) > 10000 and resolve_estimator(rep) == "exact"
    info = informations(rep, 0)  # the defaults: 10,000 points, every one of the 46,080 rows
    _check_against_quadrature(info, truth)


@pytest.mark.slow
def test_whole_dsprites_table_against_quadrature():
    factors, codes, variances, truth = quadrature_table()  # dSprites, five collapsed latents
    rep = from_arrays(factors, codes, variances)
    assert len(rep.codes) == 737_280 and rep.dim == 10
    _check_against_quadrature(informations(rep, 0), truth)


def _attacked_brute_force(table, attacked, seed, n):
    """Every information of a linear attack on a table with the estimator's own evaluation
    points, from each row's full-covariance Gaussian ``N(A mu_r, A D_r A^T + B B^T)``."""
    rng = np.random.default_rng(seed)
    mu, var, labels = table.codes, table.variances, table.space.rows
    pick = component_picks(np.ones(len(mu)), n, rng)
    x = mu[pick] + np.sqrt(var[pick]) * rng.standard_normal((n, mu.shape[1]))
    matrix, noise = attacked.matrix, attacked.noise_matrix
    dim = matrix.shape[0]
    z = x @ matrix.T + rng.standard_normal((n, noise.shape[1])) @ noise.T
    means = mu @ matrix.T
    covs = np.einsum("il,rl,jl->rij", matrix, var, matrix) + noise @ noise.T

    def info(subset):
        sub = np.ix_(subset, subset)
        prec = np.linalg.inv(covs[(slice(None),) + sub])
        logdet = np.linalg.slogdet(covs[(slice(None),) + sub])[1]
        diff = z[:, None, subset] - means[None][:, :, subset]
        log_dens = -0.5 * (np.einsum("nri,rij,nrj->nr", diff, prec, diff) + logdet)
        total = logsumexp(log_dens, axis=1)
        out = []
        for k in range(labels.shape[1]):
            same = labels[None, :, k] == labels[pick, k][:, None]
            own = logsumexp(np.where(same, log_dens, -np.inf), axis=1)
            out.append(np.mean(own - np.log(same.sum(1)) - total + np.log(len(mu))))
        return np.array(out)

    every = list(range(dim))
    return (np.column_stack([info([l]) for l in every]),
            np.column_stack([info([m for m in every if m != l]) for l in every]), info(every))


@pytest.mark.parametrize("attack, level", [("redundancy", 0.0), ("redundancy", 1.5), ("duplicate", 4.0),
                                           ("rotation", 0.5), ("mixing_noise", 0.3), ("synergy", 0.5)])
def test_linear_attacks_on_a_table_against_full_covariance_sums(attack, level):
    # redundancy and duplicate through the streamed kernel's extra coordinate, the others
    # through the full-covariance kernel: both against direct double-precision sums
    table = from_arrays(*random_table((3, 4, 5), 3, seed=3, repeats=2))
    attacked = attacks.get(attack)(table, level, np.random.default_rng(0))
    assert resolve_estimator(attacked) == "exact"
    info = mixture_informations(attacked, 5, num_mc_points=2000)
    single, rest, joint = _attacked_brute_force(table, attacked, 5, 2000)
    np.testing.assert_allclose(info.joint, joint, atol=STREAM_TOL)
    np.testing.assert_allclose(info.rest, rest, atol=STREAM_TOL)
    np.testing.assert_allclose(info.single, single, atol=BINNED_TOL)


def test_noise_attack_on_a_table_is_the_table_with_wider_posteriors():
    factors, codes, variances = random_table((3, 4, 5), 3, seed=4, repeats=2)
    noisy = attacks.get("noise")(from_arrays(factors, codes, variances), 0.5, np.random.default_rng(0))
    wider = from_arrays(factors, codes, variances + 0.25)
    a, b = (mixture_informations(rep, 3, num_mc_points=2000) for rep in (noisy, wider))
    np.testing.assert_allclose(a.joint, b.joint, atol=STREAM_TOL)
    np.testing.assert_allclose(a.rest, b.rest, atol=STREAM_TOL)
    np.testing.assert_allclose(a.single, b.single, atol=BINNED_TOL)


def test_information_is_flat_under_the_redundancy_attack_on_encodings():
    # a copy adds no information: the joint information of every level is that of the
    # table's own latents, from the same evaluation points
    table = from_arrays(*random_table((4, 5, 6), 4, seed=5, repeats=2))
    scores = [unibound(attacks.get("redundancy")(table, level, np.random.default_rng(0)), 1,
                       num_mc_points=2000) for level in (0.0, 0.5, 2.0, 8.0)]
    mi = [s["mi"] for s in scores]
    assert max(mi) - min(mi) < 1e-12
    assert scores[-1]["unibound"] < scores[0]["unibound"] - 0.05  # the attack is still seen


def test_linear_attacks_on_large_tables_need_the_diagonal_structure():
    # a mixing attack gives every row a full covariance: exact up to num_components rows,
    # beyond them it would sample rows, so auto leaves it to kNN on posterior draws
    table = from_arrays(*random_table((3, 4, 5), 3, seed=6))
    rotated = attacks.get("rotation")(table, 0.5, np.random.default_rng(0))
    assert resolve_estimator(rotated) == "exact"
    assert resolve_estimator(rotated, num_components=50) == "posterior_knn"
    assert resolve_estimator(rotated, "exact", num_components=50) == "exact"
    assert mixture_informations(rotated, 0, num_mc_points=500, num_components=50).joint.shape == (3,)
    redundant = attacks.get("redundancy")(table, 1.0, np.random.default_rng(0))
    assert resolve_estimator(redundant, num_components=50) == "exact"
    assert resolve_estimator(attacks.get("xor")(table, 1.0, np.random.default_rng(0))) == "knn"


def mahalanobis_brute_force(means, cov, labels, x, rows, subset):
    """Mean log-ratios per factor by direct double-precision sums over rows sharing ``cov``."""
    diff = x[:, None, subset] - means[None, :, subset]
    log_dens = -0.5 * np.einsum("npi,ij,npj->np", diff, np.linalg.inv(cov[np.ix_(subset, subset)]), diff)
    return mean_log_ratios(log_dens, labels, rows)


def test_shared_covariance_kernel_equals_direct_sums():
    # correlated noise shared by every row (a rotated, mixed ideal representation):
    # whitening each subset by its own covariance leaves only the skipped blocks.  960
    # rows make four blocks, narrow noise makes most of them skippable for each point,
    # and the points' own rows are not in table order once blocked
    rng = np.random.default_rng(3)
    labels = grid((8, 10, 12))
    means = labels @ rng.normal(size=(3, 4))
    a = rng.normal(size=(4, 4))
    cov = 0.02 * (a @ a.T + np.eye(4))
    rows = rng.choice(len(means), 400)
    x = means[rows] + rng.standard_normal((400, 4)) @ np.linalg.cholesky(cov).T
    subsets = {("all", -1): [0, 1, 2, 3], ("rest", 1): [0, 2, 3], ("one", 2): [2]}
    got = shared_covariance_informations(means, cov, labels, (8, 10, 12), x, rows, subsets)
    for key, subset in subsets.items():
        np.testing.assert_allclose(got[key], mahalanobis_brute_force(means, cov, labels, x, rows, subset),
                                   atol=STREAM_TOL)
