"""Out-of-distribution read-out: the splits' regions, known answers, invariances, errors."""
import numpy as np
import pytest

import attacks
from benchmark import BenchmarkError, FactorSpace, from_arrays, ideal
from metrics_baseline._ood import SPEC, ood_readout, ood_readout_score, split_masks

SPACE = FactorSpace.synthetic([10, 12, 3])


def grid(sizes):
    return np.stack(np.meshgrid(*map(np.arange, sizes), indexing="ij"), axis=-1).reshape(-1, len(sizes))


def test_the_regions_by_hand():
    """Fraction 0.3 of a 10-value factor: m = 3 values held out, the lowest (0-2), the middle from
    (10 - 3) // 2 (3-5) or the highest (7-9); the 3-value factor is never held out."""
    rows = grid((10, 3))
    for split, values in (("composition", {0, 1, 2}), ("interpolation", {3, 4, 5}),
                          ("extrapolation", {7, 8, 9})):
        train, test = split_masks(rows, (10, 3), split)
        assert set(rows[test, 0]) == values and not (train & test).any() and (train | test).all()
        assert set(rows[test, 1]) == {0, 1, 2}
    # the corner needs every held-out-able factor low; the others need one
    rows = grid((10, 10))
    assert split_masks(rows, (10, 10), "composition")[1].sum() == 9
    assert split_masks(rows, (10, 10), "extrapolation")[1].sum() == 100 - 49


def test_every_split_holds_out_a_value_even_of_a_small_factor():
    """Four values: one held out per split (a band of 30 % around the middle would hold none)."""
    rows = grid((4,))
    assert [rows[split_masks(rows, (4,), split)[1], 0].tolist()
            for split in ("composition", "interpolation", "extrapolation")] == [[0], [1], [3]]
    rep = ideal(FactorSpace.synthetic([4, 4, 3]), noise=0.0)
    assert set(ood_readout(rep, 0, num_train=200, num_test=100)) == {
        "random", "composition", "interpolation", "extrapolation"}


def test_a_linear_code_reads_out_everywhere():
    """Codes linear in the factors: the linear read-out is exact on every split (R^2 = 1)."""
    result = ood_readout(attacks.get("rotation")(ideal(SPACE, noise=0.0), 1.0, 0), 0,
                         num_train=600, num_test=400)
    assert result == pytest.approx(dict.fromkeys(result, 1.0), abs=1e-9)


def test_a_bent_code_fails_to_extrapolate():
    """warp bends each latent (sinh): in distribution a line fits part of it, beyond the seen
    range it misses."""
    result = ood_readout(attacks.get("warp")(ideal(SPACE, noise=0.0), 4.0, 0), 0,
                         num_train=2000, num_test=1000)
    assert result["extrapolation"] < result["random"] - 0.1


def test_r_squared_uses_the_test_targets_variance():
    """A prediction off by a constant 0.1 on targets of variance v: R^2 = 1 - 0.01 / v."""
    factors_test = np.array([[0], [4], [8], [8]])
    codes_test = factors_test / 8.0 + 0.1
    codes = np.array([[0.0], [0.5], [1.0]])
    factors = np.array([[0], [4], [8]])
    variance = (factors_test / 8.0).var()
    assert ood_readout_score(codes, factors, codes_test, factors_test, (9,)) == pytest.approx(
        1 - 0.01 / variance)


def test_permuting_and_rescaling_latents_change_nothing():
    """The read-out standardises its inputs and is linear: exact invariance (rounding aside)."""
    rep = attacks.get("warp")(ideal(SPACE, noise=0.05), 2.0, 0)
    base = ood_readout(rep, 1, num_train=800, num_test=400)
    mapped = ood_readout(attacks.get("rescale")(attacks.get("permute")(rep, 1.0, 3), 3.0, 4), 1,
                         num_train=800, num_test=400)
    assert mapped == pytest.approx(base, abs=1e-8)


def test_a_table_draws_its_own_rows():
    rows = grid((10, 12, 3))
    table = from_arrays(rows, rows * np.array([0.1, -0.2, 1.0]))
    result = ood_readout(table, 0, num_train=500, num_test=300)
    assert result == pytest.approx(dict.fromkeys(result, 1.0), abs=1e-9)


def test_errors():
    with pytest.raises(BenchmarkError, match="split must be one of"):
        split_masks(grid((10,)), (10,), "random")
    with pytest.raises(BenchmarkError, match="min_values"):
        split_masks(grid((3,)), (3,), "extrapolation")
    with pytest.raises(BenchmarkError, match="fraction"):
        ood_readout(ideal(SPACE), 0, fraction=1.5)
    with pytest.raises(BenchmarkError, match="readout must be one of"):
        ood_readout(ideal(SPACE), 0, num_train=50, num_test=50, readout="forest")
    assert SPEC.family == "predictor" and SPEC.target == "explicitness"
