"""Differential entropies of latent subsets and the total correlation of the latents.

Two estimators, as for the informations:

* :func:`mixture_entropies`: ``H(z_S)`` of the aggregate mixture of Gaussians
  (a :class:`~benchmark.representations.GaussianStructure` over its factor
  distribution, or the per-sample diagonal posteriors of
  :class:`~benchmark.representations.Posteriors`), by the Monte Carlo density
  pass of the exact estimator;
* :func:`knn_entropy` (Kozachenko & Leonenko 1987) and
  :func:`knn_total_correlation` (Kraskov, Stoegbauer & Grassberger 2004) on
  samples.

:func:`gaussian_entropy` and :func:`gaussian_total_correlation` are the closed
forms for one Gaussian.
"""
from __future__ import annotations

import numpy as np
from scipy.spatial import cKDTree
from scipy.special import digamma, logsumexp
from threadpoolctl import threadpool_limits

from ..representations import GaussianStructure, Posteriors, sqrt_psd
from ..validation import BenchmarkError, check_codes, check_positive_int, check_rng
from ._exact import posterior_components
from ._gaussian import BIN_WIDTH, MAX_BINNED_GRID, MAX_EVAL_BOOST, grid_components, merge_draws, regularised
from ._histogram import plugin_entropy
from ._structure import RESOLVE_THRESHOLD, Codebook, analyse_subset, stratified_factors
from ._tables import component_picks
from ._threads import MAX_WORKERS, map_in_threads, off_main_thread, query_workers

__all__ = ["gaussian_entropy", "gaussian_total_correlation", "knn_entropy", "knn_total_correlation",
           "mixture_entropies"]


#: Smallest eigenvalue kept in a correlation matrix: a latent that is an exact linear
#: function of others has an infinite total correlation, reported as a finite
#: ``0.5 * log(1e12) = 13.8`` nats per such relation instead.
MIN_EIGENVALUE = 1e-12


def gaussian_entropy(cov) -> float:
    """Differential entropy ``0.5 * log det(2 pi e cov)`` (nats) of a Gaussian.

    Examples
    --------
    >>> round(gaussian_entropy([[1.0]]), 4)  # 0.5 * log(2 pi e)
    1.4189
    """
    cov = np.atleast_2d(np.asarray(cov, dtype=float))
    sign, logdet = np.linalg.slogdet(2 * np.pi * np.e * cov)
    if sign <= 0:
        raise BenchmarkError("cov must be positive definite")
    return 0.5 * float(logdet)


def gaussian_total_correlation(cov) -> float:
    """Total correlation of a Gaussian: ``-0.5 * log det(R)``, ``R`` its correlation matrix.

    The formula of disentanglement_lib's ``gaussian_total_correlation``
    (``evaluation/metrics/unsupervised_metrics.py``), written through the
    correlation matrix; latents of zero variance are dropped (a constant is
    independent of everything) and eigenvalues of ``R`` below
    :data:`MIN_EIGENVALUE` are raised to it, so an exact linear relation gives a
    large finite value instead of infinity.

    Examples
    --------
    >>> round(gaussian_total_correlation([[1.0, 0.6], [0.6, 1.0]]), 4)  # -0.5 log(1 - 0.36)
    0.2231
    """
    cov = np.atleast_2d(np.asarray(cov, dtype=float))
    if cov.ndim != 2 or cov.shape[0] != cov.shape[1] or not np.all(np.isfinite(cov)):
        raise BenchmarkError(f"cov must be a finite square matrix, got shape {cov.shape}")
    var = np.diag(cov)
    keep = var > 0
    if keep.sum() < 2:
        return 0.0
    sd = np.sqrt(var[keep])
    corr = cov[np.ix_(keep, keep)] / np.outer(sd, sd)
    eig = np.linalg.eigvalsh(0.5 * (corr + corr.T))
    return float(-0.5 * np.sum(np.log(np.maximum(eig, MIN_EIGENVALUE))))


# ---------------------------------------------------------------------------------
# the Monte Carlo density pass


def _rows_per_chunk(num_rows, num_components, max_memory_mb) -> int:
    # arrays of ~4 MB stay in the allocator's reuse pool; ~6 chunk-sized arrays per worker
    return int(max(1, min(num_rows, 4e6 / (8.0 * num_components),
                          max_memory_mb * 1e6 / (8.0 * 6 * num_components * MAX_WORKERS))))


def _mean_log_ratio(x, own, mu, log_w, *, cov=None, var=None, max_memory_mb=200.0) -> float:
    """``mean_i [own_i - log sum_j w_j N(x_i; mu_j, .)]``.

    Densities are taken without the ``(2 pi)^(d/2)`` factor, and with a shared
    ``cov`` also without ``det(cov)^(1/2)``: ``own_i`` (the log density of the
    evaluation point's own component) follows the same convention, so the
    dropped normaliser cancels.  ``log_w`` must be normalised.  With ``var``
    (per-component diagonal variances) each component has its own normaliser.
    """
    num, dim = x.shape
    if cov is not None:
        prec = np.linalg.inv(cov)
        chol = np.linalg.cholesky(0.5 * (prec + prec.T))
        b = mu @ chol
        bb = (b**2).sum(axis=1)
    else:
        inv_var = 1.0 / var
        log_norm = -0.5 * np.log(var).sum(axis=1)
        mu_iv = mu * inv_var
        mm = (mu**2 * inv_var).sum(axis=1)
    chunk = _rows_per_chunk(num, len(mu), max_memory_mb)

    def work(start):
        rows = x[start:start + chunk]
        if dim == 1:  # the direct difference keeps full precision for narrow components
            q = np.subtract.outer(rows[:, 0], mu[:, 0])
            q *= q
            q *= (1.0 / cov[0, 0]) if cov is not None else inv_var[:, 0]
        elif cov is not None:
            a = rows @ chol
            q = a @ b.T
            q *= -2.0
            q += (a**2).sum(axis=1)[:, None]
            q += bb[None, :]
            np.maximum(q, 0.0, out=q)
        else:
            q = (rows**2) @ inv_var.T
            q -= 2.0 * (rows @ mu_iv.T)
            q += mm[None, :]
            np.maximum(q, 0.0, out=q)
        q *= -0.5
        q += log_w[None, :]
        if cov is None:
            q += log_norm[None, :]
        top = q.max(axis=1)
        q -= top[:, None]
        # every entry is <= 0 after the shift and 0 at the best component: single
        # precision carries the exponentials to 6e-8 relative error
        total = np.exp(q.astype(np.float32)).sum(axis=1, dtype=np.float64)
        return float(np.sum(own[start:start + chunk] - top - np.log(total)))

    with threadpool_limits(1, user_api="blas"):
        parts = map_in_threads(work, range(0, num, chunk))
    return float(np.sum(parts)) / num


def _own_shared(noise, cov) -> np.ndarray:
    """``-0.5 * noise^T cov^-1 noise`` per row: the log density (convention of
    :func:`_mean_log_ratio`) of a point at its own component."""
    chol = np.linalg.cholesky(cov)
    white = np.linalg.solve(chol, noise.T)
    return -0.5 * (white**2).sum(axis=0)


def _binned(means, counts, width, max_bins):
    """Components of a 1-D mixture merged into equal-width bins, each represented by
    its centroid and total weight.

    The bin width is ``width`` or, when that would leave more than ``max_bins``
    bins, the range over ``max_bins``: replacing a component by its bin's centroid
    moves it by less than a width, which changes an entropy by about
    ``(width / sigma)^2 / 24`` nats (2e-5 for the default ``BIN_WIDTH``).
    """
    span = float(means.max() - means.min())
    width = max(width, span / max(max_bins, 1), np.finfo(float).tiny)
    bins = np.floor((means - means.min()) / width).astype(np.int64)
    occupied, inv = np.unique(bins, return_inverse=True)
    if len(occupied) >= len(means):
        return means, counts
    weight = np.bincount(inv, weights=counts, minlength=len(occupied))
    centroid = np.bincount(inv, weights=counts * means, minlength=len(occupied)) / weight
    return centroid, weight


def _normalised_log(counts) -> np.ndarray:
    with np.errstate(divide="ignore"):
        log_w = np.log(np.asarray(counts, dtype=float))
    return log_w - logsumexp(log_w)


def _eval_size(num_mc_points, num_components, num_comp) -> int:
    # a small mixture gets more evaluation points for the same work
    return int(num_mc_points * min(MAX_EVAL_BOOST, max(1.0, num_components / max(num_comp, 1))))


def _group_means_1d(book, group, l, sizes, num_components, rng):
    """Latent ``l``'s mean at every point of the grid of ``group`` (a uniform sample of
    ``num_components`` points when the grid exceeds :data:`MAX_BINNED_GRID`)."""
    shape = [sizes[k] for k in group]
    grid = int(np.prod(shape, dtype=float))
    if grid <= MAX_BINNED_GRID:
        means = np.zeros(shape)
        for i, k in enumerate(group):
            view = [1] * len(group)
            view[i] = sizes[k]
            means = means + book.table[k][:, l].reshape(view)
        return means.reshape(-1) + book.base[l], np.ones(grid)
    labels = [rng.integers(0, sizes[k], size=num_components) for k in group]
    means = sum(book.table[k][labels[i], l] for i, k in enumerate(group)) + book.base[l]
    return means, np.ones(num_components)


def _group_information(book, cov, space, group, subset, opts, rng) -> float:
    """``I(y_G; z_S)`` of the factors ``group`` alone, as if the other factors were fixed:
    ``mean [log N(x; own mean) - log p(x)]`` over points drawn from the group's model."""
    sizes = space.sizes
    cov_s = cov[np.ix_(subset, subset)]
    if len(subset) == 1:
        l = int(subset[0])
        means, counts = _group_means_1d(book, group, l, sizes, opts["num_components"], rng)
        mu, counts = _binned(means, counts, BIN_WIDTH * np.sqrt(cov_s[0, 0]), opts["num_components"])
        mu = mu[:, None]
    else:
        comp, log_count = grid_components(sizes, group, opts["num_components"], rng)
        full = np.zeros((len(comp), len(sizes)), dtype=np.int64)
        full[:, list(group)] = comp
        mu = book.assemble(full, group)[:, subset]
        counts = np.exp(log_count)
    n = _eval_size(opts["num_mc_points"], opts["num_components"], len(mu))
    y = stratified_factors(space, n, rng)
    noise = rng.standard_normal((n, len(subset))) @ sqrt_psd(cov_s).T
    x = book.assemble(y, group)[:, subset] + noise
    return _mean_log_ratio(x, _own_shared(noise, cov_s), mu, _normalised_log(counts), cov=cov_s,
                           max_memory_mb=opts["max_memory_mb"])


def _gaussian_entropies(rep, subsets, opts, rng) -> np.ndarray:
    space = rep.space
    cov = regularised(np.asarray(rep.cov, dtype=float))
    entropy_y = space.entropies()
    uniform = space.is_grid
    book = Codebook(rep, rng) if uniform and opts["exploit_structure"] else None
    structured = book is not None and book.additive
    out = np.empty(len(subsets))
    shared = None
    for i, subset in enumerate(subsets):
        cov_s = cov[np.ix_(subset, subset)]
        info = 0.0
        if structured:
            status = analyse_subset(book, cov, subset, opts["resolve_threshold"])
            groups = []
            for k, st in enumerate(status):
                if st == "resolved":
                    info += entropy_y[k]  # z_S identifies y_k; conditioning removes it
                elif st != "zero" and st not in groups:
                    groups.append(st)
            for group in groups:
                part = _group_information(book, cov, space, group, subset, opts, rng)
                info += float(np.clip(part, 0.0, entropy_y[list(group)].sum()))
        else:
            if shared is None:
                shared = _plain_mixture(rep, cov, opts, rng)
            y_cap, x, noise, mu, log_w = shared
            part = _mean_log_ratio(x[:, subset], _own_shared(noise[:, subset], cov_s), mu[:, subset],
                                   log_w, cov=cov_s, max_memory_mb=opts["max_memory_mb"])
            info = float(np.clip(part, 0.0, y_cap))
        out[i] = gaussian_entropy(cov_s) + info
    return out


def _plain_mixture(rep, cov, opts, rng):
    """One mixture over all factors (no factor structure): evaluation points, their
    noise, the components and their log weights, and the cap ``sum_k H(y_k)``."""
    space = rep.space
    if space.is_grid:
        comp, log_count = grid_components(space.sizes, tuple(range(space.num_factors)),
                                          opts["num_components"], rng)
        n = _eval_size(opts["num_mc_points"], opts["num_components"], len(comp))
        y = stratified_factors(space, n, rng)
    else:  # components are rows of the data
        comp, log_count = merge_draws(space.sample(opts["num_components"], rng))
        n = _eval_size(opts["num_mc_points"], opts["num_components"], len(comp))
        y = space.sample(n, rng)
    noise = rng.standard_normal((n, rep.dim)) @ sqrt_psd(cov, cholesky=False).T
    x = np.asarray(rep.mean(y), dtype=float) + noise
    mu = np.asarray(rep.mean(comp), dtype=float)
    return float(space.entropies().sum()), x, noise, mu, log_count - logsumexp(log_count)


def _posterior_entropies(rep, subsets, opts, rng) -> np.ndarray:
    num_components = opts["num_components"]
    comp, log_count, mu, var = posterior_components(rep, num_components, rng)
    counts = np.exp(log_count)
    n = _eval_size(opts["num_mc_points"], num_components, len(comp))
    pick = component_picks(counts, n, rng)  # evaluation points from the mixture itself
    eps = rng.standard_normal((n, mu.shape[1]))
    x = mu[pick] + np.sqrt(var[pick]) * eps
    log_w = _normalised_log(counts)
    weights = np.exp(log_w)
    cap = plugin_entropy(counts)  # I(component; z_S) <= H(component)
    out = np.empty(len(subsets))
    for i, subset in enumerate(subsets):
        v = var[:, subset]
        conditional = float(weights @ (0.5 * np.log(2 * np.pi * np.e * v).sum(axis=1)))
        own = -0.5 * (eps[:, subset] ** 2).sum(axis=1) - 0.5 * np.log(v[pick]).sum(axis=1)
        part = _mean_log_ratio(x[:, subset], own, mu[:, subset], log_w, var=v,
                               max_memory_mb=opts["max_memory_mb"])
        out[i] = conditional + float(np.clip(part, 0.0, cap))
    return out


def _check_subsets(subsets, dim):
    if subsets is None:
        return [np.array([l]) for l in range(dim)] + [np.arange(dim)]
    out = []
    for s in subsets:
        s = np.atleast_1d(np.asarray(s))
        if s.ndim != 1 or s.size == 0 or not np.issubdtype(s.dtype, np.integer) \
                or s.min() < 0 or s.max() >= dim or len(np.unique(s)) != s.size:
            raise BenchmarkError(f"subsets must hold non-empty lists of distinct latent indices "
                                 f"in 0..{dim - 1}, got {s.tolist()!r}")
        out.append(s.astype(np.int64))
    if not out:
        raise BenchmarkError("subsets must not be empty")
    return out


def mixture_entropies(rep, rng, *, subsets=None, num_mc_points: int = 10000,
                      num_components: int = 10000,
                      resolve_threshold: float | None = RESOLVE_THRESHOLD,
                      exploit_structure: bool = True, max_memory_mb: float = 200.0) -> np.ndarray:
    """Differential entropies ``H(z_S)`` (nats) of the aggregate mixture, by Monte Carlo.

    Each entropy is split as ``H(z_S) = H(z_S | c) + I(c; z_S)``, ``c`` the
    mixture component: the conditional part is a closed form (the Gaussian
    entropy of the shared covariance, or the weighted mean of the diagonal
    posteriors' entropies) and the information is ``mean_i [log p(x_i | c_i) -
    log p(x_i)]`` over evaluation points drawn from the representation, the
    density pass of :func:`mixture_informations` with the point's own component
    in place of a factor value: its own log density is a control variate that
    removes most of the Monte Carlo error of a plain ``-mean log p(x_i)``.

    For a conditionally Gaussian representation (``c`` is the factor vector
    ``y``) whose mean is additive over the factors of a grid, the factor
    structure is used as :func:`mixture_informations` uses it: factors that do
    not move ``z_S`` add nothing, factors that ``z_S`` resolves add ``H(y_k)``
    and leave the mixture, and the remaining groups of factors (mutually
    orthogonal whitened directions) add their own informations
    ``I(y_G; z_S)``.  A single latent's mixture enumerates its group's grid (up
    to 2,000,000 points) with components merged into bins of 0.02 noise
    standard deviations; larger subsets enumerate a group's grid up to
    ``num_components`` points and draw ``num_components`` uniform components
    beyond that.  Without that structure one mixture over all factors is used.
    A mixture of fewer than ``num_components`` components gets up to 8 times
    ``num_mc_points`` evaluation points (the same number of density evaluations
    at most).
    For per-sample posteriors the mixture is that of
    :func:`mixture_informations` (the grid's or the table's posteriors, at most
    ``num_components``) and the evaluation points are drawn from it.  Each
    information is clipped to ``[0, H]`` with ``H`` the entropy of what the
    mixture's components stand for (``sum_k H(y_k)`` of the group, or the
    entropy of the component weights).  Subsets share the evaluation points
    where they share the mixture (posteriors, or no factor structure), so a
    mixture whose latents are independent gets a total correlation of 0 to
    rounding.

    For a table of posteriors the mixture is that of its rows: rows scattered
    farther than their posteriors' width make its latents dependent at that
    fine scale, even when the table's factors are encoded independently.

    Parameters
    ----------
    rep : Representation
        Offering :class:`~benchmark.representations.GaussianStructure` or
        :class:`~benchmark.representations.Posteriors` (an entropy changes under
        a map of the latents, so an
        :class:`~benchmark.representations.InformationEquivalent` one is not
        followed).
    rng : int or numpy.random.Generator
    subsets : sequence of sequences of int, optional
        Latent subsets ``S``; default every single latent, then all latents.
    num_mc_points : int, default 10000
    num_components : int, default 10000
    resolve_threshold : float or None, default 8.0
    exploit_structure : bool, default True
    max_memory_mb : float, default 200
        See :func:`mixture_informations`.

    Returns
    -------
    ndarray of shape (len(subsets),)

    Examples
    --------
    Two well separated values copied into two latents with independent noise:
    each latent alone has ``log 2`` nats of the factor, the pair has it once, so
    the total correlation ``H(z_0) + H(z_1) - H(z)`` is ``log 2``.

    >>> import numpy as np
    >>> from benchmark import FactorSpace, ideal, linear_transform
    >>> rep = linear_transform(ideal(FactorSpace.synthetic([2]), noise=0.0), [[1.0], [1.0]],
    ...                        np.diag([0.05, 0.05]))
    >>> h = mixture_entropies(rep, 0)
    >>> round(float(h[0] + h[1] - h[2]), 3), round(float(np.log(2)), 3)
    (0.693, 0.693)
    """
    rng = check_rng(rng)
    opts = {"num_mc_points": check_positive_int(num_mc_points, "num_mc_points", 2),
            "num_components": check_positive_int(num_components, "num_components", 1),
            "resolve_threshold": resolve_threshold, "exploit_structure": bool(exploit_structure),
            "max_memory_mb": max_memory_mb}
    if resolve_threshold is not None and not (np.isfinite(resolve_threshold) and resolve_threshold > 0):
        raise BenchmarkError(
            f"resolve_threshold must be a positive number or None, got {resolve_threshold!r}")
    if not (np.isfinite(max_memory_mb) and max_memory_mb > 0):
        raise BenchmarkError(f"max_memory_mb must be positive, got {max_memory_mb!r}")
    subsets = _check_subsets(subsets, rep.dim)
    if isinstance(rep, GaussianStructure):
        return _gaussian_entropies(rep, subsets, opts, rng)
    if isinstance(rep, Posteriors):
        return _posterior_entropies(rep, subsets, opts, rng)
    raise BenchmarkError(
        f"mixture_entropies needs a Gaussian representation or posterior variances; "
        f"{getattr(rep, 'name', type(rep).__name__)!r} has neither")


# ---------------------------------------------------------------------------------
# nearest neighbours


def _distinct_points(codes, k, argname="codes") -> np.ndarray:
    codes = check_codes(codes, argname)
    k = check_positive_int(k, "k")
    if len(np.unique(codes, axis=0)) != len(codes):
        raise BenchmarkError(f"{argname} has repeated rows; nearest-neighbour entropies need "
                             "distinct points (drop the repeats first)")
    if len(codes) <= k:
        raise BenchmarkError(f"{argname} needs more than k = {k} rows, got {len(codes)}")
    return codes


def _kth_distance(codes, k) -> np.ndarray:
    # off the main thread: a Ctrl-C would abort scipy's threaded query half-way
    dist, _ = off_main_thread(cKDTree(codes).query, codes, k=k + 1, p=np.inf,
                              workers=query_workers(codes))
    return dist[:, -1]


def knn_entropy(codes, *, k: int = 3) -> float:
    """Kozachenko-Leonenko estimate (max-norm) of the differential entropy, in nats.

    ``psi(n) - psi(k) + d * mean_i log(2 eps_i)``, ``eps_i`` the max-norm
    distance from point ``i`` to its ``k``-th nearest neighbour (Kraskov et al.
    2004, eq. 20).  The estimate depends on the scale of the columns, as a
    differential entropy does.

    Parameters
    ----------
    codes : ndarray of shape (n, d)
        Distinct points (a repeated row has ``eps = 0``).
    k : int, default 3

    Returns
    -------
    float

    Examples
    --------
    >>> import numpy as np
    >>> x = np.random.default_rng(0).standard_normal((4000, 1))
    >>> bool(abs(knn_entropy(x) - 0.5 * np.log(2 * np.pi * np.e)) < 0.05)  # 1.419 nats
    True
    """
    codes = _distinct_points(codes, k)
    n, d = codes.shape
    eps = _kth_distance(codes, k)
    return float(digamma(n) - digamma(k) + d * np.mean(np.log(2 * eps)))


def knn_total_correlation(codes, *, k: int = 3) -> float:
    """Kraskov-Stoegbauer-Grassberger estimate of the total correlation, in nats.

    ``TC = sum_l H(z_l) - H(z)`` by the multi-variable form of the KSG
    estimator 1 (Kraskov et al. 2004, eq. 9):
    ``psi(k) + (d - 1) psi(n) - mean_i sum_l psi(n_il + 1)``, with ``eps_i``
    the max-norm distance to the ``k``-th neighbour in the joint space and
    ``n_il`` the number of other points closer than ``eps_i`` in column ``l``.
    Using the joint neighbour distance for every marginal makes the errors of
    the entropies largely cancel (summing :func:`knn_entropy` estimates does
    not).  Columns are scaled to unit variance first (the estimate's finite
    sample bias depends on the scales, its limit does not); constant columns
    are independent of everything and are dropped.

    Parameters
    ----------
    codes : ndarray of shape (n, d)
        Distinct rows.
    k : int, default 3

    Returns
    -------
    float
        Not clipped at 0 (the estimate of independent columns scatters around 0).

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> x = rng.standard_normal((4000, 2)) @ np.linalg.cholesky([[1.0, 0.8], [0.8, 1.0]]).T
    >>> bool(abs(knn_total_correlation(x) + 0.5 * np.log(1 - 0.8**2)) < 0.03)  # 0.511 nats
    True
    """
    codes = _distinct_points(codes, k)
    std = codes.std(axis=0)
    codes = codes[:, std > 0] / std[std > 0]
    n, d = codes.shape
    if d < 2:
        return 0.0
    # shrunk to the next float below so that "closer than eps" is an inclusive query
    # whose distances the KD-tree computes as its k-th neighbour search did
    radius = np.nextafter(_kth_distance(codes, k), 0)
    total = 0.0
    for l in range(d):
        col = codes[:, l:l + 1]
        count = off_main_thread(cKDTree(col).query_ball_point, col, radius, p=np.inf,
                                return_length=True, workers=query_workers(col))
        total += np.mean(digamma(count))  # count includes the point itself: n_il + 1
    return float(digamma(k) + (d - 1) * digamma(n) - total)
