"""Out-of-distribution read-out: the splits' regions, known answers, invariances, errors."""
import numpy as np
import pytest

import attacks
from benchmark import BenchmarkError, FactorSpace, from_arrays, ideal
from metrics_baseline._ood import SPEC, grid_variance, ood_readout, ood_readout_score, split_masks

SPACE = FactorSpace.synthetic([10, 12, 3])


def grid(sizes):
    return np.stack(np.meshgrid(*map(np.arange, sizes), indexing="ij"), axis=-1).reshape(-1, len(sizes))


def test_the_regions_by_hand():
    """Fraction 0.3 of a 10-value factor: m = 3 values held out, the upper 7 for composition
    (training keeps a row with some factor among its 3 lowest), 2, 5 and 7 spread over the
    interior (round(linspace(0, 9, 5)) without the ends) or the highest (7-9); the 3-value
    factor is never held out."""
    rows = grid((10, 3))
    for split, values in (("composition", set(range(3, 10))), ("interpolation", {2, 5, 7}),
                          ("extrapolation", {7, 8, 9})):
        train, test = split_masks(rows, (10, 3), split)
        assert set(rows[test, 0]) == values and not (train & test).any() and (train | test).all()
        assert set(rows[test, 1]) == {0, 1, 2}
    # composition: test rows have no factor low, and training sees every value of each
    rows = grid((10, 10))
    train, test = split_masks(rows, (10, 10), "composition")
    assert test.sum() == 49 and (rows[test] >= 3).all()
    assert all(set(rows[train, k]) == set(range(10)) for k in range(2))
    assert split_masks(rows, (10, 10), "extrapolation")[1].sum() == 100 - 49
    assert split_masks(rows, (10, 10), "interpolation")[1].sum() == 100 - 49


def test_every_split_holds_out_a_value_even_of_a_small_factor():
    """Four values: m = 1 (a band of 30 % would hold none): composition trains on value 0
    alone, interpolation holds out 2 (round(1.5) up), extrapolation 3."""
    rows = grid((4,))
    assert [rows[split_masks(rows, (4,), split)[1], 0].tolist()
            for split in ("composition", "interpolation", "extrapolation")] == [[1, 2, 3], [2], [3]]
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


def test_r_squared_uses_the_whole_grids_variance():
    """As the authors' RSquared: a prediction off by a constant 0.1 on a 9-value factor scaled
    to [0, 1]: R^2 = 1 - 0.01 / Var, Var = 10 / 96 over the whole grid (not over the test
    rows, which may cover a small part of it), averaged over every factor."""
    factors_test = np.array([[0], [4], [8], [8]])
    codes_test = factors_test / 8.0 + 0.1
    codes = np.array([[0.0], [0.5], [1.0]])
    factors = np.array([[0], [4], [8]])
    assert ood_readout_score(codes, factors, codes_test, factors_test, (9,)) == pytest.approx(
        1 - 0.01 / (10 / 96))


def test_the_grid_variance_is_the_variance_over_every_combination():
    sizes = (3, 6, 4, 40)
    scaled = grid(sizes) / (np.array(sizes) - 1.0)
    np.testing.assert_allclose(grid_variance(sizes), scaled.var(axis=0), rtol=1e-12)


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
    with pytest.raises(BenchmarkError, match="fraction=0.9 holds out 4 of the 4 values of factor"):
        ood_readout(ideal(FactorSpace.synthetic([4, 4])), 0, fraction=0.9)
    with pytest.raises(BenchmarkError, match="min_values must be an integer >= 3"):
        ood_readout(ideal(SPACE), 0, min_values=2)
    with pytest.raises(BenchmarkError, match="readout must be one of"):
        ood_readout(ideal(SPACE), 0, num_train=50, num_test=50, readout="forest")
    assert SPEC.family == "predictor" and SPEC.target == "explicitness"
