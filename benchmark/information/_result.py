"""The informations the PID bounds need, and the latent subsets they are taken over."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["Informations", "subsets"]


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
        ``"exact"``, ``"knn"`` or ``"posterior_knn"``.
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

    def widened(self, live, dim) -> "Informations":
        """These informations, of the latents ``live``, as informations of ``dim`` latents
        where the others carry nothing: their own informations are 0, and a subset
        without one of them is the whole set.

        >>> base = Informations(np.array([[0.5, 0.25]]), np.array([[0.25, 0.5]]),
        ...                     np.array([0.75]), np.array([1.0]), "knn")
        >>> wide = base.widened([0, 2], 3)
        >>> wide.single.tolist(), wide.rest.tolist()
        ([[0.5, 0.0, 0.25]], [[0.25, 0.75, 0.5]])
        """
        wide = Informations.zeros(len(self.joint), dim, self.entropy, self.estimator)
        wide.joint[:] = self.joint
        wide.rest[:] = self.joint[:, None]
        wide.single[:, live] = self.single
        wide.rest[:, live] = self.rest
        return wide

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

