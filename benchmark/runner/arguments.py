"""What the command line accepts: its limits, the parsing and checking of its values
before any work, and the ``--list`` of what exists."""
from __future__ import annotations

import inspect
import json
import math

import numpy as np

import attacks as attack_registry

from ..factors import FactorSpace, builtin_names
from ..spec import FAMILIES
from ..validation import BenchmarkError, did_you_mean
from .registry import get_metric, metric_names

__all__ = ["MAX_CELLS", "MAX_JOBS", "MAX_LEVEL", "MAX_LEVELS", "MAX_NOISE", "MAX_SAMPLES",
           "MAX_SEEDS", "check_param_name", "check_param_value", "comma_list", "list_available",
           "parse_levels", "parse_param"]

#: Limits that keep a typo from exhausting memory or time; stated in --help.
MAX_LEVELS = 1000
MAX_SEEDS = 10000
MAX_LEVEL = 1e6
MAX_JOBS = 256
MAX_NOISE = 1e6
#: Cells of one metric in one attack's sweep (levels x seeds).
MAX_CELLS = 100_000
#: Sample sizes a ``--param num_*`` may ask for.
MAX_SAMPLES = 10_000_000


def comma_list(text: str, flag: str) -> list[str]:
    """The items of a comma list; an empty item between commas (a typo) is refused."""
    items = [t.strip() for t in text.split(",")]
    if any(items) and not all(items):
        raise BenchmarkError(f"{flag} has an empty item: {text!r}")
    return [t for t in items if t]


def parse_levels(text: str) -> tuple:
    """``a,b,c`` or ``start:stop:count`` (inclusive, evenly spaced)."""
    text = text.strip()
    try:
        if ":" in text:
            parts = text.split(":")
            if len(parts) != 3:
                raise ValueError
            start, stop, count = float(parts[0]), float(parts[1]), int(parts[2])
            if not 1 <= count <= MAX_LEVELS or not np.isfinite([start, stop]).all():
                raise ValueError
            levels = tuple(float(v) for v in np.linspace(start, stop, count))
        else:
            levels = tuple(float(v) for v in comma_list(text, "--levels"))
    except ValueError:
        raise BenchmarkError(
            f"--levels must be a,b,c or start:stop:count with 1 to {MAX_LEVELS} levels, "
            f"got {text!r}") from None
    if not levels:
        raise BenchmarkError("--levels is empty")
    if len(levels) > MAX_LEVELS:
        raise BenchmarkError(f"--levels has {len(levels)} levels; at most {MAX_LEVELS}")
    for v in levels:
        if not np.isfinite(v) or v < 0:
            raise BenchmarkError(f"--levels must be finite and non-negative, got {v:g}")
        if v > MAX_LEVEL:
            raise BenchmarkError(f"--levels: {v:g} is too large; levels go up to {MAX_LEVEL:g}")
    if len(set(levels)) != len(levels):
        raise BenchmarkError(f"--levels has repeated values: {text!r}")
    return tuple(sorted(levels))


def parse_param(text: str):
    """``metric.param=value`` with value parsed as JSON when possible."""
    name, sep, value = text.partition("=")
    metric, dot, param = name.partition(".")
    if not sep or not dot or not metric or not param:
        raise BenchmarkError(f"--param must look like metric.param=value, got {text!r}")
    try:
        value = json.loads(value)
    except ValueError:
        pass
    return metric, param, value


#: Sample-size settings of ``--sizes``: a metric's quick parameters, its defaults, or twice
#: its defaults for the parameters its quick setting names (its sample sizes and effort).
SIZES = ("quick", "default", "large")
LARGE_FACTOR = 2


def larger_sizes(spec) -> dict:
    """``{param: LARGE_FACTOR * default}`` for the integer parameters a metric's quick setting
    lowers (``spec.quick``'s keys), the defaults read from the function and ``spec.params``.

    Examples
    --------
    >>> from benchmark.runner.registry import get_metric
    >>> larger_sizes(get_metric("mig"))
    {'num_samples': 20000}
    """
    try:
        defaults = {name: p.default for name, p in inspect.signature(spec.func).parameters.items()
                    if p.default is not inspect.Parameter.empty}
    except (TypeError, ValueError):
        return {}
    defaults.update(spec.params)
    return {k: LARGE_FACTOR * defaults[k] for k in spec.quick
            if isinstance(defaults.get(k), int) and not isinstance(defaults.get(k), bool)}


def check_param_name(spec, param: str) -> None:
    """Refuse a ``--param`` the metric's function does not take, before any work."""
    try:
        signature = inspect.signature(spec.func)
    except (TypeError, ValueError):
        return
    parameters = signature.parameters
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters.values()):
        return
    accepted = [name for name, p in list(parameters.items())[2:]
                if p.kind in (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)]
    if param not in accepted:
        raise BenchmarkError(f"--param: metric {spec.name!r} has no parameter {param!r}; "
                             f"{did_you_mean(param, accepted)}it takes: {', '.join(accepted) or 'none'}")


def check_param_value(spec, param: str, value) -> None:
    """Refuse a ``--param`` value of the wrong kind for the parameter's default (an
    integer size given 2.5, ``true`` or NaN; a sample size beyond :data:`MAX_SAMPLES`),
    before any work: every cell would fail the same way."""
    try:
        default = inspect.signature(spec.func).parameters[param].default
    except (TypeError, ValueError, KeyError):
        return
    where = f"--param {spec.name}.{param}={json.dumps(value)}"
    if isinstance(value, float) and not math.isfinite(value):
        raise BenchmarkError(f"{where}: must be finite")
    if isinstance(default, bool):
        if not isinstance(value, bool):
            raise BenchmarkError(f"{where}: must be true or false")
    elif isinstance(default, int) and default is not None:
        if isinstance(value, bool) or not isinstance(value, int):
            raise BenchmarkError(f"{where}: must be an integer (default {default})")
    elif isinstance(default, float):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise BenchmarkError(f"{where}: must be a number (default {default:g})")
    if param.startswith("num_") and isinstance(value, (int, float)) and not isinstance(value, bool) \
            and not 1 <= value <= MAX_SAMPLES:
        raise BenchmarkError(f"{where}: must be between 1 and {MAX_SAMPLES:,}")


def list_available() -> str:
    """The text of ``--list``: attacks with their levels, metrics by family, data sets."""
    lines = ["attacks (default levels):"]
    for name in attack_registry.names():
        spec = attack_registry.get(name)
        levels = ", ".join(f"{v:g}" for v in spec.levels)
        limit = spec.max_level
        reach = ("no upper limit" if limit is None
                 else f"at most {getattr(limit, 'label', 'what the representation allows')}"
                 if callable(limit) else f"at most {limit:g}")
        lines.append(f"  {name:<12} {spec.description}\n  {'':<12} levels: {levels} ({reach})")
    lines.append("metrics by family (* = run by default):")
    specs = [get_metric(name) for name in metric_names()]
    for family in (*FAMILIES, None):
        members = [spec for spec in specs if spec.family == family]
        if members:
            lines.append(f"  {family or 'other'}:")
        for spec in members:
            star = "*" if spec.default else " "
            lines.append(f"  {star} {spec.name:<18} {spec.display_name:<26} headline: {spec.headline:<18} "
                         f"target: {spec.target or '-'}")
    lines.append("datasets:")
    for name in builtin_names():
        space = FactorSpace.named(name)
        factors = ", ".join(f"{n} {s}" for n, s in zip(space.names, space.sizes))
        lines.append(f"  {name:<13} {factors}")
    return "\n".join(lines)
