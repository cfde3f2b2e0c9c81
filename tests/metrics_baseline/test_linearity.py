"""Axis alignment and linearity along traversals: closed forms, invariances, errors."""
import numpy as np
import pytest

from benchmark import BenchmarkError, FactorSpace, from_arrays, ideal
from benchmark.representations import linear_transform
from metrics_baseline._linearity import SPEC, linearity, linearity_score, normalised_top_ratio


def rotated_traversals(theta, size=6, repeats=3):
    """Two factors, each traversal a straight line at angle ``theta`` from its own axis."""
    steps = np.linspace(-1.0, 1.0, size)
    out = []
    for direction in ([np.cos(theta), np.sin(theta)], [-np.sin(theta), np.cos(theta)]):
        line = steps[:, None] * np.array(direction)
        out.append(np.repeat(line[None], repeats, axis=0) + np.arange(repeats)[:, None, None])
    return out


def test_the_ratio_by_hand():
    np.testing.assert_allclose(normalised_top_ratio([[3.0, 1.0], [2.0, 2.0], [9.0, 0.0]]),
                               [0.5, 0.0, 1.0])
    assert normalised_top_ratio([5.0]) == 0.0  # one latent: no direction to prefer


@pytest.mark.parametrize("degrees", [0, 15, 30, 45])
def test_a_rotated_line_has_axis_ratio_cos_2theta(degrees):
    """Axis variances v cos^2 and v sin^2: ratio cos^2, normalised over two latents to cos(2 theta);
    the traversal stays a line (linear ratio 1)."""
    theta = np.radians(degrees)
    result = linearity_score(rotated_traversals(theta))
    assert result["axis_ratio"] == pytest.approx(np.cos(2 * theta), abs=1e-9)
    assert result["linear_ratio"] == pytest.approx(1.0, abs=1e-9)
    if degrees < 45:
        assert result["axis_alignment"] == pytest.approx(np.cos(2 * theta), abs=1e-9)


def test_an_arc_is_not_a_line():
    """Points on a quarter circle: the covariance of (cos t, sin t) over t in [0, pi/2]."""
    t = np.linspace(0.0, np.pi / 2, 101)
    arc = np.stack([np.cos(t), np.sin(t)], axis=1)[None]
    result = linearity_score([arc])
    values = np.linalg.eigvalsh(np.cov(arc[0].T))
    expected = (values.max() / values.sum() - 0.5) / 0.5
    assert result["linear_ratio"] == pytest.approx(expected, abs=1e-9)
    assert result["linear_ratio"] < 0.95


def test_an_ideal_code_scores_one_and_permuting_latents_changes_nothing():
    space = FactorSpace.synthetic([3, 4, 5])
    rep = ideal(space, noise=0.0)
    assert linearity(rep, 0, repeats=4) == {"axis_ratio": 1.0, "linear_ratio": 1.0,
                                            "axis_alignment": 1.0, "axis_ratio_ave": 1.0}
    noisy = ideal(space, noise=0.1)
    codes = [np.asarray(c) for c in rotated_traversals(0.3)]
    permuted = [c[:, :, ::-1] for c in codes]
    assert linearity_score(permuted) == pytest.approx(linearity_score(codes), abs=1e-12)
    first, again = linearity(noisy, 3, repeats=16), linearity(noisy, 3, repeats=16)
    assert first == again and 0.9 < first["axis_ratio"] < 1.0


def test_rescaling_a_latent_moves_it_as_in_the_reference():
    """Variances: a latent scaled up takes a rotated traversal's variance from the other."""
    codes = rotated_traversals(np.radians(30))
    scaled = [c * np.array([3.0, 1.0]) for c in codes]
    assert linearity_score(scaled)["axis_ratio"] != pytest.approx(linearity_score(codes)["axis_ratio"])


def test_a_table_of_encodings_on_its_full_grid():
    grid = np.stack(np.meshgrid(np.arange(3), np.arange(4), indexing="ij"), axis=-1).reshape(-1, 2)
    table = from_arrays(grid, grid * np.array([2.0, -1.0]))
    assert linearity(table, 0, repeats=5)["axis_ratio"] == pytest.approx(1.0)


def test_one_failing_factor_sinks_the_geometric_mean_only():
    good, rotated = rotated_traversals(0.0)[0], rotated_traversals(np.pi / 4)[0]
    assert linearity_score([good, rotated])["axis_ratio"] == pytest.approx(0.0, abs=1e-6)  # sqrt(1 * ~1e-16)
    assert linearity_score([good, rotated], aggregate="arithmetic")["axis_ratio"] == pytest.approx(0.5)


def test_a_factor_the_code_ignores_has_no_direction():
    """Factor 2 leaves the code unchanged: its traversals' variances are rounding, ~1e-33 (the
    reference divides these by each other and gets noise); here its ratios are 0, so the
    geometric mean is 0 and the arithmetic mean that of the two other factors' 1."""
    rep = linear_transform(ideal(FactorSpace.synthetic([5, 8, 10]), noise=0.0),
                           np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]]))
    assert linearity(rep, 0, repeats=16) == {"axis_ratio": 0.0, "linear_ratio": 0.0,
                                             "axis_alignment": 0.0, "axis_ratio_ave": 0.0}
    result = linearity(rep, 0, repeats=16, aggregate="arithmetic")
    assert result["axis_ratio"] == pytest.approx(2 / 3, abs=1e-12)
    assert result["linear_ratio"] == pytest.approx(2 / 3, abs=1e-12)
    # each latent is judged against its own magnitude: a latent parked at 1e9 does not hide
    # a movement of 0.01 a step in another, nor a movement of 1e-6 on an offset of 1e3
    steps = np.arange(6.0)[None, :, None]
    parked = np.concatenate([0.01 * steps, np.full_like(steps, 1e9)], axis=2)
    assert linearity_score([parked]) == pytest.approx(
        {"axis_ratio": 1.0, "linear_ratio": 1.0, "axis_alignment": 1.0, "axis_ratio_ave": 1.0})
    small = np.concatenate([1e3 + 1e-6 * steps, np.zeros_like(steps)], axis=2)
    assert linearity_score([small])["axis_ratio"] == pytest.approx(1.0)


def test_errors():
    with pytest.raises(BenchmarkError, match=r"traversal_codes\[0\] must be"):
        linearity_score([np.zeros((3, 4))])
    with pytest.raises(BenchmarkError, match="every factor has one value"):
        linearity_score([np.zeros((3, 1, 2))])
    with pytest.raises(BenchmarkError, match="aggregate must be one of"):
        linearity_score([np.zeros((3, 4, 2))], aggregate="median")
    with pytest.raises(BenchmarkError, match="repeats"):
        linearity(ideal(FactorSpace.synthetic([3])), 0, repeats=0)
    assert SPEC.family == "intervention" and SPEC.target == "compactness"
