"""UniBound and its redundancy/synergy companions, registered as metric ``unibound``."""
from __future__ import annotations

from benchmark.estimators import informations, resolve_estimator
from benchmark.registry import register_metric
from benchmark.validation import check_rng

from .bounds import aggregate, pid_bounds

QUICK = {"num_eval": 2000, "num_components": 2000, "num_samples": 2000}


def estimator_used(rep, estimator: str = "auto", num_components: int = 10000) -> str:
    """The estimator (``"exact"`` or ``"knn"``) :func:`unibound` uses on ``rep``.

    Scores are floats only, so the runner records this alongside them (in
    ``run.json``).
    """
    return resolve_estimator(rep, estimator, num_components)


def unibound_with_details(rep, rng, estimator: str = "auto", num_eval: int = 10000,
                          num_components: int = 10000, num_samples: int = 10000, k: int = 3):
    """:func:`unibound` and the raw informations it came from
    (:meth:`benchmark.estimators.Informations.to_dict`), from one estimation."""
    info = informations(rep, check_rng(rng), estimator=estimator, num_eval=num_eval,
                        num_components=num_components, num_samples=num_samples, k=k)
    return aggregate(pid_bounds(info.single, info.rest, info.joint, info.entropy)), info.to_dict()


@register_metric("unibound", headline="unibound", default=True, quick=QUICK,
                 with_details=unibound_with_details)
def unibound(rep, rng, estimator: str = "auto", num_eval: int = 10000,
             num_components: int = 10000, num_samples: int = 10000, k: int = 3) -> dict:
    """UniBound (Tokui & Sato 2022) and the other PID bound scores.

    Parameters
    ----------
    rep : Representation
    rng : numpy.random.Generator
    estimator : {"auto", "exact", "knn"}
        ``auto``: the exact mixture-of-Gaussians estimator for Gaussian
        representations and for posteriors whose mixture holds the whole data
        (a grid or a grid-covering table of at most ``num_components`` points),
        k-nearest neighbours otherwise (see
        :func:`benchmark.estimators.exact_is_reliable`).
    num_eval, num_components : int
        Monte Carlo sizes of the exact estimator.
    num_samples, k : int
        Sample size and neighbour count of the kNN estimator.

    Returns
    -------
    dict
        ``unibound`` (headline), ``unibound_u``, ``redundancy_l``,
        ``redundancy_u``, ``synergy_l``, ``synergy_u``, ``mi``.
    """
    return unibound_with_details(rep, rng, estimator, num_eval, num_components, num_samples, k)[0]


unibound.estimator_used = estimator_used
