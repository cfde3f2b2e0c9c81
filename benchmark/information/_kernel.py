"""The exact estimator's kernel: chunked log-density matrices of evaluation points
against weighted Gaussian components, reduced to mean log-ratios per factor."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from threadpoolctl import threadpool_limits

from ._threads import MAX_WORKERS, map_in_threads

__all__ = ["Mixture", "solve_mixture"]


@dataclass
class Mixture:
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


def exponent_terms(mix: Mixture) -> dict:
    """What the log densities of every latent subset are computed from.

    The log density of evaluation point ``i`` under component ``j``'s marginal on
    a latent subset is, up to a constant per point (which cancels in every ratio
    the kernel takes), a product of point features and component coefficients
    (:func:`subset_exponents`): the full set's is one matmul; latent ``l`` alone
    and the correction from the full set to all latents but ``l`` are matmuls of
    two or three columns, so every subset costs one thin matmul and at most one
    pass, whatever the number of latents.

    With a shared covariance (precision ``P``) the Gaussian normalisers are common
    to all components and are left out.  On whitened coordinates ``a = x chol(P)``
    the full set's exponent is ``a.b - |b|^2 / 2`` (``b`` the whitened mean); the
    marginal of all latents but ``l`` has the quadratic form
    ``q(d) - (P d)_l**2 / P_ll``, a rank-one correction in ``h = x P``.  With
    per-component diagonal variances latent ``l`` contributes
    ``-x^2/2v + x mu/v - mu^2/2v - log(v)/2`` (squares, values and a constant), and
    all but ``l`` are the full set minus that.  Points and means are centred on
    the means' average first, so the expanded squares stay small against their
    differences.
    """
    centre = mix.mu.mean(axis=0)
    x, mu = mix.x - centre, mix.mu - centre
    var = mix.var if mix.cov is None else np.broadcast_to(np.diag(mix.cov), mu.shape)
    terms = {"x": x, "mu": mu, "half_iv": 0.5 / var, "half_log_var": 0.5 * np.log(var), "cache": {}}
    if mix.cov is None:
        single = [latent_coeffs(terms, l) for l in range(mu.shape[1])]
        terms["cache"].update({("one", l): c for l, c in enumerate(single)})  # built once
        terms.update(full=np.column_stack([x**2, x, np.ones(len(x))]),
                     full_t=np.vstack([c[0] for c in single] + [c[1] for c in single]
                                      + [np.sum([c[2] for c in single], axis=0)]))
        return terms
    prec = np.linalg.inv(mix.cov)
    prec = 0.5 * (prec + prec.T)
    chol = np.linalg.cholesky(prec)
    b = mu @ chol
    terms.update(full=np.column_stack([x @ chol, np.ones(len(x))]),
                 full_t=np.vstack([b.T, -0.5 * (b**2).sum(axis=1)]),
                 prec=prec, h_mu=mu @ prec, half_ip=0.5 / np.diag(prec))
    return terms


def latent_coeffs(terms, l):
    """Latent ``l``'s coefficients (3 x components) of the points' ``(x_l^2, x_l, 1)``."""
    mu, half_iv = terms["mu"][:, l], terms["half_iv"][:, l]
    return np.vstack([-half_iv, 2.0 * mu * half_iv, -mu**2 * half_iv - terms["half_log_var"][:, l]])


def rest_coeffs(terms, l):
    """Coefficients of the correction from the full set to all latents but ``l``."""
    if "prec" not in terms:
        return -latent_coeffs(terms, l)
    h_mu, half = terms["h_mu"][:, l], terms["half_ip"][l]
    return np.vstack([-2.0 * half * h_mu, half * h_mu**2])


def subset_exponents(terms, kind, l, x, expo_all):
    """A chunk's log densities on one latent subset (``x``: its centred points).

    The coefficients are built at a subset's first chunk and kept (a few times
    components x latents in all, as the means themselves).
    """
    if kind == "all":
        return expo_all
    coeffs = terms["cache"].get((kind, l))
    if coeffs is None:  # a race between threads only builds it twice
        coeffs = terms["cache"][(kind, l)] = (latent_coeffs if kind == "one" else rest_coeffs)(terms, l)
    ones = np.ones(len(x))
    if kind == "one":
        return np.column_stack([x[:, l]**2, x[:, l], ones]) @ coeffs
    features = np.column_stack([x @ terms["prec"][:, l], ones]) if "prec" in terms \
        else np.column_stack([x[:, l]**2, x[:, l], ones])
    expo = features @ coeffs
    expo += expo_all
    return expo


def prepare(mix: Mixture) -> dict:
    # component weights per value, all requested factors side by side, and the
    # components' total weight as a last column: one matmul gives every group's
    # summed density for every factor, and the whole mixture's
    offsets = np.concatenate([[0], np.cumsum([mix.sizes[k] for k in mix.factors])])
    counts = mix.weights[:, :offsets[1]].sum(axis=1)
    with np.errstate(divide="ignore"):
        log_weights = np.log(mix.weights)
    members = [np.flatnonzero(column) for column in mix.weights.T]  # each group's components
    return {"weights": np.column_stack([mix.weights, counts]),
            "log_weights": log_weights, "members": members, "offsets": offsets,
            "total": counts.sum(), "group_total": mix.weights.sum(axis=0)}


def log_ratio_sums(expo, pre, labels, cols):
    """Sum over rows of ``log p(x | y_k = own value) - log p(x)`` for each requested factor.

    ``expo`` holds the rows' log densities under every component, each row up to a
    constant.  ``cols`` indexes the requested factors within ``mix.factors``.
    """
    # Double precision throughout: float32 ran the exp and the group-sum matmul at twice
    # the throughput, but its rounding (and a float32 matmul's summation order) differs
    # between CPUs and BLAS kernels by ~1e-7 of an information, which then shows in the
    # sixth digit of committed results regenerated elsewhere.
    top = expo.max(axis=1)[:, None]
    dens = np.subtract(expo, top)
    np.exp(dens, out=dens)
    groups = dens @ pre["weights"]
    total = groups[:, -1]
    out = np.empty(len(cols))
    for n, i in enumerate(cols):
        col = pre["offsets"][i] + labels[:, i]
        own = groups[np.arange(len(expo)), col]
        log_own = np.log(np.maximum(own, 1e-300))
        low = np.nonzero(own < 1e-280)[0]
        # the own group underflowed against the best component: redo those rows in log
        # space, over the own group's components only
        for c in np.unique(col[low]):
            rows = low[col[low] == c]
            members = pre["members"][c]
            shifted = expo[np.ix_(rows, members)]
            shifted += pre["log_weights"][members, c]
            peak = shifted.max(axis=1)[:, None]
            log_own[rows] = np.log(np.exp(shifted - peak).sum(axis=1)) + (peak - top[rows])[:, 0]
        ratio = (log_own - np.log(pre["group_total"][col])) - (np.log(total) - np.log(pre["total"]))
        out[n] = ratio.sum()
    return out


def solve_mixture(mix: Mixture, requests, max_memory_mb: float) -> dict:
    """Mean log-ratio (an information, in nats) for each request.

    ``requests`` maps ``(kind, l)`` to the list of factors (members of
    ``mix.factors``) wanted for that latent subset.  Evaluation points are
    processed in chunks so the working set stays below ``max_memory_mb``.
    """
    pre = prepare(mix)
    num = len(mix.x)
    width = max(len(mix.mu), 1)
    # rows per chunk: exponent matrices of ~8 MB (about 100 rows against 10,000
    # components) keep the group-sum matmul efficient while staying in the allocator's
    # reuse pool (fresh large arrays cost page faults that halve numpy's throughput),
    # bounded by max_memory_mb for the ~3 chunk-sized arrays alive per worker
    chunk = int(max(1, min(num, 8e6 / (8.0 * width), max_memory_mb * 1e6 / (8.0 * 3 * width * MAX_WORKERS))))
    index = {f: i for i, f in enumerate(mix.factors)}
    terms = exponent_terms(mix)
    need_all = any(kind != "one" for kind, _ in requests)

    def work(start):
        x = terms["x"][start:start + chunk]
        labels = mix.eval_labels[start:start + chunk]
        expo_all = terms["full"][start:start + chunk] @ terms["full_t"] if need_all else None
        return {(kind, l): log_ratio_sums(subset_exponents(terms, kind, l, x, expo_all), pre,
                                          labels, [index[f] for f in facs])
                for (kind, l), facs in requests.items()}

    # one worker per core, each with a single-threaded BLAS (BLAS threads on these thin
    # matmuls only oversubscribe)
    with threadpool_limits(1, user_api="blas"):
        parts = map_in_threads(work, range(0, num, chunk))
    sums = {key: np.sum([p[key] for p in parts], axis=0) for key in requests}  # fixed order
    return {key: dict(zip(requests[key], s / num)) for key, s in sums.items()}
