"""Controlled-entanglement benchmark for disentanglement metrics: the core library.

Factor spaces, representations (the ideal one, linear transforms, a user's
encodings), the information estimators (:mod:`benchmark.information`) and the
metric spec.  The core imports nothing above it: the metric packages, the
attacks and the runner (:mod:`benchmark.runner`) import the core, never the
other way round.
"""
from .encodings import from_arrays, load_encodings
from .factors import FactorSpace, builtin_names
from .information import Informations, informations
from .representations import (
                              GaussianRepresentation,
                              GaussianStructure,
                              Posteriors,
                              PosteriorTable,
                              Representation,
                              ideal,
                              linear_transform,
)
from .spec import MetricSpec
from .validation import BenchmarkError

__version__ = "0.1.0"

__all__ = [
    "BenchmarkError", "FactorSpace", "GaussianRepresentation", "GaussianStructure",
    "Informations", "MetricSpec", "PosteriorTable", "Posteriors", "Representation",
    "builtin_names", "from_arrays", "ideal", "informations", "linear_transform",
    "load_encodings",
]
