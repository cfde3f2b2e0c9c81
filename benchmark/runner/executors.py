"""Where cells run: in this process, in local worker processes, or on a Dask cluster.

Each map yields ``(cell, result_or_CellError)`` as cells finish.  The base
representation is built once by the sweep and handed to each worker once (a
pool initializer, a scattered Dask future), not rebuilt per cell.

Failures of the machinery are survived where they can be and reported in one
line where they cannot: an interrupt stops the local workers at once (finished
cells are already stored), workers end themselves when their parent dies, a
worker killed by the operating system costs a pool restart rather than the run,
and a Dask cluster that has no worker left is reported instead of waited on.
"""
from __future__ import annotations

import contextlib
import ctypes
import gc
import multiprocessing
import os
import signal
import sys
import threading
import time
from concurrent.futures import CancelledError

from ..information import limit_threads, thread_budget, usable_cores
from ..validation import BenchmarkError
from .cells import CellError

__all__ = ["CONNECT_TIMEOUT", "WORKER_TIMEOUT", "dask_map", "local_map"]

#: Seconds to wait for a Dask scheduler before saying it cannot be reached.
CONNECT_TIMEOUT = 10

#: Seconds a Dask sweep waits for a worker to appear (at the start, or after
#: every worker has left) before it gives up.
WORKER_TIMEOUT = 60

_WORKER_BASE = None
_PR_SET_PDEATHSIG = 1  # from <sys/prctl.h>


def _watch_parent(parent: int) -> None:
    while True:
        if os.getppid() != parent:
            os._exit(1)
        time.sleep(0.5)


def _die_with_parent(parent: int) -> None:
    """End this worker when its parent dies, even by SIGKILL, which leaves the parent no
    chance to clean up: at once through Linux's parent-death signal, and by a watching
    thread elsewhere (or when a long call holds the interpreter, within seconds).

    ``parent`` is the process that started the pool.  Under ``fork`` and ``spawn`` it is
    the worker's parent.  Under ``forkserver`` the parent is the fork server that
    ``parent`` started, which ends when ``parent`` does, so the worker watches the fork
    server instead."""
    os_parent = os.getppid()
    if sys.platform.startswith("linux"):
        try:
            ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
        except (OSError, AttributeError):
            pass
    # the parent died before the signal was armed
    if os.getppid() != os_parent or (os_parent != parent and not _starter_alive(parent)):
        os._exit(1)
    threading.Thread(target=_watch_parent, args=(os_parent,), daemon=True).start()


def _starter_alive(parent: int) -> bool:
    """Whether ``parent``, which started this worker through a fork server, is alive."""
    starter = multiprocessing.parent_process()
    return starter is not None and starter.pid == parent and starter.is_alive()


def _init_worker(base, parent: int, threads: int) -> None:
    # Ctrl-C reaches the whole process group; the parent alone decides what it means,
    # and ends a worker with SIGTERM, whose handler a forked worker would inherit.
    # First of all: until then a SIGTERM is swallowed by the parent's handler.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    _die_with_parent(parent)
    # the workers share the cores: each one's threads (BLAS, OpenMP, scikit-learn, the
    # estimators' own pools) are capped at its share, or they would oversubscribe them
    limit_threads(threads)
    global _WORKER_BASE
    _WORKER_BASE = base


def _run_with_worker_base(run_cell, config, cell):
    return run_cell(config, cell, _WORKER_BASE)


def local_map(run_cell, config, todo, base, jobs: int = 1, on_note=None, isolate: bool = False):
    """Run ``todo`` here (``jobs == 1``) or in ``jobs`` worker processes (at least one
    when ``isolate``: the cells' code must not be able to end this process)."""
    if jobs <= 1 and not isolate:
        for cell in todo:
            try:
                yield cell, run_cell(config, cell, base)
            except CellError as exc:
                yield cell, exc
        return
    yield from _pool_map(run_cell, config, list(todo), base, max(jobs, 1), on_note)


def _pool_map(run_cell, config, pending, base, jobs, on_note):
    # When a worker dies, the cells the pool may have been computing are suspects: each
    # is rerun alone, so a cell that kills every worker it meets fails by itself and the
    # cells that shared a pool with it are not blamed.
    while pending:
        finished = set()
        for cell, outcome in _run_pool(run_cell, config, pending, base, jobs):
            finished.add(cell)
            yield cell, outcome
        pending = [cell for cell in pending if cell not in finished]
        if not pending:
            return
        # dispatch follows submission order, and at most 2 * jobs + 1 cells are queued
        # or running at once: the suspects are among the first unfinished ones
        suspects, pending = pending[:2 * jobs + 1], pending[2 * jobs + 1:]
        if on_note is not None:
            on_note(f"a worker process died (the operating system killed it, or a metric ended "
                    f"it); rerunning the "
                    f"{len(suspects)} cell(s) it may have been computing one at a time")
        for cell in suspects:
            outcomes = list(_run_pool(run_cell, config, [cell], base, 1))
            yield cell, outcomes[0][1] if outcomes else CellError(
                cell.metric, cell.level, cell.seed,
                "its worker process died even when it ran alone (the metric ended its process, "
                "or the operating system killed it, e.g. out of memory)")


def _run_pool(run_cell, config, cells, base, jobs):
    """Yield ``(cell, outcome)`` of ``cells`` from a pool of ``jobs`` workers, and stop
    early if a worker dies (the cells not yielded are then undone)."""
    from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
    from concurrent.futures.process import BrokenProcessPool

    workers = min(jobs, len(cells))
    pool = ProcessPoolExecutor(max_workers=workers, initializer=_init_worker,
                               initargs=(base, os.getpid(), max(1, usable_cores() // workers)))
    finished = False
    try:
        with _signals_held() as deliver:
            futures = {pool.submit(_run_with_worker_base, run_cell, config, cell): i
                       for i, cell in enumerate(cells)}
            waiting = set(futures)
            while waiting:
                done, waiting = wait(waiting, timeout=0.25, return_when=FIRST_COMPLETED)
                deliver()
                for fut in sorted(done, key=futures.get):
                    try:
                        outcome = fut.result()
                    except CellError as exc:
                        outcome = exc
                    except BrokenProcessPool:
                        return
                    yield cells[futures[fut]], outcome
                    deliver()
        finished = True
    finally:
        _stop(pool, wait=finished)


@contextlib.contextmanager
def _signals_held():
    """Hold SIGINT and SIGTERM while the main thread waits on a pool, and yield a function
    that hands a held signal to its handler: raised asynchronously inside
    concurrent.futures' locking, an interrupt can leave a lock taken and the exit hanging."""
    if threading.current_thread() is not threading.main_thread():
        yield lambda: None
        return
    held = []
    previous = {sig: signal.signal(sig, lambda signum, frame: held.append(signum))
                for sig in (signal.SIGINT, signal.SIGTERM)}
    previous_items = list(previous.items())

    def restore():  # once: a handler that ran may have changed the handlers itself
        while previous_items:
            signal.signal(*previous_items.pop())

    def deliver():
        if not held:
            return
        restore()
        handler = previous[held[0]]
        if callable(handler):
            handler(held[0], None)
        elif handler == signal.SIG_DFL:
            os.kill(os.getpid(), held[0])

    try:
        yield deliver
    finally:
        restore()


def _stop(pool, wait: bool) -> None:
    """Shut ``pool`` down; unless it finished its work, end its workers now instead of
    letting them compute queued cells that nobody will read."""
    if wait:
        pool.shutdown(wait=True)
        return
    terminate = getattr(pool, "terminate_workers", None)  # Python >= 3.14
    if terminate is not None:
        terminate()
        return
    processes = list((getattr(pool, "_processes", None) or {}).values())  # shutdown forgets them
    pool.shutdown(wait=False, cancel_futures=True)
    for process in processes:
        process.terminate()
    for process in processes:
        process.join(timeout=2)
        if process.is_alive():  # terminated before its initializer restored SIGTERM
            process.kill()
            process.join(timeout=2)


#: ``--scheduler local``: a Dask ``LocalCluster`` of this machine's usable cores, started
#: for the sweep and closed after it (the cluster path, on one machine).
LOCAL_SCHEDULER = "local"


#: Set in a local cluster's workers: the threads each of their cells may use (the machine's
#: cores are shared by that many single-threaded workers, not owned by each).
_CELL_THREADS = "ENTANGLEMENT_BENCH_CELL_THREADS"


def _local_cluster():
    """One single-threaded worker process per usable core, each cell on one thread."""
    try:
        from dask.distributed import LocalCluster

        return LocalCluster(n_workers=usable_cores(), threads_per_worker=1, processes=True,
                            dashboard_address=None, env={_CELL_THREADS: "1"})
    except RuntimeError as exc:  # a script without a __main__ guard cannot start processes
        raise BenchmarkError(f"--executor dask: cannot start a local Dask cluster ({exc}); a "
                             "script that starts one needs an `if __name__ == \"__main__\":` "
                             "guard") from None


def dask_map(run_cell, config, todo, base, scheduler: str, on_start=None):
    """Run ``todo`` on the Dask cluster at ``scheduler`` (or on a ``LocalCluster`` started for
    it, ``scheduler="local"``); ``on_start(threads)`` is called with the cluster's number of
    worker threads once it has one."""
    try:
        from dask.distributed import Client, wait
    except ImportError:
        raise BenchmarkError(
            "--executor dask needs dask[distributed]: pip install 'entanglement-bench[dask]'"
        ) from None
    cluster = None
    try:
        if scheduler == LOCAL_SCHEDULER:
            cluster = _local_cluster()
            scheduler = cluster.scheduler_address
        client = Client(scheduler, timeout=CONNECT_TIMEOUT)
    except (ValueError, OSError, TimeoutError) as exc:
        reason = str(exc).splitlines()[0]
    except BaseException:  # an interrupt while starting: the local workers go too
        if cluster is not None:
            cluster.close()
        raise
    else:
        reason = None
    if reason is not None:
        # the half-built client closes itself when collected; collected later, inside the
        # next Client's event-loop start, that close deadlocks (a library user's next sweep)
        gc.collect()
        if cluster is not None:
            cluster.close()
        raise BenchmarkError(f"--scheduler {scheduler}: cannot use this Dask scheduler ({reason})")
    # the client closes before the cluster it talks to
    with (cluster if cluster is not None else contextlib.nullcontext()), client:
        _await_workers(client, scheduler)
        if on_start is not None:
            on_start(sum(w.get("nthreads", 1) for w in client.scheduler_info()["workers"].values()))
        shared = client.scatter(base, broadcast=True)
        futures = {client.submit(_run_in_dask_worker, run_cell, config, cell, shared, pure=False): cell
                   for cell in todo}
        pending = set(futures)
        alone_since = None
        try:
            while pending:
                try:
                    done, pending = wait(pending, timeout=1, return_when="FIRST_COMPLETED")
                except TimeoutError:  # nothing finished within the second: check the workers
                    done = set()
                except CancelledError:  # the workers left, and the scattered base with them
                    raise BenchmarkError(
                        f"--scheduler {scheduler}: every Dask worker has left and the cluster lost "
                        f"the cells' inputs; finished cells are kept, rerun with --resume") from None
                for fut in done:
                    yield futures[fut], _dask_outcome(fut, futures[fut])
                if done or client.scheduler_info().get("workers"):
                    alone_since = None
                    continue
                alone_since = alone_since or time.monotonic()
                if time.monotonic() - alone_since > WORKER_TIMEOUT:
                    raise BenchmarkError(
                        f"--scheduler {scheduler}: every Dask worker has left and none came back "
                        f"within {WORKER_TIMEOUT} s; finished cells are kept, rerun with --resume")
        finally:
            client.cancel(list(pending))


def _run_in_dask_worker(run_cell, config, cell, base):
    # A Dask worker runs as many cells at once as it has threads: like a local worker
    # process, each cell's own threads (BLAS, OpenMP, scikit-learn, the estimators'
    # pools) are capped at its share of the machine's cores, or they would oversubscribe
    # them.  Results do not depend on the share.
    from dask.distributed import get_worker

    share = int(os.environ.get(_CELL_THREADS, 0)) or max(1, usable_cores() // get_worker().state.nthreads)
    if thread_budget() != share:
        limit_threads(share)
    return run_cell(config, cell, base)


def _dask_outcome(fut, cell):
    try:
        return fut.result()
    except CellError as exc:
        return exc
    except Exception as exc:  # noqa: BLE001 - the cluster's failure (KilledWorker, ...), not the metric's
        detail = str(exc).splitlines()[0] if str(exc) else ""
        return CellError(cell.metric, cell.level, cell.seed,
                         f"Dask: {type(exc).__name__}{': ' + detail if detail else ''}")


def _await_workers(client, scheduler: str) -> None:
    try:
        client.wait_for_workers(1, timeout=WORKER_TIMEOUT)
    except TimeoutError:
        raise BenchmarkError(f"--scheduler {scheduler}: the Dask cluster has no worker "
                             f"(waited {WORKER_TIMEOUT} s); start one with dask-worker {scheduler}") from None
