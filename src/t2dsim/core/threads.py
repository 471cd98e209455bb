"""Threads of the numerical kernels: one compute thread per worker process (the environment and the runtime switch
that keep N worker processes on N cores), and the OpenMP wait policy t2dsim sets by default.

Numba reads ``NUMBA_NUM_THREADS`` once, when it is imported, and by default starts one thread per core. A worker
process that imports it that way runs every parallel kernel on all cores, so N such workers put N threads on each
core; measured on the 2-core machine (2026-12-06), two calibration processes with 2 Numba threads each took 3.9-4.2 s
per evaluation of the seven T2D cases against 1.0 s with one thread each (threads spin waiting for each other).
"""

from __future__ import annotations

import os

__all__ = ["OMP_WAIT_POLICY_DEFAULT", "SINGLE_THREAD_ENV", "set_default_wait_policy", "use_one_thread"]

#: OpenMP wait policy set when the user has not chosen one. Numba's parallel kernels run on the OpenMP threading
#: layer; with its default (active) policy, threads between parallel regions spin, and when another process shares
#: the cores every short kernel call waits for spinning threads. Measured 2026-12-06 on the 2-core machine
#: (benchmarks/concurrent_processes.py, results/concurrent_processes.json): one warm evaluation of the seven
#: calibration cases took 2.40-2.54 s in each of two concurrent processes with 2 spinning threads each, 0.83-0.84 s
#: with PASSIVE, against 0.77 s for one process alone under either policy.
OMP_WAIT_POLICY_DEFAULT = "PASSIVE"

#: Environment of a single-threaded worker (Numba and the BLAS/OpenMP pools NumPy/SciPy may start).
SINGLE_THREAD_ENV: dict[str, str] = {
    k: "1" for k in ("NUMBA_NUM_THREADS", "OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")
}


def use_one_thread() -> None:
    """Make this process single-threaded: the environment for libraries imported later, and Numba's parallel
    kernels limited to one thread now (``numba.set_num_threads`` acts even when Numba was imported before). Used as
    the initializer of worker processes."""
    os.environ.update(SINGLE_THREAD_ENV)
    import numba

    numba.set_num_threads(1)


def set_default_wait_policy() -> None:
    """Set ``OMP_WAIT_POLICY`` to :data:`OMP_WAIT_POLICY_DEFAULT` unless the user has set it. Read by the OpenMP
    runtime when it starts (Numba starts it at the first parallel kernel), so it acts when called before that;
    importing :mod:`t2dsim.physiology` (home of the parallel kernels) calls it. Child processes (Dask and
    calibration workers) inherit it."""
    os.environ.setdefault("OMP_WAIT_POLICY", OMP_WAIT_POLICY_DEFAULT)
