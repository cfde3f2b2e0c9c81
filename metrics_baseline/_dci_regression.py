"""DCI with regressors (Eastwood & Williams, 2018), the 2022 review's definition.

Carbonneau, Zaidi, Boilard & Gagnon's review scores DCI with one regressor per
factor on continuous factors (ubisoft/ubisoft-laforge-disentanglement-metrics,
``src/metrics/dci.py``, ``model='lasso'`` or ``'random_forest'``, as listed in
``src/experiments/config.py``):

* factors and codes are scaled to ``[0, 1]`` column by column;
* per factor, a regressor predicts the factor from all codes; its
  hyper-parameter is picked by 10-fold cross-validation (contiguous folds) on
  the mean squared error, then the model is refitted on every row.  Lasso: the
  ``alpha`` of :data:`LASSO_ALPHAS` (``max_iter=5000`` while cross-validating,
  scikit-learn's default 1000 for the final fit); random forest: 10 trees of
  every ``max_depth`` of :data:`FOREST_MAX_DEPTHS` and ``max_features`` of
  :data:`FOREST_MAX_FEATURES`;
* the importances are the Lasso's absolute coefficients or the forest's
  feature importances, an ``(L, K)`` matrix ``R``;
* disentanglement: per code ``1 - H_K(R[code] / sum)``, averaged with weights
  ``sum R[code] / sum R`` (:func:`metrics_baseline._dci.disentanglement`);
* completeness: per factor ``1 - H_L(R[:, factor] / sum)``, averaged
  *without* weights over the factors (the review's choice; disentanglement_lib
  weights them);
* informativeness: mean over factors of ``max(1 - 12 MSE, 0)``, the MSE of the
  refitted model on the rows it was fitted on (in-sample, as the reference:
  cross-validation only picks the hyper-parameter).  ``1/12`` is the variance
  of a uniform factor on ``[0, 1]``, so predicting the mean scores about 0.

The defaults are the reference's.  Where this implementation departs from it:

* the reference's per-code loop stops (``break``) at the first code whose
  importances are all zero, so the codes after it drop out of the weighted
  disentanglement (Lasso on codes independent of the factors: reference 0,
  formula 1).  This module implements the formula: a code with no importance
  has weight 0 and every other code counts;
* the reference's forest can return an importance of ``-1e-16``, which crashes
  its entropy (``math.log`` of a negative number); importances are clipped at 0
  here;
* the reference's forests are unseeded; here every forest of one factor is
  seeded with the same seed drawn from ``random_state``, so a result is
  reproducible and, since a forest whose trees all stopped short of
  ``max_depth`` is the same forest at any larger depth, those depths are not
  refitted (the same choice the full grid would make);
* the factor scaling of the array cores is the reference's min-max of the
  observed column; given ``factor_sizes`` (the representation-level functions
  pass ``rep.space.sizes``) a discrete factor index ``i`` becomes
  ``i / (size - 1)`` instead, the same whenever both end values are observed;
* codes are presented to the regressors in an order fixed by their ranks (as
  :func:`metrics_baseline._dci.importance_matrix` does), so permuting the latents
  changes nothing, not even the last digits of a solver's result.

A factor with a single value is predicted perfectly (informativeness 1, no
importance), as in the reference.
"""
from __future__ import annotations

import numbers
import warnings

import numpy as np
from sklearn.ensemble import RandomForestRegressor
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import Lasso
from sklearn.model_selection import KFold

from benchmark.spec import MetricSpec
from benchmark.validation import BenchmarkError, check_codes_factors, check_positive_int, check_rng

from ._binning import unit_scale
from ._dci import _canonical_order, completeness_per_factor, disentanglement
from ._parallel import fit_in_threads
from ._sampling import sample_codes, seed_from

__all__ = ["FOREST_MAX_DEPTHS", "FOREST_MAX_FEATURES", "LASSO_ALPHAS", "LASSO_SPEC", "RF_SPEC",
           "dci_lasso", "dci_lasso_score", "dci_rf", "dci_rf_score", "regression_importance"]

#: The reference's Lasso regularisers, tried in this order (the first best one wins).
LASSO_ALPHAS = (0.0001, 0.001, 0.01, 0.1, 0.2, 0.4, 0.8, 1.0)
#: The reference's forest depths and feature fractions (depth is the outer loop).
FOREST_MAX_DEPTHS = (8, 16, 32, 64, 128)
FOREST_MAX_FEATURES = (0.2, 0.4, 0.8, 1.0)




def _check_sizes(factor_sizes, factors: np.ndarray):
    if factor_sizes is None:
        return None
    sizes = np.asarray(factor_sizes)
    if sizes.shape != (factors.shape[1],) or not np.issubdtype(sizes.dtype, np.integer) \
            or np.any(sizes < 1):
        raise BenchmarkError(f"factor_sizes must hold one positive integer per factor "
                             f"({factors.shape[1]}), got {factor_sizes!r}")
    if np.any(factors < 0) or np.any(factors >= sizes):
        raise BenchmarkError("factors must lie in 0..factor_sizes - 1")
    return sizes


def _check_grid(values, argname: str, *, integer: bool = False, at_most_one: bool = False) -> tuple:
    values = tuple(np.atleast_1d(values).tolist()) if not isinstance(values, tuple) else values
    ok = len(values) > 0 and all(
        isinstance(v, numbers.Real) and not isinstance(v, bool) and np.isfinite(v) and v > 0
        and (not integer or float(v).is_integer()) and (not at_most_one or v <= 1)
        for v in values)
    if not ok:
        kind = "positive integers" if integer else "numbers in (0, 1]" if at_most_one else "positive numbers"
        raise BenchmarkError(f"{argname} must be a non-empty sequence of {kind}, got {values!r}")
    return tuple(int(v) for v in values) if integer else tuple(float(v) for v in values)


def _prepare(codes, factors, factor_sizes, cv):
    """Validated, unit-scaled codes (in canonical column order) and factors, and the folds."""
    codes, factors = check_codes_factors(codes, factors)
    sizes = _check_sizes(factor_sizes, factors)
    cv = check_positive_int(cv, "cv", 2)
    if cv > codes.shape[0]:
        raise BenchmarkError(f"cv must not exceed the number of rows ({codes.shape[0]}), got {cv}")
    x = unit_scale(codes)
    order = _canonical_order(x)
    folds = list(KFold(n_splits=cv).split(x))
    return x[:, order], unit_scale(factors, sizes), order, folds


def _informativeness(prediction: np.ndarray, target: np.ndarray) -> float:
    return max(1.0 - 12.0 * float(np.mean((prediction - target) ** 2)), 0.0)


def _lasso_factor(x, y, folds, alphas):
    best_alpha, best_mse = alphas[0], np.inf
    for alpha in alphas:
        mse = np.mean([np.mean((Lasso(alpha=alpha, max_iter=5000).fit(x[train], y[train])
                                .predict(x[test]) - y[test]) ** 2) for train, test in folds])
        if mse < best_mse:
            best_alpha, best_mse = alpha, mse
    model = Lasso(alpha=best_alpha).fit(x, y)
    return np.abs(model.coef_), _informativeness(model.predict(x), y)


def _forest(depth, features, n_estimators, seed):
    return RandomForestRegressor(n_estimators=n_estimators, max_depth=depth, max_features=features,
                                 random_state=seed)


def _forest_cv(x, y, folds, depths, features, n_estimators, seed) -> list:
    """Cross-validated MSE of each depth (ascending), for one feature fraction."""
    out = []
    for depth in depths:
        errors, deepest = [], 0
        for train, test in folds:
            model = _forest(depth, features, n_estimators, seed).fit(x[train], y[train])
            errors.append(np.mean((model.predict(x[test]) - y[test]) ** 2))
            deepest = max(deepest, max(tree.get_depth() for tree in model.estimators_))
        out.append(float(np.mean(errors)))
        if deepest < depth:
            # No node reached the limit, so every larger depth grows the same trees
            # (same seed, same bootstrap draws): their errors are this one.
            out += [out[-1]] * (len(depths) - len(out))
            break
    return out


def regression_importance(codes, factors, *, model: str = "lasso", factor_sizes=None, cv: int = 10,
                          alphas=LASSO_ALPHAS, max_depths=FOREST_MAX_DEPTHS,
                          max_features=FOREST_MAX_FEATURES, n_estimators: int = 10,
                          random_state: int = 0, n_jobs: int | None = -1):
    """The review's importance matrix ``(L, K)`` and per-factor informativeness ``(K,)``.

    ``model`` is ``"lasso"`` or ``"random_forest"``; see :func:`dci_lasso_score`
    and :func:`dci_rf_score` for the other parameters.
    """
    if model not in ("lasso", "random_forest"):
        raise BenchmarkError(f"model must be 'lasso' or 'random_forest', got {model!r}")
    x, y, order, folds = _prepare(codes, factors, factor_sizes, cv)
    num_factors = y.shape[1]
    with warnings.catch_warnings():
        # The iteration limits are part of the reference's definition.
        warnings.simplefilter("ignore", ConvergenceWarning)
        if model == "lasso":
            alphas = _check_grid(alphas, "alphas")
            results = fit_in_threads(lambda k: _lasso_factor(x, y[:, k], folds, alphas),
                                     range(num_factors), n_jobs=n_jobs)
        else:
            depths = sorted(_check_grid(max_depths, "max_depths", integer=True))
            features = _check_grid(max_features, "max_features", at_most_one=True)
            n_estimators = check_positive_int(n_estimators, "n_estimators")
            seeds = np.random.default_rng(random_state).integers(2**31, size=num_factors)
            tasks = [(k, f) for k in range(num_factors) for f in features]
            errors = fit_in_threads(
                lambda task: _forest_cv(x, y[:, task[0]], folds, depths, task[1], n_estimators,
                                        int(seeds[task[0]])), tasks, n_jobs=n_jobs)
            grid = np.asarray(errors).reshape(num_factors, len(features), len(depths))

            def final(k):
                # Depth is the reference's outer loop: on ties the smallest depth, then the
                # smallest feature fraction, wins.
                best = np.argmin(grid[k].T.ravel())
                depth, feature = depths[best // len(features)], features[best % len(features)]
                fitted = _forest(depth, feature, n_estimators, int(seeds[k])).fit(x, y[:, k])
                return np.clip(fitted.feature_importances_, 0.0, None), \
                    _informativeness(fitted.predict(x), y[:, k])

            results = fit_in_threads(final, range(num_factors), n_jobs=n_jobs)
    importance = np.empty((x.shape[1], num_factors))
    importance[order] = np.stack([r[0] for r in results], axis=1)
    return importance, np.array([r[1] for r in results])


def _scores(importance, informativeness) -> dict:
    return {"disentanglement": disentanglement(importance),
            "completeness": float(np.mean(completeness_per_factor(importance))),
            "informativeness": float(np.mean(informativeness))}


def dci_lasso_score(codes, factors, *, factor_sizes=None, cv: int = 10, alphas=LASSO_ALPHAS,
                    n_jobs: int | None = -1) -> dict:
    """DCI of given codes and factors with one Lasso per factor (deterministic).

    Parameters
    ----------
    codes : ndarray of shape (n, L)
    factors : ndarray of shape (n, K), integer
    factor_sizes : sequence of int, optional
        Values per factor: scale index ``i`` to ``i / (size - 1)``; by default
        each factor column is min-max scaled, as the reference does.
    cv : int, default 10
        Contiguous cross-validation folds choosing ``alpha``.
    alphas : sequence of float, default :data:`LASSO_ALPHAS`
    n_jobs : int or None, default -1
        Threads fitting the factors (the result does not depend on it).

    Returns
    -------
    dict
        ``disentanglement`` (the headline), ``completeness``, ``informativeness``.

    Examples
    --------
    >>> import numpy as np
    >>> y = np.stack([np.arange(60) % 3, np.arange(60) // 20], axis=1)
    >>> out = dci_lasso_score(y + 0.0, y)
    >>> round(out["disentanglement"], 6), round(out["completeness"], 6)
    (1.0, 1.0)
    """
    return _scores(*regression_importance(codes, factors, model="lasso", factor_sizes=factor_sizes,
                                          cv=cv, alphas=alphas, n_jobs=n_jobs))


def dci_rf_score(codes, factors, *, factor_sizes=None, cv: int = 10,
                 max_depths=FOREST_MAX_DEPTHS, max_features=FOREST_MAX_FEATURES,
                 n_estimators: int = 10, random_state: int = 0, n_jobs: int | None = -1) -> dict:
    """DCI of given codes and factors with one random-forest regressor per factor.

    Parameters
    ----------
    codes, factors, factor_sizes, cv, n_jobs
        As in :func:`dci_lasso_score`.
    max_depths : sequence of int, default :data:`FOREST_MAX_DEPTHS`
    max_features : sequence of float, default :data:`FOREST_MAX_FEATURES`
        The grid searched by cross-validation.
    n_estimators : int, default 10
        Trees per forest.
    random_state : int, default 0
        Seeds the forests (one seed per factor).

    Returns
    -------
    dict
        ``disentanglement`` (the headline), ``completeness``, ``informativeness``.

    Examples
    --------
    >>> import numpy as np
    >>> y = np.stack([np.arange(60) % 3, np.arange(60) // 20], axis=1)
    >>> out = dci_rf_score(y + 0.0, y, max_depths=[4], max_features=[1.0])
    >>> round(out["disentanglement"], 6), out["informativeness"]
    (1.0, 1.0)
    """
    return _scores(*regression_importance(
        codes, factors, model="random_forest", factor_sizes=factor_sizes, cv=cv,
        max_depths=max_depths, max_features=max_features, n_estimators=n_estimators,
        random_state=random_state, n_jobs=n_jobs))


def _sampled(rep, rng, num_samples):
    rng = check_rng(rng)
    num_samples = check_positive_int(num_samples, "num_samples", 10)
    codes, factors = sample_codes(rep, num_samples, rng)
    return rng, codes, factors, tuple(rep.space.sizes)


def dci_lasso(rep, rng, *, num_samples: int = 10000, n_jobs: int | None = -1) -> dict:
    """The review's DCI with Lasso regressors, on ``num_samples`` codes of ``rep``.

    Parameters
    ----------
    rep : Representation
    rng : int or numpy.random.Generator
        Draws the factors (and the codes' noise).
    num_samples : int, default 10000
        Rows the Lasso is cross-validated, fitted and scored on (at least 10,
        one per fold).
    n_jobs : int or None, default -1

    Returns
    -------
    dict
        See :func:`dci_lasso_score`; factor indices are scaled by
        ``rep.space.sizes``.

    Examples
    --------
    >>> from benchmark import FactorSpace, ideal
    >>> out = dci_lasso(ideal(FactorSpace.synthetic([3, 4])), 0, num_samples=500)
    >>> round(out["disentanglement"], 2), round(out["informativeness"], 2)
    (0.99, 0.98)
    """
    _, codes, factors, sizes = _sampled(rep, rng, num_samples)
    return dci_lasso_score(codes, factors, factor_sizes=sizes, n_jobs=n_jobs)


def dci_rf(rep, rng, *, num_samples: int = 10000, n_jobs: int | None = -1) -> dict:
    """The review's DCI with random-forest regressors, on ``num_samples`` codes of ``rep``.

    Takes the parameters of :func:`dci_lasso`; ``rng`` also seeds the forests.
    Slow: 20 forests cross-validated 10 times per factor (depths that no tree
    reaches are skipped).

    Examples
    --------
    >>> from benchmark import FactorSpace, ideal
    >>> out = dci_rf(ideal(FactorSpace.synthetic([2, 3])), 0, num_samples=100)
    >>> round(out["disentanglement"], 2), round(out["completeness"], 2)
    (1.0, 1.0)
    """
    rng, codes, factors, sizes = _sampled(rep, rng, num_samples)
    return dci_rf_score(codes, factors, factor_sizes=sizes, random_state=seed_from(rng),
                        n_jobs=n_jobs)


LASSO_SPEC = MetricSpec("dci_lasso", dci_lasso, headline="disentanglement", family="predictor",
                        display_name="DCI (Lasso)", target="modularity",
                        quick={"num_samples": 2000},
                        cost=(0.24, 0.17))
RF_SPEC = MetricSpec("dci_rf", dci_rf, headline="disentanglement", family="predictor",
                     display_name="DCI (random forest)", target="modularity",
                     quick={"num_samples": 1000},
                     cost=(62, 12))
