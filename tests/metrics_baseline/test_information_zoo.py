"""The review's information-based metrics: MIG-sup, JEMMIG, DCIMIG, and the review's
variants of MIG and modularity.

Agreement with the review's code (ubisoft/ubisoft-laforge-disentanglement-metrics) on
the stored reference arrays, hand-computed cases, the values of perfect and
independent codes, invariances, the representation-level functions and clear errors.
All these metrics are deterministic functions of the arrays: equalities hold to
rounding unless a comment says otherwise.
"""
import json
from pathlib import Path

import numpy as np
import pytest

import attacks
from benchmark import BenchmarkError, FactorSpace, from_arrays, ideal
from benchmark.information import discrete_entropy, discretize
from metrics_baseline._binning import review_bins
from metrics_baseline._dcimig import SPEC as DCIMIG_SPEC
from metrics_baseline._dcimig import dcimig, dcimig_score
from metrics_baseline._jemmig import SPEC as JEMMIG_SPEC
from metrics_baseline._jemmig import jemmig, jemmig_score
from metrics_baseline._mig import mig_score
from metrics_baseline._mig_sup import SPEC as MIG_SUP_SPEC
from metrics_baseline._mig_sup import mig_sup, mig_sup_score
from metrics_baseline._modularity import modularity_score
from metrics_baseline._sampling import sample_codes

REFERENCE = Path(__file__).resolve().parent.parent / "data"  # tests/data: see its README
LN2 = np.log(2)


def _reference_sets():
    """The sets the reference JSON lists (any number, any shapes).  A missing file is an
    error of the suite, not a skip."""
    return json.loads((REFERENCE / "metric_zoo_reference.json").read_text())["sets"]

#: The array cores, by the name of the review's function they reproduce, with the
#: options that carry the review's conventions (the JSON gives nb_bins and
#: continuous_factors; the binning and the code normalisation are the review's code).
CORES = {
    "mig": (mig_score, "mig", {"binning": "minmax", "normalization": "code"}),
    "mig_sup": (mig_sup_score, "mig_sup", {"binning": "minmax", "normalization": "code"}),
    "jemmig": (jemmig_score, "jemmig", {"binning": "minmax"}),
    "dcimig": (dcimig_score, "dcimig", {"binning": "minmax"}),
    "modularity": (modularity_score, "modularity", {"binning": "minmax"}),
}
NEW = {"mig_sup": (mig_sup_score, mig_sup, MIG_SUP_SPEC),
       "jemmig": (jemmig_score, jemmig, JEMMIG_SPEC),
       "dcimig": (dcimig_score, dcimig, DCIMIG_SPEC)}
#: The review's parameters for each core (the reference JSON's, spelled as our options).
REVIEW = {"num_bins": 10, "continuous_factors": True, "binning": "minmax"}


def review_options(name):
    return {**REVIEW, **CORES[name][2]}


def full_grid(sizes, repeats=1):
    """Every factor combination ``repeats`` times: the factors are exactly independent."""
    grid = np.indices(sizes).reshape(len(sizes), -1).T
    return np.tile(grid, (repeats, 1))


@pytest.fixture(scope="module")
def reference():
    arrays = np.load(REFERENCE / "metric_zoo_arrays.npz")
    scores = json.loads((REFERENCE / "metric_zoo_reference.json").read_text())
    return arrays, scores


@pytest.mark.parametrize("name", list(CORES))
@pytest.mark.parametrize("dataset", _reference_sets())
def test_agrees_with_the_review(reference, name, dataset):
    arrays, scores = reference
    entry = scores["metrics"][f"ubisoft/{name}"]
    assert dataset in entry["results"], f"tests/data has no reference score of {name} on {dataset}"
    assert not entry["stochastic"]
    params = entry["params"]
    core, key, options = CORES[name]
    got = core(arrays[f"{dataset}_codes"], arrays[f"{dataset}_factors"], num_bins=params["nb_bins"],
               continuous_factors=params["continuous_factors"], **options)[key]
    # deterministic plug-in informations: only the order of floating-point sums differs
    # (pyitlib computes H(X) + H(Y) - H(X, Y) in bits), ~1e-15
    assert got == pytest.approx(entry["results"][dataset]["mean"]["score"], abs=1e-6)


def test_review_binning_is_the_histogram_binning_off_the_edges():
    rng = np.random.default_rng(0)
    codes = rng.normal(size=(2000, 3)) * [1.0, 5.0, 0.1] + [0.0, 3.0, -1.0]
    factors = rng.integers(0, 6, size=(2000, 2))
    np.testing.assert_array_equal(review_bins(codes, 13), discretize(codes, 13))
    # the scaled factor indices of the review: index / (size - 1) cut into 10 bins
    assert review_bins(np.arange(5)[:, None], 10).ravel().tolist() == [1, 3, 6, 8, 10]
    for name, (core, key, _) in CORES.items():
        extra = {"codes_test": None} if name == "modularity" else {}
        default = core(codes, factors, **extra)[key]
        assert core(codes, factors, binning="minmax", **extra)[key] == pytest.approx(default, abs=1e-12)


# ---- hand-computed cases ------------------------------------------------------------
# Factors y = (0, 0, 1, 1) and w = (0, 1, 0, 1); the code z = y + y * w = (0, 0, 1, 2)
# determines y, so I(z; y) = H(y) = ln 2, while H(z) = 1.5 ln 2, H(z | w) = ln 2 and
# I(z; w) = 0.5 ln 2.  Three code values in three bins are their own labels.
HAND_FACTORS = np.tile(np.array([[0, 0], [0, 1], [1, 0], [1, 1]]), (25, 1))
HAND_Z = (HAND_FACTORS[:, 0] * (1 + HAND_FACTORS[:, 1])).astype(float)[:, None]


def test_hand_computed_mig_sup_and_the_two_normalisations():
    # one latent: gap of ln 2 and 0.5 ln 2, over H(factor) = ln 2 or over H(z) = 1.5 ln 2
    assert mig_sup_score(HAND_Z, HAND_FACTORS, num_bins=3)["mig_sup"] == pytest.approx(0.5, abs=1e-12)
    assert mig_sup_score(HAND_Z, HAND_FACTORS, num_bins=3, normalization="code")["mig_sup"] \
        == pytest.approx(1 / 3, abs=1e-12)
    # MIG, single latent (second information 0): y gets 1 and w 1/2 over H(factor);
    # 2/3 and 1/3 over H(z)
    assert mig_score(HAND_Z, HAND_FACTORS, num_bins=3)["mig"] == pytest.approx(0.75, abs=1e-12)
    assert mig_score(HAND_Z, HAND_FACTORS, num_bins=3, normalization="code")["mig"] \
        == pytest.approx(0.5, abs=1e-12)


def test_hand_computed_jemmig():
    # y: H(z, y) = H(z) = 1.5 ln 2, minus I = ln 2 -> 0.5 ln 2;
    # w: H(z, w) = H(z) + H(w) - I = 2 ln 2, minus I = 0.5 ln 2 -> 1.5 ln 2;
    # normaliser H(factor) + ln(num_bins) = ln 2 + ln 3
    out = jemmig_score(HAND_Z, HAND_FACTORS, num_bins=3)
    norm = LN2 + np.log(3)
    assert out["jemmig_0"] == pytest.approx(1 - 0.5 * LN2 / norm, abs=1e-12)
    assert out["jemmig_1"] == pytest.approx(1 - 1.5 * LN2 / norm, abs=1e-12)
    assert out["jemmig"] == pytest.approx(1 - LN2 / norm, abs=1e-12)


def test_jemmig_breaks_ties_toward_the_smaller_joint_entropy():
    # a = y and b = 2 y + u (u an independent bit) both carry I = ln 2 about y; a has
    # H(a, y) = ln 2 and b has 2 ln 2.  z* = a, the runner-up b: 1 - ln 2 / (ln 2 + ln 4)
    y = np.repeat([0, 1], 50)
    u = np.tile([0, 1], 50)
    a, b = y.astype(float), (2 * y + u).astype(float)
    for codes in (np.stack([a, b], axis=1), np.stack([b, a], axis=1)):
        assert jemmig_score(codes, y[:, None], num_bins=4)["jemmig"] == pytest.approx(2 / 3, abs=1e-12)


def test_hand_computed_dcimig():
    # z alone: gap ln 2 - 0.5 ln 2 goes to y; sum of entropies 2 ln 2
    out = dcimig_score(HAND_Z, HAND_FACTORS, num_bins=3)
    assert (out["dcimig"], out["dcimig_0"], out["dcimig_1"]) == pytest.approx((0.25, 0.5, 0.0), abs=1e-12)
    # adding a copy of w: its gap ln 2 goes to w -> (0.5 + 1) ln 2 / (2 ln 2)
    codes = np.column_stack([HAND_Z, HAND_FACTORS[:, 1]])
    assert dcimig_score(codes, HAND_FACTORS, num_bins=3)["dcimig"] == pytest.approx(0.75, abs=1e-12)


# ---- perfect and independent codes -----------------------------------------------------
@pytest.mark.parametrize("name", list(NEW))
@pytest.mark.parametrize("review", [False, True])
def test_perfect_codes_score_one(name, review):
    # codes = factors on the full grid: every latent determines its factor, the factors
    # are exactly independent (no runner-up information), 20 bins hold every value; with
    # the review's options factors and codes are binned alike.  JEMMIG needs noiseless codes.
    factors = full_grid((3, 4, 5), repeats=4)
    codes = factors * [2.0, -1.0, 0.5] + 7.0
    options = review_options(name) if review else {}
    out = NEW[name][0](codes, factors, **options)
    assert out[name] == pytest.approx(1.0, abs=1e-12)


@pytest.mark.parametrize("name", list(NEW))
def test_ideal_representation_scores_near_one(name):
    space = FactorSpace.synthetic((3, 4, 5))
    # 10 % noise leaves neighbouring values separated by ten standard deviations, so each
    # latent keeps all of its factor; what is left is the plug-in bias of the runner-up
    # information, (bins - 1)(values - 1) / (2 n) <= 19 * 4 / 6000 = 0.013 nats, over
    # H(factor) >= ln 3: below 0.012.  JEMMIG also counts the noise's spread over bins
    # (H(z* | y) > 0), so it is scored on noiseless codes.
    rep = ideal(space, noise=0.0 if name == "jemmig" else 0.1)
    assert NEW[name][1](rep, np.random.default_rng(0), num_samples=3000)[name] > 0.985


@pytest.mark.parametrize("name", list(NEW))
def test_independent_uniform_codes_score_near_zero(name):
    rng = np.random.default_rng(1)
    factors = rng.integers(0, [3, 6, 10], size=(20000, 3))
    codes = rng.uniform(size=(20000, 4))
    # chance value 0: no latent knows any factor, so every gap is a difference of plug-in
    # biases, each <= (bins - 1)(values - 1) / (2 n) = 19 * 9 / 40000 = 0.0043 nats; JEMMIG's
    # chance value is (ln B - H(z*)) / (H(y) + ln B), also 0 for codes that fill their bins
    # evenly (the entropy's bias, (B - 1) / (2 n), is 5e-4).  Normalised by H(y) >= ln 3: < 0.01.
    assert abs(NEW[name][0](codes, factors)[name]) < 0.01


def test_jemmig_chance_value_of_peaked_codes():
    rng = np.random.default_rng(2)
    factors = rng.integers(0, [3, 6], size=(20000, 2))
    codes = rng.normal(size=(20000, 3))
    out = jemmig_score(codes, factors)
    h_z = discrete_entropy(discretize(codes, 20))
    h_y = discrete_entropy(factors)
    # Gaussian codes leave the outer bins nearly empty: H(z) < ln 20, and independent codes
    # score (ln 20 - H(z*)) / (H(y) + ln 20) up to the plug-in informations (< 0.005 nats
    # each, see above) whichever latent is z*
    for k in range(2):
        chance = (np.log(20) - h_z) / (h_y[k] + np.log(20))
        assert chance.min() - 0.005 < out[f"jemmig_{k}"] < chance.max() + 0.005
    assert out["jemmig"] > 0.05


# ---- invariances --------------------------------------------------------------------
@pytest.mark.parametrize("name", list(NEW) + ["mig", "modularity"])
@pytest.mark.parametrize("review", [False, True])
def test_permuting_latents_changes_nothing(name, review):
    rng = np.random.default_rng(3)
    factors = rng.integers(0, [3, 4, 8], size=(4000, 3))
    mixing = rng.normal(size=(3, 5))
    codes = (factors + 0.2 * rng.normal(size=factors.shape)) @ mixing
    codes = np.column_stack([codes, codes[:, 0]])  # a duplicate latent: ties in the informations
    core, key, _ = CORES[name]
    options = review_options(name) if review else {}
    extra = {"codes_test": None} if name == "modularity" else {}
    base = core(codes, factors, **options, **extra)[key]
    for perm in ([5, 4, 3, 2, 1, 0], [2, 0, 5, 1, 4, 3]):
        # same informations summed in another order
        assert core(codes[:, perm], factors, **options, **extra)[key] == pytest.approx(base, abs=1e-12)


# ---- the representation-level functions ---------------------------------------------------
@pytest.mark.parametrize("name", list(NEW))
def test_runs_on_dsprites_an_attack_and_a_table(name):
    func, spec = NEW[name][1], NEW[name][2]
    assert (spec.name, spec.headline, spec.family, spec.default) == (name, name, "information", False)
    assert spec.target == {"mig_sup": "modularity", "jemmig": "compactness",
                           "dcimig": "modularity"}[name]
    space = FactorSpace.named("dsprites")
    clean = spec.run(ideal(space), np.random.default_rng(0), quick=True)[0][name]
    again = spec.run(ideal(space), np.random.default_rng(0), quick=True)[0][name]
    assert clean == again  # the same rng, the same draws
    rotated = attacks.get("rotation")(ideal(space), 1.0, np.random.default_rng(0))
    mixed = spec.run(rotated, np.random.default_rng(0), quick=True)[0][name]
    # a rotation by a random orthogonal matrix spreads every factor over all latents
    assert 0.0 <= mixed < clean - 0.2
    small = FactorSpace.synthetic((3, 4, 5))
    rng = np.random.default_rng(4)
    factors = full_grid((3, 4, 5), repeats=20)
    factors = factors[rng.random(len(factors)) < 0.7]  # a partial table of encodings
    table = from_arrays(factors, ideal(small, noise=0.0).encode(factors, rng))
    score = func(table, np.random.default_rng(0), num_samples=2000)[name]
    assert score > 0.95  # noiseless codes of independent factors; bias as above


@pytest.mark.parametrize("name", list(NEW))
def test_representation_level_options_reach_the_core(name):
    rep = ideal(FactorSpace.synthetic((3, 4)))
    options = review_options(name)
    got = NEW[name][1](rep, np.random.default_rng(5), num_samples=500, **options)[name]
    codes, factors = sample_codes(rep, 500, np.random.default_rng(5))
    assert got == NEW[name][0](codes, factors, **options)[name]


def test_modularity_without_test_arrays_is_the_modularity_alone():
    rng = np.random.default_rng(6)
    factors = rng.integers(0, 4, size=(600, 2))
    codes = factors + 0.3 * rng.normal(size=factors.shape)
    full = modularity_score(codes[:400], factors[:400], codes[400:], factors[400:])
    assert modularity_score(codes[:400], factors[:400]) == {"modularity": full["modularity"]}
    review = modularity_score(codes[:400], factors[:400], codes[400:], factors[400:], **REVIEW)
    assert review["explicitness"] == full["explicitness"]
    assert review["modularity"] == modularity_score(codes[:400], factors[:400], **REVIEW)["modularity"]


# ---- errors -----------------------------------------------------------------------------
GOOD_CODES = np.random.default_rng(0).normal(size=(50, 2))
GOOD_FACTORS = np.random.default_rng(0).integers(0, 3, size=(50, 2))


@pytest.mark.parametrize("name", list(CORES))
@pytest.mark.parametrize("bad, match", [
    ({"num_bins": 0}, "num_bins"),
    ({"num_bins": 2.5}, "num_bins"),
    ({"binning": "quantile"}, "binning"),
    ({"codes": np.full((50, 2), np.nan)}, "codes"),
    ({"codes": GOOD_CODES[:40]}, "rows"),
    ({"factors": GOOD_FACTORS + 0.5}, "factors"),
    ({"codes": GOOD_CODES[:, 0]}, "codes"),
])
def test_bad_input_raises(name, bad, match):
    core, _, _ = CORES[name]
    args = {"codes": GOOD_CODES, "factors": GOOD_FACTORS, **bad}
    with pytest.raises(BenchmarkError, match=match):
        core(args.pop("codes"), args.pop("factors"), **args)


@pytest.mark.parametrize("core", [mig_score, mig_sup_score])
def test_bad_normalization_raises(core):
    with pytest.raises(BenchmarkError, match="normalization"):
        core(GOOD_CODES, GOOD_FACTORS, normalization="both")


@pytest.mark.parametrize("name", list(NEW))
def test_bad_representation_arguments_raise(name):
    rep = ideal(FactorSpace.synthetic((3, 4)))
    with pytest.raises(BenchmarkError, match="num_samples"):
        NEW[name][1](rep, 0, num_samples=1)
    with pytest.raises(BenchmarkError, match="rng"):
        NEW[name][1](rep, "seed", num_samples=100)
