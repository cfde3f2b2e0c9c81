"""summary.csv statistics and verdicts."""
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from benchmark.runner import summary


def frame(levels, per_seed_scores, key="score", metric="m"):
    rows = []
    for seed, scores in enumerate(per_seed_scores):
        for level, s in zip(levels, scores):
            rows.append(("noise", level, seed, metric, key, s))
    return pd.DataFrame(rows, columns=["attack", "level", "seed", "metric", "key", "score"])


def test_statistics_by_hand():
    table = summary.summarise(frame([0, 1, 2], [[1.0, 0.6, 0.2], [0.8, 0.6, 0.4]]))
    assert list(table.columns) == summary.SUMMARY_COLUMNS
    np.testing.assert_allclose(table["mean"], [0.9, 0.6, 0.3])
    np.testing.assert_allclose(table["std"], [np.sqrt(0.02), 0.0, np.sqrt(0.02)])
    row = table.iloc[0]
    # one convention everywhere: the change is signed, negative when the score falls
    assert row["change"] == pytest.approx(-0.6) and row.relative_change == pytest.approx(-0.6 / 0.9)
    # Pearson on ranks: level ranks 1.5,3.5,5.5 (twice), score ranks 6,3.5,1,5,3.5,2;
    # deviations (-2,0,2,-2,0,2) and (2.5,0,-2.5,1.5,0,-1.5): rho = -16 / sqrt(16 * 17)
    assert row.spearman_rho == pytest.approx(-16 / np.sqrt(16 * 17))
    assert set(table.verdict) == {"detects"}


@pytest.mark.parametrize("scores, verdict", [
    ([[1.0, 0.99, 0.98]], "blind"),       # consistent but only a 2% drop
    ([[0.5, 0.5, 0.5]], "blind"),         # constant: rho defined as 0
    ([[0.2, 0.5, 0.9]], "inverted"),
    ([[1.0, 0.2, 1.0]], "blind"),         # dips and recovers: rho = 0 by symmetry
])
def test_verdicts(scores, verdict):
    table = summary.summarise(frame([0, 1, 2], scores))
    assert table.verdict.iloc[0] == verdict


def test_rising_keys_detect_when_they_rise():
    table = summary.summarise(frame([0, 1, 2], [[0.0, 0.4, 0.9]], key="redundancy_l"),
                              rising={("m", "redundancy_l")})
    assert table.verdict.iloc[0] == "detects"


@settings(max_examples=60, deadline=None)
@given(st.lists(st.floats(0.01, 1.0), min_size=3, max_size=8, unique=True))
def test_strictly_falling_scores_with_a_large_drop_are_detected(values):
    scores = sorted(values, reverse=True)
    table = summary.summarise(frame(list(range(len(scores))), [scores]))
    rel = (scores[0] - scores[-1]) / scores[0]
    assert table.spearman_rho.iloc[0] == pytest.approx(-1.0)
    assert table.verdict.iloc[0] == ("detects" if rel >= summary.CHANGE_THRESHOLD else "blind")
    mirrored = summary.summarise(frame(list(range(len(scores))), [scores[::-1]]))
    assert mirrored.verdict.iloc[0] in ("inverted", "blind")


@pytest.mark.parametrize("first, last, change", [
    (1.0, 0.25, -0.75), (0.5, 0.75, 0.5), (-0.5, -1.0, -1.0), (2.0, 2.0, 0.0),
    (0.0, 0.3, 1.0),    # a rise from 0 is a rise (+100% of where it ends)
    (0.0, -0.3, -1.0), (0.3, 0.0, -1.0), (0.0, 0.0, 0.0),
])
def test_relative_change_is_signed_and_a_rise_from_zero_rises(first, last, change):
    assert summary.relative_change(first, last) == change


def test_no_negative_zero_reaches_a_csv(tmp_path):
    from benchmark.runner.io import atomic_write_csv

    table = summary.summarise(frame([0, 1], [[0.5, 0.5], [0.5, 0.5]]))
    atomic_write_csv(tmp_path / "s.csv", table.assign(mean=-0.0))
    text = (tmp_path / "s.csv").read_text()
    assert ",-0," not in text and ",-0\n" not in text
    assert summary.format_change(-0.001) == "0%" == summary.format_change(0.0)
