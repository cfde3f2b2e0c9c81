"""Plug-in (histogram) estimates of entropy and mutual information, the convention
MIG and modularity share with disentanglement_lib."""
from __future__ import annotations

import numpy as np

__all__ = ["discrete_entropy", "discrete_mutual_info", "discretize", "plugin_entropy"]


def discretize(codes, num_bins: int = 20) -> np.ndarray:
    """Equal-width binning of each column over its observed range.

    Matches disentanglement_lib's ``_histogram_discretize``: bin edges from
    ``np.histogram`` and ``np.digitize`` against all but the last edge, so labels
    run from 1 to ``num_bins``.

    Examples
    --------
    >>> import numpy as np
    >>> discretize(np.array([[0.0], [0.5], [1.0]]), num_bins=2).ravel().tolist()
    [1, 2, 2]
    """
    codes = np.asarray(codes)
    out = np.empty(codes.shape, dtype=np.int64)
    for j in range(codes.shape[1]):
        edges = np.histogram_bin_edges(codes[:, j], bins=num_bins)
        out[:, j] = np.digitize(codes[:, j], edges[:-1])
    return out


def plugin_entropy(counts) -> float:
    """Entropy (nats) of the distribution proportional to ``counts`` (zeros allowed).

    Examples
    --------
    >>> bool(np.isclose(plugin_entropy([1, 1, 0, 2]), 1.5 * np.log(2)))
    True
    """
    counts = np.asarray(counts)
    p = counts[counts > 0] / counts.sum()
    return float(-np.sum(p * np.log(p)))


def _dense_labels(x: np.ndarray) -> tuple[np.ndarray, int]:
    uniques, labels = np.unique(x, return_inverse=True)
    return labels.reshape(-1), len(uniques)


def discrete_entropy(labels) -> np.ndarray:
    """Plug-in entropy (nats) of each column of an ``(n, K)`` integer array."""
    labels = np.asarray(labels)
    return np.array([plugin_entropy(np.bincount(_dense_labels(labels[:, k])[0]))
                     for k in range(labels.shape[1])], dtype=float)


def discrete_mutual_info(a, b) -> np.ndarray:
    """Plug-in mutual information (nats) between every column of ``a`` and of ``b``.

    Returns an array of shape ``(a.shape[1], b.shape[1])``; the same quantity as
    ``sklearn.metrics.mutual_info_score`` on each pair.

    Examples
    --------
    >>> import numpy as np
    >>> y = np.array([[0], [0], [1], [1]])
    >>> bool(np.isclose(discrete_mutual_info(y, y)[0, 0], np.log(2)))
    True
    """
    a, b = np.asarray(a), np.asarray(b)
    n = a.shape[0]
    a_labels = [_dense_labels(a[:, i]) for i in range(a.shape[1])]
    b_labels = [_dense_labels(b[:, j]) for j in range(b.shape[1])]
    out = np.empty((a.shape[1], b.shape[1]))
    for i, (la, na) in enumerate(a_labels):
        pa = np.bincount(la, minlength=na) / n
        for j, (lb, nb) in enumerate(b_labels):
            joint = np.bincount(la * nb + lb, minlength=na * nb).reshape(na, nb) / n
            pb = joint.sum(axis=0)
            nz = joint > 0
            outer = pa[:, None] * pb[None, :]
            out[i, j] = max(0.0, float(np.sum(joint[nz] * np.log(joint[nz] / outer[nz]))))
    return out
