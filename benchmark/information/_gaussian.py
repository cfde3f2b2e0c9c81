"""The exact estimator on conditionally Gaussian representations: mixtures over factor
grids, the factor groups of an additive mean (:func:`solve_structured`), single latents
merged into bins, and grids larger than memory streamed (:func:`solve_enumerated`)."""
from __future__ import annotations

import numpy as np

from ._kernel import Mixture, solve_mixture
from ._result import subsets
from ._stream import shared_covariance_informations
from ._structure import stable_floor, stratified_factors

__all__ = ["grid_components", "label_weights", "merge_draws", "regularised", "solve_enumerated",
           "solve_structured"]


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
    share one log-density matrix, or, on a grid larger than ``num_components``,
    are streamed one by one (:func:`solve_enumerated`).
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
    grid = int(np.prod([sizes[k] for k in group], dtype=float))
    if num_components < grid <= MAX_ENUMERATED_GRID:
        y_g, x_g = eval_points(grid)
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


