"""Known answers the information tests share: numerical integration and small
representations whose informations have closed forms or quadratures."""
import numpy as np
import pytest

from benchmark import FactorSpace, GaussianRepresentation
from benchmark.representations import StandardisedIndex


def _integrated_information(means, cov, labels, grid_points=1201):
    """``I(label; z)`` of the uniform mixture ``sum_j N(means[j], cov)`` by a fine grid.

    The means are whitened and projected on their span (at most 2-D here): the
    orthogonal complement is pure noise, independent of the label, so the
    information is that of the projection, integrated on a regular grid with
    the trapezoid rule over +-9 noise standard deviations beyond the means.
    """
    chol = np.linalg.cholesky(cov)
    white = np.linalg.solve(chol, means.T).T
    centred = white - white.mean(axis=0)
    _, s, vt = np.linalg.svd(centred, full_matrices=False)
    basis = vt[s > 1e-9 * max(1.0, s[0])]
    proj = centred @ basis.T                     # (G, r), unit noise in every direction
    r = proj.shape[1]
    if r == 0:
        return 0.0
    axes = [np.linspace(proj[:, i].min() - 9, proj[:, i].max() + 9, grid_points) for i in range(r)]
    mesh = np.stack(np.meshgrid(*axes, indexing="ij"), axis=-1).reshape(-1, r)
    values = np.unique(labels)
    dens = np.zeros((len(values), len(mesh)))
    for j, m in enumerate(proj):
        dens[np.searchsorted(values, labels[j])] += np.exp(-0.5 * ((mesh - m) ** 2).sum(1))
    counts = np.array([(labels == v).sum() for v in values], dtype=float)
    cond = dens / counts[:, None]
    marg = dens.sum(0) / len(proj)
    with np.errstate(divide="ignore", invalid="ignore"):
        integrand = np.where(cond > 0, cond * np.log(cond / marg), 0.0)
    integrand = (integrand * (counts / counts.sum())[:, None]).sum(0).reshape([grid_points] * r)
    for i in range(r):
        integrand = np.trapezoid(integrand, axes[i], axis=0)
    return float(integrand) / (2 * np.pi) ** (r / 2)


def _one_d(num_values, sigma):
    space = FactorSpace.synthetic([num_values])
    scale = np.sqrt((num_values**2 - 1) / 12)
    return GaussianRepresentation(space, StandardisedIndex([(num_values - 1) / 2], [scale]),
                                  [[sigma**2]], name=f"1d({num_values},{sigma})")


class _DiagonalPosterior:
    """A VAE-like table: factor value ``v`` has posterior ``N(m_v, s_v^2)`` per latent."""


    def __init__(self, means, sds):
        self.means, self.sds = np.asarray(means, float), np.asarray(sds, float)
        self.space = FactorSpace.synthetic([self.means.shape[0]])
        self.dim = self.means.shape[1]
        self.name = "diagonal-posterior"

    def posterior(self, y):
        y = np.asarray(y)[:, 0]
        return self.means[y], self.sds[y] ** 2

    def encode(self, y, rng):
        m, v = self.posterior(y)
        return m + np.sqrt(v) * rng.standard_normal(m.shape)


def _integrated_all(rep):
    """Every information of a Gaussian representation on a small grid, by integration."""
    sizes = rep.space.sizes
    grid = np.stack(np.meshgrid(*[np.arange(s) for s in sizes], indexing="ij"), -1).reshape(-1, len(sizes))
    mean, dim = rep.mean(grid), rep.dim
    out = {"single": np.zeros((len(sizes), dim)), "rest": np.zeros((len(sizes), dim)),
           "joint": np.zeros(len(sizes))}
    for k in range(len(sizes)):
        out["joint"][k] = _integrated_information(mean, rep.cov, grid[:, k])
        for l in range(dim):
            out["single"][k, l] = _integrated_information(mean[:, [l]], rep.cov[[l]][:, [l]],
                                                          grid[:, k])
            rest = np.delete(np.arange(dim), l)
            out["rest"][k, l] = _integrated_information(mean[:, rest], rep.cov[np.ix_(rest, rest)],
                                                        grid[:, k])
    return out


@pytest.fixture(scope="session")
def integrated_information():
    """``I(label; z)`` of a uniform Gaussian mixture by numerical integration."""
    return _integrated_information


@pytest.fixture(scope="session")
def one_d():
    """``one_d(num_values, sigma)``: a 1-D standardised index with Gaussian noise."""
    return _one_d


@pytest.fixture(scope="session")
def diagonal_posterior():
    """The class of a VAE-like table with per-value diagonal posteriors."""
    return _DiagonalPosterior


@pytest.fixture(scope="session")
def integrated_all():
    """Every information of a Gaussian representation on a small grid, by integration."""
    return _integrated_all
