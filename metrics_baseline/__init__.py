"""Disentanglement metrics of the literature, one private module each.

Every metric is a plain function ``metric(rep, rng, **options) -> dict`` with an
array-level core ``<metric>_score(...)`` on codes ``(n, L)`` and factors
``(n, K)`` (held-out arrays end in ``_test``; options are keyword-only), and a
:class:`~benchmark.spec.MetricSpec` that tells the runner how to read it, with
its family and the property it targets.  Each lives in its own private module
(``_mig.py``, ...) and is re-exported here; :data:`SPECS` lists the specs in the
order the runner shows them.  A named variant of a metric (the review's Z-diff
is BetaVAE with the review's sizes) is one more spec of the same function.

Families (Carbonneau et al. 2022):

* intervention: BetaVAE (Z-diff), FactorVAE (Z-min variance), Z-max variance, IRS, OMES,
  axis alignment and linearity along traversals;
* predictor: DCI (gradient boosting, random forests, Lasso), SAP, explicitness, DCI-ES, MCC,
  SNC / NK, the out-of-distribution read-out;
* information: MIG, MIG-sup, JEMMIG, DCIMIG, modularity, InfoMEC, minimality/sufficiency,
  MED and Top-k MED, EDI;
* unsupervised (no factors): disentanglement_lib's Gaussian total and Wasserstein
  correlations and mutual-information score.

The sampling helpers (:func:`sample_codes`, :func:`train_test_codes`,
:func:`sample_batches`) are here for metric authors: they draw through
``rep.space``, so a metric written with them also works on a user's partial
table of encodings.

>>> from metrics_baseline import mig
>>> from benchmark import FactorSpace, ideal
>>> round(mig(ideal(FactorSpace.synthetic([4, 5])), 0, num_samples=2000)["mig"], 2)
0.99
"""
from . import (
    _beta_vae,
    _dci,
    _dci_es,
    _dci_regression,
    _dcimig,
    _edi,
    _explicitness,
    _factor_vae,
    _infomec,
    _irs,
    _jemmig,
    _linearity,
    _mcc,
    _med,
    _mig,
    _mig_sup,
    _min_suf,
    _modularity,
    _omes,
    _ood,
    _sap,
    _snc_nk,
    _unsupervised,
    _z_max_var,
)
from ._beta_vae import beta_vae, beta_vae_rows_score, beta_vae_score
from ._beta_vae import features as beta_vae_features
from ._dci import completeness, dci, dci_fast, dci_score, disentanglement, importance_matrix
from ._dci_es import dci_es, dci_es_score
from ._dci_regression import dci_lasso, dci_lasso_score, dci_rf, dci_rf_score
from ._dcimig import dcimig, dcimig_score
from ._edi import edi, edi_score
from ._explicitness import explicitness, explicitness_score
from ._factor_vae import factor_vae, factor_vae_rows_score, factor_vae_score
from ._infomec import infomec, infomec_score
from ._irs import irs, irs_score
from ._jemmig import jemmig, jemmig_score
from ._linearity import linearity, linearity_score
from ._mcc import mcc, mcc_score
from ._med import med, med_score
from ._mig import mig, mig_score
from ._mig_sup import mig_sup, mig_sup_score
from ._min_suf import min_suf, min_suf_score
from ._modularity import modularity, modularity_score
from ._omes import omes, omes_score
from ._ood import ood_readout, ood_readout_score
from ._sampling import encode_batches, sample_batches, sample_codes, train_test_codes
from ._sap import sap, sap_score
from ._snc_nk import snc_nk, snc_nk_score
from ._unsupervised import unsupervised, unsupervised_score
from ._z_max_var import z_max_var, z_max_var_score

#: The specs of every metric here: the protocol's default set first (mig, beta_vae,
#: factor_vae, dci_fast), then the others ``--metrics all`` adds, family by family.
SPECS = (
    _mig.SPEC, _beta_vae.SPEC, _factor_vae.SPEC, _dci.FAST_SPEC,
    # intervention
    _beta_vae.REVIEW_SPEC, _factor_vae.REVIEW_SPEC, _z_max_var.SPEC, _irs.SPEC, _omes.SPEC,
    _linearity.SPEC,
    # predictor
    _dci.SPEC, _dci_regression.LASSO_SPEC, _dci_regression.RF_SPEC, _sap.SPEC, _explicitness.SPEC,
    _dci_es.SPEC, _mcc.SPEC, _snc_nk.SPEC, _ood.SPEC,
    # information
    _mig_sup.SPEC, _jemmig.SPEC, _dcimig.SPEC, _modularity.SPEC, _infomec.SPEC, _min_suf.SPEC,
    _med.SPEC, _med.TOPK_SPEC, _edi.SPEC,
    # unsupervised
    _unsupervised.SPEC,
)

__all__ = ["SPECS", "beta_vae", "beta_vae_features", "beta_vae_rows_score", "beta_vae_score",
           "completeness", "dci", "dci_es", "dci_es_score", "dci_fast", "dci_lasso",
           "dci_lasso_score", "dci_rf", "dci_rf_score", "dci_score", "dcimig", "dcimig_score",
           "disentanglement", "edi", "edi_score", "encode_batches", "explicitness",
           "explicitness_score", "factor_vae", "factor_vae_rows_score", "factor_vae_score",
           "importance_matrix", "infomec", "infomec_score", "irs", "irs_score", "jemmig",
           "jemmig_score", "linearity", "linearity_score", "mcc", "mcc_score", "med", "med_score",
           "mig", "mig_score", "mig_sup", "mig_sup_score", "min_suf", "min_suf_score",
           "modularity", "modularity_score", "omes", "omes_score", "ood_readout",
           "ood_readout_score", "sample_batches", "sample_codes", "sap", "sap_score", "snc_nk",
           "snc_nk_score", "train_test_codes", "unsupervised", "unsupervised_score", "z_max_var",
           "z_max_var_score"]
