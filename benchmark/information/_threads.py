"""Work spread over the machine's cores in threads (numpy, BLAS and the tree and
classifier builders of scikit-learn release the GIL)."""
from __future__ import annotations

import os
import threading
from concurrent.futures import ThreadPoolExecutor

import numpy as np

__all__ = ["WORKERS", "map_in_threads", "off_main_thread", "query_workers"]


#: Threads of the estimators' chunked passes.
WORKERS = max(1, min(4, os.cpu_count() or 1))


def map_in_threads(func, items, n_jobs: int | None = None) -> list:
    """``[func(item) for item in items]``, in order, on ``n_jobs`` threads.

    ``None`` means :data:`WORKERS`; ``-1`` every core; ``1`` runs in the
    calling thread.  Results never depend on ``n_jobs``: each item's work
    must be deterministic on its own.
    """
    items = list(items)
    if n_jobs is None:
        n_jobs = WORKERS
    elif n_jobs == -1:
        n_jobs = os.cpu_count() or 1
    if n_jobs > 1 and len(items) > 1:
        with ThreadPoolExecutor(min(n_jobs, len(items))) as pool:
            return list(pool.map(func, items))
    return [func(item) for item in items]


def query_workers(points: np.ndarray) -> int:
    """Threads for a KD-tree query over ``points``: starting them only pays off from
    about 5,000 coordinates (measured in ``benchmarks/README.md``)."""
    return WORKERS if points.size >= 5000 else 1


def off_main_thread(func, *args, **kwargs):
    """``func(*args, **kwargs)``, run outside the main thread so that Ctrl-C cannot abort
    it half-way.

    scipy's multi-threaded KD-tree queries check for signals and return on Ctrl-C
    while their own threads still write into the result (a segmentation fault a
    moment later).  Signals are only checked in the main thread: there, the call
    runs in a helper thread and the interrupt takes effect once it has ended.
    """
    if threading.current_thread() is not threading.main_thread():
        return func(*args, **kwargs)
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(func, *args, **kwargs).result()
