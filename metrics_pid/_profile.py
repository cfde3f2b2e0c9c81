"""The PID profile: per factor and latent, bounds on unique, redundant and synergistic parts."""
from __future__ import annotations

import numpy as np
import pandas as pd

from benchmark.information import informations
from benchmark.validation import check_rng

from ._bounds import TERMS, pid_bounds

__all__ = ["PROFILE_COLUMNS", "pid_profile", "profile_table"]

PROFILE_COLUMNS = ["factor", "latent", "term", "lower", "upper",
                   "mi_latent", "mi_rest", "mi_all", "entropy"]


def profile_table(info, factor_names=None) -> pd.DataFrame:
    """Tidy table of the PID bounds of an :class:`~benchmark.information.Informations`.

    One row per (factor, latent, term); ``lower``/``upper`` are normalised by
    ``H(y_k)``; ``mi_latent``, ``mi_rest``, ``mi_all`` are the raw informations
    ``I(y_k; z_l)``, ``I(y_k; z_-l)``, ``I(y_k; z)`` and ``entropy`` is ``H(y_k)``,
    all in nats.  ``table.attrs["estimator"]`` names the estimator.
    """
    bounds = pid_bounds(info.single, info.rest, info.joint, info.entropy)
    num_factors, dim = info.single.shape
    names = list(factor_names) if factor_names is not None else [f"f{k}" for k in range(num_factors)]
    fk, ll = np.meshgrid(np.arange(num_factors), np.arange(dim), indexing="ij")
    fk, ll = fk.reshape(-1), ll.reshape(-1)
    frames = []
    for term in TERMS:
        frames.append(pd.DataFrame({
            "factor": [names[k] for k in fk], "latent": ll, "term": term,
            "lower": bounds[f"{term}_lower"].reshape(-1),
            "upper": bounds[f"{term}_upper"].reshape(-1),
            "mi_latent": info.single.reshape(-1), "mi_rest": info.rest.reshape(-1),
            "mi_all": info.joint[fk], "entropy": info.entropy[fk],
        }))
    table = pd.concat(frames, ignore_index=True)[PROFILE_COLUMNS]
    table.attrs["estimator"] = info.estimator
    return table


def pid_profile(rep, rng, *, estimator: str = "auto", **params) -> pd.DataFrame:
    """The PID profile of ``rep`` as a tidy table (see :func:`profile_table`).

    Parameters
    ----------
    rep : Representation
    rng : int or numpy.random.Generator
    estimator : {"auto", "exact", "knn", "posterior_knn"}
    **params
        Options of :func:`benchmark.information.informations`.

    Examples
    --------
    >>> from benchmark import FactorSpace, ideal
    >>> table = pid_profile(ideal(FactorSpace.synthetic([4, 3])), 0)
    >>> row = table[(table.factor == "f0") & (table.latent == 0) & (table.term == "unique")]
    >>> round(float(row.lower.iloc[0]), 2)
    1.0
    """
    info = informations(rep, check_rng(rng), estimator=estimator, **params)
    return profile_table(info, rep.space.names)
