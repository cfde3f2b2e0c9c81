"""The metric review's discretisation, shared by every metric that follows it.

Carbonneau et al.'s code (ubisoft-laforge-disentanglement-metrics) scales each
column to ``[0, 1]`` and cuts it into ``nb_bins`` equal-width bins before
computing a metric on "continuous" factors or codes.
"""
from __future__ import annotations

import numpy as np
from sklearn.preprocessing import minmax_scale

from benchmark.validation import check_positive_int

__all__ = ["review_bins", "unit_scale"]


def unit_scale(values, sizes=None) -> np.ndarray:
    """Columns of ``values`` mapped to ``[0, 1]``.

    Without ``sizes``: min-max of each column, a constant column becoming 0
    (scikit-learn's ``minmax_scale``, as the reference).  With ``sizes``: the
    discrete index ``i`` of a factor with ``size`` values becomes
    ``i / (size - 1)`` (0 for a factor with one value).

    Examples
    --------
    >>> import numpy as np
    >>> unit_scale(np.array([[1, 5], [3, 5], [2, 5]])).tolist()
    [[0.0, 0.0], [1.0, 0.0], [0.5, 0.0]]
    >>> unit_scale(np.array([[1], [2]]), sizes=[5]).tolist()
    [[0.25], [0.5]]
    """
    values = np.asarray(values, dtype=float)
    # Multiplying by the reciprocal, as minmax_scale does, rather than dividing: a scaled
    # index on a bin edge (3 / 10) then lands in the bin the reference puts it in.
    if sizes is None:
        low, high = values.min(axis=0), values.max(axis=0)
        scale = 1.0 / np.where(high > low, high - low, 1.0)
        return values * scale - low * scale
    sizes = np.asarray(sizes, dtype=float)
    return values * (1.0 / np.where(sizes > 1, sizes - 1, 1.0))


def review_bins(values, num_bins: int, sizes=None) -> np.ndarray:
    """The review's bin labels ``1..num_bins`` of each column of ``values``.

    Each column is scaled to ``[0, 1]`` (scikit-learn's ``minmax_scale``, or
    ``i / (size - 1)`` given the factors' ``sizes``) and cut into ``num_bins``
    equal-width bins of ``[0, 1]``; the maximum falls in the last bin, a
    constant column in the first.  The same bins as
    :func:`benchmark.information.discretize` in exact arithmetic; the scaling
    multiplies by the reciprocal as scikit-learn does, so a value on a bin edge
    (a scaled factor index) lands in the bin the review puts it in.

    Examples
    --------
    >>> import numpy as np
    >>> review_bins(np.array([[0], [1], [2]]), 10).ravel().tolist()
    [1, 6, 10]
    >>> review_bins(np.array([[0], [1]]), 10, sizes=[3]).ravel().tolist()
    [1, 6]
    """
    num_bins = check_positive_int(num_bins, "num_bins")
    values = np.asarray(values, dtype=float)
    scaled = minmax_scale(values, axis=0) if sizes is None else unit_scale(values, sizes)
    return np.digitize(scaled, np.linspace(0.0, 1.0, num_bins + 1)[:-1]).astype(np.int64)
