"""The exact estimator on posterior tables at full scale: every row a component, for a
table and for the linear maps of one that keep its structure (the noise, redundancy and
duplicate attacks), or with full covariances per row (any other linear map)."""
from __future__ import annotations

import numpy as np

from ..representations import LinearTransformed, PosteriorTable
from ._histogram import plugin_entropy
from ._kernel import Mixture, solve_mixture
from ._result import Informations, subsets
from ._stream import RowBlocks, Subset, binned_rows, covariance_informations, streamed_informations

__all__ = ["component_picks", "covariance_parts", "covariance_table_informations", "linear_parts",
           "linear_table_parts", "table_informations"]


def component_picks(counts, n: int, rng) -> np.ndarray:
    """The component of each of ``n`` evaluation points drawn from a mixture with weights
    proportional to ``counts``; with equal weights every component equally often (the
    remainder from distinct random components), which lowers the Monte Carlo variance."""
    if np.all(counts == counts[0]):
        rounds, extra = divmod(n, len(counts))
        return rng.permutation(np.concatenate([np.tile(np.arange(len(counts)), rounds),
                                               rng.choice(len(counts), extra, replace=False)]))
    return rng.choice(len(counts), size=n, p=counts / counts.sum())



#: Most latents of a linear map of a posterior table scored with full covariances per
#: row (each latent subset's quadratic form has ~L^2/2 monomials).
MAX_COVARIANCE_DIM = 32


def linear_parts(rep):
    """``(table, matrix, noise_matrix)`` when ``rep`` is ``matrix @ z + noise_matrix @ e``
    of a posterior table's latents ``z`` (linear maps composed), else None."""
    matrix, noise = np.eye(rep.dim), np.zeros((rep.dim, 0))
    while isinstance(rep, LinearTransformed):
        noise = np.hstack([matrix @ rep.noise_matrix, noise])
        matrix = matrix @ rep.matrix
        rep = rep.base
    if not isinstance(rep, PosteriorTable) or matrix.shape[1] != rep.dim:
        return None
    return rep, matrix, noise


def linear_table_parts(rep):
    """``(table, noise_var, copy, copy_noise)`` when ``rep`` is a posterior table, or a
    linear map of one that keeps every row's posterior diagonal in effect; else None.

    Two forms do: the table's latents, each with independent noise of its own
    (variance ``noise_var``; the noise attack), and the table's latents unchanged
    with noisy linear copies ``copy @ z + copy_noise @ e`` appended (the
    redundancy and duplicate attacks), where ``copy_noise @ copy_noise.T`` is
    invertible.  Given the table's latents those copies do not depend on the
    row, so every latent subset reduces to a diagonal mixture over the rows
    (:func:`table_informations`), at any number of rows.  Other linear maps
    (:func:`covariance_parts`) give each row a full covariance.
    """
    if isinstance(rep, PosteriorTable):
        return rep, np.zeros(rep.dim), np.zeros((0, rep.dim)), np.zeros((0, 1))
    parts = linear_parts(rep)
    if parts is None:
        return None
    table, matrix, noise = parts
    dim = table.dim
    top, top_noise = matrix[:dim], noise[:dim]
    copy, copy_noise = matrix[dim:], noise[dim:]
    if not np.array_equal(top, np.eye(dim)):
        return None
    gram = top_noise @ top_noise.T
    if np.any(gram[~np.eye(dim, dtype=bool)] != 0):  # noise shared between latents
        return None
    noise_var = np.diag(gram).copy()
    if len(copy):
        # copies of noisy latents would depend on the row given the noisy latents
        if np.any(noise_var != 0):
            return None
        try:
            np.linalg.cholesky(copy_noise @ copy_noise.T)
        except np.linalg.LinAlgError:
            return None
    return table, noise_var, copy, copy_noise


def covariance_parts(rep):
    """``(table, matrix, noise_matrix)`` of any linear map of a posterior table that the
    full-covariance kernel takes: every row's ``N(A mu_r, A D_r A^T + B B^T)`` positive
    definite, at most :data:`MAX_COVARIANCE_DIM` latents; else None."""
    parts = linear_parts(rep)
    if parts is None or parts[1].shape[0] > MAX_COVARIANCE_DIM:
        return None
    table, matrix, noise = parts
    smallest = np.asarray(table.variances, dtype=float).min(axis=0)
    # the covariances are smallest where every variance is: if that one is singular, some row's is
    try:
        np.linalg.cholesky(matrix @ np.diag(smallest) @ matrix.T + noise @ noise.T)
    except np.linalg.LinAlgError:
        return None
    return parts


def store_single(result, key, x, mean, variance, labels, pick, sizes, max_memory_mb):
    """Store every factor's information in one latent whose row ``r`` is
    ``N(mean[r], variance[r])``, at the points ``x`` drawn from the rows ``pick``: the
    rows merged into bins (:func:`~._stream.binned_rows`), then the in-memory kernel."""
    factors = list(range(len(sizes)))
    centre, total_var, weights = binned_rows(mean, variance, labels, sizes)
    mix = Mixture(x[:, None], centre[:, None], weights, tuple(factors), labels[pick], sizes,
                  var=total_var[:, None])
    for k, v in solve_mixture(mix, {("one", 0): factors}, max_memory_mb)[("one", 0)].items():
        result.store(key, k, v)


def table_informations(table, noise_var, copy, copy_noise, rng, num_mc_points: int,
                       max_memory_mb: float) -> Informations:
    """Informations of a posterior table (every row a component), or of a linear map of
    one (:func:`linear_table_parts`), by the streamed kernel.

    The evaluation points are drawn from the rows exactly as
    :func:`posterior_mixture` draws them, then the copies' noise: the table's own
    latents see the same points with or without copies, at every attack level.

    With copies ``w = M z + B e`` appended (``C = B B^T``), a subset holding
    every table latent carries exactly their information (the copies are noise
    given them), and the subset without table latent ``l`` sees, besides the
    other table latents, only ``u = m^T C^-1 (w - M_-l z_-l) / a`` of the copies
    (``m`` the copies' column ``l``, ``a = m^T C^-1 m``): the rest of them does
    not depend on the row.  Under row ``r``, ``u ~ N(mu_rl, v_rl + 1/a)``, so
    that subset is a diagonal mixture again, with latent ``l``'s variance
    widened by ``1/a``.  A single copy ``j`` is ``N(M_j mu_r, M_j^2 . v_r + C_jj)``.
    """
    space = table.space
    mu = np.asarray(table.codes, dtype=float)
    var = np.asarray(table.variances, dtype=float) + noise_var
    labels = space.rows
    num_rows, dim = mu.shape
    num_factors, num_copies = space.num_factors, len(copy)
    pick = component_picks(np.ones(num_rows), num_mc_points, rng)
    x = mu[pick] + np.sqrt(var[pick]) * rng.standard_normal((num_mc_points, dim))
    result = Informations.zeros(num_factors, dim + num_copies, space.entropies(), "exact")
    factors = list(range(num_factors))

    subsets = {("all", -1): Subset()}
    if num_copies:
        e = rng.standard_normal((num_mc_points, copy_noise.shape[1]))
        noise = e @ copy_noise.T
        cov = copy_noise @ copy_noise.T
        z_copy = x @ copy.T + noise
        weighted = np.linalg.solve(cov, copy)                  # C^-1 M
        for l in range(dim):
            a = float(copy[:, l] @ weighted[:, l])
            if a > 0:
                u = x[:, l] + noise @ weighted[:, l] / a
                subsets[("rest", l)] = Subset(drop=l, extra=u, extra_var=1.0 / a)
            else:
                subsets[("rest", l)] = Subset(drop=l)
    elif dim > 1:
        subsets.update({("rest", l): Subset(drop=l) for l in range(dim)})
    blocks = RowBlocks.build(mu, var, labels)
    position = np.empty(num_rows, dtype=np.int64)
    position[blocks.order] = np.arange(num_rows)
    streamed = streamed_informations(blocks, space.sizes, x, position[pick], subsets,
                                     max_memory_mb=max_memory_mb)
    for key, values in streamed.items():
        for k in factors:
            result.store(key, k, values[k])
    for j in range(num_copies):  # the copies' rest holds every table latent
        for k in factors:
            result.store(("rest", dim + j), k, streamed[("all", -1)][k])

    for l in range(dim):
        store_single(result, ("one", l), x[:, l], mu[:, l], var[:, l], labels, pick, space.sizes,
                     max_memory_mb)
    for j in range(num_copies):
        store_single(result, ("one", dim + j), z_copy[:, j], mu @ copy[j], var @ copy[j] ** 2 + cov[j, j],
                     labels, pick, space.sizes, max_memory_mb)
    return result


def covariance_table_informations(table, matrix, noise, rng, num_mc_points: int, num_components: int,
                                  max_memory_mb: float) -> Informations:
    """Informations of ``matrix @ z + noise @ e`` of a posterior table's latents ``z``,
    each row a Gaussian ``N(A mu_r, A D_r A^T + B B^T)`` with its full covariance.

    The rows are the table's, or ``num_components`` of them drawn at random when it
    has more (then no longer covering the grid: see :func:`exact_is_reliable`); the
    evaluation points are drawn as :func:`table_informations` draws them, so a sweep
    whose level 0 is the table itself sees the same points at every level.
    """
    space = table.space
    labels, mu, var = table.posterior_sample(num_components, rng)
    mu, var = np.asarray(mu, dtype=float), np.asarray(var, dtype=float)
    num_rows, dim = mu.shape
    pick = component_picks(np.ones(num_rows), num_mc_points, rng)
    x = mu[pick] + np.sqrt(var[pick]) * rng.standard_normal((num_mc_points, dim))
    z = x @ matrix.T + rng.standard_normal((num_mc_points, noise.shape[1])) @ noise.T
    means = mu @ matrix.T
    covs = np.einsum("il,rl,jl->rij", matrix, var, matrix) + noise @ noise.T
    width = matrix.shape[0]
    counts = np.concatenate([np.bincount(labels[:, k], minlength=size) for k, size in enumerate(space.sizes)])
    offsets = np.cumsum([0] + list(space.sizes))
    entropy = [plugin_entropy(counts[offsets[k]:offsets[k + 1]]) for k in range(space.num_factors)]
    result = Informations.zeros(space.num_factors, width, entropy, "exact")
    requests = {key: subset for key, subset in subsets(width) if key[0] != "one"}
    for key, values in covariance_informations(means, covs, labels, space.sizes, z, pick, requests,
                                               max_memory_mb=max_memory_mb).items():
        for k, v in enumerate(values):
            result.store(key, k, v)
    for j in range(width):
        store_single(result, ("one", j), z[:, j], means[:, j], covs[:, j, j], labels, pick, space.sizes,
                     max_memory_mb)
    return result


