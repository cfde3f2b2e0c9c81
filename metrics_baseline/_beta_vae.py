"""The BetaVAE metric (Higgins et al., 2017), disentanglement_lib's sklearn definition.

One training point: pick a factor uniformly, draw ``batch_size`` pairs of factor
vectors that agree on that factor (all other factors independent), encode
both sides, and take the mean absolute code difference over the batch as the
feature vector; the label is the factor.  A scikit-learn
``LogisticRegression`` with default settings predicts the label; the score is
its accuracy on a fresh evaluation set.

:data:`REVIEW_SPEC` is the review of Carbonneau, Zaidi, Boilard & Gagnon (2022)'s
"Z-diff" (ubisoft/ubisoft-laforge-disentanglement-metrics, ``src/metrics/z_diff.py``,
kwargs of ``src/experiments/config.py``): the same features and classifier with the
review's sizes (batches of 200 pairs, 10,000 training and 5,000 evaluation points),
its ``LogisticRegression(max_iter=10000)`` and ``scale=True`` (accuracies rescaled
by ``(a - 1/K) / (1 - 1/K)`` so that chance is 0).  The review draws its pairs
from the rows of a fixed table whose binned factor value matches (the value
uniformly among the values at least two rows have); :func:`beta_vae_rows_score`
does the same for a like-for-like comparison.
"""
from __future__ import annotations

import warnings

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression

from benchmark.spec import MetricSpec
from benchmark.validation import (
    BenchmarkError,
    check_codes,
    check_codes_factors,
    check_positive_int,
    check_rng,
)

from ._binning import review_bins
from ._factor_vae import scale_accuracy
from ._sampling import encode_batches, row_batches, sample_batches, seed_from

__all__ = ["REVIEW_SPEC", "SPEC", "beta_vae", "beta_vae_rows_score", "beta_vae_score", "features",
           "generate"]

#: Training points generated per vectorised encode call (bounds memory).
_CHUNK = 2000


def features(codes_a, codes_b) -> np.ndarray:
    """BetaVAE feature vectors from matched batches.

    Parameters
    ----------
    codes_a, codes_b : ndarray of shape (n, batch_size, L)
        Codes of the two sides of each pair; pair ``j`` of point ``i`` is
        ``codes_a[i, j]`` and ``codes_b[i, j]``.

    Returns
    -------
    ndarray of shape (n, L): ``mean_j |codes_a[i, j] - codes_b[i, j]|``.
    """
    codes_a = np.asarray(codes_a, dtype=float)
    codes_b = np.asarray(codes_b, dtype=float)
    if codes_a.ndim != 3 or codes_a.shape != codes_b.shape:
        raise BenchmarkError(
            f"codes_a and codes_b must both have shape (n, batch_size, L), got "
            f"{codes_a.shape} and {codes_b.shape}"
        )
    return np.mean(np.abs(codes_a - codes_b), axis=1)


def beta_vae_score(features, labels, features_test, labels_test, *, random_state: int = 0,
                   max_iter: int = 100, scale: bool = False, num_factors: int | None = None) -> dict:
    """Fit the BetaVAE classifier on given features and score it.

    Parameters
    ----------
    features, features_test : ndarray of shape (n, L)
        Feature vectors for training and for the held-out score (see :func:`features`).
    labels, labels_test : ndarray of shape (n,)
        Index of the factor held fixed for each feature vector.
    random_state : int
        Seed of the ``LogisticRegression``.
    max_iter : int, default 100
        Iterations of its solver (scikit-learn's default, disentanglement_lib's; the
        review uses 10000).
    scale : bool, default False
        Rescale the accuracies by ``(a - 1/K) / (1 - 1/K)`` so that chance is 0 (the
        review's ``scale=True``).
    num_factors : int, optional
        ``K`` for ``scale`` (default: largest label + 1).

    Returns
    -------
    dict
        ``train_accuracy`` and ``eval_accuracy`` (held-out, the headline).

    Examples
    --------
    >>> import numpy as np
    >>> x = np.eye(3)[[0, 1, 2] * 10]
    >>> beta_vae_score(x, np.array([0, 1, 2] * 10), x, np.array([0, 1, 2] * 10))["eval_accuracy"]
    1.0
    """
    x_train = check_codes(features, "features")
    x_eval = check_codes(features_test, "features_test")
    y_train = _labels(labels, x_train, "labels")
    y_eval = _labels(labels_test, x_eval, "labels_test")
    if x_train.shape[1] != x_eval.shape[1]:
        raise BenchmarkError(
            f"features and features_test differ in width ({x_train.shape[1]} != {x_eval.shape[1]})"
        )
    max_iter = check_positive_int(max_iter, "max_iter")
    if np.unique(y_train).size < 2:
        # A classifier cannot be fitted on one class; predicting it is all there is.
        only = y_train[0]
        out = {"train_accuracy": 1.0, "eval_accuracy": float(np.mean(y_eval == only))}
    else:
        model = LogisticRegression(random_state=random_state, max_iter=max_iter)
        with warnings.catch_warnings():
            # disentanglement_lib stops lbfgs at the default 100 iterations, converged or
            # not: keep that as the default and stay quiet.
            warnings.simplefilter("ignore", ConvergenceWarning)
            model.fit(x_train, y_train)
        out = {
            "train_accuracy": float(np.mean(model.predict(x_train) == y_train)),
            "eval_accuracy": float(np.mean(model.predict(x_eval) == y_eval)),
        }
    if scale:
        if num_factors is None:
            num_factors = int(max(np.max(y_train, initial=0), np.max(y_eval, initial=0))) + 1
        num_factors = check_positive_int(num_factors, "num_factors")
        out = {key: scale_accuracy(value, num_factors) for key, value in out.items()}
    return out


def _labels(labels, x, argname):
    labels = np.asarray(labels)
    if labels.ndim != 1 or labels.shape[0] != x.shape[0]:
        raise BenchmarkError(f"{argname} must have shape ({x.shape[0]},), got {labels.shape}")
    if labels.size and not np.issubdtype(labels.dtype, np.integer):
        raise BenchmarkError(f"{argname} must hold integer factor indices")
    return labels.astype(np.int64, copy=False)


def generate(rep, num_points: int, batch_size: int, rng: np.random.Generator):
    """``num_points`` BetaVAE feature vectors of ``rep`` and their labels.

    Each point's batch of pairs comes from :func:`sample_batches` with batches
    of two rows (a matched pair); points are generated in vectorised chunks.
    """
    feats, labs = [], []
    for start in range(0, num_points, _CHUNK):
        n = min(_CHUNK, num_points - start)
        labels = rng.integers(0, rep.space.num_factors, size=n)
        pairs = sample_batches(rep, np.repeat(labels, batch_size), 2, rng)  # (n*batch, 2, K)
        codes = encode_batches(rep, pairs, rng).reshape(n, batch_size, 2, -1)
        feats.append(features(codes[:, :, 0], codes[:, :, 1]))
        labs.append(labels)
    return np.concatenate(feats), np.concatenate(labs)


def _pair_features(codes, factors, num_points, batch_size, rng):
    """``num_points`` feature vectors of pairs of table rows, and their labels."""
    labels = rng.integers(0, factors.shape[1], size=num_points)
    pairs = row_batches(factors, np.repeat(labels, batch_size), 2, rng).reshape(num_points, batch_size, 2)
    feats = [features(codes[pairs[start:start + _CHUNK, :, 0]], codes[pairs[start:start + _CHUNK, :, 1]])
             for start in range(0, num_points, _CHUNK)]
    return np.concatenate(feats), labels


def beta_vae_rows_score(codes, factors, rng, *, batch_size: int = 64, num_train: int = 10000,
                        num_test: int = 5000, max_iter: int = 100, continuous_factors: bool = False,
                        num_bins: int = 10, scale: bool = False) -> dict:
    """BetaVAE metric of a fixed table of codes and factors, pairs drawn from its rows.

    This is how the review computes "Z-diff" (``z_diff.py``): each pair is two
    distinct rows sharing the (binned) value of the point's factor, drawn by
    :func:`~metrics_baseline._sampling.row_batches`.  The review's parameters:
    ``batch_size=200, num_train=10000, num_test=5000, max_iter=10000,
    continuous_factors=True, num_bins=10, scale=True``.

    Parameters
    ----------
    codes : ndarray of shape (n, L)
    factors : ndarray of shape (n, K), integer
    rng : int or numpy.random.Generator
    batch_size, num_train, num_test : int
        As in :func:`beta_vae`.
    max_iter : int, default 100
        Solver iterations of the classifier.
    continuous_factors : bool, default False
        Treat the factors as continuous, as the review does: min-max scale each one to
        ``[0, 1]`` and bin it into ``num_bins`` equal-width bins
        (:func:`~metrics_baseline._binning.review_bins`) before pairing rows.
    num_bins : int, default 10
    scale : bool, default False
        Rescale the accuracies so that chance is 0.

    Returns
    -------
    dict
        ``train_accuracy`` and ``eval_accuracy`` (the headline).

    Examples
    --------
    >>> import numpy as np
    >>> factors = np.random.default_rng(0).integers(0, 4, size=(500, 2))
    >>> codes = factors + 0.05 * np.random.default_rng(1).standard_normal((500, 2))
    >>> beta_vae_rows_score(codes, factors, 0, batch_size=10, num_train=200,
    ...                     num_test=100)["eval_accuracy"]
    1.0
    """
    codes, factors = check_codes_factors(codes, factors)
    rng = check_rng(rng)
    batch_size = check_positive_int(batch_size, "batch_size")
    num_train = check_positive_int(num_train, "num_train")
    num_test = check_positive_int(num_test, "num_test")
    if continuous_factors:
        factors = review_bins(factors, num_bins)
    x_train, y_train = _pair_features(codes, factors, num_train, batch_size, rng)
    seed = seed_from(rng)
    x_test, y_test = _pair_features(codes, factors, num_test, batch_size, rng)
    return beta_vae_score(x_train, y_train, x_test, y_test, random_state=seed, max_iter=max_iter,
                          scale=bool(scale), num_factors=factors.shape[1])


def beta_vae(rep, rng, *, batch_size: int = 64, num_train: int = 10000,
             num_test: int = 5000, max_iter: int = 100, scale: bool = False) -> dict:
    """BetaVAE metric of ``rep``.

    Parameters
    ----------
    rep : Representation
    rng : int or numpy.random.Generator
    batch_size : int, default 64
        Pairs averaged into one feature vector.
    num_train, num_test : int, default 10000 and 5000
        Feature vectors to fit the classifier on and to score it on.
    max_iter : int, default 100
        Solver iterations of the ``LogisticRegression``.
    scale : bool, default False
        Rescale the accuracies so that chance is 0 (the review's Z-diff,
        :data:`REVIEW_SPEC`, sets it).

    Returns
    -------
    dict
        ``train_accuracy`` and ``eval_accuracy`` (the headline).

    Examples
    --------
    >>> from benchmark import FactorSpace, ideal
    >>> beta_vae(ideal(FactorSpace.synthetic([3, 4])), 0, num_train=300, num_test=100)["eval_accuracy"]
    1.0
    """
    rng = check_rng(rng)
    batch_size = check_positive_int(batch_size, "batch_size")
    num_train = check_positive_int(num_train, "num_train")
    num_test = check_positive_int(num_test, "num_test")
    x_train, y_train = generate(rep, num_train, batch_size, rng)
    seed = seed_from(rng)
    x_test, y_test = generate(rep, num_test, batch_size, rng)
    return beta_vae_score(x_train, y_train, x_test, y_test, random_state=seed, max_iter=max_iter,
                          scale=bool(scale), num_factors=rep.space.num_factors)


SPEC = MetricSpec("beta_vae", beta_vae, headline="eval_accuracy",
                  family="intervention", display_name="BetaVAE",
                  target="modularity",
                  default=True, quick={"num_train": 1000, "num_test": 500},
                  cost=(0.41, 0.04))

#: The review's "Z-diff": BetaVAE with the review's sizes, classifier iterations and scaling.
#: The review bins factors into 10 bins and fixes a bin; this fixes an exact value (equal
#: for factors of at most 10 values; :func:`beta_vae_rows_score` takes the review's binning).
REVIEW_SPEC = MetricSpec("z_diff", beta_vae, headline="eval_accuracy",
                         family="intervention", display_name="Z-diff",
                         target="modularity",
                         params={"batch_size": 200, "num_train": 10000, "num_test": 5000,
                                 "max_iter": 10000, "scale": True},
                         quick={"num_train": 1000, "num_test": 500},
                         cost=(1.2, 0.1))
