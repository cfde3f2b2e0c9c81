"""Factor spaces, the ideal representation, the five attacks, and MIG."""
import numpy as np
import pytest
from sklearn.metrics import mutual_info_score

import attacks
from benchmark import BenchmarkError, FactorSpace, get_metric, ideal
from benchmark.histogram import discretize
from metrics_baseline import mig as mig_module

ATTACKS = ["noise", "duplicate", "redundancy", "rotation", "synergy"]


def test_builtin_spaces_match_the_spec():
    assert FactorSpace.named("dsprites").sizes == (3, 6, 40, 32, 32)
    assert FactorSpace.named("shapes3d").names == (
        "floor_hue", "wall_hue", "object_hue", "scale", "shape", "orientation")
    assert FactorSpace.named("shapes3d").sizes == (10, 10, 10, 8, 4, 15)
    mpi = FactorSpace.named("mpi3d")
    assert mpi.sizes == (6, 6, 2, 3, 3, 40, 40) and mpi.names[-1] == "vertical_axis"
    assert FactorSpace.synthetic((4, 5)).names == ("f0", "f1")


def test_sample_is_uniform_and_seeded():
    space = FactorSpace.synthetic((3, 7))
    y = space.sample(70000, np.random.default_rng(0))
    assert y.shape == (70000, 2) and y.dtype == np.int64
    freq = np.bincount(y[:, 1], minlength=7) / len(y)
    # binomial SE = sqrt(p(1-p)/n) ~ 0.0013; 5 SE
    np.testing.assert_allclose(freq, 1 / 7, atol=0.007)
    np.testing.assert_array_equal(y, space.sample(70000, np.random.default_rng(0)))
    np.testing.assert_allclose(space.entropies(), np.log([3, 7]))


@pytest.mark.parametrize("bad", [dict(names=("a",), sizes=(1,)), dict(names=("a", "a"), sizes=(2, 3)),
                                 dict(names=("a",), sizes=(2, 3))])
def test_space_rejects_bad_definitions(bad):
    with pytest.raises(BenchmarkError):
        FactorSpace(**bad)


def test_unknown_dataset_is_a_clear_error():
    with pytest.raises(BenchmarkError, match="unknown dataset 'nope'"):
        FactorSpace.named("nope")


def test_ideal_is_standardised_and_factor_aligned():
    space = FactorSpace.synthetic((3, 10, 40))
    rep = ideal(space, noise=0.1)
    rng = np.random.default_rng(1)
    y = space.sample(200000, rng)
    z = rep.encode(y, rng)
    # SE of a mean of 2e5 unit-variance draws is 0.0022; of a variance ~ 0.003
    np.testing.assert_allclose(z.mean(axis=0), 0, atol=0.012)
    np.testing.assert_allclose(z.var(axis=0), 1, atol=0.015)
    corr = np.corrcoef(np.hstack([z, y]).T)[:3, 3:]
    # latent k is (almost) a linear function of factor k, and independent of the others
    assert np.all(np.diag(corr) > 0.99)
    off = corr[~np.eye(3, dtype=bool)]
    assert np.all(np.abs(off) < 0.012)  # SE of a null correlation: 1/sqrt(2e5) = 0.0022
    # the noise is `noise` value spacings: residual std equals 0.1 / scale
    scale = np.sqrt((np.array([3, 10, 40]) ** 2 - 1) / 12 + 0.01)
    resid = z - rep.mean(y)
    np.testing.assert_allclose(resid.std(axis=0), 0.1 / scale, rtol=0.01)


def _empirical_moments(rep, y_row, n, seed):
    y = np.repeat(y_row[None, :], n, axis=0)
    z = rep.encode(y, np.random.default_rng(seed))
    return z.mean(axis=0), np.cov(z.T)


@pytest.mark.parametrize("name", ATTACKS)
@pytest.mark.parametrize("level", [0.0, 0.7])
def test_attack_samples_match_their_gaussian_structure(name, level):
    space = FactorSpace.synthetic((3, 4, 5))  # odd dimension: rotation leaves the last latent
    rep = attacks.get(name)(ideal(space, noise=0.3), level, np.random.default_rng(0))
    assert rep.is_gaussian
    y_row = np.array([2, 0, 3])
    n = 100000
    mean, cov = _empirical_moments(rep, y_row, n, seed=5)
    exact_mean = rep.mean(y_row[None, :])[0]
    sd = np.sqrt(np.diag(rep.cov))
    np.testing.assert_allclose(mean, exact_mean, atol=float(6 * sd.max() / np.sqrt(n)))
    # SE of a covariance entry is at most sqrt(2/n) * sd_i sd_j; 6 SE
    np.testing.assert_allclose(cov, rep.cov, atol=float(6 * np.sqrt(2 / n) * sd.max() ** 2))


@pytest.mark.parametrize("name", ATTACKS)
def test_attacks_keep_the_original_latents_at_level_zero(name):
    base = ideal(FactorSpace.synthetic((3, 4, 5)))
    rep = attacks.get(name)(base, 0.0, np.random.default_rng(0))
    y = base.space.sample(50, np.random.default_rng(1))
    np.testing.assert_allclose(rep.mean(y)[:, :3], base.mean(y), atol=1e-12)
    np.testing.assert_allclose(rep.cov[:3, :3], base.cov, atol=1e-12)
    if rep.dim > 3:  # appended dimensions are pure unit noise, independent of z
        np.testing.assert_allclose(rep.cov[3:, 3:], np.eye(3), atol=1e-12)
        np.testing.assert_allclose(rep.cov[:3, 3:], 0, atol=1e-12)


def test_attack_definitions():
    base = ideal(FactorSpace.synthetic((3, 4, 5, 6)), noise=0.2)
    y = base.space.sample(20, np.random.default_rng(0))
    rng = np.random.default_rng(0)
    u = attacks.reflection(4)
    np.testing.assert_allclose(u @ u.T, np.eye(4), atol=1e-12)
    red = attacks.get("redundancy")(base, 2.0, rng)
    np.testing.assert_allclose(red.mean(y)[:, 4:], 2.0 * base.mean(y) @ u.T)
    np.testing.assert_allclose(red.cov[4:, 4:], 4.0 * u @ base.cov @ u.T + np.eye(4))
    dup = attacks.get("duplicate")(base, 3.0, rng)
    np.testing.assert_allclose(dup.mean(y)[:, 4:], 3.0 * base.mean(y))
    rot = attacks.get("rotation")(base, 1.0, rng)
    m = base.mean(y)
    np.testing.assert_allclose(rot.mean(y)[:, 0], (m[:, 0] - m[:, 1]) / np.sqrt(2))
    np.testing.assert_allclose(rot.mean(y)[:, 3], (m[:, 2] + m[:, 3]) / np.sqrt(2))
    syn = attacks.get("synergy")(base, 2.0, rng)
    np.testing.assert_allclose(syn.mean(y), np.hstack([m, np.zeros_like(m)]))
    np.testing.assert_allclose(syn.cov[:4, 4:], 2.0 * np.eye(4))
    noisy = attacks.get("noise")(base, 0.5, rng)
    np.testing.assert_allclose(noisy.cov, base.cov + 0.25 * np.eye(4))


def test_attack_seed_reproduces_codes():
    base = ideal(FactorSpace.named("dsprites"))
    y = base.space.sample(100, np.random.default_rng(0))
    for name in ATTACKS + ["rotation+redundancy"]:
        a = attacks.get(name)(base, 1.5, np.random.default_rng(3)).encode(y, np.random.default_rng(4))
        b = attacks.get(name)(base, 1.5, np.random.default_rng(3)).encode(y, np.random.default_rng(4))
        np.testing.assert_array_equal(a, b)


def test_composition_applies_in_order():
    base = ideal(FactorSpace.synthetic((3, 4)))
    rng = np.random.default_rng(0)
    combo = attacks.get("rotation+redundancy")(base, 1.0, rng)
    manual = attacks.get("redundancy")(attacks.get("rotation")(base, 1.0, rng), 1.0, rng)
    np.testing.assert_allclose(combo.cov, manual.cov)
    assert combo.dim == 4


def test_attack_registry_errors():
    assert attacks.names()[:5] == ATTACKS
    with pytest.raises(BenchmarkError, match="unknown attack 'twist'"):
        attacks.get("twist")
    with pytest.raises(BenchmarkError, match="non-negative"):
        attacks.get("noise")(ideal(FactorSpace.synthetic((2, 2))), -1.0, np.random.default_rng(0))


# ---------------------------------------------------------------- MIG


def test_mig_hand_computed_case():
    factors = np.array([[0], [0], [1], [1]])
    perfect = np.array([0.0, 0.0, 1.0, 1.0])
    partial = np.array([0.0, 0.0, 0.0, 1.0])
    codes = np.stack([perfect, partial], axis=1)
    # I(y; partial) by hand: cells (a,0)=1/2, (a,1)=1/4, (b,1)=1/4 with p(a)=3/4, p(y)=1/2
    mi_partial = 0.5 * np.log(4 / 3) + 0.25 * np.log(2 / 3) + 0.25 * np.log(2)
    expected = (np.log(2) - mi_partial) / np.log(2)
    assert mig_module.compute(codes, factors)["mig"] == pytest.approx(expected, abs=1e-12)
    assert expected == pytest.approx(0.688722, abs=1e-6)


def test_mig_matches_the_reference_definition():
    rng = np.random.default_rng(0)
    factors = np.stack([rng.integers(0, 4, 3000), rng.integers(0, 7, 3000)], axis=1)
    codes = np.column_stack([factors[:, 0] + rng.normal(0, 0.8, 3000),
                             rng.normal(size=3000), factors[:, 1] * 0.3 + rng.normal(size=3000)])
    binned = discretize(codes, 20)
    mi = np.array([[mutual_info_score(factors[:, k], binned[:, l]) for k in range(2)]
                   for l in range(3)])
    h = np.array([mutual_info_score(factors[:, k], factors[:, k]) for k in range(2)])
    top = np.sort(mi, axis=0)[::-1]
    expected = np.mean((top[0] - top[1]) / h)
    assert mig_module.compute(codes, factors)["mig"] == pytest.approx(expected, abs=1e-12)


def test_mig_of_independent_codes_is_near_zero():
    rng = np.random.default_rng(0)
    factors = rng.integers(0, 5, size=(10000, 3))
    codes = rng.normal(size=(10000, 4))
    # plug-in MI bias ~ (bins-1)(values-1)/(2n) = 19*4/20000 = 0.004 nats each; gaps smaller
    assert mig_module.compute(codes, factors)["mig"] < 0.01


def test_mig_invariances_and_ideal_value():
    space = FactorSpace.synthetic((4, 5))
    rep = ideal(space)
    rng = np.random.default_rng(0)
    y = space.sample(10000, rng)
    z = rep.encode(y, rng)
    base = mig_module.compute(z, y)["mig"]
    assert base > 0.95
    assert mig_module.compute(z[:, ::-1], y)["mig"] == pytest.approx(base, abs=1e-12)
    scaled = z * np.array([3.0, 0.2])
    assert mig_module.compute(scaled, y)["mig"] == pytest.approx(base, abs=1e-12)
    relabelled = np.stack([3 - y[:, 0], y[:, 1]], axis=1)
    assert mig_module.compute(z, relabelled)["mig"] == pytest.approx(base, abs=1e-12)


def test_mig_metric_falls_under_rotation():
    rep = ideal(FactorSpace.named("dsprites"))
    mig = get_metric("mig")
    before = mig(rep, np.random.default_rng(0))["mig"]
    after = mig(attacks.get("rotation")(rep, 1.0, np.random.default_rng(0)), np.random.default_rng(0))["mig"]
    assert before > 0.8 and after < 0.3


def test_mig_bad_input_is_clear():
    with pytest.raises(BenchmarkError, match="NaN"):
        mig_module.compute(np.array([[np.nan], [1.0]]), np.array([[0], [1]]))
    with pytest.raises(BenchmarkError, match="rows"):
        mig_module.compute(np.zeros((3, 2)), np.zeros((4, 1), dtype=int))
