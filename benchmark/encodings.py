"""A user's encodings as a representation: rows looked up by factor values.

``from_arrays(factors, codes, variances=None)`` wraps a user's table so every
metric and attack runs on it.  One meaning per input, whatever rows it covers:

* codes alone are a deterministic code: encoding a row returns its codes;
* codes with variances are the posteriors ``z ~ q(z | x) = N(codes, variances)``
  of a VAE-like encoder: encoding a row draws from its posterior, and the
  information estimators score that stochastic code.

Its factor space samples the table's own rows without replacement (up to the
table's size), so sample-based metrics see the data distribution and no row
becomes two identical points; interventions (fix one factor, vary the rest)
draw rows that share the fixed value.
"""
from __future__ import annotations

import math
import os
import zipfile
import zlib
from functools import cached_property
from pathlib import Path

import numpy as np

from .factors import FactorSpace
from .information import plugin_entropy
from .representations import Representation
from .validation import BenchmarkError, check_codes, check_factor_array, check_rng

__all__ = ["EmpiricalFactorSpace", "PosteriorTableRepresentation", "TableRepresentation",
           "from_arrays", "load_dsprites_factors", "load_encodings"]

ENCODING_KEYS = ("factors", "codes", "variances", "factor_names", "factor_sizes")

#: Values one factor may take: look-ups index the factor's values, so a stray huge
#: value would otherwise allocate gigabytes.
MAX_FACTOR_VALUES = 1_000_000

# Caps on an encodings file, checked on each member's .npy header before any array
# is allocated: a small compressed file can claim a shape that needs terabytes.
#: Rows of an encodings file; the largest public factor grids have about a million
#: (dSprites 737,280, MPI3D 1,036,800).
MAX_ROWS = 10_000_000
#: Factors (columns of ``factors``) of an encodings file.
MAX_FACTORS = 64
#: Latents (columns of ``codes`` and ``variances``) of an encodings file: a
#: self-supervised model's features (512 to 2,048) and twice that.  An attack may widen
#: a representation further, up to ``attacks.MAX_LATENTS``.
MAX_LATENTS = 4096
#: Bytes of one array of an encodings file (2 GiB): 1M rows of 256 float64 latents.
MAX_ARRAY_BYTES = 2**31

def _bytes_to_load(headers: dict) -> int:
    """Bytes reading a file takes: its arrays, the float64 copies of codes and variances,
    and the row index of the factors (about four int64 words per row and factor)."""
    total = 0
    for key, (shape, dtype) in headers.items():
        entries = math.prod(shape)
        total += entries * dtype.itemsize
        if key in ("codes", "variances"):
            total += entries * 8
        elif key == "factors":
            total += entries * 8 * 4
    return total


def _available_bytes() -> int | None:
    """Memory this machine can give without swapping (Linux's MemAvailable), or None
    where the system does not say."""
    try:
        with open("/proc/meminfo") as handle:
            for line in handle:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (AttributeError, ValueError, OSError):
        return None


def _check_memory(filename: str, headers: dict) -> None:
    """Refuse, before loading, a file this machine has not the memory to read."""
    needed, available = _bytes_to_load(headers), _available_bytes()
    if available is not None and needed > available:
        codes = headers.get("codes", ((), None))[0]
        raise BenchmarkError(f"{filename}: reading its codes of shape {codes} needs about "
                             f"{needed / 2**30:,.1f} GiB and this machine has {available / 2**30:,.1f} "
                             "GiB free; free memory, or save fewer rows (a uniform sample is scored "
                             "as the whole table, see docs/guide/your-model.md)")


# Largest product of factor sizes whose every value combination has its own int64 key.
_INT64_KEYS = 2**63


def _radix_words(sizes) -> np.ndarray:
    """``(K, W)`` int64 weights that pack a factor row into ``W`` exact int64 words.

    Consecutive factors share a word while the product of their sizes fits an
    int64 key; ``factors @ weights`` then cannot overflow, and the words, most
    significant first, order rows lexicographically.  ``W == 1`` (the whole grid
    fits) gives the plain mixed-radix key.

    Examples
    --------
    >>> _radix_words((3, 4)).ravel().tolist()
    [4, 1]
    >>> _radix_words((2,) * 64).shape
    (64, 2)
    """
    groups, span = [[]], 1
    for k, size in enumerate(sizes):
        if groups[-1] and span * size > _INT64_KEYS:
            groups.append([])
            span = 1
        groups[-1].append(k)
        span *= size
    weights = np.zeros((len(sizes), len(groups)), dtype=np.int64)
    for g, columns in enumerate(groups):
        place = 1
        for k in reversed(columns):
            weights[k, g] = place
            place *= sizes[k]
    return weights


def _row_keys(words: np.ndarray) -> np.ndarray:
    """One sortable key per row of packed words (:func:`_radix_words`), equal exactly
    when the factor rows are: the int64 word itself when there is one, else a void
    scalar of the words."""
    if words.shape[1] == 1:
        return words[:, 0]
    # big-endian unsigned bytes compare (memcmp) as the non-negative words do, so the
    # void scalars sort and searchsorted lexicographically, like the single int64 key
    packed = np.ascontiguousarray(words.astype(">u8"))
    return packed.view(np.dtype((np.void, packed.shape[1] * 8))).reshape(-1)


class EmpiricalFactorSpace(FactorSpace):
    """A factor space whose samples are the factor rows of a data table.

    ``entropies()`` are the plug-in entropies of the table's factor marginals
    (``log(size)`` when the table covers the grid uniformly).
    """

    is_grid = False

    def __init__(self, names, sizes, rows: np.ndarray, name: str = "encodings"):
        super().__init__(tuple(names), tuple(sizes), name)
        object.__setattr__(self, "rows", rows)
        by_value = []
        for k, size in enumerate(self.sizes):
            order = np.argsort(rows[:, k], kind="stable")
            bounds = np.searchsorted(rows[order, k], np.arange(size + 1))
            by_value.append((order, bounds))
        object.__setattr__(self, "_by_value", by_value)

    def __eq__(self, other):
        return self is other

    __hash__ = object.__hash__

    def sample(self, n, rng):
        """``n`` table rows drawn without replacement; past the table's size, whole
        shuffled passes over it and the remainder without replacement."""
        rng = check_rng(rng)
        rounds, extra = divmod(int(n), len(self.rows))
        picks = [rng.permutation(len(self.rows)) for _ in range(rounds)]
        picks.append(rng.choice(len(self.rows), size=extra, replace=False))
        return self.rows[np.concatenate(picks)]

    def entropies(self):
        out = np.empty(self.num_factors)
        for k, (_, bounds) in enumerate(self._by_value):
            out[k] = plugin_entropy(np.diff(bounds))
        return out

    def sample_matching(self, factor, values, rng):
        """For each entry of ``values``, a random table row whose ``factor`` has that value."""
        rng = check_rng(rng)
        values = np.asarray(values, dtype=np.int64).reshape(-1)
        order, bounds = self._by_value[factor]
        if values.size and (values.min() < 0 or values.max() >= self.sizes[factor]):
            raise BenchmarkError(f"values of {self.names[factor]!r} must be in 0..{self.sizes[factor] - 1}")
        lo, hi = bounds[values], bounds[values + 1]
        if np.any(hi == lo):
            value = int(values[np.argmax(hi == lo)])
            raise BenchmarkError(
                f"the encodings have no row with {self.names[factor]} = {value}; "
                "an intervention on this factor needs at least one")
        pick = lo + np.floor(rng.random(len(values)) * (hi - lo)).astype(np.int64)
        return self.rows[order[pick]]


class TableRepresentation(Representation):
    """Codes looked up by factor values in a user's table of encodings."""

    def __init__(self, factors, codes, variances=None, factor_names=None, factor_sizes=None,
                 name="encodings"):
        codes = check_codes(codes, "codes")
        _check_magnitude(codes, "codes")
        factors = check_factor_array(factors, integer_dtype=True)
        for array, argname in ((codes, "codes"), (factors, "factors")):
            if array.shape[1] == 0:
                raise BenchmarkError(f"{argname} has no columns; it needs at least one")
        if len(factors) != len(codes):
            raise BenchmarkError(
                f"factors and codes differ in number of rows ({len(factors)} != {len(codes)})")
        if len(factors) < 2:
            raise BenchmarkError("the encodings need at least two rows")
        if factors.min() < 0:
            raise BenchmarkError("factors must be non-negative value indices")
        num_factors = factors.shape[1]
        if factor_names is None:
            factor_names = [f"f{k}" for k in range(num_factors)]
        factor_names = [str(n) for n in np.asarray(factor_names).reshape(-1)]
        if len(factor_names) != num_factors:
            raise BenchmarkError(
                f"factor_names has {len(factor_names)} entries but factors has {num_factors} columns")
        observed = factors.max(axis=0) + 1
        if factor_sizes is None:
            factor_sizes = observed
        factor_sizes = np.asarray(factor_sizes).reshape(-1)
        if len(factor_sizes) != num_factors or not np.issubdtype(factor_sizes.dtype, np.integer):
            raise BenchmarkError(f"factor_sizes must be {num_factors} integers")
        if np.any(observed > factor_sizes):
            k = int(np.argmax(observed > factor_sizes))
            raise BenchmarkError(
                f"factor {factor_names[k]!r} has value {observed[k] - 1} >= its size {factor_sizes[k]}")
        if np.any(factor_sizes > MAX_FACTOR_VALUES):
            k = int(np.argmax(factor_sizes > MAX_FACTOR_VALUES))
            raise BenchmarkError(
                f"factor {factor_names[k]!r} has {int(factor_sizes[k]):,} values; at most "
                f"{MAX_FACTOR_VALUES:,} (factors hold value indices 0, 1, 2, ...)")
        for k in range(num_factors):
            if len(np.unique(factors[:, k])) < 2:
                raise BenchmarkError(
                    f"factor {factor_names[k]!r} takes a single value in the encodings; "
                    "every factor needs at least two")
        if variances is not None:
            variances = check_codes(variances, "variances")
            _check_magnitude(variances, "variances")
            if variances.shape != codes.shape:
                raise BenchmarkError(
                    f"variances must have the shape of codes {codes.shape}, got {variances.shape}")
            if np.any(variances <= 0):
                raise BenchmarkError("variances must be positive")
        space = EmpiricalFactorSpace(factor_names, factor_sizes, factors, name=name)
        super().__init__(space, codes.shape[1], name)
        self.codes = codes
        self.variances = variances
        self._radix = _radix_words(space.sizes)
        words = factors @ self._radix
        keys = _row_keys(words)
        if keys.dtype == np.int64:
            self._order = np.argsort(keys, kind="stable")
        else:
            # stable like the argsort: duplicates keep table order, so both keys pick alike
            self._order = np.lexsort(words.T[::-1])
        self._sorted_keys = keys[self._order]

    def _rows(self, y, rng) -> np.ndarray:
        """Table row for each factor vector; a random one among duplicates."""
        y = self.space.check_factors(y)
        keys = _row_keys(y @ self._radix)
        lo = np.searchsorted(self._sorted_keys, keys, side="left")
        hi = np.searchsorted(self._sorted_keys, keys, side="right")
        missing = hi == lo
        if missing.any():
            combo = dict(zip(self.space.names, y[np.argmax(missing)].tolist()))
            raise BenchmarkError(
                f"the encodings have no row for factor values {combo} "
                f"({int(missing.sum())} of {len(y)} requested combinations are missing)")
        pick = lo if rng is None else lo + np.floor(rng.random(len(y)) * (hi - lo)).astype(np.int64)
        return self._order[pick]

    def encode(self, y, rng):
        """Posterior means of table rows with the requested factor values."""
        return self.codes[self._rows(y, check_rng(rng))]



class PosteriorTableRepresentation(TableRepresentation):
    """A table of encodings with per-sample diagonal Gaussian posteriors
    (a :class:`~benchmark.representations.PosteriorTable`): the stochastic code
    ``z ~ N(codes[r], variances[r])`` of row ``r``."""

    def encode(self, y, rng):
        """A draw from the posterior of a table row with the requested factor values."""
        rng = check_rng(rng)
        rows = self._rows(y, rng)
        noise = rng.standard_normal((len(rows), self.dim))
        return self.codes[rows] + np.sqrt(self.variances[rows]) * noise

    @property
    def num_rows(self) -> int:
        return len(self.codes)

    @cached_property  # the table never changes; the check is a pass over its keys
    def covers_grid(self) -> bool:
        """Whether every combination of factor values has at least one row.

        The exact estimator treats the table as the data distribution.  When it
        covers only part of the grid, the factors are dependent within it (the
        other factors' values can single out a row, and with it this factor's
        value), so informations through other factors' latents are overstated.
        """
        # exact: a float product overflows to inf (and int() raises) past ~1e308 cells
        grid = math.prod(self.space.sizes)
        if grid > len(self.codes):
            return False
        keys = self._sorted_keys
        return int(np.count_nonzero(keys[1:] != keys[:-1])) + 1 == grid

    def posterior(self, y, rng=None):
        """``(means, variances)`` of the posteriors of matching rows (first of duplicates
        when ``rng`` is None)."""
        rows = self._rows(y, rng)
        return self.codes[rows], self.variances[rows]

    def posterior_sample(self, n, rng):
        """``(factors, means, variances)`` of ``n`` distinct rows drawn at random, or of
        every row when the table has at most ``n``: the components of the mixture the
        exact estimator uses."""
        rng = check_rng(rng)
        rows = self.space.rows
        if n >= len(rows):
            pick = np.arange(len(rows))
        else:
            pick = np.sort(rng.choice(len(rows), size=int(n), replace=False))
        return rows[pick], self.codes[pick], self.variances[pick]


#: The largest magnitude of a code or variance: the metrics square codes and sum
#: squares, which overflows float64 from about 1e154 on (scores silently wrong).
MAX_MAGNITUDE = 1e100


def _check_magnitude(values: np.ndarray, argname: str) -> None:
    largest = float(np.max(np.abs(values))) if values.size else 0.0
    if largest > MAX_MAGNITUDE:
        raise BenchmarkError(f"{argname} reach {largest:.3g} in magnitude; at most {MAX_MAGNITUDE:g} "
                             f"(rescale them)")


def from_arrays(factors, codes, variances=None, factor_names=None, factor_sizes=None):
    """Wrap a user's encodings as a representation.

    Parameters
    ----------
    factors : int array of shape (n, K)
        Ground-truth factor value indices of each encoded example.
    codes : float array of shape (n, L)
        The codes: without ``variances`` a deterministic representation,
        with them the posterior means.
    variances : float array of shape (n, L), optional
        Posterior variances: the representation is then the posterior
        ``z ~ N(codes, variances)`` of each row, as a VAE's encoder gives it.
        ``estimator="auto"`` scores a table that covers the factor grid with
        the exact (mixture-of-Gaussians) estimator, as in the paper, and any
        other with the nearest-neighbour estimator on posterior draws
        (:func:`benchmark.information.resolve_estimator`).
    factor_names : sequence of str, optional
    factor_sizes : sequence of int, optional
        Number of values per factor (default: largest observed value + 1).

    Examples
    --------
    >>> import numpy as np
    >>> factors = np.array([[0, 0], [0, 1], [1, 0], [1, 1]])
    >>> rep = from_arrays(factors, factors + 0.5, factor_names=["shape", "size"])
    >>> rep.encode(np.array([[1, 0]]), 0).tolist()
    [[1.5, 0.5]]
    >>> rep.space.names, rep.space.sizes
    (('shape', 'size'), (2, 2))
    """
    cls = TableRepresentation if variances is None else PosteriorTableRepresentation
    return cls(factors, codes, variances, factor_names, factor_sizes)


#: Corrupt, encrypted or oddly compressed zip members raise these while they are read.
_UNREADABLE = (OSError, EOFError, zipfile.BadZipFile, zlib.error, RuntimeError, NotImplementedError)


def _npz_headers(path: Path, keys=None) -> dict:
    """``{key: (shape, dtype)}`` of the arrays of an ``.npz``, from their ``.npy`` headers alone.

    Only the first bytes of each member are decompressed, so a header that claims
    a huge shape costs nothing.  ``keys`` restricts the members read.
    """
    headers = {}
    with zipfile.ZipFile(path) as archive:
        for info in archive.infolist():
            # the key numpy.load gives the member, so caps apply to what data[key] would load
            key = info.filename[:-4] if info.filename.endswith(".npy") else info.filename
            if keys is not None and key not in keys:
                continue
            with archive.open(info) as member:
                try:
                    version = np.lib.format.read_magic(member)
                except ValueError:
                    raise BenchmarkError(f"{path.name}: {key!r} is not a .npy array; save the arrays "
                                         "with numpy.savez(path, factors=..., codes=...)") from None
                if version == (1, 0):
                    shape, _, dtype = np.lib.format.read_array_header_1_0(member)
                elif version == (2, 0):
                    shape, _, dtype = np.lib.format.read_array_header_2_0(member)
                else:
                    raise BenchmarkError(f"{path.name}: {key!r} has .npy format version "
                                         f"{version[0]}.{version[1]}; only 1.0 and 2.0 are read")
            headers[key] = (shape, dtype)
    return headers


def _check_array_size(filename: str, key: str, shape: tuple, dtype: np.dtype) -> None:
    """Refuse, before it is allocated, an array beyond the caps of an encodings file."""
    rows = shape[0] if shape else 1
    # only 2-D columns are counted; other shapes are refused after loading, and the
    # byte cap bounds what loading them costs
    columns = shape[1] if len(shape) == 2 else 1
    entries = math.prod(shape)
    limits = {"factors": ((rows, MAX_ROWS, "rows"), (columns, MAX_FACTORS, "factors")),
              "codes": ((rows, MAX_ROWS, "rows"), (columns, MAX_LATENTS, "latents")),
              "variances": ((rows, MAX_ROWS, "rows"), (columns, MAX_LATENTS, "latents")),
              "factor_names": ((entries, MAX_FACTORS, "entries"),),
              "factor_sizes": ((entries, MAX_FACTORS, "entries"),),
              "latents_classes": ((rows, MAX_ROWS, "rows"),)}.get(key, ())
    for value, cap, what in limits:
        if value > cap:
            raise BenchmarkError(f"{filename}: {key!r} has shape {shape}, {value:,} {what}; "
                                 f"at most {cap:,} {what} are read")
    nbytes = entries * dtype.itemsize
    if nbytes > MAX_ARRAY_BYTES:
        raise BenchmarkError(f"{filename}: {key!r} has shape {shape} of {dtype}, {nbytes / 2**30:,.1f} GiB; "
                             f"at most {MAX_ARRAY_BYTES / 2**30:g} GiB per array are read")


def load_encodings(path) -> TableRepresentation:
    """Read an encodings ``.npz`` (keys: factors, codes, optional variances,
    factor_names, factor_sizes) without pickle and validate it.

    Arrays beyond :data:`MAX_ROWS` rows, :data:`MAX_FACTORS` factors,
    :data:`MAX_LATENTS` latents or :data:`MAX_ARRAY_BYTES` bytes are refused from
    their headers, before they are loaded, and so is a file whose reading needs more
    memory than the machine has free.
    """
    path = Path(path)
    if not path.is_file():
        raise BenchmarkError(f"encodings file not found: {path}")
    with open(path, "rb") as handle:
        magic = handle.read(6)
    if magic == b"\x93NUMPY":
        raise BenchmarkError(f"{path.name} is a single .npy array; save factors and codes "
                             "together with numpy.savez(path, factors=..., codes=...)")
    if not magic.startswith(b"PK"):
        raise BenchmarkError(f"{path.name} is not a .npz file (expected the zip archive "
                             "numpy.savez writes)")
    try:
        with np.load(path, allow_pickle=False) as data:
            keys = set(data.files)
            missing = [k for k in ("factors", "codes") if k not in keys]
            if missing:
                raise BenchmarkError(
                    f"{path.name}: missing key(s) {', '.join(missing)}; found {sorted(keys)}")
            unknown = sorted(keys - set(ENCODING_KEYS))
            if unknown:
                raise BenchmarkError(
                    f"{path.name}: unexpected key(s) {unknown}; allowed: {', '.join(ENCODING_KEYS)}")
            headers = _npz_headers(path)
            for key, (shape, dtype) in headers.items():
                _check_array_size(path.name, key, shape, dtype)
            _check_memory(path.name, headers)
            arrays = {k: data[k] for k in keys}
    except BenchmarkError:
        raise
    except MemoryError as exc:
        raise BenchmarkError(f"{path.name}: not enough memory to load it ({exc})") from None
    except ValueError as exc:
        if "pickle" in str(exc):
            raise BenchmarkError(
                f"{path.name} holds Python objects, which are not loaded (no pickle); "
                "save names as a fixed-width string array, e.g. np.array(names, dtype=str)") from None
        raise BenchmarkError(f"{path.name} is not a valid .npz file: {exc}") from None
    except _UNREADABLE as exc:
        raise BenchmarkError(f"{path.name} is not a readable .npz file: {exc}") from None
    try:
        rep = from_arrays(**arrays)
    except BenchmarkError as exc:
        raise BenchmarkError(f"{path.name}: {exc}") from None
    except MemoryError as exc:
        raise BenchmarkError(f"{path.name}: not enough memory to index the encodings ({exc})") from None
    rep.name = path.name
    return rep


DSPRITES_COLUMNS = ("color", "shape", "scale", "orientation", "pos_x", "pos_y")


def load_dsprites_factors(path) -> tuple[np.ndarray, tuple, tuple]:
    """Factor table of the official dSprites ``.npz`` (its ``latents_classes``).

    The colour column is dropped (it takes one value).  Only that array is read,
    without pickle; the file's pickled ``metadata`` entry is never touched.

    Returns
    -------
    factors : int64 array of shape (n, 5)
    names : ("shape", "scale", "orientation", "pos_x", "pos_y")
    sizes : (3, 6, 40, 32, 32)
    """
    path = Path(path)
    if not path.is_file():
        raise BenchmarkError(f"dSprites file not found: {path}")
    try:
        with np.load(path, allow_pickle=False) as data:
            if "latents_classes" not in data.files:
                raise BenchmarkError(f"{path.name} has no 'latents_classes' array; is it the dSprites .npz?")
            for key, (shape, dtype) in _npz_headers(path, {"latents_classes"}).items():
                _check_array_size(path.name, key, shape, dtype)
            classes = np.asarray(data["latents_classes"])
    except BenchmarkError:
        raise  # a ValueError too, but already one clear line
    except MemoryError as exc:
        raise BenchmarkError(f"{path.name}: not enough memory to load 'latents_classes' ({exc})") from None
    except (ValueError, *_UNREADABLE) as exc:
        raise BenchmarkError(f"{path.name} is not a readable .npz file: {exc}") from None
    if classes.ndim != 2 or classes.shape[1] != len(DSPRITES_COLUMNS):
        raise BenchmarkError(
            f"latents_classes must have shape (n, 6), got {classes.shape}")
    space = FactorSpace.named("dsprites")
    factors = space.check_factors(classes[:, 1:], "latents_classes")
    return factors, space.names, space.sizes
