"""What the runner needs to know about a metric, declared next to the metric as data.

A metric is a plain function ``f(rep, rng, **params)`` returning a float or a
``dict[str, float]``.  Its :class:`MetricSpec` says how to read and show it:
the headline key, which keys rise with entanglement, the name on figures,
whether the protocol runs it by default, and its ``--quick`` parameters.  This
module imports nothing above the core, so a metric module can declare its spec
without knowing the runner.
"""
from __future__ import annotations

import math
import numbers
from dataclasses import dataclass, field
from typing import Callable

from .validation import BenchmarkError

__all__ = ["EXPECTATIONS", "FAMILIES", "PROPERTIES", "MetricSpec", "normalise_result"]

#: What a metric can target (Carbonneau et al. 2022's modularity, compactness and
#: explicitness, plus informativeness and the unique information UniBound bounds):
#: * modularity: each latent carries at most one factor;
#: * compactness: each factor sits in as few latents as possible (one);
#: * explicitness: each factor can be read off the latents by a simple (linear) model;
#: * informativeness: the latents together carry all the information of each factor;
#: * unique_information: the information of a factor that one latent alone carries.
PROPERTIES = ("modularity", "compactness", "explicitness", "informativeness",
              "unique_information")

#: How a metric reads the representation (Carbonneau et al. 2022's three families, and
#: the scores that read no factors at all):
#: * intervention: fixes or varies factors and compares the codes of the batches;
#: * predictor: fits models that predict factors from latents, or matches latents to
#:   factors, and reads their accuracy, importances or correlations;
#: * information: estimates informations between latents and factors;
#: * unsupervised: measures how dependent the latents are, without the factors.
FAMILIES = ("intervention", "predictor", "information", "unsupervised")

#: How an ideal metric of a property should respond as an attack's level grows.
EXPECTATIONS = ("fall", "flat", "rise")


@dataclass(frozen=True)
class MetricSpec:
    """A metric and how to read it.

    Attributes
    ----------
    name : str
        Registry name (``--metrics``, ``scores.csv``).
    func : callable
        ``func(rep, rng, **params) -> float | dict[str, float]``.
    headline : str
        The key that summarises the metric (its curve on the figures).
    display_name : str
        Its name on figures; defaults to ``name``.
    rising : frozenset of str
        Keys that measure entanglement rather than disentanglement: they should
        rise under an attack (the verdicts read them the other way round).
    default : bool
        Whether the protocol runs it when ``--metrics`` is not given.
    params : dict
        Parameters fixed by this spec, applied before the user's: a named
        variant of a metric (the review's Z-diff is BetaVAE with the review's
        batch sizes) is one more spec of the same function, not a copy.
    quick : dict
        Parameters used by ``--quick`` (smaller sample sizes).
    highlight : bool
        Drawn thick and black on every figure (the metric the suite is centred on).
    target : str or None
        The property of :data:`PROPERTIES` the headline measures; the report
        card compares the metric with the attacks' expectations for it.
    family : str or None
        The family of :data:`FAMILIES` the metric belongs to (``--list`` and
        the sensitivity matrix group metrics by it).
    details : callable or None
        The same metric as ``details(rep, rng, **params) -> (result, by_product)``,
        where ``by_product`` is JSON-serialisable and lets a report reuse the
        evaluation instead of repeating it (UniBound's raw informations).
    source : str
        ``builtin`` or where a plugin came from.
    cost : tuple of float or None
        Typical seconds per cell ``(default sizes, quick sizes)`` on the dSprites
        ideal representation with one core, for the metric reference (a sweep
        measures its own, see :mod:`benchmark.runner.pace`).  ``None``: unknown.
    """

    name: str
    func: Callable
    headline: str
    display_name: str = ""
    rising: frozenset = frozenset()
    default: bool = False
    params: dict = field(default_factory=dict)
    quick: dict = field(default_factory=dict)
    highlight: bool = False
    target: str | None = None
    family: str | None = None
    details: Callable | None = None
    source: str = "builtin"
    cost: tuple | None = None

    def __post_init__(self):
        object.__setattr__(self, "display_name", self.display_name or self.name)
        object.__setattr__(self, "rising", frozenset(self.rising))
        object.__setattr__(self, "params", dict(self.params))
        object.__setattr__(self, "quick", dict(self.quick))
        if self.target is not None and self.target not in PROPERTIES:
            raise BenchmarkError(f"metric {self.name!r}: target must be one of "
                                 f"{', '.join(PROPERTIES)}, got {self.target!r}")
        if self.family is not None and self.family not in FAMILIES:
            raise BenchmarkError(f"metric {self.name!r}: family must be one of "
                                 f"{', '.join(FAMILIES)}, got {self.family!r}")

    def run(self, rep, rng, params: dict | None = None, *, quick: bool = False,
            details: bool = False):
        """``(scores, by_product)``: the validated ``{key: float}`` of
        ``func(rep, rng, **params)`` (the ``quick`` parameters first when asked)
        and, when ``details`` is asked for and the metric has it, its by-product
        (else None)."""
        params = {**self.params, **(self.quick if quick else {}), **(params or {})}
        if details and self.details is not None:
            out, extra = self.details(rep, rng, **params)
        else:
            out, extra = self.func(rep, rng, **params), None
        return normalise_result(self.name, self.headline, out), extra


class HeadlineError(BenchmarkError):
    """A metric's dict result lacks its headline key: the same on every cell, so a sweep
    stops at the first one instead of failing them all."""


def normalise_result(name: str, headline: str, out) -> dict:
    """Turn a metric's return value into ``{key: float}`` or raise a clear error."""
    if isinstance(out, numbers.Real) and not isinstance(out, bool):
        out = {headline: float(out)}
    if not isinstance(out, dict) or not out:
        raise BenchmarkError(
            f"metric {name!r} returned {type(out).__name__}; expected a float or a non-empty dict of floats"
        )
    result = {}
    for key, value in out.items():
        if not isinstance(value, numbers.Real) or isinstance(value, bool):
            raise BenchmarkError(
                f"metric {name!r} returned a non-numeric value for key {key!r}: {type(value).__name__}"
            )
        if not math.isfinite(value):
            raise BenchmarkError(f"metric {name!r} returned {value} for key {key!r}")
        result[str(key)] = float(value)
    if headline not in result:
        keys = ", ".join(repr(k) for k in result)
        raise HeadlineError(
            f"metric {name!r} returned the keys {keys} but not its headline {headline!r}: return "
            f"a float, or name the key its curves draw (e.g. {name}.headline = {next(iter(result))!r} "
            "beside the function)")
    return result
