"""Baseline disentanglement metrics, one module each.

Every metric is a plain function ``metric(rep, rng, **options) -> dict`` with an
array-level core ``<metric>_score(...)`` on codes ``(n, L)`` and factors
``(n, K)`` (held-out arrays end in ``_test``; options are keyword-only), and a
:class:`~benchmark.spec.MetricSpec` that tells the runner how to read it.  Each
lives in its own private module (``_mig.py``, ...) and is re-exported here;
:data:`SPECS` lists the specs in the order the runner shows them.  The sampling
helpers (:func:`sample_codes`, :func:`train_test_codes`, :func:`sample_batches`) are here for metric
authors: they draw through ``rep.space``, so a metric written with them also
works on a user's partial table of encodings.

>>> from metrics_baseline import mig
>>> from benchmark import FactorSpace, ideal
>>> round(mig(ideal(FactorSpace.synthetic([4, 5])), 0, num_samples=2000)["mig"], 2)
0.99
"""
from . import _beta_vae, _dci, _factor_vae, _mig, _modularity, _sap
from ._beta_vae import beta_vae, beta_vae_score
from ._beta_vae import features as beta_vae_features
from ._dci import completeness, dci, dci_fast, dci_score, disentanglement, importance_matrix
from ._factor_vae import factor_vae, factor_vae_score
from ._mig import mig, mig_score
from ._modularity import modularity, modularity_score
from ._sampling import encode_batches, sample_batches, sample_codes, train_test_codes
from ._sap import sap, sap_score

#: The specs of every baseline metric: the protocol's default set first
#: (mig, beta_vae, factor_vae, dci_fast), then the slower ones ``--metrics all`` adds.
SPECS = (_mig.SPEC, _beta_vae.SPEC, _factor_vae.SPEC, _dci.FAST_SPEC, _dci.SPEC, _sap.SPEC,
         _modularity.SPEC)

__all__ = ["SPECS", "beta_vae", "beta_vae_features", "beta_vae_score", "completeness", "dci",
           "dci_fast", "dci_score", "disentanglement", "encode_batches", "factor_vae",
           "factor_vae_score", "importance_matrix", "mig", "mig_score", "modularity",
           "modularity_score", "sample_batches", "sample_codes", "sap", "sap_score",
           "train_test_codes"]
