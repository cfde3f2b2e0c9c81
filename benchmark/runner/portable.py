"""Metric and attack specs that reach worker processes whatever the start method.

A worker is given the spec it runs, not a name to look up: under ``spawn`` and
``forkserver`` a worker starts with only the built-in registries, so a metric
registered with :func:`~.registry.register_metric` in a script, a plugin loaded
from a file, or an attack added with :func:`attacks.register` is not there by
name.  :class:`Portable` pickles the spec. A function or class that a fresh
process can import by name (the standard library, installed packages, this
project's packages) is pickled by reference, as pickle does. Any other function
or class (one defined in ``__main__``, in a plugin file, or in a module of the
user's) is pickled as its source file and qualified name. The worker imports it
again from that file: from the module it already has when it has it (a fork, or
the ``__main__`` that ``spawn`` re-runs as ``__mp_main__``), from the module of
that name if it is importable and comes from that file, or by running the file
itself, once per worker process.

What cannot be pickled either way (a function defined inside another function,
a lambda) is looked up by name in the worker instead. Only a forked worker has
it; :func:`send_problems` names such specs before a sweep starts.
"""
from __future__ import annotations

import importlib
import importlib.util
import io
import os
import pickle
import sys
import types
from pathlib import Path

__all__ = ["Portable", "remember_module", "send_problems"]

#: The project's packages: importable by name in every worker.
_PROJECT = Path(__file__).resolve().parents[2]
_PACKAGES = ("benchmark", "attacks", "metrics_baseline", "metrics_pid")
_MAIN_NAMES = ("__main__", "__mp_main__")

#: Modules run from their files in this process, by real path (plugin files, and
#: a worker's copies of the files the specs it was sent came from).
_MODULES: dict[str, types.ModuleType] = {}
#: What this process has unpickled, by its bytes: each spec is restored once per
#: worker, not once per cell.
_RESTORED: dict[bytes, Portable] = {}


def remember_module(module: types.ModuleType, path) -> None:
    """Record that ``module`` was run from the file ``path`` (a plugin file). A forked
    worker then uses it instead of running the file again."""
    _MODULES[os.path.realpath(path)] = module


class Portable:
    """``obj`` (a metric or attack spec) as a worker process receives it.

    Parameters
    ----------
    obj : object
        What the worker runs; :attr:`obj` in this process.
    lookup : tuple (callable, args), optional
        How a worker finds ``obj`` by name when it cannot be pickled (a forked worker
        has this process's registries).
    """

    def __init__(self, obj, lookup=None):
        self.obj = obj
        self.lookup = lookup
        self._data = self._problem = None

    @property
    def problem(self) -> str | None:
        """Why ``obj`` cannot be pickled, or None if it can."""
        self._dump()
        return self._problem

    def _dump(self) -> bytes | None:
        if self._data is None and self._problem is None:
            try:
                self._data = dumps(self.obj)
            except Exception as exc:  # noqa: BLE001 - whatever stops pickling, the worker looks it up
                self._problem = f"{type(exc).__name__}: {exc}"
        return self._data

    def __reduce__(self):
        data = self._dump()
        if data is not None:
            return _restore, (data,)
        if self.lookup is not None:
            return _looked_up, tuple(self.lookup)
        raise pickle.PicklingError(self._problem)


def send_problems(portables: dict) -> list[str]:
    """``"name: why"`` for every :class:`Portable` of ``{name: portable}`` that a worker
    not forked from this process could not receive."""
    return [f"{name}: {p.problem}" for name, p in portables.items() if p.problem is not None]


def _restore(data: bytes) -> Portable:
    if data not in _RESTORED:
        restored = Portable(pickle.loads(data))
        restored._data = data  # a worker can pass it on as it came
        _RESTORED[data] = restored
    return _RESTORED[data]


def _looked_up(function, args) -> Portable:
    return Portable(function(*args), (function, args))


def dumps(obj) -> bytes:
    """Pickle ``obj``; functions and classes that a fresh process cannot import by name
    are pickled as ``(source file, module name, qualified name)``."""
    buffer = io.BytesIO()
    _Pickler(buffer, protocol=pickle.HIGHEST_PROTOCOL).dump(obj)
    return buffer.getvalue()


class _Pickler(pickle.Pickler):
    def reducer_override(self, obj):
        if isinstance(obj, (types.FunctionType, type)):
            ref = _source_ref(obj)
            if ref is not None:
                return _from_source, ref
        return NotImplemented


def _source_ref(obj):
    """``(path, module name, qualname)`` for a function or class that must be imported
    again from its file, or None when pickle's own reference will do (or nothing will:
    a local function, a lambda)."""
    module_name = getattr(obj, "__module__", None)
    qualname = getattr(obj, "__qualname__", None)
    if not isinstance(module_name, str) or not isinstance(qualname, str) or "<locals>" in qualname \
            or "<lambda>" in qualname:
        return None
    module = sys.modules.get(module_name)
    if module_name not in _MAIN_NAMES and module is not None and _by_name_everywhere(module):
        return None
    path = _file_of(obj, module)
    if path is None and module_name in _MAIN_NAMES:  # nothing a fresh process could import
        raise pickle.PicklingError(f"{qualname} is defined in __main__ without a source file "
                                   "(python -c, standard input, a notebook)")
    if path is None:
        return None
    return path, module_name, qualname


def _by_name_everywhere(module) -> bool:
    """Whether every worker imports ``module`` by its name: it belongs to this project,
    the standard library or an installed package (or has no file: a builtin)."""
    from .cells import _in_library  # the rule the cell digests use too

    path = getattr(module, "__file__", None)
    if not isinstance(path, str):
        return True
    path = Path(os.path.realpath(path))
    return _in_library(path) or any(path.is_relative_to(_PROJECT / p) for p in _PACKAGES)


def _file_of(obj, module) -> str | None:
    if isinstance(obj, types.FunctionType):
        path = obj.__code__.co_filename
    else:
        path = getattr(module, "__file__", None)
        if path is None:  # a class of a plugin file, which is not in sys.modules
            path = next((f.__code__.co_filename for f in vars(obj).values()
                         if isinstance(f, types.FunctionType)), None)
    return os.path.realpath(path) if isinstance(path, str) and os.path.isfile(path) else None


def _from_source(path: str, module_name: str, qualname: str):
    """The object ``qualname`` defined in the file ``path`` (as module ``module_name``)."""
    obj = _module_from(path, module_name)
    for part in qualname.split("."):
        obj = getattr(obj, part)
    return obj


def _same_file(module, path: str) -> bool:
    file = getattr(module, "__file__", None)
    return isinstance(file, str) and os.path.realpath(file) == path


def _module_from(path: str, module_name: str) -> types.ModuleType:
    if path in _MODULES:
        return _MODULES[path]
    names = _MAIN_NAMES if module_name in _MAIN_NAMES else (module_name,)
    for name in names:  # a fork's module, or the __main__ that spawn re-ran as __mp_main__
        module = sys.modules.get(name)
        if module is not None and _same_file(module, path):
            return module
    if module_name not in _MAIN_NAMES:
        try:  # a user's module that this worker can import by its name
            module = importlib.import_module(module_name)
        except Exception:  # noqa: BLE001 - not importable here: run its file instead
            module = None
        if module is not None and _same_file(module, path):
            return module
    # run the file, under a name that is not __main__ (so its `if __name__ == "__main__":`
    # part, which started the sweep, does not run again)
    name = module_name if module_name not in _MAIN_NAMES else \
        "entanglement_bench_main_" + Path(path).stem
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    _MODULES[path] = module
    return module
