"""The nearest-neighbour estimator on draws from a posterior table: for a user's
sample of encodings with variances, which the exact mixture cannot score.

A table that is a *sample* of a data set's rows is not the data distribution:
its rows are sparse, so a mixture of their narrow posteriors singles rows
out, and with them factor values that are dependent within the sample (the
exact estimator would overstate redundancy).  But the rows are a uniform
sample of the data, so one draw ``z ~ q(z | x_r)`` per row is an i.i.d. sample
of the data's joint distribution of factors and codes, which the Ross (2014)
estimator scores.  Three choices make it accurate on such draws (measured in
``benchmarks/sample_tables.py``):

* every row is drawn at most once (up to ``num_rows``): a row drawn twice
  would be two draws of one posterior, a pair of neighbours that share every
  factor value;
* latents whose posterior barely moves with the row are dropped.  Given the
  row, latents are independent, so latent ``l`` adds at most
  ``I(row; z_l) <= 0.5 log(Var(mu_l) + E v_l) - 0.5 E log v_l`` to any
  information (a Gaussian channel's capacity bound): below
  :data:`DEAD_NATS` its informations are set to 0 and it leaves every subset
  exactly.  A VAE's collapsed latents are such, and in a max-norm kNN they
  would otherwise dominate every distance;
* the metric measures each latent in its posterior standard deviation
  (``sqrt(mean_r v_rl)``), not its spread: the draws' noise is then
  isotropic, and latents with narrow posteriors are resolved at their scale.

Linear attacks keep this structure: the noise attack widens the posteriors;
the duplicate, redundancy and nuisance attacks append copies ``w = M z + B e``
that are noise given the table's latents, so a subset holding every table
latent carries their information exactly, and the subset without latent
``l`` sees only ``u_l`` of the copies (see
:func:`~._tables.table_informations`).  Every level then scores the same draws
of the table's latents.  Other linear maps are scored on their draws.
"""
from __future__ import annotations

import numpy as np

from ..validation import check_positive_int, check_rng
from ._knn import knn_informations_from_codes, knn_mi_labels
from ._result import Informations
from ._tables import linear_parts, linear_table_parts

__all__ = ["DEAD_NATS", "dead_latents", "posterior_knn_applies", "posterior_knn_informations"]

#: A latent whose capacity bound ``I(row; z_l)`` is below this (nats) is dropped.
DEAD_NATS = 1e-3


def posterior_knn_applies(rep) -> bool:
    """Whether ``rep`` is a posterior table or a linear map of one."""
    return linear_parts(rep) is not None


def dead_latents(mean: np.ndarray, var: np.ndarray) -> np.ndarray:
    """Boolean mask of the latents whose capacity bound is below :data:`DEAD_NATS`.

    ``mean`` and ``var`` are ``(rows, L)`` posterior means and variances.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> mean = np.stack([rng.standard_normal(500), 1e-3 * rng.standard_normal(500)], axis=1)
    >>> dead_latents(mean, np.full((500, 2), 0.1)).tolist()
    [False, True]
    """
    bound = 0.5 * (np.log(mean.var(axis=0) + var.mean(axis=0)) - np.log(var).mean(axis=0))
    return bound < DEAD_NATS


def _estimate(columns, scales, labels, entropy, k):
    return knn_informations_from_codes(columns, labels, entropy=entropy, k=k, scale=scales)


def posterior_knn_informations(rep, rng, *, num_rows: int = 50000, k: int = 1) -> Informations:
    """Informations of a posterior table (or a linear map of one) by kNN on posterior draws.

    Parameters
    ----------
    rep : Representation
        A :class:`~benchmark.representations.PosteriorTable`, or a linear
        attack on one (:func:`posterior_knn_applies`).
    rng : int or numpy.random.Generator
    num_rows : int, default 50000
        Rows drawn without replacement (every row of a smaller table), one
        posterior draw each.
    k : int, default 1
        Neighbour count; on posterior draws the bias of larger ``k`` outweighs
        its lower variance (``benchmarks/sample_tables.py``).

    Returns
    -------
    Informations
        With ``estimator == "posterior_knn"``.
    """
    rng = check_rng(rng)
    num_rows = check_positive_int(num_rows, "num_rows", 2)
    k = check_positive_int(k, "k")
    parts = linear_table_parts(rep)
    table = parts[0] if parts is not None else linear_parts(rep)[0]
    labels, mu, var = (np.asarray(a) for a in table.posterior_sample(num_rows, rng))
    mu, var = mu.astype(float), var.astype(float)
    entropy = table.space.entropies()
    eps = rng.standard_normal(mu.shape)
    if parts is None:  # any other linear map: its draws, each latent in its noise scale
        _, matrix, noise = linear_parts(rep)
        z = (mu + np.sqrt(var) * eps) @ matrix.T
        z = z + rng.standard_normal((len(z), noise.shape[1])) @ noise.T
        scales = np.sqrt(var @ (matrix**2).T + (noise**2).sum(axis=1))
        info = _estimate(z, scales.mean(axis=0), labels, entropy, k)
        info.estimator = "posterior_knn"
        return info

    _, noise_var, copy, copy_noise = parts
    var = var + noise_var
    x = mu + np.sqrt(var) * eps
    dim, num_copies = mu.shape[1], len(copy)
    live = np.flatnonzero(~dead_latents(mu, var))
    scales = np.sqrt(var.mean(axis=0))
    if len(live) == 0:  # nothing moves with the row: every information is (within DEAD_NATS) 0
        return Informations.zeros(len(entropy), dim + num_copies, entropy, "posterior_knn")
    # a dead latent, or a copy, leaves the rest as all
    result = _estimate(x[:, live], scales[live], labels, entropy, k).widened(live, dim + num_copies)
    result.estimator = "posterior_knn"
    if num_copies:
        e = rng.standard_normal((len(x), copy_noise.shape[1]))
        noise = e @ copy_noise.T
        cov = copy_noise @ copy_noise.T
        weighted = np.linalg.solve(cov, copy)  # C^-1 M
        for i, l in enumerate(live):
            a = float(copy[:, l] @ weighted[:, l])
            if a <= 0:  # no copy holds latent l: the rest is the table's rest
                continue
            u = x[:, l] + noise @ weighted[:, l] / a
            columns = np.column_stack([np.delete(x[:, live], i, axis=1), u])
            col_scales = np.append(np.delete(scales[live], i), np.sqrt(scales[l] ** 2 + 1.0 / a))
            codes = columns / col_scales
            for f in range(len(entropy)):
                result.rest[f, l] = knn_mi_labels(codes, labels[:, f], k)
        z_copy = x @ copy.T + noise
        copy_mean, copy_var = mu @ copy.T, var @ (copy**2).T + np.diag(cov)
        for j in np.flatnonzero(~dead_latents(copy_mean, copy_var)):
            for f in range(len(entropy)):
                result.single[f, dim + j] = knn_mi_labels(z_copy[:, j:j + 1], labels[:, f], k)
    return result
