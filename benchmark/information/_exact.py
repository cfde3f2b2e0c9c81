"""The exact estimator: informations of mixtures of Gaussians by Monte Carlo
(Tokui & Sato 2022), for conditionally Gaussian representations (:mod:`._gaussian`),
posterior tables (:mod:`._tables`) and per-sample diagonal posteriors."""
from __future__ import annotations

import numpy as np

from ..representations import GaussianStructure, Posteriors, PosteriorTable, sqrt_psd
from ..validation import BenchmarkError, check_positive_int, check_rng
from ._gaussian import grid_components, label_weights, merge_draws, regularised, solve_structured
from ._histogram import plugin_entropy
from ._kernel import Mixture, solve_mixture
from ._result import Informations, subsets
from ._structure import RESOLVE_THRESHOLD, Codebook, analyse_subset, stratified_factors
from ._tables import (
    component_picks,
    covariance_parts,
    covariance_table_informations,
    linear_table_parts,
    table_informations,
)

__all__ = ["mixture_informations", "posterior_mixture"]


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


def mixture_informations(rep, rng, *, num_mc_points: int = 10000, num_components: int = 10000,
                         resolve_threshold: float | None = RESOLVE_THRESHOLD,
                         exploit_structure: bool = True,
                         max_memory_mb: float = 200.0) -> Informations:
    """Informations from the exact (mixture-of-Gaussians) structure, by Monte Carlo.

    Every information is ``mean_i [log p(x_i | y_k = v_i) - log p(x_i)]`` over
    ``num_mc_points`` evaluation points ``x_i`` drawn from the representation (with
    factor values ``v_i``); this is ``H(z_S) - H(z_S | y_k)`` with common
    random numbers for the two entropies.  For Gaussian representations the
    densities are mixtures over the factor grid's points (every one of them
    where the structure below allows, else components drawn independently of
    the evaluation points).  For per-sample posteriors the
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
        Largest number of mixture components held in memory (grids up to this size are
        enumerated there; a structured group's larger grid is streamed, see above).
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

