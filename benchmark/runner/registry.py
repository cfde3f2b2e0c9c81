"""The runner's metric registry: the built-in specs, listed explicitly, then plugins.

Built-ins come from :data:`metrics_baseline.SPECS` and :data:`metrics_pid.SPECS`;
plugins load from ``path/to/file.py:func``, ``package.module:func``, the
entry-point group :data:`ENTRY_POINT_GROUP`, or :func:`register_metric`.
Nothing registers itself on import.
"""
from __future__ import annotations

import importlib
import importlib.util
import os
import sys
import warnings
from dataclasses import replace

import metrics_baseline
import metrics_pid

from ..spec import MetricSpec
from ..validation import BenchmarkError, unknown_name
from .portable import remember_module
from .signals import is_signal

__all__ = ["ENTRY_POINT_GROUP", "BUILTIN_SPECS", "default_metric_names", "get_metric",
           "load_entry_points", "load_plugin", "metric_name", "metric_names", "register_metric",
           "unregister_metric"]

ENTRY_POINT_GROUP = "entanglement_bench.metrics"

#: Every built-in metric, in listing order.
BUILTIN_SPECS = (*metrics_baseline.SPECS, *metrics_pid.SPECS)

_METRICS: dict[str, MetricSpec] = {spec.name: spec for spec in BUILTIN_SPECS}
_PLUGINS: dict[str, MetricSpec] = {}  # by spec text: a plugin file is executed once per process
_entry_points_loaded = False


def register_metric(name: str, headline: str | None = None, *, default: bool = False,
                    quick=None, display_name: str = "", rising=(), target: str | None = None):
    """Decorator adding ``func`` to the runner's registry as metric ``name``.

    For code that imports the package and runs sweeps from Python; from the
    command line a plain function is enough (``--metric file.py:func``).  The
    function is returned unchanged.

    Parameters
    ----------
    name : str
        Registry name (used by ``--metrics`` and in ``scores.csv``).
    headline : str, optional
        The key that summarises the metric; defaults to ``name``.
    default, quick, display_name, rising, target
        See :class:`~benchmark.spec.MetricSpec`.
    """

    def decorate(func):
        spec = MetricSpec(name, func, headline or name, display_name=display_name,
                          rising=frozenset(rising), default=default, quick=dict(quick or {}),
                          target=target, source=getattr(func, "__module__", "unknown"))
        if name in _METRICS and _METRICS[name].source == "builtin":
            raise BenchmarkError(f"register_metric: {name!r} is a built-in metric; choose another name")
        _METRICS[name] = spec
        return func

    return decorate


def metric_name(metric) -> str:
    """The registry name of ``metric``: a name or plugin text as it is, or a
    :class:`~benchmark.spec.MetricSpec` or plain function, registered on first sight.

    A function is named and described by its attributes, as a plugin file's is (see
    :func:`load_plugin`), so Python code compares a function without registering it.
    """
    if isinstance(metric, str):
        return get_metric(metric).name
    if not isinstance(metric, MetricSpec):
        if not callable(metric):
            raise BenchmarkError(f"metrics: expected a name, a MetricSpec or a function, got "
                                 f"{type(metric).__name__}")
        for registered in _METRICS.values():
            if registered.func is metric:
                return registered.name
        metric = _spec_of(metric, getattr(metric, "metric_name", getattr(metric, "__name__", "metric")),
                          getattr(metric, "__module__", None) or "unknown")
    elif metric.source == "builtin" and metric not in BUILTIN_SPECS:  # the default: a user's spec
        metric = replace(metric, source=getattr(metric.func, "__module__", None) or "unknown")
    known = _METRICS.get(metric.name)
    if known is not None and known.func is not metric.func:
        if known.source == "builtin" or not _same_definition(known.func, metric.func):
            raise BenchmarkError(f"metrics: {metric.name!r} is already the name of another metric; "
                                 "give the function a metric_name attribute")
        known = None  # the same function defined again (a notebook cell run twice): the newer
    if known is None:
        _METRICS[metric.name] = metric
    return metric.name


def _same_definition(a, b) -> bool:
    key = ("__module__", "__qualname__")
    return all(getattr(a, k, None) == getattr(b, k, None) for k in key)


def _spec_of(func, name: str, source: str) -> MetricSpec:
    """A plain function as a metric: its headline, target and family from its attributes."""
    return MetricSpec(name, func, getattr(func, "headline", name), target=getattr(func, "target", None),
                      family=getattr(func, "family", None), source=source)


def _load_entry_points():
    global _entry_points_loaded
    if not _entry_points_loaded:
        _entry_points_loaded = True
        load_entry_points()


def load_entry_points() -> None:
    """Register the metrics installed packages declare in :data:`ENTRY_POINT_GROUP`.

    Runs once by itself on the first look-up; call it again after installing a
    package in a running process.  A package that fails to load is skipped
    with a warning.
    """
    from importlib.metadata import entry_points

    for ep in entry_points(group=ENTRY_POINT_GROUP):
        if ep.name in _METRICS:
            continue
        try:
            func = ep.load()
        except (Exception, SystemExit) as exc:  # a broken third-party package must not break the tool
            warnings.warn(f"metric plugin {ep.name!r} ({ep.value}) failed to load: {exc}",
                          stacklevel=2)
            continue
        if not isinstance(func, MetricSpec):
            func = MetricSpec(ep.name, func, getattr(func, "headline", ep.name),
                              source=f"entry point {ep.value}")
        _METRICS[ep.name] = func


def unregister_metric(name: str) -> None:
    """Remove a plugin metric from this process's registry (built-ins stay)."""
    if name in _METRICS and _METRICS[name].source == "builtin":
        raise BenchmarkError(f"{name!r} is a built-in metric and cannot be removed")
    spec = _METRICS.pop(name, None)
    for key in [k for k, v in _PLUGINS.items() if v is spec]:
        del _PLUGINS[key]


def metric_names() -> list[str]:
    """Every registered metric, built-ins first in listing order."""
    _load_entry_points()
    return list(_METRICS)


def default_metric_names() -> list[str]:
    """The metrics the protocol runs when ``--metrics`` is not given."""
    _load_entry_points()
    return [n for n, s in _METRICS.items() if s.default]


def get_metric(name: str) -> MetricSpec:
    """The registered metric ``name``, or a plugin given as ``file.py:func`` / ``module:func``."""
    _load_entry_points()
    if name in _METRICS:
        return _METRICS[name]
    if ":" in name:
        return load_plugin(name)
    if name.endswith(".py"):
        raise BenchmarkError(f"metric {name!r}: name the function in the file too, as "
                             f"{name}:function_name")
    raise unknown_name("metric", name, _METRICS,
                       " (or a plugin as path/to/file.py:function or package.module:function)")


def _check_import_survives(spec: str, load) -> None:
    """Import a plugin once in a forked child first: a plugin that ends its process while
    importing (``os._exit``, a crash in native code) would otherwise end the run without
    a word, since plugins are imported here, before any work, to check the command."""
    if not hasattr(os, "fork"):
        return
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: quiet, and done as soon as the import is
        try:
            os.close(read)
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, 1)
            os.dup2(devnull, 2)
            load()
        except BaseException:  # noqa: BLE001 - the parent imports it again and reports
            pass
        finally:
            os.write(write, b"1")
            os._exit(0)
    os.close(write)
    with os.fdopen(read, "rb") as pipe:
        survived = pipe.read(1) == b"1"
    _, status = os.waitpid(pid, 0)
    if not survived:
        raise BenchmarkError(f"metric plugin {spec!r} ended its process while importing "
                             f"(exit status {os.waitstatus_to_exitcode(status)})")


def _unless_signal(exc) -> None:
    if is_signal(exc):  # the user's Ctrl-C while a plugin imports stops the run as usual
        raise exc


def load_plugin(spec: str) -> MetricSpec:
    """Load a metric from ``path/to/file.py:func`` or ``package.module:func``.

    A function added with :func:`register_metric` keeps its registered name
    and headline; a plain function is named after itself (or its
    ``metric_name`` attribute) with headline equal to its name (or its
    ``headline`` attribute) and the property it targets in its ``target``
    attribute, if any (see :data:`benchmark.spec.PROPERTIES`).
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
        _check_import_survives(spec, lambda: module_spec.loader.exec_module(
            importlib.util.module_from_spec(module_spec)))
        try:
            module_spec.loader.exec_module(module)
        except (Exception, SystemExit, KeyboardInterrupt) as exc:  # a plugin cannot end the run
            _unless_signal(exc)
            raise BenchmarkError(f"metric plugin {spec!r} failed to import: {exc!r}") from None
        remember_module(module, target)  # a forked worker uses it rather than run the file again
    else:
        if target not in sys.modules:
            _check_import_survives(spec, lambda: importlib.import_module(target))
        try:
            module = importlib.import_module(target)
        except (Exception, SystemExit, KeyboardInterrupt) as exc:
            _unless_signal(exc)
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
    metric = _spec_of(func, name, spec)
    _METRICS[name] = metric
    _PLUGINS[spec] = metric
    return metric
