"""Where cells run: in this process, in local worker processes, or on a Dask cluster.

Each map yields ``(cell, result_or_CellError)`` as cells finish.  The base
representation is built once by the sweep and handed to each worker once (a
pool initializer, a scattered Dask future), not rebuilt per cell.
"""
from __future__ import annotations

from ..validation import BenchmarkError
from .cells import CellError

__all__ = ["CONNECT_TIMEOUT", "dask_map", "local_map"]

#: Seconds to wait for a Dask scheduler before saying it cannot be reached.
CONNECT_TIMEOUT = 10

_WORKER_BASE = None


def _set_worker_base(base):
    global _WORKER_BASE
    _WORKER_BASE = base


def _run_with_worker_base(run_cell, config, cell):
    return run_cell(config, cell, _WORKER_BASE)


def local_map(run_cell, config, todo, base, jobs: int = 1):
    """Run ``todo`` here (``jobs == 1``) or in ``jobs`` worker processes."""
    if jobs <= 1:
        for cell in todo:
            try:
                yield cell, run_cell(config, cell, base)
            except CellError as exc:
                yield cell, exc
        return
    from concurrent.futures import ProcessPoolExecutor, as_completed

    with ProcessPoolExecutor(max_workers=jobs, initializer=_set_worker_base,
                             initargs=(base,)) as pool:
        futures = {pool.submit(_run_with_worker_base, run_cell, config, cell): cell
                   for cell in todo}
        for fut in as_completed(futures):
            try:
                yield futures[fut], fut.result()
            except CellError as exc:
                yield futures[fut], exc


def dask_map(run_cell, config, todo, base, scheduler: str):
    """Run ``todo`` on the Dask cluster at ``scheduler``."""
    try:
        from dask.distributed import Client, as_completed
    except ImportError:
        raise BenchmarkError(
            "--executor dask needs dask[distributed]: pip install 'entanglement-bench[dask]'"
        ) from None
    try:
        client = Client(scheduler, timeout=CONNECT_TIMEOUT)
    except (ValueError, OSError, TimeoutError) as exc:
        raise BenchmarkError(f"--scheduler {scheduler}: cannot use this Dask scheduler "
                             f"({str(exc).splitlines()[0]})") from None
    with client:
        shared = client.scatter(base, broadcast=True)
        futures = {client.submit(run_cell, config, cell, shared, pure=False): cell for cell in todo}
        for fut in as_completed(list(futures)):
            try:
                yield futures[fut], fut.result()
            except CellError as exc:
                yield futures[fut], exc
