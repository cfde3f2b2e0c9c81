"""MkDocs hook: the documentation's generated parts, from the specs and the committed results.

A page asks for a generated part with a marker ``{{ name arg ... }}``; the hook
replaces it while the site builds, so a table of attacks, metrics or findings
cannot drift from the code or from ``results/``.  An unknown marker, a missing
file or a value that is not in the results stops the build.

Markers (``PATH`` is a folder under ``results/`` holding an attack's
``summary.csv``, e.g. ``noise``, ``zoo_default/rotation``, ``paper/redundancy``;
``METRIC`` is a metric name, its headline key unless ``METRIC.KEY`` names another;
``LEVEL`` is ``first``, ``last`` or a level; ``FMT`` an optional format spec):

* ``version``: the package's version, from its metadata;
* ``command N``: README's N-th ``bash`` block (the two commands), as a code block;
* ``mean PATH METRIC LEVEL [FMT]``: the mean over seeds at that level;
* ``span PATH METRIC [FMT]``: ``first → last`` level's means;
* ``change PATH METRIC``: the relative change from the first to the last level;
* ``tally RUN METRIC``: ``N of M`` attacks answered as expected on RUN's report card
  (RUN: ``.`` for ``results/``, or a folder under it such as ``zoo``);
* ``model NAME METRIC [FMT]``: a model's mean headline on its unattacked encodings
  (``results/models/model_metrics.csv``); ``pid NAME TERM lower|upper [FMT]``: its
  PID bound (``model_pid.csv``);
* ``cputime PATTERN``: the cells' computing time recorded in the ``run.json`` files of
  ``results/PATTERN/`` (a glob: ``*`` is every attack of ``--attack all``);
* ``exponent AXIS METRIC LOW HIGH``: the cost exponent fitted over part of an axis of
  ``benchmarks/cost_growth.csv``; ``fitted AXIS METRIC``: the one the script fitted;
* ``require attacks|metrics``: nothing, but stops the build unless the page names
  every built-in attack (metric) in backquotes;
* ``table NAME [ARGS]``: ``attacks``, ``expectations``, ``metrics``, ``card RUN``,
  ``sweep PATH``, ``models``, ``full_scale``, ``cost AXIS``, ``sample_tables``,
  ``noise_latents``, ``datasheets``, ``reasons``, ``wide`` (see the functions below).
"""
from __future__ import annotations

import csv
import json
import math
import re
from collections import Counter
from functools import lru_cache
from importlib import metadata
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
RESULTS = ROOT / "results"
MARKER = re.compile(r"\{\{\s*([a-z_]+)((?:\s+[^\s{}]+)*)\s*\}\}")
ARROW = {"fall": "↓", "flat": "=", "rise": "↑", None: "·"}


class GenerateError(Exception):
    """A marker that cannot be filled: the build stops."""


# ---------------------------------------------------------------- reading ---------------

@lru_cache(maxsize=None)
def rows(path: str) -> tuple:
    """The rows of a CSV under the project root, as dicts of strings."""
    file = ROOT / path
    if not file.is_file():
        raise GenerateError(f"{path} does not exist")
    with file.open(newline="") as f:
        return tuple(csv.DictReader(f))


def specs():
    import attacks
    from benchmark.runner import BUILTIN_SPECS

    return attacks.SPECS, {spec.name: spec for spec in BUILTIN_SPECS}


def split_metric(text: str) -> tuple[str, str]:
    metric, _, key = text.partition(".")
    if not key:
        spec = specs()[1].get(metric)
        key = spec.headline if spec is not None else metric  # a plugin's headline is its name
    return metric, key


def summary_levels(path: str, metric_text: str) -> list[tuple[float, dict]]:
    metric, key = split_metric(metric_text)
    found = sorted(((float(r["level"]), r) for r in rows(f"results/{path}/summary.csv")
                    if r["metric"] == metric and r["key"] == key), key=lambda t: t[0])
    if not found:
        raise GenerateError(f"results/{path}/summary.csv has no {metric}.{key}")
    return found


def at_level(path: str, metric_text: str, level: str) -> dict:
    found = summary_levels(path, metric_text)
    if level == "first":
        return found[0][1]
    if level == "last":
        return found[-1][1]
    for value, row in found:
        if math.isclose(value, float(level)):
            return row
    raise GenerateError(f"results/{path}: {metric_text} has no level {level}")


# ---------------------------------------------------------------- formatting ------------

def num(value: float, fmt: str | None = None) -> str:
    """Scores: three decimals, two for a score that rounds to 1 (``1.00``, ``0.996``, ``0.014``)."""
    if fmt:
        return format(value, fmt).replace("-", "−")
    text = f"{value:.2f}" if abs(value) >= 0.9995 else f"{value:.3f}"
    return text.replace("-", "−")


def percent(change: float) -> str:
    if abs(change) >= 10:
        return (">" if change > 0 else "<−") + "1000 %"
    if round(change * 100) == 0:
        return "0 %"
    return f"{change * 100:+.0f} %".replace("-", "−")


def table(header: list[str], body: list[list], align: str | None = None) -> str:
    align = align or "l" * len(header)
    rule = ["---:" if a == "r" else "---" for a in align]
    lines = ["| " + " | ".join(header) + " |", "| " + " | ".join(rule) + " |"]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in body]
    return "\n".join(lines)


def levels_text(levels) -> str:
    return ", ".join(f"{v:g}" for v in levels)


# ---------------------------------------------------------------- values ----------------

def m_version() -> str:
    try:
        return metadata.version("entanglement-bench")
    except metadata.PackageNotFoundError:
        raise GenerateError("entanglement-bench is not installed: pip install -e '.[docs]'") from None


def readme_commands() -> list[str]:
    return re.findall(r"```bash\n(.*?)\n```", (ROOT / "README.md").read_text(), flags=re.S)


def m_command(n: str) -> str:
    blocks = readme_commands()
    if not 1 <= int(n) <= len(blocks):
        raise GenerateError(f"README.md has no bash block {n}")
    return f"```bash\n{blocks[int(n) - 1]}\n```"


def m_mean(path: str, metric: str, level: str, fmt: str | None = None) -> str:
    return num(float(at_level(path, metric, level)["mean"]), fmt)


def m_span(path: str, metric: str, fmt: str | None = None) -> str:
    return f"{m_mean(path, metric, 'first', fmt)} → {m_mean(path, metric, 'last', fmt)}"


def change(path: str, metric: str) -> float:
    return float(at_level(path, metric, "first")["relative_change"])


def m_change(path: str, metric: str) -> str:
    return percent(change(path, metric))


def card_rows(run: str) -> tuple:
    return rows("results/report_card.csv" if run == "." else f"results/{run}/report_card.csv")


def tally(run: str, metric: str) -> tuple[int, int]:
    judged = [r for r in card_rows(run) if r["metric"] == metric and r["agrees"]]
    if not judged:
        raise GenerateError(f"{run}: no report-card row for {metric}")
    return sum(r["agrees"] == "true" for r in judged), len(judged)


def m_tally(run: str, metric: str) -> str:
    right, total = tally(run, metric)
    return f"{right} of {total}"


def model_mean(model: str, metric_text: str) -> float:
    metric, key = split_metric(metric_text)
    values = [float(r["score"]) for r in rows("results/models/model_metrics.csv")
              if r["model"] == model and r["metric"] == metric and r["key"] == key]
    if not values:
        raise GenerateError(f"results/models/model_metrics.csv has no {model} {metric}.{key}")
    return sum(values) / len(values)


def m_model(model: str, metric: str, fmt: str | None = None) -> str:
    return num(model_mean(model, metric), fmt or ".3f")


def m_pid(model: str, term: str, bound: str, fmt: str | None = None) -> str:
    for r in rows("results/models/model_pid.csv"):
        if r["model"] == model and r["term"] == term:
            return num(float(r[bound]), fmt or ".2f")
    raise GenerateError(f"results/models/model_pid.csv has no {model} {term}")


def m_cputime(pattern: str) -> str:
    files = sorted(RESULTS.glob(f"{pattern}/run.json"))
    if not files:
        raise GenerateError(f"results/{pattern}/run.json matches no file")
    seconds = sum(sum(json.loads(f.read_text())["seconds_by_metric"].values()) for f in files)
    hours, minutes = divmod(round(seconds / 60), 60)
    return f"{hours} h {minutes:02d} min" if hours else f"{minutes} min"


def m_fullrun(seeds: str) -> str:
    """CPU-hours of every metric at default sizes over every attack's default grid with
    ``seeds`` seeds, from ``results/zoo_default``'s recorded seconds per level and seed."""
    import attacks

    files = sorted(RESULTS.glob("zoo_default/*/run.json"))
    if not files:
        raise GenerateError("results/zoo_default/*/run.json matches no file")
    seconds = 0.0
    for f in files:
        run = json.loads(f.read_text())
        cells = len(run["config"]["levels"]) * len(run["config"]["seeds"])
        per_cell = sum(run["seconds_by_metric"].values()) / cells
        seconds += per_cell * len(attacks.get(run["config"]["attack"]).levels) * int(seeds)
    return f"{seconds / 3600:.0f} CPU-hours"


def m_exponent(axis: str, metric: str, low: str, high: str) -> str:
    """The exponent b of seconds ~ x^b fitted over ``low <= x <= high`` of
    ``benchmarks/cost_growth.csv`` (least squares on the logarithms)."""
    points = [(math.log(float(r["x"])), math.log(float(r["seconds"])))
              for r in rows("benchmarks/cost_growth.csv")
              if r["axis"] == axis and r["metric"] == metric and float(low) <= float(r["x"]) <= float(high)]
    if len(points) < 2:
        raise GenerateError(f"benchmarks/cost_growth.csv has fewer than two {axis} points of {metric}")
    mx = sum(x for x, _ in points) / len(points)
    my = sum(y for _, y in points) / len(points)
    slope = sum((x - mx) * (y - my) for x, y in points) / sum((x - mx) ** 2 for x, _ in points)
    return f"{slope:.2f}"


def exponent_of(axis: str, metric: str) -> str:
    for r in rows("benchmarks/cost_growth.csv"):
        if r["axis"] == axis and r["metric"] == metric:
            return f"{float(r['exponent']):.2f}"
    raise GenerateError(f"benchmarks/cost_growth.csv has no {axis} row of {metric}")


def m_require(what: str, markdown: str) -> str:
    attack_specs, metric_specs = specs()
    names = [s.name for s in attack_specs] if what == "attacks" else list(metric_specs)
    missing = [n for n in names if f"`{n}`" not in markdown]
    if missing:
        raise GenerateError(f"this page does not describe the {what} {', '.join(missing)}")
    return ""


# ---------------------------------------------------------------- tables ----------------

def t_attacks() -> str:
    """Every built-in attack's spec: description and level grids."""
    body = [[f"`{s.name}`", s.description.replace("|", "\\|"), levels_text(s.levels),
             levels_text(s.quick_levels)] for s in specs()[0]]
    return table(["attack", "description (its spec)", "default levels", "`--quick` levels"], body)


def t_expectations() -> str:
    """Attacks with the same expectations share a row; ↓ fall, = flat, ↑ rise."""
    from benchmark.spec import PROPERTIES

    groups: dict[tuple, list[str]] = {}
    for s in specs()[0]:
        groups.setdefault(tuple(s.expect.get(p) for p in PROPERTIES), []).append(f"`{s.name}`")
    body = [[", ".join(names), *(ARROW[e] for e in key)] for key, names in groups.items()]
    return table(["attack", *(p.replace("_", " ") for p in PROPERTIES)], body, "l" + "c" * len(PROPERTIES))


def t_reasons() -> str:
    """Every (attack, property) expectation with its reason, from the attacks' specs."""
    from benchmark.spec import PROPERTIES

    body = []
    for s in specs()[0]:
        for p in PROPERTIES:
            if s.expect.get(p) is not None:
                body.append([f"`{s.name}`" if p == PROPERTIES[0] else "", p.replace("_", " "),
                             ARROW[s.expect[p]], s.why.get(p, "–")])
    return table(["attack", "property", "expected", "why (its spec)"], body, "llcl")


def measured_seconds() -> dict:
    """Mean seconds per cell at levels 0 and 0.5 of ``results/zoo_default/rotation``."""
    out: dict = {}
    for r in rows("results/zoo_default/rotation/timings.csv"):
        out.setdefault((r["metric"], float(r["level"])), []).append(float(r["seconds"]))
    return {k: sum(v) / len(v) for k, v in out.items()}


def seconds(value) -> str:
    if value is None:
        return "–"
    return f"{value:.0f}" if value >= 10 else f"{value:.2g}"


def t_metrics() -> str:
    """Every built-in metric's spec, and its measured seconds per cell."""
    measured = measured_seconds()
    body = []
    for name, s in specs()[1].items():
        cost = " / ".join(seconds(c) for c in s.cost) if s.cost else "–"
        taken = " / ".join(seconds(measured.get((name, level))) for level in (0.0, 0.5))
        body.append([f"`{name}` ({s.display_name})", s.family or "–",
                     f"`{s.headline}` ({(s.target or 'none').replace('_', ' ')})",
                     ", ".join(f"`{k}`" for k in sorted(s.rising)) or "–",
                     "yes" if s.default else "`all`", cost, taken])
    return table(["name (shown as)", "family", "headline (target)", "keys that rise", "default",
                  "cost (spec)", "measured"], body, "lllllrr")


def t_card(run: str) -> str:
    """Per metric of a run's report card: its tally and where it departs from the ideal."""
    _, metric_specs = specs()
    by_metric: dict[str, list[dict]] = {}
    for r in card_rows(run):
        by_metric.setdefault(r["metric"], []).append(r)
    body = []
    for metric, found in by_metric.items():
        spec = metric_specs.get(metric)
        judged = [r for r in found if r["agrees"]]
        wrong = [f"`{r['attack']}` {r['observed']} ({percent(float(r['relative_change']))})"
                 for r in judged if r["agrees"] != "true"]
        target = (found[0]["target"] or "none").replace("_", " ")
        right = sum(r["agrees"] == "true" for r in judged)
        unsure = [f"`{r['attack']}`" for r in found if r["observed"] == "inconclusive" and r["expected"]]
        body.append([spec.display_name if spec else f"`{metric}` (plugin)", target,
                     f"{right} of {len(judged)}", ", ".join(unsure) or "–", "; ".join(wrong) or "–"])
    body.sort(key=lambda row: -int(row[2].split()[0]))
    return table(["metric", "target", "as expected", "inconclusive", "where not (observed, change)"],
                 body)


def t_sweep(path: str) -> str:
    """Every metric's headline in one sweep: first and last level, change, verdict."""
    _, metric_specs = specs()
    metrics = sorted({r["metric"] for r in rows(f"results/{path}/summary.csv")},
                     key=lambda m: list(metric_specs).index(m) if m in metric_specs else 99)
    body = []
    for metric in metrics:
        found = summary_levels(path, metric)
        first, last = found[0][1], found[-1][1]
        name = metric_specs[metric].display_name if metric in metric_specs else f"`{metric}`"
        body.append([name, num(float(first["mean"])), num(float(last["mean"])),
                     percent(change(path, metric)), first["verdict"]])
    lo, hi = summary_levels(path, metrics[0])[0][0], summary_levels(path, metrics[0])[-1][0]
    return table(["metric (headline)", f"level {lo:g}", f"level {hi:g}", "change", "verdict"], body, "lrrrl")


def t_models() -> str:
    """Per model: the default metrics' headlines and UniBound's PID bounds, unattacked."""
    models = list(dict.fromkeys(r["model"] for r in rows("results/models/model_metrics.csv")))
    metrics = ["mig", "beta_vae", "factor_vae", "dci_fast", "unibound"]
    names = specs()[1]
    body = []
    for model in models:
        bounds = [f"{m_pid(model, t, 'lower')}–{m_pid(model, t, 'upper')}"
                  for t in ("redundancy", "synergy")]
        body.append([f"`{model}`", *(m_model(model, m) for m in metrics), *bounds])
    return table(["model", *(names[m].display_name for m in metrics), "redundancy", "synergy"], body,
                 "lrrrrrrr")


def t_full_scale() -> str:
    """``benchmarks/full_scale.csv``: the estimates against a quadrature truth."""
    labels = {"full": "exact, every row (default)", "sample": "exact, a 10,000-row sample",
              "sample_draws": "kNN on posterior draws, the same sample (its default)",
              "knn": "kNN (10,000 posterior draws)"}
    body = []
    for r in rows("benchmarks/full_scale.csv"):
        body.append([labels.get(r["estimate"], r["estimate"]), f"{int(r['rows']):,}",
                     f"{float(r['unibound']):.3f}", f"{float(r['mi']):.3f}",
                     f"{float(r['max_abs_error']):.3g} / {float(r['mean_abs_error']):.2g}",
                     f"{float(r['seconds']):.0f}"])
    return table(["estimate", "rows in the mixture", "UniBound", "`mi`",
                  "largest / mean error (nats)", "seconds"], body, "lrrrrr")


def t_cost(axis: str) -> str:
    """``benchmarks/cost_growth.csv``: seconds per call along one axis, and the exponent."""
    found = [r for r in rows("benchmarks/cost_growth.csv") if r["axis"] == axis]
    if not found:
        raise GenerateError(f"benchmarks/cost_growth.csv has no axis {axis}")
    xs = list(dict.fromkeys(r["x"] for r in found))
    label = {"latents": "L = {}", "samples": "n = {}", "grid": "{} points"}.get(axis, "{}")
    body = []
    for metric in dict.fromkeys(r["metric"] for r in found):
        by_x = {r["x"]: r for r in found if r["metric"] == metric}
        body.append([f"`{metric}`", *(f"{float(by_x[x]['seconds']):.3g}" if x in by_x else "–" for x in xs),
                     f"{float(next(iter(by_x.values()))['exponent']):.2f}"])
    header = [label.format(f"{int(float(x)):,}") for x in xs]
    return table(["metric", *header, "exponent b"], body, "l" + "r" * (len(xs) + 1))


def t_sample_tables() -> str:
    """``benchmarks/sample_tables.csv``: per sample size and candidate, the largest error
    over the zoo's characters against the whole table's exact value, and the seconds."""
    found = [r for r in rows("benchmarks/sample_tables.csv") if r.get("unibound_error")]
    keys = ("unibound", "redundancy_l", "synergy_l", "mi")
    body = []
    for size, estimate in dict.fromkeys((r["rows"], r["estimate"]) for r in found):
        group = [r for r in found if (r["rows"], r["estimate"]) == (size, estimate)]
        worst = [max(abs(float(r[f"{k}_error"])) for r in group) for k in keys]
        secs = sorted(float(r["seconds"]) for r in group)
        body.append([f"{int(size):,}", f"`{estimate}`" if "knn" in estimate else estimate,
                     *(f"{w:.3f}" for w in worst), f"{secs[len(secs) // 2]:.0f}"])
    return table(["rows", "estimate", "UniBound", "`redundancy_l`", "`synergy_l`", "`mi`",
                  "seconds (median)"], body, "llrrrrr")


def t_noise_latents() -> str:
    """``benchmarks/knn_noise_latents.csv``: how far plain kNN's I(y; z)/H(y) moves (largest
    over factors) with pure-noise latents appended."""
    found = rows("benchmarks/knn_noise_latents.csv")
    appended = list(dict.fromkeys(r["appended"] for r in found))
    body = []
    for case in dict.fromkeys(r["case"] for r in found):
        shift = {m: max(abs(float(r["shift"])) for r in found if (r["case"], r["appended"]) == (case, m))
                 for m in appended}
        body.append([f"`{case}`", *(f"{shift[m]:.2f}" for m in appended)])
    return table(["case", *(f"{m} appended" for m in appended)], body, "l" + "r" * len(appended))


def t_wide() -> str:
    """``benchmarks/wide_codes.csv``: per metric and width, the seconds and peak memory of
    one call, or why it has none (its one-line refusal, or the time budget), on the
    table size with the most points; every built-in metric has a row, "not measured yet"
    where the CSV has none of its points."""
    found = rows("benchmarks/wide_codes.csv")
    sizes = Counter(int(r["rows"]) for r in found)
    size = max(sizes, key=lambda n: (sizes[n], n))
    cell = {(r["metric"], int(r["latents"])): r for r in found if int(r["rows"]) == size}
    widths = sorted({w for _, w in cell})
    body = []
    for name in specs()[1]:
        line = [f"`{name}`"]
        for w in widths:
            r = cell.get((name, w))
            if r is None:
                line.append("not measured yet")
            elif r["status"] == "ok":
                line.append(f"{float(r['seconds']):,.1f} s, {float(r['peak_mb']):,.0f} MB")
            else:
                line.append(r["status"].replace("|", "/"))
        body.append(line)
    return table(["metric", *(f"L = {w:,}" for w in widths)], body, "l" + "r" * len(widths))


def t_datasheets() -> str:
    """``results/datasheets/``: the table of all metrics, then every metric's sheet, its
    headings one level down and the table's links turned into links to its section."""
    folder = RESULTS / "datasheets"
    index = (folder / "README.md").read_text()
    names = re.findall(r"\]\((\w+)\.md\)", index)
    if not names:
        raise GenerateError("results/datasheets/README.md links no datasheet")
    table_text = index[index.index("| metric |"):]
    sheets = []
    for name in names:
        text = (folder / f"{name}.md").read_text()
        sheets.append(re.sub(r"^(#+) ", r"#\1 ", text, flags=re.M).replace(
            "\n", f" {{#{name}}}\n", 1))
        table_text = table_text.replace(f"]({name}.md)", f"](#{name})")
    return table_text + "\n" + "\n".join(sheets)


TABLES = {"attacks": t_attacks, "expectations": t_expectations, "metrics": t_metrics,
          "card": t_card, "sweep": t_sweep, "models": t_models, "full_scale": t_full_scale,
          "cost": t_cost, "sample_tables": t_sample_tables, "noise_latents": t_noise_latents,
          "datasheets": t_datasheets, "reasons": t_reasons, "wide": t_wide}
VALUES = {"version": m_version, "command": m_command, "mean": m_mean, "span": m_span,
          "change": m_change, "tally": m_tally, "model": m_model, "pid": m_pid,
          "cputime": m_cputime, "exponent": m_exponent, "fitted": exponent_of,
          "fullrun": m_fullrun}


def fill(markdown: str, where: str = "") -> str:
    """``markdown`` with every marker replaced."""

    def replace(match):
        name, args = match.group(1), match.group(2).split()
        try:
            if name == "table":
                return TABLES[args[0]](*args[1:])
            if name == "require":
                return m_require(args[0], markdown)
            return VALUES[name](*args)
        except (KeyError, IndexError, TypeError, ValueError, GenerateError) as exc:
            raise GenerateError(f"{where}: cannot fill {match.group(0)!r}: {exc!r}") from None

    return MARKER.sub(replace, markdown)


def on_page_markdown(markdown, page, config, files):  # noqa: ARG001 - MkDocs' hook signature
    return fill(markdown, page.file.src_path)


FIGURE = re.compile(r"\(((?:\.\./)*)results/([\w/.-]+\.png)\)")


def on_files(files, config):
    """The committed figures the pages show (``![...](results/x.png)``, relative to the
    page), copied from ``results/`` into the site."""
    from mkdocs.structure.files import File

    wanted = set()
    for page in Path(config["docs_dir"]).glob("**/*.md"):
        wanted.update(match.group(2) for match in FIGURE.finditer(page.read_text()))
    for figure in sorted(wanted):
        if not (RESULTS / figure).is_file():
            raise GenerateError(f"results/{figure} does not exist")
        files.append(File.generated(config, f"results/{figure}", abs_src_path=str(RESULTS / figure)))
    return files
