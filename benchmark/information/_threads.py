"""Work spread over the machine's cores in threads (numpy, BLAS and the tree and
classifier builders of scikit-learn release the GIL), within one budget of threads
per process, so that worker processes side by side do not oversubscribe the cores."""
from __future__ import annotations

import os
import threading
from concurrent.futures import ThreadPoolExecutor

import numpy as np

__all__ = ["MAX_WORKERS", "limit_threads", "map_in_threads", "off_main_thread", "query_workers",
           "thread_budget", "usable_cores", "workers"]

#: Most threads of the estimators' chunked passes (more only contend for memory bandwidth).
#: Chunk sizes are computed for this many, so results never depend on the thread count.
MAX_WORKERS = 4

#: Environment variables through which native libraries loaded later read their thread count.
_THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS",
                     "BLIS_NUM_THREADS", "VECLIB_MAXIMUM_THREADS", "NUMEXPR_NUM_THREADS")

_budget: int | None = None
_limits = None  # the threadpoolctl limit in force, kept alive so that it stays in force


def usable_cores() -> int:
    """Cores this process may run on (its CPU affinity where the system tells it)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


def thread_budget() -> int:
    """Threads this process may use at once: every usable core, unless
    :func:`limit_threads` set fewer (a sweep's worker processes share the cores)."""
    return _budget if _budget is not None else usable_cores()


def limit_threads(n: int) -> None:
    """From now on use at most ``n`` threads in this process: in this package's thread
    pools, in scikit-learn fits with ``n_jobs=-1`` and in BLAS and OpenMP."""
    from threadpoolctl import threadpool_limits

    global _budget, _limits
    _budget = max(1, int(n))
    _limits = threadpool_limits(_budget)
    for name in _THREAD_VARIABLES:
        os.environ[name] = str(_budget)


def workers() -> int:
    """Threads of the estimators' chunked passes."""
    return max(1, min(MAX_WORKERS, thread_budget()))


def map_in_threads(func, items, n_jobs: int | None = None) -> list:
    """``[func(item) for item in items]``, in order, on ``n_jobs`` threads.

    ``None`` means :func:`workers`; ``-1`` the whole :func:`thread_budget`; ``1``
    runs in the calling thread.  Results never depend on ``n_jobs``: each item's
    work must be deterministic on its own.
    """
    items = list(items)
    if n_jobs is None:
        n_jobs = workers()
    elif n_jobs < 0:
        n_jobs = thread_budget()
    if n_jobs > 1 and len(items) > 1:
        with ThreadPoolExecutor(min(n_jobs, len(items))) as pool:
            return list(pool.map(func, items))
    return [func(item) for item in items]


def query_workers(points: np.ndarray) -> int:
    """Threads for a KD-tree query over ``points``: starting them only pays off from
    about 5,000 coordinates (measured in ``benchmarks/README.md``)."""
    return workers() if points.size >= 5000 else 1


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
