"""Figures that compare models: headline scores, PID bounds, attack curves and the
total correlation against the redundancy bound (a multi-model ``--encodings`` run).

Every model keeps one colour and marker across these figures, in the order the
models were given.  They draw the tables of :mod:`.models`, which are written
beside them as CSV.
"""
from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import seaborn as sns  # noqa: E402
from matplotlib.patches import Patch  # noqa: E402
from scipy import stats  # noqa: E402

from .plotting import PID_TERMS, _save, display_name, metric_order, set_level_axis  # noqa: E402

__all__ = ["model_attack_figure", "model_colours", "model_metrics_figure", "model_pid_factors_figure",
           "model_pid_figure", "tc_redundancy_figure"]

_MODEL_MARKERS = ["o", "s", "^", "D", "v", "P", "X", "*", "h", "<", ">"]


def model_colours(models) -> dict:
    """A colour per model, in the order given (the colour-blind palette, then darker ones)."""
    palette = sns.color_palette("colorblind", 10) + sns.color_palette("dark", 10)
    return {m: palette[i % len(palette)] for i, m in enumerate(models)}


def _marker(i: int) -> str:
    return _MODEL_MARKERS[i % len(_MODEL_MARKERS)]


def _grid(count: int, ncols: int):
    ncols = max(1, min(ncols, count))
    return int(np.ceil(count / ncols)), ncols


def _layout(fig, *, bottom: float = 0.0):
    """``tight_layout`` (which makes room for the suptitle itself) leaving ``bottom``
    inches for a figure legend, whatever the figure's height."""
    fig.tight_layout(rect=(0, min(0.4, bottom / fig.get_size_inches()[1]), 1, 1))


def _model_handles(models, colours, *, lines: bool = False) -> list:
    if lines:
        return [plt.Line2D([], [], color=colours[m], marker=_marker(i), lw=2, label=m)
                for i, m in enumerate(models)]
    return [Patch(facecolor=colours[m], label=m) for m in models]


def model_metrics_figure(table: pd.DataFrame, specs: dict, models, path, *, context: str = "level 0"):
    """Box plots of each metric's headline score on the unattacked encodings, per model.

    Parameters
    ----------
    table : DataFrame
        :data:`~.models.METRIC_COLUMNS` rows at level 0.
    specs : dict
        ``{metric: MetricSpec}``.
    models : list of str
        The models in drawing order.
    path : path
    context : str
        Which scores these are (the sweep whose level 0 they come from), for the title.
    """
    sns.set_theme(style="whitegrid")
    metrics = metric_order(table["metric"].unique(), specs)
    colours = model_colours(models)
    nrows, ncols = _grid(len(metrics), 3)
    width = max(3.6, 0.75 * len(models) + 1.6)
    fig, axes = plt.subplots(nrows, ncols, figsize=(width * ncols, 3.4 * nrows), squeeze=False)
    jitter = np.random.default_rng(0)  # only where the points sit within their box
    for ax, metric in zip(axes.flat, metrics):
        rows = table[table["metric"] == metric]
        values = [rows.loc[rows["model"] == m, "score"].to_numpy(dtype=float) for m in models]
        present = [i for i, v in enumerate(values) if len(v)]
        box = ax.boxplot([values[i] for i in present], positions=present, widths=0.55,
                         patch_artist=True, showfliers=False, medianprops={"color": "black"})
        for patch, i in zip(box["boxes"], present):
            patch.set_facecolor((*colours[models[i]], 0.35))
            patch.set_edgecolor(colours[models[i]])
        for i in present:
            x = i + jitter.uniform(-0.15, 0.15, size=len(values[i]))
            ax.scatter(x, values[i], color=colours[models[i]], marker=_marker(i), s=26,
                       edgecolor="black", linewidth=0.5, zorder=4)
        ax.set_xticks(range(len(models)), models, rotation=30 if len(models) > 3 else 0,
                      ha="right" if len(models) > 3 else "center")
        ax.set_xlim(-0.6, len(models) - 0.4)
        low, high = ax.get_ylim()
        if high - low < 0.1:  # a tight cluster should not look like a wide spread
            centre = 0.5 * (high + low)
            ax.set_ylim(centre - 0.05, centre + 0.05)
        spec = specs.get(metric)
        headline = f": {spec.headline}" if spec is not None and spec.headline != metric else ""
        ax.set_title(f"{display_name(metric, specs)}{headline}", fontsize=11,
                     fontweight="bold" if spec is not None and spec.highlight else None)
        ax.set_ylabel("score")
    for ax in list(axes.flat)[len(metrics):]:
        ax.axis("off")
    fig.suptitle(f"Each metric on the unattacked encodings, per model ({context})\nbox: quartiles over "
                 "the model's seed files x run seeds; points: one per file and run seed", fontsize=11)
    _layout(fig)
    _save(fig, path)


def _pid_bars(ax, frame: pd.DataFrame, models, colours):
    """Grouped bars: per PID term, one bar per model, its upper bound light behind its
    lower bound solid."""
    width = 0.8 / max(1, len(models))
    for t, (term, _, _) in enumerate(PID_TERMS):
        for i, model in enumerate(models):
            row = frame[(frame["term"] == term) & (frame["model"] == model)]
            if row.empty:
                continue
            x = t - 0.4 + width * (i + 0.5)
            lower, upper = float(row["lower"].iloc[0]), float(row["upper"].iloc[0])
            ax.bar(x, upper, width * 0.92, color=colours[model], alpha=0.3, edgecolor=colours[model],
                   linewidth=0.8)
            ax.bar(x, lower, width * 0.92, color=colours[model])
    ax.set_xticks(range(len(PID_TERMS)), [label for _, label, _ in PID_TERMS])
    ax.set_xlim(-0.5, len(PID_TERMS) - 0.5)
    ax.set_ylim(0, 1.04)


def _bound_handles() -> list:
    return [Patch(facecolor="0.35", label="lower bound (solid)"),
            Patch(facecolor="0.35", alpha=0.3, edgecolor="0.35", label="upper bound (light)")]


def model_pid_figure(by_model: pd.DataFrame, models, path, *, context: str = "level 0"):
    """Per model: the unique, redundant and synergistic bounds (mean over factors and
    model seeds), lower bound solid over upper bound light, grouped by term.

    Parameters
    ----------
    by_model : DataFrame
        :data:`~.models.PID_COLUMNS`.
    models : list of str
    path : path
    context : str
        Where the informations come from, for the title.
    """
    sns.set_theme(style="whitegrid")
    models = [m for m in models if m in set(by_model["model"])]
    colours = model_colours(models)
    fig, ax = plt.subplots(figsize=(max(6.0, 1.2 + 0.55 * len(models) * len(PID_TERMS)), 4.2))
    _pid_bars(ax, by_model, models, colours)
    ax.set_ylabel("bound / H(factor)\n(max over latents, mean over factors)")
    ax.set_xlabel("PID term")
    ax.legend(handles=_model_handles(models, colours) + _bound_handles(), loc="upper left",
              bbox_to_anchor=(1.01, 1.0), fontsize=9, title="model", frameon=False)
    ax.set_title("How each model's information about the factors splits: bounds on its unique, "
                 "redundant and\nsynergistic parts (UniBound = the unique lower bound), unattacked "
                 f"encodings, mean over model seeds\n({context})", fontsize=10)
    _save(fig, path)


def model_pid_factors_figure(by_factor: pd.DataFrame, models, path, *, context: str = "level 0"):
    """:func:`model_pid_figure` per factor: one panel per factor.

    Parameters
    ----------
    by_factor : DataFrame
        :data:`~.models.PID_FACTOR_COLUMNS`.
    models : list of str
    path : path
    context : str
        Where the informations come from, for the title.
    """
    sns.set_theme(style="whitegrid")
    models = [m for m in models if m in set(by_factor["model"])]
    colours = model_colours(models)
    factors = list(dict.fromkeys(by_factor["factor"]))
    nrows, ncols = _grid(len(factors), 3)
    width = max(4.4, 1.0 + 0.4 * len(models) * len(PID_TERMS))
    fig, axes = plt.subplots(nrows, ncols, figsize=(width * ncols, 3.6 * nrows), squeeze=False,
                             sharey=True)
    for ax, factor in zip(axes.flat, factors):
        _pid_bars(ax, by_factor[by_factor["factor"] == factor], models, colours)
        ax.set_title(f"factor: {factor}", fontsize=11)
    for ax in list(axes.flat)[len(factors):]:
        ax.axis("off")
    for ax in axes[:, 0]:
        ax.set_ylabel("bound / H(factor)\n(max over latents)")
    handles = _model_handles(models, colours) + _bound_handles()
    fig.legend(handles=handles, loc="lower center", ncol=min(len(handles), 6), fontsize=9,
               frameon=False, bbox_to_anchor=(0.5, -0.01))
    fig.suptitle("Per factor and model: bounds on the unique, redundant and synergistic information "
                 "about the factor\n(unattacked encodings, mean over model seeds; solid: lower bound, "
                 f"light: upper bound)\n({context})", fontsize=11)
    rows_of_legend = int(np.ceil(len(handles) / min(len(handles), 6)))
    _layout(fig, bottom=0.1 + 0.25 * rows_of_legend)
    _save(fig, path)


def _half_width(std, count, confidence: float = 0.95):
    """Half-width of the Student-t interval of a mean from its std and count (0 when n < 2)."""
    std, count = np.asarray(std, dtype=float), np.asarray(count, dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        half = stats.t.ppf(0.5 + confidence / 2, count - 1) * std / np.sqrt(count)
    return np.where(count >= 2, np.nan_to_num(half), 0.0)


def model_attack_figure(table: pd.DataFrame, specs: dict, models, path):
    """The attack curves per model: one panel per metric headline (one row per attack),
    x = attack level, one line per model (mean over its files and seeds, 95% band);
    bounded scores' panels span the same y-range, as in the paper's figure.

    Parameters
    ----------
    table : DataFrame
        :data:`~.models.ATTACKED_COLUMNS`.
    specs : dict
    models : list of str
    path : path
    """
    sns.set_theme(style="whitegrid")
    attacks_ = list(dict.fromkeys(table["attack"]))
    metrics = metric_order(table["metric"].unique(), specs)
    colours = model_colours(models)
    bounded = table.groupby("metric")["mean"].agg(lambda v: v.min() >= -0.05 and v.max() <= 1.05)
    # every bounded panel spans the same y-range, wide enough for its widest panel (all models)
    spans = [np.ptp(g["mean"].to_numpy()) for (_, m), g in table.groupby(["attack", "metric"])
             if bounded[m]]
    span = min(1.1, max(0.5, 1.25 * max(spans, default=0.0)))
    fig, axes = plt.subplots(len(attacks_), len(metrics), squeeze=False,
                             figsize=(3.4 * len(metrics), 2.9 * len(attacks_) + 1.4))
    for r, attack in enumerate(attacks_):
        for c, metric in enumerate(metrics):
            ax = axes[r, c]
            panel = table[(table["attack"] == attack) & (table["metric"] == metric)]
            for i, model in enumerate(models):
                rows = panel[panel["model"] == model].sort_values("level")
                if rows.empty:
                    continue
                half = _half_width(rows["std"], rows["count"])
                ax.plot(rows["level"], rows["mean"], color=colours[model], marker=_marker(i), ms=5,
                        lw=2, label=model, zorder=3)
                ax.fill_between(rows["level"], rows["mean"] - half, rows["mean"] + half,
                                color=colours[model], alpha=0.18, lw=0, zorder=2)
            set_level_axis(ax, panel["level"].unique(), attack, wrap=True)
            if bounded.get(metric, False) and len(panel):
                centre = 0.5 * (panel["mean"].max() + panel["mean"].min())
                low, high = centre - span / 2, centre + span / 2
                if high > 1.05:
                    low, high = low - (high - 1.05), 1.05
                if low < -0.05:
                    low, high = -0.05, high + (-0.05 - low)
                ax.set_ylim(low, high)
            spec = specs.get(metric)
            title = display_name(metric, specs)
            ax.set_title(title if len(attacks_) == 1 else f"{title}: {attack}", fontsize=11,
                         fontweight="bold" if spec is not None and spec.highlight else None)
            ax.set_ylabel("score" if c == 0 else "")
    fig.legend(handles=_model_handles(models, colours, lines=True), loc="lower center",
               ncol=min(len(models), 8), fontsize=9, frameon=False, title="model",
               bbox_to_anchor=(0.5, -0.02))
    what = attacks_[0] if len(attacks_) == 1 else ", ".join(attacks_)
    fig.suptitle(f"Each model under the {what} attack{'s' if len(attacks_) > 1 else ''}: headline "
                 "scores vs attack level\n(line: mean over the model's seed files x run seeds; band: "
                 "95% CI; bounded scores' panels span the same y-range)", fontsize=11)
    _layout(fig, bottom=0.55)
    _save(fig, path)


def tc_redundancy_figure(table: pd.DataFrame, models, path, *, context: str = "level 0"):
    """Each file's total correlation against its redundancy lower bound, coloured by
    model and labelled with the file's name.

    Parameters
    ----------
    table : DataFrame
        :data:`~.models.TC_COLUMNS`.
    models : list of str
    path : path
    context : str
        Where the redundancy bound comes from, for the title.
    """
    sns.set_theme(style="whitegrid")
    models = [m for m in models if m in set(table["model"])]
    colours = model_colours(models)
    fig, ax = plt.subplots(figsize=(7.8, 5.0))
    for i, model in enumerate(models):
        rows = table[table["model"] == model]
        ax.scatter(rows["redundancy_l"], rows["total_correlation"], color=colours[model],
                   marker=_marker(i), s=55, edgecolor="black", linewidth=0.6, label=model, zorder=3)
    ax.set_xlabel("redundancy lower bound (UniBound's redundancy_l, mean over run seeds)")
    ax.set_ylabel("total correlation of the file's encodings (nats)")
    # both axes from 0 on (two close points should not look far apart), with room for labels
    for values, setter, before, after in ((table["redundancy_l"], ax.set_xlim, 0.05, 0.2),
                                          (table["total_correlation"], ax.set_ylim, 0.05, 0.12)):
        low, high = min(0.0, float(values.min())), max(0.1, float(values.max()))
        setter(low - before * (high - low), high + after * (high - low))
    _place_labels(fig, ax, table["redundancy_l"].to_numpy(float),
                  table["total_correlation"].to_numpy(float), list(table["file"]))
    ax.legend(title="model", fontsize=9, loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False)
    ax.set_title("Dependence between latents (total correlation) against redundant information\n"
                 f"about the factors, one point per model file\n(redundancy: {context})", fontsize=10)
    _save(fig, path)


#: Where a point's label may go, in points from the point, tried in this order.
_LABEL_OFFSETS = [(7, 5, "left", "bottom"), (7, -5, "left", "top"), (-7, 5, "right", "bottom"),
                  (-7, -5, "right", "top"), (0, 9, "center", "bottom"), (0, -9, "center", "top"),
                  (12, 14, "left", "bottom"), (12, -14, "left", "top"), (-12, 14, "right", "bottom"),
                  (-12, -14, "right", "top")]


def _place_labels(fig, ax, xs, ys, texts):
    """Label each point at the first of :data:`_LABEL_OFFSETS` where the label stays
    inside the axes and overlaps no label placed before it and no point; a point with
    no such place stays unlabelled (its colour and marker still name its model)."""
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    frame = ax.get_window_extent(renderer)
    points = ax.transData.transform(np.column_stack([xs, ys]))
    placed = []
    for (x, y), text in zip(zip(xs, ys), texts):
        for dx, dy, ha, va in _LABEL_OFFSETS:
            label = ax.annotate(text, (x, y), textcoords="offset points", xytext=(dx, dy), ha=ha,
                                va=va, fontsize=8, color="0.2")
            box = label.get_window_extent(renderer).expanded(1.05, 1.1)
            inside = frame.contains(box.x0, box.y0) and frame.contains(box.x1, box.y1)
            hits_point = any(box.contains(px, py) for px, py in points)
            if inside and not hits_point and not any(box.overlaps(other) for other in placed):
                placed.append(box)
                break
            label.remove()
