"""Modularity and explicitness (Ridgeway & Zemel, 2018), disentanglement_lib's definition.

Modularity: from the mutual-information matrix ``m`` (codes x factors) of the
training codes discretised into 20 equal-width bins, each code scores
``1 - (sum_j m_ij^2 - max_j m_ij^2) / (max_j m_ij^2 * (K - 1))`` (0 for a code
with no information about any factor); the result is the mean over codes.

Explicitness: codes are standardised with the training mean and standard
deviation; per factor a scikit-learn ``LogisticRegression`` (default settings)
predicts the factor from all codes, scored by the one-vs-rest ROC-AUC averaged
over classes (macro); the result is the mean over factors.

The modularity of the 2022 review of Carbonneau, Zaidi, Boilard & Gagnon
(ubisoft/ubisoft-laforge-disentanglement-metrics, ``src/metrics/modularity.py``)
is the same formula on informations of binned factors and codes; the options
``num_bins=10, continuous_factors=True, binning="minmax"`` of
:func:`modularity_score` reproduce it like for like (without test arrays the
explicitness is not computed).  Where the review returns NaN (a code with no
information about any factor, or a single factor) this implementation keeps
disentanglement_lib's values (0 and 1).
"""
from __future__ import annotations

import warnings

import numpy as np
from scipy.stats import rankdata
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression

from benchmark.information import discrete_mutual_info, discretize
from benchmark.spec import MetricSpec
from benchmark.validation import BenchmarkError, check_codes_factors, check_positive_int, check_rng

from ._mig import bin_codes_factors
from ._parallel import fit_in_threads
from ._sampling import train_test_codes

__all__ = ["SPEC", "explicitness_per_factor", "modularity", "modularity_from_mi",
           "modularity_score", "roc_auc_ovr"]


def modularity_from_mi(mutual_information) -> float:
    """Mean modularity over codes of a ``(codes, factors)`` mutual-information matrix."""
    mi = np.asarray(mutual_information, dtype=float)
    if mi.ndim != 2 or 0 in mi.shape or not np.all(np.isfinite(mi)):
        raise BenchmarkError(f"mutual_information must be a finite 2-D matrix, got shape {mi.shape}")
    squared = mi**2
    top = squared.max(axis=1)
    num_factors = mi.shape[1]
    per_code = np.zeros(mi.shape[0])
    informative = top > 0
    if num_factors == 1:
        per_code[informative] = 1.0  # a code can only carry the one factor there is
    else:
        rest = squared.sum(axis=1) - top
        per_code[informative] = 1.0 - rest[informative] / (top[informative] * (num_factors - 1))
    return float(np.mean(per_code))


def roc_auc_ovr(labels, probabilities, classes) -> float:
    """Macro one-vs-rest ROC-AUC.

    Column ``c`` of ``probabilities`` scores class ``classes[c]``; classes
    absent from ``labels`` (or the only one present) have no AUC and are left
    out.  Ties count one half, as in ``sklearn.metrics.roc_auc_score``.
    """
    labels = np.asarray(labels)
    ranks = rankdata(probabilities, axis=0)
    aucs = []
    for c, cls in enumerate(classes):
        positive = labels == cls
        n_pos = int(positive.sum())
        n_neg = labels.shape[0] - n_pos
        if n_pos == 0 or n_neg == 0:
            continue
        rank_sum = ranks[positive, c].sum()
        aucs.append((rank_sum - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))
    return float(np.mean(aucs)) if aucs else 0.5


def explicitness_per_factor(x_train, y_train, x_test, y_test):
    """``(train AUC, test AUC)`` of a logistic regression predicting one factor."""
    classes = np.unique(y_train)
    if classes.size < 2:
        return 0.5, 0.5  # a constant factor: no classifier, an uninformative score
    model = LogisticRegression()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(x_train, y_train)
    return (roc_auc_ovr(y_train, model.predict_proba(x_train), model.classes_),
            roc_auc_ovr(y_test, model.predict_proba(x_test), model.classes_))


def modularity_score(codes, factors, codes_test=None, factors_test=None, *, num_bins: int = 20,
                     n_jobs: int | None = -1, continuous_factors: bool = False,
                     binning: str = "histogram") -> dict:
    """Modularity and explicitness of given codes and factors.

    The per-factor classifiers are fitted in parallel threads (``n_jobs``);
    the result does not depend on ``n_jobs``.

    Parameters
    ----------
    codes : ndarray of shape (n, L)
    factors : ndarray of shape (n, K), integer
    codes_test, factors_test : ndarray, optional
        Held-out arrays for the explicitness; without them only the modularity
        is computed.
    num_bins : int, default 20
        Equal-width bins per code of the plug-in informations.
    n_jobs : int or None, default -1
    continuous_factors : bool, default False
        Min-max scale and bin the factors into ``num_bins`` bins too, as the review does
        (see :func:`metrics_baseline._mig.bin_codes_factors`); the modularity only.
    binning : {"histogram", "minmax"}, default "histogram"
        How the codes are binned: disentanglement_lib's ``histogram`` or the review's
        ``minmax`` (:data:`metrics_baseline._mig.BINNINGS`).

    Returns
    -------
    dict
        ``modularity`` (the headline), ``explicitness`` (held-out AUC) and
        ``explicitness_train`` (the last two only with test arrays).

    Examples
    --------
    >>> import numpy as np
    >>> y = np.stack([np.arange(40) % 2, np.arange(40) // 20], axis=1)
    >>> modularity_score(y.astype(float), y, y.astype(float), y)["modularity"]
    1.0
    """
    if (codes_test is None) != (factors_test is None):
        raise BenchmarkError("codes_test and factors_test go together: give both or neither")
    if codes_test is None or continuous_factors or binning != "histogram":
        code_labels, factor_labels = bin_codes_factors(
            codes, factors, num_bins, continuous_factors=continuous_factors, binning=binning)
        out = {"modularity": modularity_from_mi(discrete_mutual_info(code_labels, factor_labels))}
        if codes_test is not None:
            # the explicitness does not depend on the binning: today's path computes it
            scores = modularity_score(codes, factors, codes_test, factors_test, num_bins=num_bins,
                                      n_jobs=n_jobs)
            out.update(explicitness=scores["explicitness"], explicitness_train=scores["explicitness_train"])
        return out
    codes_train, factors_train = check_codes_factors(codes, factors)
    codes_test, factors_test = check_codes_factors(codes_test, factors_test)
    if codes_test.shape[1] != codes_train.shape[1] or factors_test.shape[1] != factors_train.shape[1]:
        raise BenchmarkError("training and test arrays differ in their number of codes or factors")
    num_bins = check_positive_int(num_bins, "num_bins")
    mi = discrete_mutual_info(discretize(codes_train, num_bins), factors_train)
    mean = codes_train.mean(axis=0)
    std = codes_train.std(axis=0)
    std = np.where(std > 0, std, 1.0)  # a constant code stays 0 instead of becoming NaN
    x_train = (codes_train - mean) / std
    x_test = (codes_test - mean) / std
    scores = np.array(fit_in_threads(
        lambda k: explicitness_per_factor(x_train, factors_train[:, k], x_test, factors_test[:, k]),
        range(factors_train.shape[1]), n_jobs=n_jobs))
    return {
        "modularity": modularity_from_mi(mi),
        "explicitness": float(scores[:, 1].mean()),
        "explicitness_train": float(scores[:, 0].mean()),
    }


def modularity(rep, rng, *, num_train: int = 10000, num_test: int = 5000, num_bins: int = 20,
               n_jobs: int | None = -1, continuous_factors: bool = False,
               binning: str = "histogram") -> dict:
    """Modularity (the headline) and explicitness of ``rep``.

    Parameters
    ----------
    rep : Representation
    rng : int or numpy.random.Generator
    num_train, num_test : int, default 10000 and 5000
    num_bins : int, default 20
        Histogram bins of the plug-in informations.
    n_jobs : int or None, default -1
    continuous_factors : bool, default False
    binning : {"histogram", "minmax"}, default "histogram"
        See :func:`modularity_score`.

    Returns
    -------
    dict
        See :func:`modularity_score`.

    Examples
    --------
    >>> from benchmark import FactorSpace, ideal
    >>> out = modularity(ideal(FactorSpace.synthetic([3, 4])), 0, num_train=600, num_test=300)
    >>> round(out["modularity"], 2), round(out["explicitness"], 2)
    (1.0, 1.0)
    """
    rng = check_rng(rng)
    codes, factors, codes_test, factors_test = train_test_codes(rep, rng, num_train, num_test)
    return modularity_score(codes, factors, codes_test, factors_test, num_bins=num_bins,
                            n_jobs=n_jobs, continuous_factors=continuous_factors, binning=binning)


SPEC = MetricSpec("modularity", modularity, headline="modularity",
                  family="information", display_name="Modularity",
                  target="modularity",
                  quick={"num_train": 2000, "num_test": 1000},
                  cost=(0.59, 0.1))
