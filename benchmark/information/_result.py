"""The informations the PID bounds need, and the latent subsets they are taken over."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["TOLERANCE", "Informations", "breaches", "subsets"]


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
        """Set the information of ``factor`` for the subset ``key`` (see :func:`subsets`)."""
        kind, l = key
        if kind == "all":
            self.joint[factor] = value
        elif kind == "rest":
            self.rest[factor, l] = value
        else:
            self.single[factor, l] = value


def subsets(dim):
    """``("all", -1)``, then ``("rest", l)`` and ``("one", l)`` for every latent."""
    yield ("all", -1), np.arange(dim)
    for l in range(dim):
        if dim > 1:
            yield ("rest", l), np.delete(np.arange(dim), l)
        yield ("one", l), np.array([l])


#: How far (in units of the factor's entropy) an estimate may step outside
#: information theory before it is reported: the estimator's own error.  The
#: exact estimator's Monte Carlo error stays below 1e-3 of H on the check
#: cases (tests/benchmark/information/test_checks.py); the kNN estimators'
#: errors reach 0.04 of H on 20,000-row samples (benchmarks/sample_tables.py).
TOLERANCE = {"exact": 0.01, "knn": 0.05, "posterior_knn": 0.05}


def breaches(info: Informations, names=None, *, tolerance: float | None = None) -> list:
    """Where ``info`` breaks information theory by more than ``tolerance``: one line each.

    Checked, in units of ``H(y_k)``: ``0 <= I(y_k; z_S) <= H(y_k)`` for every
    subset, and ``I(y_k; z_S) <= I(y_k; z_T)`` for ``S`` inside ``T``
    (a single latent and the rest inside all latents, latent ``l`` inside
    every rest without another latent).  Nothing is clipped: a breach is the
    estimator failing on this input, and the lines say where and by how much.

    Examples
    --------
    >>> import numpy as np
    >>> info = Informations(np.array([[1.2, 0.0]]), np.array([[0.0, 1.2]]), np.array([0.4]),
    ...                     np.array([1.0986]), "knn")
    >>> print("\\n".join(breaches(info, ["shape"])))
    I(shape; z0) = 1.2 nats exceeds H(shape) = 1.099 by 0.092 of H (knn estimator)
    I(shape; z0) = 1.2 nats exceeds I(shape; z) = 0.4 by 0.73 of H (knn estimator)
    """
    names = [f"y{k}" for k in range(len(info.entropy))] if names is None else list(names)
    tol = TOLERANCE.get(info.estimator, 0.05) if tolerance is None else tolerance
    lines = []
    dim = info.single.shape[1]

    def check(k, excess, text):
        h = info.entropy[k]
        if h > 0 and excess / h > tol:
            lines.append(f"{text} by {excess / h:.2g} of H ({info.estimator} estimator)")

    for k, name in enumerate(names):
        h, joint = info.entropy[k], info.joint[k]
        subsets = [("z", joint)] + [(f"z{l}", info.single[k, l]) for l in range(dim)]
        if dim > 2:  # with two latents, each rest is the other single latent
            subsets += [(f"z_-{l}", info.rest[k, l]) for l in range(dim)]
        for label, value in subsets:
            check(k, -value, f"I({name}; {label}) = {value:.4g} nats is negative")
            check(k, value - h, f"I({name}; {label}) = {value:.4g} nats exceeds H({name}) = {h:.4g}")
        for label, value in subsets[1:]:
            check(k, value - joint, f"I({name}; {label}) = {value:.4g} nats exceeds "
                                    f"I({name}; z) = {joint:.4g}")
        if dim > 2:
            for l in range(dim):
                others = np.delete(np.arange(dim), l)
                m = others[np.argmin(info.rest[k, others])]
                check(k, info.single[k, l] - info.rest[k, m],
                      f"I({name}; z{l}) = {info.single[k, l]:.4g} nats exceeds "
                      f"I({name}; z_-{m}) = {info.rest[k, m]:.4g}")
    return lines
