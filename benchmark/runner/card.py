"""The report card: does each metric respond to each attack as an ideal metric of the
property it targets would?

Every attack declares, per property, whether an ideal metric should fall, stay
flat or rise with the level (``AttackSpec.expect``); every metric's spec names
the property its headline targets (``MetricSpec.target``).  The card compares
that expectation with what the metric's headline did in the sweep.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from ..spec import PROPERTIES
from .summary import relative_change

__all__ = ["BAND_FLOOR", "BAND_ROUNDING", "BAND_SEEDS", "CARD_COLUMNS", "CONFIDENCE", "change_intervals",
           "expected_response", "flat_band", "no_expectation", "observed_response", "report_card",
           "tally"]

CARD_COLUMNS = ["metric", "attack", "target", "expected", "observed", "level", "relative_change",
                "change_low", "change_high", "flat_band", "n_seeds", "agrees"]

#: The confidence of the interval on a change (two-sided).
CONFIDENCE = 0.95

#: The flat band is this many of the metric's seed-to-seed standard deviations on the
#: unattacked representation: two single runs of an unmoved metric differ by less in 97 %
#: of cases (their difference has standard deviation sqrt(2) sigma; 3 / sqrt(2) = 2.1).
BAND_SEEDS = 3.0

#: ... and at least this fraction of the unattacked score, for a metric whose seeds agree
#: exactly (a deterministic estimate): a 1 % change is below any decision a reader takes.
BAND_FLOOR = 0.01

#: ... and at least this, in score units: a score of 0 computed as 1e-16 or -1e-16 moves by
#: floating-point rounding, not by the attack.
BAND_ROUNDING = 1e-9

_MATCH = {"fall": "falls", "flat": "flat", "rise": "rises"}
_NOT_JUDGED = ("n/a", "inconclusive")
_MIRROR = {"fall": "rise", "rise": "fall"}


def expected_response(metric_spec, attack_spec):
    """What an ideal metric of ``metric_spec.target`` does under the attack, or None.

    A metric without a target is held to the attacks on which every property
    agrees (the invariance checks, noise); an attack without expectations
    makes no claim.  A headline that measures entanglement (one of the spec's
    ``rising`` keys) is expected to move the other way: it should rise where
    disentanglement falls.
    """
    expect = attack_spec.expect
    if not expect:
        return None
    if metric_spec.target is not None:
        expected = expect[metric_spec.target]
    else:
        values = set(expect.values())
        expected = values.pop() if len(values) == 1 else None  # a lone None stays None
    if metric_spec.headline in metric_spec.rising:
        return _MIRROR.get(expected, expected)
    return expected


def change_intervals(rows: pd.DataFrame) -> pd.DataFrame:
    """Per level above the first: the mean change of one key from the first level and its
    :data:`CONFIDENCE` interval, from ``rows`` of ``scores.csv`` (columns level, seed, score).

    Levels are paired by seed: a seed's metric and attack draw the same random numbers at
    every level (:mod:`.seeding`), so the per-seed differences are independent draws of
    the attack's effect and a t interval on them (``n - 1`` degrees of freedom) is exact
    for normal differences.  One seed gives no interval (``-inf, inf``).
    """
    table = rows.pivot_table(index="seed", columns="level", values="score", aggfunc="first")
    table = table.sort_index(axis=1)
    first = table.iloc[:, 0]
    out = []
    for level in table.columns[1:]:
        diff = (table[level] - first).dropna().to_numpy(dtype=float)
        n = len(diff)
        mean = float(diff.mean()) if n else np.nan
        half = (stats.t.ppf(0.5 + CONFIDENCE / 2, n - 1) * diff.std(ddof=1) / np.sqrt(n)
                if n >= 2 else np.inf)
        out.append((level, mean, mean - half, mean + half, n))
    return pd.DataFrame(out, columns=["level", "change", "low", "high", "n"]).set_index("level")


def flat_band(rows: pd.DataFrame) -> float:
    """Half-width of the flat band, in score units: :data:`BAND_SEEDS` seed standard
    deviations of the first level's scores, at least :data:`BAND_FLOOR` of their mean and
    at least :data:`BAND_ROUNDING`."""
    first = rows.loc[rows["level"] == rows["level"].min(), "score"].to_numpy(dtype=float)
    spread = float(np.std(first, ddof=1)) if len(first) >= 2 else 0.0
    return max(BAND_SEEDS * spread, BAND_FLOOR * abs(float(np.mean(first))), BAND_ROUNDING)


def observed_response(rows: pd.DataFrame) -> dict:
    """How one key responded, from its ``scores.csv`` rows (level, seed, score).

    With the band ``b`` (:func:`flat_band`) and each level's interval on its change
    from the first level (:func:`change_intervals`):

    * ``falls`` / ``rises``: the top level's interval lies below ``-b`` / above ``b``;
    * ``flat``: every level's interval lies inside ``[-b, b]``;
    * ``moves``: the top level's interval lies inside the band but some other level's
      lies outside it (a confident change that does not last to the top);
    * ``inconclusive``: none of these (an interval straddles the band's edge: more
      seeds decide);
    * ``n/a``: a score is missing, not finite, or there is one level only.

    Returns ``observed``; ``level``, the level that decides it (the top level for
    ``falls``, ``rises`` and ``flat``; for ``moves`` the highest level whose interval lies
    outside the band; else the highest level whose interval reaches farthest from 0);
    ``relative_change``, ``change_low`` and ``change_high``, the mean change at that level
    and its interval relative to the first level's mean (see
    :func:`.summary.relative_change`); ``flat_band`` relative in the same way; and
    ``n_seeds``, the fewest seeds any level pairs with level 0.
    """
    intervals = change_intervals(rows)
    first = float(rows.loc[rows["level"] == rows["level"].min(), "score"].mean())
    band = flat_band(rows)
    observed = _observed(intervals, band, rows)
    if intervals.empty:
        intervals = pd.DataFrame({"change": [np.nan], "low": [np.nan], "high": [np.nan], "n": [0]},
                                 index=[rows["level"].min()])
    low, high = intervals["low"], intervals["high"]
    outside = (high < -band) | (low > band)
    if observed in ("falls", "rises", "flat"):
        level = intervals.index[-1]
    elif observed == "moves":
        level = outside[outside].index[-1]
    else:
        level = np.maximum(low.abs(), high.abs()).fillna(-1.0)[::-1].idxmax()
    at = intervals.loc[level]
    last = first + at["change"]
    scale = abs(first) or abs(last) or 1.0  # relative_change's convention from a first value of 0
    return {"observed": observed, "level": float(level),
            "relative_change": relative_change(first, last) if np.isfinite(last) else np.nan,
            "change_low": at["low"] / scale, "change_high": at["high"] / scale,
            "flat_band": band / scale, "n_seeds": int(intervals["n"].min())}


def _observed(intervals: pd.DataFrame, band: float, rows: pd.DataFrame) -> str:
    if intervals.empty or not np.all(np.isfinite(rows["score"].to_numpy(dtype=float))) \
            or intervals["change"].isna().any():
        return "n/a"
    low, high = intervals["low"].to_numpy(), intervals["high"].to_numpy()
    inside = (low >= -band) & (high <= band)
    if high[-1] < -band:
        return "falls"
    if low[-1] > band:
        return "rises"
    if inside.all():
        return "flat"
    if inside[-1] and np.any((high < -band) | (low > band)):
        return "moves"
    return "inconclusive"


def report_card(frames: dict, metric_specs: dict, attack_specs: dict) -> pd.DataFrame:
    """The card: one row per (metric, attack) with :data:`CARD_COLUMNS`.

    Parameters
    ----------
    frames : dict
        ``{attack: scores}`` (``scores.csv``'s rows: level, seed, metric, key, score).
    metric_specs, attack_specs : dict
        ``{name: MetricSpec}`` and ``{name: AttackSpec}``.
    """
    out = []
    for attack, scores in frames.items():
        for metric, spec in metric_specs.items():
            rows = scores[(scores["metric"] == metric) & (scores["key"] == spec.headline)]
            if rows.empty:
                continue
            seen = observed_response(rows)
            expected = expected_response(spec, attack_specs[attack])
            judged = expected is not None and seen["observed"] not in _NOT_JUDGED
            agrees = str(_MATCH[expected] == seen["observed"]).lower() if judged else ""
            out.append({"metric": metric, "attack": attack, "target": spec.target or "",
                        "expected": expected or "", **seen, "agrees": agrees})
    return pd.DataFrame(out, columns=CARD_COLUMNS)


def tally(card: pd.DataFrame, metric_specs: dict) -> list[str]:
    """One line per metric: ``UniBound answers 12 of 14 attacks as expected``, or why no
    attack of the run holds it to an expectation."""
    lines = []
    for metric, spec in metric_specs.items():
        mine = card[card["metric"] == metric]
        judged = mine[mine["agrees"] != ""]
        if judged.empty:
            if ((mine["observed"] == "inconclusive") & (mine["expected"] != "")).any():
                lines.append(f"{spec.display_name}: inconclusive under every attack that expects "
                             "an answer (more seeds decide)")
            elif len(mine):
                lines.append(f"{spec.display_name}: {no_expectation(spec)}")
            continue
        right = int((judged["agrees"] == "true").sum())
        expected = mine[mine["expected"] != ""]
        unsure = int((expected["observed"] == "inconclusive").sum())
        missing = int((expected["observed"] == "n/a").sum())
        extra = [f"{unsure} more inconclusive"] * bool(unsure) + [f"{missing} n/a"] * bool(missing)
        lines.append(f"{spec.display_name} answers {right} of {len(judged)} attacks as expected"
                     + (f" ({', '.join(extra)})" if extra else ""))
    return lines


def no_expectation(spec) -> str:
    """Why a metric is held to no expectation under a run's attacks, in words."""
    if spec.target is None:
        return ("no expectation under these attacks: it names no target property (set "
                f"{spec.name}.target to one of {', '.join(PROPERTIES)})")
    return "no expectation under these attacks"
