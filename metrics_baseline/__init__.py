"""Baseline disentanglement metrics, one module each, registered on import."""
from . import mig  # noqa: F401
