"""Classifier fits spread over threads, the way scikit-learn wants it done."""
from __future__ import annotations

import warnings

from sklearn.utils.parallel import Parallel, delayed

from benchmark.information import thread_budget

__all__ = ["fit_in_threads"]

# scikit-learn checks that its configuration and warning filters reached the functions its
# Parallel runs; before Python 3.14 one filter list is shared by every thread, so with
# several fits in threads at once (a forest inside each) the check fires spuriously.  No
# scikit-learn configuration is ever changed here, so there is nothing it could lose.
_SPURIOUS = "`sklearn.utils.parallel.delayed` should be used"
warnings.filterwarnings("ignore", message=_SPURIOUS.replace(".", r"\."), category=UserWarning)
# The filter alone is not enough: each of scikit-learn's threaded calls resets the shared
# filter list for a moment (catch_warnings + resetwarnings), and a warning raised in that
# moment is shown.  The display hook is not reset (catch_warnings restores what it saved),
# so the message is also dropped there.
_show = warnings.showwarning


def _showwarning(message, category, filename, lineno, file=None, line=None):
    if issubclass(category, UserWarning) and str(message).startswith(_SPURIOUS):
        return
    _show(message, category, filename, lineno, file, line)


warnings.showwarning = _showwarning


def fit_in_threads(func, items, n_jobs: int | None = -1) -> list:
    """``[func(item) for item in items]``, in order, on ``n_jobs`` threads.

    scikit-learn's ``Parallel`` carries its configuration and warning filters
    into the threads (a bare thread pool makes every nested forest warn); the
    tree and linear-model builders release the GIL, so threads use the cores
    without a process pool, which would nest inside the runner's worker
    processes and can hang their shutdown.  ``n_jobs=1`` runs in the calling
    thread; ``-1`` uses the process's :func:`~benchmark.information.thread_budget`
    (all cores, or a sweep worker's share of them).  Results never depend on
    ``n_jobs``: each fit is seeded on its own.
    """
    if n_jobs is not None and n_jobs < 0:
        n_jobs = thread_budget()
    return Parallel(n_jobs=n_jobs, prefer="threads")(delayed(func)(item) for item in items)
