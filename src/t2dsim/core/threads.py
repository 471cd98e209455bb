"""One compute thread per worker process: the environment and the runtime switch that keep N worker processes on
N cores.

Numba reads ``NUMBA_NUM_THREADS`` once, when it is imported, and by default starts one thread per core. A worker
process that imports it that way runs every parallel kernel on all cores, so N such workers put N threads on each
core; measured on the 2-core machine (2026-12-06), two calibration processes with 2 Numba threads each took 3.9-4.2 s
per evaluation of the seven T2D cases against 1.0 s with one thread each (threads spin waiting for each other).
"""

from __future__ import annotations

import os

__all__ = ["SINGLE_THREAD_ENV", "use_one_thread"]

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
