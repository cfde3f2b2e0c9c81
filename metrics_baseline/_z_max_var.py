"""Z-max variance (Kim, Wang, Sahu & Pavlovic, 2019), the review's definition.

The metric of the Relevance Factor VAE paper as implemented by the review of
Carbonneau, Zaidi, Boilard & Gagnon (2022), ubisoft/ubisoft-laforge-disentanglement-metrics,
``src/metrics/z_max_var.py``; the sizes are the review's experiment kwargs
(``src/experiments/config.py``): batches of 200, 800 training and 800 evaluation
votes, 10,000 codes for the global variances, ``std_threshold=0.02``, ``scale=True``.
The review also bins every factor into 10 bins (``continuous_factors=True,
nb_bins=10``), so its batches hold a *bin* of the other factors fixed; here the
protocol holds their exact values fixed (the factors are discrete grids), which
agrees for factors of at most 10 values and gives purer batches above that (the
array core takes ``continuous_factors=True, num_bins=10`` for the review's way).

FactorVAE's majority vote turned around: in each batch ONE factor varies and
all the others are held fixed, and the batch votes for the active dimension of
*largest* ``local variance / global variance`` (``ddof=1``; dimensions whose
global standard deviation is below ``std_threshold`` do not vote).  Each
dimension is assigned the factor it received most training votes for; the
score is the fraction of evaluation votes it gets right, rescaled by
``(a - 1/K) / (1 - 1/K)`` (chance 0, perfect 1) when ``scale``.

Where this implementation differs from the review, deliberately:

* the review computes the metric on a fixed table: a batch is made of rows whose
  other (binned) factors match a combination drawn uniformly among those at least
  two rows have (with Python's unseeded ``random``).  :func:`z_max_var_score`
  does the same from given arrays, seeded; :func:`z_max_var` draws batches of a
  representation through ``rep.space`` (the first row free, the others sharing
  its other factors);
* the review votes with the index of the winner among the *active* dimensions;
  here the vote goes to the dimension itself (the accuracy is the same).
"""
from __future__ import annotations

import numpy as np

from benchmark.spec import MetricSpec
from benchmark.validation import check_codes_factors, check_positive_int, check_rng

from ._binning import review_bins
from ._factor_vae import _check_threshold, global_variances, vote_accuracy
from ._sampling import encode_batches, row_varying_batches, sample_codes, sample_varying_batches

__all__ = ["SPEC", "generate", "z_max_var", "z_max_var_score"]


def z_max_var_score(codes, factors, rng, *, batch_size: int = 200, num_train: int = 800,
                    num_test: int = 800, num_variance_estimate: int = 10000,
                    std_threshold: float = 0.02, continuous_factors: bool = False,
                    num_bins: int = 10, scale: bool = True) -> dict:
    """Z-max variance of a fixed table of codes and factors, batches drawn from its rows.

    Parameters
    ----------
    codes : ndarray of shape (n, L)
    factors : ndarray of shape (n, K), integer
    rng : int or numpy.random.Generator
    batch_size : int, default 200
    num_train, num_test : int, default 800 and 800
        Training and evaluation votes (one batch each).  A vote's batch is made of
        rows sharing the values of all factors but the voted one
        (:func:`~metrics_baseline._sampling.row_varying_batches`).
    num_variance_estimate : int, default 10000
        Rows (drawn without replacement; all of them when there are no more) for the
        global variances.
    std_threshold : float, default 0.02
        Dimensions whose global standard deviation is below this do not vote.
    continuous_factors : bool, default False
        Treat the factors as continuous, as the review does: min-max scale each one to
        ``[0, 1]`` and bin it into ``num_bins`` equal-width bins
        (:func:`~metrics_baseline._binning.review_bins`) before grouping rows.  With
        many factors of many values, few rows share all the other factors' values:
        binning coarsely is what makes batches possible on a table.
    num_bins : int, default 10
    scale : bool, default True
        Rescale the accuracies so that chance is 0 and a perfect vote 1.

    Returns
    -------
    dict
        ``train_accuracy``, ``eval_accuracy`` (the headline) and ``num_active_dims``.

    Examples
    --------
    >>> import numpy as np
    >>> factors = np.random.default_rng(0).integers(0, 3, size=(600, 2))
    >>> codes = factors + 0.05 * np.random.default_rng(1).standard_normal((600, 2))
    >>> z_max_var_score(codes, factors, 0, batch_size=20, num_train=100, num_test=100)["eval_accuracy"]
    1.0
    """
    codes, factors = check_codes_factors(codes, factors)
    rng = check_rng(rng)
    batch_size = check_positive_int(batch_size, "batch_size", 2)
    num_train = check_positive_int(num_train, "num_train")
    num_test = check_positive_int(num_test, "num_test")
    num_variance_estimate = check_positive_int(num_variance_estimate, "num_variance_estimate", 2)
    std_threshold = _check_threshold(std_threshold, "std_threshold")
    if continuous_factors:
        factors = review_bins(factors, num_bins)
    n, num_factors = factors.shape
    if num_variance_estimate >= n:
        variance_codes = codes
    else:
        variance_codes = codes[rng.choice(n, size=num_variance_estimate, replace=False)]
    labels = rng.integers(0, num_factors, size=num_train)
    rows = row_varying_batches(factors, labels, batch_size, rng)
    labels_test = rng.integers(0, num_factors, size=num_test)
    rows_test = row_varying_batches(factors, labels_test, batch_size, rng)
    return vote_accuracy(variance_codes, codes[rows], labels, codes[rows_test], labels_test,
                         num_factors=num_factors, prune_threshold=std_threshold, scale=bool(scale),
                         largest=True)


def generate(rep, num_points: int, batch_size: int, rng: np.random.Generator):
    """``num_points`` batches of codes of ``rep`` in which one factor varies, and the labels
    (the varying factor of each batch)."""
    labels = rng.integers(0, rep.space.num_factors, size=num_points)
    factors = sample_varying_batches(rep, labels, batch_size, rng)  # (n, batch, K)
    return encode_batches(rep, factors, rng), labels


def z_max_var(rep, rng, *, batch_size: int = 200, num_train: int = 800, num_test: int = 800,
              num_variance_estimate: int = 10000, std_threshold: float = 0.02,
              scale: bool = True) -> dict:
    """Z-max variance of ``rep``.

    Parameters
    ----------
    rep : Representation
    rng : int or numpy.random.Generator
    batch_size : int, default 200
    num_train, num_test : int, default 800 and 800
        Training and evaluation votes (one batch each, drawn by
        :func:`~metrics_baseline._sampling.sample_varying_batches`).
    num_variance_estimate : int, default 10000
        Free codes for the global variances.
    std_threshold : float, default 0.02
        Latents with a global standard deviation below this do not vote.
    scale : bool, default True
        Rescale the accuracies so that chance (``1/K``) is 0 and a perfect vote 1.

    Returns
    -------
    dict
        ``train_accuracy``, ``eval_accuracy`` (the headline), ``num_active_dims``.

    Examples
    --------
    >>> from benchmark import FactorSpace, ideal
    >>> z_max_var(ideal(FactorSpace.synthetic([3, 4])), 0, num_train=100, num_test=100,
    ...           num_variance_estimate=500)["eval_accuracy"]
    1.0
    """
    rng = check_rng(rng)
    batch_size = check_positive_int(batch_size, "batch_size", 2)
    num_train = check_positive_int(num_train, "num_train")
    num_test = check_positive_int(num_test, "num_test")
    num_variance_estimate = check_positive_int(num_variance_estimate, "num_variance_estimate", 2)
    std_threshold = _check_threshold(std_threshold, "std_threshold")
    variance_codes, _ = sample_codes(rep, num_variance_estimate, rng)
    if not (np.sqrt(global_variances(variance_codes)) >= std_threshold).any():
        # Nothing to vote with: skip generating the batches.
        return {"train_accuracy": 0.0, "eval_accuracy": 0.0, "num_active_dims": 0.0}
    batch_codes, labels = generate(rep, num_train, batch_size, rng)
    batch_codes_test, labels_test = generate(rep, num_test, batch_size, rng)
    return vote_accuracy(variance_codes, batch_codes, labels, batch_codes_test, labels_test,
                         num_factors=rep.space.num_factors, prune_threshold=std_threshold,
                         scale=bool(scale), largest=True)


SPEC = MetricSpec("z_max_var", z_max_var, headline="eval_accuracy",
                  family="intervention", display_name="Z-max Var",
                  target="modularity",
                  quick={"num_train": 300, "num_test": 300, "num_variance_estimate": 2000},
                  cost=(0.045, 0.014))
