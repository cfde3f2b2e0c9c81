"""What an attack is: a function, its level grids and a description, declared as data."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

from benchmark.spec import EXPECTATIONS, PROPERTIES
from benchmark.validation import BenchmarkError, check_level, check_rng

__all__ = ["MAX_LATENTS", "AttackSpec", "check_latents", "compose", "expect", "geometric_grid", "reflection",
           "why"]


@dataclass(frozen=True)
class AttackSpec:
    """An attack with its default and ``--quick`` level grids.

    Attributes
    ----------
    name : str
    func : callable
        ``func(rep, level, rng) -> Representation``; level 0 means no
        entanglement.  ``rng`` is the attack's own randomness (a random mixing
        matrix, a random sign pad): the runner seeds it by (seed, attack) and
        gives every level of one seed the same draws, so levels differ only by
        the attack's strength.  The linear attacks here are deterministic maps
        (their noise terms are drawn when the attacked representation encodes,
        from the metric's generator) and leave it unused.
    levels, quick_levels : tuple of float
        The default grid (from no entanglement to saturation) and a short one.
    description : str
        One line for ``--list``.
    expect : dict
        For every property of :data:`benchmark.spec.PROPERTIES`, how an ideal
        metric of it should respond as the level grows: ``"fall"``, ``"flat"``
        or ``"rise"`` (see :func:`expect`; the reasoning is in ``docs/reference/expectations.md``).
        Empty for an attack that makes no claim (the report card leaves it out);
        None for a property on which it makes none (a composition of attacks
        pulling that property opposite ways).  A composed attack uses its first
        part's level grid: give ``--levels`` for the others' ranges.
    why : dict
        For every property with an expectation, its reason in one line (see :func:`why`);
        the expectation table of the documentation shows them beside the arrows.
    max_level : float, callable or None
        The highest level that means something more than a lower one: a number (a
        rotation past 90 degrees, a share past 1), a function of the representation
        attacked (``missing`` replaces at most all but one latent), or None when the
        level is open-ended (it scales a copy or a noise).  :meth:`check_levels`
        refuses levels above it, where an attack would otherwise wrap around or clamp.
    unit : tuple or None
        ``(label, factor)`` when a level reads better in another unit: figures draw
        ``factor * level`` on an axis named ``label`` (rotation: degrees).
    """

    name: str
    func: Callable
    levels: tuple
    quick_levels: tuple
    description: str
    expect: dict = None
    max_level: object = None
    unit: tuple = None
    why: dict = None

    def __post_init__(self):
        expect = dict(self.expect or {})  # empty: the attack makes no claim (a user's experiment)
        allowed = set(EXPECTATIONS) | {None}  # None: no claim on that property
        if expect and (set(expect) != set(PROPERTIES) or not set(expect.values()) <= allowed):
            raise BenchmarkError(f"attack {self.name!r}: expect must give one of "
                                 f"{', '.join(EXPECTATIONS)} for each of {', '.join(PROPERTIES)}")
        object.__setattr__(self, "expect", expect)
        reasons = dict(self.why or {})
        if not set(reasons) <= set(PROPERTIES):
            raise BenchmarkError(f"attack {self.name!r}: why gives reasons for properties that do "
                                 f"not exist: {', '.join(sorted(set(reasons) - set(PROPERTIES)))}")
        object.__setattr__(self, "why", reasons)

    def __call__(self, rep, level, rng):
        return check_latents(self.func(rep, check_level(level), check_rng(rng)), self.name, level)

    def level_limit(self, rep) -> float | None:
        """The highest meaningful level on ``rep``, or None when the level is open-ended."""
        return self.max_level(rep) if callable(self.max_level) else self.max_level

    def check_levels(self, levels, rep) -> None:
        """Refuse, in one line, levels above the attack's meaningful range on ``rep``."""
        limit = self.level_limit(rep)
        beyond = [v for v in levels if limit is not None and v > limit + 1e-12]
        if beyond:
            raise BenchmarkError(f"attack {self.name!r}: levels go from 0 to {limit:g} "
                                 f"({self.description}); got {max(beyond):g}")

    def axis(self, levels):
        """``(label, values)`` of ``levels`` on a figure's x axis."""
        label, factor = self.unit or ("level", 1.0)
        return label, [factor * v for v in levels]


#: The most latents an attacked representation may have: twice the widest encodings
#: file (``benchmark.encodings.MAX_LATENTS``), so that ``duplicate`` can double it.
#: Every metric's cost grows with them (UniBound's at least linearly, its exact
#: estimator's memory too), and attacks that add latents compound: fourteen
#: ``duplicate`` in a row make 81,920.
MAX_LATENTS = 8192


def check_latents(rep, name: str, level):
    """``rep``, or a clear error when an attack made it wider than :data:`MAX_LATENTS`."""
    if rep.dim > MAX_LATENTS:
        raise BenchmarkError(f"attack {name!r} at level {level:g} makes {rep.dim} latents; the limit "
                             f"is {MAX_LATENTS} (every metric's cost grows with the latents)")
    return rep


def expect(modularity, compactness, explicitness, informativeness, unique_information) -> dict:
    """The expectation table of one attack, one entry per property, in a fixed order."""
    return dict(zip(PROPERTIES, (modularity, compactness, explicitness, informativeness,
                                 unique_information)))


def why(modularity, compactness, explicitness, informativeness, unique_information) -> dict:
    """The reasons of one attack's expectations, one line per property, in :func:`expect`'s
    order."""
    return dict(zip(PROPERTIES, (modularity, compactness, explicitness, informativeness,
                                 unique_information)))


def _composed_expectation(values):
    # flat parts leave the others' direction; opposite directions make no claim (None)
    directions = set(values) - {"flat"}
    if len(directions) > 1:
        return None
    return directions.pop() if directions else "flat"


def compose(specs) -> AttackSpec:
    """The attacks of ``specs`` applied in order at the same level (``a+b``)."""
    specs = tuple(specs)
    limited = tuple(s for s in specs if s.max_level is not None)
    return AttackSpec("+".join(s.name for s in specs), _Composed(specs), levels=specs[0].levels,
                      quick_levels=specs[0].quick_levels,
                      max_level=_SmallestLimit(limited) if limited else None, unit=specs[0].unit,
                      description=" then ".join(s.name for s in specs),
                      expect={p: _composed_expectation([s.expect[p] for s in specs])
                              for p in PROPERTIES} if all(s.expect for s in specs) else {},
                      why={p: "; ".join(f"{s.name}: {s.why[p]}" for s in specs if p in s.why)
                           for p in PROPERTIES if all(p in s.why for s in specs)})


class _Composed:
    # a class rather than a closure, so a composed attack pickles into worker processes
    def __init__(self, specs):
        self.specs = specs

    def __call__(self, rep, level, rng):
        # each part its own stream, so one part's draws never shift another's
        # checked after every part, so a chain that keeps doubling stops before it allocates
        for spec, part_rng in zip(self.specs, rng.spawn(len(self.specs))):
            rep = check_latents(spec.func(rep, level, part_rng), "+".join(s.name for s in self.specs),
                                level)
        return rep


class _SmallestLimit:
    # every part of a composition runs at the same level, so the tightest range holds;
    # a part's limit is taken on the representation before the composition
    def __init__(self, specs):
        self.specs = specs

    def __call__(self, rep):
        return min(s.level_limit(rep) for s in self.specs)


def geometric_grid(lowest_exponent: int, highest_exponent: int) -> tuple:
    """``0`` followed by ``2**e`` for ``e`` in the inclusive exponent range.

    >>> geometric_grid(-1, 1)
    (0.0, 0.5, 1.0, 2.0)
    """
    return (0.0,) + tuple(float(2.0**e) for e in range(lowest_exponent, highest_exponent + 1))


def reflection(dim: int) -> np.ndarray:
    """The paper's orthogonal mixing matrix ``U = I - (2/L) 1 1^T``."""
    return np.eye(dim) - (2.0 / dim) * np.ones((dim, dim))
