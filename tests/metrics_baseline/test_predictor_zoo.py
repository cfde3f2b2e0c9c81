"""The review's predictor-based metrics: DCI with Lasso and with random forests,
explicitness, and SAP's continuous-factor (regression) variant.

Reference values: tests/data (the authors' own code on fixed arrays, see its
README).  Deterministic metrics agree to 1e-6; the random-forest DCI is
stochastic (unseeded forests in the reference), so its mean over our seeds is
held within 0.02 of the reference's mean.  Every test reads the sets and the
shapes from the files, so it holds for any factor sizes and code shapes."""
import json
from pathlib import Path

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import KFold
from sklearn.preprocessing import minmax_scale

import attacks
from benchmark import BenchmarkError, FactorSpace, from_arrays, ideal
from metrics_baseline import sap_score
from metrics_baseline._binning import review_bins, unit_scale
from metrics_baseline._dci_regression import (
    _forest,
    _forest_cv,
    _scores,
    dci_lasso,
    dci_lasso_score,
    dci_rf,
    dci_rf_score,
    regression_importance,
)
from metrics_baseline._explicitness import explicitness, explicitness_score, roc_auc

REFERENCE = Path(__file__).resolve().parent.parent / "data"  # tests/data: see its README
ARRAYS = np.load(REFERENCE / "metric_zoo_arrays.npz")
RESULTS = json.loads((REFERENCE / "metric_zoo_reference.json").read_text())["metrics"]
SETS = sorted({key.rsplit("_", 1)[0] for key in ARRAYS.files})

DSPRITES = FactorSpace.named("dsprites")
FEW = FactorSpace.synthetic((3, 4, 5))


def arrays(name):
    return ARRAYS[f"{name}_codes"], ARRAYS[f"{name}_factors"]


def reference(metric, name):
    """The reference's mean scores on set ``name``; a missing one fails the test."""
    result = RESULTS[metric]["results"].get(name)
    assert result and result.get("seeds"), f"tests/data has no reference value of {metric} on {name}"
    return result["mean"]


def entropy_scores(importance):
    """The reference's aggregation written out: the disentanglement of the formula and the one
    the reference's per-code loop returns (it stops at the first code without importance)."""
    importance = np.asarray(importance, dtype=float)
    num_factors = importance.shape[1]
    rho = importance.sum(axis=1)
    per_code = np.zeros(len(rho))
    for c in np.nonzero(rho > 0)[0]:
        p = importance[c][importance[c] > 0] / rho[c]
        per_code[c] = 1.0 + np.sum(p * np.log(p)) / np.log(num_factors)
    weights = rho / rho.sum() if rho.sum() > 0 else rho
    # the loop never reaches the codes after the break: their weights stay 0 too
    stop = int(np.argmax(rho == 0)) if np.any(rho == 0) else len(rho)
    kept = rho[:stop] / rho[:stop].sum() if rho[:stop].sum() > 0 else rho[:stop]
    return float(per_code @ weights), float(per_code[:stop] @ kept)


# --- agreement with the authors' code ------------------------------------------------------

@pytest.mark.parametrize("name", SETS)
def test_dci_lasso_matches_the_reference(name):
    codes, factors = arrays(name)
    ref = reference("ubisoft/dci_lasso", name)
    out = dci_lasso_score(codes, factors)
    # Deterministic: the only differences are floating-point order and the 1e-11 the shared
    # entropy helper adds to each importance (~1e-9 on these arrays).
    assert out["completeness"] == pytest.approx(ref["completeness"], abs=1e-6)
    assert out["informativeness"] == pytest.approx(ref["informativeness"], abs=1e-6)
    importance, _ = regression_importance(codes, factors, model="lasso")
    formula, with_break = entropy_scores(importance)
    # Ours is the formula; the reference's value is the formula cut at its `break`
    # (on `random` a code without importance comes first: reference 0, formula 1).
    assert out["disentanglement"] == pytest.approx(formula, abs=1e-6)
    assert with_break == pytest.approx(ref["disentanglement"], abs=1e-6)


@pytest.mark.parametrize("name", SETS)
def test_explicitness_matches_the_reference(name):
    codes, factors = arrays(name)
    params = RESULTS["ubisoft/explicitness"]["params"]
    assert params["impl"] == 1 and params["scale"] is True
    out = explicitness_score(codes, factors, num_bins=params["nb_bins"], scale=params["scale"])
    # Deterministic (same solver, same rows): floating-point order only.
    assert out["explicitness"] == pytest.approx(reference("ubisoft/explicitness", name)["score"],
                                                abs=1e-6)


@pytest.mark.parametrize("name", SETS)
def test_sap_regression_variant_matches_the_reference(name):
    codes, factors = arrays(name)
    assert RESULTS["ubisoft/sap"]["params"]["regression"] is True
    # The reference's in-sample R^2 of a one-code linear regression is the squared
    # correlation the existing continuous variant uses; it ignores nb_bins.
    out = sap_score(codes, factors, continuous_factors=True)["sap"]
    assert out == pytest.approx(reference("ubisoft/sap", name)["score"], abs=1e-6)


@pytest.mark.slow
def test_dci_rf_matches_the_reference_with_the_full_grid():
    # The full 5 x 4 grid cross-validated 10 times costs ~30 s a seed on `small` and
    # ~4 min on `random` (deep trees on noise), so only `small` runs it here.
    codes, factors = arrays("small")
    ref = reference("ubisoft/dci_rf", "small")
    runs = [dci_rf_score(codes, factors, random_state=seed) for seed in (0, 1)]
    for key in ref:
        # the rule for stochastic metrics: our mean within 0.02 of theirs
        assert np.mean([r[key] for r in runs]) == pytest.approx(ref[key], abs=0.02)


@pytest.mark.slow
@pytest.mark.parametrize("name", SETS)
def test_dci_rf_matches_the_reference_at_the_chosen_depth(name):
    # On the reference sets the full grid picks max_depth 8 for every factor of `random`
    # (and 8 or 32 on `small`, where both fit perfectly); with the reference's other
    # settings (every max_features, 10 folds, 10 trees) this runs in ~10 s a seed.
    codes, factors = arrays(name)
    ref = reference("ubisoft/dci_rf", name)
    runs = [dci_rf_score(codes, factors, random_state=seed, max_depths=[8]) for seed in (0, 1, 2)]
    for key in ref:
        assert np.mean([r[key] for r in runs]) == pytest.approx(ref[key], abs=0.02)


# --- hand-computed cases ------------------------------------------------------------------

def test_dci_aggregation_by_hand():
    # Code 0 serves factor 0 alone; code 1 splits 1:1 between both; code 2 has no importance.
    importance = np.array([[2.0, 0.0], [1.0, 1.0], [0.0, 0.0]])
    out = _scores(importance, np.array([0.5, 1.0]))
    # D: per code 1 and 0 (entropy log 2 / log 2), weights 2/4 and 2/4; code 2 weighs nothing
    assert out["disentanglement"] == pytest.approx(0.5, abs=1e-9)
    # C, unweighted mean: factor 0 puts 2/3, 1/3 on codes 0, 1 -> 1 - H_3(2/3, 1/3);
    # factor 1 sits in code 1 alone -> 1
    h = -(2 / 3 * np.log(2 / 3) + 1 / 3 * np.log(1 / 3)) / np.log(3)
    assert out["completeness"] == pytest.approx(((1 - h) + 1.0) / 2, abs=1e-9)
    assert out["informativeness"] == 0.75
    assert entropy_scores(importance)[0] == pytest.approx(0.5, abs=1e-12)


def test_roc_auc_and_binning_by_hand():
    rng = np.random.default_rng(0)
    labels = rng.random((200, 3)) < 0.3
    scores = np.round(rng.random((200, 3)), 1)  # ties, to check the mid-ranks
    expected = [roc_auc_score(labels[:, j], scores[:, j]) for j in range(3)]
    assert roc_auc(labels, scores) == pytest.approx(expected, abs=1e-12)
    # the reference's bins: [0, .1), ..., [.9, 1] numbered 1..10; 3 values -> 0, .5, 1
    assert review_bins(np.array([[0], [1], [2]]), 10).ravel().tolist() == [1, 6, 10]
    assert review_bins(np.array([[0], [1]]), 10, sizes=[3]).ravel().tolist() == [1, 6]
    assert unit_scale(np.array([[0.0, 2.0], [4.0, 2.0]])).tolist() == [[0.0, 0.0], [1.0, 0.0]]
    # the reference's scaling, to the last bit: 3 / 10 lies on a bin edge and must land
    # in bin 4 as there, not in bin 3 as 3 / 10 computed by division would
    values = np.random.default_rng(1).integers(-5, 40, size=(500, 4)).astype(float)
    assert np.array_equal(unit_scale(values), minmax_scale(values))
    assert review_bins(np.array([[0], [3], [10]]), 10).ravel().tolist() == [1, 4, 10]
    assert review_bins(np.array([[3]]), 10, sizes=[11]).ravel().tolist() == [4]


def test_explicitness_two_classes_by_hand():
    # One code, two classes: the logistic regression is monotone in the code, so the
    # AUC is that of the code itself: pairs (neg, pos) ordered right 5 of 6 times.
    codes = np.array([[0.0], [1.0], [3.0], [2.0], [4.0]])
    factors = np.array([[0], [0], [0], [1], [1]])
    out = explicitness_score(codes, factors, scale=False)
    assert out["explicitness"] == pytest.approx(5 / 6, abs=1e-12)
    assert explicitness_score(codes, factors)["explicitness"] == pytest.approx(2 / 3, abs=1e-12)


def test_skipped_depths_give_the_errors_of_the_full_grid():
    rng = np.random.default_rng(0)
    x = rng.random((300, 3))
    y = x[:, 0] + 0.3 * rng.random(300)
    folds = list(KFold(5).split(x))
    for features in (0.4, 1.0):
        fast = _forest_cv(x, y, folds, (2, 4, 16, 64), features, 5, 7)
        full = [np.mean([np.mean((_forest(d, features, 5, 7).fit(x[a], y[a]).predict(x[b]) - y[b]) ** 2)
                         for a, b in folds]) for d in (2, 4, 16, 64)]
        assert fast == pytest.approx(full, abs=0)  # the same trees, hence the same numbers


# --- maxima, chance, invariances ----------------------------------------------------------

def test_perfect_codes_score_at_the_maximum():
    rng = np.random.default_rng(0)
    factors = FEW.sample(2000, rng)
    codes = factors.astype(float)  # codes = factors: each latent is one factor, exactly
    lasso = dci_lasso_score(codes, factors)
    # 1e-6: only the 1e-11 smoothing of the entropy helper separates D and C from 1.
    assert lasso["disentanglement"] == pytest.approx(1.0, abs=1e-6)
    assert lasso["completeness"] == pytest.approx(1.0, abs=1e-6)
    # Lasso shrinks even at the smallest alpha (1e-4): the fit is off by ~alpha, so
    # 1 - 12 MSE is 1 - O(1e-6).
    assert lasso["informativeness"] == pytest.approx(1.0, abs=1e-4)
    forest = dci_rf_score(codes, factors, max_depths=[8], max_features=[1.0], n_estimators=3)
    assert forest == pytest.approx({"disentanglement": 1.0, "completeness": 1.0,
                                    "informativeness": 1.0}, abs=1e-6)
    # Few classes per factor: every class is ranked perfectly by the normalised
    # one-vs-rest probabilities (the reference's `small` set scores 0.999996).
    assert explicitness_score(codes, factors)["explicitness"] == pytest.approx(1.0, abs=1e-3)


def test_independent_codes_score_at_chance():
    rng = np.random.default_rng(1)
    factors = FEW.sample(3000, rng)
    codes = rng.standard_normal((3000, 4))
    lasso = dci_lasso_score(codes, factors)
    # Informativeness' chance value is 0: the best prediction is the mean, whose MSE is the
    # factor's variance, (s + 1) / (12 (s - 1)) > 1/12 on [0, 1], so 1 - 12 MSE < 0 -> 0.
    assert lasso["informativeness"] == 0.0
    # Lasso sets (almost) every coefficient to 0 on noise: no code is complete for a
    # factor, so completeness is ~0 (0.04 on the reference's `random` set).  Its D is not
    # defined by chance: the few codes left with a weight can be "pure" (formula 1).
    assert lasso["completeness"] < 0.2
    forest = dci_rf_score(codes, factors, max_depths=[8], n_estimators=5)
    # The forest's importances spread evenly over the codes: 1 - H ~ 0 for D and C (chance 0;
    # 0.002 on `random` with 10 000 rows, a little more with fewer rows and trees).
    assert forest["disentanglement"] < 0.05 and forest["completeness"] < 0.05
    assert forest["informativeness"] < 0.05
    # Explicitness' chance value is 0 (AUC 1/2); the in-sample fit lifts it a little
    # (0.038 on `random`, 5 codes, 10 000 rows).
    assert explicitness_score(codes, factors)["explicitness"] < 0.1


@pytest.mark.parametrize("metric", ["lasso", "rf", "explicitness", "sap"])
def test_permuting_latents_changes_nothing(metric):
    rng = np.random.default_rng(2)
    factors = FEW.sample(600, rng)
    mixing = rng.standard_normal((3, 4))
    codes = factors @ mixing + 0.5 * rng.standard_normal((600, 4))
    perm = np.array([2, 0, 3, 1])
    call = {"lasso": lambda z: dci_lasso_score(z, factors),
            "rf": lambda z: dci_rf_score(z, factors, max_depths=[4, 64], max_features=[0.4, 1.0],
                                         n_estimators=3, random_state=3),
            "explicitness": lambda z: explicitness_score(z, factors, num_bins=10),
            "sap": lambda z: sap_score(z, factors, continuous_factors=True)}[metric]
    base, permuted = call(codes), call(codes[:, perm])
    # The regressors see the codes in a canonical order: only the summation order of the
    # final averages changes.
    assert permuted == pytest.approx(base, abs=1e-12)


@pytest.mark.slow  # random forests fitted twice: ~11 s
def test_forest_dci_is_deterministic_per_rng():
    rep = ideal(FEW)
    first = dci_rf(rep, np.random.default_rng(4), num_samples=100)
    assert dci_rf(rep, np.random.default_rng(4), num_samples=100) == first


# --- representation level ------------------------------------------------------------------

# the forests and the explicitness probes on dSprites take ~13-30 s
@pytest.mark.parametrize("name", ["dci_lasso", pytest.param("dci_rf", marks=pytest.mark.slow),
                                  pytest.param("explicitness", marks=pytest.mark.slow)])
def test_representation_level_runs(name):
    func = {"dci_lasso": dci_lasso, "dci_rf": dci_rf, "explicitness": explicitness}[name]
    size = {"dci_lasso": 2000, "dci_rf": 200, "explicitness": 2000}[name]
    headline = "explicitness" if name == "explicitness" else "disentanglement"
    rep = ideal(DSPRITES)
    clean = func(rep, np.random.default_rng(0), num_samples=size)
    rotated = attacks.get("rotation")(rep, 1.0, np.random.default_rng(0))
    attacked = func(rotated, np.random.default_rng(0), num_samples=size)
    if name == "explicitness":
        # Rotation keeps everything linearly decodable; 40 orientations cannot all be cut
        # off by one-vs-rest linear boundaries, so even the ideal codes stay below 1.
        assert 0.8 < clean[headline] <= 1.0 and 0.5 < attacked[headline] <= 1.0
    else:
        assert clean[headline] > 0.95 and attacked[headline] < clean[headline] - 0.2
    rng = np.random.default_rng(5)
    factors = DSPRITES.sample(500, rng)[:, :2]  # shape and scale: 3 and 6 values
    table = from_arrays(factors, factors + 0.1 * rng.standard_normal(factors.shape))
    # explicitness needs the rows: its logistic regressions' fixed L2 penalty (C = 1) flattens
    # the middle classes' boundaries when there are few (0.87 at 200 rows, ~1 at 2000)
    assert func(table, np.random.default_rng(0), num_samples=size)[headline] > 0.9


def test_explicitness_binning_option_on_a_representation():
    rep = ideal(DSPRITES)
    out = explicitness(rep, np.random.default_rng(0), num_samples=2000, num_bins=10)["explicitness"]
    # 10 bins of 4 orientations are easier to separate than 40 values
    assert out > explicitness(rep, np.random.default_rng(0), num_samples=2000)["explicitness"] - 0.01


def test_a_constant_factor_is_handled():
    rng = np.random.default_rng(6)
    factors = np.stack([rng.integers(0, 3, 200), np.zeros(200, dtype=int)], axis=1)
    codes = np.stack([factors[:, 0] + 0.1 * rng.standard_normal(200), rng.standard_normal(200)], 1)
    out = explicitness_score(codes, factors)
    assert "explicitness_1" not in out and out["explicitness"] == out["explicitness_0"]
    # nothing to predict: the reference's in-sample score is 1, with no importance
    assert dci_lasso_score(codes, factors)["informativeness"] > 0.9


# --- errors ------------------------------------------------------------------------------

def test_bad_input_raises_benchmark_error():
    codes, factors = np.zeros((20, 2)), np.zeros((20, 1), dtype=int)
    factors[10:] = 1
    with pytest.raises(BenchmarkError, match="NaN"):
        dci_lasso_score(np.full((20, 2), np.nan), factors)
    with pytest.raises(BenchmarkError, match="rows"):
        dci_rf_score(codes[:5], factors)
    with pytest.raises(BenchmarkError, match="cv"):
        dci_lasso_score(codes, factors, cv=30)
    with pytest.raises(BenchmarkError, match="alphas"):
        dci_lasso_score(codes, factors, alphas=[-1.0])
    with pytest.raises(BenchmarkError, match="max_features"):
        dci_rf_score(codes, factors, max_features=[2.0])
    with pytest.raises(BenchmarkError, match="max_depths"):
        dci_rf_score(codes, factors, max_depths=[])
    with pytest.raises(BenchmarkError, match="factor_sizes"):
        dci_lasso_score(codes, factors, factor_sizes=[1, 2])
    with pytest.raises(BenchmarkError, match="factor_sizes"):
        dci_lasso_score(codes, factors, factor_sizes=[1])
    with pytest.raises(BenchmarkError, match="model"):
        regression_importance(codes, factors, model="svm")
    with pytest.raises(BenchmarkError, match="num_bins"):
        explicitness_score(codes, factors, num_bins=0)
    with pytest.raises(BenchmarkError, match="scale"):
        explicitness_score(codes, factors, scale="yes")
    with pytest.raises(BenchmarkError, match="single value"):
        explicitness_score(codes, np.zeros((20, 1), dtype=int))
    with pytest.raises(BenchmarkError, match="num_samples"):
        dci_lasso(ideal(FEW), 0, num_samples=5)
    with pytest.raises(BenchmarkError, match="rng"):
        explicitness(ideal(FEW), "seed")
