"""The FactorVAE metric (Kim & Mnih, 2018), disentanglement_lib's definition.

Global per-dimension variances (``ddof=1``) come from freely drawn codes;
dimensions whose standard deviation is below ``prune_threshold`` are treated as
collapsed and ignored.  One vote: pick a factor uniformly, draw a batch in
which that factor takes one value, and pair the factor with the active
dimension of smallest ``local variance / global variance``.  The classifier
maps each dimension to the factor it received most training votes for; the
score is the fraction of evaluation votes it gets right.

:data:`REVIEW_SPEC` is the review of Carbonneau, Zaidi, Boilard & Gagnon (2022)'s
"Z-min Variance" (ubisoft/ubisoft-laforge-disentanglement-metrics,
``src/metrics/z_min_var.py``, kwargs of ``src/experiments/config.py``): the same
vote with the review's sizes (batches of 200, 800 training and 800 evaluation
votes, 10,000 codes for the variances), its threshold (``std_threshold=0.02``)
and ``scale=True``: accuracies rescaled by ``(a - 1/K) / (1 - 1/K)`` so that
chance is 0.  The review draws its batches from the rows of a fixed table whose
binned factor value matches; :func:`factor_vae_rows_score` does the same for a
like-for-like comparison.  Where the two references differ:

* the review picks a batch's fixed value uniformly among the values at least two
  rows have, disentanglement_lib from a free draw (the same on a uniform grid);
* both vote with the index of the winning dimension *among the active ones*; the
  vote here goes to the dimension itself.  The accuracy is the same (relabelling
  the voters changes no majority); only the vote matrix reads differently.
"""
from __future__ import annotations

import numpy as np

from benchmark.spec import MetricSpec
from benchmark.validation import (
    BenchmarkError,
    check_codes,
    check_codes_factors,
    check_positive_int,
    check_rng,
)

from ._binning import review_bins
from ._sampling import encode_batches, row_batches, sample_batches, sample_codes

__all__ = ["REVIEW_SPEC", "SPEC", "factor_vae", "factor_vae_rows_score", "factor_vae_score", "generate",
           "global_variances", "scale_accuracy", "vote_accuracy", "votes"]


def global_variances(codes) -> np.ndarray:
    """Per-dimension variance (``ddof=1``) of an ``(n, L)`` code array."""
    codes = check_codes(codes, "variance_codes")
    if codes.shape[0] < 2:
        raise BenchmarkError("variance_codes needs at least two rows")
    return np.var(codes, axis=0, ddof=1)


def scale_accuracy(accuracy: float, num_factors: int) -> float:
    """The review's ``scale=True``: ``(accuracy - 1/K) / (1 - 1/K)``, 0 at chance and 1 when
    every vote is right (negative below chance).  With one factor every vote is right and
    the accuracy is returned as it is.

    Examples
    --------
    >>> scale_accuracy(0.25, 4), scale_accuracy(1.0, 4)
    (0.0, 1.0)
    """
    if num_factors < 2:
        return float(accuracy)
    chance = 1.0 / num_factors
    return float((accuracy - chance) / (1.0 - chance))


def votes(batch_codes, labels, variances, active, num_factors: int, *, largest: bool = False) -> np.ndarray:
    """Vote matrix ``(num_factors, L)`` of batches of codes.

    Parameters
    ----------
    batch_codes : ndarray of shape (n, batch_size, L)
        Codes of ``n`` batches, each with one factor held fixed.
    labels : ndarray of shape (n,)
        The factor held fixed in each batch.
    variances : ndarray of shape (L,)
        Global variances.
    active : ndarray of bool, shape (L,)
        Dimensions taking part in the vote.
    num_factors : int
    largest : bool, default False
        Vote for the dimension of largest normalised variance instead of smallest (the
        Z-max variance metric, whose batches vary one factor).
    """
    batch_codes = np.asarray(batch_codes, dtype=float)
    if batch_codes.ndim != 3 or batch_codes.shape[2] != variances.shape[0]:
        raise BenchmarkError(
            f"batch codes must have shape (n, batch_size, {variances.shape[0]}), got {batch_codes.shape}"
        )
    if batch_codes.shape[1] < 2:
        raise BenchmarkError("batch_size must be at least 2 to estimate a variance")
    if not np.all(np.isfinite(batch_codes)):
        raise BenchmarkError("batch codes contain NaN or infinite values")
    labels = np.asarray(labels, dtype=np.int64)
    if labels.shape != (batch_codes.shape[0],):
        raise BenchmarkError(
            f"labels must have shape ({batch_codes.shape[0]},), got {labels.shape}"
        )
    if labels.size and (labels.min() < 0 or labels.max() >= num_factors):
        raise BenchmarkError(f"labels must lie in 0..{num_factors - 1}")
    dims = np.flatnonzero(active)
    local = np.var(batch_codes[:, :, dims], axis=1, ddof=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        # A zero-variance dimension kept by ``prune_threshold=0`` gives 0/0 = NaN,
        # which argmin picks first, as in the reference.
        pick = np.argmax if largest else np.argmin
        winner = dims[pick(local / variances[dims], axis=1)]
    counts = np.bincount(labels * variances.shape[0] + winner,
                         minlength=num_factors * variances.shape[0])
    return counts.reshape(num_factors, variances.shape[0])


def factor_vae_score(variance_codes, batch_codes, labels, batch_codes_test, labels_test, *,
                     num_factors: int | None = None, prune_threshold: float = 0.05,
                     scale: bool = False) -> dict:
    """FactorVAE metric of given codes.

    Parameters
    ----------
    variance_codes : ndarray of shape (m, L)
        Freely drawn codes for the global variances.
    batch_codes, batch_codes_test : ndarray of shape (n, batch_size, L)
        Batches of codes, each with one factor held fixed: training votes and
        held-out votes.
    labels, labels_test : ndarray of shape (n,)
        The factor held fixed in each batch.
    num_factors : int, optional
        Number of factors (default: largest label + 1).
    prune_threshold : float, default 0.05
        Dimensions whose global standard deviation is below this are ignored.
    scale : bool, default False
        Rescale the accuracies with :func:`scale_accuracy` (the review's ``scale=True``).

    Returns
    -------
    dict
        ``train_accuracy``, ``eval_accuracy`` (the headline) and
        ``num_active_dims`` (all zero when every dimension is pruned).

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> labels = np.array([0, 1] * 20)
    >>> batches = rng.standard_normal((40, 8, 2))
    >>> batches[np.arange(40), :, labels] = 0.0  # the fixed factor's latent stays put
    >>> factor_vae_score(rng.standard_normal((100, 2)), batches, labels, batches, labels)["eval_accuracy"]
    1.0
    """
    return vote_accuracy(variance_codes, batch_codes, labels, batch_codes_test, labels_test,
                         num_factors=num_factors, prune_threshold=prune_threshold, scale=scale)


def vote_accuracy(variance_codes, batch_codes, labels, batch_codes_test, labels_test, *,
                  num_factors: int | None = None, prune_threshold: float = 0.05,
                  scale: bool = False, largest: bool = False) -> dict:
    """The majority-vote classifier of FactorVAE and Z-max variance on given batches.

    The arguments are those of :func:`factor_vae_score`; ``largest`` votes with the
    dimension of largest normalised variance (see :func:`votes`).  Every dimension
    pruned: all values 0 (no information; also the scaled chance value).
    """
    variances = global_variances(variance_codes)
    prune_threshold = _check_threshold(prune_threshold)
    active = np.sqrt(variances) >= prune_threshold
    if num_factors is None:
        num_factors = int(max(np.max(labels, initial=0), np.max(labels_test, initial=0))) + 1
    num_factors = check_positive_int(num_factors, "num_factors")
    if not active.any():
        return {"train_accuracy": 0.0, "eval_accuracy": 0.0, "num_active_dims": 0.0}
    train_votes = votes(batch_codes, labels, variances, active, num_factors, largest=largest)
    eval_votes = votes(batch_codes_test, labels_test, variances, active, num_factors, largest=largest)
    # Majority vote per dimension; ties (and unvoted dimensions) go to the lowest factor.
    classifier = np.argmax(train_votes, axis=0)
    columns = np.arange(variances.shape[0])
    train = _accuracy(train_votes, classifier, columns)
    evaluation = _accuracy(eval_votes, classifier, columns)
    if scale:
        train, evaluation = scale_accuracy(train, num_factors), scale_accuracy(evaluation, num_factors)
    return {
        "train_accuracy": train,
        "eval_accuracy": evaluation,
        "num_active_dims": float(active.sum()),
    }


def _check_threshold(value, argname: str = "prune_threshold") -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.number)) \
            or not np.isfinite(value) or value < 0:
        raise BenchmarkError(f"{argname} must be a non-negative number, got {value!r}")
    return float(value)


def _accuracy(vote_matrix, classifier, columns) -> float:
    total = vote_matrix.sum()
    return float(vote_matrix[classifier, columns].sum() / total) if total else 0.0


def generate(rep, num_points: int, batch_size: int, rng: np.random.Generator):
    """``num_points`` batches of codes of ``rep`` with one factor fixed, and the labels."""
    labels = rng.integers(0, rep.space.num_factors, size=num_points)
    factors = sample_batches(rep, labels, batch_size, rng)  # (n, batch, K)
    return encode_batches(rep, factors, rng), labels


def factor_vae_rows_score(codes, factors, rng, *, batch_size: int = 64, num_train: int = 10000,
                          num_test: int = 5000, num_variance_estimate: int = 10000,
                          prune_threshold: float = 0.05, continuous_factors: bool = False,
                          num_bins: int = 10, scale: bool = False) -> dict:
    """FactorVAE metric of a fixed table of codes and factors, batches drawn from its rows.

    This is how the review computes "Z-min Variance" (``z_min_var.py``): each batch is
    made of rows sharing the (binned) value of one factor, drawn by
    :func:`~metrics_baseline._sampling.row_batches`; the global variances come from
    ``num_variance_estimate`` rows drawn without replacement (every row when the table
    has no more).  The review's parameters: ``batch_size=200, num_train=800,
    num_test=800, num_variance_estimate=10000, prune_threshold=0.02,
    continuous_factors=True, num_bins=10, scale=True``.

    Parameters
    ----------
    codes : ndarray of shape (n, L)
    factors : ndarray of shape (n, K), integer
    rng : int or numpy.random.Generator
    batch_size, num_train, num_test, num_variance_estimate, prune_threshold
        As in :func:`factor_vae`.
    continuous_factors : bool, default False
        Treat the factors as continuous, as the review does: min-max scale each one to
        ``[0, 1]`` and bin it into ``num_bins`` equal-width bins
        (:func:`~metrics_baseline._binning.review_bins`) before grouping rows.
    num_bins : int, default 10
    scale : bool, default False
        Rescale the accuracies so that chance is 0 (:func:`scale_accuracy`).

    Returns
    -------
    dict
        As :func:`factor_vae_score`.

    Examples
    --------
    >>> import numpy as np
    >>> factors = np.random.default_rng(0).integers(0, 4, size=(500, 2))
    >>> codes = factors + 0.05 * np.random.default_rng(1).standard_normal((500, 2))
    >>> factor_vae_rows_score(codes, factors, 0, batch_size=20, num_train=100,
    ...                       num_test=100)["eval_accuracy"]
    1.0
    """
    codes, factors = check_codes_factors(codes, factors)
    rng = check_rng(rng)
    batch_size = check_positive_int(batch_size, "batch_size", 2)
    num_train = check_positive_int(num_train, "num_train")
    num_test = check_positive_int(num_test, "num_test")
    num_variance_estimate = check_positive_int(num_variance_estimate, "num_variance_estimate", 2)
    prune_threshold = _check_threshold(prune_threshold)
    if continuous_factors:
        factors = review_bins(factors, num_bins)
    n, num_factors = factors.shape
    if num_variance_estimate >= n:
        variance_codes = codes
    else:
        variance_codes = codes[rng.choice(n, size=num_variance_estimate, replace=False)]
    labels = rng.integers(0, num_factors, size=num_train)
    rows = row_batches(factors, labels, batch_size, rng)
    labels_test = rng.integers(0, num_factors, size=num_test)
    rows_test = row_batches(factors, labels_test, batch_size, rng)
    return vote_accuracy(variance_codes, codes[rows], labels, codes[rows_test], labels_test,
                         num_factors=num_factors, prune_threshold=prune_threshold, scale=bool(scale))


def factor_vae(rep, rng, *, batch_size: int = 64, num_train: int = 10000, num_test: int = 5000,
               num_variance_estimate: int = 10000, prune_threshold: float = 0.05,
               scale: bool = False) -> dict:
    """FactorVAE metric of ``rep``.

    Parameters
    ----------
    rep : Representation
    rng : int or numpy.random.Generator
    batch_size : int, default 64
    num_train, num_test : int, default 10000 and 5000
        Training and held-out votes (one batch each).
    num_variance_estimate : int, default 10000
        Free codes for the global variances.
    prune_threshold : float, default 0.05
        Latents with a global standard deviation below this do not vote.
    scale : bool, default False
        Rescale the accuracies so that chance is 0 (:func:`scale_accuracy`; the review's
        Z-min Variance, :data:`REVIEW_SPEC`, sets it).

    Returns
    -------
    dict
        ``train_accuracy``, ``eval_accuracy`` (the headline), ``num_active_dims``.

    Examples
    --------
    >>> from benchmark import FactorSpace, ideal
    >>> factor_vae(ideal(FactorSpace.synthetic([3, 4])), 0, num_train=200, num_test=100,
    ...            num_variance_estimate=500)["eval_accuracy"]
    1.0
    """
    rng = check_rng(rng)
    batch_size = check_positive_int(batch_size, "batch_size", 2)
    num_train = check_positive_int(num_train, "num_train")
    num_test = check_positive_int(num_test, "num_test")
    num_variance_estimate = check_positive_int(num_variance_estimate, "num_variance_estimate", 2)
    prune_threshold = _check_threshold(prune_threshold)
    variance_codes, _ = sample_codes(rep, num_variance_estimate, rng)
    variances = global_variances(variance_codes)
    if not (np.sqrt(variances) >= prune_threshold).any():
        # Nothing to vote with: skip generating the batches.
        return {"train_accuracy": 0.0, "eval_accuracy": 0.0, "num_active_dims": 0.0}
    batch_codes, labels = generate(rep, num_train, batch_size, rng)
    batch_codes_test, labels_test = generate(rep, num_test, batch_size, rng)
    return factor_vae_score(variance_codes, batch_codes, labels, batch_codes_test, labels_test,
                            num_factors=rep.space.num_factors, prune_threshold=prune_threshold,
                            scale=bool(scale))


SPEC = MetricSpec("factor_vae", factor_vae, headline="eval_accuracy",
                  family="intervention", display_name="FactorVAE",
                  target="modularity",
                  default=True,
                  quick={"num_train": 1000, "num_test": 500, "num_variance_estimate": 2000},
                  cost=(0.26, 0.02))

#: The review's "Z-min Variance": FactorVAE with the review's sizes, threshold and scaling.
#: The review bins factors into 10 bins and fixes a bin; this fixes an exact value (equal
#: for factors of at most 10 values; :func:`factor_vae_rows_score` takes the review's binning).
REVIEW_SPEC = MetricSpec("z_min_var", factor_vae, headline="eval_accuracy",
                         family="intervention", display_name="Z-min Var",
                         target="modularity",
                         params={"batch_size": 200, "num_train": 800, "num_test": 800,
                                 "num_variance_estimate": 10000, "prune_threshold": 0.02,
                                 "scale": True},
                         quick={"num_train": 300, "num_test": 300, "num_variance_estimate": 2000},
                         cost=(0.05, 0.016))
