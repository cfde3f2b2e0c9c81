"""Information estimators for ``I(y_k; z_S)``: factor ``k`` against a latent subset ``S``.

The PID metric needs, for every factor ``k`` and latent ``l``, the three
informations ``I(y_k; z_l)``, ``I(y_k; z_-l)`` (all latents but ``l``) and
``I(y_k; z)``.  Two estimators compute all of them at once:

``exact`` (:func:`mixture_informations`)
    For conditionally Gaussian representations (``rep.is_gaussian``: ``z | y ~
    N(mean(y), cov)`` with a shared covariance) and for per-sample diagonal
    Gaussian posteriors (``rep.posterior(y) -> (means, variances)``, a VAE's
    case).  ``I(y_k; z_S) = H(z_S) - H(z_S | y_k)`` where both entropies are of
    mixtures of Gaussians, estimated by Monte Carlo as in Tokui & Sato (2022):
    evaluation points are drawn from the representation, independently of the
    mixture components (no self-match bias), and one log-density matrix
    (evaluation points x components) per latent subset gives every factor at
    once by grouping the components by factor value (log-sum-exp per group).
    The ``L`` "all but one" subsets come from the full-set matrix by a rank-one
    correction of the full precision matrix (see :func:`_subset_quadratic`).
    See :func:`mixture_informations` for how the factor structure of a
    Gaussian representation is used to keep the mixtures small and exact.

``knn`` (:func:`knn_informations`)
    For any representation: the nearest-neighbour estimator of Ross (2014) for
    a discrete variable against continuous (multivariate) codes, ``k = 3``,
    max-norm, scipy ``cKDTree``; for one latent it is the estimator of
    scikit-learn's ``mutual_info_classif``.

:func:`informations` dispatches on ``estimator="auto" | "exact" | "knn"`` and
:func:`resolve_estimator` says which one ``auto`` picks for a representation.
"""
from __future__ import annotations

import itertools
import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
from scipy.spatial import cKDTree
from scipy.special import digamma, logsumexp
from threadpoolctl import threadpool_limits

from .factors import FactorSpace
from .validation import BenchmarkError, check_positive_int, check_rng

ESTIMATORS = ("auto", "exact", "knn")

#: Mahalanobis separation (in units of the noise) beyond which a factor counts as
#: resolved by a latent subset; two values that far apart are confused with
#: probability Phi(-4) = 3e-5, which moves an information by < 1e-3 nats.
RESOLVE_THRESHOLD = 8.0

#: A mixture with fewer components than ``num_components`` gets up to this many times
#: ``num_eval`` evaluation points (the same number of density evaluations at most).
MAX_EVAL_BOOST = 8.0

_WORKERS = max(1, min(4, os.cpu_count() or 1))


@dataclass
class Informations:
    """All informations the PID bounds need, in nats.

    Attributes
    ----------
    single : ndarray of shape (K, L)
        ``I(y_k; z_l)``.
    rest : ndarray of shape (K, L)
        ``I(y_k; z_-l)``, every latent but ``l``.
    joint : ndarray of shape (K,)
        ``I(y_k; z)``.
    entropy : ndarray of shape (K,)
        ``H(y_k)``.
    estimator : str
        ``"exact"`` or ``"knn"``.
    """

    single: np.ndarray
    rest: np.ndarray
    joint: np.ndarray
    entropy: np.ndarray
    estimator: str

    @classmethod
    def zeros(cls, num_factors, dim, entropy, estimator):
        return cls(np.zeros((num_factors, dim)), np.zeros((num_factors, dim)),
                   np.zeros(num_factors), np.asarray(entropy, dtype=float), estimator)

    def to_dict(self) -> dict:
        """A JSON-serialisable copy (floats round-trip exactly)."""
        return {"single": self.single.tolist(), "rest": self.rest.tolist(),
                "joint": self.joint.tolist(), "entropy": self.entropy.tolist(),
                "estimator": self.estimator}

    @classmethod
    def from_dict(cls, data: dict) -> "Informations":
        keys = ("single", "rest", "joint", "entropy")
        return cls(*(np.asarray(data[key], dtype=float) for key in keys), data["estimator"])

    def store(self, key, factor, value):
        """Set the information of ``factor`` for the subset ``key`` (see :func:`_subsets`)."""
        kind, l = key
        if kind == "all":
            self.joint[factor] = value
        elif kind == "rest":
            self.rest[factor, l] = value
        else:
            self.single[factor, l] = value


# ----------------------------------------------------------------------------------------------
# dispatch


def has_posterior(rep) -> bool:
    """Whether ``rep`` exposes per-sample diagonal Gaussian posteriors.

    The method must be defined by the representation's own class: a wrapper
    that forwards attributes to a base representation (for example a linear
    attack on a table of encodings) does not transform the posteriors, so it
    does not count.
    """
    return callable(getattr(type(rep), "posterior", None))


def exact_is_reliable(rep, num_components: int = 10000) -> bool:
    """Whether ``auto`` should use the exact estimator on ``rep``.

    Always for Gaussian representations.  For per-sample posteriors only when
    the mixture holds every point of the data: on a uniform factor grid when
    the grid has at most ``num_components`` points, for a table of encodings
    when the table covers the whole factor grid and all its rows fit in
    ``num_components``.  A mixture over a sparse set of grid points or rows
    with narrow posteriors singles out rows, and through them the values of
    factors that are dependent within the sample, which overstates redundancy
    (measured on ``examples/make_encodings.py``, 20,000 rows of a 737,280-point
    grid: UniBound 0.04 from 2,000 rows, 0.27 from all rows, 0.55 by kNN).
    """
    if getattr(rep, "is_gaussian", False):
        return True
    if not has_posterior(rep):
        return False
    covers = getattr(rep, "covers_grid", None)
    if covers is None:
        grid = np.prod(rep.space.sizes, dtype=float)
        return _is_uniform_grid(rep.space) and grid <= num_components
    return bool(covers) and len(rep.space.rows) <= num_components


def resolve_estimator(rep, estimator: str = "auto", num_components: int = 10000) -> str:
    """The estimator ``estimator`` stands for on ``rep``: ``"exact"`` or ``"knn"``.

    ``"auto"`` picks ``"exact"`` for conditionally Gaussian representations and
    for ones with per-sample Gaussian posteriors (for a table of encodings, only
    when :func:`exact_is_reliable`), ``"knn"`` otherwise.
    """
    if estimator not in ESTIMATORS:
        raise BenchmarkError(f"estimator must be one of {', '.join(ESTIMATORS)}, got {estimator!r}")
    exact_ok = bool(getattr(rep, "is_gaussian", False)) or has_posterior(rep)
    if estimator == "auto":
        return "exact" if exact_is_reliable(rep, num_components) else "knn"
    if estimator == "exact" and not exact_ok:
        raise BenchmarkError(
            f"estimator='exact' needs a Gaussian representation or posterior variances; "
            f"{getattr(rep, 'name', type(rep).__name__)!r} has neither (use estimator='knn')")
    return estimator


def informations(rep, rng, estimator: str = "auto", num_eval: int = 10000,
                 num_components: int = 10000, num_samples: int = 10000, k: int = 3,
                 resolve_threshold: float | None = RESOLVE_THRESHOLD,
                 exploit_structure: bool = True, max_memory_mb: float = 200.0) -> Informations:
    """``I(y_k; z_l)``, ``I(y_k; z_-l)`` and ``I(y_k; z)`` for every factor and latent.

    Parameters
    ----------
    rep : Representation
    rng : numpy.random.Generator
    estimator : {"auto", "exact", "knn"}
    num_eval, num_components, resolve_threshold, exploit_structure, max_memory_mb
        Passed to :func:`mixture_informations` (exact estimator).
    num_samples, k
        Passed to :func:`knn_informations`.

    Returns
    -------
    Informations
    """
    rng = check_rng(rng)
    name = resolve_estimator(rep, estimator, num_components)
    if name == "exact":
        return mixture_informations(rep, rng, num_eval=num_eval, num_components=num_components,
                                    resolve_threshold=resolve_threshold,
                                    exploit_structure=exploit_structure,
                                    max_memory_mb=max_memory_mb)
    return knn_informations(rep, rng, num_samples=num_samples, k=k)


# ----------------------------------------------------------------------------------------------
# exact estimator: sampling and factor structure


def _is_uniform_grid(space) -> bool:
    """A plain factor grid with independent uniform factors (not a data table)."""
    return type(space).sample is FactorSpace.sample


def _stratified_factors(space, n, rng) -> np.ndarray:
    """``n`` uniform factor vectors in which every value of every factor appears
    equally often (to within one), each column independently permuted."""
    return np.stack([rng.permutation(np.resize(np.arange(s), n)) for s in space.sizes], axis=1)


def _regularised(cov: np.ndarray) -> np.ndarray:
    """``cov`` plus a tiny ridge so that noiseless (singular) codes stay computable."""
    scale = float(np.trace(cov)) / max(cov.shape[0], 1)
    return cov + np.eye(cov.shape[0]) * max(1e-10 * scale, 1e-12)


def _sqrt_psd(cov: np.ndarray) -> np.ndarray:
    w, v = np.linalg.eigh(cov)
    return v * np.sqrt(np.clip(w, 0.0, None))


class _Codebook:
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


def _orth(rows: np.ndarray, tol: float = 1e-9) -> np.ndarray:
    """Orthonormal basis (columns) of the span of ``rows``."""
    if rows.size == 0:
        return np.zeros((rows.shape[1] if rows.ndim == 2 else 0, 0))
    u, s, vt = np.linalg.svd(rows, full_matrices=False)
    return vt[s > tol * max(1.0, s[0])].T if s.size else np.zeros((rows.shape[1], 0))


def _analyse_subset(book: _Codebook, cov: np.ndarray, subset: np.ndarray, threshold):
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
    bases = [_orth(d) if r else None for d, r in zip(diffs, relevant)]
    status = ["zero"] * num_factors
    unresolved = []
    for k in range(num_factors):
        if not relevant[k]:
            continue
        if threshold is None:
            unresolved.append(k)
            continue
        others = [diffs[j] for j in range(num_factors) if j != k and relevant[j]]
        basis = _orth(np.vstack(others)) if others else np.zeros((len(subset), 0))
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


# ----------------------------------------------------------------------------------------------
# exact estimator: the chunked log-density kernel


@dataclass
class _Mixture:
    """One mixture problem: evaluation points against weighted Gaussian components.

    ``cov`` is the shared covariance, or ``None`` when ``var`` holds per-component
    diagonal variances.  ``factors`` are the factor indices whose informations are
    wanted and ``eval_labels`` their values at the evaluation points;
    ``weights[j, offset_k + v]`` is the weight (number of merged draws or grid
    points) of component ``j`` with factor ``k`` at value ``v``, so a component
    may stand for several factor values (binned 1-D components).
    """

    x: np.ndarray
    mu: np.ndarray
    weights: np.ndarray
    factors: tuple
    eval_labels: np.ndarray
    sizes: tuple
    cov: np.ndarray | None = None
    var: np.ndarray | None = None


def _subset_quadratic(kind, l, pre, rows):
    """Squared Mahalanobis distances (chunk x components) and per-component log weights.

    ``kind`` is ``"all"``, ``"rest"`` (all latents but ``l``) or ``"one"`` (latent
    ``l``).  For a shared covariance with precision ``P``, the marginal of all
    latents but ``l`` has the quadratic form ``q(d) - (P d)_l**2 / P_ll``: a
    rank-one correction of the full-set distances, separable in evaluation point
    and component, so no factorisation or matmul per ``l`` is needed.  The
    Gaussian normalisers are common to all components of a shared covariance
    and cancel in every information, so they are left out.
    """
    if pre["shared"]:
        if kind == "one":
            q = np.subtract.outer(rows["x"][:, l], pre["mu"][:, l])
            q *= q
            q *= 1.0 / pre["cov"][l, l]
            return q, None
        if kind == "all":
            return rows["q_all"].copy(), None
        t = np.subtract.outer(rows["h"][:, l], pre["h"][:, l])
        t *= t
        t *= 1.0 / pre["prec"][l, l]
        return rows["q_all"] - t, None
    # per-component diagonal covariances
    if kind == "one":
        q = np.subtract.outer(rows["x"][:, l], pre["mu"][:, l])
        q *= q
        q *= pre["inv_var"][:, l]
        return q, -0.5 * pre["log_var"][:, l]
    if kind == "all":
        return rows["q_all"].copy(), -0.5 * pre["log_det"]
    t = np.subtract.outer(rows["x"][:, l], pre["mu"][:, l])
    t *= t
    t *= pre["inv_var"][:, l]
    return rows["q_all"] - t, -0.5 * (pre["log_det"] - pre["log_var"][:, l])


def _map_in_threads(func, items) -> list:
    """``[func(item) for item in items]`` on :data:`_WORKERS` threads (numpy releases
    the GIL in ufuncs and BLAS), in order."""
    if _WORKERS > 1 and len(items) > 1:
        with ThreadPoolExecutor(_WORKERS) as pool:
            return list(pool.map(func, items))
    return [func(item) for item in items]


def _prepare(mix: _Mixture) -> dict:
    pre = {"mu": mix.mu, "shared": mix.cov is not None}
    if pre["shared"]:
        prec = np.linalg.inv(mix.cov)
        prec = 0.5 * (prec + prec.T)
        pre.update(cov=mix.cov, prec=prec, chol=np.linalg.cholesky(prec))
        pre["b"] = mix.mu @ pre["chol"]          # whitened means: q = ||(x - mu) @ chol||^2
        pre["bb"] = (pre["b"] ** 2).sum(axis=1)
        pre["h"] = mix.mu @ prec                  # (P mu)_l for the rank-one corrections
    else:
        inv_var = 1.0 / mix.var
        pre.update(inv_var=inv_var, log_var=np.log(mix.var),
                   mu_iv=mix.mu * inv_var, mm=(mix.mu**2 * inv_var).sum(axis=1))
        pre["log_det"] = pre["log_var"].sum(axis=1)
    # component weights per value, all requested factors side by side: one matmul
    # gives every group's summed density for every factor
    offsets = np.concatenate([[0], np.cumsum([mix.sizes[k] for k in mix.factors])])
    counts = mix.weights[:, :offsets[1]].sum(axis=1)
    with np.errstate(divide="ignore"):
        log_weights = np.log(mix.weights)
    pre.update(weights=mix.weights.astype(np.float32), log_weights=log_weights,
               counts=counts.astype(np.float32), offsets=offsets, total=counts.sum(),
               group_total=mix.weights.sum(axis=0))
    return pre


def _chunk_rows(pre, x_chunk, need_all: bool) -> dict:
    rows = {"x": x_chunk}
    if not need_all:
        return rows
    if pre["shared"]:
        a = x_chunk @ pre["chol"]
        q = a @ pre["b"].T
        q *= -2.0
        q += (a**2).sum(axis=1)[:, None]
        q += pre["bb"][None, :]
        np.maximum(q, 0.0, out=q)
        rows.update(q_all=q, h=x_chunk @ pre["prec"])
    else:
        q = (x_chunk**2) @ pre["inv_var"].T
        q -= 2.0 * (x_chunk @ pre["mu_iv"].T)
        q += pre["mm"][None, :]
        np.maximum(q, 0.0, out=q)
        rows["q_all"] = q
    return rows


def _log_ratio_sums(q, log_w, pre, labels, cols, mix):
    """Sum over rows of ``log p(x | y_k = own value) - log p(x)`` for each requested factor.

    ``q`` is overwritten.  ``cols`` indexes the requested factors within ``mix.factors``.
    """
    q *= -0.5
    if log_w is not None:
        q += log_w[None, :]
    q -= q.max(axis=1)[:, None]
    # After the shift every entry is <= 0 and exactly 0 at the row's best component;
    # float32 carries these to 6e-8 relative error (< 1e-4 nats even for entries
    # near -700), so the exp and the group-sum matmul run in single precision at
    # twice the throughput while the distances above stay in double precision.
    dens = np.exp(q.astype(np.float32))
    total = (dens @ pre["counts"]).astype(np.float64)
    groups = dens @ pre["weights"]
    out = np.empty(len(cols))
    for n, i in enumerate(cols):
        col = pre["offsets"][i] + labels[:, i]
        own = groups[np.arange(len(q)), col]
        log_own = np.log(np.maximum(own, 1e-38))
        for r in np.nonzero(own < 1e-30)[0]:
            # the own group underflowed against the best one: redo that row in log space
            log_own[r] = logsumexp(q[r] + pre["log_weights"][:, col[r]])
        ratio = (log_own - np.log(pre["group_total"][col])) - (np.log(total) - np.log(pre["total"]))
        out[n] = ratio.sum()
    return out


def _solve_mixture(mix: _Mixture, requests, max_memory_mb: float) -> dict:
    """Mean log-ratio (an information, in nats) for each request.

    ``requests`` maps ``(kind, l)`` to the list of factors (members of
    ``mix.factors``) wanted for that latent subset.  Evaluation points are
    processed in chunks so the working set stays below ``max_memory_mb``.
    """
    pre = _prepare(mix)
    num = len(mix.x)
    width = max(len(mix.mu), 1)
    # rows per chunk: arrays of ~4 MB stay in the allocator's reuse pool (fresh
    # large arrays cost page faults that halve numpy's throughput), bounded by
    # max_memory_mb for the ~8 chunk-sized arrays alive per worker
    chunk = int(max(1, min(num, 4e6 / (8.0 * width), max_memory_mb * 1e6 / (8.0 * 8 * width * _WORKERS))))
    index = {f: i for i, f in enumerate(mix.factors)}
    need_all = any(kind != "one" for kind, _ in requests)

    def work(start):
        rows = _chunk_rows(pre, mix.x[start:start + chunk], need_all)
        labels = mix.eval_labels[start:start + chunk]
        out = {}
        for (kind, l), facs in requests.items():
            q, log_w = _subset_quadratic(kind, l, pre, rows)
            out[(kind, l)] = _log_ratio_sums(q, log_w, pre, labels, [index[f] for f in facs], mix)
        return out

    # one worker per core, each with a single-threaded BLAS (BLAS threads on these thin
    # matmuls only oversubscribe)
    with threadpool_limits(1, user_api="blas"):
        parts = _map_in_threads(work, range(0, num, chunk))
    sums = {key: np.sum([p[key] for p in parts], axis=0) for key in requests}  # fixed order
    return {key: dict(zip(requests[key], s / num)) for key, s in sums.items()}


# ----------------------------------------------------------------------------------------------
# exact estimator: public entry point


def _subsets(dim):
    """``("all", -1)``, then ``("rest", l)`` and ``("one", l)`` for every latent."""
    yield ("all", -1), np.arange(dim)
    for l in range(dim):
        if dim > 1:
            yield ("rest", l), np.delete(np.arange(dim), l)
        yield ("one", l), np.array([l])


def _merge(labels: np.ndarray):
    """Distinct rows of ``labels`` with their log multiplicities."""
    uniq, counts = np.unique(labels, axis=0, return_counts=True)
    return uniq, np.log(counts.astype(float))


def _components(sizes, factors, num_components, rng):
    """Component factor values for a mixture over ``factors``: the whole grid when it
    has at most ``num_components`` points (exact weights), else a uniform sample
    with identical draws merged."""
    grid = int(np.prod([sizes[k] for k in factors], dtype=float))
    if grid <= num_components:
        labels = np.stack(np.meshgrid(*[np.arange(sizes[k]) for k in factors], indexing="ij"),
                          axis=-1).reshape(-1, len(factors))
        return labels, np.zeros(len(labels))
    labels = np.stack([rng.integers(0, sizes[k], size=num_components) for k in factors], axis=1)
    return _merge(labels)


def _label_weights(labels, log_count, factors, sizes) -> np.ndarray:
    """Weight matrix of :class:`_Mixture` for components with one value per factor."""
    offsets = np.concatenate([[0], np.cumsum([sizes[k] for k in factors])])
    weights = np.zeros((len(labels), offsets[-1]))
    counts = np.exp(log_count)
    for i in range(len(factors)):
        weights[np.arange(len(labels)), offsets[i] + labels[:, i]] = counts
    return weights


#: Bin width, in noise standard deviations, of the merged components of a single latent:
#: replacing components by their bin's centroid adds at most (0.02)^2 / 12 to the
#: variance of each, which moves an information by ~1e-5 nats.
BIN_WIDTH = 0.02

#: A single latent's mixture enumerates its factor grid up to this many points.
MAX_BINNED_GRID = 2_000_000


def _binned_single(book, sigma, group, l, sizes, num_components, rng):
    """Components of latent ``l`` alone over the factors ``group``, merged into bins.

    The whole grid of ``group`` is used when it has at most
    :data:`MAX_BINNED_GRID` points (else ``num_components`` uniform draws); the
    component means (one number each) are merged into bins of ``BIN_WIDTH *
    sigma`` represented by their centroid, keeping per-factor-value weights.
    Returns ``(means, weights)`` or ``None`` when binning would not reduce the
    number of components.
    """
    shape = [sizes[k] for k in group]
    grid = int(np.prod(shape, dtype=float))
    if grid <= MAX_BINNED_GRID:
        labels = np.unravel_index(np.arange(grid), shape)
        means = np.zeros(shape)
        for i, k in enumerate(group):
            view = [1] * len(group)
            view[i] = sizes[k]
            means = means + book.table[k][:, l].reshape(view)
        means = means.reshape(-1)
    else:
        labels = [rng.integers(0, sizes[k], size=num_components) for k in group]
        means = sum(book.table[k][labels[i], l] for i, k in enumerate(group))
    means = means + book.base[l]
    edges = np.floor((means - means.min()) / (BIN_WIDTH * sigma)).astype(np.int64)
    occupied, bins = np.unique(edges, return_inverse=True)
    if len(occupied) >= min(len(means), num_components):
        return None
    nb = len(occupied)
    counts = np.bincount(bins, minlength=nb).astype(float)
    centroid = np.bincount(bins, weights=means, minlength=nb) / counts
    weights = np.concatenate([np.bincount(bins * sizes[k] + labels[i], minlength=nb * sizes[k])
                              .reshape(nb, sizes[k]) for i, k in enumerate(group)], axis=1)
    return centroid[:, None], weights.astype(float)


def _solve_structured(book, cov, root, space, group, requests, num_eval, num_components,
                      max_memory_mb, rng, store):
    """Solve the requests of one factor group of an additive Gaussian representation.

    The group's own model is used: every other factor is resolved (conditioned
    on) or independent of the group, so its contribution leaves both the
    evaluation points and the components.  Single latents are merged into 1-D
    bins (:func:`_binned_single`); the full set and the "all but one" subsets
    share one log-density matrix.
    """
    sizes, dim = space.sizes, cov.shape[0]
    num_factors = len(sizes)

    def eval_points(num_comp, latent=None):
        # a small mixture gets more evaluation points for the same work
        n_g = int(num_eval * min(MAX_EVAL_BOOST, max(1.0, num_components / num_comp)))
        y_g = _stratified_factors(space, n_g, rng)
        if latent is not None:  # one latent only
            x = sum(book.table[k][y_g[:, k], latent] for k in group) + book.base[latent]
            return y_g, (x + np.sqrt(cov[latent, latent]) * rng.standard_normal(n_g))[:, None]
        return y_g, book.assemble(y_g, group) + rng.standard_normal((n_g, dim)) @ root.T

    shared = {}
    for key, facs in requests.items():
        kind, l = key
        binned = _binned_single(book, np.sqrt(cov[l, l]), group, l, sizes, num_components,
                                rng) if kind == "one" else None
        if binned is None:
            shared[key] = facs
            continue
        mu, weights = binned
        y_g, x_g = eval_points(len(mu), l)
        mix = _Mixture(x_g, mu, weights, group, y_g[:, list(group)], sizes,
                       cov=cov[l:l + 1, l:l + 1])
        for k, v in _solve_mixture(mix, {("one", 0): facs}, max_memory_mb)[("one", 0)].items():
            store(key, k, v)
    if not shared:
        return
    comp, log_count = _components(sizes, group, num_components, rng)
    full = np.zeros((len(comp), num_factors), dtype=np.int64)
    full[:, list(group)] = comp
    y_g, x_g = eval_points(len(comp))
    mix = _Mixture(x_g, book.assemble(full, group), _label_weights(comp, log_count, group, sizes),
                   group, y_g[:, list(group)], sizes, cov=cov)
    for key, vals in _solve_mixture(mix, shared, max_memory_mb).items():
        for k, v in vals.items():
            store(key, k, v)


def _posterior_mixture(rep, num_eval, num_components, rng) -> _Mixture:
    """The mixture of a representation's per-sample diagonal posteriors.

    Components: on a uniform factor grid, the whole grid when it has at most
    ``num_components`` points (else a uniform sample, identical draws merged),
    one posterior per factor vector; on a data table, every row, or
    ``num_components`` distinct rows drawn at random when it has more
    (``rep.posterior_sample``), each with its own posterior.  The evaluation points are drawn
    from this same mixture (component ``j`` with probability proportional to its
    weight, every component equally often when the weights are equal): the
    Monte Carlo average of ``log p(x | y_k) - log p(x)`` is then an unbiased
    estimate of the mixture's information and never exceeds ``H(y_k)``.
    Evaluating a narrow-posterior mixture at points from rows outside it would
    instead estimate a cross-entropy, which is dominated by the distance to the
    nearest component and can be far below zero.
    """
    space = rep.space
    group = tuple(range(space.num_factors))
    if _is_uniform_grid(space):
        comp, log_count = _components(space.sizes, group, num_components, rng)
        mu, var = rep.posterior(comp)
    elif callable(getattr(rep, "posterior_sample", None)):
        comp, mu, var = rep.posterior_sample(num_components, rng)
        log_count = np.zeros(len(comp))
    else:
        comp, log_count = _merge(space.sample(num_components, rng))
        mu, var = rep.posterior(comp)
    mu, var = np.asarray(mu, dtype=float), np.asarray(var, dtype=float)
    counts = np.exp(log_count)
    if np.all(counts == counts[0]):
        # every component equally often; the remainder from distinct random components
        rounds, extra = divmod(num_eval, len(comp))
        pick = rng.permutation(np.concatenate([np.tile(np.arange(len(comp)), rounds),
                                               rng.choice(len(comp), extra, replace=False)]))
    else:
        pick = rng.choice(len(comp), size=num_eval, p=counts / counts.sum())
    x = mu[pick] + np.sqrt(var[pick]) * rng.standard_normal((num_eval, mu.shape[1]))
    return _Mixture(x, mu, _label_weights(comp, log_count, group, space.sizes), group,
                    comp[pick], space.sizes, var=var)


def mixture_informations(rep, rng, num_eval: int = 10000, num_components: int = 10000,
                         resolve_threshold: float | None = RESOLVE_THRESHOLD,
                         exploit_structure: bool = True,
                         max_memory_mb: float = 200.0) -> Informations:
    """Informations from the exact (mixture-of-Gaussians) structure, by Monte Carlo.

    Every information is ``mean_i [log p(x_i | y_k = v_i) - log p(x_i)]`` over
    ``num_eval`` evaluation points ``x_i`` drawn from the representation (with
    factor values ``v_i``); this is ``H(z_S) - H(z_S | y_k)`` with common
    random numbers for the two entropies.  For Gaussian representations the
    densities are mixtures over components drawn independently of the
    evaluation points (no self-match bias).  For per-sample posteriors the
    mixture itself is the data distribution and the evaluation points are drawn
    from it (see :func:`_posterior_mixture` for why).

    For a conditionally Gaussian representation whose mean is additive over
    factors (the ideal representation and every linear attack on it) the
    factor structure is used exactly (``exploit_structure=True``), per latent
    subset ``S``:

    * a factor that does not move the mean of ``z_S`` has ``I = 0``;
    * a factor that ``z_S`` identifies (every pair of its values at least
      ``resolve_threshold`` noise units apart after projecting out every other
      factor's directions) has ``I = H(y_k)`` up to < 1e-3 nats; conditioning on
      such factors removes them from the mixture
      (``I(y_k; z_S) = I(y_k; z_S | y_R)``);
    * the remaining factors split into groups with mutually orthogonal
      whitened mean directions; these are independent, so each factor's
      information only needs the mixture over its own group.

    A group's mixture enumerates its whole factor grid when that has at most
    ``num_components`` points, so the component side is then exact and the
    only Monte Carlo error is that of the evaluation points (evaluation factor
    values are stratified: every value of every factor equally often).  Larger
    grids use ``num_components`` uniformly drawn components, identical ones
    merged.  Without this structure (a non-additive mean, per-sample posteriors,
    or ``exploit_structure=False``) one mixture over all factors is used.

    Parameters
    ----------
    rep : Representation
        ``rep.is_gaussian`` (``mean``, ``cov``) or with ``posterior(y) ->
        (means, variances)`` per-sample diagonal Gaussians.
    rng : numpy.random.Generator
    num_eval : int, default 10000
        Monte Carlo evaluation points.
    num_components : int, default 10000
        Largest number of mixture components (grids up to this size are enumerated).
    resolve_threshold : float or None, default 8.0
        Separation (noise standard deviations) for a factor to count as resolved;
        ``None`` never conditions on factors.
    exploit_structure : bool, default True
    max_memory_mb : float, default 200
        Bound on the working set of one chunk of the log-density matrices.

    Returns
    -------
    Informations
    """
    rng = check_rng(rng)
    num_eval = check_positive_int(num_eval, "num_eval", 2)
    num_components = check_positive_int(num_components, "num_components", 1)
    if resolve_threshold is not None and not (np.isfinite(resolve_threshold) and resolve_threshold > 0):
        raise BenchmarkError(f"resolve_threshold must be a positive number or None, got {resolve_threshold!r}")
    if not (np.isfinite(max_memory_mb) and max_memory_mb > 0):
        raise BenchmarkError(f"max_memory_mb must be positive, got {max_memory_mb!r}")
    space, dim = rep.space, rep.dim
    num_factors = space.num_factors
    result = Informations.zeros(num_factors, dim, space.entropies(), "exact")
    entropy, store = result.entropy, result.store

    if getattr(rep, "is_gaussian", False):
        cov = _regularised(np.asarray(rep.cov, dtype=float))
        uniform = _is_uniform_grid(space)
        y_eval = _stratified_factors(space, num_eval, rng) if uniform else space.sample(num_eval, rng)
        book = _Codebook(rep, rng) if uniform and exploit_structure else None
        structured = book is not None and book.additive
        root = _sqrt_psd(cov)
        if not structured:
            x = np.asarray(rep.mean(y_eval), float) + rng.standard_normal((num_eval, dim)) @ root.T
        # which mixture (group of factors) each (subset, factor) needs
        problems: dict[tuple, dict] = {}
        for key, subset in _subsets(dim):
            if structured:
                status = _analyse_subset(book, cov, subset, resolve_threshold)
            else:
                status = [tuple(range(num_factors))] * num_factors
            for k, st in enumerate(status):
                if st == "resolved":
                    store(key, k, entropy[k])
                elif st != "zero":
                    problems.setdefault(st, {}).setdefault(key, []).append(k)
        for group, requests in problems.items():
            if structured:
                _solve_structured(book, cov, root, space, group, requests, num_eval,
                                  num_components, max_memory_mb, rng, store)
                continue
            if uniform:
                comp, log_count = _components(space.sizes, group, num_components, rng)
            else:  # components are rows of the data
                comp, log_count = _merge(space.sample(num_components, rng))
            mix = _Mixture(x, np.asarray(rep.mean(comp), dtype=float),
                           _label_weights(comp, log_count, group, space.sizes), group,
                           y_eval[:, list(group)], space.sizes, cov=cov)
            for key, vals in _solve_mixture(mix, requests, max_memory_mb).items():
                for k, v in vals.items():
                    store(key, k, v)
    elif has_posterior(rep):
        mix = _posterior_mixture(rep, num_eval, num_components, rng)
        if not _is_uniform_grid(space):
            # a table's components are a sample of its rows: normalise by the entropy
            # of that sample, which bounds every information computed from it
            offsets = np.cumsum([0] + list(space.sizes))
            for k in range(num_factors):
                p = mix.weights[:, offsets[k]:offsets[k + 1]].sum(axis=0)
                p = p[p > 0] / p.sum()
                entropy[k] = -np.sum(p * np.log(p))
        requests = {key: list(mix.factors) for key, _ in _subsets(dim)}
        for key, vals in _solve_mixture(mix, requests, max_memory_mb).items():
            for k, v in vals.items():
                store(key, k, v)
    else:
        raise BenchmarkError(
            f"the exact estimator needs a Gaussian representation or posterior variances; "
            f"{getattr(rep, 'name', type(rep).__name__)!r} has neither")
    return result


# ----------------------------------------------------------------------------------------------
# k-nearest-neighbour estimator (Ross 2014)


def _query_workers(points: np.ndarray) -> int:
    """Threads for a KD-tree query over ``points``: starting them costs ~0.4 ms, which
    only pays off from about 5,000 coordinates (measured here: 13 dimensions, 1,000
    points 15.9 -> 8.5 ms; 60 points 0.07 -> 0.44 ms)."""
    return _WORKERS if points.size >= 5000 else 1


def _knn_radii(codes: np.ndarray, labels: np.ndarray, k: int):
    """Per point: the max-norm distance to its ``k``-th neighbour with the same label
    (``k`` capped at the label's count minus one), shrunk to the next float below,
    the ``k`` used, and its label's count.  Every label must occur at least twice."""
    _, inv, counts = np.unique(labels, return_inverse=True, return_counts=True)
    inv = inv.reshape(-1)
    radius = np.empty(len(codes))
    k_all = np.empty(len(codes))
    order = np.argsort(inv, kind="stable")
    bounds = np.searchsorted(inv[order], np.arange(len(counts) + 1))
    for v in range(len(counts)):
        idx = order[bounds[v]:bounds[v + 1]]
        kk = min(k, len(idx) - 1)
        dist, _ = cKDTree(codes[idx]).query(codes[idx], k=kk + 1, p=np.inf,
                                            workers=_query_workers(codes[idx]))
        radius[idx] = np.nextafter(dist[:, -1], 0)
        k_all[idx] = kk
    return radius, k_all, counts[inv]


def _knn_estimate(k_all, label_counts, m) -> float:
    n = len(m)
    return float(digamma(n) + np.mean(digamma(k_all)) - np.mean(digamma(label_counts))
                 - np.mean(digamma(m)))


def _knn_mi_labels(codes: np.ndarray, labels: np.ndarray, k: int, tree=None) -> float:
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
    radius, k_all, label_counts = _knn_radii(codes, labels, k)
    if tree is None:
        tree = cKDTree(codes)
    m = tree.query_ball_point(codes, radius, p=np.inf, return_length=True,
                             workers=_query_workers(codes))
    return _knn_estimate(k_all, label_counts, m)


#: From this many latents on, the neighbour counts of every factor for the full set and
#: the "all but one" subsets come from one chunked pass over the coordinates
#: (:func:`_ball_counts`) instead of KD-tree ball queries, which lose their pruning in
#: high dimensions (measured: 13 dimensions, n = 2,000, 0.2-0.45 s per factor and subset).
BRUTE_FORCE_DIMS = 6


def _ball_counts(codes: np.ndarray, radii: dict) -> dict:
    """Neighbour counts (max-norm, the point itself included) of the full set and of every
    "all latents but one" subset, from one chunked pass over the coordinates.

    ``radii`` maps a subset key (``("all", -1)`` or ``("rest", l)``) to a list of
    radius vectors (one per factor); the result has the same layout.  Per pair of
    points the pass keeps the largest coordinate distance, the coordinate where it
    occurs and the second largest: the distance without coordinate ``l`` is the
    largest unless ``l`` is where it occurs, then the second largest.  Float
    arithmetic is that of the KD-tree's ``query_ball_point``, so the counts are equal.
    """
    n = len(codes)
    counts = {key: [np.empty(n, dtype=np.int64) for _ in rs] for key, rs in radii.items()}
    chunk = max(1, int(1e6 // n))

    def work(start):
        # every buffer is allocated once per chunk and reused: fresh chunk-sized arrays
        # per coordinate cost page faults that halve numpy's throughput
        rows = codes[start:start + chunk]
        shape = (len(rows), n)
        top, second, low, t = np.zeros(shape), np.zeros(shape), np.empty(shape), np.empty(shape)
        where = np.zeros(shape, dtype=np.int16)
        mask = np.empty(shape, dtype=bool)
        for j in range(codes.shape[1]):
            np.subtract(rows[:, j, None], codes[None, :, j], out=t)
            np.abs(t, out=t)
            np.minimum(top, t, out=low)
            np.maximum(second, low, out=second)
            np.greater(t, top, out=mask)
            np.copyto(where, j, where=mask)
            np.maximum(top, t, out=top)
        for key, rs in radii.items():
            kind, l = key
            if kind == "all":
                dist = top
            else:
                dist = t
                np.copyto(dist, top)
                np.equal(where, l, out=mask)
                np.copyto(dist, second, where=mask)
            for c, r in zip(counts[key], rs):
                np.less_equal(dist, r[start:start + chunk, None], out=mask)
                c[start:start + len(rows)] = np.count_nonzero(mask, axis=1)

    _map_in_threads(work, range(0, n, chunk))  # chunks write disjoint slices of the counts
    return counts


def knn_mutual_info(codes, labels, k: int = 3) -> float:
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
    return max(0.0, _knn_mi_labels(codes, labels, k))


def knn_informations(rep, rng, num_samples: int = 10000, k: int = 3) -> Informations:
    """All informations by the nearest-neighbour estimator on sampled codes.

    ``num_samples`` factor vectors are drawn from ``rep.space`` and encoded;
    each code column is scaled to unit variance (as ``mutual_info_classif``
    does), then every ``I(y_k; z_S)`` is estimated by :func:`knn_mutual_info`
    on the columns ``S``.  From :data:`BRUTE_FORCE_DIMS` latents on, the full set
    and every all-but-one subset take their same-label radii per factor value
    (:func:`_knn_radii`) and their neighbour counts from one shared chunked pass
    over the pairwise distances (:func:`_ball_counts`); below that, and for
    single latents, one KD-tree per subset serves every factor.
    Factor entropies are the space's (exact for a uniform grid).
    """
    rng = check_rng(rng)
    num_samples = check_positive_int(num_samples, "num_samples", 2)
    k = check_positive_int(k, "k")
    y = rep.space.sample(num_samples, rng)
    z = np.asarray(rep.encode(y, rng), dtype=float)
    std = z.std(axis=0)
    z = z / np.where(std > 0, std, 1.0)
    result = Informations.zeros(y.shape[1], z.shape[1], rep.space.entropies(), "knn")
    # labels seen once are dropped from the whole sample (as scikit-learn does), which
    # changes the point set: such factors take the per-factor KD-tree path
    complete = [f for f in range(y.shape[1]) if np.all(np.bincount(y[:, f])[y[:, f]] > 1)]
    brute = z.shape[1] >= BRUTE_FORCE_DIMS and complete
    terms = {}
    for key, subset in _subsets(z.shape[1]):
        codes = np.ascontiguousarray(z[:, subset])
        shared = complete if brute and key[0] != "one" else []
        for f in shared:
            terms[key, f] = _knn_radii(codes, y[:, f], k)
        rest = [f for f in range(y.shape[1]) if f not in shared]
        tree = cKDTree(codes) if rest else None
        for f in rest:
            result.store(key, f, _knn_mi_labels(codes, y[:, f], k, tree))
    if terms:
        keys = list(dict.fromkeys(key for key, _ in terms))
        counts = _ball_counts(z, {key: [terms[key, f][0] for f in complete] for key in keys})
        for key in keys:
            for f, m in zip(complete, counts[key]):
                result.store(key, f, _knn_estimate(terms[key, f][1], terms[key, f][2], m))
    return result
