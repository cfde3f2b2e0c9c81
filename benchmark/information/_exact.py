"""The exact estimator: informations of mixtures of Gaussians by Monte Carlo
(Tokui & Sato 2022), for conditionally Gaussian representations and for
per-sample diagonal posteriors."""
from __future__ import annotations

import numpy as np

from ..representations import GaussianStructure, LinearTransformed, Posteriors, PosteriorTable, sqrt_psd
from ..validation import BenchmarkError, check_positive_int, check_rng
from ._histogram import plugin_entropy
from ._kernel import Mixture, solve_mixture
from ._result import Informations, subsets
from ._stream import (
    RowBlocks,
    Subset,
    binned_rows,
    covariance_informations,
    shared_covariance_informations,
    streamed_informations,
)
from ._structure import RESOLVE_THRESHOLD, Codebook, analyse_subset, stable_floor, stratified_factors

__all__ = ["covariance_parts", "linear_parts", "linear_table_parts", "mixture_informations"]


#: A mixture with fewer components than ``num_components`` gets up to this many times
#: ``num_mc_points`` evaluation points (the same number of density evaluations at most).
MAX_EVAL_BOOST = 8.0


def regularised(cov: np.ndarray) -> np.ndarray:
    """``cov`` plus a tiny ridge so that noiseless (singular) codes stay computable."""
    scale = float(np.trace(cov)) / max(cov.shape[0], 1)
    return cov + np.eye(cov.shape[0]) * max(1e-10 * scale, 1e-12)


def merge_draws(labels: np.ndarray):
    """Distinct rows of ``labels`` with their log multiplicities."""
    uniq, counts = np.unique(labels, axis=0, return_counts=True)
    return uniq, np.log(counts.astype(float))


def grid_components(sizes, factors, num_components, rng):
    """Component factor values for a mixture over ``factors``: the whole grid when it
    has at most ``num_components`` points (exact weights), else a uniform sample
    with identical draws merged."""
    grid = int(np.prod([sizes[k] for k in factors], dtype=float))
    if grid <= num_components:
        labels = np.stack(np.meshgrid(*[np.arange(sizes[k]) for k in factors], indexing="ij"),
                          axis=-1).reshape(-1, len(factors))
        return labels, np.zeros(len(labels))
    labels = np.stack([rng.integers(0, sizes[k], size=num_components) for k in factors], axis=1)
    return merge_draws(labels)


def label_weights(labels, log_count, factors, sizes) -> np.ndarray:
    """Weight matrix of :class:`Mixture` for components with one value per factor."""
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

#: A factor group whose grid has more points than ``num_components`` is enumerated,
#: up to this many (dSprites' whole grid is 737,280), by the streamed kernel.
MAX_ENUMERATED_GRID = 2_000_000


def binned_single(book, sigma, group, l, sizes, num_components, rng):
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
    edges = stable_floor((means - means.min()) / (BIN_WIDTH * sigma)).astype(np.int64)
    occupied, bins = np.unique(edges, return_inverse=True)
    if len(occupied) >= min(len(means), num_components):
        return None
    nb = len(occupied)
    counts = np.bincount(bins, minlength=nb).astype(float)
    centroid = np.bincount(bins, weights=means, minlength=nb) / counts
    weights = np.concatenate([np.bincount(bins * sizes[k] + labels[i], minlength=nb * sizes[k])
                              .reshape(nb, sizes[k]) for i, k in enumerate(group)], axis=1)
    return centroid[:, None], weights.astype(float)


def solve_structured(book, cov, root, space, group, requests, num_mc_points, num_components,
                      max_memory_mb, rng, store):
    """Solve the requests of one factor group of an additive Gaussian representation.

    The group's own model is used: every other factor is resolved (conditioned
    on) or independent of the group, so its contribution leaves both the
    evaluation points and the components.  Single latents are merged into 1-D
    bins (:func:`binned_single`); the full set and the "all but one" subsets
    share one log-density matrix.
    """
    sizes, dim = space.sizes, cov.shape[0]
    num_factors = len(sizes)

    def eval_points(num_comp, latent=None):
        # a small mixture gets more evaluation points for the same work
        n_g = int(num_mc_points * min(MAX_EVAL_BOOST, max(1.0, num_components / num_comp)))
        y_g = stratified_factors(space, n_g, rng)
        if latent is not None:  # one latent only
            x = sum(book.table[k][y_g[:, k], latent] for k in group) + book.base[latent]
            return y_g, (x + np.sqrt(cov[latent, latent]) * rng.standard_normal(n_g))[:, None]
        return y_g, book.assemble(y_g, group) + rng.standard_normal((n_g, dim)) @ root.T

    shared = {}
    for key, facs in requests.items():
        kind, l = key
        binned = binned_single(book, np.sqrt(cov[l, l]), group, l, sizes, num_components,
                                rng) if kind == "one" else None
        if binned is None:
            shared[key] = facs
            continue
        mu, weights = binned
        y_g, x_g = eval_points(len(mu), l)
        mix = Mixture(x_g, mu, weights, group, y_g[:, list(group)], sizes,
                      cov=cov[l:l + 1, l:l + 1])
        for k, v in solve_mixture(mix, {("one", 0): facs}, max_memory_mb)[("one", 0)].items():
            store(key, k, v)
    if not shared:
        return
    if num_components < int(np.prod([sizes[k] for k in group], dtype=float)) <= MAX_ENUMERATED_GRID:
        y_g, x_g = eval_points(MAX_ENUMERATED_GRID)
        solve_enumerated(book, cov, space, group, shared, y_g, x_g, max_memory_mb, store)
        return
    comp, log_count = grid_components(sizes, group, num_components, rng)
    full = np.zeros((len(comp), num_factors), dtype=np.int64)
    full[:, list(group)] = comp
    y_g, x_g = eval_points(len(comp))
    mix = Mixture(x_g, book.assemble(full, group), label_weights(comp, log_count, group, sizes),
                  group, y_g[:, list(group)], sizes, cov=cov)
    for key, vals in solve_mixture(mix, shared, max_memory_mb).items():
        for k, v in vals.items():
            store(key, k, v)


def solve_enumerated(book, cov, space, group, requests, y, x, max_memory_mb, store):
    """Solve requests of one factor group with every point of its grid a component
    (:func:`~._stream.shared_covariance_informations`), at the evaluation points ``x``
    with factor values ``y``.

    Components drawn independently of the evaluation points would leave a point
    whose own component is not among them only the distance to the nearest drawn
    one; with narrow noise that is a cross entropy tens of nats below zero (the
    cyclic attack's latents without one, before this path existed).
    """
    sizes, dim = space.sizes, cov.shape[0]
    shape = [sizes[k] for k in group]
    comp = np.stack(np.unravel_index(np.arange(int(np.prod(shape))), shape), axis=1)
    full = np.zeros((len(comp), len(sizes)), dtype=np.int64)
    full[:, list(group)] = comp
    latents = dict(subsets(dim))
    found = shared_covariance_informations(book.assemble(full, group), cov, comp, shape, x,
                                           np.ravel_multi_index(tuple(y[:, list(group)].T), shape),
                                           {key: latents[key] for key in requests},
                                           max_memory_mb=max_memory_mb)
    for key, facs in requests.items():
        for k in facs:
            store(key, k, found[key][group.index(k)])


def posterior_components(rep, num_components, rng):
    """``(factors, log_count, means, variances)`` of the components of a representation's
    posterior mixture (see :func:`posterior_mixture`): the whole factor grid when it has
    at most ``num_components`` points, else a uniform sample (identical draws merged, their
    multiplicity in ``log_count``); on a data table, its rows (at most ``num_components``)."""
    space = rep.space
    if space.is_grid:
        comp, log_count = grid_components(space.sizes, tuple(range(space.num_factors)),
                                          num_components, rng)
        mu, var = rep.posterior(comp)
    elif isinstance(rep, PosteriorTable):
        comp, mu, var = rep.posterior_sample(num_components, rng)
        log_count = np.zeros(len(comp))
    else:
        comp, log_count = merge_draws(space.sample(num_components, rng))
        mu, var = rep.posterior(comp)
    return comp, log_count, np.asarray(mu, dtype=float), np.asarray(var, dtype=float)


def component_picks(counts, n: int, rng) -> np.ndarray:
    """The component of each of ``n`` evaluation points drawn from a mixture with weights
    proportional to ``counts``; with equal weights every component equally often (the
    remainder from distinct random components), which lowers the Monte Carlo variance."""
    if np.all(counts == counts[0]):
        rounds, extra = divmod(n, len(counts))
        return rng.permutation(np.concatenate([np.tile(np.arange(len(counts)), rounds),
                                               rng.choice(len(counts), extra, replace=False)]))
    return rng.choice(len(counts), size=n, p=counts / counts.sum())


def posterior_mixture(rep, num_mc_points, num_components, rng) -> Mixture:
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
    comp, log_count, mu, var = posterior_components(rep, num_components, rng)
    pick = component_picks(np.exp(log_count), num_mc_points, rng)
    x = mu[pick] + np.sqrt(var[pick]) * rng.standard_normal((num_mc_points, mu.shape[1]))
    return Mixture(x, mu, label_weights(comp, log_count, group, space.sizes), group,
                   comp[pick], space.sizes, var=var)


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


def mixture_informations(rep, rng, *, num_mc_points: int = 10000, num_components: int = 10000,
                         resolve_threshold: float | None = RESOLVE_THRESHOLD,
                         exploit_structure: bool = True,
                         max_memory_mb: float = 200.0) -> Informations:
    """Informations from the exact (mixture-of-Gaussians) structure, by Monte Carlo.

    Every information is ``mean_i [log p(x_i | y_k = v_i) - log p(x_i)]`` over
    ``num_mc_points`` evaluation points ``x_i`` drawn from the representation (with
    factor values ``v_i``); this is ``H(z_S) - H(z_S | y_k)`` with common
    random numbers for the two entropies.  For Gaussian representations the
    densities are mixtures over components drawn independently of the
    evaluation points (no self-match bias).  For per-sample posteriors the
    mixture itself is the data distribution and the evaluation points are drawn
    from it (see :func:`posterior_mixture` for why).

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

    A group's mixture enumerates its whole factor grid, so the component side
    is exact and the only Monte Carlo error is that of the evaluation points
    (evaluation factor values are stratified: every value of every factor
    equally often): in memory up to ``num_components`` points, streamed with
    far blocks skipped (:func:`~._stream.shared_covariance_informations`) up to
    :data:`MAX_ENUMERATED_GRID`.  Larger grids use ``num_components`` uniformly
    drawn components, identical ones merged.  Without this structure (a
    non-additive mean, per-sample posteriors, or ``exploit_structure=False``)
    one mixture over all factors is used.

    Parameters
    ----------
    rep : Representation
        Offering :class:`~benchmark.representations.GaussianStructure` or
        :class:`~benchmark.representations.Posteriors`.
    rng : int or numpy.random.Generator
    num_mc_points : int, default 10000
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
    num_mc_points = check_positive_int(num_mc_points, "num_mc_points", 2)
    num_components = check_positive_int(num_components, "num_components", 1)
    if resolve_threshold is not None and not (np.isfinite(resolve_threshold) and resolve_threshold > 0):
        raise BenchmarkError(
            f"resolve_threshold must be a positive number or None, got {resolve_threshold!r}")
    if not (np.isfinite(max_memory_mb) and max_memory_mb > 0):
        raise BenchmarkError(f"max_memory_mb must be positive, got {max_memory_mb!r}")
    space, dim = rep.space, rep.dim
    num_factors = space.num_factors
    result = Informations.zeros(num_factors, dim, space.entropies(), "exact")
    entropy, store = result.entropy, result.store

    if isinstance(rep, GaussianStructure):
        cov = regularised(np.asarray(rep.cov, dtype=float))
        uniform = space.is_grid
        y_eval = (stratified_factors(space, num_mc_points, rng) if uniform
                  else space.sample(num_mc_points, rng))
        book = Codebook(rep, rng) if uniform and exploit_structure else None
        structured = book is not None and book.additive
        root = sqrt_psd(cov, cholesky=False)
        if not structured:
            x = np.asarray(rep.mean(y_eval), float) + rng.standard_normal((num_mc_points, dim)) @ root.T
        # which mixture (group of factors) each (subset, factor) needs
        problems: dict[tuple, dict] = {}
        for key, subset in subsets(dim):
            if structured:
                status = analyse_subset(book, cov, subset, resolve_threshold)
            else:
                status = [tuple(range(num_factors))] * num_factors
            for k, st in enumerate(status):
                if st == "resolved":
                    store(key, k, entropy[k])
                elif st != "zero":
                    problems.setdefault(st, {}).setdefault(key, []).append(k)
        for group, requests in problems.items():
            if structured:
                solve_structured(book, cov, root, space, group, requests, num_mc_points,
                                  num_components, max_memory_mb, rng, store)
                continue
            if uniform:
                comp, log_count = grid_components(space.sizes, group, num_components, rng)
            else:  # components are rows of the data
                comp, log_count = merge_draws(space.sample(num_components, rng))
            mix = Mixture(x, np.asarray(rep.mean(comp), dtype=float),
                          label_weights(comp, log_count, group, space.sizes), group,
                          y_eval[:, list(group)], space.sizes, cov=cov)
            for key, vals in solve_mixture(mix, requests, max_memory_mb).items():
                for k, v in vals.items():
                    store(key, k, v)
    elif (parts := linear_table_parts(rep)) is not None and (
            parts[0] is not rep or rep.num_rows > num_components):
        return table_informations(*parts, rng, num_mc_points, max_memory_mb)
    elif (parts := covariance_parts(rep)) is not None:
        return covariance_table_informations(*parts, rng, num_mc_points, num_components, max_memory_mb)
    elif isinstance(rep, Posteriors):
        mix = posterior_mixture(rep, num_mc_points, num_components, rng)
        if not space.is_grid:
            # a table's components are a sample of its rows: normalise by the entropy
            # of that sample, which bounds every information computed from it
            offsets = np.cumsum([0] + list(space.sizes))
            for k in range(num_factors):
                entropy[k] = plugin_entropy(mix.weights[:, offsets[k]:offsets[k + 1]].sum(axis=0))
        requests = {key: list(mix.factors) for key, _ in subsets(dim)}
        for key, vals in solve_mixture(mix, requests, max_memory_mb).items():
            for k, v in vals.items():
                store(key, k, v)
    else:
        raise BenchmarkError(
            f"the exact estimator needs a Gaussian representation or posterior variances; "
            f"{getattr(rep, 'name', type(rep).__name__)!r} has neither")
    return result
