"""EDI: agreement with the authors' code on fixed arrays, the KSG estimator's closed form,
hand-computed exclusive rates, known answers, invariances and errors."""
import json
from pathlib import Path

import numpy as np
import pytest

from benchmark import BenchmarkError, FactorSpace, ideal
from metrics_baseline._edi import SPEC, edi, edi_score, exclusive_rate, ksg_mutual_info

DATA = Path(__file__).resolve().parent.parent / "data"  # tests/data: see its README


@pytest.fixture(scope="module")
def reference():
    arrays = np.load(DATA / "metric_zoo_arrays.npz")
    results = json.loads((DATA / "zoo2_reference.json").read_text())["metrics"]["edi/dcii"]["results"]
    return arrays, results


@pytest.fixture(scope="module")
def small_runs(reference):
    arrays, _ = reference
    return [edi_score(arrays["small_codes"], arrays["small_factors"], rng=seed) for seed in range(5)]


def test_disentanglement_and_completeness_agree_with_dcii(reference, small_runs):
    """Three codes, so the reference's normaliser is KSG as here.  D and C do not depend on the
    1e-10 jitter (the reference's std over seeds is 0): 1e-6 (measured 7.5e-11)."""
    _, results = reference
    expected = results["small"]["mean"]
    for run in small_runs:
        for key in ("disentanglement", "completeness"):
            assert run[key] == pytest.approx(expected[key], abs=1e-6), key


def test_informativeness_agrees_within_the_reference_spread(reference, small_runs):
    """H_k of a discrete factor is set by the random jitter (reference std 0.0032 over five
    seeds): the mean of five seeds within three reference standard deviations."""
    _, results = reference
    mean = np.mean([run["informativeness"] for run in small_runs])
    assert abs(mean - results["small"]["mean"]["informativeness"]) <= 3 * results["small"]["std"][
        "informativeness"]


def test_ksg_matches_the_gaussian_closed_form():
    """I = -log(1 - rho^2) / 2 for a bivariate Gaussian; KSG's bias at k = 3 and n = 5000 is
    well below its spread (~0.01), so 0.03 is three spreads."""
    rng = np.random.default_rng(1)
    for rho in (0.0, 0.5, 0.9):
        x = rng.normal(size=5000)
        y = rho * x + np.sqrt(1 - rho**2) * rng.normal(size=5000)
        assert ksg_mutual_info(x, y, rng) == pytest.approx(-0.5 * np.log(1 - rho**2), abs=0.03)


def test_ksg_of_a_vector_sees_what_each_coordinate_misses():
    """y = x1 + x2: each coordinate alone carries log(2)/2 nats (correlation 1/sqrt(2)),
    the pair with noise of variance 0.01 carries log(2 / 0.01) / 2."""
    rng = np.random.default_rng(2)
    x = rng.normal(size=(5000, 2))
    y = x.sum(axis=1) + 0.1 * rng.normal(size=5000)
    assert ksg_mutual_info(x[:, 0], y, rng) == pytest.approx(0.5 * np.log(2 / 1.01), abs=0.03)
    assert ksg_mutual_info(x, y, rng) == pytest.approx(0.5 * np.log(2.01 / 0.01), abs=0.15)


def test_exclusive_rate_by_hand():
    assert exclusive_rate([0.9, 0.3, 0.0]) == pytest.approx(0.9 - np.sqrt(0.09 / 2))
    assert exclusive_rate([0.5, 0.5]) == 0.0
    assert exclusive_rate([0.7]) == 0.7  # no others: the reference divides 0 by 0
    np.testing.assert_allclose(exclusive_rate([[1.0, 0.2], [0.0, 0.2]], axis=0), [1.0, 0.0])


def test_a_duplicated_factor_keeps_disentanglement_and_halves_completeness():
    """Every factor copied into two of four codes: each code is exclusive (D = 1), each factor's
    column is (1, 1, 0, 0) up to estimation, whose exclusive rate is 1 - sqrt(1/3).  The two copies'
    informations are estimated separately (noise differs), hence 1e-3."""
    rng = np.random.default_rng(0)
    y = rng.integers(0, 4, size=(3000, 2))
    z = np.hstack([y, y]) + 0.05 * rng.normal(size=(3000, 4))
    result = edi_score(z, y)
    assert result["disentanglement"] == pytest.approx(1.0, abs=1e-3)
    assert result["completeness"] == pytest.approx(1 - np.sqrt(1 / 3), abs=1e-3)
    assert result["informativeness"] == pytest.approx(1.0, abs=0.01)


def test_noise_codes_are_uninformative():
    """Informativeness of noise is KSG's positive bias over H_k (~1e-3).  D and C of noise are
    ratios of estimation noise (the reference's range 0.6-0.8 and 3.8-6.9 on ``random``), so
    only their range is asserted; the module docstring says so."""
    rng = np.random.default_rng(3)
    result = edi_score(rng.normal(size=(3000, 3)), rng.integers(0, 4, size=(3000, 2)))
    assert result["informativeness"] < 0.01
    assert 0.0 <= result["disentanglement"] <= 1.0 and result["completeness"] <= 1.0


def test_invariances(reference):
    """Permuting codes, rescaling (even flipping) a code and relabelling a factor's values move
    only the 1e-10 jitter's effect: 1e-6."""
    arrays, _ = reference
    z, y = arrays["small_codes"][:4000], arrays["small_factors"][:4000]
    base = edi_score(z, y, rng=1)
    relabelled = y.copy()
    relabelled[:, 2] = np.array([4, 0, 3, 1, 2])[y[:, 2]]
    for variant in (edi_score(z[:, [2, 0, 1]], y, rng=1), edi_score(z * [3.0, -0.2, 1.0], y, rng=1),
                    edi_score(z, relabelled, rng=1)):
        for key in ("disentanglement", "completeness"):
            assert variant[key] == pytest.approx(base[key], abs=1e-6), key


@pytest.mark.parametrize("normaliser", ["max", "sum"])
def test_column_normalisers(normaliser):
    """With one code per factor every normaliser is that code's own information: all agree."""
    rng = np.random.default_rng(4)
    y = rng.integers(0, 5, size=(2000, 2))
    z = y + 0.05 * rng.normal(size=(2000, 2))
    joint, other = edi_score(z, y, rng=0), edi_score(z, y, normaliser=normaliser, rng=0)
    for key in ("disentanglement", "completeness"):
        assert other[key] == pytest.approx(joint[key], abs=0.02), key


def test_errors_name_the_argument():
    z, y = np.zeros((10, 2)), np.zeros((9, 2))
    with pytest.raises(BenchmarkError, match="same number of rows"):
        edi_score(z, y)
    with pytest.raises(BenchmarkError, match="normaliser must be one of"):
        edi_score(np.zeros((10, 2)), np.zeros((10, 2)), normaliser="mine")
    with pytest.raises(BenchmarkError, match="more than k"):
        edi_score(np.zeros((4, 2)), np.zeros((4, 2)))


def test_on_a_representation_is_reproducible():
    rep = ideal(FactorSpace.synthetic([3, 4]), noise=0.05)
    first, again = edi(rep, 7, num_samples=800), edi(rep, 7, num_samples=800)
    assert first == again
    assert first["disentanglement"] == pytest.approx(1.0, abs=0.02)
    assert SPEC.family == "information" and SPEC.target == "modularity"
