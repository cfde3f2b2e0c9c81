"""The nearest-neighbour estimator against scikit-learn, known values and its own two counting paths."""
import numpy as np
import pytest
from scipy.stats import special_ortho_group
from sklearn.feature_selection import mutual_info_classif

import attacks
from benchmark import BenchmarkError, FactorSpace, ideal
from benchmark.information import informations, knn_informations, knn_informations_from_codes, knn_mutual_info
from benchmark.representations import linear_transform


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
def test_knn_accuracy_up_to_ten_dimensions(integrated_information, one_d, dim):
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


def test_chunked_counts_equal_the_kd_tree_across_chunk_boundaries():
    # 1,500 points are counted in chunks of 666 rows (the last one partial); the full-set and
    # all-but-one informations must equal the KD-tree path's exactly, ties included
    # (coordinates rounded to 0.1, as a table of encodings with duplicates gives)
    rng = np.random.default_rng(0)
    codes = np.round(rng.standard_normal((1500, 6)), 1)
    factors = np.stack([rng.integers(0, 4, 1500), (codes[:, 0] > 0) + 2 * (codes[:, 3] > 0.5)], 1)
    tree = knn_informations_from_codes(codes, factors, counts="tree")
    chunked = knn_informations_from_codes(codes, factors, counts="chunked")
    for part in ("joint", "rest", "single"):
        np.testing.assert_array_equal(getattr(chunked, part), getattr(tree, part))


def test_knn_chunked_counts_equal_the_kd_tree():
    # From BRUTE_FORCE_DIMS latents on, the full-set and "all but one" neighbour counts come
    # from one pass over the coordinates; they must equal the KD-tree's exactly, including
    # ties (duplicated codes) and a factor with a value seen once (which takes the
    # KD-tree path).
    rep = linear_transform(ideal(FactorSpace.synthetic([3, 5, 4, 6, 2, 3, 4]), noise=0.5),
                           special_ortho_group.rvs(7, random_state=0))
    results = [knn_informations(rep, np.random.default_rng(0), num_samples=600, counts=counts)
               for counts in ("chunked", "tree")]
    rng = np.random.default_rng(0)
    codes = np.round(rng.standard_normal((300, 8)), 1)  # many tied coordinates
    labels = np.stack([rng.integers(0, 4, 300), np.r_[rng.integers(0, 3, 299), 7]], axis=1)
    results += [knn_informations_from_codes(codes, labels, entropy=np.ones(2), counts=counts)
                for counts in ("chunked", "tree")]
    for a, b in (results[:2], results[2:]):
        for part in ("joint", "rest", "single"):
            np.testing.assert_array_equal(getattr(a, part), getattr(b, part))
    with pytest.raises(BenchmarkError, match="counts must be one of"):
        knn_informations(rep, 0, counts="brute")


def test_chunked_counts_stay_exact_where_single_precision_cannot_resolve_the_radii():
    # the chunked pass screens pairs in single precision: with codes around 1e4 (not
    # centred, so they stay there after scaling) float32 resolves only ~1e-3, far coarser
    # than the gaps between neighbours; the screening margin must keep the counts exact
    rng = np.random.default_rng(1)
    codes = 3e4 + np.round(rng.standard_normal((800, 7)), 2)
    factors = np.stack([rng.integers(0, 5, 800), (codes[:, 1] > 3e4).astype(int)], 1)
    tree = knn_informations_from_codes(codes, factors, counts="tree")
    chunked = knn_informations_from_codes(codes, factors, counts="chunked")
    for part in ("joint", "rest"):
        np.testing.assert_array_equal(getattr(chunked, part), getattr(tree, part))


def test_latents_of_pure_noise_are_flagged_with_the_measured_bias():
    from benchmark.information import NOISE_LATENT_BIAS, silent_latent_warning
    base = ideal(FactorSpace.synthetic([4, 5]))
    clean = informations(base, np.random.default_rng(0), estimator="knn", num_samples=3000)
    assert silent_latent_warning(clean) == []
    noisy = attacks.get("nuisance")(base, 5, np.random.default_rng(1))
    info = informations(noisy, np.random.default_rng(0), estimator="knn", num_samples=3000)
    (line,) = silent_latent_warning(info)
    assert line.startswith("5 latent(s) (z2, z3, z4, z5, z6)")
    assert f"up to {NOISE_LATENT_BIAS[5]:.2f} of H" in line
    # the bias is real here too: the noise latents pull I(y; z) down
    assert np.all(info.joint < clean.joint)
    # posterior tables screen such latents instead; the exact estimator is not biased by them
    assert silent_latent_warning(informations(noisy, 0, estimator="exact")) == []


def test_the_quoted_noise_latent_bias_is_the_benchmarks_measurement(root):
    import pandas as pd

    from benchmark.information import NOISE_LATENT_BIAS
    table = pd.read_csv(root / "benchmarks" / "knn_noise_latents.csv")
    measured = table.groupby("appended")["shift"].agg(lambda s: s.abs().max())
    assert {m: round(float(measured[m]), 2) for m in NOISE_LATENT_BIAS} == NOISE_LATENT_BIAS


def test_a_bad_metric_scale_is_one_clear_error():
    codes, factors = np.zeros((10, 2)) + np.arange(10)[:, None], np.arange(10)[:, None] % 2
    for scale in ([1.0], [1.0, 0.0], [1.0, np.nan]):
        with pytest.raises(BenchmarkError, match="scale must be 2 positive finite numbers"):
            knn_informations_from_codes(codes, factors, scale=scale)
    # scaling both columns alike is the default's unit-variance metric up to a factor: same result
    std = codes.std(axis=0)
    np.testing.assert_array_equal(knn_informations_from_codes(codes, factors, scale=2 * std).joint,
                                  knn_informations_from_codes(codes, factors).joint)


def test_a_constant_latent_carries_nothing_and_changes_nothing():
    # ties at distance 0 once made every point a neighbour of every other: -7.2 nats
    # for a constant latent beside a three-valued factor (the circular attack's level 0)
    rng = np.random.default_rng(0)
    y = rng.integers(0, 3, size=(2000, 2))
    z = y + 0.3 * rng.standard_normal((2000, 2))
    without = knn_informations_from_codes(z, y)
    got = knn_informations_from_codes(np.column_stack([z[:, 0], np.full(2000, 4.0), z[:, 1]]), y)
    np.testing.assert_array_equal(got.single[:, [0, 2]], without.single)
    np.testing.assert_array_equal(got.single[:, 1], 0.0)
    np.testing.assert_array_equal(got.rest[:, [0, 2]], without.rest)
    np.testing.assert_array_equal(got.rest[:, 1], without.joint)
    np.testing.assert_array_equal(got.joint, without.joint)
    assert knn_informations_from_codes(np.zeros((50, 2)), y[:50]).joint.tolist() == [0.0, 0.0]
