"""The nearest-neighbour estimator of Ross (2014) for a discrete factor against
continuous (multivariate) codes: max-norm, the estimator of scikit-learn's
``mutual_info_classif`` for one latent."""
from __future__ import annotations

import numpy as np
from scipy.spatial import cKDTree
from scipy.special import digamma

from ..validation import BenchmarkError, check_codes_factors, check_positive_int, check_rng
from ._histogram import discrete_entropy
from ._result import Informations, subsets
from ._threads import map_in_threads, off_main_thread, query_workers

__all__ = ["BRUTE_FORCE_DIMS", "COUNT_METHODS", "knn_informations", "knn_informations_from_codes",
           "knn_mutual_info"]


def knn_radii(codes: np.ndarray, labels: np.ndarray, k: int):
    """Per point: the max-norm distance to its ``k``-th neighbour with the same label
    (``k`` capped at the label's count minus one), shrunk to the next float below,
    the ``k`` used, and its label's count.  Every label must occur at least twice."""
    _, inv, counts = np.unique(labels, return_inverse=True, return_counts=True)
    inv = inv.reshape(-1)
    radius = np.empty(len(codes))
    k_all = np.empty(len(codes))
    order = np.argsort(inv, kind="stable")
    bounds = np.searchsorted(inv[order], np.arange(len(counts) + 1))

    def per_label():  # one hand-over to a helper thread for all labels, not one per label
        for v in range(len(counts)):
            idx = order[bounds[v]:bounds[v + 1]]
            kk = min(k, len(idx) - 1)
            dist, _ = cKDTree(codes[idx]).query(codes[idx], k=kk + 1, p=np.inf,
                                                workers=query_workers(codes[idx]))
            radius[idx] = np.nextafter(dist[:, -1], 0)
            k_all[idx] = kk

    off_main_thread(per_label)
    return radius, k_all, counts[inv]


def knn_estimate(k_all, label_counts, m) -> float:
    n = len(m)
    return float(digamma(n) + np.mean(digamma(k_all)) - np.mean(digamma(label_counts))
                 - np.mean(digamma(m)))


def knn_mi_labels(codes: np.ndarray, labels: np.ndarray, k: int, tree=None) -> float:
    """Ross (2014) estimate of ``I(label; codes)`` in nats (not clipped at 0).

    The same steps as scikit-learn's ``_compute_mi_cd``: per label, the max-norm
    distance to the ``k``-th nearest neighbour with the same label (``k`` capped
    at the label's count minus one; labels seen once are dropped), shrunk to the
    next float below, then the number ``m_i`` of all points within it (itself
    included), and ``psi(n) + <psi(k)> - <psi(n_label)> - <psi(m)>``.
    """
    _, inv, counts = np.unique(labels, return_inverse=True, return_counts=True)
    keep = counts[inv.reshape(-1)] > 1
    if not keep.all():
        codes, labels = codes[keep], np.asarray(labels)[keep]
        tree = None
    if len(codes) < 2:
        return 0.0
    radius, k_all, label_counts = knn_radii(codes, labels, k)
    if tree is None:
        tree = cKDTree(codes)
    m = off_main_thread(tree.query_ball_point, codes, radius, p=np.inf, return_length=True,
                        workers=query_workers(codes))
    return knn_estimate(k_all, label_counts, m)


#: From this many latents on, the neighbour counts of every factor for the full set and
#: the "all but one" subsets come from one chunked pass over the coordinates
#: (:func:`ball_counts`) instead of KD-tree ball queries, which lose their pruning in
#: high dimensions (measurements in ``benchmarks/README.md``).
BRUTE_FORCE_DIMS = 6


def ball_counts(codes: np.ndarray, radii: dict) -> dict:
    """Neighbour counts (max-norm, the point itself included) of the full set and of every
    "all latents but one" subset, from one chunked pass over the coordinates.

    ``radii`` maps a subset key (``("all", -1)`` or ``("rest", l)``) to a list of
    radius vectors (one per factor); the result has the same layout.  The distance
    without coordinate ``l`` is the largest coordinate distance unless ``l`` is where
    it occurs, then the second largest, so no subset's distance is below the second
    largest.  The pass over every pair keeps the second largest distance in single
    precision, only to find the pairs where it may be within the row's largest radius
    (a margin covers the rounding); those few pairs (the radii are those of a few
    nearest neighbours) are measured again in double precision and counted one by one,
    with the float arithmetic of the KD-tree's ``query_ball_point``, so the counts are equal.
    """
    n, dim = codes.shape
    keys = list(radii)
    counts = {key: [np.empty(n, dtype=np.int64) for _ in rs] for key, rs in radii.items()}
    reach = np.max([r for rs in radii.values() for r in rs], axis=0)  # each row's largest radius
    # single precision moves each coordinate distance by < 3 * 2**-24 * (|a| + |b|),
    # and the second largest of them by no more: 1e-6 of the largest magnitude covers it
    reach32 = (reach + 1e-6 * (np.abs(codes).max() + reach)).astype(np.float32)
    codes32 = codes.astype(np.float32)
    chunk = max(1, int(1e6 // n))

    def work(start):
        # every buffer is allocated once per chunk and reused: fresh chunk-sized arrays
        # per coordinate cost page faults that halve numpy's throughput
        stop = min(start + chunk, n)
        rows = codes32[start:stop]
        shape = (len(rows), n)
        top, second = np.zeros(shape, np.float32), np.zeros(shape, np.float32)
        low, t = np.empty(shape, np.float32), np.empty(shape, np.float32)
        for j in range(dim):
            np.subtract(rows[:, j, None], codes32[None, :, j], out=t)
            np.abs(t, out=t)
            np.minimum(top, t, out=low)
            np.maximum(second, low, out=second)
            np.maximum(top, t, out=top)
        row, col = np.nonzero(second <= reach32[start:stop, None])
        apart = np.abs(codes[start + row] - codes[col])
        where = apart.argmax(axis=1)  # on a tie the two largest are equal: either will do
        largest = apart[np.arange(len(row)), where]
        runner_up = np.partition(apart, dim - 2, axis=1)[:, dim - 2] if dim > 1 else 0 * largest
        for key in keys:
            kind, l = key
            dist = largest if kind == "all" else np.where(where == l, runner_up, largest)
            for c, r in zip(counts[key], radii[key]):
                inside = dist <= r[start + row]
                c[start:stop] = np.bincount(row[inside], minlength=stop - start)

    map_in_threads(work, range(0, n, chunk))  # chunks write disjoint slices of the counts
    return counts


def knn_mutual_info(codes, labels, *, k: int = 3) -> float:
    """Ross (2014) nearest-neighbour estimate of ``I(labels; codes)`` in nats.

    Parameters
    ----------
    codes : array of shape (n,) or (n, d)
        Continuous codes; several columns are treated jointly (max-norm).  Use
        them as they are: for ``d > 1`` the estimate depends on the columns'
        scales (:func:`knn_informations` standardises them).
    labels : int array of shape (n,)
    k : int, default 3

    Returns
    -------
    float
        The estimate, clipped at 0 as scikit-learn's ``mutual_info_classif`` does.

    Examples
    --------
    Four well separated values: the estimate is close to ``H = log 4 = 1.386``.

    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> labels = rng.integers(0, 4, 2000)
    >>> round(knn_mutual_info(labels + 0.05 * rng.standard_normal(2000), labels), 2)
    1.39
    """
    codes = np.asarray(codes, dtype=float)
    if codes.ndim == 1:
        codes = codes[:, None]
    labels = np.asarray(labels).reshape(-1)
    if codes.ndim != 2 or len(codes) != len(labels):
        raise BenchmarkError(f"codes must be (n,) or (n, d) with n = len(labels) = {len(labels)}, "
                             f"got shape {codes.shape}")
    if not np.all(np.isfinite(codes)):
        raise BenchmarkError("codes contains NaN or infinite values")
    k = check_positive_int(k, "k")
    return max(0.0, knn_mi_labels(codes, labels, k))


#: How the neighbour counts of the full set and the all-but-one subsets are found.
COUNT_METHODS = ("auto", "tree", "chunked")


def knn_informations(rep, rng, *, num_samples: int = 10000, k: int = 3,
                     counts: str = "auto") -> Informations:
    """All informations by the nearest-neighbour estimator on sampled codes.

    ``num_samples`` factor vectors are drawn from ``rep.space`` and encoded,
    then passed to :func:`knn_informations_from_codes` with the space's factor
    entropies (exact for a uniform grid).
    """
    rng = check_rng(rng)
    num_samples = check_positive_int(num_samples, "num_samples", 2)
    y = rep.space.sample(num_samples, rng)
    z = np.asarray(rep.encode(y, rng), dtype=float)
    return knn_informations_from_codes(z, y, entropy=rep.space.entropies(), k=k, counts=counts)


def knn_informations_from_codes(codes, factors, *, entropy=None, k: int = 3,
                                counts: str = "auto") -> Informations:
    """All informations by the nearest-neighbour estimator on given codes.

    Each code column is scaled to unit variance (as ``mutual_info_classif``
    does), then every ``I(y_k; z_S)`` is estimated by :func:`knn_mutual_info`
    on the columns ``S``.  From :data:`BRUTE_FORCE_DIMS` latents on, the full set
    and every all-but-one subset take their same-label radii per factor value
    (:func:`knn_radii`) and their neighbour counts from one shared chunked pass
    over the pairwise distances (:func:`ball_counts`); below that, and for
    single latents, one KD-tree per subset serves every factor.  ``counts``
    forces one way (``"tree"`` or ``"chunked"``); both give identical counts.

    Parameters
    ----------
    codes : ndarray of shape (n, L)
    factors : ndarray of shape (n, K), integer
    entropy : ndarray of shape (K,), optional
        ``H(y_k)`` in nats; default the plug-in entropies of ``factors``.
    k : int, default 3
    counts : {"auto", "tree", "chunked"}

    Returns
    -------
    Informations
    """
    if counts not in COUNT_METHODS:
        raise BenchmarkError(f"counts must be one of {', '.join(COUNT_METHODS)}, got {counts!r}")
    k = check_positive_int(k, "k")
    z, y = check_codes_factors(codes, factors)
    if entropy is None:
        entropy = discrete_entropy(y)
    std = z.std(axis=0)
    z = z / np.where(std > 0, std, 1.0)
    result = Informations.zeros(y.shape[1], z.shape[1], entropy, "knn")
    # labels seen once are dropped from the whole sample (as scikit-learn does), which
    # changes the point set: such factors take the per-factor KD-tree path
    complete = [f for f in range(y.shape[1]) if np.all(np.bincount(y[:, f])[y[:, f]] > 1)]
    chunked = {"auto": z.shape[1] >= BRUTE_FORCE_DIMS, "tree": False, "chunked": True}[counts]
    brute = chunked and complete
    terms = {}
    for key, subset in subsets(z.shape[1]):
        codes = np.ascontiguousarray(z[:, subset])
        shared = complete if brute and key[0] != "one" else []
        for f in shared:
            terms[key, f] = knn_radii(codes, y[:, f], k)
        rest = [f for f in range(y.shape[1]) if f not in shared]
        tree = cKDTree(codes) if rest else None
        for f in rest:
            result.store(key, f, knn_mi_labels(codes, y[:, f], k, tree))
    if terms:
        keys = list(dict.fromkeys(key for key, _ in terms))
        found = ball_counts(z, {key: [terms[key, f][0] for f in complete] for key in keys})
        for key in keys:
            for f, m in zip(complete, found[key]):
                result.store(key, f, knn_estimate(terms[key, f][1], terms[key, f][2], m))
    return result
