"""Baseline disentanglement metrics, one module each, registered on import.

Protocol defaults: mig, beta_vae, factor_vae and dci_fast; ``--metrics all``
adds the faithful dci, sap and modularity (slower).
"""
from . import mig  # noqa: F401
from . import beta_vae, dci, factor_vae, modularity, sap  # noqa: F401
