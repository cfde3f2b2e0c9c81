"""Factor structure of a conditionally Gaussian representation with an additive mean.

Per latent subset, which factors carry no information, which are resolved
(identified up to negligible error) and which must be computed jointly: the
analysis that lets the exact estimator work on grids of 737,280 points.
"""
from __future__ import annotations

import itertools

import numpy as np

__all__ = ["RESOLVE_THRESHOLD", "Codebook", "analyse_subset", "orth", "stable_floor", "stratified_factors"]


#: Mahalanobis separation (in units of the noise) beyond which a factor counts as
#: resolved by a latent subset; two values that far apart are confused with
#: probability Phi(-4) = 3e-5, which moves an information by < 1e-3 nats.
RESOLVE_THRESHOLD = 8.0


#: How far below an integer a value still counts as that integer in :func:`stable_floor`.
FLOOR_GUARD = 1e-6


def stable_floor(values) -> np.ndarray:
    """``floor(values)``, with values within :data:`FLOOR_GUARD` below an integer taken
    as that integer.

    Bins of grid-structured values have their edges exactly where the values sit
    (means at multiples of the bin width), and there a plain floor follows the last
    bit of a BLAS product: another machine's kernel would move those values to the
    neighbouring bin, and with the number of bins the Monte Carlo draws that follow.
    Rounding errors are ~1e-12 of a bin, far inside the guard, while a value
    generic enough to land within 1e-12 of the guard's edge is as rare as one that
    lands on an integer by chance.

    >>> stable_floor(np.array([2.9999999999999996, 2.5, -0.0000000001])).tolist()
    [3.0, 2.0, 0.0]
    """
    return np.floor(np.asarray(values, dtype=float) + FLOOR_GUARD)


def stratified_factors(space, n, rng) -> np.ndarray:
    """``n`` uniform factor vectors in which every value of every factor appears
    equally often (to within one), each column independently permuted."""
    return np.stack([rng.permutation(np.resize(np.arange(s), n)) for s in space.sizes], axis=1)


class Codebook:
    """Per-factor mean contributions of an additive Gaussian representation.

    ``mean(y) = base + sum_k table[k][y_k]``; :attr:`additive` says whether the
    representation's mean map has this form (checked on random factor vectors).
    """

    def __init__(self, rep, rng):
        sizes = rep.space.sizes
        y0 = np.zeros((1, len(sizes)), dtype=np.int64)
        probes = [y0]
        for k, n in enumerate(sizes):
            y = np.zeros((n, len(sizes)), dtype=np.int64)
            y[:, k] = np.arange(n)
            probes.append(y)
        means = np.asarray(rep.mean(np.vstack(probes)), dtype=float)
        self.base = means[0]
        offsets = np.cumsum([1] + list(sizes))
        self.table = [means[offsets[k]:offsets[k + 1]] - self.base for k in range(len(sizes))]
        test = rep.space.sample(64, rng)
        err = np.abs(self.assemble(test) - rep.mean(test)).max()
        scale = max(1.0, float(np.abs(means).max()))
        self.additive = bool(err <= 1e-9 * scale)

    def assemble(self, y, factors=None) -> np.ndarray:
        """``base + sum over factors`` (all factors by default) of the contributions."""
        out = np.repeat(self.base[None, :], len(y), axis=0)
        for k in range(len(self.table)) if factors is None else factors:
            out += self.table[k][y[:, k]]
        return out


def orth(rows: np.ndarray, tol: float = 1e-9) -> np.ndarray:
    """Orthonormal basis (columns) of the span of ``rows``."""
    if rows.size == 0:
        return np.zeros((rows.shape[1] if rows.ndim == 2 else 0, 0))
    u, s, vt = np.linalg.svd(rows, full_matrices=False)
    return vt[s > tol * max(1.0, s[0])].T if s.size else np.zeros((rows.shape[1], 0))


def analyse_subset(book: Codebook, cov: np.ndarray, subset: np.ndarray, threshold):
    """Status of every factor for the latent subset ``subset``.

    Returns a list with, per factor, ``"zero"`` (its value does not move the
    mean of ``z_S``: ``I = 0``), ``"resolved"`` (``z_S`` identifies it with
    negligible error: ``I = H``) or a tuple of factors: the group whose joint
    mixture must be computed.  Resolution is judged with every other factor
    free (a continuous relaxation), so any set of resolved factors is resolved
    jointly; unresolved factors whose whitened mean directions are mutually
    orthogonal to the rest form independent groups.
    """
    num_factors = len(book.table)
    chol = np.linalg.cholesky(cov[np.ix_(subset, subset)])
    white = [np.linalg.solve(chol, t[:, subset].T).T for t in book.table]
    diffs = [w[1:] - w[:1] for w in white]
    relevant = [bool(np.abs(d).max() > 1e-8) for d in diffs]
    bases = [orth(d) if r else None for d, r in zip(diffs, relevant)]
    status = ["zero"] * num_factors
    unresolved = []
    for k in range(num_factors):
        if not relevant[k]:
            continue
        if threshold is None:
            unresolved.append(k)
            continue
        others = [diffs[j] for j in range(num_factors) if j != k and relevant[j]]
        basis = orth(np.vstack(others)) if others else np.zeros((len(subset), 0))
        a, b = np.triu_indices(len(white[k]), 1)
        pair = white[k][a] - white[k][b]
        pair = pair - (pair @ basis) @ basis.T
        if np.sqrt((pair**2).sum(axis=1)).min() >= threshold:
            status[k] = "resolved"
        else:
            unresolved.append(k)
    parent = {k: k for k in unresolved}

    def find(k):
        while parent[k] != k:
            k = parent[k]
        return k

    for k, j in itertools.combinations(unresolved, 2):
        if np.abs(bases[k].T @ bases[j]).max() > 1e-6:
            parent[find(k)] = find(j)
    for k in unresolved:
        status[k] = tuple(j for j in unresolved if find(j) == find(k))
    return status
