"""Per-level statistics and a verdict on how each metric responds to an attack."""
from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

__all__ = ["SUMMARY_COLUMNS", "THRESHOLDS", "headline_table", "relative_change", "summarise",
           "verdict"]

# A metric "detects" an attack when its score falls consistently with level
# (Spearman rho <= -RHO over all seeds) AND by a clear amount (relative drop from
# level 0 to the top level >= DROP).  Mirror image: "inverted".  Else "blind".
RHO_THRESHOLD = 0.5
DROP_THRESHOLD = 0.10
THRESHOLDS = {"spearman_rho": RHO_THRESHOLD, "relative_drop": DROP_THRESHOLD}

SUMMARY_COLUMNS = ["attack", "metric", "key", "level", "mean", "std", "n_seeds",
                   "spearman_rho", "drop", "relative_drop", "verdict"]


def relative_change(first: float, last: float) -> float:
    """``(first - last) / |first|``, 0 when both are 0, signed drop otherwise."""
    if first == 0:
        return 0.0 if last == 0 else float(-np.sign(last))
    return float((first - last) / abs(first))


def verdict(rho: float, relative_drop: float, rising: bool = False) -> str:
    """``detects``, ``blind`` or ``inverted`` from the trend statistics."""
    if rising:
        rho, relative_drop = -rho, -relative_drop
    if rho <= -RHO_THRESHOLD and relative_drop >= DROP_THRESHOLD:
        return "detects"
    if rho >= RHO_THRESHOLD and relative_drop <= -DROP_THRESHOLD:
        return "inverted"
    return "blind"


def spearman(levels: np.ndarray, scores: np.ndarray) -> float:
    if np.ptp(scores) == 0 or np.ptp(levels) == 0:
        return 0.0
    return float(stats.spearmanr(levels, scores).statistic)


def summarise(scores: pd.DataFrame, rising=frozenset()) -> pd.DataFrame:
    """One row per (attack, metric, key, level): mean, std and the key's trend verdict.

    ``spearman_rho``, ``drop`` (mean at the lowest level minus mean at the
    highest), ``relative_drop`` and ``verdict`` describe the whole key and are
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
        drop = first - last
        rel = relative_change(first, last)
        v = verdict(rho, rel, rising=(metric, key) in rising)
        for level in means.index:
            rows.append((attack, metric, key, level, means[level],
                         0.0 if counts[level] < 2 else stds[level], int(counts[level]),
                         rho, drop, rel, v))
    return pd.DataFrame(rows, columns=SUMMARY_COLUMNS)


def headline_table(summary: pd.DataFrame, headlines: dict) -> pd.DataFrame:
    """One row per (attack, metric) for the headline keys: drop, rho, verdict."""
    mask = [headlines.get(m) == k for m, k in zip(summary["metric"], summary["key"])]
    table = summary[mask].drop_duplicates(["attack", "metric"])
    return table[["attack", "metric", "key", "spearman_rho", "drop", "relative_drop", "verdict"]]
