"""Per-level statistics and a verdict on how each metric responds to an attack."""
from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

__all__ = ["SUMMARY_COLUMNS", "THRESHOLDS", "format_change", "headline_table", "relative_change",
           "summarise", "verdict"]

# A metric "detects" an attack when its score falls consistently with level
# (Spearman rho <= -RHO over all seeds) AND by a clear amount (relative change from
# level 0 to the top level <= -CHANGE).  Mirror image: "inverted".  Else "blind".
RHO_THRESHOLD = 0.5
CHANGE_THRESHOLD = 0.10
THRESHOLDS = {"spearman_rho": RHO_THRESHOLD, "relative_change": CHANGE_THRESHOLD}

SUMMARY_COLUMNS = ["attack", "metric", "key", "level", "mean", "std", "n_seeds",
                   "spearman_rho", "change", "relative_change", "verdict"]


def relative_change(first: float, last: float) -> float:
    """The signed change from ``first`` to ``last`` relative to ``|first|``: negative when
    the score falls, the one convention of every table and figure.

    From a first value of 0 the change is relative to ``|last|`` instead, so a rise
    from 0 is +1 (and a fall to 0 is -1, as it is from any value).

    >>> relative_change(1.0, 0.25), relative_change(0.5, 0.75), relative_change(0.0, 0.3)
    (-0.75, 0.5, 1.0)
    """
    if first == last:
        return 0.0
    return float((last - first) / abs(first if first != 0 else last)) + 0.0  # + 0.0: never -0


def format_change(value: float) -> str:
    """A relative change as a signed percentage (``-72%``, ``+40%``, ``0%``); beyond
    1000% (a score that starts near 0) the digits say nothing more.

    >>> format_change(-0.724), format_change(0.001), format_change(25.0)
    ('-72%', '0%', '>+1000%')
    """
    if not np.isfinite(value):
        return "n/a"
    if abs(value) > 10:
        return f"{'>+' if value > 0 else '<-'}1000%"
    text = f"{value:+.0%}"
    return "0%" if text in ("+0%", "-0%") else text


def verdict(rho: float, change: float, rising: bool = False) -> str:
    """``detects``, ``blind`` or ``inverted`` from the trend statistics (``change``:
    the relative change, negative when the score falls)."""
    if rising:
        rho, change = -rho, -change
    if rho <= -RHO_THRESHOLD and change <= -CHANGE_THRESHOLD:
        return "detects"
    if rho >= RHO_THRESHOLD and change >= CHANGE_THRESHOLD:
        return "inverted"
    return "blind"


def spearman(levels: np.ndarray, scores: np.ndarray) -> float:
    if np.ptp(scores) == 0 or np.ptp(levels) == 0:
        return 0.0
    return float(stats.spearmanr(levels, scores).statistic)


def summarise(scores: pd.DataFrame, rising=frozenset()) -> pd.DataFrame:
    """One row per (attack, metric, key, level): mean, std and the key's trend verdict.

    ``spearman_rho``, ``change`` (mean at the highest level minus mean at the
    lowest), ``relative_change`` (see :func:`relative_change`; negative: the
    score falls) and ``verdict`` describe the whole key and are
    repeated on each of its rows so the table stays tidy.  ``rising`` holds
    the ``(metric, key)`` pairs that measure entanglement (the metric specs say
    which): for them detecting means rising.
    """
    rows = []
    for (attack, metric, key), group in scores.groupby(["attack", "metric", "key"], sort=False):
        per_level = group.groupby("level")["score"]
        means, stds, counts = per_level.mean(), per_level.std(ddof=1), per_level.count()
        rho = spearman(group["level"].to_numpy(), group["score"].to_numpy())
        first, last = float(means.iloc[0]), float(means.iloc[-1])
        rel = relative_change(first, last)
        v = verdict(rho, rel, rising=(metric, key) in rising)
        for level in means.index:
            rows.append((attack, metric, key, level, means[level],
                         0.0 if counts[level] < 2 else stds[level], int(counts[level]),
                         rho, last - first + 0.0, rel, v))
    return pd.DataFrame(rows, columns=SUMMARY_COLUMNS)


def headline_table(summary: pd.DataFrame, headlines: dict) -> pd.DataFrame:
    """One row per (attack, metric) for the headline keys: change, rho, verdict."""
    mask = [headlines.get(m) == k for m, k in zip(summary["metric"], summary["key"])]
    table = summary[mask].drop_duplicates(["attack", "metric"])
    return table[["attack", "metric", "key", "spearman_rho", "change", "relative_change", "verdict"]]
