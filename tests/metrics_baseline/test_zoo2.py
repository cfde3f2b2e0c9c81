"""MCC, MED / Top-k MED and disentanglement_lib's unsupervised scores: agreement with the
authors' code on fixed arrays, closed forms, hand-computed cases, invariances and errors."""
import itertools
import json
from pathlib import Path

import numpy as np
import pytest

from benchmark import BenchmarkError, FactorSpace, from_arrays, ideal
from benchmark.spec import FAMILIES, PROPERTIES
from metrics_baseline import SPECS
from metrics_baseline._dci import completeness, disentanglement
from metrics_baseline._mcc import SPEC as MCC_SPEC
from metrics_baseline._mcc import correlation_matrix, mcc, mcc_score
from metrics_baseline._med import SPEC as MED_SPEC
from metrics_baseline._med import TOPK_SPEC, med, med_importance, med_score, top_k_codes
from metrics_baseline._omes import SPEC as OMES_SPEC
from metrics_baseline._omes import (
    omes,
    omes_per_factor,
    omes_score,
    one_diff_pairs,
    response_matrix,
)
from metrics_baseline._unsupervised import SPEC as UNSUPERVISED_SPEC
from metrics_baseline._unsupervised import (
    gaussian_total_correlation,
    gaussian_wasserstein_correlation,
    unsupervised,
    unsupervised_score,
)

DATA = Path(__file__).resolve().parent.parent / "data"  # tests/data: see its README


@pytest.fixture(scope="module")
def zoo2():
    arrays = np.load(DATA / "metric_zoo_arrays.npz")
    reference = json.loads((DATA / "zoo2_reference.json").read_text())
    sets = {name: (arrays[f"{name}_codes"], arrays[f"{name}_factors"]) for name in reference["sets"]}
    assert sets, "zoo2_reference.json names no set"
    return sets, reference["metrics"]


def _means(metrics, name):
    return {s: r["mean"] for s, r in metrics[name]["results"].items()}


# ---------------------------------------------------------------- agreement with the authors' code


def test_mcc_agrees_with_icebeem(zoo2):
    """``mean_corr_coef`` is deterministic: 1e-6 (float64 correlations and one matching)."""
    sets, metrics = zoo2
    for name, expected in _means(metrics, "mcc/mcc").items():
        codes, factors = sets[name]
        assert mcc_score(codes, factors)["mcc"] == pytest.approx(expected["pearson"], abs=1e-6), name
        assert mcc_score(codes, factors, method="spearman")["mcc"] == pytest.approx(
            expected["spearman"], abs=1e-6), name
        # The reference is symmetric in its arguments; so is the score.
        assert mcc_score(factors.astype(float), codes)["mcc"] == pytest.approx(
            expected["pearson_factors_first"], abs=1e-6), name


def test_unsupervised_scores_agree_with_disentanglement_lib(zoo2):
    sets, metrics = zoo2
    for name, expected in _means(metrics, "dlib/unsupervised").items():
        out = unsupervised_score(sets[name][0])
        for key in ("gaussian_total_correlation", "gaussian_wasserstein_correlation",
                    "gaussian_wasserstein_correlation_norm", "mutual_info_score"):
            assert out[key] == pytest.approx(expected[key], abs=1e-6), (name, key)


def test_med_agrees_with_the_authors_code(zoo2):
    """``med/med``: train = test = the stored rows in order (deterministic, 1e-6).  The
    reference's ``top1_*`` and ``top2_*`` are this function's ``top_*`` with topk 1 and 2."""
    sets, metrics = zoo2
    for name, expected in _means(metrics, "med/med").items():
        codes, factors = sets[name]
        out = med_score(codes, factors, codes, factors)
        for key in ("disentanglement", "completeness", "informativeness_train", "informativeness_test"):
            assert out[key] == pytest.approx(expected[key], abs=1e-6), (name, key)
        for k in (1, 2):
            top = med_score(codes, factors, topk=k, informativeness=False)
            for key in ("disentanglement", "completeness"):
                assert top[f"top_{key}"] == pytest.approx(expected[f"top{k}_{key}"], abs=1e-6), (name, k)


def test_med_resampled_agrees_in_distribution(zoo2):
    """``med/med@resampled`` draws train and test rows with replacement: our mean over five
    draws of our own within 0.01 of the reference's mean for the D / C keys (tighter than
    the usual 0.02: on ``small`` resampling itself moves D by 0.017, from 0.9715 to
    0.9547, with a seed-to-seed std of 0.003)."""
    sets, metrics = zoo2
    for name, expected in _means(metrics, "med/med@resampled").items():
        codes, factors = sets[name]
        rng = np.random.default_rng(0)
        draws = []
        for _ in range(5):
            train, test = rng.integers(len(codes), size=(2, len(codes)))
            draws.append(med_score(codes[train], factors[train], informativeness=False))
        for key in ("disentanglement", "completeness"):
            ours = np.mean([d[key] for d in draws])
            assert ours == pytest.approx(expected[key], abs=0.01), (name, key)


def test_omes_agrees_with_the_authors_code_on_their_pairs(zoo2):
    """The reference's pairs are stored (its pairing cannot be seeded in the original):
    per-factor scores for both poolings and every alpha to 1e-6; OMES, which the
    reference rounds to 4 decimals, to 5e-5."""
    sets, metrics = zoo2
    pairs = np.load(DATA / "zoo2_omes_pairs.npz")
    for name, result in metrics["omes/omes"]["results"].items():
        codes, factors = sets[name]
        for run in result["runs"]:
            seed, out = run["seed"], run["output"]
            keys = [f"{name}__seed{seed}__f{k}" for k in range(factors.shape[1])]
            xs = [codes[pairs[f"{key}__x"]] for key in keys]
            ys = [codes[pairs[f"{key}__y"]] for key in keys]
            assert all(np.all((factors[pairs[f"{key}__x"]] != factors[pairs[f"{key}__y"]]).sum(1) == 1)
                       for key in keys)
            response = response_matrix(xs, ys)
            for pooling in ("max", "avg"):
                for alpha in (1.0, 0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3, 0.2, 0.0):
                    ours = omes_per_factor(response, alpha=alpha, pooling=pooling)
                    theirs = [out[f"factor/{pooling}/{alpha}/f{k}"] for k in range(len(keys))]
                    np.testing.assert_allclose(ours, theirs, atol=1e-6, rtol=0)
            assert omes_score(xs, ys)["omes"] == pytest.approx(out["avg/0.5"], abs=5e-5)
            assert omes_score(xs, ys, pooling="max")["omes"] == pytest.approx(out["max/0.5"], abs=5e-5)


# ---------------------------------------------------------------- OMES


def test_omes_hand_computed():
    """C = [[1, 0], [0.5, 0.5]]: latent 0 moves with factor 0 only, latent 1 with both.
    Factor 0: overlap per latent [1, .5], multiple encoding [1 - (0 + .5)/2, 1 - (1 + .5)/2]
    = [.75, .25]; avg pooling, sum(score * w^2) / sum(w) with w = [1, .5]:
    (1 + .5 * .25) / 1.5 = .75 and (.75 + .25 * .25) / 1.5 = .541666...  Factor 1: only
    latent 1 (w = .5) counts, its score times .25 / .5: overlap .5 -> .25, multiple
    encoding 1 - (0 + .5)/2 = .75 -> .375."""
    c = np.array([[1.0, 0.0], [0.5, 0.5]])
    np.testing.assert_allclose(omes_per_factor(c, alpha=1.0), [0.75, 0.25], atol=1e-15)
    np.testing.assert_allclose(omes_per_factor(c, alpha=0.0), [0.8125 / 1.5, 0.375], atol=1e-15)
    np.testing.assert_allclose(omes_per_factor(c, alpha=1.0, pooling="max"), [1.0, 0.25], atol=1e-15)


def test_omes_of_a_perfect_response_is_one_and_invariances():
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal((2, 3000, 3))
    xs = [a.copy() for _ in range(3)]
    ys = []
    for k in range(3):
        y = a.copy()
        y[:, k] = b[:, k]  # factor k moves latent k, independently of where it was
        ys.append(y)
    # Below 1 by the moved latents' sample correlation: E|corr| = sqrt(2 / (pi n)) = 0.015.
    assert omes_score(xs, ys)["omes"] == pytest.approx(1.0, abs=0.03)
    # Permuting latents, rescaling or flipping one: the same score.
    perm = [2, 0, 1]
    scale = np.array([3.0, -0.5, 1.0])
    base = omes_score(xs, ys)
    moved = omes_score([x[:, perm] * scale for x in xs], [y[:, perm] * scale for y in ys])
    assert moved == pytest.approx(base, abs=1e-12)


def test_omes_drops_inactive_latents_and_scores_an_unmoved_factor_zero():
    rng = np.random.default_rng(1)
    a, b = rng.standard_normal((2, 2000, 2))
    xs = [a.copy(), a.copy()]
    ys = [np.c_[b[:, 0], a[:, 1]], np.c_[a[:, 0], b[:, 1]]]
    base = omes_score(xs, ys)
    # A latent of standard deviation 0.01 (< 0.05) is inactive: dropped, as in the reference.
    tiny = 0.01 * rng.standard_normal((2000, 1))
    wider = omes_score([np.c_[x, tiny] for x in xs], [np.c_[y, tiny[::-1]] for y in ys])
    assert wider == base
    # No latent moves with factor 1: its column of C is 0 and it scores 0.
    assert omes_per_factor(np.array([[0.9, 0.0], [0.1, 0.0]]))[1] == 0.0


def test_one_diff_pairs_are_the_references_pairs_in_kind():
    y = grid([3, 4, 2])
    for k, (x_rows, y_rows) in enumerate(one_diff_pairs(y, 0)):
        differ = y[x_rows] != y[y_rows]
        assert np.all(differ[:, k]) and differ.sum(axis=1).tolist() == [1] * len(x_rows)
        # Each group of m distinct vectors is visited m times, m // 2 pairs each.
        m = y[:, k].max() + 1
        assert len(x_rows) == len(y) * (m // 2)


def test_omes_on_grids_and_tables():
    space = FactorSpace.synthetic([6, 8])
    # A latent copying a factor of m values: C = 1 - 1/(m - 1) (see the module docstring).
    out = omes(ideal(space, noise=0), 0, num_pairs=20000)
    c = np.array([[1 - 1 / 5, 0.0], [0.0, 1 - 1 / 7]])
    assert out["omes"] == pytest.approx(np.mean(omes_per_factor(c)), abs=0.02)
    table = from_arrays(grid([6, 8], repeat=2), np.repeat(grid([6, 8]), 2, axis=0).astype(float))
    assert omes(table, 0, num_pairs=5000)["omes"] == pytest.approx(out["omes"], abs=0.03)
    with pytest.raises(BenchmarkError, match="pooling must be one of"):
        omes_per_factor(np.eye(2), pooling="mean")


# ---------------------------------------------------------------- MCC


def grid(sizes, repeat=1):
    mesh = np.stack(np.meshgrid(*map(np.arange, sizes), indexing="ij"), -1).reshape(-1, len(sizes))
    return np.repeat(mesh, repeat, axis=0)


def test_mcc_is_one_up_to_permutation_rescaling_and_sign():
    y = grid([3, 4, 5])
    z = np.stack([5.0 - 0.5 * y[:, 2], 3.0 * y[:, 0], y[:, 1] + 7.0], axis=1)
    assert mcc_score(z, y)["mcc"] == pytest.approx(1.0, abs=1e-12)
    # Spearman: any monotone map of a latent is still a perfect match.
    assert mcc_score(np.exp(z), y, method="spearman")["mcc"] == pytest.approx(1.0, abs=1e-12)


def test_mcc_of_a_rotation_is_cos_of_the_angle():
    """On a full grid the two factors are uncorrelated with equal variance: rotating them
    by theta gives |corr| = cos theta on the matched pairs (for theta <= 45 degrees)."""
    y = grid([6, 6]).astype(float)
    theta = np.deg2rad(30)
    rot = np.array([[np.cos(theta), -np.sin(theta)], [np.sin(theta), np.cos(theta)]])
    assert mcc_score(y @ rot.T, y)["mcc"] == pytest.approx(np.cos(theta), abs=1e-12)


def test_mcc_matching_is_the_best_of_all_one_to_one_assignments():
    """Brute force over every injective map of 3 factors into 4 latents; one example where
    pairing each factor with its most correlated latent (greedy) would do worse."""
    rng = np.random.default_rng(0)
    y = rng.integers(0, 6, size=(5000, 3)).astype(float)
    mix = np.array([[1.0, 0.9, 0.0], [0.9, 0.2, 0.0], [0.0, 0.3, 1.0], [0.1, 0.1, 0.1]])
    z = y @ mix.T + 0.5 * rng.standard_normal((5000, 4))
    corr = correlation_matrix(z, y)
    best = max(np.mean([corr[p[k], k] for k in range(3)]) for p in itertools.permutations(range(4), 3))
    assert mcc_score(z, y)["mcc"] == pytest.approx(best, abs=1e-12)
    greedy = np.mean(corr.max(axis=0))
    assert best <= greedy  # the bound a matching cannot beat


def test_mcc_ignores_duplicated_latents_and_handles_constants():
    y = grid([4, 5], repeat=3)
    z = y.astype(float)
    wide = np.column_stack([z, z[:, 0], np.ones(len(z))])
    assert mcc_score(wide, y)["mcc"] == pytest.approx(1.0, abs=1e-12)
    assert correlation_matrix(wide, y)[3].tolist() == [0.0, 0.0]  # the constant latent
    # Fewer latents than factors: the mean over min(L, K) pairs.
    assert mcc_score(z[:, :1], y)["mcc"] == pytest.approx(1.0, abs=1e-12)


def test_mcc_of_independent_codes_is_small():
    rng = np.random.default_rng(1)
    y = rng.integers(0, 10, size=(20000, 3))
    z = rng.standard_normal((20000, 3))
    # |corr| of independent columns is about sqrt(2 / (pi n)) = 0.0056 each.
    assert mcc_score(z, y)["mcc"] < 0.02


def test_mcc_on_representations():
    space = FactorSpace.synthetic([4, 5, 3])
    assert mcc(ideal(space, noise=0), 0, num_samples=1000)["mcc"] == pytest.approx(1.0, abs=1e-12)
    rep = from_arrays(grid([4, 5, 3]), np.random.default_rng(0).standard_normal((60, 3)))
    assert 0 <= mcc(rep, 0, num_samples=1000)["mcc"] < 0.4


def test_mcc_refuses_an_unknown_method():
    with pytest.raises(BenchmarkError, match="method must be one of 'pearson', 'spearman'"):
        mcc_score(np.ones((4, 1)), np.zeros((4, 1), int), method="kendall")


# ---------------------------------------------------------------- MED


def test_med_of_an_ideal_code_is_one():
    y = grid([3, 4, 5], repeat=2)
    out = med_score(y[:, [2, 0, 1]].astype(float), y, y[:, [2, 0, 1]].astype(float), y)
    for key in ("disentanglement", "completeness", "top_disentanglement", "top_completeness",
                "informativeness_train", "informativeness_test"):
        assert out[key] == pytest.approx(1.0, abs=1e-6), key


def test_med_importance_is_the_column_normalised_information():
    """Latent 0 copies factor 0 (2 values), latent 1 copies both (4 values): I = ln 2 in
    every cell but (0, 1), which is 0; columns normalised: [[.5, 0], [.5, 1]]."""
    y = grid([2, 2], repeat=5)
    z = np.column_stack([y[:, 0], 2 * y[:, 1] + y[:, 0]]).astype(float)
    r = med_importance(z, y)
    np.testing.assert_allclose(r, [[0.5, 0.0], [0.5, 1.0]], atol=1e-12)
    out = med_score(z, y, informativeness=False)
    assert out["disentanglement"] == pytest.approx(disentanglement(r), abs=1e-15)
    assert out["completeness"] == pytest.approx(completeness(r), abs=1e-15)


def test_top_k_keeps_the_most_disentangled_codes_per_factor():
    # Codes 0, 1, 2 belong to factor 0 (per-code D: 1, ~0.53, ~0.12), code 3 to factor 1.
    r = np.array([[1.0, 0.0], [0.9, 0.1], [0.6, 0.4], [0.1, 0.9]])
    assert top_k_codes(r, 1).tolist() == [0, 3]
    assert top_k_codes(r, 2).tolist() == [0, 1, 3]
    assert top_k_codes(r, 5).tolist() == [0, 1, 2, 3]


def test_top_k_with_a_factor_that_owns_no_code():
    """Both codes are credited to factor 0 (equal per-code D, a tie kept in row order):
    factor 1 keeps none, Top-1 keeps one row, Top-2 both."""
    r = np.array([[0.7, 0.35], [0.3, 0.15]])
    assert top_k_codes(r, 1).tolist() == [0] and top_k_codes(r, 2).tolist() == [0, 1]
    top = med_score(np.c_[np.arange(8.0), np.arange(8.0) % 4], np.c_[np.arange(8) // 2,
                                                                     np.zeros(8, int)],
                    informativeness=False)
    assert np.isfinite(list(top.values())).all()


def test_top_k_med_ignores_uninformative_latents():
    """Many latents of pure noise drag MED's completeness down; Top-1 keeps one per factor."""
    rng = np.random.default_rng(0)
    y = grid([4, 5], repeat=100)
    z = np.column_stack([y + 0.01 * rng.standard_normal(y.shape), rng.standard_normal((len(y), 30))])
    out = med_score(z, y, informativeness=False)
    assert out["top_completeness"] > 0.95 > out["completeness"]


def test_med_is_invariant_to_permuting_latents():
    rng = np.random.default_rng(2)
    y = rng.integers(0, 4, size=(3000, 3))
    z = y @ rng.standard_normal((3, 4)) + 0.5 * rng.standard_normal((3000, 4))
    a = med_score(z, y, z, y)
    b = med_score(z[:, [3, 1, 0, 2]], y, z[:, [3, 1, 0, 2]], y)
    for key in a:
        assert a[key] == pytest.approx(b[key], abs=1e-9), key


def test_med_on_representations_and_errors():
    out = med(ideal(FactorSpace.synthetic([3, 4]), noise=0), 0, num_train=600, num_test=600)
    # Below 1 only by the plug-in informations' bias on 600 draws of 12 combinations.
    assert out["disentanglement"] > 0.9 and out["informativeness_test"] == 1.0
    with pytest.raises(BenchmarkError, match="codes_test and factors_test are required"):
        med_score(np.ones((4, 1)), np.zeros((4, 1), int))
    with pytest.raises(BenchmarkError, match="k must be"):
        top_k_codes(np.eye(2), 0)


# ---------------------------------------------------------------- unsupervised scores


@pytest.mark.parametrize("rho", [0.0, 0.3, -0.8])
def test_gaussian_scores_closed_forms(rho):
    """Unit variances, correlation rho: TC = -log(1 - rho^2) / 2 and
    W2^2 = 4 - 2 (sqrt(1 + rho) + sqrt(1 - rho)) (the eigenvalues of C are 1 +- rho)."""
    cov = np.array([[1.0, rho], [rho, 1.0]])
    assert gaussian_total_correlation(cov) == pytest.approx(-0.5 * np.log(1 - rho**2), abs=1e-12)
    expected = 4 - 2 * (np.sqrt(1 + rho) + np.sqrt(1 - rho))
    assert gaussian_wasserstein_correlation(cov) == pytest.approx(expected, abs=1e-12)


def test_gaussian_scores_with_unequal_variances():
    """TC does not depend on scale; W2^2 between N(0, C) and N(0, D) by its definition
    tr C + tr D - 2 tr (D^1/2 C D^1/2)^1/2, from the eigenvalues."""
    cov = np.array([[4.0, 1.2, 0.0], [1.2, 1.0, -0.3], [0.0, -0.3, 0.25]])
    d = np.sqrt(np.diag(cov))
    corr = cov / np.outer(d, d)
    assert gaussian_total_correlation(cov) == pytest.approx(gaussian_total_correlation(corr), abs=1e-12)
    middle = np.diag(d) @ cov @ np.diag(d)
    expected = 2 * np.trace(cov) - 2 * np.sum(np.sqrt(np.linalg.eigvalsh(middle)))
    assert gaussian_wasserstein_correlation(cov) == pytest.approx(expected, abs=1e-12)


def test_wasserstein_agrees_with_the_references_sqrtm_on_unequal_variances():
    import scipy.linalg

    cov = np.array([[4.0, 1.2, 0.0], [1.2, 1.0, -0.3], [0.0, -0.3, 0.25]])
    reference = 2 * np.trace(cov) - 2 * np.trace(scipy.linalg.sqrtm(cov * np.diag(cov)[:, None])).real
    assert gaussian_wasserstein_correlation(cov) == pytest.approx(reference, abs=1e-12)


def test_a_constant_latent_adds_no_total_correlation_and_a_noisy_copy_is_scored():
    rng = np.random.default_rng(4)
    z = rng.multivariate_normal([0, 0], [[1, 0.5], [0.5, 1]], 5000)
    with_constant = np.c_[z, np.zeros(5000)]
    assert unsupervised_score(with_constant)["gaussian_total_correlation"] == pytest.approx(
        unsupervised_score(z)["gaussian_total_correlation"], abs=1e-12)
    # A copy with noise 1e-5 of its scale is a finite (large) dependence: about
    # -log(1 - rho^2) / 2 with 1 - rho^2 = 1e-10, i.e. 11.5 nats.
    x = z[:, 0]
    copy = np.c_[x, x + 1e-5 * rng.standard_normal(5000)]
    assert unsupervised_score(copy)["gaussian_total_correlation"] == pytest.approx(11.5, abs=0.1)


def test_mutual_info_score_of_copies_and_of_independent_latents():
    y = grid([4, 5], repeat=50)
    z = y.astype(float)
    # A latent and a monotone map of it: I = H = ln 4 in both ordered pairs.
    copy = np.column_stack([z[:, 0], np.exp(z[:, 0])])
    assert unsupervised_score(copy)["mutual_info_score"] == pytest.approx(np.log(4), abs=1e-12)
    # Independent factors on a full grid: exactly 0.
    assert unsupervised_score(z)["mutual_info_score"] == pytest.approx(0.0, abs=1e-12)


def test_unsupervised_scores_rise_with_mixing_and_ignore_permutation():
    rng = np.random.default_rng(3)
    z = rng.standard_normal((20000, 3))
    mixed = z @ np.array([[1, 0.5, 0], [0, 1, 0.5], [0, 0, 1.0]])
    a, b = unsupervised_score(z), unsupervised_score(mixed)
    for key in a:
        assert b[key] > a[key] + 0.01, key
    c = unsupervised_score(mixed[:, [2, 0, 1]])
    for key in b:
        assert c[key] == pytest.approx(b[key], rel=1e-9), key


def test_unsupervised_errors_and_representation():
    with pytest.raises(BenchmarkError, match="at least two latents"):
        unsupervised_score(np.ones((10, 1)))
    with pytest.raises(BenchmarkError, match="singular"):
        gaussian_total_correlation(np.ones((2, 2)))
    with pytest.raises(BenchmarkError, match="codes are constant"):
        unsupervised_score(np.ones((10, 2)))
    # An exact copy: no finite total correlation, refused rather than printed as ~18 nats.
    x = np.random.default_rng(0).standard_normal(100)
    with pytest.raises(BenchmarkError, match="singular"):
        unsupervised_score(np.column_stack([x, x]))
    # Its Wasserstein distance is finite: the closed form at rho = 1, 4 - 2 sqrt 2.
    assert gaussian_wasserstein_correlation(np.ones((2, 2))) == pytest.approx(4 - 2 * np.sqrt(2), abs=1e-12)
    out = unsupervised(ideal(FactorSpace.synthetic([3, 4])), 0, num_samples=3000)
    assert out["gaussian_total_correlation"] < 2e-3


# ---------------------------------------------------------------- specs


def test_specs_are_listed_with_family_and_target():
    assert {"mcc", "med", "med_topk", "omes", "unsupervised"} <= {s.name for s in SPECS}
    assert (OMES_SPEC.family, OMES_SPEC.target) == ("intervention", "modularity")
    assert (MCC_SPEC.family, MCC_SPEC.target) == ("predictor", "compactness")
    assert (MED_SPEC.family, MED_SPEC.target, TOPK_SPEC.target) == ("information", "modularity",
                                                                    "modularity")
    assert UNSUPERVISED_SPEC.family == "unsupervised" and UNSUPERVISED_SPEC.target is None
    assert UNSUPERVISED_SPEC.headline in UNSUPERVISED_SPEC.rising
    assert all(s.family in FAMILIES and s.target in (None, *PROPERTIES) for s in SPECS)
    assert not any(s.default for s in (MCC_SPEC, MED_SPEC, TOPK_SPEC, UNSUPERVISED_SPEC))
