"""PID bounds from the three informations (Tokui & Sato 2022, PAPER.md)."""
from __future__ import annotations

import numpy as np

__all__ = ["TERMS", "aggregate", "pid_bounds"]

TERMS = ("unique", "redundancy", "synergy")


def pid_bounds(single, rest, joint, entropy) -> dict:
    """Lower and upper bounds of the unique, redundant and synergistic parts.

    With ``a = I(y_k; z_l)``, ``b = I(y_k; z_-l)``, ``c = I(y_k; z)`` (each divided
    by ``H(y_k)`` and clipped to ``[0, 1]``) and ``ii = a + b - c``::

        unique      [max(0, a - b),  min(a, c - b)]
        redundancy  [max(0, ii),     min(a, b)]
        synergy     [max(0, -ii),    c - max(a, b)]

    ``c`` is raised to ``max(a, b)`` where an estimate fell below it (the full
    set cannot carry less than a subset; only estimation error makes it so),
    which makes every lower bound at most its upper bound.

    Parameters
    ----------
    single, rest : array of shape (K, L)
        ``I(y_k; z_l)`` and ``I(y_k; z_-l)`` in nats.
    joint : array of shape (K,)
        ``I(y_k; z)`` in nats.
    entropy : array of shape (K,)
        ``H(y_k)`` in nats (positive).

    Returns
    -------
    dict
        ``a``, ``b``, ``c`` (normalised, shape (K, L)) and ``<term>_lower``,
        ``<term>_upper`` for each term of :data:`TERMS`, shape (K, L).

    Examples
    --------
    The XOR key pad: neither latent alone says anything, the pair says all of
    ``H(y) = log 2``; every bit is synergistic.

    >>> import numpy as np
    >>> h = np.log(2)
    >>> b = pid_bounds([[0.0, 0.0]], [[0.0, 0.0]], [h], [h])
    >>> [float(b[t][0, 0]) for t in ("unique_lower", "redundancy_lower", "synergy_lower")]
    [0.0, 0.0, 1.0]
    """
    entropy = np.asarray(entropy, dtype=float)[:, None]
    a = np.clip(np.asarray(single, dtype=float) / entropy, 0.0, 1.0)
    b = np.clip(np.asarray(rest, dtype=float) / entropy, 0.0, 1.0)
    c = np.clip(np.asarray(joint, dtype=float)[:, None] / entropy, 0.0, 1.0)
    c = np.maximum(np.broadcast_to(c, a.shape), np.maximum(a, b))
    ii = a + b - c
    return {
        "a": a, "b": b, "c": c,
        "unique_lower": np.maximum(0.0, a - b), "unique_upper": np.minimum(a, c - b),
        "redundancy_lower": np.maximum(0.0, ii), "redundancy_upper": np.minimum(a, b),
        "synergy_lower": np.maximum(0.0, -ii), "synergy_upper": c - np.maximum(a, b),
    }


def aggregate(bounds: dict) -> dict:
    """Scores: per bound, the best latent (max over ``l``), averaged over factors.

    Returns ``unibound`` (unique lower, the headline), ``unibound_u``,
    ``redundancy_l``, ``redundancy_u``, ``synergy_l``, ``synergy_u`` and ``mi``
    (mean over factors of ``I(y_k; z) / H(y_k)``).

    Examples
    --------
    Two factors: the first copied by latent 0 alone, the second by both latents.

    >>> import numpy as np
    >>> h = np.log(2)
    >>> b = pid_bounds([[h, 0.0], [h, h]], [[0.0, h], [h, h]], [h, h], [h, h])
    >>> s = aggregate(b)
    >>> s["unibound"], s["redundancy_l"], s["mi"]
    (0.5, 0.5, 1.0)
    """
    def score(key):
        return float(np.mean(np.max(bounds[key], axis=1)))

    return {
        "unibound": score("unique_lower"), "unibound_u": score("unique_upper"),
        "redundancy_l": score("redundancy_lower"), "redundancy_u": score("redundancy_upper"),
        "synergy_l": score("synergy_lower"), "synergy_u": score("synergy_upper"),
        "mi": float(np.mean(bounds["c"][:, 0])) if bounds["c"].shape[1] else 0.0,
    }
