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

from ..spec import PROPERTIES

__all__ = ["CARD_COLUMNS", "FLAT_TOLERANCE", "expected_response", "no_expectation",
           "observed_response", "report_card", "tally"]

CARD_COLUMNS = ["metric", "attack", "target", "expected", "observed", "relative_change", "agrees"]

#: A score that never moves further than this from its level-0 mean (in score units),
#: or than three standard errors of a difference of two level means, is flat
#: (see :func:`observed_response`).
FLAT_TOLERANCE = 0.02

_MATCH = {"fall": "falls", "flat": "flat", "rise": "rises"}


def expected_response(metric_spec, attack_spec):
    """What an ideal metric of ``metric_spec.target`` does under the attack, or None.

    A metric without a target is held to the attacks on which every property
    agrees (the invariance checks, noise); an attack without expectations
    makes no claim.
    """
    expect = attack_spec.expect
    if not expect:
        return None
    if metric_spec.target is not None:
        return expect[metric_spec.target]
    values = set(expect.values())
    return values.pop() if len(values) == 1 else None  # a lone None stays None


def observed_response(rows: pd.DataFrame, rising: bool = False) -> tuple[str, float]:
    """``(observed, relative_change)`` of one key's rows of ``summary.csv``.

    * ``falls`` / ``rises``: a consistent trend, the summary's verdict
      (Spearman rho at most -0.5 / at least 0.5 over all seeds and a relative
      change of at least 10 % from level 0 to the top level; for a ``rising``
      key the summary's "detects" means it rose);
    * ``flat``: otherwise, when every level's mean stays within
      ``max(FLAT_TOLERANCE, 3 SE)`` of level 0's mean, SE being the standard
      error of a difference of two means of ``n`` seeds with the seed-to-seed
      spread of level 0 (the metric's own noise, before the attack's random
      draws add to it);
    * ``moves``: neither (it changes beyond the noise, but not clearly one way);
    * ``n/a``: the score is missing at some level.

    ``relative_change`` is the signed change from level 0 to the top level,
    relative to level 0 (negative: the score falls).
    """
    rows = rows.sort_values("level")
    means = rows["mean"].to_numpy(dtype=float)
    change = float(rows["relative_change"].iloc[0])
    if not np.all(np.isfinite(means)):
        return "n/a", change
    verdict = rows["verdict"].iloc[0]
    if verdict in ("detects", "inverted"):
        return ("rises" if (verdict == "detects") == rising else "falls"), change
    n = max(int(rows["n_seeds"].iloc[0]), 1)
    spread = float(np.nan_to_num(rows["std"].iloc[0]))  # one seed: no spread measured
    tolerance = max(FLAT_TOLERANCE, 3 * spread * np.sqrt(2 / n))
    if np.max(np.abs(means - means[0])) <= tolerance:
        return "flat", change
    return "moves", change


def report_card(summaries: dict, metric_specs: dict, attack_specs: dict) -> pd.DataFrame:
    """The card: one row per (metric, attack) with :data:`CARD_COLUMNS`.

    Parameters
    ----------
    summaries : dict
        ``{attack: summary table}`` (``summary.csv``'s rows).
    metric_specs, attack_specs : dict
        ``{name: MetricSpec}`` and ``{name: AttackSpec}``.
    """
    out = []
    for attack, summary in summaries.items():
        for metric, spec in metric_specs.items():
            rows = summary[(summary["metric"] == metric) & (summary["key"] == spec.headline)]
            if rows.empty:
                continue
            observed, change = observed_response(rows, rising=spec.headline in spec.rising)
            expected = expected_response(spec, attack_specs[attack])
            judged = expected is not None and observed != "n/a"
            agrees = str(_MATCH[expected] == observed).lower() if judged else ""
            out.append((metric, attack, spec.target or "", expected or "", observed, change, agrees))
    return pd.DataFrame(out, columns=CARD_COLUMNS)


def tally(card: pd.DataFrame, metric_specs: dict) -> list[str]:
    """One line per metric: ``UniBound answers 12 of 14 attacks as expected``, or why no
    attack of the run holds it to an expectation."""
    lines = []
    for metric, spec in metric_specs.items():
        mine = card[card["metric"] == metric]
        judged = mine[mine["agrees"] != ""]
        if judged.empty:
            if len(mine):
                lines.append(f"{spec.display_name}: {no_expectation(spec)}")
            continue
        right = int((judged["agrees"] == "true").sum())
        lines.append(f"{spec.display_name} answers {right} of {len(judged)} attacks as expected")
    return lines


def no_expectation(spec) -> str:
    """Why a metric is held to no expectation under a run's attacks, in words."""
    if spec.target is None:
        return ("no expectation under these attacks: it names no target property (set "
                f"{spec.name}.target to one of {', '.join(PROPERTIES)})")
    return "no expectation under these attacks"
