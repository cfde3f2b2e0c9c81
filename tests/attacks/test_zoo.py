"""The metric review's attacks and the invariance checks: definitions, level 0, seeding,
and the information equivalence that keeps UniBound exact under invertible maps."""
import numpy as np
import pytest

import attacks
from benchmark import FactorSpace, GaussianStructure, ideal
from benchmark.information import equivalent, informations, resolve_estimator
from benchmark.spec import EXPECTATIONS, PROPERTIES
from benchmark.validation import BenchmarkError
from metrics_pid import unibound

LINEAR = ["mixing_noise", "cyclic", "missing", "nuisance"]
MAPPED = ["warp", "permute", "rescale"]
NEW = LINEAR + MAPPED + ["circular", "xor"]
SPACE = FactorSpace.synthetic((3, 4, 5))


def _draw(name, level, seed=0):
    return attacks.get(name)(ideal(SPACE, noise=0.3), level, np.random.default_rng(seed))


def test_every_attack_declares_every_expectation():
    for spec in attacks.SPECS:
        assert set(spec.expect) == set(PROPERTIES), spec.name
        assert set(spec.expect.values()) <= set(EXPECTATIONS), spec.name
    # the invariance checks expect nothing to move, whatever the metric targets
    for name in ("nuisance", "permute", "rescale"):
        assert set(attacks.get(name).expect.values()) == {"flat"}


@pytest.mark.parametrize("name", LINEAR)
@pytest.mark.parametrize("level", [0.0, 0.3, 3.0])
def test_linear_attacks_match_their_gaussian_structure(name, level):
    rep = _draw(name, level)
    assert isinstance(rep, GaussianStructure)
    y_row = np.array([2, 0, 3])
    n = 100000
    z = rep.encode(np.repeat(y_row[None, :], n, axis=0), np.random.default_rng(5))
    sd = np.sqrt(np.diag(rep.cov))
    np.testing.assert_allclose(z.mean(axis=0), rep.mean(y_row[None, :])[0],
                               atol=float(6 * sd.max() / np.sqrt(n)))
    np.testing.assert_allclose(np.cov(z.T), rep.cov, atol=float(6 * np.sqrt(2 / n) * sd.max() ** 2))


def test_linear_attack_definitions():
    base = ideal(SPACE, noise=0.3)
    y = SPACE.sample(20, np.random.default_rng(0))
    m, rng = base.mean(y), np.random.default_rng(0)
    mixed = attacks.mixing_noise(base, 0.25, rng)
    np.testing.assert_allclose(mixed.mean(y), 0.75 * m)
    np.testing.assert_allclose(mixed.cov, 0.5625 * base.cov + 0.0625 * np.eye(3))
    cyc = attacks.cyclic(base, 0.25, rng)
    np.testing.assert_allclose(cyc.mean(y), 0.75 * m + 0.25 * np.roll(m, -1, axis=1))
    gone = attacks.missing(base, 2.0, rng)
    np.testing.assert_allclose(gone.mean(y)[:, :2], 0)
    np.testing.assert_allclose(gone.mean(y)[:, 2], m[:, 2])
    np.testing.assert_allclose(np.diag(gone.cov), [1.0, 1.0, base.cov[2, 2]])
    assert attacks.missing(base, 9.0, rng).dim == 3  # at most every latent
    dead = attacks.nuisance(base, 4.0, rng)
    assert dead.dim == 7
    np.testing.assert_allclose(dead.mean(y)[:, 3:], 0)
    np.testing.assert_allclose(dead.cov[3:, 3:], np.eye(4))
    np.testing.assert_allclose(dead.cov[:3, 3:], 0)


@pytest.mark.parametrize("name", NEW)
def test_level_zero_is_the_unattacked_representation(name):
    base = ideal(SPACE, noise=0.3)
    rep = attacks.get(name)(base, 0.0, np.random.default_rng(0))
    y = SPACE.sample(500, np.random.default_rng(1))
    z = rep.encode(y, np.random.default_rng(2))
    original = base.encode(y, np.random.default_rng(2))  # the same draws come first
    if name in ("circular", "xor"):  # an appended constant / pure-noise companion
        np.testing.assert_array_equal(z[:, :3], original)
        companion = z[:, 3:]
        assert np.ptp(companion.mean(axis=0)) < 0.05 and np.all(np.abs(companion - companion.mean(0)) < 1)
    else:
        np.testing.assert_allclose(z[:, :3], original, atol=1e-12)
        if z.shape[1] > 3:
            assert abs(np.corrcoef(z[:, 3], y[:, 0])[0, 1]) < 0.15  # appended noise


@pytest.mark.parametrize("name", NEW)
def test_a_seed_reproduces_the_codes(name):
    y = SPACE.sample(200, np.random.default_rng(0))
    a = _draw(name, 0.6, seed=3).encode(y, np.random.default_rng(4))
    b = _draw(name, 0.6, seed=3).encode(y, np.random.default_rng(4))
    np.testing.assert_array_equal(a, b)


def test_mapped_attacks_are_their_maps_of_the_original_codes():
    base = ideal(SPACE, noise=0.3)
    y = SPACE.sample(300, np.random.default_rng(0))
    z = base.encode(y, np.random.default_rng(1))
    warped = attacks.warp(base, 2.0, 0).encode(y, np.random.default_rng(1))
    np.testing.assert_allclose(warped, np.sinh(2.0 * z) / 2.0)
    assert np.all(np.diff(warped[np.argsort(z[:, 0]), 0]) >= 0)  # strictly monotone
    perm = attacks.permute(base, 1.0, np.random.default_rng(7))
    assert sorted(perm.order.tolist()) == [0, 1, 2] and np.all(perm.order != np.arange(3))
    np.testing.assert_array_equal(perm.encode(y, np.random.default_rng(1)), z[:, perm.order])
    scaled = attacks.rescale(base, 2.0, np.random.default_rng(7))
    factors = scaled.latent_map.factors
    np.testing.assert_allclose(scaled.encode(y, np.random.default_rng(1)), z * factors)
    assert np.all(factors != 0)
    # the same draws at every level: only the strength changes
    g = np.log(np.abs(attacks.rescale(base, 1.0, np.random.default_rng(7)).latent_map.factors))
    np.testing.assert_allclose(np.log(np.abs(factors)), 2 * g)


def test_circular_keeps_the_latent_on_the_arc():
    base = ideal(SPACE, noise=0.3)
    y = SPACE.sample(300, np.random.default_rng(0))
    z = base.encode(y, np.random.default_rng(1))
    codes = attacks.circular(base, 1.0, 0).encode(y, np.random.default_rng(1))
    w = 1.6
    # invertible wherever the arc has not wrapped around: the angle gives z back
    inside = np.abs(w * z) < np.pi
    angle = np.arctan2(w * codes[:, :3], 1 - w * codes[:, 3:])
    np.testing.assert_allclose((angle / w)[inside], z[inside], atol=1e-9)


def test_xor_pad_gives_the_latent_back_only_in_pairs():
    base = ideal(SPACE, noise=0.3)
    y = SPACE.sample(4000, np.random.default_rng(0))
    z = base.encode(y, np.random.default_rng(1))
    codes = attacks.xor(base, 1.0, 0).encode(y, np.random.default_rng(1))
    np.testing.assert_allclose(codes[:, :3] * np.sign(codes[:, 3:]), z)
    flipped = np.mean(codes[:, 3:] < 0)
    assert abs(flipped - 0.5) < 0.02  # level 1: each sign is a fair coin
    # alone, the padded latent is uncorrelated with its factor
    assert abs(np.corrcoef(codes[:, 0], y[:, 0])[0, 1]) < 0.05


@pytest.mark.parametrize("name, level", [("permute", 1.0), ("rescale", 3.0), ("warp", 4.0),
                                         ("permute+warp", 0.75)])
def test_invertible_maps_leave_unibound_exactly_unchanged(name, level):
    # the attacked representation is information-equivalent to the original one, so the
    # exact estimator runs on the original: every score equal to rounding
    base = attacks.get("redundancy")(ideal(FactorSpace.synthetic((3, 4, 5))), 0.5, 0)
    rep = attacks.get(name)(base, level, np.random.default_rng(9))
    assert resolve_estimator(rep) == "exact"
    before = unibound(base, 2, num_mc_points=2000, num_components=2000)
    after = unibound(rep, 2, num_mc_points=2000, num_components=2000)
    for key in before:
        assert after[key] == pytest.approx(before[key], abs=1e-9), key
    # and per latent, the informations follow the latents
    info, moved = (informations(r, 5, num_mc_points=1000, num_components=1000) for r in (base, rep))
    original, order = equivalent(rep)
    assert original is base
    np.testing.assert_allclose(moved.single, info.single[:, order], atol=1e-12)


def test_grids_stay_inside_what_each_attack_can_do():
    base = ideal(FactorSpace.synthetic((3, 4, 5, 6)))  # an even number of latents
    top = attacks.get("cyclic").levels[-1]
    mixed = attacks.cyclic(base, top, 0)
    # det(cov') = det(P)^2 det(cov): the mixing stays invertible (at 1/2 it would be 0)
    assert np.linalg.det(mixed.cov) / np.linalg.det(base.cov) > 1e-3
    y = base.space.sample(50, np.random.default_rng(0))
    kept = attacks.missing(base, 99.0, 0).mean(y)
    np.testing.assert_allclose(kept[:, -1], base.mean(y)[:, -1])  # one latent always stays


@pytest.mark.parametrize("spec", attacks.SPECS, ids=lambda s: s.name)
def test_default_grids_lie_inside_each_attacks_range(spec):
    base = ideal(FactorSpace.named("dsprites"))
    spec.check_levels(spec.levels, base)
    spec.check_levels(spec.quick_levels, base)


def test_a_level_past_the_range_is_refused_before_it_wraps_or_clamps():
    base = ideal(FactorSpace.synthetic((3, 4, 5, 6)))
    # rotation wraps around past 90 degrees; missing clamps to all but one latent
    for name, limit in [("rotation", 2.0), ("xor", 1.0), ("missing", 3.0), ("cyclic", 7 / 16)]:
        spec = attacks.get(name)
        assert spec.level_limit(base) == limit
        spec.check_levels((0.0, limit), base)
        with pytest.raises(BenchmarkError, match=f"levels go from 0 to {limit:g}"):
            spec.check_levels((0.0, limit + 0.01), base)
    assert attacks.get("redundancy").level_limit(base) is None
    assert attacks.get("redundancy+rotation+missing").level_limit(base) == 2.0


def test_random_draws_are_the_same_at_every_level():
    base = ideal(FactorSpace.synthetic((3, 4, 5, 6)))
    moved = [set(np.flatnonzero(attacks.permute(base, lv, np.random.default_rng(3)).order
                                != np.arange(4))) for lv in (0.5, 0.75, 1.0)]
    assert moved[0] <= moved[1] <= moved[2] and len(moved[2]) == 4  # the levels nest
    # in a composition each part draws from its own stream: permute's draws do not shift
    # rescale's, whatever the level
    scales = [np.abs(attacks.get("permute+rescale")(base, lv, np.random.default_rng(3))
                     .latent_map.factors) for lv in (0.25, 1.0)]
    np.testing.assert_allclose(np.log(scales[1]), 4 * np.log(scales[0]))


def test_compositions_pulling_a_property_both_ways_make_no_claim():
    spec = attacks.compose([attacks.get("duplicate"),
                            attacks.AttackSpec("grow", attacks.noise, (0, 1), (0, 1), "test",
                                               expect=attacks.expect(*["rise"] * 5))])
    assert spec.expect["compactness"] is None and spec.expect["modularity"] == "rise"


def test_a_map_that_is_not_per_latent_and_monotone_is_refused():
    from benchmark import BenchmarkError
    from benchmark.representations import map_latents
    base = ideal(SPACE)
    with pytest.raises(BenchmarkError, match="strictly monotonically"):
        map_latents(base, latent_map=np.square)
    with pytest.raises(BenchmarkError, match="latent 0"):
        map_latents(base, latent_map=lambda z: z @ np.ones((3, 3)))
    with pytest.raises(BenchmarkError, match="shape"):
        map_latents(base, latent_map=lambda z: z[:, :2])


def test_a_composition_keeps_its_first_part_s_unit():
    assert attacks.get("rotation+redundancy").unit == attacks.get("rotation").unit
    assert attacks.get("redundancy+rotation").unit is None


def test_every_expectation_has_its_one_line_reason():
    """The documentation's expectation table shows each arrow with its reason."""
    for spec in attacks.SPECS:
        assert set(spec.why) == {p for p, e in spec.expect.items() if e is not None}, spec.name
        assert all("\n" not in r and 10 < len(r) <= 90 for r in spec.why.values()), spec.name
    both = attacks.compose([attacks.get("rotation"), attacks.get("warp")])
    assert both.why["explicitness"] == (f"rotation: {attacks.get('rotation').why['explicitness']}; "
                                        f"warp: {attacks.get('warp').why['explicitness']}")
    with pytest.raises(BenchmarkError, match="do not exist"):
        attacks.AttackSpec("x", lambda rep, level, rng: rep, (0.0,), (0.0,), "x", why={"beauty": "y"})
