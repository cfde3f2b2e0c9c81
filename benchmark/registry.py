"""The metric registry: built-in metrics register on import, plugins load by path.

A metric is a plain function ``f(rep, rng, **params)`` returning a float or a
``dict[str, float]``; its entry names the headline key.
"""
from __future__ import annotations

import importlib
import importlib.util
import math
import numbers
import os
import sys
from dataclasses import dataclass, field
from typing import Callable

from .validation import BenchmarkError

ENTRY_POINT_GROUP = "entanglement_bench.metrics"


@dataclass(frozen=True)
class MetricSpec:
    """A registered metric.

    Attributes
    ----------
    name : str
    func : callable
        ``func(rep, rng, **params) -> float | dict[str, float]``.
    headline : str
        The key that summarises the metric.
    default : bool
        Whether the protocol runs it when ``--metrics`` is not given.
    quick_params : dict
        Parameters used by ``--quick`` (smaller sample sizes).
    source : str
        ``builtin`` or where a plugin came from.
    with_details : callable or None
        The same metric as ``with_details(rep, rng, **params) -> (result, details)``,
        where ``details`` is a JSON-serialisable by-product the reports reuse
        instead of recomputing it (UniBound's raw informations, from which the PID
        profile figure is drawn).
    """

    name: str
    func: Callable
    headline: str
    default: bool = False
    quick_params: dict = field(default_factory=dict)
    source: str = "builtin"
    with_details: Callable | None = None

    def __call__(self, rep, rng, quick: bool = False, **params) -> dict:
        """Run the metric and return a validated ``dict[str, float]``."""
        return self.run(rep, rng, params, quick=quick)[0]

    def run(self, rep, rng, params: dict | None = None, quick: bool = False,
            details: bool = False):
        """``(scores, details)``: the validated scores of ``func(rep, rng, **params)``
        and, when ``details`` is asked for and the metric has ``with_details``, its
        by-product (else None)."""
        params = {**(self.quick_params if quick else {}), **(params or {})}
        if details and self.with_details is not None:
            out, extra = self.with_details(rep, rng, **params)
        else:
            out, extra = self.func(rep, rng, **params), None
        return normalise_result(self.name, self.headline, out), extra


_METRICS: dict[str, MetricSpec] = {}
_PLUGINS: dict[str, MetricSpec] = {}  # by spec: a plugin file is executed once per process


def normalise_result(name: str, headline: str, out) -> dict:
    """Turn a metric's return value into ``{key: float}`` or raise a clear error."""
    if isinstance(out, numbers.Real) and not isinstance(out, bool):
        out = {headline: float(out)}
    if not isinstance(out, dict) or not out:
        raise BenchmarkError(
            f"metric {name!r} returned {type(out).__name__}; expected a float or a non-empty dict of floats"
        )
    result = {}
    for key, value in out.items():
        if not isinstance(value, numbers.Real) or isinstance(value, bool):
            raise BenchmarkError(
                f"metric {name!r} returned a non-numeric value for key {key!r}: {type(value).__name__}"
            )
        if not math.isfinite(value):
            raise BenchmarkError(f"metric {name!r} returned {value} for key {key!r}")
        result[str(key)] = float(value)
    if headline not in result:
        raise BenchmarkError(f"metric {name!r} did not return its headline key {headline!r}")
    return result


def register_metric(name: str, headline: str | None = None, default: bool = False, quick=None,
                    with_details=None):
    """Decorator registering ``func`` as metric ``name``.

    Parameters
    ----------
    name : str
        Registry name (used by ``--metrics`` and in ``scores.csv``).
    headline : str, optional
        The key that summarises the metric; defaults to ``name``.
    default : bool
        Run it in the protocol's default set.
    quick : dict, optional
        Parameters for ``--quick`` runs.
    with_details : callable, optional
        See :class:`MetricSpec`.
    """

    def decorate(func):
        _METRICS[name] = MetricSpec(name, func, headline or name, default, dict(quick or {}),
                                    source=getattr(func, "__module__", "unknown"),
                                    with_details=with_details)
        return func

    return decorate


_builtins_loaded = False


def _load_builtins():
    global _builtins_loaded
    if _builtins_loaded:
        return
    _builtins_loaded = True
    importlib.import_module("metrics_baseline")
    importlib.import_module("metrics_pid")
    _load_entry_points()


def _load_entry_points():
    from importlib.metadata import entry_points

    for ep in entry_points(group=ENTRY_POINT_GROUP):
        if ep.name in _METRICS:
            continue
        try:
            func = ep.load()
        except Exception as exc:  # a broken third-party package must not break the tool
            print(f"warning: metric plugin {ep.name!r} ({ep.value}) failed to load: {exc}",
                  file=sys.stderr)
            continue
        if not isinstance(func, MetricSpec):
            func = MetricSpec(ep.name, func, getattr(func, "headline", ep.name),
                              source=f"entry point {ep.value}")
        _METRICS[ep.name] = func


def metric_names() -> list[str]:
    """Every registered metric, built-ins first in registration order."""
    _load_builtins()
    return list(_METRICS)


def default_metric_names() -> list[str]:
    _load_builtins()
    return [n for n, s in _METRICS.items() if s.default]


def get_metric(name: str) -> MetricSpec:
    """The registered metric ``name``, or a plugin given as ``file.py:func`` / ``module:func``."""
    _load_builtins()
    if name in _METRICS:
        return _METRICS[name]
    if ":" in name:
        return load_plugin(name)
    if name.endswith(".py"):
        raise BenchmarkError(f"metric {name!r}: name the function in the file too, as "
                             f"{name}:function_name")
    raise BenchmarkError(f"unknown metric {name!r}; available: {', '.join(_METRICS)} "
                         "(or a plugin as path/to/file.py:function or package.module:function)")


def load_plugin(spec: str) -> MetricSpec:
    """Load a metric from ``path/to/file.py:func`` or ``package.module:func``.

    A function decorated with :func:`register_metric` keeps its registered name
    and headline; a plain function is named after itself with headline equal to
    its name (or its ``headline`` attribute).
    """
    if spec in _PLUGINS:
        return _PLUGINS[spec]
    target, _, attr = spec.rpartition(":")
    if not target or not attr:
        raise BenchmarkError(f"metric plugin {spec!r} must look like file.py:func or module:func")
    if target.endswith(".py") or os.sep in target:
        if not os.path.isfile(target):
            raise BenchmarkError(f"metric plugin file not found: {target}")
        modname = "entanglement_bench_plugin_" + os.path.splitext(os.path.basename(target))[0]
        module_spec = importlib.util.spec_from_file_location(modname, target)
        module = importlib.util.module_from_spec(module_spec)
        try:
            module_spec.loader.exec_module(module)
        except Exception as exc:
            raise BenchmarkError(f"metric plugin {spec!r} failed to import: {exc!r}") from None
    else:
        try:
            module = importlib.import_module(target)
        except Exception as exc:
            raise BenchmarkError(f"metric plugin {spec!r} failed to import: {exc!r}") from None
    func = getattr(module, attr, None)
    if func is None or not callable(func):
        raise BenchmarkError(f"metric plugin {spec!r}: {target} has no function {attr!r}")
    for registered in _METRICS.values():
        if registered.func is func:
            return registered
    name = getattr(func, "metric_name", attr)
    if name in _METRICS and _METRICS[name].source not in _PLUGINS:
        raise BenchmarkError(
            f"metric plugin {spec!r} is named {name!r} like an existing metric; rename the "
            "function or give it a metric_name attribute")
    metric = MetricSpec(name, func, getattr(func, "headline", name), source=spec)
    _METRICS[name] = metric
    _PLUGINS[spec] = metric
    return metric
