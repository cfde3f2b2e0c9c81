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


def label_groups(labels: np.ndarray):
    """``(inv, counts, order, bounds)``: each point's label index, the labels' counts,
    and the points ordered by label, label ``v``'s being ``order[bounds[v]:bounds[v + 1]]``."""
    _, inv, counts = np.unique(labels, return_inverse=True, return_counts=True)
    inv = inv.reshape(-1)
    return inv, counts, np.argsort(inv, kind="stable"), np.concatenate([[0], np.cumsum(counts)])


def knn_radii(codes: np.ndarray, labels: np.ndarray, k: int):
    """Per point: the max-norm distance to its ``k``-th neighbour with the same label
    (``k`` capped at the label's count minus one), shrunk to the next float below,
    the ``k`` used, and its label's count.  Every label must occur at least twice."""
    inv, counts, order, bounds = label_groups(labels)
    radius = np.empty(len(codes))
    k_all = np.empty(len(codes))

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


#: From this many latents on, the same-label radii and the neighbour counts of every factor
#: for the full set and the "all but one" subsets come from one chunked pass over the
#: coordinates (:func:`chunked_terms`) instead of KD-tree queries, which lose their pruning
#: in high dimensions (measurements in ``benchmarks/README.md``).
BRUTE_FORCE_DIMS = 6


def _largest_two(rows, columns, out_top, out_second, scratch, diff):
    """Largest and second largest coordinate distance of every pair (rows x points);
    ``columns`` holds the points' coordinates one contiguous row per latent (a strided
    column makes the broadcast subtraction several times slower)."""
    out_top[:] = 0
    out_second[:] = 0
    for j in range(columns.shape[0]):
        np.subtract(rows[:, j, None], columns[j][None, :], out=diff)
        np.abs(diff, out=diff)
        np.minimum(out_top, diff, out=scratch)
        np.maximum(out_second, scratch, out=out_second)
        np.maximum(out_top, diff, out=out_top)


def _subset_distances(codes, first, row, col, keys):
    """Exact (double precision) max-norm distances of the pairs ``(first + row, col)`` in
    every subset of ``keys``: the largest coordinate distance, or for "all but ``l``" the
    second largest where the largest is at ``l``."""
    apart = np.abs(codes[first + row] - codes[col])
    where = apart.argmax(axis=1)  # on a tie the two largest are equal: either will do
    largest = apart[np.arange(len(row)), where]
    dim = codes.shape[1]
    runner_up = np.partition(apart, dim - 2, axis=1)[:, dim - 2] if dim > 1 else 0 * largest
    return {key: largest if key[0] == "all" else np.where(where == key[1], runner_up, largest)
            for key in keys}


def _kth_smallest(table, kth):
    """Per row of ``table``, its ``kth[row]``-th smallest entry (0-based)."""
    top = int(kth.max())
    return np.sort(np.partition(table, top, axis=1)[:, :top + 1], axis=1)[np.arange(len(table)), kth]


def _kth_smallest_per_row(values, row, num_rows, kth):
    """Per row, its ``kth[row]``-th smallest value among ``values`` (``row`` sorted)."""
    counts = np.bincount(row, minlength=num_rows)
    pos = np.arange(len(row)) - np.repeat(np.cumsum(counts) - counts, counts)
    table = np.full((num_rows, counts.max()), np.inf)
    table[row, pos] = values
    return _kth_smallest(table, kth)


def chunked_terms(codes: np.ndarray, factor_labels: dict, keys: list, k: int) -> dict:
    """The Ross estimate's terms for the full set and every "all latents but one" subset
    of ``keys``, for every factor, from one chunked pass over the coordinates.

    ``factor_labels`` maps a factor to its labels, each occurring at least twice.
    Returns ``{(key, factor): (k_used, label_counts, m)}`` as :func:`knn_radii` and the
    ball counts of ``query_ball_point`` give them, equal to them.

    The distance without coordinate ``l`` is the largest coordinate distance unless
    ``l`` is where it occurs, then the second largest; every subset's distance is at
    most the largest and at least the second largest.  So per point the same-label
    radius of every subset is at most the full set's, and no pair whose second largest
    distance exceeds a radius is within it.  The pass over every pair keeps the two
    largest distances in single precision, only to find the pairs that may matter (a
    margin covers the rounding); those few (the radii are those of a few nearest
    neighbours) are measured again in double precision, with the float arithmetic of
    the KD-tree, and ranked or counted one by one.
    """
    n = len(codes)
    codes32 = codes.astype(np.float32)
    columns32 = np.ascontiguousarray(codes32.T)
    # single precision moves each coordinate distance by < 3 * 2**-24 * (|a| + |b|), and
    # any order statistic of them by no more: 1e-6 of the largest magnitude covers it
    # (and 1e-6 of the distance the rounding of the widened bound itself)
    slack = 1e-6 * float(np.abs(codes).max())

    def widened(distance):
        return (distance + slack + 1e-6 * distance).astype(np.float32)

    factors = []
    for f, labels in factor_labels.items():
        inv, counts, order, bounds = label_groups(labels)
        factors.append((f, inv, np.minimum(k, counts[inv] - 1), counts[inv], order, bounds))
    radius = {(key, f): np.empty(n) for key in keys for f, *_ in factors}
    m = {(key, f): np.empty(n, dtype=np.int64) for key in keys for f, *_ in factors}
    # rows per chunk: four single-precision (rows x n) arrays, 64 MB per thread
    chunk = max(1, int(4e6 // n))

    def same_label_candidates(top, second, start, inv, kk, order, bounds):
        # per label among the chunk's rows, the block of its rows against its points:
        # the (kk + 1)-th smallest distance (itself included) bounds every subset's radius
        local = inv[start:start + len(top)]
        rows, cols = [], []
        for v in np.unique(local):
            r = np.flatnonzero(local == v)
            c = order[bounds[v]:bounds[v + 1]]
            near = _kth_smallest(top[np.ix_(r, c)], kk[start + r])
            rr, cc = np.nonzero(second[np.ix_(r, c)] <= widened(near)[:, None])
            rows.append(r[rr])
            cols.append(c[cc])
        row, col = np.concatenate(rows), np.concatenate(cols)
        by_row = np.argsort(row, kind="stable")
        return row[by_row], col[by_row]

    def work(start):
        stop = min(start + chunk, n)
        shape = (stop - start, n)
        top, second = np.empty(shape, np.float32), np.empty(shape, np.float32)
        _largest_two(codes32[start:stop], columns32, top, second, np.empty(shape, np.float32),
                     np.empty(shape, np.float32))
        reach = np.zeros(stop - start)
        for f, inv, kk, _, order, bounds in factors:
            row, col = same_label_candidates(top, second, start, inv, kk, order, bounds)
            kth = kk[start:stop]
            for key, dist in _subset_distances(codes, start, row, col, keys).items():
                r = np.nextafter(_kth_smallest_per_row(dist, row, stop - start, kth), 0)
                radius[key, f][start:stop] = r
                reach = np.maximum(reach, r)
        # the neighbour counts, of every label, within those radii
        row, col = np.nonzero(second <= widened(reach)[:, None])
        for key, dist in _subset_distances(codes, start, row, col, keys).items():
            for f, *_ in factors:
                inside = dist <= radius[key, f][start + row]
                m[key, f][start:stop] = np.bincount(row[inside], minlength=stop - start)

    map_in_threads(work, range(0, n, chunk))  # chunks write disjoint slices
    return {(key, f): (kk.astype(float), counts, m[key, f]) for key in keys
            for f, _, kk, counts, *_ in factors}


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
    at most one per row on a data table (repeated rows would be identical
    points, which the estimator counts as information), then passed to
    :func:`knn_informations_from_codes` with the space's factor entropies
    (exact for a uniform grid).
    """
    rng = check_rng(rng)
    num_samples = check_positive_int(num_samples, "num_samples", 2)
    if not rep.space.is_grid:
        num_samples = min(num_samples, len(rep.space.rows))
    y = rep.space.sample(num_samples, rng)
    z = np.asarray(rep.encode(y, rng), dtype=float)
    return knn_informations_from_codes(z, y, entropy=rep.space.entropies(), k=k, counts=counts)


def knn_informations_from_codes(codes, factors, *, entropy=None, k: int = 3,
                                counts: str = "auto", scale=None) -> Informations:
    """All informations by the nearest-neighbour estimator on given codes.

    Each code column is scaled to unit variance (as ``mutual_info_classif``
    does), or divided by ``scale``, then every ``I(y_k; z_S)`` is estimated by :func:`knn_mutual_info`
    on the columns ``S``.  From :data:`BRUTE_FORCE_DIMS` latents on, the full set
    and every all-but-one subset take their same-label radii and their neighbour
    counts from one shared chunked pass over the pairwise distances
    (:func:`chunked_terms`); below that, and for single latents, one KD-tree per
    subset serves every factor (:func:`knn_radii` per factor value).  ``counts``
    forces one way (``"tree"`` or ``"chunked"``); both give identical results.

    Parameters
    ----------
    codes : ndarray of shape (n, L)
    factors : ndarray of shape (n, K), integer
    entropy : ndarray of shape (K,), optional
        ``H(y_k)`` in nats; default the plug-in entropies of ``factors``.
    k : int, default 3
    counts : {"auto", "tree", "chunked"}
    scale : ndarray of shape (L,), optional
        Positive per-column scales of the max-norm metric (default: each column's
        standard deviation).  Informations do not depend on them; the estimate's
        finite-sample bias does.

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
    if scale is None:
        std = z.std(axis=0)
        z = z / np.where(std > 0, std, 1.0)
    else:
        scale = np.asarray(scale, dtype=float).reshape(-1)
        if scale.shape != (z.shape[1],) or not np.all(np.isfinite(scale) & (scale > 0)):
            raise BenchmarkError(f"scale must be {z.shape[1]} positive finite numbers (one per "
                                 f"column of codes), got {scale.tolist()!r}")
        z = z / scale
    constant = np.ptp(z, axis=0) == 0
    if constant.any():
        # A constant column carries nothing, while its ties at distance 0 would make every
        # point a neighbour of every other: -7.2 nats beside a three-valued factor
        live = np.flatnonzero(~constant)
        if not len(live):
            return Informations.zeros(y.shape[1], z.shape[1], entropy, "knn")
        return knn_informations_from_codes(z[:, live], y, entropy=entropy, k=k, counts=counts,
                                           scale=np.ones(len(live))).widened(live, z.shape[1])
    result = Informations.zeros(y.shape[1], z.shape[1], entropy, "knn")
    # labels seen once are dropped from the whole sample (as scikit-learn does), which
    # changes the point set: such factors take the per-factor KD-tree path
    complete = [f for f in range(y.shape[1]) if np.all(np.bincount(y[:, f])[y[:, f]] > 1)]
    chunked = {"auto": z.shape[1] >= BRUTE_FORCE_DIMS, "tree": False, "chunked": True}[counts]
    brute = complete if chunked else []
    for key, subset in subsets(z.shape[1]):
        rest = [f for f in range(y.shape[1]) if key[0] == "one" or f not in brute]
        if not rest:
            continue
        codes = np.ascontiguousarray(z[:, subset])
        tree = cKDTree(codes)
        for f in rest:
            result.store(key, f, knn_mi_labels(codes, y[:, f], k, tree))
    if brute:
        keys = [key for key, _ in subsets(z.shape[1]) if key[0] != "one"]
        terms = chunked_terms(z, {f: y[:, f] for f in brute}, keys, k)
        for (key, f), (k_all, label_counts, m) in terms.items():
            result.store(key, f, knn_estimate(k_all, label_counts, m))
    return result
