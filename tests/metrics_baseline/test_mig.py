"""MIG: hand-computed cases, the reference definition, invariances."""
import numpy as np
import pytest
from sklearn.metrics import mutual_info_score

import attacks
from benchmark import BenchmarkError, FactorSpace, ideal
from benchmark.information import discretize
from metrics_baseline import mig, mig_score


def test_mig_hand_computed_case():
    factors = np.array([[0], [0], [1], [1]])
    perfect = np.array([0.0, 0.0, 1.0, 1.0])
    partial = np.array([0.0, 0.0, 0.0, 1.0])
    codes = np.stack([perfect, partial], axis=1)
    # I(y; partial) by hand: cells (a,0)=1/2, (a,1)=1/4, (b,1)=1/4 with p(a)=3/4, p(y)=1/2
    mi_partial = 0.5 * np.log(4 / 3) + 0.25 * np.log(2 / 3) + 0.25 * np.log(2)
    expected = (np.log(2) - mi_partial) / np.log(2)
    assert mig_score(codes, factors)["mig"] == pytest.approx(expected, abs=1e-12)
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
    assert mig_score(codes, factors)["mig"] == pytest.approx(expected, abs=1e-12)


def test_mig_of_independent_codes_is_near_zero():
    rng = np.random.default_rng(0)
    factors = rng.integers(0, 5, size=(10000, 3))
    codes = rng.normal(size=(10000, 4))
    # plug-in MI bias ~ (bins-1)(values-1)/(2n) = 19*4/20000 = 0.004 nats each; gaps smaller
    assert mig_score(codes, factors)["mig"] < 0.01


def test_mig_invariances_and_ideal_value():
    space = FactorSpace.synthetic((4, 5))
    rep = ideal(space)
    rng = np.random.default_rng(0)
    y = space.sample(10000, rng)
    z = rep.encode(y, rng)
    base = mig_score(z, y)["mig"]
    assert base > 0.95
    assert mig_score(z[:, ::-1], y)["mig"] == pytest.approx(base, abs=1e-12)
    scaled = z * np.array([3.0, 0.2])
    assert mig_score(scaled, y)["mig"] == pytest.approx(base, abs=1e-12)
    relabelled = np.stack([3 - y[:, 0], y[:, 1]], axis=1)
    assert mig_score(z, relabelled)["mig"] == pytest.approx(base, abs=1e-12)


def test_mig_metric_falls_under_rotation():
    rep = ideal(FactorSpace.named("dsprites"))
    before = mig(rep, np.random.default_rng(0))["mig"]
    after = mig(attacks.get("rotation")(rep, 1.0, np.random.default_rng(0)), np.random.default_rng(0))["mig"]
    assert before > 0.8 and after < 0.3


def test_mig_bad_input_is_clear():
    with pytest.raises(BenchmarkError, match="NaN"):
        mig_score(np.array([[np.nan], [1.0]]), np.array([[0], [1]]))
    with pytest.raises(BenchmarkError, match="rows"):
        mig_score(np.zeros((3, 2)), np.zeros((4, 1), dtype=int))
