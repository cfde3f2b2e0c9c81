"""The runner: the command line, the sweep protocol, the cell store, executors,
summary statistics, reports and figures.

It imports the core (:mod:`benchmark`), the attacks and the metric packages;
none of them imports it.  From Python::

    from benchmark.runner import SweepConfig, run_sweep
    result = run_sweep(SweepConfig(attack="rotation", levels=(0, 0.5, 1), metrics=("mig",)))
"""
from .cli import main
from .registry import (
                       BUILTIN_SPECS,
                       default_metric_names,
                       get_metric,
                       load_plugin,
                       metric_names,
                       register_metric,
)
from .sweep import SweepConfig, SweepResult, base_representation, run_sweep

__all__ = ["BUILTIN_SPECS", "SweepConfig", "SweepResult", "base_representation",
           "default_metric_names", "get_metric", "load_plugin", "main", "metric_names",
           "register_metric", "run_sweep"]
