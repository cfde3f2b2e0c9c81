"""InfoM, InfoC and InfoE (Hsu, Dorrell, Whittington, Wu & Finn, "Disentanglement via
Latent Quantization", NeurIPS 2023).

The reference is ``compute_infomec`` in kylehkhsu/latent_quantization,
``disentangle/metrics/infomec.py``; the defaults here are its defaults.  For
continuous latents:

* every latent is standardised and its mutual information with every factor
  is estimated by the nearest-neighbour estimator of Ross (2014) with 10
  neighbours (the one of scikit-learn's ``mutual_info_classif``, which first adds
  a ``1e-10``-scaled Gaussian jitter to break ties), clipped at 0 and divided by
  the factor's plug-in entropy: the normalised informations ``NMI`` (factors x
  latents);
* latents whose range is at most 1/20 of the largest range are inactive and
  dropped;
* InfoM: per active latent, the share ``max / sum`` of its largest NMI over the
  factors, averaged and rescaled so that ``1/K`` (an even spread over the ``K``
  factors) maps to 0 and 1 to 1; InfoC: the same per factor over the active
  latents, with ``1/L_active``;
* InfoE: per factor, an unpenalised multinomial logistic regression with
  class-balanced weights (lbfgs, 100 iterations) on all standardised latents
  (for a binary factor scikit-learn fits the equivalent binomial model, which
  may stop at a slightly different point than the reference's 2-class softmax),
  scored by its in-sample log loss ``CE``; InfoE is the mean over factors of
  ``(ln C - CE) / ln C``, ``C`` the factor's number of values.

With ``discrete_latents=True`` the latents are treated as labels: plug-in
informations, a latent is active when it is not constant, and InfoE fits the
one-hot encoded latents.

Behaviour of the reference, followed here as the definition:

* InfoE's null model is the class-balanced intercept-only fit, whose log loss
  is exactly ``ln C`` (it predicts ``1/C`` for every class), not the factor's
  entropy; the two agree for uniform factors only.  The reference fits that
  null model; this module uses its closed form (the fit agrees to ~1e-15).
* The NMI divides a nearest-neighbour estimate by a plug-in entropy, so an
  entry can exceed 1 by up to ~5e-4 on near-perfect codes; InfoM and InfoC only use
  ratios of NMIs, so this is not clipped.
* The chance value of InfoM and InfoC is not 0: on codes independent of the
  factors the NMIs are estimator noise, and the largest share of noise is well
  above ``1/K`` (about 0.6 and 0.46 on the review's ``random`` set).  InfoE's
  chance value is ~0.
* The 1/20 activity threshold is on raw ranges, so rescaling a latent can make
  it inactive.

Deliberate differences (degenerate cases where the reference returns NaN or
fails): a latent with all NMIs 0, or a factor with all active NMIs 0, counts as
an even spread (its term is 0); a factor with one value has NMI 0 and InfoE 0;
with one factor InfoM is 1, with one active latent InfoC is 1, with no active
latent both are 0.  The jitter is drawn from ``random_state`` (the reference
leaves it unseeded) and is the same vector for every latent and factor, and
the logistic regression sees the latents in a canonical order, so permuting
latents gives exactly the same scores.
"""
from __future__ import annotations

import math
import warnings

import numpy as np
from scipy import sparse
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression

from benchmark.information import discrete_entropy, discrete_mutual_info, knn_mutual_info
from benchmark.spec import MetricSpec
from benchmark.validation import BenchmarkError, check_codes_factors, check_positive_int, check_rng

from ._parallel import fit_in_threads
from ._sampling import sample_codes, seed_from

__all__ = ["SPEC", "infoe_per_factor", "infomec", "infomec_from_nmi", "infomec_nmi", "infomec_score"]

#: Relative size of the tie-breaking jitter, as in scikit-learn's ``mutual_info_classif``.
_JITTER = 1e-10


def _standardise(codes: np.ndarray) -> np.ndarray:
    """Zero mean, unit (population) variance per column; constant columns are only centred."""
    std = codes.std(axis=0)
    return (codes - codes.mean(axis=0)) / np.where(std > 0, std, 1.0)


def _labels(column: np.ndarray) -> np.ndarray:
    return np.unique(column, return_inverse=True)[1].reshape(-1)


def _check_sizes(codes, factors):
    if codes.shape[1] == 0 or factors.shape[1] == 0:
        raise BenchmarkError(f"codes and factors need at least one column each, got "
                             f"{codes.shape[1]} codes and {factors.shape[1]} factors")


def infomec_nmi(codes, factors, *, discrete_latents: bool = False, n_neighbors: int = 10,
                random_state: int = 0) -> np.ndarray:
    """Normalised informations ``I(factor; latent) / H(factor)``, shape ``(K, L)``.

    Parameters
    ----------
    codes : ndarray of shape (n, L)
    factors : ndarray of shape (n, K), integer
    discrete_latents : bool, default False
        Plug-in informations of the latents' values instead of the
        nearest-neighbour estimate on standardised latents.
    n_neighbors : int, default 10
        Neighbours of the nearest-neighbour estimator (the reference's value).
    random_state : int, default 0
        Seeds the tie-breaking jitter (one vector shared by every latent).

    Returns
    -------
    ndarray of shape (K, L)
        Row ``k`` is 0 for a factor with a single value.

    Examples
    --------
    >>> import numpy as np
    >>> y = np.repeat([[0], [1]], 4, axis=0)
    >>> infomec_nmi(y.astype(float), y, discrete_latents=True).tolist()
    [[1.0]]
    """
    codes, factors = check_codes_factors(codes, factors)
    _check_sizes(codes, factors)
    n_neighbors = check_positive_int(n_neighbors, "n_neighbors")
    entropy = discrete_entropy(factors)
    if discrete_latents:
        latent_labels = np.column_stack([_labels(codes[:, j]) for j in range(codes.shape[1])])
        mi = discrete_mutual_info(factors, latent_labels)
    else:
        x = _standardise(codes)
        noise = np.random.default_rng(random_state).standard_normal(x.shape[0])
        mi = np.empty((factors.shape[1], codes.shape[1]))
        for j in range(codes.shape[1]):
            jittered = x[:, j] + _JITTER * max(1.0, float(np.mean(np.abs(x[:, j])))) * noise
            for k in range(factors.shape[1]):
                mi[k, j] = knn_mutual_info(jittered, factors[:, k], k=n_neighbors)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(entropy[:, None] > 0, mi / entropy[:, None], 0.0)


def _shares(nmi: np.ndarray, axis: int) -> np.ndarray:
    """``max / sum`` along ``axis``, rescaled so an even spread is 0 and one entry is 1."""
    count = nmi.shape[axis]
    if count == 1:
        return np.ones(nmi.shape[1 - axis])
    total = nmi.sum(axis=axis)
    with np.errstate(divide="ignore", invalid="ignore"):
        share = np.where(total > 0, nmi.max(axis=axis) / total, 1.0 / count)
    return (share - 1.0 / count) / (1.0 - 1.0 / count)


def infomec_from_nmi(nmi, active=None) -> dict:
    """InfoM and InfoC of a normalised-information matrix.

    Parameters
    ----------
    nmi : array of shape (K, L)
        Non-negative normalised informations, factors x latents.
    active : bool array of shape (L,), optional
        Latents to keep (default: all).

    Returns
    -------
    dict
        ``infom`` and ``infoc``.

    Examples
    --------
    >>> # latent 0 holds only factor 0; latent 1 splits evenly between both factors
    >>> out = infomec_from_nmi([[1.0, 0.5], [0.0, 0.5]])
    >>> round(out["infom"], 6), round(out["infoc"], 6)
    (0.5, 0.666667)
    """
    nmi = np.asarray(nmi, dtype=float)
    if nmi.ndim != 2 or 0 in nmi.shape or not np.all(np.isfinite(nmi)) or np.any(nmi < 0):
        raise BenchmarkError(f"nmi must be a non-empty (factors, latents) matrix of finite "
                             f"non-negative values, got shape {nmi.shape}")
    if active is not None:
        active = np.asarray(active, dtype=bool)
        if active.shape != (nmi.shape[1],):
            raise BenchmarkError(f"active must have shape ({nmi.shape[1]},), got {active.shape}")
        nmi = nmi[:, active]
    if nmi.shape[1] == 0:
        return {"infom": 0.0, "infoc": 0.0}
    return {"infom": float(np.mean(_shares(nmi, axis=0))),
            "infoc": float(np.mean(_shares(nmi, axis=1)))}


def _active_latents(codes: np.ndarray, discrete_latents: bool, active_fraction: float) -> np.ndarray:
    ranges = codes.max(axis=0) - codes.min(axis=0)
    if discrete_latents:
        return ranges > 0
    return ranges > ranges.max() * active_fraction


def _design(codes: np.ndarray, discrete_latents: bool):
    """The logistic regression's inputs: standardised latents or their one-hot encoding,
    latents in an order that depends on their values only (not on their positions)."""
    x = _standardise(codes)
    # Columns sorted lexicographically by their standardised values: a permutation of
    # the latents yields the same matrix, so the solver runs the same arithmetic.
    x = x[:, np.lexsort(x[::-1])]
    if not discrete_latents:
        return x
    blocks = []
    for j in range(x.shape[1]):
        labels = _labels(x[:, j])
        blocks.append(sparse.csr_matrix((np.ones(len(labels)), (np.arange(len(labels)), labels)),
                                        shape=(len(labels), labels.max() + 1)))
    return sparse.hstack(blocks, format="csr")


def _normalised_predictive_information(x, y, max_iter: int) -> float:
    classes, labels = np.unique(y, return_inverse=True)
    if classes.size < 2:
        return 0.0
    model = LogisticRegression(C=np.inf, class_weight="balanced", solver="lbfgs", tol=1e-4,
                               max_iter=max_iter)
    model.fit(x, labels)
    proba = model.predict_proba(x)[np.arange(len(labels)), labels.reshape(-1)]
    eps = np.finfo(float).eps
    cross_entropy = float(-np.mean(np.log(np.clip(proba, eps, 1 - eps))))
    null = math.log(classes.size)  # the class-balanced intercept-only model predicts 1/C
    return (null - cross_entropy) / null


def infoe_per_factor(codes, factors, *, discrete_latents: bool = False, max_iter: int = 100,
                n_jobs: int | None = -1) -> np.ndarray:
    """InfoE per factor, shape ``(K,)`` (see the module docstring).

    Examples
    --------
    >>> import numpy as np
    >>> # z = a: y = 0, 0, 0, 1; z = b: y = 1, 1, 1, 0.  Balanced classes, so the
    >>> # saturated fit is the empirical p(y | z) and InfoE = 1 - H2(1/4) = 0.1887
    >>> y = np.array([[0], [0], [0], [1], [1], [1], [1], [0]])
    >>> z = np.array([[0.0], [0], [0], [0], [1], [1], [1], [1]])
    >>> round(float(infoe_per_factor(z, y, discrete_latents=True)[0]), 4)
    0.1887
    """
    codes, factors = check_codes_factors(codes, factors)
    _check_sizes(codes, factors)
    max_iter = check_positive_int(max_iter, "max_iter")
    x = _design(codes, bool(discrete_latents))
    # The unpenalised fit of well separated classes never converges: the reference stops
    # it after max_iter iterations too, and its warning says nothing about the score.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        values = fit_in_threads(lambda k: _normalised_predictive_information(x, factors[:, k], max_iter),
                                range(factors.shape[1]), n_jobs=n_jobs)
    return np.asarray(values, dtype=float)


def infomec_score(codes, factors, *, discrete_latents: bool = False, n_neighbors: int = 10,
                  active_fraction: float = 1 / 20, max_iter: int = 100, random_state: int = 0,
                  n_jobs: int | None = -1) -> dict:
    """InfoM, InfoC and InfoE of given codes and factors.

    Parameters
    ----------
    codes : ndarray of shape (n, L)
    factors : ndarray of shape (n, K), integer
        Factor values, used as class labels (any integers).
    discrete_latents : bool, default False
        The reference's switch for quantised latents.
    n_neighbors : int, default 10
        Neighbours of the nearest-neighbour information estimator.
    active_fraction : float, default 1/20
        A continuous latent is active when its range exceeds this fraction of
        the largest range.
    max_iter : int, default 100
        lbfgs iterations of InfoE's logistic regressions.
    random_state : int, default 0
        Seeds the estimator's tie-breaking jitter.
    n_jobs : int or None, default -1
        Threads fitting the factors' regressions (the result does not depend on it).

    Returns
    -------
    dict
        ``infom`` (the headline), ``infoc`` and ``infoe``.

    Examples
    --------
    >>> import numpy as np
    >>> y = np.stack([np.arange(400) % 2, np.arange(400) // 200], axis=1)
    >>> out = infomec_score(y.astype(float), y, discrete_latents=True)
    >>> {key: round(value, 3) for key, value in out.items()}
    {'infom': 1.0, 'infoc': 1.0, 'infoe': 1.0}
    """
    codes, factors = check_codes_factors(codes, factors)
    _check_sizes(codes, factors)
    if not (isinstance(active_fraction, (int, float)) and 0 <= active_fraction < 1):
        raise BenchmarkError(f"active_fraction must be a number in [0, 1), got {active_fraction!r}")
    discrete_latents = bool(discrete_latents)
    nmi = infomec_nmi(codes, factors, discrete_latents=discrete_latents, n_neighbors=n_neighbors,
                      random_state=random_state)
    out = infomec_from_nmi(nmi, _active_latents(codes, discrete_latents, active_fraction))
    infoe = infoe_per_factor(codes, factors, discrete_latents=discrete_latents, max_iter=max_iter,
                        n_jobs=n_jobs)
    return {"infom": out["infom"], "infoc": out["infoc"], "infoe": float(np.mean(infoe))}


def infomec(rep, rng, *, num_samples: int = 10000, n_neighbors: int = 10,
            n_jobs: int | None = -1) -> dict:
    """InfoM, InfoC and InfoE of ``rep`` on ``num_samples`` codes drawn by ``rep.space``.

    The factors' value indices are the class labels (InfoMEC needs no scaling
    to [0, 1]: only the labels' identity matters).  Repeated rows of the draw
    (a table of encodings is sampled with replacement) are kept once: the
    nearest-neighbour estimator would read their zero distances as information
    about every factor.

    Parameters
    ----------
    rep : Representation
    rng : int or numpy.random.Generator
        Draws the factors and codes, then seeds the estimator's jitter.
    num_samples : int, default 10000
    n_neighbors : int, default 10
    n_jobs : int or None, default -1

    Returns
    -------
    dict
        ``{"infom", "infoc", "infoe"}`` (see :func:`infomec_score`).

    Examples
    --------
    >>> from benchmark import FactorSpace, ideal
    >>> out = infomec(ideal(FactorSpace.synthetic([3, 4])), 0, num_samples=1000)
    >>> round(out["infom"], 2), round(out["infoc"], 2)  # the estimator's noise costs ~0.01
    (0.99, 0.99)
    """
    rng = check_rng(rng)
    num_samples = check_positive_int(num_samples, "num_samples", 2)
    codes, factors = sample_codes(rep, num_samples, rng)
    # A table of encodings is sampled with replacement, and repeated rows sit at distance
    # 0 with every label equal: the neighbour estimator reads them as information about
    # every factor.  Each distinct row is kept once, in its order of first draw (a
    # Gaussian representation never repeats a row, so nothing changes there).
    _, first = np.unique(np.column_stack([codes, factors]), axis=0, return_index=True)
    keep = np.sort(first)
    return infomec_score(codes[keep], factors[keep], n_neighbors=n_neighbors,
                         random_state=seed_from(rng), n_jobs=n_jobs)


SPEC = MetricSpec("infomec", infomec, headline="infom",
                  family="information", display_name="InfoMEC", target="modularity",
                  quick={"num_samples": 3000},
                  cost=(2, 1.1))
