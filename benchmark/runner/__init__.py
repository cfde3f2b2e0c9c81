"""The runner: the command line, the sweep protocol, the cell store, executors,
summary statistics, reports and figures.

It imports the core (:mod:`benchmark`), the attacks and the metric packages;
none of them imports it.  From Python::

    from benchmark.runner import SweepConfig, run_sweep
    result = run_sweep(SweepConfig(attack="rotation", levels=(0, 0.5, 1), metrics=("mig",)))

The names below are imported on first use.  A worker process that runs a sweep's
cells (``spawn``, ``forkserver``, Dask) then imports the sweep and the metrics, not
the command line, the reports and the plotting libraries.
"""
from __future__ import annotations

import importlib

#: Each public name and the module that defines it.
_WHERE = {"BUILTIN_SPECS": "registry", "SweepConfig": "sweep", "SweepResult": "sweep",
          "base_representation": "sweep", "default_metric_names": "registry",
          "get_metric": "registry", "load_plugin": "registry", "main": "cli",
          "metric_names": "registry", "register_metric": "registry", "run_sweep": "sweep"}

__all__ = ["BUILTIN_SPECS", "SweepConfig", "SweepResult", "base_representation",
           "default_metric_names", "get_metric", "load_plugin", "main", "metric_names",
           "register_metric", "run_sweep"]


def __getattr__(name: str):
    if name not in _WHERE:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{_WHERE[name]}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
