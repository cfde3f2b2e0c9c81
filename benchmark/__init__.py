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


def _installed_version() -> str:
    # one version: pyproject.toml's, as the installed package's metadata has it
    from importlib import metadata

    try:
        return metadata.version("entanglement-bench")
    except metadata.PackageNotFoundError:  # imported from a checkout that was never installed
        return "0+unknown"


__version__ = _installed_version()

__all__ = [
    "BenchmarkError", "FactorSpace", "GaussianRepresentation", "GaussianStructure",
    "Informations", "MetricSpec", "PosteriorTable", "Posteriors", "Representation",
    "builtin_names", "from_arrays", "ideal", "informations", "linear_transform",
    "load_encodings",
]
