"""PID bounds: ordering, hand-computed cases, aggregation."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from metrics_pid import (
    TERMS,
    aggregate,
    pid_bounds,
)

infos = st.floats(0, 2, allow_nan=False)


@settings(max_examples=200, deadline=None)
@given(a=infos, b=infos, c=infos, h=st.floats(0.1, 2))
def test_bounds_are_ordered_and_consistent(a, b, c, h):
    bounds = pid_bounds([[a]], [[b]], [c], [h])
    for term in TERMS:
        assert bounds[f"{term}_lower"][0, 0] <= bounds[f"{term}_upper"][0, 0] + 1e-12
        assert bounds[f"{term}_lower"][0, 0] >= 0
    # U + R = I(y; z_l): each end of U's interval pairs with the other end of R's
    norm_a = bounds["a"][0, 0]
    assert bounds["unique_lower"][0, 0] + bounds["redundancy_upper"][0, 0] == pytest.approx(norm_a)
    assert bounds["unique_upper"][0, 0] + bounds["redundancy_lower"][0, 0] == pytest.approx(norm_a)


@pytest.mark.parametrize("a,b,c,expected", [
    # pure copy: z_1 = y, nothing else -> all unique
    (1.0, 0.0, 1.0, {"unique": (1, 1), "redundancy": (0, 0), "synergy": (0, 0)}),
    # two copies: z_1 = z_2 = y -> all redundant
    (1.0, 1.0, 1.0, {"unique": (0, 0), "redundancy": (1, 1), "synergy": (0, 0)}),
    # independent latents
    (0.0, 0.0, 0.0, {"unique": (0, 0), "redundancy": (0, 0), "synergy": (0, 0)}),
    # XOR key pad: z_1 = y xor m, z_2 = m -> all synergistic
    (0.0, 0.0, 1.0, {"unique": (0, 0), "redundancy": (0, 0), "synergy": (1, 1)}),
    # half copy in z_1, the other half only jointly: bounds are not tight
    (0.5, 0.0, 1.0, {"unique": (0.5, 0.5), "redundancy": (0, 0), "synergy": (0.5, 0.5)}),
])
def test_hand_computed_cases(a, b, c, expected):
    h = np.log(2)
    bounds = pid_bounds([[a * h]], [[b * h]], [c * h], [h])
    for term, (lo, hi) in expected.items():
        assert bounds[f"{term}_lower"][0, 0] == pytest.approx(lo)
        assert bounds[f"{term}_upper"][0, 0] == pytest.approx(hi)


def test_aggregate_uses_best_latent_and_mean_over_factors():
    h = np.array([1.0, 2.0])
    single = np.array([[1.0, 0.2], [0.0, 1.0]])
    rest = np.array([[0.2, 1.0], [1.0, 0.0]])
    scores = aggregate(pid_bounds(single, rest, np.array([1.0, 1.0]), h))
    assert scores["unibound"] == pytest.approx((0.8 + 0.5) / 2)
    assert scores["mi"] == pytest.approx((1.0 + 0.5) / 2)
