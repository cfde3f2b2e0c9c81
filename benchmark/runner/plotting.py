"""Figures: sensitivity curves, the attack grid, the metric x attack matrix,
the paper's redundancy figure, and PID profiles (the report card's: :mod:`.card_figure`).

Every metric keeps one colour across all figures; the highlighted metric
(UniBound, ``MetricSpec.highlight``) is drawn thick and black so it stands out.
Names, headlines and the highlight come from the metrics' specs.
"""
from __future__ import annotations

import textwrap

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import seaborn as sns  # noqa: E402
from matplotlib.ticker import FuncFormatter, MaxNLocator  # noqa: E402
from scipy import stats  # noqa: E402

import attacks as attack_registry  # noqa: E402

from ..spec import FAMILIES  # noqa: E402
from ..validation import BenchmarkError  # noqa: E402
from .io import atomic_savefig  # noqa: E402
from .registry import BUILTIN_SPECS  # noqa: E402
from .summary import format_change  # noqa: E402

__all__ = ["paper_figure", "pid_profile_figure", "sensitivity_figure", "sensitivity_grid",
           "sensitivity_matrix"]

# colours and styles follow the built-in listing order, so a metric looks the same in
# every figure whatever else was run
_BUILTIN_ORDER = [s.name for s in BUILTIN_SPECS if not s.highlight]
#: The y axis of figures that draw each metric's headline key (named in the legend).
HEADLINE_AXIS = "score (each metric's headline)"
_SAVE = {"dpi": 150, "bbox_inches": "tight", "metadata": {"Software": None}}
_SVG = {"bbox_inches": "tight", "metadata": {"Date": None, "Creator": None}}


def display_name(metric: str, specs: dict) -> str:
    return specs[metric].display_name if metric in specs else metric


def _highlighted(specs: dict) -> list:
    return [name for name, spec in specs.items() if spec.highlight]


def is_users(metric: str, specs: dict) -> bool:
    """A metric the user brought (a plugin, an entry point, one registered in a script)."""
    return metric not in _BUILTIN_ORDER and not (metric in specs and specs[metric].highlight)


#: The user's metrics stand out from the built-ins' colourblind palette: strong hues
#: none of the built-ins use.
_USER_COLOURS = ["#D81B60", "#5E35B1", "#00897B", "#F4511E", "#3949AB"]


def metric_colours(metrics, specs: dict) -> dict:
    """A colour per metric, stable across figures: built-ins fixed, the user's by name."""
    palette = (sns.color_palette("colorblind", 10) + sns.color_palette("dark", 10)
               + sns.color_palette("pastel", 10))
    colours = {name: (0.0, 0.0, 0.0) for name in _highlighted(specs)}
    for i, name in enumerate(_BUILTIN_ORDER):
        colours[name] = palette[i % len(palette)]
    extra = sorted(m for m in set(metrics) if m not in colours)
    for i, name in enumerate(extra):
        colours[name] = _USER_COLOURS[i % len(_USER_COLOURS)]
    return colours


_MARKERS = ["s", "^", "v", "D", "P", "X", "*", "h", "<", ">"]
_DASHES = [(None, None), (6, 2), (3, 1.5, 1, 1.5), (1, 1.2), (5, 1.5, 1, 1.5, 1, 1.5), (8, 3),
           (2, 2), (4, 1)]


def metric_style(metric: str, rank: int, specs: dict) -> dict:
    """Line style: the highlighted metric thick black; others distinct markers and dash
    patterns, with markers shrinking in drawing order so lines that coincide stay visible."""
    if metric in specs and specs[metric].highlight:
        return {"lw": 3.2, "marker": "o", "ms": 6, "zorder": 6}
    if is_users(metric, specs):  # the metric being compared: thick, on top of every other
        return {"lw": 3.0, "marker": "*", "ms": 12, "zorder": 7}
    style = {"lw": max(2.6 - 0.25 * rank, 1.0), "marker": _MARKERS[rank % len(_MARKERS)],
             "ms": max(8.5 - 1.0 * rank, 3.5), "zorder": 3 + 0.01 * rank}
    dashes = _DASHES[rank % len(_DASHES)]
    if dashes[0] is not None:
        style["dashes"] = dashes
    return style


def metric_order(metrics, specs: dict, *, by_family: bool = False) -> list:
    """Metrics in their fixed order (the highlighted one, the user's by name, built-ins);
    ``by_family`` groups them by family first (intervention, predictor, information,
    then metrics without one)."""
    present = set(metrics)
    users = sorted(m for m in present if is_users(m, specs))
    order = [m for m in _highlighted(specs) if m in present] + users + \
        [m for m in _BUILTIN_ORDER if m in present]
    if by_family:
        rank = {family: i for i, family in enumerate(FAMILIES)}
        order.sort(key=lambda m: rank.get(_family(m, specs), len(FAMILIES)))
    return order


def _family(metric: str, specs: dict):
    return specs[metric].family if metric in specs else None


def draw_family_bands(ax, metrics, specs: dict, offset: float = 0.0):
    """Separate the families of the rows ``metrics`` (top to bottom) by lines and name
    them at the right of the axes; ``offset`` is the y of the first row's top edge."""
    start = 0
    for i in range(1, len(metrics) + 1):
        if i < len(metrics) and _family(metrics[i], specs) == _family(metrics[start], specs):
            continue
        if i < len(metrics):
            ax.axhline(offset + i, color="black", lw=1.6)
        label = _family(metrics[start], specs) or "other"
        ax.text(1.005, offset + (start + i) / 2, label, transform=ax.get_yaxis_transform(),
                rotation=-90, ha="left", va="center", fontsize=9, style="italic")
        start = i


def styles_rank(metric: str) -> int:
    """A metric's fixed position for styling (built-ins first, then plugins by name)."""
    if metric in _BUILTIN_ORDER:
        return _BUILTIN_ORDER.index(metric)
    return len(_BUILTIN_ORDER) + sum(map(ord, metric)) % 5


def t_interval(values, confidence: float = 0.95):
    """Student-t confidence interval of the mean (a point when n < 2)."""
    values = np.asarray(values, dtype=float)
    mean = values.mean()
    if len(values) < 2:
        return mean, mean
    half = stats.t.ppf(0.5 + confidence / 2, len(values) - 1) * values.std(ddof=1) / np.sqrt(len(values))
    return mean - half, mean + half


def is_geometric(levels) -> bool:
    """True when the positive levels double (or more) from one to the next."""
    positive = np.sort(np.asarray([v for v in levels if v > 0], dtype=float))
    if len(positive) < 3:
        return False
    ratios = positive[1:] / positive[:-1]
    return bool(np.all(ratios >= 1.9))


def set_level_axis(ax, levels, attack: str, *, wrap: bool = False):
    """The x axis of ``levels`` of ``attack``: in the attack's own unit where it declares
    one (rotation: degrees), on a symlog scale when the levels double."""
    label, factor = level_unit(attack)
    levels = sorted(set(levels))
    if is_geometric(levels):
        positive = [v for v in levels if v > 0]
        ax.set_xscale("symlog", linthresh=positive[0], linscale=0.5)
        ax.set_xticks(levels)
        ax.set_xticklabels([_fmt_level(factor * v) for v in levels],
                           rotation=0 if len(levels) <= 6 else 40, fontsize=9)
        ax.minorticks_off()
    elif factor != 1.0:  # the data stay in levels; the ticks fall on round values of the unit
        ticks = MaxNLocator(nbins=6, steps=[1, 1.5, 3, 5, 10]).tick_values(
            factor * levels[0], factor * levels[-1])
        ax.set_xticks([t / factor for t in ticks if factor * levels[0] <= t <= factor * levels[-1]])
        ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{factor * v:g}"))
    ax.set_xlabel(label.replace(" (", "\n(") if wrap else label)


def _fmt_level(v: float) -> str:
    if v == 0 or v >= 1:
        return f"{v:g}"
    inverse = 1 / v
    return f"1/{inverse:g}" if float(inverse).is_integer() else f"{v:g}"


def level_unit(attack: str) -> tuple:
    """``(axis label, factor)`` of an attack's levels (see :attr:`attacks.AttackSpec.unit`)."""
    try:
        unit = attack_registry.get(attack).unit
    except BenchmarkError:  # an attack registered in another process: plain levels
        unit = None
    return unit or (f"{attack} attack level α", 1.0)


def legend_label(metric: str, specs: dict) -> str:
    """A metric's name, with the key its curve shows when the name does not say it."""
    name = display_name(metric, specs)
    key = specs[metric].headline if metric in specs else None
    if key is None or key.replace("_", "") in metric.replace("_", ""):
        return name
    return f"{name}: {key.replace('_', ' ')}"


def coincident_lines(frame: pd.DataFrame, specs: dict, tolerance: float = 0.01) -> list:
    """Groups of metrics whose mean curves lie on one another (within ``tolerance`` at
    every level), so a figure can say which line hides which."""
    means = frame.groupby(["metric", "level"])["score"].mean().unstack()
    groups, seen = [], set()
    order = metric_order(means.index, specs)
    for i, a in enumerate(order):
        if a in seen:
            continue
        same = [b for b in order[i + 1:] if b not in seen
                and np.nanmax(np.abs(means.loc[a] - means.loc[b])) <= tolerance]
        if same:
            groups.append([a, *same])
            seen.update(same)
    return groups


def note_coincident(ax, frame: pd.DataFrame, specs: dict):
    """Name, inside the axes, the metrics drawn on top of one another."""
    groups = coincident_lines(frame, specs)
    if groups:
        text = "\n".join(textwrap.fill(" = ".join(display_name(m, specs) for m in g), 48)
                         for g in groups)
        ax.text(0.01, 0.02, f"same line: {text}" if len(groups) == 1 else f"same lines:\n{text}",
                transform=ax.transAxes, fontsize=7, ha="left", va="bottom", color="0.25",
                bbox={"facecolor": "white", "alpha": 0.8, "lw": 0, "pad": 1.5}, zorder=10)


def headline_frame(scores: pd.DataFrame, specs: dict) -> pd.DataFrame:
    """The headline key of each metric only."""
    mask = [m in specs and specs[m].headline == k for m, k in zip(scores["metric"], scores["key"])]
    return scores[mask].copy()


def draw_sensitivity(ax, frame: pd.DataFrame, colours: dict, attack: str, specs: dict,
                     legend: bool = True):
    """Score vs level for each metric in ``frame`` (headline rows), 95% band over seeds."""
    order = metric_order(frame["metric"].unique(), specs)
    for metric in order:
        rows = frame[frame["metric"] == metric]
        grouped = rows.groupby("level")["score"]
        levels = np.asarray(grouped.mean().index, dtype=float)
        means = grouped.mean().to_numpy()
        bands = np.array([t_interval(v) for _, v in grouped])
        ax.plot(levels, means, color=colours[metric], label=legend_label(metric, specs),
                **metric_style(metric, styles_rank(metric), specs))
        ax.fill_between(levels, np.clip(bands[:, 0], -1e9, None), bands[:, 1],
                        color=colours[metric], alpha=0.18, lw=0, zorder=2)
    set_level_axis(ax, frame["level"].unique(), attack)
    if 1 < len(order) <= 8:  # with more, the curves are for the matrix and card to read
        note_coincident(ax, frame, specs)
    ax.set_ylabel(HEADLINE_AXIS)
    if legend:
        ax.legend(fontsize=8, frameon=True, loc="best")


def sensitivity_figure(scores, specs, attack, dataset, path):
    sns.set_theme(style="whitegrid")
    frame = headline_frame(scores, specs)
    colours = metric_colours(frame["metric"].unique(), specs)
    fig, ax = plt.subplots(figsize=(7, 4.5))
    draw_sensitivity(ax, frame, colours, attack, specs, legend=False)
    ax.set_title(f"Metric sensitivity to the {attack} attack ({dataset}); band: 95% CI over seeds",
                 fontsize=10)
    ax.set_ylim(-0.04, 1.06 if frame["score"].max() <= 1.05 else None)
    ax.legend(fontsize=8, loc="center left", bbox_to_anchor=(1.01, 0.5), title="metric")
    _save(fig, path, vector=True)


def _off_the_scale(sweeps: dict, specs: dict) -> list:
    """The metrics whose headline means leave [0, 1] somewhere (a total correlation in
    nats): on the scores' shared axis they would squash every other curve."""
    out = set()
    for frame in sweeps.values():
        means = headline_frame(frame, specs).groupby(["metric", "level"])["score"].mean()
        out |= {m for m, v in means.groupby(level="metric") if v.min() < -0.05 or v.max() > 1.05}
    return metric_order(out, specs)


def sensitivity_grid(sweeps: dict, specs: dict, dataset: str, path):
    """One panel per attack on one score axis, a shared legend; metrics that are not
    scores on [0, 1] are named under the grid instead (each attack's own figure has them)."""
    sns.set_theme(style="whitegrid")
    names = list(sweeps)
    left_out = _off_the_scale(sweeps, specs)
    if left_out and len(left_out) < len({m for f in sweeps.values() for m in f["metric"]}):
        sweeps = {name: f[~f["metric"].isin(left_out)] for name, f in sweeps.items()}
    else:
        left_out = []
    ncols = min(3, len(names))
    nrows = int(np.ceil(len(names) / ncols))
    fig, axes = plt.subplots(nrows, ncols, figsize=(4.6 * ncols, 3.6 * nrows), squeeze=False,
                             sharey=True)
    all_metrics = set()
    for name in names:
        all_metrics |= set(sweeps[name]["metric"].unique())
    colours = metric_colours(all_metrics, specs)
    for i, (ax, name) in enumerate(zip(axes.flat, names)):
        draw_sensitivity(ax, headline_frame(sweeps[name], specs), colours, name, specs,
                         legend=False)
        ax.set_title(name, fontsize=11)
        ax.set_ylabel(HEADLINE_AXIS if i % ncols == 0 else "")
    for ax in list(axes.flat)[len(names):]:
        ax.axis("off")
    top = max(headline_frame(f, specs).groupby(["metric", "level"])["score"].mean().max()
              for f in sweeps.values())
    if top <= 1.05:  # scores on [0, 1]: a wide confidence band should not squash the curves
        axes.flat[0].set_ylim(-0.04, 1.06)
    handles = [plt.Line2D([], [], color=colours[m], label=legend_label(m, specs),
                          **{k: v for k, v in metric_style(m, styles_rank(m), specs).items()
                             if k != "zorder"})
               for m in metric_order(all_metrics, specs)]
    spare = list(axes.flat)[len(names):]
    title = (f"How each metric responds to each entanglement attack ({dataset}; band: 95% CI "
             "over seeds)")
    if left_out:
        title += ("\nnot drawn, not a score on [0, 1] (see each attack's sensitivity.png): "
                  + ", ".join(display_name(m, specs) for m in left_out))
    fig.suptitle(title, fontsize=12)
    if spare and len(handles) <= 10:  # the legend fills the grid's first empty panel
        spare[0].legend(handles=handles, loc="center", fontsize=9, frameon=False,
                        title="metric (headline)")
        fig.tight_layout(rect=(0, 0, 1, 0.95))
    else:
        rows = int(np.ceil(len(handles) / 6))
        fig.legend(handles=handles, loc="lower center", ncol=min(len(handles), 6), fontsize=9,
                   bbox_to_anchor=(0.5, 0.0), frameon=False)
        fig.tight_layout(rect=(0, 0.03 + 0.025 * rows * 3.6 / (3.6 * nrows), 1, 0.95))
    _save(fig, path)


def sensitivity_matrix(table: pd.DataFrame, specs: dict, path):
    """Heatmap of the relative change (metric x attack) with the verdict in each cell
    ("blind" written "no clear trend": beside a fall, "blind" reads as a contradiction)."""
    sns.set_theme(style="white")
    metrics = metric_order(table["metric"].unique(), specs, by_family=True)
    attacks_ = list(dict.fromkeys(table["attack"]))
    values = table.pivot(index="metric", columns="attack", values="relative_change").loc[metrics, attacks_]
    verdicts = table.pivot(index="metric", columns="attack", values="verdict").loc[metrics, attacks_]
    # "blind" beside a fall reads as a contradiction, and as a fault where flat is right
    annot = values.map(format_change) + "\n" + verdicts.replace({"blind": "no clear trend"})
    # colours saturate at 100 %: a score starting near 0 (a total correlation) would
    # otherwise stretch the scale until every other cell looks white
    limit = min(1.0, max(0.25, float(np.nanmax(np.abs(values.to_numpy())))))
    fig, ax = plt.subplots(figsize=(1.5 * len(attacks_) + 2.5, 0.65 * len(metrics) + 1.8))
    sns.heatmap(values, annot=annot, fmt="", cmap="RdBu", center=0, vmin=-limit, vmax=limit,
                linewidths=0.5, ax=ax, annot_kws={"fontsize": 8},
                cbar_kws={"label": "relative change of the score, level 0 → top level\n"
                                   "(negative: the score falls)"})
    ax.set_yticklabels([display_name(m, specs) for m in metrics], rotation=0)
    draw_family_bands(ax, metrics, specs)
    ax.set_xlabel("attack")
    ax.set_ylabel("metric (headline score)")
    ax.set_title("Which metric detects which entanglement\n(red: the score falls, blue: it rises; "
                 "verdict: a consistent fall of at least 10% detects the attack)", fontsize=10)
    _save(fig, path)


def paper_figure(scores: pd.DataFrame, specs: dict, metrics, path, dataset: str):
    """The paper's layout: one panel per metric, alpha on x, 95% band, equal y-range widths."""
    sns.set_theme(style="whitegrid")
    frame = headline_frame(scores, specs)
    colours = metric_colours(frame["metric"].unique(), specs)
    metrics = [m for m in metrics if m in set(frame["metric"])]
    means = frame.groupby(["metric", "level"])["score"].mean()
    span = max(0.5, max(np.ptp(means[m].to_numpy()) for m in metrics) * 1.25)
    fig, axes = plt.subplots(1, len(metrics), figsize=(3.3 * len(metrics), 3.3), squeeze=False)
    for ax, metric in zip(axes[0], metrics):
        draw_sensitivity(ax, frame[frame["metric"] == metric], colours, "redundancy", specs,
                         legend=False)
        centre = 0.5 * (means[metric].max() + means[metric].min())
        low, high = centre - span / 2, centre + span / 2
        if high > 1.05:
            low, high = low - (high - 1.05), 1.05
        ax.set_ylim(low, high)
        ax.set_title(display_name(metric, specs), fontsize=12,
                     fontweight="bold" if specs[metric].highlight else None)
        ax.set_xlabel("α (redundancy attack)")
    axes[0][0].set_ylabel(HEADLINE_AXIS)
    fig.suptitle(f"Redundancy attack z' = (z, αUz + ε) ({dataset}; band: 95% CI over seeds; "
                 "every panel spans the same y-range)", fontsize=10)
    fig.tight_layout(rect=(0, 0, 1, 0.93))
    _save(fig, path)


PID_TERMS = [("unique", "unique U", "#0072B2"), ("redundancy", "redundant R", "#D55E00"),
             ("synergy", "synergistic S", "#009E73")]


def pid_profile_figure(profile: pd.DataFrame, attack: str, title: str, path, *,
                       partners: dict | None = None):
    """Per factor: the bounds [lower, upper] of U, R and S (max over latents) across levels.

    Lines are means over seeds (lower bound solid, upper dashed), dots each seed's lower
    bound; ``partners`` (``{factor: [factors]}``) names, in a panel's title, the factors
    that share latents with its own."""
    sns.set_theme(style="whitegrid")
    factors = list(dict.fromkeys(profile["factor"]))
    partners = partners or {}
    ncols = min(3, len(factors))
    nrows = int(np.ceil(len(factors) / ncols))
    fig, axes = plt.subplots(nrows, ncols, figsize=(4.4 * ncols, 3.4 * nrows), squeeze=False,
                             sharey=True)
    for ax, factor in zip(axes.flat, factors):
        rows = profile[profile["factor"] == factor]
        for term, label, colour in PID_TERMS:
            t = rows[rows["term"] == term]
            mean = t.groupby("level")[["lower", "upper"]].mean()
            ax.plot(mean.index, mean["upper"], color=colour, lw=1.2, ls="--", zorder=3)
            ax.plot(mean.index, mean["lower"], color=colour, lw=2.0, label=label, zorder=4)
            ax.scatter(t["level"], t["lower"], color=colour, s=10, zorder=5, lw=0)
        set_level_axis(ax, rows["level"].unique(), attack)
        ax.set_title(_factor_title(factor, partners.get(factor), len(factors)), fontsize=10)
        ax.set_ylim(-0.03, 1.03)
    for ax in list(axes.flat)[len(factors):]:
        ax.axis("off")
    for ax in axes[:, 0]:
        ax.set_ylabel("bound / H(factor)")
    handles = [plt.Line2D([], [], color=c, lw=2.0, marker="o", ms=3, label=f"{lab}: lower bound")
               for _, lab, c in PID_TERMS]
    handles.append(plt.Line2D([], [], color="grey", lw=1.2, ls="--", label="upper bound"))
    fig.legend(handles=handles, loc="lower center", ncol=4, fontsize=9, frameon=False,
               bbox_to_anchor=(0.5, -0.02))
    fig.suptitle(title, fontsize=11)
    fig.tight_layout(rect=(0, 0.05, 1, 0.95))
    _save(fig, path)


def _factor_title(factor: str, shared, num_factors: int) -> str:
    if not shared:
        return f"factor: {factor}"
    if len(shared) == num_factors - 1 and num_factors > 2:
        return f"factor: {factor}\n(shares latents with every other factor)"
    return f"factor: {factor}\n(shares latents with {', '.join(shared)})"


def _save(fig, path, vector: bool = False):
    atomic_savefig(fig, path, **_SAVE)
    if vector:  # a fixed salt makes the SVG's element ids, and so the file, reproducible
        with plt.rc_context({"svg.hashsalt": "entanglement-bench"}):
            atomic_savefig(fig, str(path).rsplit(".", 1)[0] + ".svg", **_SVG)
    plt.close(fig)
