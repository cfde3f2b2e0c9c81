"""Cells, the units of a sweep, their failures, and the store of finished ones on disk
(so an interrupted sweep resumes without losing them)."""
from __future__ import annotations

import ast
import functools
import hashlib
import inspect
import json
import math
import os
import shutil
import site
import stat
import sys
import sysconfig
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from .io import atomic_write_json

__all__ = ["Cell", "CellError", "CellStore", "code_digest", "plugin_files"]

#: The packages whose code can change a cell's value.
_PACKAGES = ("benchmark", "attacks", "metrics_baseline", "metrics_pid")
#: What every cell depends on, whatever its metric: the core, the runner and the attacks.
_SHARED = ("benchmark", "attacks")
_ROOT = Path(__file__).resolve().parents[2]


@lru_cache(maxsize=None)
def _package_digest(packages: tuple = _PACKAGES) -> str:
    h = hashlib.sha256()
    for package in packages:
        for path in sorted((_ROOT / package).rglob("*.py")):
            h.update(str(path.relative_to(_ROOT)).encode())
            h.update(path.read_bytes())
    return h.hexdigest()


def _module_path(name: str) -> Path | None:
    """The file of module ``name`` of a metric package, or None (not one of ours)."""
    parts = name.split(".")
    if parts[0] not in _PACKAGES or parts[0] in _SHARED:
        return None
    base = _ROOT.joinpath(*parts)
    for path in (base / "__init__.py", base.with_suffix(".py")):
        if path.is_file():
            return path
    return None


def _imported(path: Path, module: str) -> set[str]:
    """The metric-package modules that module ``module`` (file ``path``) imports, at any
    depth of its code.  ``from pkg import name`` counts as the submodule ``pkg.name``
    when there is one, else as ``pkg`` itself (the name comes from its ``__init__``)."""
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_bytes())):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                parent = ".".join(package.split(".")[:len(package.split(".")) - node.level + 1])
                source = f"{parent}.{node.module}" if node.module else parent
            else:
                source = node.module
            for alias in node.names:
                sub = f"{source}.{alias.name}"
                found.add(sub if _module_path(sub) is not None else source)
    return {name for name in found if _module_path(name) is not None}


@lru_cache(maxsize=None)
def _metric_files(module: str) -> tuple[Path, ...]:
    """``module`` and every metric-package module it imports, directly or not."""
    seen, todo = set(), [module]
    while todo:
        name = todo.pop()
        if name not in seen and _module_path(name) is not None:
            seen.add(name)
            todo.extend(_imported(_module_path(name), name))
    return tuple(sorted(_module_path(name) for name in seen))


@lru_cache(maxsize=None)
def _builtin_digest(modules: tuple) -> str:
    """The shared packages and the metric-package files ``modules`` need, read once per
    process (as the code a process runs is loaded once: an edit made after the first
    digest must not relabel results of the code still in memory)."""
    h = hashlib.sha256(_package_digest(_SHARED).encode())
    for module in modules:
        for path in _metric_files(module):
            h.update(str(path.relative_to(_ROOT)).encode())
            h.update(path.read_bytes())
    return h.hexdigest()[:16]


#: Caps on what a plugin's digest reads, so a plugin kept in a big folder (a home
#: directory) stays fast: a larger file counts by its name and size only, and files past
#: the count are left out.  A plugin's own folder is far below both.
_MAX_SOURCE_BYTES = 5 * 2**20
_MAX_SOURCE_FILES = 1000
#: Wrappers followed from a plugin to the code it runs; a longer chain is a cycle.
_MAX_LAYERS = 100
#: A cell file is a few hundred bytes; anything this large is not one.
_MAX_CELL_BYTES = 16 * 2**20


def code_digest(spec) -> str:
    """A digest of the code a metric's cells come from.

    Every metric's digest covers the core, the runner and the attacks.  A
    built-in metric's adds its own module and every module of the metric
    packages it imports, directly or through them (read from their static
    import statements), so fixing one metric leaves the stored cells of the
    others valid.  A plugin's, or a spec whose function lies outside the metric
    packages, covers every built-in metric too (it may call them) and adds its
    source files (see :func:`plugin_files`) and the name of the function it
    runs.  Files are read once per process, at the first digest.  A cell stored
    under another digest is recomputed: nothing stale is served after the code
    changes.

    Parameters
    ----------
    spec : MetricSpec
        The metric.

    Returns
    -------
    str
        16 hexadecimal digits.
    """
    modules = tuple(getattr(layer, "__module__", "") or "" for layer in _layers(spec.func))
    if spec.source == "builtin" and all(_module_path(m) is not None for m in modules):
        return _builtin_digest(modules)
    # a plugin, or a spec whose code lies outside the metric packages (an entry point)
    h = hashlib.sha256(_package_digest().encode())
    if spec.source != "builtin":
        files = plugin_files(spec)
        h.update(spec.source.encode())  # all there is to know of a C function
        for layer in _layers(spec.func):
            h.update(f"{getattr(layer, '__module__', '')}.{getattr(layer, '__qualname__', '')}".encode())
        for path in files:
            # the name, not the full path: a moved checkout keeps its stored cells
            h.update(path.name.encode())
            h.update(_read_source(path))
    return h.hexdigest()[:16]


def plugin_files(spec) -> list[Path]:
    """The source files whose change can change a plugin's value, in a fixed order.

    The rule: the file the plugin's source names (``spec.source``: a
    ``file.py:func`` path or a module), the files defining the function it runs
    and every function it wraps (through ``functools.wraps`` decorators,
    ``functools.partial``, bound methods and callable instances' classes),
    then, for each of their folders outside the standard library and
    site-packages, every ``.py`` file in the folder itself (not its
    subfolders: a plugin's local helpers) and the file of every loaded module
    (``sys.modules``) that lies in it or below (a helper package it imported);
    and the file of every loaded module outside the standard library,
    site-packages and this project's packages, wherever it lies (a helper the
    plugin imported from another folder).  Data files a plugin reads are not
    covered.
    Files above 5 MB count by name and size, and the list stops at 1,000 files.

    Parameters
    ----------
    spec : MetricSpec
        A plugin metric.

    Returns
    -------
    list of Path
        Resolved paths of regular files: the named ones first, then the
        others sorted.
    """
    named = [_spec_file(spec.source)]
    for func in (spec.func, getattr(spec, "details", None)):
        named += [_source_file(layer) for layer in _layers(func)]
    named = list(dict.fromkeys(p for p in named if p is not None))
    found, loaded = set(), _loaded_files()
    for folder in {p.parent for p in named if not _in_library(p)}:
        found.update(_real(p) for p in folder.glob("*.py"))
        found.update(p for p in loaded if p.is_relative_to(folder))
    project = [_ROOT / package for package in _PACKAGES]
    found.update(p for p in loaded if not _in_library(p)
                 and not any(p.is_relative_to(folder) for folder in project))
    others = sorted(p for p in found - set(named) if not _in_library(p) and _regular_size(p) is not None)
    return (named + others)[:_MAX_SOURCE_FILES]


def _layers(func) -> list:
    """``func`` and every callable it hands the work to, outermost first."""
    layers = []
    while func is not None and len(layers) < _MAX_LAYERS and not any(func is f for f in layers):
        layers.append(func)
        if isinstance(func, functools.partial):
            func = func.func
        elif inspect.ismethod(func):
            func = func.__func__
        elif getattr(func, "__wrapped__", None) is not None:  # what inspect.unwrap follows
            func = func.__wrapped__
        elif not (inspect.isroutine(func) or inspect.isclass(func)):
            func = type(func)  # a callable instance: its class holds the code
        else:
            func = None
    return layers


def _source_file(obj) -> Path | None:
    """The regular file defining ``obj``, or None (a builtin, a C extension)."""
    try:
        source = inspect.getsourcefile(obj)
    except (TypeError, AttributeError):  # a builtin, or a class whose module is not in sys.modules
        source = None
    if source is None and inspect.isclass(obj):
        # a file plugin is not in sys.modules: its classes are found through their methods
        source = next((f.__code__.co_filename for f in vars(obj).values() if inspect.isfunction(f)), None)
    return _regular(source)


def _spec_file(source: str) -> Path | None:
    """The file ``spec.source`` names: ``path/file.py:func``, ``package.module:func``,
    ``entry point module:func`` or a module name (:func:`~.registry.register_metric`)."""
    target = source.removeprefix("entry point ").rpartition(":")[0] or source
    if target.endswith(".py") or os.sep in target:
        return _regular(target)
    # the module is loaded by now; importing it here could run a package's code
    return _regular(getattr(sys.modules.get(target), "__file__", None))


def _regular(path) -> Path | None:
    if not isinstance(path, str) or _regular_size(path) is None:
        return None
    return _real(path)


def _loaded_files() -> list[Path]:
    files = (getattr(m, "__file__", None) for m in list(sys.modules.values()))
    return [_real(f) for f in files if isinstance(f, str) and f.endswith(".py")]


def _real(path) -> Path:
    # os.path.realpath, unlike Path.resolve in Python 3.11, does not raise on a symlink loop
    return Path(os.path.realpath(path))


@lru_cache(maxsize=None)
def _library_folders() -> tuple[Path, ...]:
    paths = sysconfig.get_paths()
    folders = [paths[key] for key in ("stdlib", "platstdlib", "purelib", "platlib") if key in paths]
    # some virtualenv versions ship a site module without getsitepackages
    folders += [*getattr(site, "getsitepackages", list)(), site.getusersitepackages()]
    return tuple({_real(f) for f in folders})


def _in_library(path: Path) -> bool:
    """Whether ``path`` belongs to the standard library or an installed package
    (of this interpreter or, by folder name, of any other environment)."""
    return bool({"site-packages", "dist-packages"} & set(path.parts)) \
        or any(path.is_relative_to(folder) for folder in _library_folders())


def _regular_size(path) -> int | None:
    """The size of ``path`` if it is a regular file (after symlinks), else None.

    Checked before any read: reading a FIFO blocks forever and a device such as
    ``/dev/zero`` never ends.
    """
    try:
        st = os.stat(path)
    except (OSError, ValueError):  # missing, a dangling symlink, a NUL in the name
        return None
    return st.st_size if stat.S_ISREG(st.st_mode) else None


def _read_source(path: Path) -> bytes:
    size = _regular_size(path)
    if size is None:  # gone since it was listed
        return b"missing"
    if size > _MAX_SOURCE_BYTES:
        return f"{size} bytes".encode()
    try:
        return path.read_bytes()
    except OSError:
        return b"unreadable"


def _well_formed(result) -> bool:
    """Whether a stored result has the shape :func:`~.sweep.run_cell` writes."""
    if not isinstance(result, dict) or not isinstance(result.get("scores"), dict):
        return False
    seconds = result.get("seconds")
    if isinstance(seconds, bool) or not isinstance(seconds, (int, float)):
        return False
    return bool(result["scores"]) and all(
        isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)
        for v in result["scores"].values())


@dataclass(frozen=True)
class Cell:
    """One unit of work: a metric at one level and seed."""

    level: float
    seed: int
    metric: str

    @property
    def key(self) -> str:
        return f"level={self.level!r}_seed={self.seed}_metric={self.metric}"


class CellError(Exception):
    """A metric failed on one cell; the message names the metric, level and seed."""

    def __init__(self, metric: str, level: float, seed: int, detail: str, stop: bool = False):
        super().__init__(f"metric {metric!r} failed at level {level:g}, seed {seed}: {detail}")
        self.metric, self.level, self.seed, self.detail = metric, level, seed, detail
        self.stop = stop  # the same failure awaits every other cell: the sweep stops

    def __reduce__(self):  # keep the fields when a worker process sends the error back
        return (CellError, (self.metric, self.level, self.seed, self.detail, self.stop))


class CellStore:
    """One small JSON file per finished cell, written atomically.

    A file counts only when it carries the sweep's configuration fingerprint,
    its own cell key and the digest of the code it came from (see
    :func:`code_digest`), and holds a well-formed result; anything else
    (another configuration, other code, a truncated, garbled or ill-shaped
    file) is treated as missing and recomputed.
    """

    def __init__(self, directory, fingerprint: str):
        self.directory = Path(directory)
        self.fingerprint = fingerprint
        #: Cells found on disk but not served, by reason ("damaged", "other code").
        self.skipped = {"damaged": 0, "other code": 0}

    def path(self, cell: Cell) -> Path:
        digest = hashlib.sha256(cell.key.encode()).hexdigest()[:20]
        return self.directory / f"{digest}.json"

    def load(self, cell: Cell, code: str = ""):
        """The stored result of ``cell`` computed by code of digest ``code``, or None."""
        path = self.path(cell)
        if not os.path.lexists(path):
            return None
        # only a small regular file is read: a FIFO would block, /dev/zero never end
        size = _regular_size(path)
        data = None
        if size is not None and size <= _MAX_CELL_BYTES:
            try:
                with open(path, "rb") as f:
                    raw = f.read(_MAX_CELL_BYTES + 1)  # a file still growing is not a cell either
                if len(raw) <= _MAX_CELL_BYTES:
                    data = json.loads(raw)
            except (OSError, ValueError, RecursionError):  # RecursionError: absurdly nested JSON
                pass
        if not isinstance(data, dict) or not isinstance(data.get("fingerprint"), str) \
                or not _well_formed(data.get("result")):
            self.skipped["damaged"] += 1
            return None
        if data["fingerprint"] != self.fingerprint or data.get("cell") != cell.key:
            return None  # another configuration's cell: not this run's business
        if data.get("code", "") != code:
            self.skipped["other code"] += 1
            return None
        return data["result"]

    def notes(self) -> list[str]:
        """One line per reason why stored cells are recomputed."""
        why = {"damaged": "were damaged (unreadable or ill-formed)",
               "other code": "came from other code (a metric or the package changed since)"}
        return [f"{count} stored cell(s) {why[reason]}; recomputing them"
                for reason, count in self.skipped.items() if count]

    def save(self, cell: Cell, result: dict, code: str = "") -> None:
        path = self.path(cell)
        _remove_unless_regular(path)  # a file cannot be renamed over a directory
        atomic_write_json(path, {"fingerprint": self.fingerprint, "cell": cell.key,
                                 "code": code, "result": result})

    def clear(self) -> None:
        if self.directory.exists():
            for p in self.directory.glob("*.json"):
                _remove(p)


def _remove_unless_regular(path: Path) -> None:
    """Remove whatever damaged thing sits at ``path`` (a folder, a FIFO, a symlink),
    leaving a regular file to be replaced atomically."""
    try:
        regular = stat.S_ISREG(os.lstat(path).st_mode)
    except FileNotFoundError:
        return
    if not regular:
        _remove(path)


def _remove(path: Path) -> None:
    """Remove ``path``, a folder included: it lies in the sweep's own ``.cells`` folder."""
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    else:
        path.unlink(missing_ok=True)
