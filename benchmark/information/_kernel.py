"""The exact estimator's kernel: chunked log-density matrices of evaluation points
against weighted Gaussian components, reduced to mean log-ratios per factor."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import logsumexp
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


def subset_quadratic(kind, l, pre, rows):
    """Half squared Mahalanobis distances (chunk x components) and per-component log weights.

    ``kind`` is ``"all"``, ``"rest"`` (all latents but ``l``) or ``"one"`` (latent
    ``l``).  For a shared covariance with precision ``P``, the marginal of all
    latents but ``l`` has the quadratic form ``q(d) - (P d)_l**2 / P_ll``: a
    rank-one correction of the full-set distances, separable in evaluation point
    and component, so no factorisation or matmul per ``l`` is needed.  The
    Gaussian normalisers are common to all components of a shared covariance
    and cancel in every information, so they are left out.  Every constant
    carries the factor 1/2 of the exponent, a power of two, so the halves are
    exactly the halves of the distances (no rounding differs) at no extra pass.
    The ``"all"`` matrix is shared between requests: it must not be written to.
    """
    if pre["shared"]:
        if kind == "one":
            q = np.subtract.outer(rows["x"][:, l], pre["mu"][:, l])
            q *= q
            q *= pre["half_inv_cov"][l]
            return q, None
        if kind == "all":
            return rows["q_all"], None
        t = np.subtract.outer(rows["h"][:, l], pre["h"][:, l])
        t *= t
        t *= pre["half_inv_prec"][l]
        return np.subtract(rows["q_all"], t, out=t), None
    # per-component diagonal covariances
    if kind == "one":
        q = np.subtract.outer(rows["x"][:, l], pre["mu"][:, l])
        q *= q
        q *= pre["half_inv_var"][:, l]
        return q, -0.5 * pre["log_var"][:, l]
    if kind == "all":
        return rows["q_all"], -0.5 * pre["log_det"]
    t = np.subtract.outer(rows["x"][:, l], pre["mu"][:, l])
    t *= t
    t *= pre["half_inv_var"][:, l]
    return np.subtract(rows["q_all"], t, out=t), -0.5 * (pre["log_det"] - pre["log_var"][:, l])


def prepare(mix: Mixture) -> dict:
    pre = {"mu": mix.mu, "shared": mix.cov is not None}
    if pre["shared"]:
        prec = np.linalg.inv(mix.cov)
        prec = 0.5 * (prec + prec.T)
        pre.update(prec=prec, chol=np.linalg.cholesky(prec), half_inv_cov=0.5 / np.diag(mix.cov),
                   half_inv_prec=0.5 / np.diag(prec))
        b = mix.mu @ pre["chol"]                  # whitened means: q = ||(x - mu) @ chol||^2
        pre["half_b"] = 0.5 * b
        pre["half_bb"] = 0.5 * (b**2).sum(axis=1)
        pre["h"] = mix.mu @ prec                  # (P mu)_l for the rank-one corrections
    else:
        half_inv_var = 0.5 / mix.var
        pre.update(half_inv_var=half_inv_var, log_var=np.log(mix.var),
                   half_mu_iv=mix.mu * half_inv_var, half_mm=(mix.mu**2 * half_inv_var).sum(axis=1))
        pre["log_det"] = pre["log_var"].sum(axis=1)
    # component weights per value, all requested factors side by side: one matmul
    # gives every group's summed density for every factor
    offsets = np.concatenate([[0], np.cumsum([mix.sizes[k] for k in mix.factors])])
    counts = mix.weights[:, :offsets[1]].sum(axis=1)
    with np.errstate(divide="ignore"):
        log_weights = np.log(mix.weights)
    members = [np.flatnonzero(column) for column in mix.weights.T]  # each group's components
    pre.update(weights=mix.weights.astype(np.float32), log_weights=log_weights, members=members,
               counts=counts.astype(np.float32), offsets=offsets, total=counts.sum(),
               group_total=mix.weights.sum(axis=0))
    return pre


def chunk_rows(pre, x_chunk, need_all: bool) -> dict:
    rows = {"x": x_chunk}
    if not need_all:
        return rows
    if pre["shared"]:
        a = x_chunk @ pre["chol"]
        q = a @ pre["half_b"].T
        q *= -2.0
        q += 0.5 * (a**2).sum(axis=1)[:, None]
        q += pre["half_bb"][None, :]
        np.maximum(q, 0.0, out=q)
        rows.update(q_all=q, h=x_chunk @ pre["prec"])
    else:
        q = (x_chunk**2) @ pre["half_inv_var"].T
        q -= 2.0 * (x_chunk @ pre["half_mu_iv"].T)
        q += pre["half_mm"][None, :]
        np.maximum(q, 0.0, out=q)
        rows["q_all"] = q
    return rows


def log_ratio_sums(half_q, log_w, pre, labels, cols, mix):
    """Sum over rows of ``log p(x | y_k = own value) - log p(x)`` for each requested factor.

    ``half_q`` (half the squared distances) is only read.  ``cols`` indexes the
    requested factors within ``mix.factors``.
    """
    # The exponent, shifted so that every entry is <= 0 and exactly 0 at the row's best
    # component, goes straight into single precision: float32 carries it to 6e-8 relative
    # error (< 1e-4 nats even for entries near -700), so the exp and the group-sum matmul
    # run at twice the throughput while the distances above stay in double precision.
    dens = np.empty(half_q.shape, dtype=np.float32)
    if log_w is None:
        nearest = half_q.min(axis=1)[:, None]
        np.subtract(nearest, half_q, out=dens)

        def shifted(rows, members):
            return nearest[rows] - half_q[np.ix_(rows, members)]
    else:
        expo = np.subtract(log_w[None, :], half_q)
        top = expo.max(axis=1)[:, None]
        np.subtract(expo, top, out=dens)

        def shifted(rows, members):
            return expo[np.ix_(rows, members)] - top[rows]
    np.exp(dens, out=dens)
    total = (dens @ pre["counts"]).astype(np.float64)
    groups = dens @ pre["weights"]
    out = np.empty(len(cols))
    for n, i in enumerate(cols):
        col = pre["offsets"][i] + labels[:, i]
        own = groups[np.arange(len(half_q)), col]
        log_own = np.log(np.maximum(own, 1e-38))
        low = np.nonzero(own < 1e-30)[0]
        # the own group underflowed against the best component: redo those rows in log
        # space, over the own group's components only
        for c in np.unique(col[low]):
            rows = low[col[low] == c]
            members = pre["members"][c]
            log_own[rows] = logsumexp(shifted(rows, members) + pre["log_weights"][members, c],
                                      axis=1)
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
    # rows per chunk: arrays of ~4 MB stay in the allocator's reuse pool (fresh
    # large arrays cost page faults that halve numpy's throughput), bounded by
    # max_memory_mb for the ~8 chunk-sized arrays alive per worker
    chunk = int(max(1, min(num, 4e6 / (8.0 * width), max_memory_mb * 1e6 / (8.0 * 8 * width * MAX_WORKERS))))
    index = {f: i for i, f in enumerate(mix.factors)}
    need_all = any(kind != "one" for kind, _ in requests)

    def work(start):
        rows = chunk_rows(pre, mix.x[start:start + chunk], need_all)
        labels = mix.eval_labels[start:start + chunk]
        out = {}
        for (kind, l), facs in requests.items():
            q, log_w = subset_quadratic(kind, l, pre, rows)
            out[(kind, l)] = log_ratio_sums(q, log_w, pre, labels, [index[f] for f in facs], mix)
        return out

    # one worker per core, each with a single-threaded BLAS (BLAS threads on these thin
    # matmuls only oversubscribe)
    with threadpool_limits(1, user_api="blas"):
        parts = map_in_threads(work, range(0, num, chunk))
    sums = {key: np.sum([p[key] for p in parts], axis=0) for key in requests}  # fixed order
    return {key: dict(zip(requests[key], s / num)) for key, s in sums.items()}
