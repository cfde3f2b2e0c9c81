"""EDI: exclusivity-based disentanglement, completeness and informativeness (Julka, Wang &
Granitzer 2024, "Measuring meaningful latent space"; the code calls it ``dcii``).

The reference is ``dcii`` in wangyashuu/measuring_meaningful_latent_space,
``disentangling/metrics/dcii.py``, with its defaults (``estimator='ksg'``, factors
treated as continuous, ``epsilon=1e-10``):

* ``MI[l, k]``: the Kraskov (KSG, algorithm 1) estimate of ``I(z_l; y_k)`` in nats:
  both variables divided by their standard deviation, ``1e-10 * U[0, 1)`` added to
  each, the max-norm distance to the third neighbour in the joint space shrunk to the
  next float below, the neighbours within it counted in each marginal, clipped at 0;
* each factor's column is divided by what all the codes together know of it,
  ``I(z; y_k)`` (the *normaliser*, :data:`NORMALISERS`);
* the *exclusive rate* of a vector is its largest entry minus the root mean square of the
  others, ``max - sqrt((sum of squares - max**2) / (n - 1))``;
* disentanglement: each code's exclusive rate (over factors) is credited to the factor
  it knows most about, summed per factor, capped at 1 and averaged over factors;
* completeness: each factor's exclusive rate over codes, averaged;
* informativeness: ``mean_k min(I(z; y_k), H_k) / (H_k + 1e-10)``, where ``H_k`` is the
  KSG estimate of ``I(y_k; y_k)`` (two independently jittered copies of the factor).

EDI's disentanglement reads whether each code is exclusive to one factor, the
modularity of Carbonneau et al.; that is its target.

Deliberate differences from the reference:

* The normaliser.  With fewer than four codes the reference estimates ``I(z; y_k)`` by
  KSG on the code vector (as here, ``normaliser="joint"``); from four codes on it trains
  a MINE network (torch, 4 hidden layers, up to 200 epochs), a stochastic lower bound,
  so normalised entries exceed 1 and completeness reaches 3.8-6.9 on five random codes
  depending on the seed.  KSG is used here at every width; the reference's two other
  normalisers, the largest and the sum of a factor's column, are ``"max"`` and
  ``"sum"``.  On fewer than four codes the scores agree with the reference to 1e-6
  (disentanglement, completeness) and within its seed-to-seed spread (informativeness,
  whose ``H_k`` of a discrete factor is set by the jitter).
* Nothing is capped but the per-factor disentanglement sums (as in the reference): a
  normalised entry a little above 1 (one code's estimate above the joint one) gives a
  completeness a little above 1 (1.003 on a clean code).
* A factor about which the codes together know nothing (normaliser 0) has a column of
  zeros here, where the reference divides by 0; one factor (or one code) has no "others",
  so its exclusive rate is its largest entry, where the reference divides 0 by 0.
* On codes that carry nothing about a factor, its column holds KSG's small positive
  errors divided by their joint counterpart: D and C are then ratios of estimation
  noise (five noise codes: reference D 0.6-0.8, here anywhere in [0, 1]); informativeness
  is the score that says such codes know nothing.
* The noise is drawn from the metric's generator, not numpy's global one, so a seed
  gives the same scores.

Cost: ``L * K + K`` KSG estimates on ``n`` points (two-dimensional trees) and ``K`` in
``L + 1`` dimensions for the joint normaliser; on wide codes the joint normaliser's
tree loses its edge (the reference would train ``K`` networks there), and ``"max"`` or
``"sum"`` keep the cost at the ``L * K`` pairs.
"""
from __future__ import annotations

import numpy as np
from scipy.spatial import cKDTree
from scipy.special import digamma

from benchmark.spec import MetricSpec
from benchmark.validation import BenchmarkError, check_codes, check_positive_int, check_rng

from ._sampling import sample_codes

__all__ = ["NORMALISERS", "SPEC", "edi", "edi_score", "exclusive_rate", "ksg_mutual_info"]


def _scaled(x: np.ndarray) -> np.ndarray:
    """Columns divided by their (population) standard deviation; a constant column is
    left as it is (scikit-learn's ``scale(with_mean=False)``, the reference's transform)."""
    std = x.std(axis=0)
    return x / np.where(std == 0.0, 1.0, std)


def ksg_mutual_info(x, y, rng, *, k: int = 3, jitter: float = 1e-10) -> float:
    """Kraskov et al. (2004) algorithm-1 estimate of ``I(x; y)`` in nats, clipped at 0.

    ``x`` (n, dx) and ``y`` (n, dy), or one-dimensional; each column is divided by its
    standard deviation and ``jitter * U[0, 1)`` from ``rng`` is added, so ties (a
    discrete factor) are broken at random, as in the reference.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> x = rng.normal(size=4000)
    >>> y = 0.8 * x + 0.6 * rng.normal(size=4000)  # correlation 0.8
    >>> round(ksg_mutual_info(x, y, rng), 2), round(float(-0.5 * np.log(1 - 0.8**2)), 2)  # exact
    (0.52, 0.51)
    """
    x = _scaled(np.asarray(x, float).reshape(len(x), -1))
    y = _scaled(np.asarray(y, float).reshape(len(y), -1))
    x = x + jitter * rng.random(x.shape)
    y = y + jitter * rng.random(y.shape)
    n = len(x)
    distance, _ = cKDTree(np.hstack([x, y])).query(np.hstack([x, y]), k=k + 1, p=np.inf)
    radius = np.nextafter(distance[:, -1], 0)
    counts = [cKDTree(v).query_ball_point(v, radius, p=np.inf, return_length=True) - 1.0
              for v in (x, y)]
    mi = digamma(n) + digamma(k) - sum(np.mean(digamma(c + 1.0)) for c in counts)
    return max(0.0, float(mi))


def _column_max(mi, codes, factors, rng, k):
    return mi.max(axis=0)


def _column_sum(mi, codes, factors, rng, k):
    return mi.sum(axis=0)


def _joint(mi, codes, factors, rng, k):
    return np.array([ksg_mutual_info(codes, factors[:, j], rng, k=k)
                     for j in range(factors.shape[1])])


#: What the codes together know of each factor, ``I(z; y_k)``, by which each factor's
#: column of ``MI`` is divided: KSG on the whole code vector (the reference below four
#: codes), or the largest or the sum of the factor's column (the reference's
#: ``estimate_mi_codes_and_factor_by="max"`` / ``"sum"``).
NORMALISERS = {"joint": _joint, "max": _column_max, "sum": _column_sum}


def exclusive_rate(values, axis: int = 0) -> np.ndarray:
    """The largest entry along ``axis`` minus the root mean square of the others.

    Examples
    --------
    >>> exclusive_rate([1.0, 0.0, 0.0]), exclusive_rate([0.5, 0.5])
    (np.float64(1.0), np.float64(0.0))
    """
    values = np.asarray(values, float)
    n = values.shape[axis]
    top = values.max(axis=axis)
    rest = np.clip((values ** 2).sum(axis=axis) - top ** 2, 0.0, None)
    return top - np.sqrt(rest / max(n - 1, 1))


def _scores(normalised: np.ndarray) -> tuple[float, float]:
    """(disentanglement, completeness) of the normalised ``(L, K)`` matrix."""
    num_codes, num_factors = normalised.shape
    credited = np.zeros(num_factors)
    np.add.at(credited, normalised.argmax(axis=1), exclusive_rate(normalised, axis=1))
    disentanglement = np.minimum(credited, 1.0).sum() / num_factors
    return float(disentanglement), float(exclusive_rate(normalised, axis=0).mean())


def edi_score(codes, factors, *, normaliser: str = "joint", k: int = 3, rng=0) -> dict:
    """EDI of codes ``(n, L)`` and factors ``(n, K)``.

    Parameters
    ----------
    codes : ndarray of shape (n, L)
    factors : ndarray of shape (n, K)
        Factor values (treated as continuous, as the reference does by default).
    normaliser : {"joint", "max", "sum"}, default "joint"
        How ``I(z; y_k)`` is estimated (:data:`NORMALISERS`).
    k : int, default 3
        The KSG neighbour.
    rng : int or numpy.random.Generator, default 0
        Draws the tie-breaking noise.

    Returns
    -------
    dict
        ``disentanglement``, ``completeness``, ``informativeness``.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> y = rng.integers(0, 5, size=(3000, 2))
    >>> z = y[:, ::-1] + 0.05 * rng.normal(size=(3000, 2))  # one code per factor, swapped
    >>> {key: round(v, 2) for key, v in edi_score(z, y).items()}
    {'disentanglement': 1.0, 'completeness': 1.0, 'informativeness': 0.99}
    """
    codes, factors = check_codes(codes), check_codes(factors, "factors")
    if codes.shape[0] != factors.shape[0]:
        raise BenchmarkError(f"codes and factors need the same number of rows; got "
                             f"{codes.shape[0]} and {factors.shape[0]}")
    k = check_positive_int(k, "k")
    if codes.shape[0] <= k + 1:
        raise BenchmarkError(f"codes need more than k + 1 = {k + 1} rows, got {codes.shape[0]}")
    if normaliser not in NORMALISERS:
        raise BenchmarkError(f"normaliser must be one of {', '.join(map(repr, NORMALISERS))}, "
                             f"got {normaliser!r}")
    rng = check_rng(rng)
    num_codes, num_factors = codes.shape[1], factors.shape[1]
    mi = np.array([[ksg_mutual_info(codes[:, i], factors[:, j], rng, k=k)
                    for j in range(num_factors)] for i in range(num_codes)])
    captured = NORMALISERS[normaliser](mi, codes, factors, rng, k)
    entropy = np.array([ksg_mutual_info(factors[:, j], factors[:, j], rng, k=k)
                        for j in range(num_factors)])
    with np.errstate(divide="ignore", invalid="ignore"):
        normalised = np.where(captured > 0, mi / captured, 0.0)
    disentanglement, completeness = _scores(normalised)
    informativeness = float(np.mean(np.minimum(captured, entropy) / (entropy + 1e-10)))
    return {"disentanglement": disentanglement, "completeness": completeness,
            "informativeness": informativeness}


def edi(rep, rng, *, num_samples: int = 10000, normaliser: str = "joint", k: int = 3) -> dict:
    """EDI of ``rep`` on ``num_samples`` codes drawn by ``rep.space``.

    Parameters
    ----------
    rep : Representation
    rng : int or numpy.random.Generator
    num_samples : int, default 10000
    normaliser : {"joint", "max", "sum"}, default "joint"
    k : int, default 3

    Examples
    --------
    >>> from benchmark import FactorSpace, ideal
    >>> result = edi(ideal(FactorSpace.synthetic([3, 4]), noise=0.05), 0, num_samples=1000)
    >>> round(result["disentanglement"], 1), round(result["completeness"], 1)
    (1.0, 1.0)
    """
    rng = check_rng(rng)
    codes, factors = sample_codes(rep, check_positive_int(num_samples, "num_samples", 2), rng)
    return edi_score(codes, factors, normaliser=normaliser, k=k, rng=rng)


SPEC = MetricSpec("edi", edi, headline="disentanglement", family="information",
                  display_name="EDI", target="modularity", quick={"num_samples": 3000})
