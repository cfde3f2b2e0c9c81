"""The report card's figure: metric x attack, each cell the response with its interval."""
from __future__ import annotations

import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib import pyplot as plt
from matplotlib.colors import ListedColormap

from .plotting import _save, display_name, draw_family_bands, metric_order
from .summary import format_change

__all__ = ["CARD_COLOURS", "report_card_figure"]


def _interval_text(row) -> str:
    """``[-80, -66]% ±1%``: the card's interval on the relative change and its flat band."""
    low, high = row["change_low"], row["change_high"]
    band = format_change(row["flat_band"]).replace("+", "")
    if not (np.isfinite(low) and np.isfinite(high)):
        return f"{'1 seed: ' if row['n_seeds'] <= 1 else ''}no interval ±{band}"
    ends = [format_change(v).rstrip("%") for v in (low, high)]
    interval = f"[{ends[0]}]%" if ends[0] == ends[1] else f"[{ends[0]}, {ends[1]}]%"
    return f"{interval} ±{band}"


#: Cell colours: as expected, not as expected, inconclusive where an answer is expected.
CARD_COLOURS = {1.0: "#a8dcb0", 0.0: "#f4a6a6", 0.5: "#f7dc8f"}


def report_card_figure(card: pd.DataFrame, specs: dict, path, top_levels: dict | None = None):
    """Metric x attack grid: green where the metric responds as an ideal metric of its
    target property would, red where it does not, amber where the interval cannot tell,
    grey where no answer is expected; each cell gives the change and its interval, and the
    level it is read at where that is not the attack's top level (``top_levels``)."""
    sns.set_theme(style="white")
    metrics = metric_order(card["metric"].unique(), specs, by_family=True)
    attacks_ = list(dict.fromkeys(card["attack"]))
    grid = card.set_index(["metric", "attack"])
    top_level = top_levels or card.groupby("attack")["level"].max().to_dict()
    values = np.full((len(metrics), len(attacks_)), np.nan)
    text = np.full(values.shape, "", dtype=object)
    for i, m in enumerate(metrics):
        for j, a in enumerate(attacks_):
            if (m, a) not in grid.index:
                continue
            row = grid.loc[(m, a)]
            change = format_change(row["relative_change"])
            at = "" if row["level"] == top_level[a] else f" at {row['level']:g}"
            text[i, j] = f"{row['observed']} {change}{at}\n" + _interval_text(row)
            if row["agrees"]:
                values[i, j] = 1.0 if row["agrees"] == "true" else 0.0
                text[i, j] += f"\nexpect {row['expected']} " + ("✓" if row["agrees"] == "true" else "✗")
            elif row["expected"] and row["observed"] in ("inconclusive", "n/a"):
                values[i, j] = 0.5
                text[i, j] += f"\nexpect {row['expected']} ?"
    labels = []
    for i, m in enumerate(metrics):
        judged = values[i][np.isin(values[i], (0.0, 1.0))]
        unsure = int(np.sum(values[i] == 0.5))
        target = specs[m].target if m in specs and specs[m].target else "no target"
        labels.append(f"{display_name(m, specs)} ({target})\n" + (
            f"{int(judged.sum())} of {len(judged)} as expected" if len(judged) else "none judged")
            + (f", {unsure} inconclusive" if unsure else ""))
    fig, ax = plt.subplots(figsize=(1.5 * len(attacks_) + 3.4, 0.86 * len(metrics) + 2.3))
    ax.imshow(np.ones_like(values), cmap=ListedColormap(["#eeeeee"]), aspect="auto")
    ax.imshow(values, cmap=ListedColormap([CARD_COLOURS[0.0], CARD_COLOURS[0.5], CARD_COLOURS[1.0]]),
              vmin=-0.25, vmax=1.25, aspect="auto")
    for i in range(len(metrics)):
        for j in range(len(attacks_)):
            ax.text(j, i, text[i, j], ha="center", va="center", fontsize=7.2, linespacing=1.25)
    ax.set_xticks(range(len(attacks_)), attacks_, rotation=30, ha="right")
    ax.set_yticks(range(len(metrics)), labels, fontsize=8.5)
    ax.set_xticks(np.arange(len(attacks_) + 1) - 0.5, minor=True)
    ax.set_yticks(np.arange(len(metrics) + 1) - 0.5, minor=True)
    ax.grid(which="minor", color="white", linewidth=2)
    ax.tick_params(which="minor", length=0)
    draw_family_bands(ax, metrics, specs, offset=-0.5)
    ax.set_xlabel("attack")
    ax.set_title("Report card: does each metric respond as an ideal metric of its target property "
                 "would?\n(cell: mean change from level 0 to the top level, or to the level named, "
                 "[its 95% interval over seeds] ±the flat band; green: as expected, red: not,\n"
                 "amber (?): an interval straddles the flat band's edge, more seeds decide; grey: no "
                 "expectation)", fontsize=10)
    _save(fig, path)
