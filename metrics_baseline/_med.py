"""MED and Top-k MED (Cao, Li, Zhang, Li & Song, "An Empirical Study on Disentanglement of
Negative-free Contrastive Learning", NeurIPS 2022).

The reference is ``compute_med`` / ``_compute_med`` in noahcao/disentanglement_lib_med,
``disentanglement_lib/evaluation/metrics/med.py``, with its ``med.gin`` (codes in 20
equal-width bins, ``topk=1``, 10,000 training and 10,000 test points).  MED is DCI
with mutual information in place of the trees' importances:

* importance ``R[l, k] = I(binned z_l; y_k)`` (plug-in, nats), each factor's column
  divided by its sum;
* disentanglement and completeness are DCI's entropy scores of ``R``
  (:func:`~metrics_baseline._dci.disentanglement`, :func:`~metrics_baseline._dci.completeness`);
* informativeness is the accuracy of a scikit-learn ``LogisticRegression`` (default
  settings) predicting each factor from all standardised codes, on the training and on
  the test points, averaged over factors.

Top-k MED is meant for wide representations, where many latents carry nothing: each
code is credited to its most informative factor, and per factor only the ``k`` codes
with the highest per-code disentanglement among those credited to it are kept (rows of
``R`` are not renormalised); D and C of those rows are the ``top_*`` scores.

Deliberate differences, all where the reference returns NaN or raises: a factor about
which no code carries information makes it divide 0 by 0; its column is 0 here, as DCI
treats an importance-free factor.  With one factor (one latent) its entropies in base 1
are undefined; D (C) is 1 here, as in DCI.  A factor that takes one value in the
training points makes its logistic regression raise; here it is predicted as that
value.
"""
from __future__ import annotations

import warnings

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression

from benchmark.information import discrete_mutual_info, discretize
from benchmark.spec import MetricSpec
from benchmark.validation import BenchmarkError, check_codes_factors, check_positive_int, check_rng

from ._dci import completeness, disentanglement, disentanglement_per_code
from ._parallel import fit_in_threads
from ._sampling import sample_codes, train_test_codes

__all__ = ["SPEC", "TOPK_SPEC", "med", "med_importance", "med_score", "top_k_codes"]


def med_importance(codes, factors, *, num_bins: int = 20) -> np.ndarray:
    """``(L, K)`` informations of the binned codes with the factors, each column summing to 1."""
    codes, factors = check_codes_factors(codes, factors)
    mi = discrete_mutual_info(discretize(codes, check_positive_int(num_bins, "num_bins")), factors)
    totals = mi.sum(axis=0)
    return np.divide(mi, totals, out=np.zeros_like(mi), where=totals > 0)


def top_k_codes(importance, k: int) -> np.ndarray:
    """Sorted row indices of Top-k MED: per factor, the ``k`` codes of highest per-code
    disentanglement among the codes whose largest importance is that factor."""
    importance = np.asarray(importance, dtype=float)
    k = check_positive_int(k, "k")
    per_code = disentanglement_per_code(importance)
    owner = np.argmax(importance, axis=1)
    # Codes by owner, then by falling D, ties in row order (as the reference's walk of
    # argsort(-D) meets them); a code's rank among its owner's is its position past the
    # owner's first.
    order = np.lexsort((np.arange(owner.size), -per_code, owner))
    rank = np.empty(owner.size, dtype=np.int64)
    rank[order] = np.arange(owner.size) - np.searchsorted(owner[order], owner[order])
    return np.flatnonzero(rank < k)


def _accuracy(x_train, y_train, x_test, y_test) -> tuple[float, float]:
    classes = np.unique(y_train)
    if classes.size < 2:
        return float(np.mean(y_train == classes[0])), float(np.mean(y_test == classes[0]))
    with warnings.catch_warnings():
        # The reference keeps scikit-learn's 100 lbfgs iterations; so do we, quietly.
        warnings.simplefilter("ignore", ConvergenceWarning)
        model = LogisticRegression().fit(x_train, y_train)
    return (float(np.mean(model.predict(x_train) == y_train)),
            float(np.mean(model.predict(x_test) == y_test)))


def _standardised(train: np.ndarray, test: np.ndarray):
    mean, std = train.mean(axis=0), train.std(axis=0)
    std = np.where(std > 0, std, 1.0)  # as scikit-learn's StandardScaler does
    return (train - mean) / std, (test - mean) / std


def med_score(codes, factors, codes_test=None, factors_test=None, *, num_bins: int = 20,
              topk: int = 1, informativeness: bool = True, n_jobs: int | None = -1) -> dict:
    """MED, Top-k MED and the logistic informativeness of given codes and factors.

    Parameters
    ----------
    codes : ndarray of shape (n, L)
    factors : ndarray of shape (n, K), integer
        Factor values, used as labels.
    codes_test, factors_test : ndarray, optional
        Held-out points for the informativeness (required when it is computed).
    num_bins : int, default 20
        Equal-width bins per code.
    topk : int, default 1
        Codes kept per factor by Top-k MED.
    informativeness : bool, default True
        Fit the ``K`` logistic regressions (the costly part).
    n_jobs : int or None, default -1
        Threads for those fits; results do not depend on it.

    Returns
    -------
    dict
        ``disentanglement`` (the headline), ``completeness``, ``top_disentanglement``,
        ``top_completeness`` and, with ``informativeness``, ``informativeness_train`` and
        ``informativeness_test``.

    Examples
    --------
    >>> import numpy as np
    >>> y = np.stack([np.arange(400) % 4, np.arange(400) // 100], axis=1)
    >>> out = med_score(y[:, ::-1].astype(float), y, informativeness=False)
    >>> round(out["disentanglement"], 6), round(out["top_completeness"], 6)
    (1.0, 1.0)
    """
    importance = med_importance(codes, factors, num_bins=num_bins)
    top = importance[top_k_codes(importance, topk)]
    out = {"disentanglement": disentanglement(importance), "completeness": completeness(importance),
           "top_disentanglement": disentanglement(top), "top_completeness": completeness(top)}
    if informativeness:
        if codes_test is None or factors_test is None:
            raise BenchmarkError("codes_test and factors_test are required for the informativeness "
                                 "(or pass informativeness=False)")
        codes, factors = check_codes_factors(codes, factors)
        codes_test, factors_test = check_codes_factors(codes_test, factors_test)
        if codes_test.shape[1] != codes.shape[1] or factors_test.shape[1] != factors.shape[1]:
            raise BenchmarkError(f"test arrays have {codes_test.shape[1]} codes / "
                                 f"{factors_test.shape[1]} factors, training arrays "
                                 f"{codes.shape[1]} / {factors.shape[1]}")
        x_train, x_test = _standardised(codes, codes_test)
        scores = np.array(fit_in_threads(
            lambda k: _accuracy(x_train, factors[:, k], x_test, factors_test[:, k]),
            range(factors.shape[1]), n_jobs))
        out["informativeness_train"], out["informativeness_test"] = map(float, scores.mean(axis=0))
    return out


def med(rep, rng, *, num_train: int = 10000, num_test: int = 10000, num_bins: int = 20,
        topk: int = 1, informativeness: bool = True) -> dict:
    """MED of ``rep`` on training and test codes drawn by ``rep.space``.

    Parameters
    ----------
    rep : Representation
    rng : int or numpy.random.Generator
    num_train, num_test : int, default 10000
        The authors' ``med.gin`` sizes.
    num_bins, topk, informativeness
        As in :func:`med_score`.

    Examples
    --------
    >>> from benchmark import FactorSpace, ideal
    >>> out = med(ideal(FactorSpace.synthetic([3, 4]), noise=0), 0, num_train=500, num_test=500)
    >>> out["disentanglement"] > 0.9, out["informativeness_test"]  # D: plug-in bias on 500 draws
    (True, 1.0)
    """
    if not informativeness:  # Top-k MED alone: no held-out codes to draw
        codes, factors = sample_codes(rep, check_positive_int(num_train, "num_train", 2), check_rng(rng))
        return med_score(codes, factors, num_bins=num_bins, topk=topk, informativeness=False)
    codes, factors, codes_test, factors_test = train_test_codes(rep, rng, num_train, num_test)
    return med_score(codes, factors, codes_test, factors_test, num_bins=num_bins, topk=topk,
                     informativeness=informativeness)


SPEC = MetricSpec("med", med, headline="disentanglement", family="information",
                  display_name="MED", target="modularity",
                  quick={"num_train": 3000, "num_test": 3000})

#: Top-k MED on its own: the same function without the logistic fits it does not read.
TOPK_SPEC = MetricSpec("med_topk", med, headline="top_disentanglement", family="information",
                       display_name="Top-k MED", target="modularity",
                       params={"informativeness": False}, quick={"num_train": 3000})
