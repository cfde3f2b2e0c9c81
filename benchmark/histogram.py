"""Histogram (plug-in) information estimates, the MIG convention."""
from __future__ import annotations

import numpy as np


def discretize(codes: np.ndarray, num_bins: int = 20) -> np.ndarray:
    """Equal-width binning of each column over its observed range.

    Matches disentanglement_lib's ``_histogram_discretize``: bin edges from
    ``np.histogram`` and ``np.digitize`` against all but the last edge, so labels
    run from 1 to ``num_bins``.
    """
    out = np.empty(codes.shape, dtype=np.int64)
    for j in range(codes.shape[1]):
        edges = np.histogram_bin_edges(codes[:, j], bins=num_bins)
        out[:, j] = np.digitize(codes[:, j], edges[:-1])
    return out


def _dense_labels(x: np.ndarray) -> tuple[np.ndarray, int]:
    uniques, labels = np.unique(x, return_inverse=True)
    return labels.reshape(-1), len(uniques)


def discrete_entropy(labels: np.ndarray) -> np.ndarray:
    """Plug-in entropy (nats) of each column of an ``(n, K)`` integer array."""
    labels = np.asarray(labels)
    out = np.empty(labels.shape[1])
    for k in range(labels.shape[1]):
        counts = np.bincount(_dense_labels(labels[:, k])[0])
        p = counts[counts > 0] / labels.shape[0]
        out[k] = -np.sum(p * np.log(p))
    return out


def discrete_mutual_info(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Plug-in mutual information (nats) between every column of ``a`` and of ``b``.

    Returns an array of shape ``(a.shape[1], b.shape[1])``; the same quantity as
    ``sklearn.metrics.mutual_info_score`` on each pair.
    """
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
