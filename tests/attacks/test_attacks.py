"""The attacks: definitions, exact Gaussian structure, seeding, composition."""
import numpy as np
import pytest

import attacks
from benchmark import BenchmarkError, FactorSpace, GaussianStructure, ideal

ATTACKS = ["noise", "duplicate", "redundancy", "rotation", "synergy"]


def _empirical_moments(rep, y_row, n, seed):
    y = np.repeat(y_row[None, :], n, axis=0)
    z = rep.encode(y, np.random.default_rng(seed))
    return z.mean(axis=0), np.cov(z.T)


@pytest.mark.parametrize("name", ATTACKS)
@pytest.mark.parametrize("level", [0.0, 0.7])
def test_attack_samples_match_their_gaussian_structure(name, level):
    space = FactorSpace.synthetic((3, 4, 5))  # odd dimension: rotation leaves the last latent
    rep = attacks.get(name)(ideal(space, noise=0.3), level, np.random.default_rng(0))
    assert isinstance(rep, GaussianStructure)
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
