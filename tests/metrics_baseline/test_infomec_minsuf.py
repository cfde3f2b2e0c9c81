"""InfoMEC (Hsu et al. 2023) and minimality / sufficiency (Almudévar & Ortega 2024):
agreement with the authors' code, hand-computed cases, extreme representations,
invariances, the representation-level functions and clear errors."""
import itertools
import json
import math
from pathlib import Path

import numpy as np
import pytest
from sklearn.feature_selection import mutual_info_classif

import attacks
from benchmark import BenchmarkError, FactorSpace, from_arrays, ideal, linear_transform
from benchmark.spec import PROPERTIES
from metrics_baseline._infomec import SPEC as INFOMEC_SPEC
from metrics_baseline._infomec import (
    infoe_per_factor,
    infomec,
    infomec_from_nmi,
    infomec_nmi,
    infomec_score,
)
from metrics_baseline._min_suf import SPEC as MIN_SUF_SPEC
from metrics_baseline._min_suf import min_suf, min_suf_score

REFERENCE = Path(__file__).resolve().parent.parent / "data"  # tests/data: see its README
SETS = ("small", "random")
DSPRITES = FactorSpace.named("dsprites")


@pytest.fixture(scope="module")
def reference():
    arrays = np.load(REFERENCE / "metric_zoo_arrays.npz")
    metrics = json.loads((REFERENCE / "metric_zoo_reference.json").read_text())["metrics"]
    return arrays, metrics


def full_grid(sizes, repeat):
    """Every combination of factor values ``repeat`` times: factors exactly independent."""
    return np.repeat(np.array(list(itertools.product(*map(range, sizes)))), repeat, axis=0)


def entangled_codes(seed=0, n=2000):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, [3, 4, 5], size=(n, 3))
    mix = np.array([[1.0, 0.3, 0.0], [0.0, 1.0, 0.0], [0.0, 0.5, 1.0], [0.2, 0.0, 0.7]])
    return y @ mix.T + 0.3 * rng.standard_normal((n, 4)), y


# ---------------------------------------------------------------- specs


def test_specs_declare_family_target_and_headline():
    assert (INFOMEC_SPEC.name, INFOMEC_SPEC.headline, INFOMEC_SPEC.family) == ("infomec", "infom",
                                                                               "information")
    assert (MIN_SUF_SPEC.name, MIN_SUF_SPEC.headline, MIN_SUF_SPEC.family) == ("min_suf", "minimality",
                                                                               "information")
    assert INFOMEC_SPEC.target == MIN_SUF_SPEC.target == "modularity" and "modularity" in PROPERTIES
    assert not INFOMEC_SPEC.default and not MIN_SUF_SPEC.default
    assert INFOMEC_SPEC.rising == MIN_SUF_SPEC.rising == frozenset()


# ---------------------------------------------------------------- InfoMEC


@pytest.mark.parametrize("name", SETS)
def test_infomec_matches_the_reference(reference, name):
    arrays, metrics = reference
    codes, factors = arrays[f"{name}_codes"], arrays[f"{name}_factors"]
    expected = metrics["infomec/infomec"]["results"][name]["mean"]
    full = infomec_score(codes, factors, random_state=0)
    # InfoE has no random part (a deterministic lbfgs fit): like for like to 1e-6.
    assert full["infoe"] == pytest.approx(expected["infoe"], abs=1e-6)
    # InfoM / InfoC depend on the estimator's 1e-10 tie-breaking jitter only; the
    # reference's spread over its seeds is 1e-5, so the mean of three seeds of ours must
    # agree far inside the house tolerance of 0.02: 1e-4 leaves a 10x margin.
    active = np.ptp(codes, axis=0) > np.ptp(codes, axis=0).max() / 20
    runs = [full] + [infomec_from_nmi(infomec_nmi(codes, factors, random_state=s), active)
                     for s in (1, 2)]
    for key in ("infom", "infoc"):
        assert np.mean([r[key] for r in runs]) == pytest.approx(expected[key], abs=1e-4), key


def test_nearest_neighbour_informations_are_scikit_learns():
    # The estimator is mutual_info_classif's (Ross 2014, 10 neighbours) on standardised
    # latents; tie-free codes, so the two jitters (seeded differently) do not matter
    # here and the values agree to rounding.
    codes, factors = entangled_codes(n=600)
    ours = infomec_nmi(codes, factors)
    z = (codes - codes.mean(axis=0)) / codes.std(axis=0)
    theirs = np.array([mutual_info_classif(z, factors[:, k], n_neighbors=10, random_state=0)
                       for k in range(3)])
    entropy = np.array([-np.sum(p * np.log(p)) for p in
                        (np.bincount(factors[:, k]) / len(factors) for k in range(3))])
    assert ours == pytest.approx(theirs / entropy[:, None], abs=1e-12)


def test_infom_infoc_from_hand_written_matrices():
    # latent 0 holds factor 0 only (share 1); latent 1 splits 0.5 / 0.5 (share 1/2):
    # mean 3/4, rescaled (3/4 - 1/2) / (1 - 1/2) = 1/2.  Factor 0 has shares
    # (1, 0.5) -> 2/3, factor 1 (0, 0.5) -> 1: mean 5/6 -> (5/6 - 1/2) / (1/2) = 2/3.
    out = infomec_from_nmi([[1.0, 0.5], [0.0, 0.5]])
    assert out["infom"] == pytest.approx(0.5, abs=1e-12)
    assert out["infoc"] == pytest.approx(2 / 3, abs=1e-12)
    # Dropping the inactive second latent leaves a diagonal-free column: factor 0's
    # share is 1, factor 1 has no information anywhere (an even spread, term 0).
    out = infomec_from_nmi([[1.0, 0.5], [0.0, 0.5]], active=[True, False])
    assert out["infom"] == pytest.approx(1.0, abs=1e-12)
    assert out["infoc"] == pytest.approx(1.0, abs=1e-12)  # one active latent
    # Identity: perfect; uniform: the chance value 0 of both.
    assert infomec_from_nmi(np.eye(3)) == {"infom": 1.0, "infoc": 1.0}
    uniform = infomec_from_nmi(np.full((3, 4), 0.2))
    assert uniform["infom"] == pytest.approx(0.0, abs=1e-12)
    assert uniform["infoc"] == pytest.approx(0.0, abs=1e-12)
    # A latent with no information at all counts as an even spread (the reference: NaN).
    assert infomec_from_nmi([[1.0, 0.0], [0.0, 0.0]])["infom"] == pytest.approx(0.5, abs=1e-12)
    # No active latent: nothing is encoded.
    assert infomec_from_nmi(np.eye(2), active=[False, False]) == {"infom": 0.0, "infoc": 0.0}


def test_plug_in_informations_and_infoe_by_hand():
    # Discrete latents: z = a on y = 0, 0, 0, 1 and z = b on y = 1, 1, 1, 0.  I(y; z) =
    # ln 2 - h(1/4) nats with h the binary entropy, normalised by H(y) = ln 2.
    y = np.array([[0], [0], [0], [1], [1], [1], [1], [0]])
    z = np.array([[0.0], [0], [0], [0], [1], [1], [1], [1]])
    h = -(0.25 * math.log(0.25) + 0.75 * math.log(0.75))
    expected = (math.log(2) - h) / math.log(2)
    assert infomec_nmi(z, y, discrete_latents=True)[0, 0] == pytest.approx(expected, abs=1e-12)
    # InfoE: balanced classes, so the one-hot logistic regression is saturated and
    # fits p(y | z) = (3/4, 1/4): CE = h(1/4), null ln 2, InfoE = the same value.
    # 1e-4: lbfgs stops at tol 1e-4 on the gradient, the loss is then exact to ~1e-8.
    assert infoe_per_factor(z, y, discrete_latents=True)[0] == pytest.approx(expected, abs=1e-4)
    # A latent balanced against the factor (each value sees y = 0 and 1 equally) tells
    # nothing: the fit is the null model, InfoE 0.
    flat = np.array([[0.0], [1], [0], [1]])
    assert infoe_per_factor(flat, np.array([[0], [0], [1], [1]]))[0] == pytest.approx(0.0, abs=1e-6)
    # A one-valued factor carries no information: NMI 0 and InfoE 0 (the reference fails).
    assert infomec_nmi(z, np.zeros((8, 1), dtype=int)).tolist() == [[0.0]]
    assert infoe_per_factor(z, np.zeros((8, 1), dtype=int)).tolist() == [0.0]


def test_infomec_of_a_perfect_representation():
    y = full_grid((3, 4, 5), 20)
    # Discrete latents equal to the factors on a full grid: the plug-in informations
    # between different factors are exactly 0, so InfoM = InfoC = 1.  InfoE: the classes
    # are separable, the unpenalised fit stops after 100 iterations at a log loss of
    # ~1e-3 of ln C, hence >= 0.99 rather than 1.
    out = infomec_score(y.astype(float), y, discrete_latents=True)
    assert out["infom"] == 1.0 and out["infoc"] == 1.0
    assert out["infoe"] >= 0.99
    # Continuous latents = factors: the neighbour estimator's noise on the independent
    # pairs is ~1e-2 of an entropy, so the shares are ~0.99.
    out = infomec_score(y.astype(float), y)
    assert min(out.values()) >= 0.98


def test_infomec_of_independent_codes():
    rng = np.random.default_rng(0)
    factors = rng.integers(0, 4, size=(3000, 4))
    out = infomec_score(rng.standard_normal((3000, 4)), factors)
    # InfoE's chance value is 0: uninformative latents leave the balanced fit at the null
    # model's ln C; the in-sample fit gains only ~(L + 1)(C - 1) / (2 n) = 0.0025 nats.
    assert out["infoe"] == pytest.approx(0.0, abs=0.01)
    # InfoM / InfoC have no chance value of 0: every NMI is estimator noise (clipped at
    # 0), and the largest share of noise exceeds the even spread 1 / K.  On the review's
    # `random` set the reference gives 0.60 / 0.46; here they stay well below a
    # disentangled representation's ~1.
    assert out["infom"] < 0.8 and out["infoc"] < 0.8


def test_infomec_permuting_latents_changes_nothing():
    codes, factors = entangled_codes()
    before = infomec_score(codes, factors, random_state=3)
    after = infomec_score(codes[:, [2, 0, 3, 1]], factors, random_state=3)
    # the jitter is one vector for all latents and the regression sees a canonical
    # column order, so the arithmetic is the same: equal to rounding of the means
    for key in before:
        assert after[key] == pytest.approx(before[key], abs=1e-12), key


def test_infomec_is_deterministic_and_pruning_drops_small_latents():
    codes, factors = entangled_codes(n=1000)
    assert infomec_score(codes, factors, random_state=1) == infomec_score(codes, factors, random_state=1)
    # a latent of 1/100 of the largest range is inactive and leaves InfoM / InfoC unchanged
    tiny = np.column_stack([codes, 0.01 * codes[:, 0] / np.ptp(codes[:, 0]) * np.ptp(codes)])
    a, b = infomec_score(codes, factors), infomec_score(tiny, factors)
    assert (b["infom"], b["infoc"]) == pytest.approx((a["infom"], a["infoc"]), abs=1e-12)


def test_infomec_on_representations():
    rep = ideal(DSPRITES)
    clean = infomec(rep, np.random.default_rng(0), num_samples=2000)
    assert set(clean) == {"infom", "infoc", "infoe"}
    assert clean["infom"] >= 0.95 and clean["infoc"] >= 0.95 and clean["infoe"] >= 0.95
    rotated = attacks.get("rotation")(rep, 1.0, np.random.default_rng(0))
    mixed = infomec(rotated, np.random.default_rng(0), num_samples=2000)
    # a rotation mixes every factor into several latents: modularity must drop clearly
    assert mixed["infom"] < clean["infom"] - 0.2
    # a user's table of 2,000 encodings of a 3 x 6 x 10 grid, drawn with replacement:
    # repeated rows are kept once, else their zero distances would count as information
    # about every factor (InfoM ~0.8 instead of ~1)
    space = FactorSpace.synthetic((3, 6, 10))
    rng = np.random.default_rng(1)
    factors = space.sample(2000, rng)
    table = from_arrays(factors, ideal(space).encode(factors, rng))
    out = INFOMEC_SPEC.run(table, np.random.default_rng(2), quick=True)[0]
    assert out["infom"] >= 0.95
    assert infomec(table, 5, num_samples=500) == infomec(table, 5, num_samples=500)


def test_infomec_bad_input_is_named():
    codes, factors = entangled_codes(n=50)
    bad = codes.copy()
    bad[3, 1] = np.nan
    with pytest.raises(BenchmarkError, match="NaN"):
        infomec_score(bad, factors)
    with pytest.raises(BenchmarkError, match="rows"):
        infomec_score(codes[:49], factors)
    with pytest.raises(BenchmarkError, match="n_neighbors"):
        infomec_score(codes, factors, n_neighbors=0)
    with pytest.raises(BenchmarkError, match="active_fraction"):
        infomec_score(codes, factors, active_fraction=1.5)
    with pytest.raises(BenchmarkError, match="max_iter"):
        infomec_score(codes, factors, max_iter=0)
    with pytest.raises(BenchmarkError, match="column"):
        infomec_score(codes, factors[:, :0])
    with pytest.raises(BenchmarkError, match="nmi"):
        infomec_from_nmi([[-1.0]])
    with pytest.raises(BenchmarkError, match="num_samples"):
        infomec(ideal(FactorSpace.synthetic((2, 3))), 0, num_samples=1)


# ---------------------------------------------------------------- minimality / sufficiency


@pytest.mark.parametrize("name", SETS)
def test_min_suf_matches_the_reference(reference, name):
    arrays, metrics = reference
    entry = metrics["minsuf/min_suf"]
    out = min_suf_score(arrays[f"{name}_codes"], arrays[f"{name}_factors"],
                        num_bins=entry["params"]["n_bins"])
    # deterministic plug-in estimates on the same bins: the house tolerance 1e-6
    for key, value in entry["results"][name]["mean"].items():
        assert out[key] == pytest.approx(value, abs=1e-6), key


def test_min_suf_by_hand():
    # One binary factor, latents: a copy (2 bins used) and z = (0, 0, 0, 1) on
    # y = (0, 0, 1, 1).  I(y; z2) = ln 2 - (3/4) h(1/3) nats, H(z2) = h(1/4).
    y = np.array([[0], [0], [1], [1]])
    z = np.array([[0.0, 0.0], [0.0, 0.0], [1.0, 0.0], [1.0, 1.0]])
    h = lambda p: -(p * math.log(p) + (1 - p) * math.log(1 - p))  # noqa: E731
    mi = math.log(2) - 0.75 * h(1 / 3)
    out = min_suf_score(z, y, num_bins=2)
    assert out["minimality"] == pytest.approx((1 + mi / h(0.25)) / 2, abs=1e-12)
    assert out["sufficiency"] == pytest.approx(1.0, abs=1e-12)  # the copy holds all of y
    # only the partial latent: sufficiency is its share of H(y) = ln 2
    assert min_suf_score(z[:, 1:], y, num_bins=2)["sufficiency"] == pytest.approx(mi / math.log(2),
                                                                                 abs=1e-12)
    # a constant latent has no entropy: its minimality term is 0 (the reference: NaN)
    out = min_suf_score(np.column_stack([z[:, 0], np.ones(4)]), y, num_bins=2)
    assert out["minimality"] == pytest.approx(0.5, abs=1e-12)


def test_min_suf_of_a_perfect_representation():
    # codes = factors with at most as many values as bins: every value has its own bin,
    # so I(y_k; z_k) = H(y_k) = H(z_k) and both scores are exactly 1
    y = full_grid((3, 4, 5), 10)
    out = min_suf_score(y.astype(float), y)
    assert out["minimality"] == pytest.approx(1.0, abs=1e-12)
    assert out["sufficiency"] == pytest.approx(1.0, abs=1e-12)


def test_min_suf_of_independent_codes():
    rng = np.random.default_rng(0)
    n, sizes, bins = 10000, np.array([3, 6, 10]), 15
    factors = rng.integers(0, sizes, size=(n, 3))
    out = min_suf_score(rng.standard_normal((n, 3)), factors, num_bins=bins)
    # The chance value is the plug-in bias, ~(C - 1)(B - 1) / (2 n) nats per pair:
    # 0.0063 nats for C = 10, over H(z) ~ 2 nats (minimality) or H(y) = ln C
    # (sufficiency); the largest over latents / factors adds some spread.
    bias = (sizes - 1) * (bins - 1) / (2 * n)
    assert out["minimality"] < 3 * bias.max() / 2.0
    assert out["sufficiency"] < 3 * np.mean(bias / np.log(sizes))


def test_min_suf_permuting_latents_changes_nothing():
    codes, factors = entangled_codes()
    before = min_suf_score(codes, factors)
    after = min_suf_score(codes[:, [3, 1, 0, 2]], factors)
    for key in before:
        assert after[key] == pytest.approx(before[key], abs=1e-12), key


def test_min_suf_on_representations():
    rep = ideal(DSPRITES)
    clean = min_suf(rep, np.random.default_rng(0))
    # 15 bins for 40 orientations and 32 positions: one bin holds ~2-3 values, so the
    # ideal representation is not fully sufficient; minimality loses the bins that split
    # a value's noise (3 shapes in 15 bins).  Measured 0.84 / 0.84.
    assert clean["minimality"] > 0.75 and clean["sufficiency"] > 0.75
    rotated = attacks.get("rotation")(rep, 1.0, np.random.default_rng(0))
    mixed = min_suf(rotated, np.random.default_rng(0))
    assert mixed["minimality"] < clean["minimality"] - 0.2
    space = FactorSpace.synthetic((3, 6, 10))
    rng = np.random.default_rng(1)
    factors = space.sample(2000, rng)
    table = from_arrays(factors, ideal(space).encode(factors, rng))
    out = MIN_SUF_SPEC.run(table, np.random.default_rng(2), quick=True)[0]
    assert set(out) == {"minimality", "sufficiency"} and out["sufficiency"] > 0.9
    # the representation-level function is deterministic for a given rng
    noisy = linear_transform(ideal(space), np.eye(3), 0.5 * np.eye(3))
    assert min_suf(noisy, 4, num_samples=1000) == min_suf(noisy, 4, num_samples=1000)


def test_min_suf_bad_input_is_named():
    codes, factors = entangled_codes(n=50)
    with pytest.raises(BenchmarkError, match="infinite"):
        min_suf_score(np.where(codes > 2, np.inf, codes), factors)
    with pytest.raises(BenchmarkError, match="rows"):
        min_suf_score(codes, factors[:40])
    with pytest.raises(BenchmarkError, match="num_bins"):
        min_suf_score(codes, factors, num_bins=0)
    with pytest.raises(BenchmarkError, match="integer"):
        min_suf_score(codes, factors + 0.5)
    with pytest.raises(BenchmarkError, match="column"):
        min_suf_score(codes[:, :0], factors)
    with pytest.raises(BenchmarkError, match="num_samples"):
        min_suf(ideal(FactorSpace.synthetic((2, 3))), 0, num_samples=0)
