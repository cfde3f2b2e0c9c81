"""Controlled-entanglement benchmark for disentanglement metrics (core package)."""
from .encodings import from_arrays, load_encodings
from .factors import FactorSpace, builtin_names
from .registry import (MetricSpec, default_metric_names, get_metric, load_plugin,
                       metric_names, register_metric)
from .representations import (GaussianRepresentation, Representation, ideal,
                              linear_transform)
from .validation import BenchmarkError

__version__ = "0.1.0"

__all__ = [
    "BenchmarkError", "FactorSpace", "GaussianRepresentation", "MetricSpec", "Representation",
    "builtin_names", "default_metric_names", "from_arrays", "get_metric", "ideal",
    "linear_transform", "load_encodings", "load_plugin", "metric_names", "register_metric",
]
