"""The review's intervention-based metrics: Z-diff (BetaVAE's review spec), Z-min variance
(FactorVAE's review spec), Z-max variance and IRS.

Agreement with the review's code (ubisoft/ubisoft-laforge-disentanglement-metrics) on
the stored reference arrays, the values of perfect and independent codes, invariances,
the row samplers, the representation-level functions and clear errors.  IRS is a
deterministic function of the arrays; the others draw batches, and every tolerance on
them says where it comes from.
"""
import json
from pathlib import Path

import numpy as np
import pytest

import attacks
from benchmark import BenchmarkError, FactorSpace, from_arrays, ideal, linear_transform
from benchmark.representations import Representation
from metrics_baseline import _beta_vae, _factor_vae, _irs, _z_max_var
from metrics_baseline._beta_vae import beta_vae_rows_score, beta_vae_score
from metrics_baseline._binning import review_bins
from metrics_baseline._factor_vae import factor_vae_rows_score, scale_accuracy, vote_accuracy
from metrics_baseline._irs import irs, irs_matrix, irs_score
from metrics_baseline._sampling import (
    row_batches,
    row_varying_batches,
    sample_varying_batches,
)
from metrics_baseline._z_max_var import z_max_var, z_max_var_score

REFERENCE = Path(__file__).resolve().parent.parent / "data"  # tests/data: see its README
SMALL = FactorSpace.synthetic((3, 4, 5))
DSPRITES = FactorSpace.named("dsprites")
SPECS = {"z_diff": _beta_vae.REVIEW_SPEC, "z_min_var": _factor_vae.REVIEW_SPEC,
         "z_max_var": _z_max_var.SPEC, "irs": _irs.SPEC}
#: Smaller sizes where a test is about behaviour, not about the review's defaults.
SIZES = {"z_diff": {"num_train": 1000, "num_test": 1000},
         "z_min_var": {"num_train": 800, "num_test": 2000, "num_variance_estimate": 3000},
         "z_max_var": {"num_train": 800, "num_test": 2000, "num_variance_estimate": 3000},
         "irs": {"num_train": 3000}}


#: Smaller batches still for the invariance and determinism tests.
SMALL_BATCHES = {"z_diff": {"batch_size": 50}, "z_min_var": {"batch_size": 50},
                 "z_max_var": {"batch_size": 50}, "irs": {}}


def run(name, rep, seed=0, **params):
    spec = SPECS[name]
    return spec.run(rep, np.random.default_rng(seed), {**SIZES[name], **params})[0]


class Independent(Representation):
    """Codes drawn from N(0, I) whatever the factors: no information at all."""

    def __init__(self, space, dim):
        super().__init__(space, dim, "independent")

    def encode(self, y, rng):
        y = self.space.check_factors(y)
        return rng.standard_normal((y.shape[0], self.dim))


class Permuted(Representation):
    """``base``'s codes with columns permuted, using the same random draws."""

    def __init__(self, base, perm):
        super().__init__(base.space, base.dim, f"permuted({base.name})")
        self.base, self.perm = base, np.asarray(perm)

    def encode(self, y, rng):
        return self.base.encode(y, rng)[:, self.perm]


def full_grid(sizes, repeats=1):
    """Every factor combination ``repeats`` times."""
    grid = np.indices(sizes).reshape(len(sizes), -1).T
    return np.tile(grid, (repeats, 1))


# --- agreement with the review ------------------------------------------------------

def _reference_sets():
    """The sets the reference JSON lists (any number, any shapes).  A missing file is an
    error of the suite, not a skip."""
    return json.loads((REFERENCE / "metric_zoo_reference.json").read_text())["sets"]


@pytest.fixture(scope="module")
def reference():
    arrays = np.load(REFERENCE / "metric_zoo_arrays.npz")
    scores = json.loads((REFERENCE / "metric_zoo_reference.json").read_text())
    return arrays, scores


#: The review's keyword arguments spelled as our options (None: no counterpart needed).
RENAME = {"nb_bins": "num_bins", "batch_size": "batch_size", "nb_training": "num_train",
          "nb_eval": "num_test", "nb_max_iterations": "max_iter",
          "nb_variance_estimate": "num_variance_estimate", "scale": "scale",
          "continuous_factors": "continuous_factors", "diff_quantile": "diff_quantile"}
CORES = {"z_diff": beta_vae_rows_score, "z_min_var": factor_vae_rows_score,
         "z_max_var": z_max_var_score}
SEEDS = {"z_diff": 5, "z_min_var": 20, "z_max_var": 20}


def our_options(name, params):
    options = {RENAME[key]: value for key, value in params.items() if key != "std_threshold"}
    if "std_threshold" in params:
        options["prune_threshold" if name == "z_min_var" else "std_threshold"] = params["std_threshold"]
    return options


def _entry(reference, name, dataset):
    arrays, scores = reference
    entry = scores["metrics"].get(f"ubisoft/{name}")
    assert entry is not None and dataset in entry["results"], \
        f"tests/data has no reference score of {name} on {dataset}"
    expected = entry["results"][dataset]["mean"]["score"]
    assert expected is not None and np.isfinite(expected), f"the review's score of {name} on {dataset}"
    return arrays[f"{dataset}_codes"], arrays[f"{dataset}_factors"], entry["params"], expected


@pytest.mark.parametrize("name", list(CORES))
@pytest.mark.parametrize("dataset", _reference_sets())
def test_sampled_metrics_agree_with_the_review(reference, name, dataset):
    codes, factors, params, expected = _entry(reference, name, dataset)
    options = our_options(name, params)
    ours = [CORES[name](codes, factors, np.random.default_rng(seed), **options)["eval_accuracy"]
            for seed in range(SEEDS[name])]
    # The review's values are means over its seeds 0-4 of batches drawn from the rows;
    # ours over seeds of our own, drawn the same way.  The rule for sampled metrics:
    # means within 0.02.  800 evaluation votes give a scaled accuracy an sd of up to
    # ~0.018 per seed, so the review's 5-seed mean alone has a standard error of ~0.008;
    # 20 seeds of ours (0.05 s each) keep our share of the difference to ~0.004.  Z-diff
    # (5000 points, sd ~0.006 per seed, 1.3 s each) needs only five.
    assert np.mean(ours) == pytest.approx(expected, abs=0.02)


@pytest.mark.parametrize("dataset", _reference_sets())
def test_irs_agrees_with_the_review(reference, dataset):
    codes, factors, params, expected = _entry(reference, "irs", dataset)
    # Deterministic given the arrays: equal to rounding.
    assert irs_score(codes, factors, **our_options("irs", params))["irs"] == pytest.approx(expected, abs=1e-6)


def test_review_specs_carry_the_review_parameters(reference):
    _, scores = reference
    for name, spec in [("z_diff", _beta_vae.REVIEW_SPEC), ("z_min_var", _factor_vae.REVIEW_SPEC)]:
        review = our_options(name, scores["metrics"][f"ubisoft/{name}"]["params"])
        # The binning options belong to the array cores: the protocol's factors are indices.
        review = {k: v for k, v in review.items() if k not in ("continuous_factors", "num_bins")}
        assert spec.params == review
    assert _beta_vae.REVIEW_SPEC.func is _beta_vae.beta_vae
    assert _factor_vae.REVIEW_SPEC.func is _factor_vae.factor_vae
    for spec in SPECS.values():
        assert (spec.family, spec.target, spec.default) == ("intervention", "modularity", False)


# --- perfect and independent codes ----------------------------------------------------

@pytest.mark.parametrize("name", ["z_diff", "z_min_var", "z_max_var"])
def test_ideal_representation_scores_one(name):
    # Codes are the factor indices plus 0.1 value-spacings of noise: holding a factor
    # fixed (or letting only it vary) singles out its latent in every batch.
    assert run(name, ideal(SMALL))["eval_accuracy"] == 1.0


@pytest.mark.parametrize("core", list(CORES.values()), ids=list(CORES))
def test_codes_equal_to_factors_score_one_from_rows(core):
    factors = full_grid((3, 4, 2, 5), repeats=4)
    out = core(factors.astype(float), factors, 0, batch_size=50, num_train=300, num_test=300)
    assert out["eval_accuracy"] == 1.0


def test_irs_of_perfect_codes_is_one():
    factors = full_grid((3, 4, 5), repeats=2)
    for quantile in (0.5, 0.99, 1.0):
        # Holding factor l fixed holds latent l exactly: no deviation at all.
        assert irs_score(factors * 2.5 - 1, factors, diff_quantile=quantile)["irs"] == pytest.approx(1.0)
    # With noise the deviation is the noise's quantile, hence a score below 1.
    assert 0.85 < run("irs", ideal(DSPRITES))["irs"] < 1.0


@pytest.mark.parametrize("name", ["z_diff", "z_min_var", "z_max_var"])
def test_independent_codes_score_near_zero(name):
    space = FactorSpace.synthetic((4, 3, 6, 5))
    # Scaled accuracies: chance is accuracy 1/K, scaled to 0.  Votes and features
    # carry nothing about the label, so held-out accuracy is 1/K in expectation; its
    # sd is sqrt((1/4)(3/4)/n) * 4/3 after scaling: 0.010 for n = 2000 evaluation votes,
    # 0.018 for Z-diff's 1000 points; 0.06 is over 3 sd.
    assert run(name, Independent(space, 5))["eval_accuracy"] == pytest.approx(0.0, abs=0.06)


@pytest.mark.parametrize("core", list(CORES.values()), ids=list(CORES))
def test_independent_codes_score_near_zero_from_rows(core):
    rng = np.random.default_rng(3)
    factors = np.stack([rng.integers(0, s, 4000) for s in (3, 5, 4)], axis=1)
    codes = rng.standard_normal((4000, 6))
    # Chance 0 once scaled (see above); 1500 evaluation points: sd 0.015 after scaling.
    out = core(codes, factors, 1, batch_size=50, num_train=800, num_test=1500, scale=True)
    assert out["eval_accuracy"] == pytest.approx(0.0, abs=0.06)


def test_independent_codes_irs_is_its_no_information_value():
    rng = np.random.default_rng(0)
    factors = np.stack([rng.integers(0, s, 6000) for s in (2, 5, 7)], axis=1)
    codes = rng.standard_normal((6000, 4)) * [1.0, 2.0, 0.5, 3.0]
    # IRS has no zero at chance: when fixing a factor changes nothing, a latent's
    # deviation within any group is its overall one, so each entry is
    # 1 - quantile(|z - mean|) / max|z - mean| (~0.35 for 6000 Gaussian draws).  Group
    # quantiles (860-3000 rows) scatter around the pooled one and the best factor is
    # kept, which lifts the score by ~0.005: 0.02 covers it.
    deviation = np.abs(codes - codes.mean(axis=0))
    chance = np.average(1 - np.quantile(deviation, 0.99, axis=0) / deviation.max(axis=0),
                        weights=deviation.max(axis=0))
    assert irs_score(codes, factors)["irs"] == pytest.approx(chance, abs=0.02)
    assert irs_score(codes, factors, diff_quantile=1.0)["irs"] < 0.3


# --- hand-computed cases --------------------------------------------------------------

def test_irs_hand_computed():
    # Factor 0 takes values 0, 0, 1, 1; factor 1 values 0, 1, 0, 1.  Latent 0 = factor 0
    # plus factor 1 / 2; latent 1 is constant and is dropped.
    factors = np.array([[0, 0], [0, 1], [1, 0], [1, 1]])
    codes = np.array([[0.0, 3.0], [0.5, 3.0], [1.0, 3.0], [1.5, 3.0]])
    matrix, max_deviations, active = irs_matrix(codes, factors, diff_quantile=1.0)
    assert active.tolist() == [True, False]
    # mean 0.75: the largest deviation is 0.75.  Holding factor 0 fixed the groups are
    # {0, .5} and {1, 1.5}: deviations 0.25 -> 1 - 0.25/0.75 = 2/3.  Holding factor 1
    # fixed: {0, 1} and {.5, 1.5}, deviations 0.5 -> 1 - 0.5/0.75 = 1/3.
    np.testing.assert_allclose(max_deviations, [0.75])
    np.testing.assert_allclose(matrix, [[2 / 3, 1 / 3]])
    assert irs_score(codes, factors, diff_quantile=1.0) == pytest.approx({"irs": 2 / 3, "num_active_dims": 1})
    # The median of two equal deviations is that deviation: the same with q = 0.5.
    assert irs_score(codes, factors, diff_quantile=0.5)["irs"] == pytest.approx(2 / 3)
    # Weighted by the largest deviations: a second latent copying factor 1 with spread
    # 2 (scores 1 on its own) weighs 1 / (0.75 + 1) ... = 1.75 in total.
    codes2 = np.column_stack([codes[:, 0], 2.0 * factors[:, 1]])
    assert irs_score(codes2, factors, diff_quantile=1.0)["irs"] == pytest.approx((0.75 * 2 / 3 + 1.0) / 1.75)


def test_irs_constant_codes_score_zero():
    factors = full_grid((2, 3))
    assert irs_score(np.ones((6, 2)), factors) == {"irs": 0.0, "num_active_dims": 0.0}


def test_z_max_votes_for_the_varying_latent_hand_made():
    rng = np.random.default_rng(0)
    labels = np.array([0, 1, 2] * 20)
    # In each batch the varying factor's latent spreads (sd 1), the others barely (0.01).
    batches = 0.01 * rng.standard_normal((60, 10, 3))
    batches[np.arange(60), :, labels] = rng.standard_normal((60, 10))
    variance_codes = rng.standard_normal((500, 3))
    out = vote_accuracy(variance_codes, batches, labels, batches, labels, num_factors=3, largest=True)
    assert out["eval_accuracy"] == 1.0
    # FactorVAE's rule (smallest variance) cannot tell the two still latents apart.
    smallest = vote_accuracy(variance_codes, batches, labels, batches, labels, num_factors=3)
    assert smallest["eval_accuracy"] < 0.8
    # Scaled: 1 stays 1; an accuracy of 1/K becomes 0.
    assert vote_accuracy(variance_codes, batches, labels, batches, labels, num_factors=3,
                         largest=True, scale=True)["eval_accuracy"] == 1.0
    assert scale_accuracy(1 / 3, 3) == pytest.approx(0.0)
    assert scale_accuracy(0.5, 1) == 0.5


def test_beta_vae_score_scale_and_max_iter():
    x = np.eye(3)[[0, 1, 2] * 10]
    y = np.array([0, 1, 2] * 10)
    assert beta_vae_score(x, y, x, y, max_iter=10000, scale=True)["eval_accuracy"] == 1.0
    # Four factors of which the labels use three: scaling needs K, given explicitly.
    wrong = np.array([1, 2, 0] * 10)
    assert beta_vae_score(x, y, x, wrong, scale=True, num_factors=4)["eval_accuracy"] == pytest.approx(-1 / 3)


# --- invariances and determinism ------------------------------------------------------

ENTANGLED = linear_transform(ideal(SMALL), np.array([[1.0, 0.3, 0], [0, 1.0, 0], [0, 0.5, 1.0]]),
                             0.3 * np.eye(3))


@pytest.mark.parametrize("name", list(SPECS))
def test_permuting_latents_leaves_scores_unchanged(name):
    before = run(name, ENTANGLED, seed=3, **SMALL_BATCHES[name])
    after = run(name, Permuted(ENTANGLED, [2, 0, 1]), seed=3, **SMALL_BATCHES[name])
    assert after == pytest.approx(before, abs=1e-9)


@pytest.mark.parametrize("core", list(CORES.values()) + [irs_score], ids=list(CORES) + ["irs"])
def test_permuting_code_columns_leaves_array_scores_unchanged(core):
    rng = np.random.default_rng(1)
    factors = np.stack([rng.integers(0, s, 3000) for s in (3, 4, 5)], axis=1)
    codes = factors @ rng.standard_normal((3, 4)) + rng.standard_normal((3000, 4))
    sizes = {} if core is irs_score else {"batch_size": 40, "num_train": 300, "num_test": 300}
    args = () if core is irs_score else (7,)
    before = core(codes, factors, *args, **sizes)
    after = core(codes[:, [3, 1, 0, 2]], factors, *args, **sizes)
    assert after == pytest.approx(before, abs=1e-9)


@pytest.mark.parametrize("name", list(SPECS))
def test_same_rng_same_result(name):
    first = run(name, ENTANGLED, seed=5, **SMALL_BATCHES[name])
    assert first == run(name, ENTANGLED, seed=5, **SMALL_BATCHES[name])


# --- the row samplers -------------------------------------------------------------------

def test_review_bins_is_the_reviews_binning():
    # sizes 3 and 11 into 10 bins: scaled index 3/10 lies on a bin edge, and the review's
    # min-max scaling (x * 0.1) puts it just above, in bin 4.
    factors = np.column_stack([np.arange(11) % 3, np.arange(11)])
    binned = review_bins(factors, 10)
    assert binned[:, 0].tolist() == [1, 6, 10] * 3 + [1, 6]
    assert binned[:, 1].tolist() == [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 10]


def test_row_batches_share_the_fixed_value_and_use_distinct_rows():
    rng = np.random.default_rng(0)
    factors = np.stack([rng.integers(0, 3, 900), rng.integers(0, 50, 900)], axis=1)
    index = np.array([0, 1] * 200)
    rows = row_batches(factors, index, 12, 1)
    assert rows.shape == (400, 12)
    for r, k in zip(rows, index):
        assert np.unique(factors[r, k]).size == 1
    # Values of factor 0 have ~300 rows: a batch of 12 never repeats one.
    assert all(np.unique(r).size == 12 for r in rows[index == 0])
    # Values of factor 1 have ~18 rows: each row once before any twice.
    for r in rows[index == 1]:
        group = np.sum(factors[:, 1] == factors[r[0], 1])
        counts = np.unique(r, return_counts=True)[1]
        assert counts.max() - counts.min() <= 1 and (counts.max() == 1 or np.unique(r).size == group)
    # Pairs are always two distinct rows.
    pairs = row_batches(factors, np.zeros(5000, int), 2, 2)
    assert np.all(pairs[:, 0] != pairs[:, 1])


def test_row_batches_draw_values_uniformly_as_the_review():
    # Value 0 has 900 rows, value 1 has 100, value 2 a single one (not eligible): the
    # review draws the fixed value uniformly among values with two rows or more.
    factors = np.repeat([0, 1, 2], [900, 100, 1])[:, None]
    rows = row_batches(factors, np.zeros(4000, int), 3, 0)
    share = np.mean(factors[rows[:, 0], 0] == 0)
    assert share == pytest.approx(0.5, abs=0.04)  # sd 0.008 for 4000 batches
    assert not np.any(factors[rows, 0] == 2)


def test_row_varying_batches_hold_the_other_factors():
    factors = full_grid((3, 4, 5), repeats=2)
    index = np.array([0, 1, 2] * 30)
    rows = row_varying_batches(factors, index, 20, 0)
    for r, k in zip(rows, index):
        others = np.delete(factors[r], k, axis=1)
        assert np.all(others == others[0])
        assert np.unique(factors[r, k]).size == factors[:, k].max() + 1  # every value, twice over


def test_sample_varying_batches_on_a_grid_and_on_a_table():
    index = np.array([0, 1, 2, 1])
    for rep in (ideal(SMALL), from_arrays(full_grid((3, 4, 5), 2), np.zeros((120, 2)))):
        y = sample_varying_batches(rep, index, 30, np.random.default_rng(0))
        assert y.shape == (4, 30, 3)
        for batch, k in zip(y, index):
            others = np.delete(batch, k, axis=1)
            assert np.all(others == others[0]) and np.unique(batch[:, k]).size > 1


# --- the representation-level functions -------------------------------------------------

@pytest.mark.parametrize("name", list(SPECS))
def test_runs_on_dsprites_an_attack_and_a_table(name):
    key = SPECS[name].headline
    quick = SPECS[name].quick
    clean = SPECS[name].run(ideal(DSPRITES), np.random.default_rng(0), quick=True)[0]
    rotated = attacks.get("rotation")(ideal(DSPRITES), 1.0, np.random.default_rng(0))
    attacked = SPECS[name].run(rotated, np.random.default_rng(0), quick=True)[0]
    # A full rotation mixes every pair of latents: every metric of modularity drops.
    assert attacked[key] < clean[key]
    factors = full_grid((3, 4, 5), repeats=3)
    table = from_arrays(factors, factors + 0.1 * np.random.default_rng(1).standard_normal(factors.shape))
    out = SPECS[name].run(table, np.random.default_rng(0), quick=True)[0]
    assert out[key] >= (0.8 if name == "irs" else 0.99), quick


def test_z_max_var_on_a_partial_table():
    rng = np.random.default_rng(0)
    factors = np.stack([rng.integers(0, s, 1500) for s in (3, 4, 5)], axis=1)
    table = from_arrays(factors, factors + 0.1 * rng.standard_normal(factors.shape))
    out = z_max_var(table, 0, num_train=200, num_test=200, num_variance_estimate=1000)
    assert out["eval_accuracy"] == 1.0


# --- errors -------------------------------------------------------------------------------

def test_bad_input_raises():
    codes, factors = np.zeros((10, 2)), np.zeros((10, 2), dtype=int)
    with pytest.raises(BenchmarkError, match="diff_quantile"):
        irs_score(codes, factors, diff_quantile=1.5)
    with pytest.raises(BenchmarkError, match="codes"):
        irs_score(np.full((10, 2), np.nan), factors)
    with pytest.raises(BenchmarkError, match="rows"):
        z_max_var_score(np.zeros((9, 2)), factors, 0)
    with pytest.raises(BenchmarkError, match="batch_size"):
        z_max_var_score(codes, factors, 0, batch_size=1)
    with pytest.raises(BenchmarkError, match="std_threshold"):
        z_max_var(ideal(SMALL), 0, std_threshold=-1.0)
    with pytest.raises(BenchmarkError, match="num_bins"):
        beta_vae_rows_score(codes, factors, 0, continuous_factors=True, num_bins=0)
    with pytest.raises(BenchmarkError, match="rng"):
        factor_vae_rows_score(codes, factors, "seed")
    with pytest.raises(BenchmarkError, match="num_train"):
        irs(ideal(SMALL), 0, num_train=1)
    # Every row its own value: no batch can hold a factor fixed, nor vary only one.
    unique = np.arange(20).reshape(10, 2)
    with pytest.raises(BenchmarkError, match="no two rows"):
        row_batches(unique, [0], 5, 0)
    with pytest.raises(BenchmarkError, match="no two rows"):
        z_max_var_score(codes, unique, 0)
    # A table with no two rows that differ in one factor only.
    diagonal = np.repeat(np.arange(4)[:, None], 2, axis=1)
    with pytest.raises(BenchmarkError, match="differ only"):
        z_max_var(from_arrays(diagonal, diagonal + 0.0), 0, num_variance_estimate=10)
    with pytest.raises(BenchmarkError, match="factor_index"):
        row_varying_batches(factors, [2], 5, 0)
