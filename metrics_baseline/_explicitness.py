"""Explicitness (Ridgeway & Mozer, 2018), the 2022 review's definition.

Carbonneau, Zaidi, Boilard & Gagnon's review (ubisoft/ubisoft-laforge-
disentanglement-metrics, ``src/metrics/explicitness.py``, ``impl=1``,
``scale=True``, the kwargs of ``src/experiments/config.py``): per factor, a
one-vs-rest logistic regression (scikit-learn's defaults, ``class_weight=
"balanced"``) predicts the factor's class from all codes, scaled to ``[0, 1]``
column by column; each class's ROC AUC is taken on the normalised one-vs-rest
probabilities (with two classes, on the one binary model's probability), and
the factor's score is the mean AUC over its classes.  Explicitness is the mean
over factors, rescaled from ``[0.5, 1]`` to ``[0, 1]`` (``2 * (AUC - 0.5)``):
1 when every class is linearly separable from the others, about 0 when the
codes carry nothing about the factors.

The fit and the AUCs use the same rows (in-sample), as the reference does.
A linear boundary cannot cut a middle class off from the classes on both
sides of it; the normalised probabilities still rank it well when the factor
has few classes, but a perfect representation of a factor with many values
scores below 1 (about 0.85 for 40 values), and lower with few rows, against
which the fixed L2 penalty (``C=1``) weighs more.

Classes: the reference's experiments treat factors as continuous, min-max scale
them to ``[0, 1]`` and bin them into ``nb_bins=10`` equal-width bins
(``num_bins=10`` here; the top value falls in the last bin).  The protocol's
factors are already discrete value indices, so the representation-level
function takes them as the classes by default (``num_bins=None``, the
reference's ``continuous_factors=False``); with ``num_bins`` it scales index
``i`` to ``i / (size - 1)`` by ``rep.space.sizes`` before binning.

Where this implementation departs from the reference: a factor that takes a
single value in the sample has no ROC curve (the reference raises); it is
left out of the mean.  Codes are presented to the regressions in an order
fixed by their ranks, so permuting the latents changes nothing, not even the
last digits of the solver's result.
"""
from __future__ import annotations

import warnings

import numpy as np
from scipy.stats import rankdata
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression

from benchmark.spec import MetricSpec
from benchmark.validation import BenchmarkError, check_codes_factors, check_positive_int, check_rng

from ._binning import review_bins, unit_scale
from ._dci import _canonical_order
from ._dci_regression import _check_sizes
from ._parallel import fit_in_threads
from ._sampling import sample_codes

__all__ = ["SPEC", "explicitness", "explicitness_score", "roc_auc"]


def roc_auc(labels, scores) -> np.ndarray:
    """ROC AUC of each column of ``scores`` for the boolean ``labels`` of the same shape.

    The Mann-Whitney statistic with mid-ranks for ties (the trapezoidal area
    scikit-learn's ``roc_auc_score`` computes).

    Examples
    --------
    >>> import numpy as np
    >>> roc_auc(np.array([[False], [True], [True]]), np.array([[0.1], [0.5], [0.5]])).tolist()
    [1.0]
    >>> roc_auc(np.array([[False], [True]]), np.array([[0.3], [0.3]])).tolist()
    [0.5]
    """
    labels = np.asarray(labels, dtype=bool)
    ranks = rankdata(np.asarray(scores, dtype=float), axis=0)
    positives = labels.sum(axis=0)
    negatives = labels.shape[0] - positives
    return (np.sum(ranks * labels, axis=0) - positives * (positives + 1) / 2) / (positives * negatives)


def _factor_auc(x, y) -> float:
    """Mean one-vs-rest ROC AUC of a logistic regression of the classes ``y`` on ``x``."""
    classes = np.unique(y)
    if classes.size == 2:
        # The reference fits one binary model; both classes' AUCs equal that of its probability.
        model = LogisticRegression(class_weight="balanced").fit(x, y == classes[1])
        return float(roc_auc((y == classes[1])[:, None], model.predict_proba(x)[:, 1:])[0])
    labels = y[:, None] == classes[None, :]
    proba = np.stack([LogisticRegression(class_weight="balanced").fit(x, labels[:, c])
                      .predict_proba(x)[:, 1] for c in range(classes.size)], axis=1)
    proba /= proba.sum(axis=1, keepdims=True)
    return float(np.mean(roc_auc(labels, proba)))


def explicitness_score(codes, factors, *, num_bins: int | None = None, factor_sizes=None,
                       scale: bool = True, n_jobs: int | None = -1) -> dict:
    """Explicitness of given codes and factors.

    Parameters
    ----------
    codes : ndarray of shape (n, L)
    factors : ndarray of shape (n, K), integer
    num_bins : int or None, default None
        None: each factor value is a class.  An int: the reference's
        ``nb_bins`` (10 in its experiments), see :func:`~metrics_baseline._binning.review_bins`.
    factor_sizes : sequence of int, optional
        Values per factor, used to scale factors before binning (default:
        min-max of each column, as the reference).
    scale : bool, default True
        Rescale the mean AUC from ``[0.5, 1]`` to ``[0, 1]``.
    n_jobs : int or None, default -1
        Threads fitting the factors (the result does not depend on it).

    Returns
    -------
    dict
        ``explicitness`` (mean over factors) and ``explicitness_<k>`` for each
        factor index ``k`` that takes at least two values.

    Examples
    --------
    >>> import numpy as np
    >>> y = np.stack([np.arange(60) % 3, np.arange(60) // 20], axis=1)
    >>> explicitness_score(y + 0.0, y)["explicitness"]
    1.0
    """
    codes, factors = check_codes_factors(codes, factors)
    sizes = _check_sizes(factor_sizes, factors)
    if not isinstance(scale, (bool, np.bool_)):
        raise BenchmarkError(f"scale must be True or False, got {scale!r}")
    classes = factors if num_bins is None else review_bins(factors, num_bins, sizes)
    kept = [k for k in range(classes.shape[1]) if np.unique(classes[:, k]).size > 1]
    if not kept:
        raise BenchmarkError("every factor takes a single value: explicitness is undefined")
    x = unit_scale(codes)
    x = x[:, _canonical_order(x)]
    with warnings.catch_warnings():
        # The solver's iteration limit is part of the reference's definition.
        warnings.simplefilter("ignore", ConvergenceWarning)
        aucs = np.array(fit_in_threads(lambda k: _factor_auc(x, classes[:, k]), kept, n_jobs=n_jobs))
    per_factor = 2.0 * (aucs - 0.5) if scale else aucs
    out = {"explicitness": float(np.mean(per_factor))}
    out.update({f"explicitness_{k}": float(v) for k, v in zip(kept, per_factor)})
    return out


def explicitness(rep, rng, *, num_samples: int = 10000, num_bins: int | None = None,
                 n_jobs: int | None = -1) -> dict:
    """Explicitness of ``rep`` on ``num_samples`` codes of factors drawn by ``rep.space``.

    Parameters
    ----------
    rep : Representation
    rng : int or numpy.random.Generator
        Draws the factors (and the codes' noise).
    num_samples : int, default 10000
        Rows the regressions are fitted and scored on.
    num_bins : int or None, default None
        None: each factor value is a class; an int: the reference's binning
        after scaling index ``i`` to ``i / (size - 1)``.
    n_jobs : int or None, default -1

    Returns
    -------
    dict
        ``{"explicitness": ...}`` (see :func:`explicitness_score`).

    Examples
    --------
    >>> from benchmark import FactorSpace, ideal
    >>> round(explicitness(ideal(FactorSpace.synthetic([3, 4])), 0, num_samples=500)
    ...       ["explicitness"], 2)
    1.0
    """
    rng = check_rng(rng)
    num_samples = check_positive_int(num_samples, "num_samples", 2)
    codes, factors = sample_codes(rep, num_samples, rng)
    out = explicitness_score(codes, factors, num_bins=num_bins,
                             factor_sizes=None if num_bins is None else tuple(rep.space.sizes),
                             n_jobs=n_jobs)
    return {"explicitness": out["explicitness"]}


SPEC = MetricSpec("explicitness", explicitness, headline="explicitness", family="predictor",
                  display_name="Explicitness", target="explicitness",
                  quick={"num_samples": 2000},
                  cost=(0.81, 0.31))
